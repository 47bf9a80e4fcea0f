-- Finds or creates the lead for a set of identities and attaches every identity to it.
-- Returns the lead, whether it was created, and the other leads that already owned one of the
-- identities (a conflict: recorded in audit_logs for a person to decide, never merged silently).
-- p_identities: [{"kind": "phone"|"email"|"whatsapp_id"|"whatsapp_bsuid"|"web_session", "value": "..."}]
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
LANGUAGE plpgsql AS $$
BEGIN
    IF jsonb_array_length(p_identities) = 0 THEN
        RAISE EXCEPTION 'resolve_lead needs at least one identity' USING ERRCODE = 'invalid_parameter_value';
    END IF;
    PERFORM lock_lead_identities(p_workspace_id, p_identities);

    -- A lead whose phone_e164 is this number but that has no phone identity (a person or an
    -- import may set the column alone) adopts it first. Found by identity only, it would be
    -- missed, and a second lead with the same number would be refused by the unique index
    -- leads_workspace_phone_key: an error instead of the person's lead.
    INSERT INTO lead_identities (workspace_id, kind, value, lead_id, first_seen_at, last_seen_at)
    SELECT p_workspace_id, 'phone', l.phone_e164, l.id, p_at, p_at
    FROM jsonb_to_recordset(p_identities) AS i (kind text, value text)
    JOIN leads l ON l.workspace_id = p_workspace_id AND l.phone_e164 = i.value
    WHERE i.kind = 'phone'
    ON CONFLICT (workspace_id, kind, value) DO NOTHING;

    -- An email that is already an identity is not used as a contact detail: when it belongs to
    -- another lead (a conflict) copying it into this lead's empty email column would be a silent
    -- half-merge; when it belongs to this lead, the column already had its chance to be filled.
    IF p_email IS NOT NULL AND EXISTS (
        SELECT 1 FROM lead_identities li
        WHERE li.workspace_id = p_workspace_id AND li.kind = 'email' AND li.value = p_email) THEN
        p_email := NULL;
    END IF;

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
