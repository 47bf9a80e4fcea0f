-- The overdue_tasks job in one statement: open tasks past due_at and postponed tasks past
-- postponed_until become 'overdue', and each workspace with tasks marked gets one audit row that
-- names them, written from the UPDATE's own RETURNING so the audit and the tasks cannot disagree.
-- $1 the job's "now" (injected clock).
-- Completed, cancelled and soft-deleted tasks never match; an already overdue task does not match
-- either, so a second run changes nothing and writes no audit row.
-- A plain UPDATE, not "select and lock the due rows, then update them": locking first marks every
-- row once more and joins the locked set back to tasks by primary key, work that grows with the
-- backlog and buys nothing here. A task a person is editing is waited for, and its new version is
-- re-checked against these conditions (READ COMMITTED), so a task completed meanwhile stays
-- completed. There is no per-run cap for the same reason: the partial indexes on open and
-- postponed tasks find the due ones, and a backlog is one statement, however large.
--
-- What a marked task costs (benches/jobs.rs, 1 M tasks of which 600,000 due; V17 has the index
-- side):
-- - updated_at is set here rather than by the set_updated_at() trigger, whose WHEN clause (V17)
--   then skips it: one PL/pgSQL call less per row. now() is what the trigger wrote.
-- - One audit row per workspace and run, not per task. An audit_logs row costs three B-tree
--   inserts (two of them at random places: its UUID key and the task's UUID in
--   audit_logs_entity_idx) and a foreign-key check on workspaces; per task that was 14 s of CPU
--   for 600,000 tasks, more than the UPDATE itself, against about 1 s for a list of ids. The row
--   names every task it marked (data.task_ids, so `data -> 'task_ids' ? '<task id>'` finds a
--   task's), and the dates that made each one overdue are still the task's own due_at and
--   postponed_until, which this job does not change.
WITH marked AS (
    UPDATE tasks
    SET status = 'overdue', updated_at = now()
    WHERE deleted_at IS NULL
      AND ((status IN ('pending', 'in_progress') AND due_at < $1)
           OR (status = 'postponed' AND postponed_until < $1))
    RETURNING id, workspace_id
), audit AS (
    INSERT INTO audit_logs (workspace_id, actor, event_type, entity_type, entity_id, data)
    SELECT workspace_id, 'system', 'tasks_overdue', 'workspace', workspace_id,
           jsonb_build_object('job', 'overdue_tasks', 'as_of', $1::timestamptz,
                              'count', count(*), 'task_ids', jsonb_agg(id))
    FROM marked
    GROUP BY workspace_id
    RETURNING 1
)
SELECT (SELECT count(*) FROM marked) AS marked,
       (SELECT count(*) FROM audit) AS audited
