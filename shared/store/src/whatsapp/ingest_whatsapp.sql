-- WhatsApp ingest: one verified Meta delivery journaled and applied in one call.
--
-- store::whatsapp parses the body in Rust (domain::whatsapp), computes what needs no
-- database (phone numbers in E.164, identities, intents, opt-out/opt-in keywords, JSON paths for
-- reasons) and hands the whole delivery to ingest_whatsapp() as one jsonb document, so the hot
-- path is one statement in one implicit transaction (docs/architecture.md §7.4: at most two round
-- trips, no per-row loops driven from Rust). Inside, every step is a set-based statement over
-- the whole batch; statements follow each other because each needs what the one before wrote
-- (resolve_lead creates leads that the conversation insert references, and only a later
-- statement sees rows written by a function called in an earlier one).
--
-- Input p:
--   changes:  [{idx, path, phone_number_id, messages, statuses}]   one per entry[].changes[]
--   messages: [{i, change, path, wamid, wa_id, phone, bsuid, name, at, kind, sender, content,
--               metadata, identities: [{kind, value}], intents: [{intent, confidence, matched}],
--               consent: 'opt_out'|'opt_in'|null}]                  only messages with an identity
--   statuses: [{i, change, path, wamid, status, at, metadata}]
--   reasons:  ["..."]  what Rust already knows cannot be mapped (JSON paths and codes only)
-- Returns {duplicate, event_id, workspace_id, messages_stored, statuses_matched,
--          statuses_updated, leads: [{lead_id, created}], jobs: [{id, queue, payload}],
--          usage: [...], reasons: [...]}.
--
-- Why each rule is here:
-- * The journal (journal/journal.sql). The body's hash is the journal key: Meta's retry of the
--   same body finds the committed row and changes nothing (twenty concurrent copies wait on the
--   key's lock, then find it). A row with processed_at NULL was journaled by the failure path
--   without its effects, so a retry, or the journal_replay job, processes it again.
-- * Every part that cannot be mapped (unknown phone_number_id, a status for a message we never
--   stored, and what Rust reported) is written to webhook_events.error as a reason that names
--   JSON paths, ids of our own and Meta's codes, never a phone number, name or message text.
-- * Messages dedupe on (workspace_id, channel, external_id) with ON CONFLICT DO NOTHING, so a
--   message delivered again in another batch is stored once and counted once.
-- * All identities of the batch are locked once, in a fixed order, before any lead is resolved
--   (lock_lead_identities, leads/identities.sql), so concurrent batches naming the same people cannot deadlock and
--   cannot create a person twice.
-- * Statuses only move forward (sent < delivered < read < played; failed is final), decided in
--   the UPDATE itself so a concurrent update re-evaluates against the row it waited for; each
--   status's details (pricing, conversation, errors) are kept under metadata.delivery.<status>.
--   Rows are locked in id order first so two batches of statuses cannot deadlock.
-- * Consent follows the customer's latest message: an opt-out or opt-in keyword older than one
--   already applied to the lead (audit_logs) is recorded but does not change opted_out_at.
-- * Usage: messages = conversation rows stored; conversations = customer-service windows opened
--   (a customer message at or after the session's window end, WhatsApp's own unit).
-- * One score_lead job per lead that got a new message, not one per message.
--
-- Locks, in the order they are taken, why each is needed and what it serialises:
-- 1. journal_open: an advisory lock on the body's hash. Copies of one body (Meta's retries)
--    apply once; serialises only copies of the same body.
-- 2. lock_lead_identities: one advisory lock per identity of the batch (wa_id, user id, phone),
--    workspace by workspace, sorted. Finding or creating a lead is check-then-insert; this makes
--    deliveries about the same person run one after the other. Two people never wait for each
--    other. The identity rows upserted by resolve_lead_identities are covered by these locks.
-- 3. Foreign-key checks of the inserts (messages, intents, sessions, identities): KEY SHARE on
--    the lead and workspace rows, which conflicts with nobody who does not delete them or change
--    a key: scoring holds leads FOR NO KEY UPDATE (scoring/lock.sql), so no insert here waits
--    for a scoring batch.
-- 4. The whatsapp_sessions row of each person and number (upsert): message_count and the window
--    are read-modify-write. Serialises one person's deliveries on one number, which 2 already did.
-- 5. The lead rows, FOR NO KEY UPDATE by the one UPDATE of step 5 (contact details, customer
--    activity and consent together: each lead is written once per delivery). Serialises
--    deliveries about one lead; waits for a scoring batch that holds it.
-- 6. One workspace_usage counter per workspace, FOR NO KEY UPDATE SKIP LOCKED (add_usage,
--    billing/usage.sql): never one that another transaction holds, so it serialises nothing.
-- 7. The outbox rows and the journal row are new rows.
-- 8. Statuses: our outgoing messages' conversations rows, FOR NO KEY UPDATE in id order (only
--    delivery_status and metadata change, never a key, so inserting an intent that references
--    a message never waits for it). Serialises status updates of the same messages.
--
-- Planner settings, for the whole call (the functions it calls included):
-- * SET enable_seqscan = off: as in ingest_web_agent (web_agent/ingest_web_agent.sql), every
--   lookup here has an index, and none may become a scan because statistics are stale or a plan
--   was cached while the tables were small.
-- * SET jit = off: also as in ingest_web_agent (a scan with no index to use keeps that setting's
--   cost penalty, and would be JIT-compiled on every call).
-- * SET enable_mergejoin = off, enable_hashjoin = off, enable_bitmapscan = off: a delivery is
--   a handful of rows (Meta batches a few dozen at most), and the planner, which guesses 100
--   rows for every jsonb_to_recordset, joined them to leads with a merge join that walked
--   leads_pkey from its start: every lead of the workspace read on each delivery (step 5 took
--   1.17 ms instead of 0.65 ms with 2,000 leads, and grew with the table). Nested loops over
--   index probes are the right plan for every join here at any table size, and a plain index
--   scan for every lookup (each returns a row or two; a bitmap scan is for many). With those
--   plans out of the running, the generic plan of each statement costs what the custom ones do,
--   so PostgreSQL keeps it after five calls instead of re-planning step 5 on every delivery as
--   it did (5.5 ms of planning per call at 16 connections). shared/store/tests/scale.rs checks
--   the buffers with 200,000 leads.

