-- The versioned score_lead job body (domain::jobs::Job, version 1), written to the outbox.
-- PL/pgSQL for its cached plan (see billing/effective_plan.sql).
CREATE OR REPLACE FUNCTION enqueue_score_lead(p_workspace_id uuid, p_lead_id uuid, p_reason text,
                                   OUT id bigint, OUT payload jsonb)
LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO outbox AS o (queue, payload)
    VALUES ('scoring', jsonb_build_object('v', 1, 'kind', 'score_lead',
            'workspace_id', p_workspace_id, 'lead_id', p_lead_id, 'reason', p_reason))
    RETURNING o.id, o.payload INTO id, payload;
END;
$$;
