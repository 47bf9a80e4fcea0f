-- The one access rule every limit reads (conversations, scrape quota): a workspace is on its
-- subscription's plan while Stripe still grants access — trialing, active, or past_due, because
-- Stripe is still retrying the payment — and on its own workspaces.plan_id otherwise (canceled,
-- unpaid, paused, incomplete, no subscription, or a subscription whose price we do not know).
--
-- This and workspace_conversation_limit are PL/pgSQL, not SQL, like the other functions every
-- delivery calls (usage_period, enqueue_score_lead, journal_close, lock_lead_identities): a SQL
-- function that cannot be inlined is parsed and planned again on every call (measured: 45-85 µs
-- each), while PL/pgSQL keeps its plans for the session.
CREATE OR REPLACE FUNCTION effective_plan_id(p_workspace_id uuid) RETURNS uuid
LANGUAGE plpgsql STABLE PARALLEL SAFE AS $$
BEGIN
    RETURN coalesce(
        (SELECT s.plan_id FROM workspace_subscriptions s
         WHERE s.workspace_id = p_workspace_id
           AND s.status IN ('trialing', 'active', 'past_due')),
        (SELECT w.plan_id FROM workspaces w WHERE w.id = p_workspace_id));
END;
$$;

-- The conversation limit of the plan a workspace is on (NULL = unlimited).
CREATE OR REPLACE FUNCTION workspace_conversation_limit(p_workspace_id uuid) RETURNS integer
LANGUAGE plpgsql STABLE PARALLEL SAFE AS $$
BEGIN
    RETURN (SELECT p.conversation_limit FROM pricing_plans p
            WHERE p.id = effective_plan_id(p_workspace_id));
END;
$$;
