-- The web-agent webhook's write (POST /webhooks/web-agent, docs/architecture.md §5.2) as one function,
-- so a delivery costs one round trip and one transaction: the caller runs
-- `SELECT ingest_web_agent($1, $2)` as a single autocommit statement.
--
-- Why a function and not a chain of statements from Rust: every step needs ids produced by the
-- step before it (the lead, the stored message), and docs/architecture.md §7.4 allows at most two round
-- trips per webhook on the hot path (the API key lookup is the other one). Lead resolution and
-- usage metering are resolve_lead (leads/) and add_usage (billing/); nothing here resolves
-- leads another way.
--
-- The order of the locks taken below is fixed, so deliveries running at once can wait for each
-- other but never deadlock: the journal key's lock, then the identity locks (resolve_lead, sorted),
-- then the lead row, the web_sessions row, and last the workspace_usage row, the one row every
-- delivery of a workspace updates, so it is held for as short a time as possible.

-- The usage part of the response.
CREATE OR REPLACE FUNCTION web_agent_usage_json(p_conversations integer, p_limit integer) RETURNS jsonb
LANGUAGE sql IMMUTABLE AS $$
    SELECT jsonb_build_object(
        'conversations', p_conversations,
        'limit', p_limit,
        'over_limit', coalesce(p_conversations > p_limit, false))
$$;

