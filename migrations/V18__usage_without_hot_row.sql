-- Usage without a hot row (issue 16).
--
-- Until now a workspace had one workspace_usage row per billing period, and every delivery of
-- the workspace updated it and held its row lock until commit: deliveries of one workspace ran
-- one after the other for the length of that lock, whoever they were about.
--
-- A period is now counted in several counter rows, its shards, summed when read
-- (billing/usage.sql says how they are chosen and why this design):
-- - shard 0 is the row the period always had (usage_reset creates it; a quiet workspace never
--   gets another one, so its period is still one row);
-- - another shard is created only when every existing counter of the period is held by a
--   delivery still in flight, so a period has about as many rows as the most deliveries of
--   the workspace that ever ran at once in it.
-- The totals of a period are sum() over its rows; the view workspace_period_usage (a source,
-- billing/usage.sql) is that sum, one row per workspace and period.
--
-- closed_at: usage_reset closes a period once it has ended (close_usage_periods), after every
-- delivery that counted into it has committed; counters of a closed period never change again,
-- and a delivery that would count into it counts into the period of the moment it runs.

ALTER TABLE workspace_usage
    ADD COLUMN shard integer NOT NULL DEFAULT 0 CHECK (shard >= 0),
    ADD COLUMN closed_at timestamptz;

-- The number of a new extra counter (billing/usage.sql): never handed out twice, so a delivery
-- that creates a counter creates a row nobody else can be writing, and never waits for anyone.
CREATE SEQUENCE workspace_usage_shard_seq AS integer MINVALUE 1;

-- One row per workspace, period and shard (was: per workspace and period). The new key's index
-- also serves every read of a period: its rows are one range, in shard order.
ALTER TABLE workspace_usage DROP CONSTRAINT workspace_usage_workspace_id_period_start_key;
ALTER TABLE workspace_usage
    ADD CONSTRAINT workspace_usage_period_shard_key UNIQUE (workspace_id, period_start, shard);

-- Periods that had already ended are closed as they stand.
UPDATE workspace_usage SET closed_at = now() WHERE period_end <= now() AND closed_at IS NULL;

-- How far periods are closed: every period that ends at or before closed_through is final. A
-- delivery only creates the first counter of a period that ends after it (add_usage), so a
-- period nobody had counted in yet cannot gain a row once it is closed. One row.
CREATE TABLE usage_closing (
    id              boolean PRIMARY KEY DEFAULT true CHECK (id),
    closed_through  timestamptz NOT NULL DEFAULT '-infinity'
);
-- Starts at -infinity: the first usage_reset run after this migration moves it.
INSERT INTO usage_closing DEFAULT VALUES;

-- Identity lookups are primary-key probes whatever the statistics say (issue 16). The index for
-- "a lead's identities" (and the foreign key to leads) began with workspace_id, like the primary
-- key, so a planner that believed lead_identities small (statistics from when it was empty, or a
-- plan cached on a connection back then) probed it with workspace_id alone and read every
-- identity of the workspace (shared/store/tests/scale.rs saw it). Leading with lead_id, it
-- answers what it is for (a lead's identities, the cascade from leads) and can no longer stand
-- in for the primary key; the primary key is the only index that starts with workspace_id.
CREATE INDEX lead_identities_lead_idx ON lead_identities (lead_id, workspace_id);
DROP INDEX lead_identities_lead_id_idx;

-- The same for the foreign-key checks of every insert an ingest makes (identities, messages,
-- sessions all reference leads (workspace_id, id)). PostgreSQL plans that check once per
-- connection; planned while leads was small, it probed (workspace_id, lead_stage) with
-- workspace_id alone and filtered on id, reading every lead of the workspace for each inserted
-- row (about 4,900 buffers each with 200,000 leads, shared/store/tests/scale.rs). With the stage
-- first, the indexes that start with workspace_id and hold every row are the unique
-- (workspace_id, id) and the primary key's id, both exact. The stage index still answers "a
-- workspace's leads in a stage" (both columns bound) and now also "leads in a stage" across
-- workspaces (cold_leads).
CREATE INDEX leads_stage_workspace_idx ON leads (lead_stage, workspace_id);
DROP INDEX leads_workspace_stage_idx;