CREATE OR REPLACE FUNCTION ingest_whatsapp(p_event_key text, p_payload jsonb, p jsonb) RETURNS jsonb
LANGUAGE plpgsql
SET enable_seqscan = off
SET jit = off
SET enable_mergejoin = off
SET enable_hashjoin = off
SET enable_bitmapscan = off
AS $$
DECLARE
    v_event_id  uuid;
    v_changes   jsonb;
    v_reasons   jsonb := coalesce(p -> 'reasons', '[]'::jsonb);
    v_senders   jsonb;
    v_written   jsonb;
    v_usage     jsonb;
    v_jobs      jsonb;
    v_statuses  jsonb;
    v_workspace uuid;
BEGIN
    -- 1. The journal: copies of this body wait for each other; a processed one is a replay
    --    (journal/journal.sql). The row itself is written last, with the outcome.
    IF (SELECT j.replay FROM journal_open('whatsapp', p_event_key) j) THEN
        RETURN jsonb_build_object('duplicate', true);
    END IF;

    -- 2. Each change's workspace, from the number that received it, and the journal row's
    --    workspace: the one workspace of every mapped change, when there is exactly one.
    SELECT CASE WHEN count(DISTINCT wc.workspace_id) = 1
                THEN (array_agg(wc.workspace_id) FILTER (WHERE wc.workspace_id IS NOT NULL))[1] END,
           coalesce(jsonb_agg(jsonb_build_object('idx', c.idx, 'workspace_id', wc.workspace_id,
                                                 'phone_number_id', c.phone_number_id))
                    FILTER (WHERE wc.workspace_id IS NOT NULL), '[]'::jsonb),
           v_reasons || coalesce(jsonb_agg(to_jsonb(
               CASE WHEN c.phone_number_id IS NULL
                    THEN c.path || ': no metadata.phone_number_id; '
                    ELSE c.path || ': phone_number_id ' || c.phone_number_id
                         || ' is not a configured WhatsApp channel; '
               END || c.messages || ' message(s) and ' || c.statuses || ' status(es) not processed'))
               FILTER (WHERE wc.workspace_id IS NULL
                         AND (c.phone_number_id IS NOT NULL OR c.messages + c.statuses > 0)),
               '[]'::jsonb)
    INTO v_workspace, v_changes, v_reasons
    FROM jsonb_to_recordset(p -> 'changes') AS c (idx int, path text, phone_number_id text,
                                                  messages int, statuses int)
    LEFT JOIN whatsapp_channels wc ON wc.phone_number_id = c.phone_number_id;

    -- 3. Every identity of the batch, locked once, workspace by workspace in id order (within a
    --    workspace lock_lead_identities sorts), so the global lock order is fixed. A delivery of
    --    one message has one sender, whose identities resolve_lead_identities locks itself.
    IF jsonb_array_length(p -> 'messages') > 1 THEN
        PERFORM lock_lead_identities(l.workspace_id, l.identities)
        FROM (SELECT ch.workspace_id, jsonb_agg(DISTINCT i.identity) AS identities
              FROM jsonb_to_recordset(p -> 'messages') AS m (change int, identities jsonb)
              JOIN jsonb_to_recordset(v_changes) AS ch (idx int, workspace_id uuid) ON ch.idx = m.change
              CROSS JOIN LATERAL jsonb_array_elements(m.identities) AS i (identity)
              GROUP BY ch.workspace_id
              ORDER BY ch.workspace_id) l;
    END IF;


    -- 4. One lead per distinct sender of a message not stored yet (resolve_lead_identities: the
    --    lead's row itself is written once, in step 5, with its contact details) (checked after the locks, so
    --    a concurrent delivery of the same message has committed or not started). Senders are
    --    resolved in the order they first appear; a later sender that shares an identity with
    --    an earlier one (a user id first, then the same user id with a phone number) finds the
    --    lead the earlier one created.
    WITH m AS (
        SELECT DISTINCT ON (ch.workspace_id, m.wamid) m.*, ch.workspace_id
        FROM jsonb_to_recordset(p -> 'messages') AS m (i int, change int, wamid text, phone text,
                                                       wa_id text, name text, at timestamptz,
                                                       identities jsonb)
        JOIN jsonb_to_recordset(v_changes) AS ch (idx int, workspace_id uuid) ON ch.idx = m.change
        -- Not stored yet: a scalar subquery, which PostgreSQL runs per message as a probe of
        -- the (workspace_id, channel, external_id) key. Written as NOT EXISTS it became an anti
        -- join, and a generic plan cached while conversations was small materialised every
        -- WhatsApp conversation for it: 5,700 buffers per delivery once a workspace had 5,700
        -- messages (auto_explain, cargo bench -p whatsapp, 2026-12-07), the bench's slow
        -- empty-workspace phase.
        WHERE (SELECT c.id FROM conversations c
               WHERE c.workspace_id = ch.workspace_id AND c.channel = 'whatsapp'
                 AND c.external_id = m.wamid) IS NULL
        ORDER BY ch.workspace_id, m.wamid, m.i
    ), senders AS (
        SELECT workspace_id, identities, max(at) AS at, min(i) AS first,
               (array_agg(phone ORDER BY i) FILTER (WHERE phone IS NOT NULL))[1] AS phone,
               (array_agg(wa_id ORDER BY i) FILTER (WHERE phone IS NOT NULL))[1] AS phone_raw,
               (array_agg(name ORDER BY i) FILTER (WHERE name IS NOT NULL))[1] AS name
        FROM m
        GROUP BY workspace_id, identities
        ORDER BY first
    )
    SELECT coalesce(jsonb_agg(jsonb_build_object('workspace_id', s.workspace_id,
                                                 'identities', s.identities,
                                                 'lead_id', r.lead_id, 'created', r.created,
                                                 'first', s.first, 'at', s.at, 'name', s.name,
                                                 'phone', s.phone, 'phone_raw', s.phone_raw)
                              ORDER BY s.first),
                    '[]'::jsonb)
    INTO v_senders
    FROM senders s
    CROSS JOIN LATERAL resolve_lead_identities(s.workspace_id, s.identities, 'whatsapp', s.at,
                                               s.phone, s.phone_raw, NULL, s.name) r;

    -- 5. Messages, intents, sessions, consent and the leads' message times, in one statement.
    WITH sender AS (
        SELECT * FROM jsonb_to_recordset(v_senders) AS s (workspace_id uuid, identities jsonb,
                                                          lead_id uuid)
    ), m AS (
        SELECT DISTINCT ON (ch.workspace_id, m.wamid) m.*, ch.workspace_id, ch.phone_number_id,
               sender.lead_id
        FROM jsonb_to_recordset(p -> 'messages') AS m (i int, change int, wamid text, wa_id text,
                                                       bsuid text, name text, at timestamptz,
                                                       kind text, sender text, content text,
                                                       metadata jsonb, identities jsonb,
                                                       intents jsonb, consent text)
        JOIN jsonb_to_recordset(v_changes) AS ch (idx int, workspace_id uuid, phone_number_id text)
          ON ch.idx = m.change
        JOIN sender ON sender.workspace_id = ch.workspace_id AND sender.identities = m.identities
        ORDER BY ch.workspace_id, m.wamid, m.i
    ), stored AS (
        INSERT INTO conversations (workspace_id, lead_id, channel, sender, content, message_type,
                                   external_id, metadata, sent_at)
        SELECT workspace_id, lead_id, 'whatsapp', sender, content, kind, wamid, metadata, at
        FROM m
        ON CONFLICT (workspace_id, channel, external_id) DO NOTHING
        RETURNING id, workspace_id, external_id
    ), new AS (
        SELECT m.*, stored.id AS conversation_id
        FROM stored
        JOIN m ON m.workspace_id = stored.workspace_id AND m.wamid = stored.external_id
    ), intents AS (
        INSERT INTO lead_intents_log (lead_id, conversation_id, intent, confidence, matched)
        SELECT n.lead_id, n.conversation_id, h.intent, h.confidence, h.matched
        FROM new n
        CROSS JOIN LATERAL jsonb_to_recordset(n.intents) AS h (intent text, confidence real,
                                                               matched text)
        WHERE n.sender = 'customer'
        ON CONFLICT (conversation_id, intent) DO NOTHING
        RETURNING 1
    ), per_lead_session AS (
        -- A session is one person on one of our numbers; a person who wrote with a user id and
        -- then with a phone number is one lead, so sessions are grouped by lead first.
        SELECT n.workspace_id, n.phone_number_id, n.lead_id,
               count(*) AS messages,
               max(n.at) AS last_at,
               (array_agg(n.sender ORDER BY n.at DESC, n.i DESC))[1] AS last_from,
               (array_agg(n.content ORDER BY n.at DESC, n.i DESC))[1] AS last_content,
               min(n.at) FILTER (WHERE n.sender = 'customer') AS first_customer_at,
               max(n.at) FILTER (WHERE n.sender = 'customer') AS last_customer_at,
               (array_agg(n.wa_id ORDER BY n.at DESC, n.i DESC) FILTER (WHERE n.wa_id IS NOT NULL))[1] AS wa_id,
               (array_agg(n.bsuid ORDER BY n.at DESC, n.i DESC) FILTER (WHERE n.bsuid IS NOT NULL))[1] AS bsuid,
               (array_agg(n.name ORDER BY n.at DESC, n.i DESC) FILTER (WHERE n.name IS NOT NULL))[1] AS name
        FROM new n
        GROUP BY n.workspace_id, n.phone_number_id, n.lead_id
    ), keyed AS (
        -- The session row to continue: this lead's on this number, else one already keyed by
        -- the person's wa_id or user id; a new session is keyed by wa_id, else by user id.
        SELECT s.*, coalesce(ex.wa_id_or_bsuid, s.wa_id, s.bsuid) AS session_key,
               ex.window_expires_at AS open_until
        FROM per_lead_session s
        -- Separate lookups, each on its own index, rather than one with "lead OR key": an OR of
        -- the two cannot use either index and read every session of the workspace on the
        -- number (a 200,000-lead workspace made each delivery ten times slower).
        LEFT JOIN LATERAL (
            SELECT w.wa_id_or_bsuid, w.window_expires_at
            FROM ((SELECT o.wa_id_or_bsuid, o.window_expires_at, o.last_message_at, true AS own
                   FROM whatsapp_sessions o
                   -- By the lead, not the workspace (a lead id is one workspace's): the only
                   -- index this can probe is whatsapp_sessions_lead_idx. With the workspace
                   -- here too, a plan made from stale statistics probed (workspace, number) and
                   -- filtered every session on the number (scale.rs: 6,000 buffers).
                   WHERE o.lead_id = s.lead_id AND o.phone_number_id = s.phone_number_id
                   ORDER BY o.last_message_at DESC NULLS LAST
                   LIMIT 1)
                  UNION ALL
                  -- The key lookups, one equality each: "IN (wa_id, bsuid)" left the planner
                  -- free to probe (workspace, number) and filter on the key, which reads every
                  -- session on the number when a plan made on small tables is kept.
                  (SELECT k.wa_id_or_bsuid, k.window_expires_at, k.last_message_at,
                          k.lead_id = s.lead_id AS own
                   FROM whatsapp_sessions k
                   WHERE k.workspace_id = s.workspace_id AND k.phone_number_id = s.phone_number_id
                     AND k.wa_id_or_bsuid = s.wa_id)
                  UNION ALL
                  (SELECT k.wa_id_or_bsuid, k.window_expires_at, k.last_message_at,
                          k.lead_id = s.lead_id AS own
                   FROM whatsapp_sessions k
                   WHERE k.workspace_id = s.workspace_id AND k.phone_number_id = s.phone_number_id
                     AND k.wa_id_or_bsuid = s.bsuid)) w
            ORDER BY w.own DESC, w.last_message_at DESC NULLS LAST
            LIMIT 1
        ) ex ON true
    ), per_session AS (
        -- Two leads can only meet in one session row after an identity conflict; the session
        -- then follows the lead that wrote last.
        SELECT workspace_id, phone_number_id, session_key,
               (array_agg(lead_id ORDER BY last_at DESC))[1] AS lead_id,
               sum(messages)::int AS messages,
               max(last_at) AS last_at,
               (array_agg(last_from ORDER BY last_at DESC))[1] AS last_from,
               (array_agg(last_content ORDER BY last_at DESC))[1] AS last_content,
               max(last_customer_at) AS last_customer_at,
               (array_agg(wa_id ORDER BY last_at DESC) FILTER (WHERE wa_id IS NOT NULL))[1] AS wa_id,
               (array_agg(bsuid ORDER BY last_at DESC) FILTER (WHERE bsuid IS NOT NULL))[1] AS bsuid,
               (array_agg(name ORDER BY last_at DESC) FILTER (WHERE name IS NOT NULL))[1] AS name,
               -- A customer message at or after the end of the open window (or with none open)
               -- opens a new customer-service window: one conversation for usage.
               (min(first_customer_at) IS NOT NULL
                AND (min(open_until) IS NULL OR min(first_customer_at) >= min(open_until)))::int AS opened
        FROM keyed
        GROUP BY workspace_id, phone_number_id, session_key
    ), sessions AS (
        INSERT INTO whatsapp_sessions AS w (workspace_id, lead_id, phone_number_id, wa_id_or_bsuid,
                                            wa_id, user_id, profile_name, message_count,
                                            last_message_at, last_message_from,
                                            last_message_preview, window_expires_at)
        SELECT workspace_id, lead_id, phone_number_id, session_key, wa_id, bsuid, name, messages,
               last_at, last_from,
               -- A short preview for inbox lists: 100 characters, an ellipsis when cut.
               CASE WHEN length(last_content) > 100 THEN left(last_content, 99) || '…'
                    ELSE last_content END,
               last_customer_at + interval '24 hours'
        FROM per_session
        ON CONFLICT (workspace_id, phone_number_id, wa_id_or_bsuid) DO UPDATE SET
            lead_id = EXCLUDED.lead_id,
            wa_id = coalesce(EXCLUDED.wa_id, w.wa_id),
            user_id = coalesce(EXCLUDED.user_id, w.user_id),
            profile_name = coalesce(EXCLUDED.profile_name, w.profile_name),
            message_count = w.message_count + EXCLUDED.message_count,
            -- Out-of-order deliveries: an older message never replaces a newer one's summary.
            last_message_from = CASE WHEN w.last_message_at IS NULL
                                       OR EXCLUDED.last_message_at >= w.last_message_at
                                     THEN EXCLUDED.last_message_from ELSE w.last_message_from END,
            last_message_preview = CASE WHEN w.last_message_at IS NULL
                                          OR EXCLUDED.last_message_at >= w.last_message_at
                                        THEN EXCLUDED.last_message_preview
                                        ELSE w.last_message_preview END,
            last_message_at = greatest(w.last_message_at, EXCLUDED.last_message_at),
            window_expires_at = greatest(w.window_expires_at, EXCLUDED.window_expires_at)
        RETURNING w.id
    ), consent AS (
        -- A keyword is superseded by a later one in this batch or one already applied.
        SELECT n.*,
               (EXISTS (SELECT 1 FROM new later
                        WHERE later.lead_id = n.lead_id AND later.consent IS NOT NULL
                          AND later.sender = 'customer' AND (later.at, later.i) > (n.at, n.i))
                OR EXISTS (SELECT 1 FROM audit_logs a
                           WHERE a.entity_type = 'lead' AND a.entity_id = n.lead_id
                             AND a.event_type IN ('lead.opted_out', 'lead.opted_in')
                             AND (a.data ->> 'message_at')::timestamptz > n.at)) AS superseded
        FROM new n
        WHERE n.consent IS NOT NULL AND n.sender = 'customer'
    ), consent_audit AS (
        INSERT INTO audit_logs (workspace_id, actor, event_type, entity_type, entity_id, data)
        SELECT workspace_id, 'whatsapp',
               CASE consent WHEN 'opt_out' THEN 'lead.opted_out' ELSE 'lead.opted_in' END,
               'lead', lead_id,
               jsonb_build_object('channel', 'whatsapp', 'conversation_id', conversation_id,
                                  'message_at', at, 'superseded', superseded)
        FROM consent
        RETURNING 1
    ), per_lead AS (
        SELECT n.workspace_id, n.lead_id,
               max(n.at) FILTER (WHERE n.sender = 'customer') AS last_customer_at,
               (SELECT c.consent FROM consent c WHERE c.lead_id = n.lead_id AND NOT c.superseded) AS consent,
               (SELECT c.at FROM consent c WHERE c.lead_id = n.lead_id AND NOT c.superseded) AS consent_at
        FROM new n
        GROUP BY n.workspace_id, n.lead_id
    ), contact AS (
        -- What resolve_lead would fill (leads/resolve_lead.sql: fill what is empty, never
        -- overwrite, a phone already on another lead stays there), per lead: the first name and
        -- phone its senders gave, its latest message time. A lead created by this delivery
        -- already has them (or gets the phone a later sender of the batch gave).
        SELECT s.lead_id, s.workspace_id,
               (array_agg(s.name ORDER BY s.first) FILTER (WHERE s.name IS NOT NULL))[1] AS name,
               (array_agg(s.phone ORDER BY s.first) FILTER (WHERE s.phone IS NOT NULL))[1] AS phone,
               (array_agg(s.phone_raw ORDER BY s.first) FILTER (WHERE s.phone IS NOT NULL))[1] AS phone_raw,
               max(s.at) AS at
        FROM jsonb_to_recordset(v_senders) AS s (workspace_id uuid, lead_id uuid, first int,
                                                 at timestamptz, name text, phone text,
                                                 phone_raw text)
        GROUP BY s.lead_id, s.workspace_id
    ), leads_updated AS (
        UPDATE leads l SET
            name = coalesce(l.name, c.name),
            phone_e164 = CASE
                WHEN l.phone_e164 IS NULL AND c.phone IS NOT NULL AND NOT EXISTS (
                    SELECT 1 FROM leads o WHERE o.workspace_id = c.workspace_id AND o.phone_e164 = c.phone)
                THEN c.phone ELSE l.phone_e164 END,
            phone_raw = CASE WHEN l.phone_e164 IS NULL AND c.phone IS NOT NULL
                             THEN coalesce(c.phone_raw, l.phone_raw) ELSE l.phone_raw END,
            last_touchpoint = 'whatsapp',
            last_interaction_at = greatest(l.last_interaction_at, c.at),
            last_customer_message_at = greatest(l.last_customer_message_at, pl.last_customer_at),
            opted_out_at = CASE pl.consent
                               WHEN 'opt_out' THEN coalesce(l.opted_out_at, pl.consent_at)
                               WHEN 'opt_in' THEN NULL
                               ELSE l.opted_out_at END
        FROM contact c
        LEFT JOIN per_lead pl ON pl.lead_id = c.lead_id
        WHERE l.id = c.lead_id
        RETURNING l.id
    )
    SELECT jsonb_build_object(
        'messages_stored', (SELECT count(*) FROM new),
        'intents', (SELECT count(*) FROM intents),
        'sessions', (SELECT count(*) FROM sessions),
        'consent_changes', (SELECT count(*) FROM consent_audit),
        'leads_updated', (SELECT count(*) FROM leads_updated),
        'leads', (SELECT coalesce(jsonb_agg(jsonb_build_object(
                                                'workspace_id', pl.workspace_id,
                                                'lead_id', pl.lead_id,
                                                'created', coalesce(s.created, false))
                                            ORDER BY pl.lead_id), '[]'::jsonb)
                  FROM per_lead pl
                  LEFT JOIN LATERAL (SELECT bool_or(s.created) AS created
                                     FROM jsonb_to_recordset(v_senders) AS s (lead_id uuid,
                                                                              created boolean)
                                     WHERE s.lead_id = pl.lead_id) s ON true),
        'usage', (SELECT coalesce(jsonb_agg(jsonb_build_object('workspace_id', workspace_id,
                                                               'conversations', conversations,
                                                               'messages', messages)), '[]'::jsonb)
                  FROM (SELECT workspace_id, sum(opened)::int AS conversations,
                               sum(messages)::int AS messages
                        FROM per_session GROUP BY workspace_id) u))
    INTO v_written;

    -- 6. Usage counters, one atomic upsert per workspace (add_usage, billing/usage.sql), and
    -- 7. one score_lead job per lead that got a message (enqueue_score_lead, outbox/enqueue.sql),
    --    in one statement.
    SELECT (SELECT coalesce(jsonb_agg(jsonb_build_object('workspace_id', w.workspace_id,
                                                         'conversations', u.conversations,
                                                         'messages', u.messages,
                                                         'conversation_limit', u.conversation_limit)),
                            '[]'::jsonb)
            FROM jsonb_to_recordset(v_written -> 'usage') AS w (workspace_id uuid, conversations int,
                                                               messages int)
            CROSS JOIN LATERAL add_usage(w.workspace_id, now(), w.conversations, w.messages) u),
           (SELECT coalesce(jsonb_agg(jsonb_build_object('id', j.id, 'queue', 'scoring',
                                                         'payload', j.payload) ORDER BY j.id),
                            '[]'::jsonb)
            FROM jsonb_to_recordset(v_written -> 'leads') AS l (workspace_id uuid, lead_id uuid)
            CROSS JOIN LATERAL enqueue_score_lead(l.workspace_id, l.lead_id, 'whatsapp_message') j)
    INTO v_usage, v_jobs;

    -- 8. Statuses of our outgoing messages (none in a delivery of messages): lock the rows in id
    --    order (FOR NO KEY UPDATE: no key changes, so a foreign-key check against a message never
    --    waits), then move each forward.
    IF jsonb_array_length(p -> 'statuses') > 0 THEN
        PERFORM 1
        FROM conversations c
        WHERE c.id IN (
            SELECT c2.id
            FROM jsonb_to_recordset(p -> 'statuses') AS s (change int, wamid text)
            JOIN jsonb_to_recordset(v_changes) AS ch (idx int, workspace_id uuid) ON ch.idx = s.change
            JOIN conversations c2 ON c2.workspace_id = ch.workspace_id AND c2.channel = 'whatsapp'
                                 AND c2.external_id = s.wamid AND c2.sender <> 'customer')
        ORDER BY c.id
        FOR NO KEY UPDATE;

        WITH st AS (
            SELECT s.*, ch.workspace_id
            FROM jsonb_to_recordset(p -> 'statuses') AS s (i int, change int, path text, wamid text,
                                                           status text, at timestamptz, metadata jsonb)
            JOIN jsonb_to_recordset(v_changes) AS ch (idx int, workspace_id uuid) ON ch.idx = s.change
        ), matched AS (
            SELECT st.*, c.id AS conversation_id
            FROM st
            JOIN conversations c ON c.workspace_id = st.workspace_id AND c.channel = 'whatsapp'
                                AND c.external_id = st.wamid AND c.sender <> 'customer'
        ), per_message AS (
            SELECT conversation_id,
                   (array_agg(status ORDER BY delivery_status_rank(status) DESC, at DESC))[1] AS best,
                   jsonb_object_agg(status, metadata || jsonb_build_object('timestamp', at)
                                    ORDER BY at) AS details
            FROM matched
            GROUP BY conversation_id
        ), updated AS (
            UPDATE conversations c SET
                delivery_status = CASE
                    WHEN c.delivery_status IS DISTINCT FROM 'failed'
                     AND delivery_status_rank(pm.best) > delivery_status_rank(c.delivery_status)
                    THEN pm.best ELSE c.delivery_status END,
                metadata = jsonb_set(c.metadata, '{delivery}',
                                     coalesce(c.metadata -> 'delivery', '{}'::jsonb) || pm.details)
            FROM per_message pm
            WHERE c.id = pm.conversation_id
              AND ((c.delivery_status IS DISTINCT FROM 'failed'
                    AND delivery_status_rank(pm.best) > delivery_status_rank(c.delivery_status))
                   OR NOT coalesce(c.metadata -> 'delivery', '{}'::jsonb) @> pm.details)
            RETURNING c.id
        )
        SELECT jsonb_build_object(
            'matched', (SELECT count(*) FROM matched),
            'updated', (SELECT count(*) FROM updated),
            'reasons', (SELECT coalesce(jsonb_agg(to_jsonb(st.path || ': status ' || st.status
                                                           || ' matches no outgoing message we stored')
                                                  ORDER BY st.i), '[]'::jsonb)
                        FROM st
                        WHERE NOT EXISTS (SELECT 1 FROM matched WHERE matched.i = st.i)))
        INTO v_statuses;
        v_reasons := v_reasons || (v_statuses -> 'reasons');
    END IF;

    -- 9. The journal row is complete: its workspace (step 2) and why any part was not applied.
    v_event_id := journal_close('whatsapp', p_event_key, v_workspace, p_payload,
                                jsonb_build_object('applied', true),
                                (SELECT string_agg(r, '; ') FROM jsonb_array_elements_text(v_reasons) AS r));

    RETURN jsonb_build_object(
        'duplicate', false,
        'event_id', v_event_id,
        'workspace_id', v_workspace,
        'messages_stored', v_written -> 'messages_stored',
        'statuses_matched', coalesce(v_statuses -> 'matched', '0'),
        'statuses_updated', coalesce(v_statuses -> 'updated', '0'),
        'leads', v_written -> 'leads',
        'jobs', v_jobs,
        'usage', v_usage,
        'reasons', v_reasons);
END;
$$;
