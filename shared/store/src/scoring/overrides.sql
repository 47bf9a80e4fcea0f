-- The stages (domain::stage::Stage and the CHECK constraints of V3; a parity test compares).
CREATE OR REPLACE FUNCTION lead_stage_is_valid(stage text) RETURNS boolean
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT stage IN ('New', 'Engaged', 'Qualified', 'High Intent', 'Booking Made', 'In Sequence',
                     'Cold', 'Converted', 'Closed Lost')
$$;

-- Sub-stages exist only under High Intent (domain::stage::SubStage; a parity test compares).
CREATE OR REPLACE FUNCTION lead_sub_stage_is_valid(stage text, sub_stage text) RETURNS boolean
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT stage = 'High Intent' AND sub_stage IN ('proposal', 'negotiation', 'on-hold')
$$;

-- The functions' pair (internal: granted to lead_engine_app, never to authenticated). The caller
-- has already resolved the workspace from its credential (docs/architecture.md §7.3) and says
-- which member acts (NULL: the system or an operator). Locks the lead; P0002 for a lead that is
-- not in that workspace (unknown or another workspace's: the same error), 22023 for a member of
-- another workspace.
CREATE OR REPLACE FUNCTION lock_lead_in_workspace(p_workspace_id uuid, p_lead_id uuid,
                                                  p_member_id uuid) RETURNS leads
LANGUAGE plpgsql AS $$
DECLARE
    v_lead leads;
BEGIN
    -- FOR NO KEY UPDATE: an override changes no key, so an ingest's foreign-key checks on this
    -- lead (KEY SHARE) need not wait for it; scoring, which takes the same lock, still does.
    SELECT * INTO v_lead FROM leads WHERE id = p_lead_id AND workspace_id = p_workspace_id
    FOR NO KEY UPDATE;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'lead_id: no such lead' USING ERRCODE = 'no_data_found';
    END IF;
    IF p_member_id IS NOT NULL AND NOT EXISTS (
        SELECT 1 FROM members WHERE id = p_member_id AND workspace_id = p_workspace_id) THEN
        RAISE EXCEPTION 'member_id: not a member of the lead''s workspace' USING ERRCODE = 'invalid_parameter_value';
    END IF;
    RETURN v_lead;
END;
$$;

-- Refuses a stage or sub-stage the rules do not know (SQLSTATE 22023, the field first in the
-- message).
CREATE OR REPLACE FUNCTION check_lead_stage(p_stage text, p_sub_stage text) RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
    IF p_stage IS NULL OR NOT lead_stage_is_valid(p_stage) THEN
        RAISE EXCEPTION 'stage: must be one of New, Engaged, Qualified, High Intent, Booking Made, In Sequence, Cold, Converted, Closed Lost'
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    IF p_sub_stage IS NOT NULL AND NOT lead_sub_stage_is_valid(p_stage, p_sub_stage) THEN
        RAISE EXCEPTION 'sub_stage: must be one of proposal, negotiation, on-hold, and only with stage High Intent'
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
END;
$$;

-- Pins a lead's stage on behalf of p_member_id; returns the new override row.
CREATE OR REPLACE FUNCTION pin_lead_stage(p_workspace_id uuid, p_lead_id uuid, p_stage text,
                                          p_sub_stage text, p_member_id uuid, p_reason text)
RETURNS lead_stage_overrides
LANGUAGE plpgsql AS $$
DECLARE
    v_lead leads;
    v_override lead_stage_overrides;
BEGIN
    PERFORM check_lead_stage(p_stage, p_sub_stage);
    v_lead := lock_lead_in_workspace(p_workspace_id, p_lead_id, p_member_id);

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

-- Removes a lead's active override on behalf of p_member_id, logs it, and enqueues a re-score
-- through the outbox so the rules place the lead again (the relay publishes it: a dashboard has
-- no publisher of its own). Returns false when there was no active override (calling it twice is
-- harmless).
CREATE OR REPLACE FUNCTION unpin_lead_stage(p_workspace_id uuid, p_lead_id uuid,
                                            p_member_id uuid, p_reason text)
RETURNS boolean
LANGUAGE plpgsql AS $$
DECLARE
    v_lead leads;
BEGIN
    v_lead := lock_lead_in_workspace(p_workspace_id, p_lead_id, p_member_id);
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

-- The dashboard RPCs (granted to authenticated; a Supabase client calls them with the user's
-- JWT). The caller is the JWT's subject (auth.uid()), never an argument: the member row of that
-- user in the lead's workspace. A lead the caller cannot see (unknown, another workspace's, or
-- for an agent another agent's) is P0002 "lead_id: no such lead" alike, so ids cannot be probed;
-- a viewer is refused with 42501; an agent may pin the leads they see, members and above any
-- lead of the workspace. The two RPCs are SECURITY DEFINER with a fixed search_path: they write
-- rows the caller may only read. dashboard_member_for_lead is their check (run as the owner).
CREATE OR REPLACE FUNCTION dashboard_member_for_lead(p_lead_id uuid, OUT workspace_id uuid,
                                                     OUT member_id uuid)
LANGUAGE plpgsql AS $$
DECLARE
    v_role text;
BEGIN
    SELECT l.workspace_id, m.id, m.role INTO workspace_id, member_id, v_role
    FROM leads l
    JOIN members m ON m.workspace_id = l.workspace_id AND m.user_id = auth.uid()
    WHERE l.id = p_lead_id AND private.sees_lead(l.workspace_id, l.assigned_agent_id)
    FOR NO KEY UPDATE OF l;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'lead_id: no such lead' USING ERRCODE = 'no_data_found';
    END IF;
    IF member_role_rank(v_role) < member_role_rank('agent') THEN
        RAISE EXCEPTION 'role: a % may not change a lead''s stage', v_role
            USING ERRCODE = 'insufficient_privilege';
    END IF;
END;
$$;

CREATE OR REPLACE FUNCTION set_lead_stage_override(p_lead_id uuid, p_stage text,
                                                   p_sub_stage text DEFAULT NULL,
                                                   p_reason text DEFAULT NULL)
RETURNS lead_stage_overrides
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public AS $$
DECLARE
    v_caller record;
BEGIN
    PERFORM check_lead_stage(p_stage, p_sub_stage);
    SELECT * INTO v_caller FROM dashboard_member_for_lead(p_lead_id);
    RETURN pin_lead_stage(v_caller.workspace_id, p_lead_id, p_stage, p_sub_stage,
                          v_caller.member_id, p_reason);
END;
$$;

CREATE OR REPLACE FUNCTION clear_lead_stage_override(p_lead_id uuid, p_reason text DEFAULT NULL)
RETURNS boolean
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public AS $$
DECLARE
    v_caller record;
BEGIN
    SELECT * INTO v_caller FROM dashboard_member_for_lead(p_lead_id);
    RETURN unpin_lead_stage(v_caller.workspace_id, p_lead_id, v_caller.member_id, p_reason);
END;
$$;
