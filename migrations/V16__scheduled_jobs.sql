-- Indexes for the scheduled jobs added with issue 13 (functions/scheduled). The jobs' SQL lives
-- beside store::tasks, store::resets and store::rescoring; only the indexes they need are here.
--
-- lead_followups: V4's partial unique index tasks_one_open_auto_task_key is what stops two
-- concurrent runs creating two open follow-ups for one lead. Two indexes make its hourly run
-- cost what it finds rather than what exists (benches/jobs.rs):
-- - per workspace with a rule, the silent leads are one range of this index, where
--   leads_last_customer_message_idx made every rule read every workspace's silent leads;
CREATE INDEX leads_followup_idx ON leads (workspace_id, last_customer_message_at)
    WHERE status = 'active' AND opted_out_at IS NULL;
-- - "has an automatic follow-up" probes only automatic tasks, a small fraction of all tasks,
--   instead of every task of the lead.
CREATE INDEX tasks_auto_lead_idx ON tasks (lead_id, created_at) WHERE auto_generated;

-- stale_scores looks for leads whose newest customer message is newer than their score. Those
-- are few at any moment (scoring normally catches up within seconds), so a partial index keeps
-- the every-10-minutes job from reading every lead.
CREATE INDEX leads_score_stale_idx ON leads (last_customer_message_at)
    WHERE last_customer_message_at > coalesce(last_scored_at, '-infinity'::timestamptz);

-- stale_scores enqueues at most one safety-net job per lead and new message; this finds the
-- previous one without reading every outbox payload. The reason is written out in the job's SQL
-- so the predicate matches.
CREATE INDEX outbox_stale_score_idx ON outbox ((payload ->> 'lead_id'), created_at)
    WHERE queue = 'scoring' AND payload ->> 'reason' = 'stale_score';
