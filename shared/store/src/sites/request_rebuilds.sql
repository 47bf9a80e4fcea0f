-- A change that shows on these agents' sites: mark their configs and enqueue one job each.
--
-- Called by the listing and agent triggers with every affected agent of a statement at once
-- (set-based: a 10 000-row import makes one call). Bumping site_revision is what lets the
-- consumer tell that its input changed while it was building (see publish.sql). Configs are
-- locked in agent order so two imports touching the same agents cannot deadlock.
CREATE OR REPLACE FUNCTION request_site_rebuilds(p_agent_ids uuid[], p_reason text)
RETURNS void
LANGUAGE sql
AS $$
    UPDATE agent_configs c
    SET needs_site_rebuild = true,
        site_revision = c.site_revision + 1
    FROM (
        SELECT agent_id FROM agent_configs
        WHERE agent_id = ANY (p_agent_ids)
        ORDER BY agent_id
        FOR UPDATE
    ) locked
    WHERE c.agent_id = locked.agent_id;

    SELECT enqueue_site_rebuilds(p_agent_ids, p_reason);
$$;
