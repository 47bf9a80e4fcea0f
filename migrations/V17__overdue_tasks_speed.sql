-- What each task overdue_tasks marks costs (issue 13's goal: a backlog of 1 M tasks in < 10 s;
-- figures from `cargo bench -p scheduled --bench jobs` and EXPLAIN (ANALYZE, BUFFERS) on its data).
--
-- Marking a task changes its status, and status is in the predicate of the partial indexes that
-- find due tasks (V4), so the UPDATE can never be HOT: every marked task is a new row version
-- with a new entry in each index whose predicate it still meets (the primary key, tasks_lead_idx,
-- tasks_workspace_status_idx, plus tasks_assigned_agent_idx when assigned). Index maintenance was
-- two thirds of the UPDATE's time. An index that only the row's status could keep out of the
-- statement cannot be avoided, so the levers are fewer and cheaper entries:

-- 1. tasks_workspace_status_idx serves no query: none in the store's SQL or the Rust code reads
--    tasks by workspace and status, and the ON DELETE CASCADE from workspaces cannot use it (its
--    predicate deleted_at IS NULL is not implied by the cascade's `workspace_id = $1`). It took a
--    new entry for every status change of every task. A dashboard query that needs it adds it back.
DROP INDEX tasks_workspace_status_idx;

-- 2. tasks_lead_idx exists for the ON DELETE CASCADE from leads (`workspace_id = $1 AND lead_id =
--    $2`, equality only; ordered reads by lead go through tasks_auto_lead_idx, V16). As a B-tree
--    over random UUIDs each insert descended the tree and, because the key did not change, first
--    tried a bottom-up deletion pass over the leaf, which cannot succeed for rows the running
--    statement itself replaced. A hash index answers the same equality and costs one bucket
--    page per insert: about 1.5 s less CPU for 600,000 marked tasks.
DROP INDEX tasks_lead_idx;
CREATE INDEX tasks_lead_idx ON tasks USING hash (lead_id) WHERE lead_id IS NOT NULL;

-- 3. The updated_at trigger (V1's set_updated_at(), PL/pgSQL) ran once per marked row (about 1 s
--    of 600,000 calls under EXPLAIN ANALYZE). It now runs only when the UPDATE leaves updated_at
--    as it was, which is what it is for: statements that do not set updated_at still get now(),
--    and a set-based statement that sets it itself (store::tasks::mark_overdue) skips one
--    PL/pgSQL call per row. A statement that sets updated_at to a value of its own now keeps it.
DROP TRIGGER set_updated_at ON tasks;
CREATE TRIGGER set_updated_at BEFORE UPDATE ON tasks FOR EACH ROW
    WHEN (OLD.updated_at IS NOT DISTINCT FROM NEW.updated_at)
    EXECUTE FUNCTION set_updated_at();

-- tasks_one_open_auto_task_key (the follow-up duplicate guard), tasks_open_due_idx and
-- tasks_postponed_idx stay as they are: they are what make the job and the guard exact.
