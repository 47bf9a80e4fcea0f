-- Stage overrides for people, and the cold_leads rule.
--
-- Dashboards call set_lead_stage_override / clear_lead_stage_override directly (Supabase RPC
-- style), so the rules live here, next to the rows they protect: valid stages only, sub-stages
-- only under High Intent, the member must belong to the lead's workspace, and every change is
-- one lead_stage_changes row.

-- Whether the lead had a pending or confirmed booking when the override was set: scoring clears
-- an override when a booking is made after it (DESIGN.md section 4, rule 2).
ALTER TABLE lead_stage_overrides
    ADD COLUMN had_booking boolean NOT NULL DEFAULT false,
    ADD COLUMN removed_by uuid REFERENCES members (id) ON DELETE SET NULL,
    ADD COLUMN removal_reason text;
CREATE INDEX lead_stage_overrides_removed_by_idx ON lead_stage_overrides (removed_by) WHERE removed_by IS NOT NULL;

CREATE FUNCTION lead_stage_is_valid(stage text) RETURNS boolean
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT stage IN ('New', 'Engaged', 'Qualified', 'High Intent', 'Booking Made', 'In Sequence',
                     'Cold', 'Converted', 'Closed Lost')
$$;

-- Locks a lead for a person's change; P0002 for an unknown lead, 22023 for a member of another
-- workspace (the lead's workspace is the tenant boundary).
CREATE FUNCTION lock_lead_for_member(p_lead_id uuid, p_member_id uuid) RETURNS leads
LANGUAGE plpgsql AS $$
DECLARE
    v_lead leads;
BEGIN
    SELECT * INTO v_lead FROM leads WHERE id = p_lead_id FOR UPDATE;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'lead_id: no such lead' USING ERRCODE = 'no_data_found';
    END IF;
    IF p_member_id IS NOT NULL AND NOT EXISTS (
        SELECT 1 FROM members WHERE id = p_member_id AND workspace_id = v_lead.workspace_id) THEN
        RAISE EXCEPTION 'member_id: not a member of the lead''s workspace' USING ERRCODE = 'invalid_parameter_value';
    END IF;
    RETURN v_lead;
END;
$$;

-- Pins a lead's stage. Errors (SQLSTATE 22023, with the field in the message) for an unknown
-- stage, a sub-stage outside High Intent, or a member of another workspace; P0002 for an unknown
-- lead. Returns the new override row.
CREATE FUNCTION set_lead_stage_override(p_lead_id uuid, p_stage text, p_sub_stage text,
                                        p_member_id uuid, p_reason text)
RETURNS lead_stage_overrides
LANGUAGE plpgsql AS $$
DECLARE
    v_lead leads;
    v_override lead_stage_overrides;
BEGIN
    IF p_stage IS NULL OR NOT lead_stage_is_valid(p_stage) THEN
        RAISE EXCEPTION 'stage: must be one of New, Engaged, Qualified, High Intent, Booking Made, In Sequence, Cold, Converted, Closed Lost'
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    IF p_sub_stage IS NOT NULL AND (p_stage <> 'High Intent' OR p_sub_stage NOT IN ('proposal', 'negotiation', 'on-hold')) THEN
        RAISE EXCEPTION 'sub_stage: must be one of proposal, negotiation, on-hold, and only with stage High Intent'
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    v_lead := lock_lead_for_member(p_lead_id, p_member_id);

    UPDATE lead_stage_overrides
    SET removed_at = now(), removed_by = p_member_id, removal_reason = 'replaced'
    WHERE lead_id = p_lead_id AND removed_at IS NULL;

    INSERT INTO lead_stage_overrides (lead_id, stage, sub_stage, set_by, reason, had_booking)
    VALUES (p_lead_id, p_stage, p_sub_stage, p_member_id, p_reason,
            coalesce(v_lead.booking_status IN ('pending', 'confirmed'), false))
    RETURNING * INTO v_override;

    UPDATE leads SET lead_stage = p_stage, sub_stage = p_sub_stage, stage_override = true
    WHERE id = p_lead_id;

    INSERT INTO lead_stage_changes (lead_id, old_stage, new_stage, old_sub_stage, new_sub_stage,
                                    old_score, new_score, changed_by, reason, is_automatic)
    VALUES (p_lead_id, v_lead.lead_stage, p_stage, v_lead.sub_stage, p_sub_stage,
            v_lead.lead_score, v_lead.lead_score, p_member_id, 'manual_override', false);
    RETURN v_override;
END;
$$;

-- Removes a lead's active override, logs it, and enqueues a re-score through the outbox so the
-- rules place the lead again (the relay publishes it: a dashboard has no publisher of its own).
-- Returns false when there was no active override (calling it twice is harmless).
CREATE FUNCTION clear_lead_stage_override(p_lead_id uuid, p_member_id uuid, p_reason text)
RETURNS boolean
LANGUAGE plpgsql AS $$
DECLARE
    v_lead leads;
BEGIN
    v_lead := lock_lead_for_member(p_lead_id, p_member_id);
    UPDATE lead_stage_overrides
    SET removed_at = now(), removed_by = p_member_id, removal_reason = coalesce(p_reason, 'cleared')
    WHERE lead_id = p_lead_id AND removed_at IS NULL;
    IF NOT FOUND THEN
        RETURN false;
    END IF;
    UPDATE leads SET stage_override = false WHERE id = p_lead_id;
    INSERT INTO lead_stage_changes (lead_id, old_stage, new_stage, old_sub_stage, new_sub_stage,
                                    old_score, new_score, changed_by, reason, is_automatic)
    VALUES (p_lead_id, v_lead.lead_stage, v_lead.lead_stage, v_lead.sub_stage, v_lead.sub_stage,
            v_lead.lead_score, v_lead.lead_score, p_member_id, 'override_cleared', false);
    PERFORM enqueue_score_lead(v_lead.workspace_id, p_lead_id, 'override_cleared');
    RETURN true;
END;
$$;

-- The cold_leads rule, set-based: In Sequence leads with no override, silent for more than
-- 30 days, become Cold (reason system_cold). At most p_limit leads per call, claimed with
-- SKIP LOCKED so it never waits on a lead being scored; running it again finds nothing to do.
CREATE FUNCTION mark_cold_leads(p_now timestamptz, p_limit integer)
RETURNS TABLE (lead_id uuid, workspace_id uuid)
LANGUAGE sql AS $$
    WITH due AS (
        SELECT id FROM leads
        WHERE lead_stage = 'In Sequence' AND NOT stage_override AND status = 'active'
          AND last_customer_message_at < p_now - interval '30 days'
        ORDER BY last_customer_message_at
        LIMIT p_limit
        FOR UPDATE SKIP LOCKED
    ), cold AS (
        UPDATE leads l SET lead_stage = 'Cold', sub_stage = NULL
        FROM due WHERE l.id = due.id
        RETURNING l.id, l.workspace_id, l.lead_score
    ), audit AS (
        INSERT INTO lead_stage_changes (lead_id, old_stage, new_stage, old_score, new_score, reason, is_automatic)
        SELECT id, 'In Sequence', 'Cold', lead_score, lead_score, 'system_cold', true FROM cold
    )
    SELECT id, workspace_id FROM cold
$$;
