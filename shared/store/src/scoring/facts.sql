-- Everything the scoring and stage rules need about a batch of leads, in one statement.
-- $1 lead ids, $2 their workspace ids (pairs: a job names both, and a lead is only scored in the
-- workspace the job names).
-- The leads are locked in id order (concurrent consumers scoring overlapping batches cannot
-- deadlock, and the facts read here are the ones the write in the same transaction replaces).
-- "Substantive" is domain::scoring::is_substantive in SQL: a question mark (either script) or at
-- least 60 characters.
WITH wanted AS (
    SELECT DISTINCT w.lead_id, w.workspace_id
    FROM unnest($1::uuid[], $2::uuid[]) AS w (lead_id, workspace_id)
), locked AS (
    SELECT l.id, l.lead_stage, l.sub_stage, l.lead_score, l.score_breakdown, l.booking_status,
           l.unified_context
    FROM leads l
    JOIN wanted w ON w.lead_id = l.id AND w.workspace_id = l.workspace_id
    ORDER BY l.id
    FOR UPDATE OF l
)
SELECT l.id,
       l.lead_stage,
       l.sub_stage,
       l.lead_score,
       l.score_breakdown,
       coalesce(l.booking_status IN ('pending', 'confirmed'), false) AS has_booking,
       l.unified_context,
       m.customer_messages,
       m.substantive_messages,
       m.last_customer_message_at,
       p.previous_customer_message_at,
       coalesce(i.codes, '{}') AS intent_codes,
       t.touchpoints,
       o.stage AS override_stage,
       o.sub_stage AS override_sub_stage,
       o.created_at AS override_set_at,
       o.had_booking AS override_had_booking
FROM locked l
CROSS JOIN LATERAL (
    SELECT count(*)::int AS customer_messages,
           (count(*) FILTER (WHERE strpos(c.content, '?') > 0 OR strpos(c.content, '¿') > 0
                                  OR char_length(c.content) >= 60))::int AS substantive_messages,
           max(c.sent_at) AS last_customer_message_at
    FROM conversations c
    WHERE c.lead_id = l.id AND c.sender = 'customer'
) m
LEFT JOIN LATERAL (
    SELECT c.sent_at AS previous_customer_message_at
    FROM conversations c
    WHERE c.lead_id = l.id AND c.sender = 'customer'
    ORDER BY c.sent_at DESC
    OFFSET 1 LIMIT 1
) p ON true
CROSS JOIN LATERAL (
    SELECT array_agg(DISTINCT li.intent) AS codes
    FROM lead_intents_log li
    WHERE li.lead_id = l.id
) i
CROSS JOIN LATERAL (
    SELECT count(DISTINCT channel)::int AS touchpoints
    FROM (
        SELECT c.channel FROM conversations c WHERE c.lead_id = l.id AND c.sender = 'customer'
        UNION ALL SELECT 'web' FROM web_sessions s WHERE s.lead_id = l.id
        UNION ALL SELECT 'whatsapp' FROM whatsapp_sessions s WHERE s.lead_id = l.id
        UNION ALL SELECT 'voice' FROM voice_sessions s WHERE s.lead_id = l.id
        UNION ALL SELECT 'social' FROM social_sessions s WHERE s.lead_id = l.id
    ) channels
) t
LEFT JOIN lead_stage_overrides o ON o.lead_id = l.id AND o.removed_at IS NULL
