-- Inbound journal, transactional outbox and audit log.

-- Every verified webhook delivery is kept before (and in the same transaction as) its effects, so
-- a processing bug loses nothing and a delivery can be replayed. The unique key is what makes a
-- provider's retry a no-op.
CREATE TABLE webhook_events (
    id           uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    provider     text NOT NULL CHECK (provider IN ('web_agent', 'whatsapp', 'stripe')),
    -- Stripe: event.id; WhatsApp: SHA-256 of the body; web agent: the client's message_id.
    event_key    text NOT NULL CHECK (length(event_key) BETWEEN 1 AND 300),
    workspace_id uuid REFERENCES workspaces (id) ON DELETE SET NULL,
    payload      jsonb NOT NULL,
    received_at  timestamptz NOT NULL DEFAULT now(),
    processed_at timestamptz,
    -- Why (part of) a delivery could not be mapped: unknown phone_number_id, unsupported type...
    error        text,
    UNIQUE (provider, event_key)
);
CREATE INDEX webhook_events_workspace_idx ON webhook_events (workspace_id, received_at);
-- Operators look for deliveries that failed or were never processed.
CREATE INDEX webhook_events_unprocessed_idx ON webhook_events (received_at)
    WHERE processed_at IS NULL OR error IS NOT NULL;

-- Jobs written in the same transaction as the data that caused them; published to SQS after
-- commit and re-published by the outbox_relay job if publishing failed.
CREATE TABLE outbox (
    id           bigserial PRIMARY KEY,
    queue        text NOT NULL CHECK (queue IN ('scoring', 'sites')),
    payload      jsonb NOT NULL,
    created_at   timestamptz NOT NULL DEFAULT now(),
    -- The relay leaves a row alone until then (grace period after commit, backoff after failures).
    available_at timestamptz NOT NULL DEFAULT now(),
    published_at timestamptz,
    attempts     integer NOT NULL DEFAULT 0 CHECK (attempts >= 0),
    last_error   text
);
CREATE INDEX outbox_unpublished_idx ON outbox (available_at, id) WHERE published_at IS NULL;
CREATE INDEX outbox_published_idx ON outbox (published_at) WHERE published_at IS NOT NULL;

CREATE TABLE audit_logs (
    id           uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    workspace_id uuid NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
    -- 'system', 'member:<uuid>', 'api_key:<prefix>', 'whatsapp', 'stripe'...
    actor        text NOT NULL,
    event_type   text NOT NULL,
    entity_type  text NOT NULL,
    entity_id    uuid,
    -- Ids and facts, never personal data.
    data         jsonb NOT NULL DEFAULT '{}'::jsonb,
    created_at   timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX audit_logs_workspace_created_idx ON audit_logs (workspace_id, created_at);
CREATE INDEX audit_logs_entity_idx ON audit_logs (entity_type, entity_id);

-- A lead's audit rows go with the lead: erasing a person erases what we logged about them.
CREATE FUNCTION delete_lead_audit_logs() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    DELETE FROM audit_logs WHERE entity_type = 'lead' AND entity_id = OLD.id;
    RETURN OLD;
END;
$$;
CREATE TRIGGER delete_lead_audit_logs AFTER DELETE ON leads
    FOR EACH ROW EXECUTE FUNCTION delete_lead_audit_logs();
