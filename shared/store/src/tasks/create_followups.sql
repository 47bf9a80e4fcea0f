-- The lead_followups job in one statement: one follow_up task for every lead its workspace's
-- active lead_inactive rule says has gone silent, with one audit row per task created.
-- $1 the job's "now" (injected clock), $2 at most this many tasks per run.
--
-- The rule's config keys fall back to the documented defaults (inactive_days 2, priority high,
-- due_hours 24) when missing or of the wrong type, so one workspace's bad config cannot fail the
-- job for every workspace. A workspace without an active rule gets no follow-ups.
--
-- A lead qualifies when all hold:
--   1. it is active, not opted out, and not Converted or Closed Lost;
--   2. its last customer message is older than inactive_days (a lead that never wrote has
--      nothing to follow up);
--   3. it has no open automatic follow-up (pending, in progress, overdue or postponed);
--   4. no automatic follow-up was created for it within inactive_days, deleted or not, so
--      completing or deleting one does not bring another the same hour.
-- The NOT EXISTS reads are a snapshot; two concurrent runs both pass them, and the partial unique
-- index tasks_one_open_auto_task_key (V4) makes the second insert a no-op (ON CONFLICT DO NOTHING).
-- created_at is the job's "now", so rule 4 is measured on the same clock as rule 2.
WITH rules AS (
    SELECT r.workspace_id,
           CASE WHEN jsonb_typeof(r.config -> 'inactive_days') = 'number'
                     AND (r.config ->> 'inactive_days')::numeric > 0
                THEN (r.config ->> 'inactive_days')::numeric ELSE 2 END * interval '1 day' AS inactive,
           CASE WHEN r.config ->> 'priority' IN ('high', 'medium', 'low')
                THEN r.config ->> 'priority' ELSE 'high' END AS priority,
           CASE WHEN jsonb_typeof(r.config -> 'due_hours') = 'number'
                     AND (r.config ->> 'due_hours')::numeric >= 0
                THEN (r.config ->> 'due_hours')::numeric ELSE 24 END * interval '1 hour' AS due_in
    FROM task_automation_rules r
    WHERE r.rule_type = 'lead_inactive' AND r.is_active
), due AS (
    SELECT l.id, l.workspace_id, l.assigned_agent_id, rules.priority, rules.due_in,
           -- The first word of the name, and nothing else of the person.
           nullif(left(split_part(btrim(coalesce(l.name, '')), ' ', 1), 100), '') AS first_name
    FROM rules
    JOIN leads l ON l.workspace_id = rules.workspace_id
    -- Rules 3 and 4 as a probe per lead (a LATERAL ... LIMIT 1 is never turned into a join).
    -- As NOT EXISTS, the planner could pick an anti-join that reads every automatic task once per
    -- lead: it did whenever statistics still said there were none, i.e. on the run right after
    -- a run that created many, where 180,000 follow-ups made the next run take minutes.
    LEFT JOIN LATERAL (
        SELECT true AS found FROM tasks t
        WHERE t.lead_id = l.id
          AND t.auto_generated AND t.generation_rule = 'lead_inactive'
          AND ((t.deleted_at IS NULL AND t.status IN ('pending', 'in_progress', 'overdue', 'postponed'))
               OR t.created_at > $1 - rules.inactive)
        LIMIT 1
    ) followed_up ON true
    WHERE l.status = 'active'
      AND l.opted_out_at IS NULL
      AND l.lead_stage NOT IN ('Converted', 'Closed Lost')
      AND l.last_customer_message_at < $1 - rules.inactive
      AND followed_up.found IS NULL
    LIMIT $2
), created AS (
    INSERT INTO tasks (workspace_id, lead_id, assigned_agent_id, task_type, title, status,
                       priority, due_at, auto_generated, generation_rule, created_at, updated_at)
    SELECT workspace_id, id, assigned_agent_id, 'follow_up',
           coalesce('Follow up with ' || first_name, 'Follow up with this lead'), 'pending',
           priority, $1 + due_in, true, 'lead_inactive', $1, $1
    FROM due
    ON CONFLICT (lead_id, generation_rule)
        WHERE auto_generated AND deleted_at IS NULL AND status IN ('pending', 'in_progress', 'overdue', 'postponed')
        DO NOTHING
    RETURNING id, workspace_id, lead_id
), audit AS (
    INSERT INTO audit_logs (workspace_id, actor, event_type, entity_type, entity_id, data)
    SELECT workspace_id, 'system', 'task_created', 'task', id,
           jsonb_build_object('job', 'lead_followups', 'rule', 'lead_inactive', 'lead_id', lead_id)
    FROM created
    RETURNING 1
)
SELECT (SELECT count(*) FROM rules) AS rules,
       (SELECT count(*) FROM created) AS created,
       (SELECT count(*) FROM audit) AS audited
