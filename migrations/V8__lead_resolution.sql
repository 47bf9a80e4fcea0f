-- Lead resolution and usage metering, shared by every inbound channel (web agent, WhatsApp).
--
-- A person is found by any of their identities (phone, email, WhatsApp id, WhatsApp business-
-- scoped user id, web session). The primary key of lead_identities is what makes "one lead per
-- person per workspace" hold; the advisory locks below only serialise concurrent deliveries that
-- name the same identities, so the lookup inside resolve_lead can never race another delivery
-- into creating a second lead (which the unique keys would then refuse).

-- Strength of an identity when two of them point at different leads: the strongest wins.
CREATE FUNCTION lead_identity_rank(kind text) RETURNS integer
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS $$
    SELECT CASE kind
        WHEN 'phone' THEN 1 WHEN 'whatsapp_id' THEN 2 WHEN 'whatsapp_bsuid' THEN 3
        WHEN 'email' THEN 4 WHEN 'web_session' THEN 5 ELSE 99 END
$$;

-- Takes a transaction-scoped advisory lock per identity, in a fixed order so that two
-- transactions locking overlapping sets cannot deadlock. A caller that resolves several leads
-- in one transaction (a WhatsApp batch) calls this once with every identity first.
-- p_identities: [{"kind": "...", "value": "..."}, ...]
CREATE FUNCTION lock_lead_identities(p_workspace_id uuid, p_identities jsonb) RETURNS void
LANGUAGE sql AS $$
    SELECT count(pg_advisory_xact_lock(h))::int * 0
    FROM (
        SELECT DISTINCT hashtextextended(p_workspace_id::text || '/' || (i ->> 'kind') || '/' || (i ->> 'value'), 0) AS h
        FROM jsonb_array_elements(p_identities) AS i
        ORDER BY 1
    ) locks
$$;

-- Finds or creates the lead for a set of identities and attaches every identity to it.
-- Returns the lead, whether it was created, and the other leads that already owned one of the
-- identities (a conflict: recorded in audit_logs for a person to decide, never merged silently).
-- p_identities: [{"kind": "phone"|"email"|"whatsapp_id"|"whatsapp_bsuid"|"web_session", "value": "..."}]
CREATE FUNCTION resolve_lead(
    p_workspace_id uuid,
    p_identities jsonb,
    p_touchpoint text,
    p_at timestamptz,
    p_phone_e164 text DEFAULT NULL,
    p_phone_raw text DEFAULT NULL,
    p_email text DEFAULT NULL,
    p_name text DEFAULT NULL,
    OUT lead_id uuid,
    OUT created boolean,
    OUT conflicting_lead_ids uuid[]
)
LANGUAGE plpgsql AS $$
BEGIN
    IF jsonb_array_length(p_identities) = 0 THEN
        RAISE EXCEPTION 'resolve_lead needs at least one identity' USING ERRCODE = 'invalid_parameter_value';
    END IF;
    PERFORM lock_lead_identities(p_workspace_id, p_identities);

    -- The lead of the strongest identity already known.
    SELECT li.lead_id INTO lead_id
    FROM jsonb_to_recordset(p_identities) AS i (kind text, value text)
    JOIN lead_identities li
      ON li.workspace_id = p_workspace_id AND li.kind = i.kind AND li.value = i.value
    ORDER BY lead_identity_rank(i.kind), li.first_seen_at
    LIMIT 1;

    created := lead_id IS NULL;
    IF created THEN
        INSERT INTO leads (workspace_id, name, email, phone_raw, phone_e164,
                           first_touchpoint, last_touchpoint, last_interaction_at)
        VALUES (p_workspace_id, p_name, p_email, p_phone_raw, p_phone_e164,
                p_touchpoint, p_touchpoint, p_at)
        RETURNING id INTO lead_id;
    END IF;

    -- Attach every identity: new ones to this lead, known ones of this lead get seen again.
    -- Identities owned by another lead are left with it (a conflict).
    INSERT INTO lead_identities AS li (workspace_id, kind, value, lead_id, first_seen_at, last_seen_at)
    SELECT DISTINCT ON (i.kind, i.value) p_workspace_id, i.kind, i.value, resolve_lead.lead_id, p_at, p_at
    FROM jsonb_to_recordset(p_identities) AS i (kind text, value text)
    ON CONFLICT (workspace_id, kind, value) DO UPDATE
        SET last_seen_at = greatest(li.last_seen_at, EXCLUDED.last_seen_at)
        WHERE li.lead_id = EXCLUDED.lead_id;

    SELECT coalesce(array_agg(DISTINCT li.lead_id), '{}') INTO conflicting_lead_ids
    FROM jsonb_to_recordset(p_identities) AS i (kind text, value text)
    JOIN lead_identities li
      ON li.workspace_id = p_workspace_id AND li.kind = i.kind AND li.value = i.value
    WHERE li.lead_id <> resolve_lead.lead_id;

    IF cardinality(conflicting_lead_ids) > 0 THEN
        INSERT INTO audit_logs (workspace_id, actor, event_type, entity_type, entity_id, data)
        VALUES (p_workspace_id, 'system', 'lead.identity_conflict', 'lead', lead_id,
                jsonb_build_object(
                    'kept_lead_id', lead_id,
                    'other_lead_ids', to_jsonb(conflicting_lead_ids),
                    -- Kinds only: identity values are personal data.
                    'kinds', (SELECT jsonb_agg(DISTINCT i.kind)
                              FROM jsonb_to_recordset(p_identities) AS i (kind text, value text)
                              JOIN lead_identities li
                                ON li.workspace_id = p_workspace_id AND li.kind = i.kind AND li.value = i.value
                              WHERE li.lead_id <> resolve_lead.lead_id)));
    END IF;

    -- Contact details fill what is empty; they never overwrite what a person or an earlier
    -- message gave. A phone already on another lead stays there (the unique index on
    -- leads(workspace_id, phone_e164) would refuse it).
    IF NOT created THEN
        UPDATE leads l
        SET name = coalesce(l.name, p_name),
            email = coalesce(l.email, p_email),
            phone_e164 = CASE
                WHEN l.phone_e164 IS NULL AND p_phone_e164 IS NOT NULL AND NOT EXISTS (
                    SELECT 1 FROM leads o
                    WHERE o.workspace_id = p_workspace_id AND o.phone_e164 = p_phone_e164)
                THEN p_phone_e164 ELSE l.phone_e164 END,
            phone_raw = CASE WHEN l.phone_e164 IS NULL AND p_phone_e164 IS NOT NULL
                             THEN coalesce(p_phone_raw, l.phone_raw) ELSE l.phone_raw END,
            last_touchpoint = p_touchpoint,
            last_interaction_at = greatest(l.last_interaction_at, p_at)
        WHERE l.id = lead_id;
    END IF;
