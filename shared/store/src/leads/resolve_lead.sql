-- Lead resolution: the one way every channel finds (or creates) the person behind a delivery.
--
-- Two functions:
-- - resolve_lead_identities: finds or creates the lead and attaches the identities. It does not
--   update an existing lead's row, so a channel that writes that row anyway (ingest_web_agent)
--   folds the contact details into its own single UPDATE instead of writing the row twice.
-- - resolve_lead: the above, then the contact details (the function the other channels call).
--
-- Locks (in this order; callers take the journal key's lock before, and row locks after):
-- 1. one transaction-scoped advisory lock per identity (lock_lead_identities, sorted). Why: the
--    lookup below and the insert of a new lead are check-then-insert; the lock makes two
--    deliveries that name the same identity (the same phone, email, session) run one after the
--    other, so the second finds the lead the first created instead of creating another (which
--    the unique keys would refuse with an error). It serialises only deliveries naming a common
--    identity, that is the same person: two people in one workspace never wait for each other.
-- 2. the identity rows' own row locks (the attach upsert), only ever for the identities already
--    locked in 1, so nobody else can be waiting for them.
-- 3. the FK check of the identities against leads takes KEY SHARE on the lead row, which does
--    not conflict with scoring's FOR NO KEY UPDATE (scoring/lock.sql).
--
-- Plans: every identity is looked up by the full primary key (workspace_id, kind, value), one
-- probe per identity, in a LATERAL subquery with LIMIT 1. The LIMIT keeps the planner from
-- flattening the subquery into a join, which it could then plan as a hash join over a scan of
-- the workspace's identities; and SET enable_seqscan = off prices a scan out, because the
-- planner picks one for a table its statistics say is small (a plan cached on a connection
-- while the table was empty stays cached as it grows). So each probe is a primary-key lookup
-- whatever the statistics say (shared/store/tests/scale.rs). SET jit = off with it, as in
-- ingest_web_agent (web_agent/ingest_web_agent.sql): that cost penalty must never make an
-- index lookup worth compiling.

-- Finds or creates the lead for a set of identities and attaches every identity to it.
-- Returns the lead, whether it was created, the other leads that already owned one of the
-- identities (a conflict: recorded in audit_logs for a person to decide, never merged silently),
-- and whether the email was already an identity (then it is not used as a contact detail: when
-- it belongs to another lead, copying it into this lead's empty email column would be a silent
-- half-merge; when it belongs to this lead, the column already had its chance to be filled).
-- p_identities: [{"kind": "phone"|"email"|"whatsapp_id"|"whatsapp_bsuid"|"web_session", "value": "..."}]
CREATE OR REPLACE FUNCTION resolve_lead_identities(
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
    OUT conflicting_lead_ids uuid[],
    OUT email_known boolean
)
LANGUAGE plpgsql
SET enable_seqscan = off
SET jit = off
AS $$
DECLARE
    v_kinds   text[];
    v_owners  uuid[];
    v_adopted uuid;
BEGIN
    IF jsonb_array_length(p_identities) = 0 THEN
        RAISE EXCEPTION 'resolve_lead needs at least one identity' USING ERRCODE = 'invalid_parameter_value';
    END IF;
    PERFORM lock_lead_identities(p_workspace_id, p_identities);

    -- The identities already known and their leads, strongest first: one read answers which
    -- lead this is, whether the email is known, and which other leads are in conflict.
    SELECT array_agg(k.kind ORDER BY lead_identity_rank(k.kind), k.first_seen_at),
           array_agg(k.lead_id ORDER BY lead_identity_rank(k.kind), k.first_seen_at)
    INTO v_kinds, v_owners
    FROM (SELECT DISTINCT i.kind, i.value
          FROM jsonb_to_recordset(p_identities) AS i (kind text, value text)) i
    CROSS JOIN LATERAL (
        SELECT li.kind, li.lead_id, li.first_seen_at
        FROM lead_identities li
        WHERE li.workspace_id = p_workspace_id AND li.kind = i.kind AND li.value = i.value
        LIMIT 1
    ) k;
    v_kinds := coalesce(v_kinds, '{}');
    v_owners := coalesce(v_owners, '{}');

    -- A lead whose phone_e164 is this number but that has no phone identity (a person or an
    -- import may set the column alone) adopts it first. Found by identity only, it would be
    -- missed, and a second lead with the same number would be refused by the unique index
    -- leads_workspace_phone_key: an error instead of the person's lead. Skipped when the phone
    -- is already an identity (every returning person), so it costs nothing on that path.
    IF NOT ('phone' = ANY (v_kinds)) AND p_identities @> '[{"kind": "phone"}]' THEN
        WITH adopted AS (
            INSERT INTO lead_identities (workspace_id, kind, value, lead_id, first_seen_at, last_seen_at)
            SELECT p_workspace_id, 'phone', l.phone_e164, l.id, p_at, p_at
            FROM jsonb_to_recordset(p_identities) AS i (kind text, value text)
            CROSS JOIN LATERAL (
                SELECT o.id, o.phone_e164 FROM leads o
                WHERE o.workspace_id = p_workspace_id AND o.phone_e164 = i.value
                LIMIT 1
            ) l
            WHERE i.kind = 'phone'
            ON CONFLICT (workspace_id, kind, value) DO NOTHING
            RETURNING lead_identities.lead_id
        )
        SELECT a.lead_id INTO v_adopted FROM adopted a LIMIT 1;
        IF v_adopted IS NOT NULL THEN
            -- A phone is the strongest identity: its lead comes first.
            v_kinds := 'phone'::text || v_kinds;
            v_owners := v_adopted || v_owners;
        END IF;
    END IF;

    lead_id := v_owners[1];
    email_known := 'email' = ANY (v_kinds);
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
    SELECT DISTINCT ON (i.kind, i.value) p_workspace_id, i.kind, i.value, resolve_lead_identities.lead_id, p_at, p_at
    FROM jsonb_to_recordset(p_identities) AS i (kind text, value text)
    ON CONFLICT (workspace_id, kind, value) DO UPDATE
        SET last_seen_at = greatest(li.last_seen_at, EXCLUDED.last_seen_at)
        WHERE li.lead_id = EXCLUDED.lead_id;

    -- Identities known before and owned by another lead: no new read (the locks of step 1 mean
    -- nobody else changed them meanwhile).
    conflicting_lead_ids := ARRAY(SELECT DISTINCT o FROM unnest(v_owners) AS o
                                  WHERE o <> resolve_lead_identities.lead_id ORDER BY 1);

    IF cardinality(conflicting_lead_ids) > 0 THEN
        INSERT INTO audit_logs (workspace_id, actor, event_type, entity_type, entity_id, data)
        VALUES (p_workspace_id, 'system', 'lead.identity_conflict', 'lead', lead_id,
                jsonb_build_object(
                    'kept_lead_id', lead_id,
                    'other_lead_ids', to_jsonb(conflicting_lead_ids),
                    -- Kinds only: identity values are personal data.
                    'kinds', (SELECT jsonb_agg(DISTINCT x.kind)
                              FROM unnest(v_kinds, v_owners) AS x (kind, owner)
                              WHERE x.owner <> resolve_lead_identities.lead_id)));
    END IF;
END;
$$;

-- Finds or creates the lead for a set of identities (resolve_lead_identities), then fills the
-- existing lead's empty contact details. Returns the lead, whether it was created, and the
-- other leads that already owned one of the identities.
--
-- Lock: the lead row, FOR NO KEY UPDATE (the UPDATE changes no key column), held to commit.
-- It serialises deliveries about the same lead (already serialised by the identity locks when
-- they share an identity) and waits for a scoring batch that holds the lead (scoring/lock.sql).
CREATE OR REPLACE FUNCTION resolve_lead(
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
LANGUAGE plpgsql
SET enable_seqscan = off
SET jit = off
AS $$
DECLARE
    v_email_known boolean;
BEGIN
    SELECT r.lead_id, r.created, r.conflicting_lead_ids, r.email_known
    INTO lead_id, created, conflicting_lead_ids, v_email_known
    FROM resolve_lead_identities(p_workspace_id, p_identities, p_touchpoint, p_at, p_phone_e164,
                                 p_phone_raw, p_email, p_name) r;

    -- Contact details fill what is empty; they never overwrite what a person or an earlier
    -- message gave. A phone already on another lead stays there (the unique index on
    -- leads(workspace_id, phone_e164) would refuse it). ingest_web_agent's UPDATE of the lead
    -- applies the same rules (web_agent/ingest_web_agent.sql).
    IF NOT created THEN
        UPDATE leads l
        SET name = coalesce(l.name, p_name),
            email = coalesce(l.email, CASE WHEN NOT v_email_known THEN p_email END),
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
