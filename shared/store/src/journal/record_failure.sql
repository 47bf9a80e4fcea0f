-- The failure path of every webhook: the delivery journaled alone, in a transaction of its own,
-- with why applying failed (processed_at NULL), so it is kept and journal_replay applies it
-- later. A delivery already processed is left as it is; one already waiting keeps its attempts.
INSERT INTO webhook_events AS e (provider, event_key, workspace_id, payload, error)
VALUES ($1, $2, $3, $4, $5)
ON CONFLICT (provider, event_key) DO UPDATE
    SET error = EXCLUDED.error,
        workspace_id = coalesce(e.workspace_id, EXCLUDED.workspace_id)
    WHERE e.processed_at IS NULL
