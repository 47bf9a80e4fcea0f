-- The order rules of Stripe's statuses, mirrored from domain::stripe (SubscriptionStatus::tie_rank,
-- InvoiceStatus::rank); a store test checks that the two tables agree for every status.

-- Settles two events of one subscription created in the same second: the status further along
-- Stripe's lifecycle wins (start → active → dunning → ended), because within a second Stripe
-- moves a subscription forward (incomplete → active, active → canceled), not back.
CREATE OR REPLACE FUNCTION stripe_subscription_status_rank(p_status text) RETURNS smallint
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT (CASE p_status
        WHEN 'incomplete' THEN 0
        WHEN 'trialing' THEN 1
        WHEN 'active' THEN 2
        WHEN 'paused' THEN 3
        WHEN 'past_due' THEN 3
        WHEN 'unpaid' THEN 4
        WHEN 'canceled' THEN 5
        WHEN 'incomplete_expired' THEN 5
    END)::smallint
$$;

-- draft < open < uncollectible < paid = void. An uncollectible invoice can still be paid or
-- voided in Stripe; paid and void are final, so neither replaces the other.
CREATE OR REPLACE FUNCTION stripe_invoice_status_rank(p_status text) RETURNS smallint
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT (CASE p_status
        WHEN 'draft' THEN 0
        WHEN 'open' THEN 1
        WHEN 'uncollectible' THEN 2
        WHEN 'paid' THEN 3
        WHEN 'void' THEN 3
    END)::smallint
$$;
