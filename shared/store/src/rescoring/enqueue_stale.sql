-- The stale_scores job in one statement: a score_lead job in the outbox for every lead whose
-- newest customer message is newer than its last score, so scoring converges even when the job
-- the message enqueued was lost (dead-letter queue, outbox row given up).
-- $1 the job's "now", $2 at most this many jobs per run, $3 the grace period (the normal path's
-- job is still in flight for a message younger than that). The reason 'stale_score' is written
-- out (rescoring::STALE_SCORE_REASON) so the partial index outbox_stale_score_idx (V16) applies.
--
-- At most one safety-net job per lead and new message: a lead that already has a job with this
-- reason created since its newest message is skipped. That is what makes a second run change
-- nothing, and it matters because scoring writes nothing (not even last_scored_at) when a
-- message does not change the score; without it such a lead would be enqueued every run.
-- The body is domain::jobs::Job::ScoreLead's versioned JSON; a parity test decodes it.
WITH stale AS (
    SELECT l.workspace_id, l.id
    FROM leads l
    WHERE l.last_customer_message_at > coalesce(l.last_scored_at, '-infinity'::timestamptz)
      AND l.last_customer_message_at < $1 - $3::text::interval
      AND NOT EXISTS (
          SELECT 1 FROM outbox o
          WHERE o.queue = 'scoring' AND o.payload ->> 'reason' = 'stale_score'
            AND o.payload ->> 'lead_id' = l.id::text
            AND o.created_at >= l.last_customer_message_at)
    ORDER BY l.last_customer_message_at
    LIMIT $2
), enqueued AS (
    INSERT INTO outbox (queue, payload, created_at, available_at)
    SELECT 'scoring',
           jsonb_build_object('v', 1, 'kind', 'score_lead', 'workspace_id', workspace_id,
                              'lead_id', id, 'reason', 'stale_score'),
           $1, $1
    FROM stale
    RETURNING id
)
SELECT count(*) AS enqueued FROM enqueued
