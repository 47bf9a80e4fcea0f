-- Leads, identities, channel sessions and the conversation log (from PROXe Command Center).
--
-- Dedupe is the database's job: a person is recognised through lead_identities, whose primary key
-- (workspace_id, kind, value) makes "one lead per phone/email/WhatsApp id per workspace" hold even
-- under concurrent deliveries. Child tables reference (workspace_id, lead_id) so a row can never
-- name a lead of another workspace.

CREATE TABLE leads (
    id                       uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    workspace_id             uuid NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
    name                     text,
    email                    text CHECK (email = lower(email)),
    -- The number as the person or the agent wrote it; phone_e164 is what matching uses.
    phone_raw                text,
    phone_e164               text CHECK (phone_e164 ~ '^\+[1-9][0-9]{6,14}$'),
    first_touchpoint         text NOT NULL CHECK (first_touchpoint IN ('web', 'whatsapp', 'voice', 'social')),
    last_touchpoint          text NOT NULL CHECK (last_touchpoint IN ('web', 'whatsapp', 'voice', 'social')),
    last_interaction_at      timestamptz NOT NULL DEFAULT now(),
    last_customer_message_at timestamptz,
    lead_score               smallint NOT NULL DEFAULT 0 CHECK (lead_score BETWEEN 0 AND 100),
    -- The parts of the score (engagement, intent, depth, activity, readiness, boost, total) so a
    -- person can see why a lead scored what it did.
    score_breakdown          jsonb NOT NULL DEFAULT '{}'::jsonb,
    lead_stage               text NOT NULL DEFAULT 'New' CHECK (lead_stage IN (
                                 'New', 'Engaged', 'Qualified', 'High Intent', 'Booking Made',
                                 'In Sequence', 'Cold', 'Converted', 'Closed Lost')),
    -- Sub-stages exist only under High Intent.
    sub_stage                text CHECK (sub_stage IS NULL OR (
                                 lead_stage = 'High Intent'
                                 AND sub_stage IN ('proposal', 'negotiation', 'on-hold'))),
    -- True while a person's override (lead_stage_overrides) holds the stage.
    stage_override           boolean NOT NULL DEFAULT false,
    last_scored_at           timestamptz,
    status                   text NOT NULL DEFAULT 'active'
                             CHECK (status IN ('active', 'archived', 'spam')),
    -- Not in PROXe's columns but needed by the scoring rules: a booking counts only while
    -- pending or confirmed.
    booking_status           text CHECK (booking_status IN ('pending', 'confirmed', 'cancelled')),
    booking_date             date,
    booking_time             time,
    -- Channel facts merged over time (web summaries, readiness facts); absent keys never erase.
    unified_context          jsonb NOT NULL DEFAULT '{}'::jsonb CHECK (jsonb_typeof(unified_context) = 'object'),
    assigned_agent_id        uuid,
    source_agent_id          uuid,
    opted_out_at             timestamptz,
    created_at               timestamptz NOT NULL DEFAULT now(),
    updated_at               timestamptz NOT NULL DEFAULT now(),
    UNIQUE (workspace_id, id),
    FOREIGN KEY (workspace_id, assigned_agent_id) REFERENCES agents (workspace_id, id) ON DELETE SET NULL (assigned_agent_id),
    FOREIGN KEY (workspace_id, source_agent_id) REFERENCES agents (workspace_id, id) ON DELETE SET NULL (source_agent_id)
);
-- A second guard behind lead_identities: two leads of one workspace never share a phone.
CREATE UNIQUE INDEX leads_workspace_phone_key ON leads (workspace_id, phone_e164) WHERE phone_e164 IS NOT NULL;
CREATE INDEX leads_workspace_stage_idx ON leads (workspace_id, lead_stage);
-- The cold_leads and lead_followups jobs scan by silence.
CREATE INDEX leads_last_customer_message_idx ON leads (last_customer_message_at) WHERE status = 'active';
CREATE INDEX leads_assigned_agent_idx ON leads (assigned_agent_id) WHERE assigned_agent_id IS NOT NULL;
CREATE INDEX leads_source_agent_idx ON leads (source_agent_id) WHERE source_agent_id IS NOT NULL;
SELECT attach_updated_at('leads');

