-- Writes at most one pending (unclaimed) site_rebuild outbox row per agent; agents that no longer exist get
-- none. ON CONFLICT against outbox_pending_site_rebuild_idx (migration V15) coalesces with a job
-- that is already waiting, so 100 listing edits in one import are one job.
-- The payload is exactly domain::jobs::Job::SiteRebuild's JSON; a parity test in
-- store/src/sites.rs keeps the two the same. needs_relay: no producer publishes these rows after
-- commit, so the relay takes them without its grace period.
CREATE OR REPLACE FUNCTION enqueue_site_rebuilds(p_agent_ids uuid[], p_reason text)
RETURNS void
LANGUAGE sql
AS $$
    INSERT INTO outbox (queue, payload, needs_relay)
    SELECT 'sites',
           jsonb_build_object('v', 1, 'kind', 'site_rebuild', 'workspace_id', a.workspace_id,
                              'agent_id', a.id, 'reason', p_reason),
           true
    FROM agents a
    WHERE a.id = ANY (p_agent_ids)
    ORDER BY a.id
    ON CONFLICT ((payload ->> 'agent_id'))
        WHERE queue = 'sites' AND published_at IS NULL AND attempts = 0
    DO NOTHING
$$;
