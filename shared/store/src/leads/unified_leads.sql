-- unified_leads: one row per lead as PROXe's dashboard reads it, with the latest session of each
-- channel and the social sessions aggregated under metadata. Only leads that are a person we can
-- name or reach (a name, an email or a phone) are listed; session-only leads stay out of the list.
-- security_invoker: the caller's privileges and row-level security apply to the tables it reads,
-- so a dashboard user sees through it exactly the leads and sessions the policies admit
-- (migrations/V19__roles_and_row_level_security.sql), not what the view's owner could.
CREATE OR REPLACE VIEW unified_leads WITH (security_invoker = true) AS
SELECT
    l.id,
    l.workspace_id,
    l.name,
    l.email,
    l.phone_e164 AS phone,
    l.phone_raw,
    l.first_touchpoint,
    l.last_touchpoint,
    l.last_interaction_at,
    l.last_customer_message_at,
    l.lead_score,
    l.score_breakdown,
    l.lead_stage,
    l.sub_stage,
    l.stage_override,
    l.status,
    l.booking_status,
    l.booking_date,
    l.booking_time,
    l.assigned_agent_id,
    l.source_agent_id,
    l.opted_out_at,
    l.created_at,
    l.updated_at,
    jsonb_build_object(
        'web_data', to_jsonb(w) - 'workspace_id' - 'lead_id',
        'whatsapp_data', to_jsonb(wa) - 'workspace_id' - 'lead_id',
        'voice_data', to_jsonb(v) - 'workspace_id' - 'lead_id',
        'social_data', COALESCE(s.sessions, '[]'::jsonb),
        'unified_context', l.unified_context
    ) AS metadata
FROM leads l
LEFT JOIN LATERAL (
    SELECT * FROM web_sessions ws WHERE ws.lead_id = l.id
    ORDER BY ws.last_message_at DESC NULLS LAST, ws.created_at DESC LIMIT 1
) w ON true
LEFT JOIN LATERAL (
    SELECT * FROM whatsapp_sessions ws WHERE ws.lead_id = l.id
    ORDER BY ws.last_message_at DESC NULLS LAST, ws.created_at DESC LIMIT 1
) wa ON true
LEFT JOIN LATERAL (
    SELECT * FROM voice_sessions vs WHERE vs.lead_id = l.id
    ORDER BY vs.last_message_at DESC NULLS LAST, vs.created_at DESC LIMIT 1
) v ON true
LEFT JOIN LATERAL (
    SELECT jsonb_agg(to_jsonb(ss) - 'workspace_id' - 'lead_id' ORDER BY ss.last_message_at DESC NULLS LAST) AS sessions
    FROM social_sessions ss WHERE ss.lead_id = l.id
) s ON true
WHERE l.name IS NOT NULL OR l.email IS NOT NULL OR l.phone_e164 IS NOT NULL;