CREATE TABLE lead_identities (
    workspace_id  uuid NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
    kind          text NOT NULL CHECK (kind IN ('phone', 'email', 'whatsapp_id', 'whatsapp_bsuid', 'web_session')),
    -- Normalised: E.164 for phone, lower-case for email, as given for the others.
    value         text NOT NULL CHECK (length(value) BETWEEN 1 AND 320),
    lead_id       uuid NOT NULL,
    first_seen_at timestamptz NOT NULL DEFAULT now(),
    last_seen_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (workspace_id, kind, value),
    FOREIGN KEY (workspace_id, lead_id) REFERENCES leads (workspace_id, id) ON DELETE CASCADE
);
CREATE INDEX lead_identities_lead_id_idx ON lead_identities (workspace_id, lead_id);

-- Channel sessions keep PROXe's self-contained shape: one table per channel, each with a counter
-- and channel-specific columns, and channel_data for whatever else the channel sends.
CREATE TABLE web_sessions (
    id                   uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    workspace_id         uuid NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
    lead_id              uuid NOT NULL,
    external_session_id  text NOT NULL CHECK (length(external_session_id) BETWEEN 1 AND 200),
    website_url          text,
    conversation_summary text,
    user_inputs_summary  text,
    booking_status       text CHECK (booking_status IN ('pending', 'confirmed', 'cancelled')),
    booking_date         date,
    booking_time         time,
    message_count        integer NOT NULL DEFAULT 0 CHECK (message_count >= 0),
    last_message_at      timestamptz,
    channel_data         jsonb NOT NULL DEFAULT '{}'::jsonb,
    created_at           timestamptz NOT NULL DEFAULT now(),
    updated_at           timestamptz NOT NULL DEFAULT now(),
    UNIQUE (workspace_id, external_session_id),
    FOREIGN KEY (workspace_id, lead_id) REFERENCES leads (workspace_id, id) ON DELETE CASCADE
);
CREATE INDEX web_sessions_lead_idx ON web_sessions (lead_id, last_message_at DESC);
SELECT attach_updated_at('web_sessions');

CREATE TABLE whatsapp_sessions (
    id                   uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    workspace_id         uuid NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
    lead_id              uuid NOT NULL,
    phone_number_id      text NOT NULL,
    -- The customer's wa_id, or their business-scoped user id when Meta sends no phone number.
    wa_id_or_bsuid       text NOT NULL,
    wa_id                text,
    user_id              text,
    profile_name         text,
    message_count        integer NOT NULL DEFAULT 0 CHECK (message_count >= 0),
    last_message_at      timestamptz,
    last_message_from    text CHECK (last_message_from IN ('customer', 'agent', 'system')),
    last_message_preview text,
    -- WhatsApp's 24-hour customer-service window: free-form replies are allowed until then.
    window_expires_at    timestamptz,
    channel_data         jsonb NOT NULL DEFAULT '{}'::jsonb,
    created_at           timestamptz NOT NULL DEFAULT now(),
    updated_at           timestamptz NOT NULL DEFAULT now(),
    UNIQUE (workspace_id, phone_number_id, wa_id_or_bsuid),
    FOREIGN KEY (workspace_id, lead_id) REFERENCES leads (workspace_id, id) ON DELETE CASCADE
);
CREATE INDEX whatsapp_sessions_lead_idx ON whatsapp_sessions (lead_id, last_message_at DESC);
SELECT attach_updated_at('whatsapp_sessions');

