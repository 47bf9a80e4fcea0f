-- The cold_leads rule, set-based: In Sequence leads with no override whose last customer message
-- is older than p_silent_before become Cold (reason system_cold). The window itself is
-- domain::stage::COLD_AFTER_SILENT_DAYS, the same constant the stage rules use; the caller passes
-- the cutoff (domain::stage::cold_cutoff), so the rule has one owner. At most p_limit leads per
-- call, claimed with SKIP LOCKED so it never waits on a lead being scored; running it again
-- finds nothing to do.
CREATE OR REPLACE FUNCTION mark_cold_leads(p_silent_before timestamptz, p_limit integer)
RETURNS TABLE (lead_id uuid, workspace_id uuid)
LANGUAGE sql AS $$
    WITH due AS (
        SELECT id FROM leads
        WHERE lead_stage = 'In Sequence' AND NOT stage_override AND status = 'active'
          AND last_customer_message_at < p_silent_before
        ORDER BY last_customer_message_at
        LIMIT p_limit
        FOR NO KEY UPDATE SKIP LOCKED
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
