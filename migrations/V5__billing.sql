-- Billing and usage (from AgentCenter). Stripe is the source of truth for money; these tables
-- mirror what its webhooks said, so plan limits can be read without calling Stripe.

CREATE TABLE workspace_subscriptions (
    id                     uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    workspace_id           uuid NOT NULL UNIQUE REFERENCES workspaces (id) ON DELETE CASCADE,
    stripe_subscription_id text NOT NULL UNIQUE,
    stripe_customer_id     text NOT NULL,
    plan_id                uuid REFERENCES pricing_plans (id) ON DELETE SET NULL,
    status                 text NOT NULL CHECK (status IN ('trialing', 'active', 'past_due', 'canceled',
                               'unpaid', 'incomplete', 'incomplete_expired', 'paused')),
    current_period_start   timestamptz,
    current_period_end     timestamptz,
    cancel_at_period_end   boolean NOT NULL DEFAULT false,
    trial_end              timestamptz,
    -- event.created of the Stripe event that last wrote this row: events arrive out of order, and
    -- an older event must never overwrite a newer one.
    stripe_event_created   timestamptz NOT NULL,
    created_at             timestamptz NOT NULL DEFAULT now(),
    updated_at             timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX workspace_subscriptions_customer_idx ON workspace_subscriptions (stripe_customer_id);
CREATE INDEX workspace_subscriptions_plan_idx ON workspace_subscriptions (plan_id);
SELECT attach_updated_at('workspace_subscriptions');

CREATE TABLE billing_invoices (
    id                 uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    stripe_invoice_id  text NOT NULL UNIQUE,
    workspace_id       uuid NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
    status             text NOT NULL CHECK (status IN ('draft', 'open', 'paid', 'uncollectible', 'void')),
    -- Amounts in the currency's minor unit, as Stripe sends them.
    amount_due         bigint NOT NULL DEFAULT 0 CHECK (amount_due >= 0),
    amount_paid        bigint NOT NULL DEFAULT 0 CHECK (amount_paid >= 0),
    currency           text NOT NULL CHECK (currency ~ '^[a-z]{3}$'),
    hosted_invoice_url text,
    period_start       timestamptz,
    period_end         timestamptz,
    created_at         timestamptz NOT NULL DEFAULT now(),
    updated_at         timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX billing_invoices_workspace_idx ON billing_invoices (workspace_id, created_at);
SELECT attach_updated_at('billing_invoices');

-- One row per workspace and billing period; counters change only in single atomic upserts.
CREATE TABLE workspace_usage (
    id            uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    workspace_id  uuid NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
    period_start  timestamptz NOT NULL,
    period_end    timestamptz NOT NULL,
    conversations integer NOT NULL DEFAULT 0 CHECK (conversations >= 0),
    messages      integer NOT NULL DEFAULT 0 CHECK (messages >= 0),
    tokens_used   bigint NOT NULL DEFAULT 0 CHECK (tokens_used >= 0),
    created_at    timestamptz NOT NULL DEFAULT now(),
    updated_at    timestamptz NOT NULL DEFAULT now(),
    CHECK (period_end > period_start),
    UNIQUE (workspace_id, period_start)
);
SELECT attach_updated_at('workspace_usage');
