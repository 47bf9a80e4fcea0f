-- The Stripe webhook's use case (docs/architecture.md section 5.4, issue 10): one verified event journaled
-- and applied in one statement, so one transaction.
--
-- ingest_stripe(event id, body as jsonb, p) where p is what Rust parsed (store::billing):
--     {"kind": "checkout" | "subscription" | "invoice" | "unhandled" | "unreadable",
--      "type": "customer.subscription.updated", "created": "<timestamptz>",
--      "object": {…domain::stripe's CheckoutSession / Subscription / Invoice…},
--      "reasons": [why parts cannot be used]}
-- and the answer (also the journal's stored result, which a replay returns) is
--     {"event_id", "type", "outcome", "workspace_id", "duplicate", "reasons", …}
-- with outcome one of: applied (a subscription or invoice written), stale (older than what is
-- stored: nothing written), pending (no workspace known yet for its customer), linked (a checkout
-- linked a workspace to its customer, and applied what was pending), ignored (a type or checkout
-- mode that changes nothing), unlinked (no way to tell the workspace), unreadable.
--
-- Locks, always taken in this order so no two deliveries deadlock: the journal's per-event lock
-- (journal_open), the Stripe customer's, then the subscription row's workspace or the invoice's.
-- The customer lock is what keeps a pending event from being stranded: the event that finds no
-- link and parks itself, and the checkout that links the customer and applies what is parked,
-- cannot interleave.

-- Which workspace an object belongs to: the one its metadata names, else the one linked to its
-- customer, else the one that already holds its subscription. NULL when none is known yet.
CREATE OR REPLACE FUNCTION stripe_workspace_for(p_workspace_id uuid, p_customer text,
                                                p_subscription text)
RETURNS uuid
LANGUAGE sql STABLE AS $$
    SELECT coalesce(
        (SELECT w.id FROM workspaces w WHERE w.id = p_workspace_id),
        (SELECT w.id FROM workspaces w WHERE w.stripe_customer_id = p_customer),
        (SELECT s.workspace_id FROM workspace_subscriptions s
         WHERE s.stripe_subscription_id = p_subscription))
$$;

-- One subscription event for a known workspace. Written only when the event is not older than
-- the one that last wrote the row: (created, status rank, event id) compared as a tuple, so
-- equal seconds are settled by the lifecycle rank and then by the event id, never by arrival.
-- An unknown price id still moves the status (access follows Stripe at once) but leaves the plan
-- as it was, with a reason. Every change of plan or status is one audit_logs row.
CREATE OR REPLACE FUNCTION stripe_apply_subscription(p_event_key text, p_type text,
                                                     p_created timestamptz,
                                                     p_workspace_id uuid, s jsonb)
RETURNS jsonb
LANGUAGE plpgsql AS $$
DECLARE
    v_old workspace_subscriptions%ROWTYPE;
    v_found boolean;
    v_status text := s->>'status';
    v_plan uuid;
    v_row_id uuid;
    v_reasons jsonb := '[]'::jsonb;
BEGIN
    -- Every writer of this workspace's row holds this lock: the order check below and the write
    -- see no concurrent change, and two first events cannot race to insert.
    PERFORM pg_advisory_xact_lock(hashtextextended('stripe/subscription/' || p_workspace_id, 0));
    SELECT * INTO v_old FROM workspace_subscriptions WHERE workspace_id = p_workspace_id;
    v_found := FOUND;

    -- Event ids compare byte by byte (COLLATE "C"), so the rule does not depend on the
    -- database's locale.
    IF v_found AND (p_created, stripe_subscription_status_rank(v_status), p_event_key COLLATE "C")
                 < (v_old.stripe_event_created, stripe_subscription_status_rank(v_old.status),
                    coalesce(v_old.stripe_event_id, '') COLLATE "C") THEN
        RETURN jsonb_build_object('outcome', 'stale', 'workspace_id', p_workspace_id,
                                  'status', v_old.status, 'plan_id', v_old.plan_id,
                                  'reasons', jsonb_build_array(
                                      'older than the event that last wrote the subscription; kept the newer state'));
    END IF;

    IF EXISTS (SELECT 1 FROM workspace_subscriptions o
               WHERE o.stripe_subscription_id = s->>'id' AND o.workspace_id <> p_workspace_id) THEN
        RETURN jsonb_build_object('outcome', 'unlinked', 'workspace_id', p_workspace_id,
                                  'reasons', jsonb_build_array(
                                      'the subscription belongs to another workspace; not moved'));
    END IF;

    -- The first item price that names a plan decides it.
    SELECT p.id INTO v_plan
    FROM jsonb_array_elements_text(coalesce(s->'price_ids', '[]'::jsonb)) WITH ORDINALITY AS x (price, n)
    JOIN pricing_plans p ON p.stripe_price_id = x.price
    ORDER BY x.n
    LIMIT 1;
    IF NOT FOUND THEN
        v_plan := v_old.plan_id;
        v_reasons := v_reasons || jsonb_build_array(format(
            'price id %s names no pricing plan: plan left unchanged, status applied',
            coalesce(s->'price_ids'->>0, '(none)')));
    END IF;

    INSERT INTO workspace_subscriptions AS w (
        workspace_id, stripe_subscription_id, stripe_customer_id, plan_id, status,
        current_period_start, current_period_end, cancel_at_period_end, trial_end,
        stripe_event_created, stripe_event_id)
    VALUES (
        p_workspace_id, s->>'id', s->>'customer', v_plan, v_status,
        (s->>'current_period_start')::timestamptz, (s->>'current_period_end')::timestamptz,
        coalesce((s->>'cancel_at_period_end')::boolean, false), (s->>'trial_end')::timestamptz,
        p_created, p_event_key)
    ON CONFLICT (workspace_id) DO UPDATE SET
        stripe_subscription_id = EXCLUDED.stripe_subscription_id,
        stripe_customer_id = EXCLUDED.stripe_customer_id,
        plan_id = EXCLUDED.plan_id,
        status = EXCLUDED.status,
        current_period_start = EXCLUDED.current_period_start,
        current_period_end = EXCLUDED.current_period_end,
        cancel_at_period_end = EXCLUDED.cancel_at_period_end,
        trial_end = EXCLUDED.trial_end,
        stripe_event_created = EXCLUDED.stripe_event_created,
        stripe_event_id = EXCLUDED.stripe_event_id
    RETURNING w.id INTO v_row_id;

    IF NOT v_found OR v_old.status IS DISTINCT FROM v_status
       OR v_old.plan_id IS DISTINCT FROM v_plan THEN
        INSERT INTO audit_logs (workspace_id, actor, event_type, entity_type, entity_id, data)
        VALUES (p_workspace_id, 'stripe', 'subscription_changed', 'workspace_subscription', v_row_id,
                jsonb_build_object(
                    'stripe_event_id', p_event_key,
                    'stripe_event_type', p_type,
                    'stripe_subscription_id', s->>'id',
                    'old', CASE WHEN v_found THEN jsonb_build_object('status', v_old.status,
                                                                     'plan_id', v_old.plan_id) END,
                    'new', jsonb_build_object('status', v_status, 'plan_id', v_plan)));
    END IF;

    RETURN jsonb_build_object('outcome', 'applied', 'workspace_id', p_workspace_id,
                              'status', v_status, 'plan_id', v_plan,
                              'changed', NOT v_found OR v_old.status IS DISTINCT FROM v_status
                                         OR v_old.plan_id IS DISTINCT FROM v_plan,
                              'reasons', v_reasons);
END;
$$;

-- One invoice event for a known workspace. The status never moves backwards (draft < open <
-- uncollectible < paid = void, billing/stripe_rules.sql): an event that would is stale and
-- writes nothing; the same status still refreshes amounts and links. A status change is one
-- audit_logs row. The invoice keeps the workspace it was first written for.
CREATE OR REPLACE FUNCTION stripe_apply_invoice(p_event_key text, p_type text,
                                                p_workspace_id uuid, i jsonb)
RETURNS jsonb
LANGUAGE plpgsql AS $$
DECLARE
    v_status text := i->>'status';
    v_old_status text;
    v_found boolean;
    v_row_id uuid;
    v_workspace uuid;
BEGIN
    PERFORM pg_advisory_xact_lock(hashtextextended('stripe/invoice/' || (i->>'id'), 0));
    SELECT b.status, b.workspace_id INTO v_old_status, v_workspace
    FROM billing_invoices b WHERE b.stripe_invoice_id = i->>'id';
    v_found := FOUND;
    IF v_found AND NOT (v_status = v_old_status
                        OR stripe_invoice_status_rank(v_status) > stripe_invoice_status_rank(v_old_status)) THEN
        RETURN jsonb_build_object('outcome', 'stale', 'workspace_id', v_workspace,
                                  'status', v_old_status,
                                  'reasons', jsonb_build_array(format(
                                      'invoice is %s already; %s would move it backwards',
                                      v_old_status, v_status)));
    END IF;

    INSERT INTO billing_invoices AS b (
        stripe_invoice_id, workspace_id, status, amount_due, amount_paid, currency,
        hosted_invoice_url, period_start, period_end)
    VALUES (
        i->>'id', p_workspace_id, v_status, (i->>'amount_due')::bigint,
        (i->>'amount_paid')::bigint, i->>'currency', i->>'hosted_invoice_url',
        (i->>'period_start')::timestamptz, (i->>'period_end')::timestamptz)
    ON CONFLICT (stripe_invoice_id) DO UPDATE SET
        status = EXCLUDED.status,
        amount_due = EXCLUDED.amount_due,
        amount_paid = EXCLUDED.amount_paid,
        currency = EXCLUDED.currency,
        hosted_invoice_url = coalesce(EXCLUDED.hosted_invoice_url, b.hosted_invoice_url),
        period_start = coalesce(EXCLUDED.period_start, b.period_start),
        period_end = coalesce(EXCLUDED.period_end, b.period_end)
    RETURNING b.id, b.workspace_id INTO v_row_id, v_workspace;

    IF v_old_status IS DISTINCT FROM v_status THEN
        INSERT INTO audit_logs (workspace_id, actor, event_type, entity_type, entity_id, data)
        VALUES (v_workspace, 'stripe', 'invoice_status_changed', 'billing_invoice', v_row_id,
                jsonb_build_object(
                    'stripe_event_id', p_event_key,
                    'stripe_event_type', p_type,
                    'stripe_invoice_id', i->>'id',
                    'old', CASE WHEN v_found THEN jsonb_build_object('status', v_old_status) END,
                    'new', jsonb_build_object('status', v_status)));
    END IF;

    RETURN jsonb_build_object('outcome', 'applied', 'workspace_id', v_workspace,
                              'status', v_status, 'changed', v_old_status IS DISTINCT FROM v_status,
                              'reasons', '[]'::jsonb);
END;
$$;

-- A subscription or invoice event (p as ingest_stripe takes it) for a workspace now known.
CREATE OR REPLACE FUNCTION stripe_apply_object(p_event_key text, p jsonb, p_workspace_id uuid)
RETURNS jsonb
LANGUAGE sql AS $$
    SELECT CASE p->>'kind'
        WHEN 'subscription' THEN stripe_apply_subscription(
            p_event_key, p->>'type', (p->>'created')::timestamptz, p_workspace_id, p->'object')
        WHEN 'invoice' THEN stripe_apply_invoice(p_event_key, p->>'type', p_workspace_id, p->'object')
    END
$$;

-- Applies, oldest first, every event that was waiting for this customer's workspace, and
-- records each one's outcome on its own journal row. Claimed by deleting them, under the
-- customer's lock the caller holds, so each applies once. A loop, not one set-based statement,
-- because each subscription event's order check must see the row the previous one wrote; the
-- list is what one customer accumulated before its checkout completed, a handful at most.
CREATE OR REPLACE FUNCTION stripe_apply_pending(p_customer text, p_workspace_id uuid,
                                                p_linked_by text)
RETURNS jsonb
LANGUAGE plpgsql AS $$
DECLARE
    v_claimed jsonb;
    v_item jsonb;
    v_result jsonb;
    v_applied jsonb := '[]'::jsonb;
BEGIN
    WITH claimed AS (
        DELETE FROM stripe_pending_events
        WHERE stripe_customer_id = p_customer
        RETURNING event_key, event_created, input
    )
    SELECT coalesce(jsonb_agg(jsonb_build_object('event_key', c.event_key, 'input', c.input)
                              ORDER BY c.event_created, c.event_key), '[]'::jsonb)
    INTO v_claimed
    FROM claimed c;

    FOR v_item IN SELECT e.value FROM jsonb_array_elements(v_claimed) WITH ORDINALITY AS e (value, n)
                  ORDER BY e.n
    LOOP
        v_result := stripe_apply_object(v_item->>'event_key', v_item->'input', p_workspace_id);
        -- The waiting reason gives way to this application's own (NULL when there is none).
        UPDATE webhook_events
        SET workspace_id = p_workspace_id,
            error = (SELECT string_agg(r, '; ')
                     FROM jsonb_array_elements_text(coalesce(v_result->'reasons', '[]'::jsonb)) AS r),
            result = result || (v_result - 'reasons')
                     || jsonb_build_object('applied_after', p_linked_by,
                                           'reasons', coalesce(result->'reasons', '[]'::jsonb)
                                                      || coalesce(v_result->'reasons', '[]'::jsonb))
        WHERE provider = 'stripe' AND event_key = v_item->>'event_key';
        v_applied := v_applied || jsonb_build_array(jsonb_build_object(
            'event_id', v_item->>'event_key', 'outcome', v_result->>'outcome'));
    END LOOP;
    RETURN v_applied;
END;
$$;

-- checkout.session.completed: links the workspace the session names to its Stripe customer, then
-- applies what was waiting for that customer. Only subscription-mode sessions link.
CREATE OR REPLACE FUNCTION stripe_link_checkout(p_event_key text, c jsonb)
RETURNS jsonb
LANGUAGE plpgsql AS $$
DECLARE
    v_workspace uuid := (c->>'workspace_id')::uuid;
    v_customer text := c->>'customer';
    v_old_customer text;
    v_pending jsonb;
BEGIN
    IF c->>'mode' IS DISTINCT FROM 'subscription' THEN
        RETURN jsonb_build_object('outcome', 'ignored', 'reasons', jsonb_build_array(
            'checkout is not in subscription mode: nothing to link'));
    END IF;
    IF v_customer IS NULL THEN
        RETURN jsonb_build_object('outcome', 'unlinked', 'reasons', jsonb_build_array(
            'checkout session has no customer'));
    END IF;
    IF v_workspace IS NULL THEN
        RETURN jsonb_build_object('outcome', 'unlinked', 'reasons', jsonb_build_array(
            'checkout names no workspace (client_reference_id or metadata.workspace_id)'));
    END IF;

    PERFORM pg_advisory_xact_lock(hashtextextended('stripe/customer/' || v_customer, 0));
    SELECT w.stripe_customer_id INTO v_old_customer FROM workspaces w WHERE w.id = v_workspace
    FOR UPDATE;
    IF NOT FOUND THEN
        RETURN jsonb_build_object('outcome', 'unlinked', 'reasons', jsonb_build_array(
            format('workspace %s named by the checkout does not exist', v_workspace)));
    END IF;
    IF EXISTS (SELECT 1 FROM workspaces w
               WHERE w.stripe_customer_id = v_customer AND w.id <> v_workspace) THEN
        RETURN jsonb_build_object('outcome', 'unlinked', 'reasons', jsonb_build_array(
            'the customer is linked to another workspace; not moved'));
    END IF;

    IF v_old_customer IS DISTINCT FROM v_customer THEN
        UPDATE workspaces SET stripe_customer_id = v_customer WHERE id = v_workspace;
        INSERT INTO audit_logs (workspace_id, actor, event_type, entity_type, entity_id, data)
        VALUES (v_workspace, 'stripe', 'stripe_customer_linked', 'workspace', v_workspace,
                jsonb_build_object('stripe_event_id', p_event_key,
                                   'old', jsonb_build_object('stripe_customer_id', v_old_customer),
                                   'new', jsonb_build_object('stripe_customer_id', v_customer)));
    END IF;

    v_pending := stripe_apply_pending(v_customer, v_workspace, p_event_key);
    RETURN jsonb_build_object('outcome', 'linked', 'workspace_id', v_workspace,
                              'pending_applied', v_pending, 'reasons', '[]'::jsonb);
END;
$$;

CREATE OR REPLACE FUNCTION ingest_stripe(p_event_key text, p_payload jsonb, p jsonb)
RETURNS jsonb
LANGUAGE plpgsql AS $$
DECLARE
    v_open record;
    v_kind text := p->>'kind';
    v_object jsonb := p->'object';
    v_customer text;
    v_named uuid;
    v_workspace uuid;
    v_result jsonb;
    v_reasons jsonb := coalesce(p->'reasons', '[]'::jsonb);
BEGIN
    -- 1. The journal: copies of this event wait for each other; a processed one is a replay,
    --    answered from its stored result with nothing written.
    SELECT * INTO v_open FROM journal_open('stripe', p_event_key);
    IF v_open.replay THEN
        RETURN coalesce(v_open.result, '{}'::jsonb) || jsonb_build_object('duplicate', true);
    END IF;

    -- 2. Apply.
    IF v_kind = 'checkout' THEN
        v_result := stripe_link_checkout(p_event_key, v_object);
    ELSIF v_kind IN ('subscription', 'invoice') THEN
        v_customer := v_object->>'customer';
        IF v_customer IS NOT NULL THEN
            PERFORM pg_advisory_xact_lock(hashtextextended('stripe/customer/' || v_customer, 0));
        END IF;
        v_named := (v_object->>'workspace_id')::uuid;
        IF v_named IS NOT NULL AND NOT EXISTS (SELECT 1 FROM workspaces w WHERE w.id = v_named) THEN
            v_reasons := v_reasons || jsonb_build_array(format(
                'metadata.workspace_id %s names no workspace; ignored', v_named));
        END IF;
        v_workspace := stripe_workspace_for(
            v_named, v_customer,
            CASE v_kind WHEN 'subscription' THEN v_object->>'id' ELSE v_object->>'subscription' END);
        IF v_workspace IS NOT NULL THEN
            v_result := stripe_apply_object(p_event_key, p, v_workspace);
        ELSIF v_customer IS NOT NULL THEN
            v_result := jsonb_build_object('outcome', 'pending', 'reasons', jsonb_build_array(
                'no workspace is linked to the customer yet: waiting for its checkout.session.completed'));
        ELSE
            v_result := jsonb_build_object('outcome', 'unlinked', 'reasons', jsonb_build_array(
                'no metadata.workspace_id, customer or known subscription names a workspace'));
        END IF;
    ELSIF v_kind = 'unhandled' THEN
        v_result := jsonb_build_object('outcome', 'ignored');
    ELSE
        v_result := jsonb_build_object('outcome', 'unreadable');
    END IF;

    -- 3. Close the journal with the outcome (a replay's answer) and the reasons.
    v_reasons := v_reasons || coalesce(v_result->'reasons', '[]'::jsonb);
    v_result := (v_result - 'reasons') || jsonb_build_object(
        'event_id', p_event_key, 'type', p->>'type', 'duplicate', false, 'reasons', v_reasons);
    PERFORM journal_close('stripe', p_event_key, (v_result->>'workspace_id')::uuid, p_payload,
                          v_result,
                          (SELECT string_agg(r, '; ') FROM jsonb_array_elements_text(v_reasons) AS r));

    -- 4. Park an event that waits for its customer's workspace (after the journal row exists,
    --    which the pending row references).
    IF v_result->>'outcome' = 'pending' THEN
        INSERT INTO stripe_pending_events (event_key, stripe_customer_id, event_created, input)
        VALUES (p_event_key, v_customer, (p->>'created')::timestamptz, p)
        ON CONFLICT DO NOTHING;
    END IF;
    RETURN v_result;
END;
$$;
