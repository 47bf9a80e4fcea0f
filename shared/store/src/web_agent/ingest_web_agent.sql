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
-- Locks, in the order they are taken (a fixed order, so deliveries running at once can wait for
-- each other but never deadlock), with why each is needed and what it serialises:
-- 1. journal_open: an advisory lock on the journal key (workspace + client message_id). Why:
--    copies of one delivery (a client's retry racing the original) must apply once; the second
--    copy waits, then finds the journal row and is answered from it. Serialises only copies of
--    the same message_id.
-- 2. resolve_lead_identities: one advisory lock per identity (phone, email, web session),
--    sorted. Why: finding or creating the lead is check-then-insert; the lock makes two
--    deliveries naming the same identity run one after the other, so one person never becomes
--    two leads. Serialises only deliveries about the same person (or the same chat session);
--    two people of one workspace never wait for each other. The identity rows it upserts are
--    covered by these locks.
-- 3. Inserting the message, intents and identities checks their foreign keys: KEY SHARE on the
--    lead and workspace rows, which conflicts with nobody who does not delete them or change
--    their keys (scoring locks leads FOR NO KEY UPDATE: scoring/lock.sql).
-- 4. The web_sessions row (upsert on (workspace_id, external_session_id), a no-key update of an
--    existing row). Why: message_count and the session's facts are read-modify-write. Serialises
--    deliveries of one chat session, which 2 already serialised through the web_session identity.
-- 5. The lead row, FOR NO KEY UPDATE by the one UPDATE below (contact details and web facts
--    together: the row is written once per delivery). Why: the same read-modify-write on the
--    lead's facts. Serialises deliveries about one lead, and waits for a scoring batch holding
--    the lead (a short transaction); never blocks a foreign-key check.
-- 6. One workspace_usage counter, FOR NO KEY UPDATE SKIP LOCKED (add_usage, billing/usage.sql):
--    a counter no other transaction holds, so it serialises nothing.
-- 7. The outbox and journal rows are new rows (the journal's unique key is already covered by 1).
--
-- Statements: the journal lock and its read (2), lead resolution (lock, one primary-key read of
-- the identities, the identity upsert; the lead insert for a new person), the message, intents
-- and session in one statement, the lead update, usage (one statement in the usual case), and
-- the outbox job with the journal row in one statement. A replay stops after the journal read
-- and a usage read.

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
--
-- SET enable_seqscan = off: every lookup of the ingest (identities, lead, session, message,
-- journal, usage) has an index that answers it in a few buffers, and none may become a scan of
-- a workspace's rows because the planner's statistics are stale, or because the plan was cached
-- on this connection while the table was small (PostgreSQL has no hints, and no query shape
-- stops it from scanning a table it believes tiny). With scans priced out, every lookup uses
-- its index from any statistics; shared/store/tests/scale.rs checks the plans and the buffers
-- with 200,000 leads and statistics that say the tables are empty.
--
-- SET jit = off: a scan that has no index to use instead (a one-row table, say) keeps the
-- penalty enable_seqscan = off adds to its cost, which puts the statement far above
-- jit_above_cost; PostgreSQL then JIT-compiled that statement on every call (measured: 650 ms
-- of a delivery in the shared ingest bench, the p99 of a whole run). An ingest is a few
-- index lookups; JIT never pays for itself here.
CREATE OR REPLACE FUNCTION ingest_web_agent(p jsonb, p_body jsonb) RETURNS jsonb
LANGUAGE plpgsql
SET enable_seqscan = off
SET jit = off
AS $$
DECLARE
    v_at             timestamptz := now();
    v_ws             uuid := (p ->> 'workspace_id')::uuid;
    v_message_id     text := p ->> 'message_id';
    v_session_key    text := p ->> 'external_session_id';
    v_phone          text := p ->> 'phone_e164';
    v_email          text := p ->> 'email';
    v_name           text := p ->> 'name';
    v_message        text := p ->> 'message';
    v_sender         text := p ->> 'sender';
    v_agent          uuid := (p ->> 'agent_id')::uuid;
    v_metadata       jsonb := CASE WHEN jsonb_typeof(p -> 'metadata') = 'object' THEN p -> 'metadata' END;
    v_booking_status text := p #>> '{booking,status}';
    v_booking_date   date := (p #>> '{booking,date}')::date;
    v_booking_time   time := (p #>> '{booking,time}')::time;
    v_event_key      text := p ->> 'event_key';
    v_journal        record;
    v_lead           uuid;
    v_created        boolean;
    v_conflicts      uuid[];
    v_email_known    boolean;
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
    -- journal with the same ids and writes nothing but a usage read (journal/journal.sql).
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
    -- by resolve_lead_identities in audit_logs, never merged. The identities are built as an
    -- expression (no query); the lead's row is written once, by the UPDATE further down.
    SELECT r.lead_id, r.created, r.conflicting_lead_ids, r.email_known
    INTO v_lead, v_created, v_conflicts, v_email_known
    FROM resolve_lead_identities(
        v_ws,
        jsonb_path_query_array(
            jsonb_build_array(jsonb_build_object('kind', 'phone', 'value', v_phone),
                              jsonb_build_object('kind', 'email', 'value', v_email),
                              jsonb_build_object('kind', 'web_session', 'value', v_session_key)),
            '$[*] ? (@.value != null)'),
        'web', v_at, v_phone, p ->> 'phone_raw', v_email, v_name) r;

    -- The message (once per message_id: the journal already guarantees it, the unique key is
    -- the database's own guard), its intents (detected by the caller, domain::intent::detect,
    -- in customer text only) and the chat session, in one statement. A session already linked
    -- to another lead (a conflict) keeps its lead: moving it would be the silent merge
    -- resolve_lead refuses to do.
    WITH stored AS (
        INSERT INTO conversations (workspace_id, lead_id, channel, sender, content, message_type,
                                   external_id, metadata, sent_at, received_at)
        SELECT v_ws, v_lead, 'web', v_sender, v_message, 'text', v_message_id,
               jsonb_strip_nulls(jsonb_build_object('external_session_id', v_session_key,
                                                    'metadata', v_metadata)),
               v_at, v_at
        WHERE v_message IS NOT NULL
        ON CONFLICT (workspace_id, channel, external_id) DO NOTHING
        RETURNING id
    ), intents AS (
        INSERT INTO lead_intents_log (lead_id, conversation_id, intent, confidence, matched, created_at)
        SELECT v_lead, stored.id, i.intent, i.confidence, i.matched, v_at
        FROM stored
        CROSS JOIN jsonb_to_recordset(coalesce(p -> 'intents', '[]'::jsonb))
             AS i (intent text, confidence real, matched text)
        WHERE v_sender = 'customer'
        ON CONFLICT (conversation_id, intent) DO NOTHING
    ), session AS (
        INSERT INTO web_sessions AS s (workspace_id, lead_id, external_session_id, website_url,
                                       conversation_summary, user_inputs_summary, booking_status,
                                       booking_date, booking_time, message_count, last_message_at,
                                       channel_data)
        SELECT v_ws, v_lead, v_session_key, p ->> 'website_url',
               p ->> 'conversation_summary', p ->> 'user_inputs_summary',
               coalesce(v_booking_status, CASE WHEN v_booking_date IS NOT NULL THEN 'pending' END),
               v_booking_date, v_booking_time,
               (SELECT count(*)::int FROM stored),
               CASE WHEN EXISTS (SELECT 1 FROM stored) THEN v_at END,
               CASE WHEN v_metadata IS NOT NULL THEN jsonb_build_object('metadata', v_metadata) ELSE '{}'::jsonb END
        WHERE v_session_key IS NOT NULL
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
        RETURNING s.id, (s.xmax = 0) AS inserted
    )
    SELECT (SELECT stored.id FROM stored), session.id, coalesce(session.inserted, false)
    INTO v_conversation, v_session, v_session_new
    FROM (SELECT 1) one
    LEFT JOIN session ON true;

    -- The lead, written once: the contact details resolve_lead would fill (the same rules as
    -- resolve_lead in leads/resolve_lead.sql: fill what is empty, never overwrite, a phone
    -- already on another lead stays there) and what only this channel knows: customer activity,
    -- booking, source agent, and the web facts in unified_context, merged so that an absent
    -- field never erases a stored one.
    UPDATE leads l SET
        name = coalesce(l.name, v_name),
        email = coalesce(l.email, CASE WHEN NOT v_email_known THEN v_email END),
        phone_e164 = CASE
            WHEN l.phone_e164 IS NULL AND v_phone IS NOT NULL AND NOT EXISTS (
                SELECT 1 FROM leads o WHERE o.workspace_id = v_ws AND o.phone_e164 = v_phone)
            THEN v_phone ELSE l.phone_e164 END,
        phone_raw = CASE WHEN l.phone_e164 IS NULL AND v_phone IS NOT NULL
                         THEN coalesce(p ->> 'phone_raw', l.phone_raw) ELSE l.phone_raw END,
        last_touchpoint = 'web',
        last_interaction_at = greatest(l.last_interaction_at, v_at),
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

    -- Usage: a new session is a conversation, a new stored message a message; nothing counted
    -- means nothing written. add_usage never waits for another delivery (billing/usage.sql).
    IF v_session_new OR v_conversation IS NOT NULL THEN
        SELECT u.conversations, u.conversation_limit INTO v_conversations, v_limit
        FROM add_usage(v_ws, v_at, CASE WHEN v_session_new THEN 1 ELSE 0 END,
                       CASE WHEN v_conversation IS NOT NULL THEN 1 ELSE 0 END) u;
    ELSE
        SELECT u.conversations, u.conversation_limit INTO v_conversations, v_limit
        FROM current_usage(v_ws, v_at) u;
    END IF;

    -- The score_lead job and the journal row, in one statement.
    v_result := jsonb_build_object('lead_id', v_lead, 'session_id', v_session,
                                   'message_id', v_conversation, 'created', v_created);
    SELECT j.id, j.payload INTO v_job_id, v_job_payload
    FROM enqueue_score_lead(v_ws, v_lead, coalesce(p ->> 'reason', 'web_agent')) j
    CROSS JOIN LATERAL journal_close('web_agent', v_event_key, v_ws, p_body, v_result) c;

    RETURN v_result || jsonb_build_object(
        'duplicate', false,
        'usage', web_agent_usage_json(v_conversations, v_limit),
        'conflicting_lead_ids', to_jsonb(v_conflicts),
        'job', jsonb_build_object('id', v_job_id, 'payload', v_job_payload));
END;
$$;
