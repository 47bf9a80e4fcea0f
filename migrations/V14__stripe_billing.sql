-- Stripe billing sync (issue 10). Function bodies live in shared/store/src/billing/*.sql.

-- The event that last wrote a subscription row. Stripe's `created` is in whole seconds, so two
-- events of one subscription can share it; the tie is settled by the status's lifecycle rank and
-- then by this id (billing/stripe_rules.sql), never by which delivery arrived first. NULL only
-- for rows written before this migration: any event wins the tie against them.
ALTER TABLE workspace_subscriptions ADD COLUMN stripe_event_id text;

-- Stripe events that arrived before their workspace was known: a subscription or invoice for a
-- customer that no checkout has linked yet (Stripe does not order `customer.subscription.created`
-- after `checkout.session.completed`). The delivery itself is journaled and answered as usual
-- (webhook_events, processed, result `pending`); this table only remembers what is waiting and
-- for whom, with the facts already parsed, so the checkout that links the customer applies them
-- in `created` order in its own transaction.
--
-- Why a table and not an unprocessed journal row with a `pending_customer` column: an
-- unprocessed journal row means "applying failed", and the journal_replay job retries those with
-- backoff until it gives up; a pending event has not failed, it waits for another event, and
-- retrying it would only burn its attempts. Deleting a row here when it is applied makes
-- "applied once" structural: the DELETE … RETURNING that claims it runs under the customer's
-- lock, so two links of one customer cannot both apply it.
CREATE TABLE stripe_pending_events (
    provider           text NOT NULL DEFAULT 'stripe' CHECK (provider = 'stripe'),
    event_key          text NOT NULL,
    stripe_customer_id text NOT NULL CHECK (length(stripe_customer_id) BETWEEN 1 AND 255),
    -- event.created: the order the waiting events are applied in (then event_key).
    event_created      timestamptz NOT NULL,
    -- What ingest_stripe was given for the event (`p`): its kind, type and parsed object.
    input              jsonb NOT NULL,
    created_at         timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (provider, event_key),
    FOREIGN KEY (provider, event_key) REFERENCES webhook_events (provider, event_key)
        ON DELETE CASCADE
);
CREATE INDEX stripe_pending_events_customer_idx
    ON stripe_pending_events (stripe_customer_id, event_created, event_key);
