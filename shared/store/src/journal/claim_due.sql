-- Claims the journaled deliveries that are due for another attempt: not applied, not given up,
-- and past their backoff ($6 = true ignores the backoff: a person replaying on demand). $4 and $5
-- narrow it to one provider and to deliveries received since a moment (NULL: any). SKIP LOCKED
-- plus a lease (next_attempt_at pushed past the run) keep two runs from applying the same row at
-- once; a run that dies leaves the lease to expire. The workspace's phone region comes along:
-- the web-agent body is parsed again with it.
WITH due AS (
    SELECT id
    FROM webhook_events
    WHERE processed_at IS NULL AND failed_at IS NULL
      AND ($6::boolean OR coalesce(next_attempt_at, received_at) <= $1)
      AND ($4::text IS NULL OR provider = $4::text)
      AND ($5::timestamptz IS NULL OR received_at >= $5::timestamptz)
    ORDER BY coalesce(next_attempt_at, received_at)
    LIMIT $2
    FOR UPDATE SKIP LOCKED
)
UPDATE webhook_events e
SET attempts = e.attempts + 1,
    next_attempt_at = $1 + $3 * interval '1 second'
FROM due
WHERE e.id = due.id
RETURNING e.id, e.provider, e.event_key, e.workspace_id, e.payload, e.attempts,
          (SELECT w.default_region FROM workspaces w WHERE w.id = e.workspace_id) AS default_region
