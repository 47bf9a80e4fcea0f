-- Site rebuilds (issue 12): every version keeps its HTML, rebuilds know which input they built,
-- and trigger-written jobs are coalesced per agent and relayed without the producer grace period.
-- The functions and triggers that use these columns live in shared/store/src/sites/*.sql.

-- The page rendered from `document`, so any static host or CDN can publish a version as it is.
-- NULL only for versions written before this migration.
ALTER TABLE agent_site_documents ADD COLUMN html text;

-- A counter bumped by every change that shows on the site (the producer triggers). The consumer
-- reads it with its input and clears needs_site_rebuild only if it is unchanged when the version
-- is written: an edit made during a build can never be marked as built.
ALTER TABLE agent_configs ADD COLUMN site_revision bigint NOT NULL DEFAULT 0;

-- The site_revision a version was built from, so a slow build of older input never replaces a
-- version built from newer input. NULL for versions written before this migration.
ALTER TABLE agent_site_documents ADD COLUMN site_revision bigint;

-- Rows that no producer publishes after commit (written by triggers): the relay takes them at
-- once instead of waiting out the grace period it leaves to producers.
ALTER TABLE outbox ADD COLUMN needs_relay boolean NOT NULL DEFAULT false;

-- At most one pending site_rebuild job per agent: 100 listing edits in one import are one job.
-- Producers insert with ON CONFLICT DO NOTHING against this index. "Pending" means not yet
-- claimed by the relay (attempts = 0), not merely unpublished: the relay commits its claim before
-- it sends, so an edit made after the claim gets a job of its own instead of coalescing into one
-- whose consumer may already have read the old input.
CREATE UNIQUE INDEX outbox_pending_site_rebuild_idx ON outbox ((payload ->> 'agent_id'))
    WHERE queue = 'sites' AND published_at IS NULL AND attempts = 0;
