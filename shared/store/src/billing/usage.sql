-- The billing period a moment belongs to: the subscription's current period when it covers
-- the moment, else the calendar month (UTC).
CREATE OR REPLACE FUNCTION usage_period(p_workspace_id uuid, p_at timestamptz,
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
-- period's totals with the plan's conversation limit (NULL = unlimited; effective_plan.sql).
CREATE OR REPLACE FUNCTION add_usage(p_workspace_id uuid, p_at timestamptz,
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
           workspace_conversation_limit(p_workspace_id)
    FROM upserted
$$;

-- A workspace's usage in the period of p_at, read without writing (0 when nothing was counted).
CREATE OR REPLACE FUNCTION current_usage(p_workspace_id uuid, p_at timestamptz,
                              OUT conversations integer, OUT messages integer,
                              OUT conversation_limit integer)
LANGUAGE sql STABLE AS $$
    SELECT coalesce(u.conversations, 0), coalesce(u.messages, 0),
           workspace_conversation_limit(p_workspace_id)
    FROM usage_period(p_workspace_id, p_at) period
    LEFT JOIN workspace_usage u
      ON u.workspace_id = p_workspace_id AND u.period_start = period.period_start
$$;
