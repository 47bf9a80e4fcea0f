-- Records failed publishes in one statement. $1 ids, $2 errors (same order).
-- attempts was already counted by claim_due for relayed rows; a producer's first, unclaimed try
-- (attempts = 0) counts here. Backoff: 5 s * 2^attempts, capped at one hour.
UPDATE outbox o
SET attempts = greatest(o.attempts, 1),
    last_error = left(f.error, 1000),
    available_at = now() + least(
        make_interval(secs => 5 * power(2, least(greatest(o.attempts, 1), 20))),
        interval '1 hour')
FROM unnest($1::bigint[], $2::text[]) AS f (id, error)
WHERE o.id = f.id AND o.published_at IS NULL;
