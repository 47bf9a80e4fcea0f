-- The overdue_tasks job in one statement: open tasks past due_at and postponed tasks past
-- postponed_until become 'overdue', and each one changed gets one audit row, written from the
-- UPDATE's own RETURNING so a task and its audit row can never disagree.
-- $1 the job's "now" (injected clock).
-- Completed, cancelled and soft-deleted tasks never match; an already overdue task does not match
-- either, so a second run changes nothing.
-- A plain UPDATE, not "select and lock the due rows, then update them": locking first marks every
-- row once more and joins the locked set back to tasks by primary key, work that grows with the
-- backlog and buys nothing here. A task a person is editing is waited for, and its new version is
-- re-checked against these conditions (READ COMMITTED), so a task completed meanwhile stays
-- completed. There is no per-run cap for the same reason: the partial indexes on open and
-- postponed tasks find the due ones, and a backlog is one statement, however large.
-- The audit row keeps the dates that made the task overdue (RETURNING sees only new values, and
-- those two columns are not changed here).
--
-- What a marked task costs (benches/jobs.rs: 1 M tasks, 600,000 due; V17 has the index side):
-- - updated_at is set here rather than by the set_updated_at() trigger, whose WHEN clause (V17)
--   then skips it: one PL/pgSQL call less per row. now() is what the trigger wrote.
-- - One audit row per task, as the audit trail promises (a task's history is its own rows):
--   three B-tree inserts per row (no foreign-key check since V21). One row per workspace
--   naming the tasks would be cheaper, but a task's history would then be hidden in other rows'
--   JSON; the trail wins.
-- - Keys are time-ordered (V20): a task's new row version and its audit row go into the
--   primary-key indexes next to the ones written just before, instead of at a random leaf.
--   That took the bench's run from 13.2-14.7 s to 8.7-10.6 s on the same loaded machine.
WITH marked AS (
    UPDATE tasks
    SET status = 'overdue', updated_at = now()
    WHERE deleted_at IS NULL
      AND ((status IN ('pending', 'in_progress') AND due_at < $1)
           OR (status = 'postponed' AND postponed_until < $1))
    RETURNING id, workspace_id, due_at, postponed_until
), audit AS (
    INSERT INTO audit_logs (workspace_id, actor, event_type, entity_type, entity_id, data)
    SELECT workspace_id, 'system', 'task_overdue', 'task', id,
           jsonb_build_object('job', 'overdue_tasks', 'due_at', due_at,
                              'postponed_until', postponed_until)
    FROM marked
    RETURNING 1
)
SELECT (SELECT count(*) FROM marked) AS marked,
       (SELECT count(*) FROM audit) AS audited
