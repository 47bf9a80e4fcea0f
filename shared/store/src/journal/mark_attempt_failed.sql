-- One attempt failed: try again after the backoff ($4), or give up (failed_at) when the attempt
-- was the last one ($3). Only a row still unapplied is touched: a provider's retry may have
-- applied it since.
UPDATE webhook_events
SET error = $2::text,
    next_attempt_at = CASE WHEN $3::boolean THEN NULL ELSE $4::timestamptz END,
    failed_at = CASE WHEN $3::boolean THEN $5::timestamptz END
WHERE id = $1 AND processed_at IS NULL