END;
$$;

-- The billing period a moment belongs to: the subscription's current period when it covers
-- the moment, else the calendar month (UTC).
CREATE FUNCTION usage_period(p_workspace_id uuid, p_at timestamptz,
                             OUT period_start timestamptz, OUT period_end timestamptz)
LANGUAGE sql STABLE AS $$
    SELECT coalesce(s.current_period_start, date_trunc('month', p_at AT TIME ZONE 'UTC') AT TIME ZONE 'UTC'),
           coalesce(s.current_period_end, (date_trunc('month', p_at AT TIME ZONE 'UTC') + interval '1 month') AT TIME ZONE 'UTC')
    FROM (SELECT 1) one
    LEFT JOIN workspace_subscriptions s
      ON s.workspace_id = p_workspace_id
     AND s.current_period_start <= p_at AND p_at < s.current_period_end
$$;

-- Adds to a workspace's usage in the period of p_at in one atomic upsert, and returns the
-- period's totals with the plan's conversation limit (NULL = unlimited).
CREATE FUNCTION add_usage(p_workspace_id uuid, p_at timestamptz,
                          p_conversations integer, p_messages integer, p_tokens bigint DEFAULT 0,
                          OUT conversations integer, OUT messages integer,
                          OUT conversation_limit integer)
LANGUAGE sql AS $$
    WITH period AS (SELECT * FROM usage_period(p_workspace_id, p_at)),
    upserted AS (
        INSERT INTO workspace_usage AS u (workspace_id, period_start, period_end, conversations, messages, tokens_used)
        SELECT p_workspace_id, period.period_start, period.period_end, p_conversations, p_messages, p_tokens
        FROM period
        ON CONFLICT (workspace_id, period_start) DO UPDATE
            SET conversations = u.conversations + EXCLUDED.conversations,
                messages = u.messages + EXCLUDED.messages,
                tokens_used = u.tokens_used + EXCLUDED.tokens_used
        RETURNING u.conversations, u.messages
    )
    SELECT upserted.conversations, upserted.messages,
           (SELECT p.conversation_limit FROM workspaces w
            JOIN pricing_plans p ON p.id = coalesce(
                (SELECT s.plan_id FROM workspace_subscriptions s
                 WHERE s.workspace_id = w.id AND s.status IN ('trialing', 'active', 'past_due')),
                w.plan_id)
            WHERE w.id = p_workspace_id)
    FROM upserted
$$;

-- The versioned score_lead job body (domain::jobs::Job, version 1), written to the outbox.
CREATE FUNCTION enqueue_score_lead(p_workspace_id uuid, p_lead_id uuid, p_reason text,
                                   OUT id bigint, OUT payload jsonb)
LANGUAGE sql AS $$
    INSERT INTO outbox (queue, payload)
    VALUES ('scoring', jsonb_build_object('v', 1, 'kind', 'score_lead',
            'workspace_id', p_workspace_id, 'lead_id', p_lead_id, 'reason', p_reason))
    RETURNING id, payload
$$;
