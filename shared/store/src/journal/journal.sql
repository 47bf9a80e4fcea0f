-- The inbound journal, one protocol for every webhook (web agent, WhatsApp, Stripe).
--
-- A provider's apply function (ingest_web_agent, ingest_whatsapp, ingest_stripe) runs as one
-- statement, so one transaction, shaped as:
--     SELECT * INTO v_open FROM journal_open(provider, key);
--     IF v_open.replay THEN RETURN v_open.result; END IF;   -- answered from the stored result
--     … apply …
--     PERFORM journal_close(provider, key, workspace, payload, result, reasons);
-- The journal row and the effects commit together, or neither does. When applying fails, the
-- caller journals the delivery alone in a transaction of its own (store::journal::
-- record_failure, processed_at NULL), and the journal_replay job applies it later through the
-- same function; a provider's retry of the same delivery does the same at once.

-- Serialises the copies of one delivery (a provider's retry racing the original, twenty
-- concurrent posts of one message id) and answers whether it was already processed. The lock
-- is transaction-scoped and released only once the holder's commit is visible, so the second
-- copy finds the first one's row. Deliveries with different keys never wait for each other.
CREATE OR REPLACE FUNCTION journal_open(p_provider text, p_event_key text,
                                        OUT replay boolean, OUT result jsonb)
LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_advisory_xact_lock(hashtextextended('journal/' || p_provider || '/' || p_event_key, 0));
    SELECT e.processed_at IS NOT NULL, e.result INTO replay, result
    FROM webhook_events e
    WHERE e.provider = p_provider AND e.event_key = p_event_key;
    replay := coalesce(replay, false);
    IF NOT replay THEN
        result := NULL;
    END IF;
END;
$$;

-- Records a delivery as applied, with its result (what a replay answers) and the reasons why
-- parts of it could not be mapped (NULL when everything was). One write: an insert, or the
-- update of the row a failed attempt journaled. Returns the journal row's id. PL/pgSQL for its
-- cached plan (see billing/effective_plan.sql).
CREATE OR REPLACE FUNCTION journal_close(p_provider text, p_event_key text, p_workspace_id uuid,
                                         p_payload jsonb, p_result jsonb,
                                         p_error text DEFAULT NULL)
RETURNS uuid
LANGUAGE plpgsql AS $$
DECLARE
    v_id uuid;
BEGIN
    INSERT INTO webhook_events AS e (provider, event_key, workspace_id, payload, processed_at,
                                     result, error)
    VALUES (p_provider, p_event_key, p_workspace_id, p_payload, clock_timestamp(), p_result,
            p_error)
    ON CONFLICT (provider, event_key) DO UPDATE
        SET workspace_id = coalesce(EXCLUDED.workspace_id, e.workspace_id),
            -- The failure path may have kept the body wrapped; the applied body replaces it.
            payload = EXCLUDED.payload,
            processed_at = EXCLUDED.processed_at,
            result = EXCLUDED.result,
            error = EXCLUDED.error,
            next_attempt_at = NULL
    RETURNING e.id INTO v_id;
    RETURN v_id;
END;
$$;
