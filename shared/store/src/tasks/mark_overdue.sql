-- The overdue_tasks job in one statement: open tasks past due_at and postponed tasks past
-- postponed_until become 'overdue', and each one changed gets one audit row, written from the
-- UPDATE's own RETURNING so a task and its audit row can never disagree.
-- $1 the job's "now" (injected clock), $2 at most this many tasks per run.
-- Completed, cancelled and soft-deleted tasks never match; an already overdue task does not match
-- either, so a second run changes nothing. SKIP LOCKED: a task a person is editing right now is
-- left for the next run instead of making the job wait.
-- No ORDER BY: the cap is far above a normal backlog, and sorting a large one would cost more
-- than the order is worth.
WITH due AS (
    SELECT id, status
    FROM tasks
    WHERE deleted_at IS NULL
      AND ((status IN ('pending', 'in_progress') AND due_at < $1)
           OR (status = 'postponed' AND postponed_until < $1))
    LIMIT $2
    FOR UPDATE SKIP LOCKED
), marked AS (
    UPDATE tasks t
    SET status = 'overdue'
    FROM due
    WHERE t.id = due.id
    RETURNING t.id, t.workspace_id, due.status AS previous_status
), audit AS (
    INSERT INTO audit_logs (workspace_id, actor, event_type, entity_type, entity_id, data)
    SELECT workspace_id, 'system', 'task_overdue', 'task', id,
           jsonb_build_object('job', 'overdue_tasks', 'previous_status', previous_status)
    FROM marked
    RETURNING 1
)
SELECT (SELECT count(*) FROM marked) AS marked,
       (SELECT count(*) FROM marked WHERE previous_status = 'postponed') AS from_postponed,
       (SELECT count(*) FROM audit) AS audited
