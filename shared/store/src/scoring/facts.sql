-- Everything the scoring and stage rules need about a batch of leads, in one statement.
-- $1: the lead ids lock.sql locked in this transaction. This is a statement of its own, after the
-- lock, on purpose: a statement reads the snapshot it started with, so reading the facts in the
-- statement that waits for the lock would miss what the lock holder committed meanwhile (an
-- override set by a person while this batch waited), and re-stage the lead under it.
-- "Substantive" is is_substantive_message (leads/conversations.sql).
WITH locked AS (
    SELECT l.id, l.lead_stage, l.sub_stage, l.lead_score, l.score_breakdown, l.booking_status,
           l.unified_context
    FROM leads l
    WHERE l.id = ANY ($1::uuid[])
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
           (count(*) FILTER (WHERE is_substantive_message(c.content)))::int AS substantive_messages,
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
