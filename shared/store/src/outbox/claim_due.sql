-- Claims the oldest due rows for one relay run.
-- $1 limit, $2 grace seconds, $3 lease seconds.
-- SKIP LOCKED lets concurrent relays take disjoint rows; moving available_at forward is the lease
-- that keeps them disjoint after this statement commits, until the relay reports back.
-- The grace period leaves a fresh row to the producer, which publishes it right after commit;
-- rows no producer publishes (needs_relay: written by triggers, e.g. site_rebuild) skip it, so
-- they are never delayed past the relay's next run.
-- No row is ever given up: one that keeps failing is retried at the longest backoff (one hour,
-- mark_failed.sql) for as long as it takes, and the relay's outbox age metric keeps it visible
-- (the OutboxStuck alarm in template.yaml).
UPDATE outbox o
SET available_at = now() + make_interval(secs => $3),
    attempts = o.attempts + 1
FROM (
    SELECT id FROM outbox
    WHERE published_at IS NULL
      AND available_at <= now()
      AND (needs_relay OR created_at <= now() - make_interval(secs => $2))
    ORDER BY id
    LIMIT $1
    FOR UPDATE SKIP LOCKED
) due
WHERE o.id = due.id
RETURNING o.id, o.queue, o.payload, o.attempts;
