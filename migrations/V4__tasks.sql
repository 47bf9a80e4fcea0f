-- Tasks and their automation rules (from NEXUS OS, in English).

CREATE TABLE tasks (
    id                uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    workspace_id      uuid NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
    lead_id           uuid,
    assigned_agent_id uuid,
    task_type         text NOT NULL DEFAULT 'general' CHECK (task_type IN ('follow_up', 'confirm_visit',
                          'respond_inquiry', 'review_offer', 'send_contract', 'general')),
    title             text NOT NULL CHECK (length(title) BETWEEN 1 AND 500),
    status            text NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'in_progress', 'completed',
                          'postponed', 'overdue', 'cancelled')),
    priority          text NOT NULL DEFAULT 'medium' CHECK (priority IN ('high', 'medium', 'low')),
    due_at            timestamptz,
    postponed_until   timestamptz,
    auto_generated    boolean NOT NULL DEFAULT false,
    -- Which automation rule created it (e.g. 'lead_inactive'); NULL for tasks made by people.
    generation_rule   text,
    completed_at      timestamptz,
    -- Soft delete: tasks are referenced from activity feeds and audit logs.
    deleted_at        timestamptz,
    created_at        timestamptz NOT NULL DEFAULT now(),
    updated_at        timestamptz NOT NULL DEFAULT now(),
    CHECK (auto_generated = (generation_rule IS NOT NULL)),
    CHECK ((status = 'completed') = (completed_at IS NOT NULL)),
    FOREIGN KEY (workspace_id, lead_id) REFERENCES leads (workspace_id, id) ON DELETE CASCADE,
    FOREIGN KEY (workspace_id, assigned_agent_id) REFERENCES agents (workspace_id, id) ON DELETE SET NULL (assigned_agent_id)
);
-- The overdue_tasks job: open tasks past their due time.
CREATE INDEX tasks_open_due_idx ON tasks (due_at)
    WHERE status IN ('pending', 'in_progress') AND deleted_at IS NULL;
-- Postponed tasks come back when postponed_until passes.
CREATE INDEX tasks_postponed_idx ON tasks (postponed_until)
    WHERE status = 'postponed' AND deleted_at IS NULL;
CREATE INDEX tasks_lead_idx ON tasks (lead_id) WHERE lead_id IS NOT NULL;
CREATE INDEX tasks_assigned_agent_idx ON tasks (assigned_agent_id, status) WHERE assigned_agent_id IS NOT NULL;
CREATE INDEX tasks_workspace_status_idx ON tasks (workspace_id, status) WHERE deleted_at IS NULL;
-- The lead_followups job runs hourly; this key makes it create at most one open automatic task
-- per lead and rule, however often it runs.
CREATE UNIQUE INDEX tasks_one_open_auto_task_key ON tasks (lead_id, generation_rule)
    WHERE auto_generated AND deleted_at IS NULL AND status IN ('pending', 'in_progress', 'overdue', 'postponed');
SELECT attach_updated_at('tasks');

CREATE TABLE task_automation_rules (
    id           uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    workspace_id uuid NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
    rule_type    text NOT NULL CHECK (rule_type IN ('lead_inactive')),
    config       jsonb NOT NULL DEFAULT '{"inactive_days": 2, "priority": "high", "due_hours": 24}'::jsonb
                 CHECK (jsonb_typeof(config) = 'object'),
    is_active    boolean NOT NULL DEFAULT true,
    created_at   timestamptz NOT NULL DEFAULT now(),
    updated_at   timestamptz NOT NULL DEFAULT now(),
    UNIQUE (workspace_id, rule_type)
);
SELECT attach_updated_at('task_automation_rules');