-- One web-agent delivery, already parsed and normalised by the caller (domain::web_agent).
--
-- p: {workspace_id, event_key, name, phone_e164, phone_raw, email, external_session_id, message_id,
--     message, sender, website_url, conversation_summary, user_inputs_summary, metadata,
--     booking: {status, date, time}, agent_id, intents: [{intent, confidence, matched}],
--     reason}; absent values are JSON null or missing.
-- p_body: the body as received, kept in the journal.
--
-- Returns one of
--   {"rejected": [{field, message}]}: nothing was written (unknown agent, nobody identified);
--   {lead_id, session_id, message_id, created, duplicate, usage: {conversations, limit,
--    over_limit}, conflicting_lead_ids, job: {id, payload} | null}.
-- message_id in the result is the stored conversations row (NULL when the delivery carried no
-- message); session_id the web_sessions row (NULL without external_session_id).
CREATE OR REPLACE FUNCTION ingest_web_agent(p jsonb, p_body jsonb) RETURNS jsonb
LANGUAGE plpgsql AS $$
DECLARE
    v_at             timestamptz := now();
    v_ws             uuid := (p ->> 'workspace_id')::uuid;
    v_message_id     text := p ->> 'message_id';
    v_session_key    text := p ->> 'external_session_id';
    v_phone          text := p ->> 'phone_e164';
    v_email          text := p ->> 'email';
    v_message        text := p ->> 'message';
    v_sender         text := p ->> 'sender';
    v_agent          uuid := (p ->> 'agent_id')::uuid;
    v_metadata       jsonb := CASE WHEN jsonb_typeof(p -> 'metadata') = 'object' THEN p -> 'metadata' END;
    v_booking_status text := p #>> '{booking,status}';
    v_booking_date   date := (p #>> '{booking,date}')::date;
    v_booking_time   time := (p #>> '{booking,time}')::time;
    v_event_key      text := p ->> 'event_key';
    v_journal        record;
    v_identities     jsonb;
    v_lead           uuid;
    v_created        boolean;
    v_conflicts      uuid[];
    v_conversation   uuid;
    v_session        uuid;
    v_session_new    boolean := false;
    v_conversations  integer;
    v_limit          integer;
    v_job_id         bigint;
    v_job_payload    jsonb;
    v_result         jsonb;
BEGIN
    -- Copies of one delivery run one after the other; a processed one is answered from the
    -- journal with the same ids and writes nothing (journal/journal.sql).
    SELECT * INTO v_journal FROM journal_open('web_agent', v_event_key);
    IF v_journal.replay THEN
        SELECT u.conversations, u.conversation_limit INTO v_conversations, v_limit
        FROM current_usage(v_ws, v_at) u;
        RETURN coalesce(v_journal.result, '{}'::jsonb) || jsonb_build_object(
            'created', false,
            'duplicate', true,
            'usage', web_agent_usage_json(v_conversations, v_limit),
            'conflicting_lead_ids', '[]'::jsonb,
            'job', NULL);
    END IF;

    -- Refusals come before any write: the statement commits whatever it wrote.
    IF v_agent IS NOT NULL AND NOT EXISTS (
        SELECT 1 FROM agents a WHERE a.workspace_id = v_ws AND a.id = v_agent) THEN
        RETURN jsonb_build_object('rejected', jsonb_build_array(jsonb_build_object(
            'field', 'agent_id', 'message', 'is not an agent of this workspace')));
    END IF;
    IF v_phone IS NULL AND v_email IS NULL AND NOT EXISTS (
        SELECT 1 FROM lead_identities li
        WHERE li.workspace_id = v_ws AND li.kind = 'web_session' AND li.value = v_session_key) THEN
        RETURN jsonb_build_object('rejected', jsonb_build_array(
            jsonb_build_object('field', 'phone',
                'message', 'is required (or email): this external_session_id is not linked to a lead yet'),
            jsonb_build_object('field', 'email',
                'message', 'is required (or phone): this external_session_id is not linked to a lead yet')));
    END IF;

    -- The person: strongest identity first (phone, email, web session); conflicts are recorded
    -- by resolve_lead in audit_logs, never merged.
    SELECT coalesce(jsonb_agg(jsonb_build_object('kind', i.kind, 'value', i.value)), '[]'::jsonb)
    INTO v_identities
    FROM (VALUES ('phone', v_phone), ('email', v_email), ('web_session', v_session_key)) AS i (kind, value)
    WHERE i.value IS NOT NULL;

    SELECT r.lead_id, r.created, r.conflicting_lead_ids INTO v_lead, v_created, v_conflicts
    FROM resolve_lead(v_ws, v_identities, 'web', v_at, v_phone, p ->> 'phone_raw', v_email,
                      p ->> 'name') r;

    -- The message, once per message_id (the journal already guarantees it; the unique key is
    -- the database's own guard).
    IF v_message IS NOT NULL THEN
        INSERT INTO conversations (workspace_id, lead_id, channel, sender, content, message_type,
                                   external_id, metadata, sent_at, received_at)
        VALUES (v_ws, v_lead, 'web', v_sender, v_message, 'text', v_message_id,
                jsonb_strip_nulls(jsonb_build_object('external_session_id', v_session_key,
                                                     'metadata', v_metadata)),
                v_at, v_at)
        ON CONFLICT (workspace_id, channel, external_id) DO NOTHING
        RETURNING id INTO v_conversation;
    END IF;

    -- Intents were detected by the caller (domain::intent::detect) in customer text only.
    IF v_conversation IS NOT NULL AND v_sender = 'customer' THEN
        INSERT INTO lead_intents_log (lead_id, conversation_id, intent, confidence, matched, created_at)
        SELECT v_lead, v_conversation, i.intent, i.confidence, i.matched, v_at
        FROM jsonb_to_recordset(coalesce(p -> 'intents', '[]'::jsonb))
             AS i (intent text, confidence real, matched text)
        ON CONFLICT (conversation_id, intent) DO NOTHING;
    END IF;

    -- The chat session. A session already linked to another lead (a conflict) keeps its lead:
    -- moving it would be the silent merge resolve_lead refuses to do.
    IF v_session_key IS NOT NULL THEN
        INSERT INTO web_sessions AS s (workspace_id, lead_id, external_session_id, website_url,
                                       conversation_summary, user_inputs_summary, booking_status,
                                       booking_date, booking_time, message_count, last_message_at,
                                       channel_data)
        VALUES (v_ws, v_lead, v_session_key, p ->> 'website_url',
                p ->> 'conversation_summary', p ->> 'user_inputs_summary',
                coalesce(v_booking_status, CASE WHEN v_booking_date IS NOT NULL THEN 'pending' END),
                v_booking_date, v_booking_time,
                CASE WHEN v_conversation IS NOT NULL THEN 1 ELSE 0 END,
                CASE WHEN v_conversation IS NOT NULL THEN v_at END,
                CASE WHEN v_metadata IS NOT NULL THEN jsonb_build_object('metadata', v_metadata) ELSE '{}'::jsonb END)
        ON CONFLICT (workspace_id, external_session_id) DO UPDATE SET
            website_url = coalesce(EXCLUDED.website_url, s.website_url),
            conversation_summary = coalesce(EXCLUDED.conversation_summary, s.conversation_summary),
            user_inputs_summary = coalesce(EXCLUDED.user_inputs_summary, s.user_inputs_summary),
            booking_status = coalesce(v_booking_status, s.booking_status, EXCLUDED.booking_status),
            booking_date = coalesce(EXCLUDED.booking_date, s.booking_date),
            booking_time = coalesce(EXCLUDED.booking_time, s.booking_time),
            message_count = s.message_count + EXCLUDED.message_count,
            last_message_at = greatest(s.last_message_at, EXCLUDED.last_message_at),
            channel_data = CASE
                WHEN v_metadata IS NULL THEN s.channel_data
                ELSE jsonb_set(s.channel_data, '{metadata}',
                    CASE WHEN jsonb_typeof(s.channel_data -> 'metadata') = 'object'
                         THEN s.channel_data -> 'metadata' ELSE '{}'::jsonb END || v_metadata)
                END
        RETURNING s.id, (s.xmax = 0) INTO v_session, v_session_new;
    END IF;

    -- What resolve_lead does not write: customer activity, booking, source agent, and the web
    -- facts in unified_context, merged so that an absent field never erases a stored one.
    UPDATE leads l SET
        last_customer_message_at = CASE
            WHEN v_conversation IS NOT NULL AND v_sender = 'customer'
            THEN greatest(l.last_customer_message_at, v_at)
            ELSE l.last_customer_message_at END,
        booking_status = coalesce(v_booking_status, l.booking_status,
                                  CASE WHEN v_booking_date IS NOT NULL THEN 'pending' END),
        booking_date = coalesce(v_booking_date, l.booking_date),
        booking_time = coalesce(v_booking_time, l.booking_time),
        source_agent_id = coalesce(l.source_agent_id, v_agent),
        unified_context = jsonb_set(
            l.unified_context, '{web}',
            CASE WHEN jsonb_typeof(l.unified_context -> 'web') = 'object'
                 THEN l.unified_context -> 'web' ELSE '{}'::jsonb END
            || jsonb_strip_nulls(jsonb_build_object(
                'external_session_id', v_session_key,
                'website_url', p ->> 'website_url',
                'conversation_summary', p ->> 'conversation_summary',
                'user_inputs_summary', p ->> 'user_inputs_summary',
                'booking_status', v_booking_status,
                'booking_date', v_booking_date,
                'booking_time', to_char(v_booking_time, 'HH24:MI'),
                'last_interaction_at', v_at)))
    WHERE l.id = v_lead;

    -- Usage last: its row is shared by every delivery of the workspace. A new session is a
    -- conversation, a new stored message a message; nothing counted means nothing written.
    IF v_session_new OR v_conversation IS NOT NULL THEN
        SELECT u.conversations, u.conversation_limit INTO v_conversations, v_limit
        FROM add_usage(v_ws, v_at, CASE WHEN v_session_new THEN 1 ELSE 0 END,
                       CASE WHEN v_conversation IS NOT NULL THEN 1 ELSE 0 END) u;
    ELSE
        SELECT u.conversations, u.conversation_limit INTO v_conversations, v_limit
        FROM current_usage(v_ws, v_at) u;
    END IF;

    SELECT j.id, j.payload INTO v_job_id, v_job_payload
    FROM enqueue_score_lead(v_ws, v_lead, coalesce(p ->> 'reason', 'web_agent')) j;

    v_result := jsonb_build_object('lead_id', v_lead, 'session_id', v_session,
                                   'message_id', v_conversation, 'created', v_created);
    PERFORM journal_close('web_agent', v_event_key, v_ws, p_body, v_result);

    RETURN v_result || jsonb_build_object(
        'duplicate', false,
        'usage', web_agent_usage_json(v_conversations, v_limit),
        'conflicting_lead_ids', to_jsonb(v_conflicts),
        'job', jsonb_build_object('id', v_job_id, 'payload', v_job_payload));
END;
$$;