CREATE TABLE voice_sessions (
    id               uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    workspace_id     uuid NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
    lead_id          uuid NOT NULL,
    external_call_id text NOT NULL,
    direction        text NOT NULL DEFAULT 'inbound' CHECK (direction IN ('inbound', 'outbound')),
    call_status      text CHECK (call_status IN ('ringing', 'in_progress', 'completed', 'missed', 'failed', 'handed_off')),
    duration_seconds integer CHECK (duration_seconds >= 0),
    recording_url    text,
    transcript       text,
    summary          text,
    started_at       timestamptz,
    ended_at         timestamptz,
    message_count    integer NOT NULL DEFAULT 0 CHECK (message_count >= 0),
    last_message_at  timestamptz,
    channel_data     jsonb NOT NULL DEFAULT '{}'::jsonb,
    created_at       timestamptz NOT NULL DEFAULT now(),
    updated_at       timestamptz NOT NULL DEFAULT now(),
    UNIQUE (workspace_id, external_call_id),
    FOREIGN KEY (workspace_id, lead_id) REFERENCES leads (workspace_id, id) ON DELETE CASCADE
);
CREATE INDEX voice_sessions_lead_idx ON voice_sessions (lead_id, last_message_at DESC);
SELECT attach_updated_at('voice_sessions');

CREATE TABLE social_sessions (
    id                 uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    workspace_id       uuid NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
    lead_id            uuid NOT NULL,
    platform           text NOT NULL CHECK (platform IN ('instagram', 'facebook', 'linkedin', 'x', 'tiktok', 'other')),
    external_thread_id text NOT NULL,
    handle             text,
    message_count      integer NOT NULL DEFAULT 0 CHECK (message_count >= 0),
    last_message_at    timestamptz,
    channel_data       jsonb NOT NULL DEFAULT '{}'::jsonb,
    created_at         timestamptz NOT NULL DEFAULT now(),
    updated_at         timestamptz NOT NULL DEFAULT now(),
    UNIQUE (workspace_id, platform, external_thread_id),
    FOREIGN KEY (workspace_id, lead_id) REFERENCES leads (workspace_id, id) ON DELETE CASCADE
);
CREATE INDEX social_sessions_lead_idx ON social_sessions (lead_id, last_message_at DESC);
SELECT attach_updated_at('social_sessions');

