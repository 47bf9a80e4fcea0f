-- Check and consume an agent's scrape quota in one statement (docs/architecture.md section 5.4, issue 11).
-- AuroApp read the row and then wrote it, so two imports at once both passed; here the check is
-- the WHERE of the upsert, evaluated on the row's latest version under its row lock, so
-- concurrent requests serialise on the row and exactly the units that fit are granted.
--
-- A PL/pgSQL function only so the statement's plan is cached per connection: planning this
-- statement costs more than running it, and an unnamed statement (pooler-safe) is planned on
-- every call. The function is still one statement, and one call is one round trip.
--
-- p_workspace_id  from the API key: another workspace's agent is no row, hence 404
-- p_agent_id
-- p_units         units to consume; 0 reads the window without writing anything (GET)
-- p_now           the caller's clock, so tests control time
--
-- One row per existing agent of the workspace, none otherwise:
--   daily_limit  the row's override, else the effective plan's scrape_daily_limit; 0 without a
--                plan (a workspace on no plan has no allowance)
--   used_today, reset_at   the window after any restart
--   consumed     true when p_units > 0 units were granted
CREATE OR REPLACE FUNCTION consume_scrape_quota(
    p_workspace_id uuid, p_agent_id uuid, p_units integer, p_now timestamptz)
RETURNS TABLE (agent_id uuid, daily_limit integer, used_today integer, reset_at timestamptz,
               consumed boolean)
LANGUAGE plpgsql AS $$
-- The OUT columns share names with the table's; in the query a name is always the column.
#variable_conflict use_column
BEGIN
    RETURN QUERY
    WITH agent AS (
        SELECT a.id AS agent_id,
               -- The next midnight of the workspace's wall clock: the end of a window that starts now.
               (date_trunc('day', p_now AT TIME ZONE w.timezone) + interval '1 day')
                   AT TIME ZONE w.timezone AS next_reset,
               coalesce(p.scrape_daily_limit, 0) AS plan_limit
        FROM agents a
        JOIN workspaces w ON w.id = a.workspace_id
        LEFT JOIN pricing_plans p ON p.id = effective_plan_id(w.id)
        WHERE a.id = p_agent_id AND a.workspace_id = p_workspace_id
    ),
    -- The window as it stands at p_now in this statement's snapshot: what GET shows, what a refusal
    -- reports (a refusal writes nothing, so an expired window is restarted here only in the answer).
    -- It can be older than the row the upsert below locks; that never decides a grant.
    snapshot AS (
        SELECT agent.agent_id,
               coalesce(q.daily_limit, agent.plan_limit) AS daily_limit,
               CASE WHEN q.reset_at > p_now THEN q.used_today ELSE 0 END AS used_today,
               CASE WHEN q.reset_at > p_now THEN q.reset_at ELSE agent.next_reset END AS reset_at,
               q.agent_id IS NOT NULL AS has_row
        FROM agent
        LEFT JOIN agent_scrape_quotas q ON q.agent_id = agent.agent_id
    ),
    granted AS (
        INSERT INTO agent_scrape_quotas AS q (agent_id, used_today, reset_at)
        SELECT agent.agent_id, p_units, agent.next_reset
        FROM agent, snapshot
        -- A first use that cannot fit the plan's limit inserts nothing (a new row has no override);
        -- a row that exists, or appears concurrently, is judged by the upsert's WHERE instead.
        WHERE p_units > 0 AND (snapshot.has_row OR p_units <= agent.plan_limit)
        ON CONFLICT (agent_id) DO UPDATE
            SET used_today = CASE WHEN q.reset_at > p_now THEN q.used_today ELSE 0 END + EXCLUDED.used_today,
                reset_at = CASE WHEN q.reset_at > p_now THEN q.reset_at ELSE EXCLUDED.reset_at END
            WHERE CASE WHEN q.reset_at > p_now THEN q.used_today ELSE 0 END + EXCLUDED.used_today
                  <= coalesce(q.daily_limit, (SELECT plan_limit FROM agent))
        RETURNING q.daily_limit, q.used_today, q.reset_at
    )
    SELECT snapshot.agent_id,
           CASE WHEN granted.used_today IS NULL THEN snapshot.daily_limit
                ELSE coalesce(granted.daily_limit, (SELECT plan_limit FROM agent)) END AS daily_limit,
           coalesce(granted.used_today, snapshot.used_today) AS used_today,
           coalesce(granted.reset_at, snapshot.reset_at) AS reset_at,
           granted.used_today IS NOT NULL AS consumed
    FROM snapshot
    LEFT JOIN granted ON true;
END;
$$;
