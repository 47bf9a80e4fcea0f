-- Rank of a delivery status; failed is final and ranks above everything.
CREATE OR REPLACE FUNCTION delivery_status_rank(status text) RETURNS integer
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT CASE status
        WHEN 'sent' THEN 1 WHEN 'delivered' THEN 2 WHEN 'read' THEN 3 WHEN 'played' THEN 4
        WHEN 'failed' THEN 100 ELSE 0 END
$$;

CREATE OR REPLACE FUNCTION conversations_append_only() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF (NEW.workspace_id, NEW.lead_id, NEW.channel, NEW.sender, NEW.content, NEW.message_type,
        NEW.external_id, NEW.sent_at, NEW.received_at)
       IS DISTINCT FROM
       (OLD.workspace_id, OLD.lead_id, OLD.channel, OLD.sender, OLD.content, OLD.message_type,
        OLD.external_id, OLD.sent_at, OLD.received_at) THEN
        RAISE EXCEPTION 'conversations are append-only: only delivery_status and metadata may change'
            USING ERRCODE = 'integrity_constraint_violation';
    END IF;
    IF OLD.delivery_status = 'failed' AND NEW.delivery_status IS DISTINCT FROM 'failed' THEN
        RAISE EXCEPTION 'a failed message stays failed' USING ERRCODE = 'integrity_constraint_violation';
    END IF;
    IF delivery_status_rank(NEW.delivery_status) < delivery_status_rank(OLD.delivery_status) THEN
        RAISE EXCEPTION 'delivery_status only moves forward' USING ERRCODE = 'integrity_constraint_violation';
    END IF;
    RETURN NEW;
END;
$$;

-- A substantive customer message, for scoring's depth part: a question (either script's question
-- mark) or at least 60 characters. domain::scoring::is_substantive is the same rule for Rust
-- callers; a parity test runs both over the same cases.
CREATE OR REPLACE FUNCTION is_substantive_message(content text) RETURNS boolean
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS $$
    SELECT strpos(content, '?') > 0 OR strpos(content, '¿') > 0 OR char_length(content) >= 60
$$;