-- The one conversation log across channels. Append-only: content never changes; only
-- delivery_status moves, and only forward (guarded by the trigger below as well as by the
-- writers' WHERE clauses).
CREATE TABLE conversations (
    id              uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    workspace_id    uuid NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
    lead_id         uuid NOT NULL,
    channel         text NOT NULL CHECK (channel IN ('web', 'whatsapp', 'voice', 'social')),
    sender          text NOT NULL CHECK (sender IN ('customer', 'agent', 'system')),
    content         text NOT NULL,
    message_type    text NOT NULL DEFAULT 'text',
    -- The provider's message id (wamid, web-agent message_id): what makes a redelivery a no-op.
    external_id     text,
    metadata        jsonb NOT NULL DEFAULT '{}'::jsonb,
    delivery_status text CHECK (delivery_status IN ('sent', 'delivered', 'read', 'played', 'failed')),
    sent_at         timestamptz NOT NULL,
    received_at     timestamptz NOT NULL DEFAULT now(),
    UNIQUE (workspace_id, channel, external_id),
    FOREIGN KEY (workspace_id, lead_id) REFERENCES leads (workspace_id, id) ON DELETE CASCADE
);
CREATE INDEX conversations_lead_sent_idx ON conversations (lead_id, sent_at);

-- Rank of a delivery status; failed is final and ranks above everything.
CREATE FUNCTION delivery_status_rank(status text) RETURNS integer
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT CASE status
        WHEN 'sent' THEN 1 WHEN 'delivered' THEN 2 WHEN 'read' THEN 3 WHEN 'played' THEN 4
        WHEN 'failed' THEN 100 ELSE 0 END
$$;

CREATE FUNCTION conversations_append_only() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF (NEW.workspace_id, NEW.lead_id, NEW.channel, NEW.sender, NEW.content, NEW.message_type,
        NEW.external_id, NEW.sent_at, NEW.received_at)
       IS DISTINCT FROM
       (OLD.workspace_id, OLD.lead_id, OLD.channel, OLD.sender, OLD.content, OLD.message_type,
        OLD.external_id, OLD.sent_at, OLD.received_at) THEN
        RAISE EXCEPTION 'conversations are append-only: only delivery_status and metadata may change'
            USING ERRCODE = 'integrity_constraint_violation';
    END IF;
    IF OLD.delivery_status = 'failed' AND NEW.delivery_status IS DISTINCT FROM 'failed' THEN
        RAISE EXCEPTION 'a failed message stays failed' USING ERRCODE = 'integrity_constraint_violation';
    END IF;
    IF delivery_status_rank(NEW.delivery_status) < delivery_status_rank(OLD.delivery_status) THEN
        RAISE EXCEPTION 'delivery_status only moves forward' USING ERRCODE = 'integrity_constraint_violation';
    END IF;
    RETURN NEW;
END;
$$;
CREATE TRIGGER conversations_append_only BEFORE UPDATE ON conversations
    FOR EACH ROW EXECUTE FUNCTION conversations_append_only();

CREATE TABLE lead_intents_log (
    id              uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    lead_id         uuid NOT NULL REFERENCES leads (id) ON DELETE CASCADE,
    conversation_id uuid REFERENCES conversations (id) ON DELETE CASCADE,
    intent          text NOT NULL CHECK (intent IN ('booking', 'site_visit', 'pricing', 'availability',
                        'interest', 'objection', 'human_handoff', 'opt_out')),
    confidence      real NOT NULL CHECK (confidence BETWEEN 0 AND 1),
    -- The keyword or phrase that matched, never the message itself.
    matched         text NOT NULL,
    created_at      timestamptz NOT NULL DEFAULT now(),
    UNIQUE (conversation_id, intent)
);
CREATE INDEX lead_intents_log_lead_idx ON lead_intents_log (lead_id, intent);

-- The one audit trail of stages (PROXe's stage_history and stage_transitions fold into it).
CREATE TABLE lead_stage_changes (
    id            uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    lead_id       uuid NOT NULL REFERENCES leads (id) ON DELETE CASCADE,
    old_stage     text,
    new_stage     text NOT NULL,
    old_sub_stage text,
    new_sub_stage text,
    old_score     smallint,
    new_score     smallint,
    -- NULL means the system changed it.
    changed_by    uuid REFERENCES members (id) ON DELETE SET NULL,
    reason        text NOT NULL CHECK (reason IN ('auto_scoring', 'booking_made', 're_engagement',
                      'system_cold', 'manual_override', 'override_cleared')),
    is_automatic  boolean NOT NULL,
    created_at    timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX lead_stage_changes_lead_idx ON lead_stage_changes (lead_id, created_at);
CREATE INDEX lead_stage_changes_changed_by_idx ON lead_stage_changes (changed_by) WHERE changed_by IS NOT NULL;

CREATE TABLE lead_stage_overrides (
    id         uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    lead_id    uuid NOT NULL REFERENCES leads (id) ON DELETE CASCADE,
    stage      text NOT NULL CHECK (stage IN ('New', 'Engaged', 'Qualified', 'High Intent', 'Booking Made',
                   'In Sequence', 'Cold', 'Converted', 'Closed Lost')),
    sub_stage  text CHECK (sub_stage IS NULL OR (stage = 'High Intent' AND sub_stage IN ('proposal', 'negotiation', 'on-hold'))),
    set_by     uuid REFERENCES members (id) ON DELETE SET NULL,
    reason     text,
    created_at timestamptz NOT NULL DEFAULT now(),
    removed_at timestamptz
);
-- At most one active override per lead.
CREATE UNIQUE INDEX lead_stage_overrides_one_active_key ON lead_stage_overrides (lead_id) WHERE removed_at IS NULL;
CREATE INDEX lead_stage_overrides_set_by_idx ON lead_stage_overrides (set_by) WHERE set_by IS NOT NULL;

CREATE TABLE lead_activities (
    id               uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    lead_id          uuid NOT NULL REFERENCES leads (id) ON DELETE CASCADE,
    activity_type    text NOT NULL CHECK (activity_type IN ('call', 'meeting', 'message', 'note')),
    note             text,
    duration_minutes integer CHECK (duration_minutes >= 0),
    next_followup_at timestamptz,
    created_by       uuid REFERENCES members (id) ON DELETE SET NULL,
    created_at       timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX lead_activities_lead_idx ON lead_activities (lead_id, created_at);
CREATE INDEX lead_activities_created_by_idx ON lead_activities (created_by) WHERE created_by IS NOT NULL;
