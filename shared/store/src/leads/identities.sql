-- Strength of an identity when two of them point at different leads: the strongest wins.
CREATE OR REPLACE FUNCTION lead_identity_rank(kind text) RETURNS integer
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS $$
    SELECT CASE kind
        WHEN 'phone' THEN 1 WHEN 'whatsapp_id' THEN 2 WHEN 'whatsapp_bsuid' THEN 3
        WHEN 'email' THEN 4 WHEN 'web_session' THEN 5 ELSE 99 END
$$;

-- Takes a transaction-scoped advisory lock per identity, in a fixed order so that two
-- transactions locking overlapping sets cannot deadlock. A caller that resolves several leads
-- in one transaction (a WhatsApp batch) calls this once with every identity first.
-- p_identities: [{"kind": "...", "value": "..."}, ...]
CREATE OR REPLACE FUNCTION lock_lead_identities(p_workspace_id uuid, p_identities jsonb) RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
    PERFORM count(pg_advisory_xact_lock(h))
    FROM (
        SELECT DISTINCT hashtextextended(p_workspace_id::text || '/' || (i ->> 'kind') || '/' || (i ->> 'value'), 0) AS h
        FROM jsonb_array_elements(p_identities) AS i
        ORDER BY 1
    ) locks;
END;
$$;
