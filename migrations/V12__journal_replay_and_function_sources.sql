-- From this migration on, migrations hold tables, columns, indexes, constraints and data only.
-- Function, trigger-function and view bodies are source files beside the Rust that calls them
-- (shared/store/src/**/*.sql, listed in shared/store/src/schema.rs) and are re-created with
-- CREATE OR REPLACE by the migrate command after the migrations. The CREATE FUNCTION and
-- CREATE VIEW statements in V1..V11 are frozen history: those files were applied to databases
-- and refinery refuses a changed checksum, so they stay as they were; every body they created is
-- replaced by its source on the next migrate. (attach_updated_at and set_updated_at in V1 are
-- the exception that stays there on purpose: later migrations call them while they run.)

-- The one journal protocol (shared/store/src/journal): a delivery that failed to apply is kept
-- with processed_at NULL and re-applied by the journal_replay job, with backoff, until it
-- applies or the attempt limit marks it failed for a person to look at.
ALTER TABLE webhook_events
    ADD COLUMN attempts integer NOT NULL DEFAULT 0 CHECK (attempts >= 0),
    ADD COLUMN next_attempt_at timestamptz,
    ADD COLUMN failed_at timestamptz;
CREATE INDEX webhook_events_replay_due_idx ON webhook_events (coalesce(next_attempt_at, received_at))
    WHERE processed_at IS NULL AND failed_at IS NULL;

-- Which set of function sources the database runs (schema.rs's fingerprint), so migrate
-- re-creates them only when they changed. One row.
CREATE TABLE schema_sources (
    singleton   boolean PRIMARY KEY DEFAULT true CHECK (singleton),
    fingerprint text NOT NULL,
    applied_at  timestamptz NOT NULL DEFAULT now()
);

-- mark_cold_leads takes the cutoff instead of "now" (its window is the Rust constant the stage
-- rules use, so the rule has one owner); a renamed parameter is a new signature.
DROP FUNCTION mark_cold_leads(timestamptz, integer);
