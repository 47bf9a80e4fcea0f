-- The one access rule every limit reads (conversations, scrape quota): a workspace is on its
-- subscription's plan while Stripe still grants access — trialing, active, or past_due, because
-- Stripe is still retrying the payment — and on its own workspaces.plan_id otherwise (canceled,
-- unpaid, paused, incomplete, no subscription, or a subscription whose price we do not know).
CREATE OR REPLACE FUNCTION effective_plan_id(p_workspace_id uuid) RETURNS uuid
LANGUAGE sql STABLE PARALLEL SAFE AS $$
    SELECT coalesce(
        (SELECT s.plan_id FROM workspace_subscriptions s
         WHERE s.workspace_id = p_workspace_id
           AND s.status IN ('trialing', 'active', 'past_due')),
        (SELECT w.plan_id FROM workspaces w WHERE w.id = p_workspace_id))
$$;

-- The conversation limit of the plan a workspace is on (NULL = unlimited).
CREATE OR REPLACE FUNCTION workspace_conversation_limit(p_workspace_id uuid) RETURNS integer
LANGUAGE sql STABLE PARALLEL SAFE AS $$
    SELECT p.conversation_limit FROM pricing_plans p WHERE p.id = effective_plan_id(p_workspace_id)
$$;
