-- usage_reset, part one: every workspace gets its workspace_usage row for the period containing
-- $1 (the job's "now"), so dashboards and limit checks see the new period start at zero the
-- moment it begins, not at the workspace's first message of the period.
-- The period comes from usage_period(), the one function metering uses, so the job and the
-- meters can never disagree about where a period starts. ON CONFLICT DO NOTHING: a row that
-- already exists (and anything counted in it) is never touched. The row created is the period's
-- shard 0, its first counter (billing/usage.sql: a busy period adds counters beside it).
-- Periods that ended at or before $1 are closed (close_usage_periods, billing/usage.sql): their
-- totals are final, and a delivery still running for one counts in the current period instead.
WITH ensured AS (
    INSERT INTO workspace_usage (workspace_id, period_start, period_end, shard)
    SELECT w.id, p.period_start, p.period_end, 0
    FROM workspaces w
    CROSS JOIN LATERAL usage_period(w.id, $1) p
    ON CONFLICT (workspace_id, period_start, shard) DO NOTHING
    RETURNING workspace_id
)
SELECT (SELECT count(*) FROM workspaces) AS workspaces,
       (SELECT count(*) FROM ensured) AS usage_rows_created,
       close_usage_periods($1) AS usage_periods_closed
