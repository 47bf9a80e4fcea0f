-- usage_reset, part two: scrape quota windows whose reset_at has passed ($1, the job's "now")
-- start again at 0 and end at the next midnight in the workspace's timezone (an unknown timezone
-- name falls back to UTC rather than failing the job for every workspace).
-- What the ended window counted is kept: each reset writes one audit row with the old count and
-- window end, from the UPDATE's own RETURNING. A second run finds no passed reset_at.
-- SKIP LOCKED: a row being consumed right now is left alone; consuming after reset_at restarts
-- the window in the same statement anyway.
WITH zones AS (
    SELECT name FROM pg_timezone_names
), due AS (
    SELECT q.agent_id, q.used_today, q.reset_at, a.workspace_id,
           CASE WHEN w.timezone IN (SELECT name FROM zones) THEN w.timezone ELSE 'UTC' END AS tz
    FROM agent_scrape_quotas q
    JOIN agents a ON a.id = q.agent_id
    JOIN workspaces w ON w.id = a.workspace_id
    WHERE q.reset_at <= $1
    FOR UPDATE OF q SKIP LOCKED
), reset AS (
    UPDATE agent_scrape_quotas q
    SET used_today = 0,
        reset_at = (date_trunc('day', $1 AT TIME ZONE due.tz) + interval '1 day') AT TIME ZONE due.tz
    FROM due
    WHERE q.agent_id = due.agent_id
    RETURNING q.agent_id, due.workspace_id, due.used_today AS used, due.reset_at AS window_ended_at
), audit AS (
    INSERT INTO audit_logs (workspace_id, actor, event_type, entity_type, entity_id, data)
    SELECT workspace_id, 'system', 'scrape_quota_reset', 'agent', agent_id,
           jsonb_build_object('job', 'usage_reset', 'used', used, 'window_ended_at', window_ended_at)
    FROM reset
    RETURNING 1
)
SELECT (SELECT count(*) FROM reset) AS quotas_reset,
       (SELECT count(*) FROM audit) AS audited
