-- Usage metering: a workspace's conversations, messages and tokens per billing period.
--
-- Why sharded counters (issue 16; migrations/V18__usage_without_hot_row.sql has the table):
-- with one row per workspace and period, every delivery of a workspace updated that row and
-- held its lock until commit, so a workspace's deliveries ran one at a time, whoever they were
-- about (measured: about half of every ingest was spent queueing for it). A period is now
-- counted in several rows, summed on read, and a delivery adds to the first one that no other
-- transaction holds (FOR NO KEY UPDATE SKIP LOCKED), or creates a new one: it never waits for
-- another delivery's counter. A quiet workspace only ever has shard 0, the row usage_reset
-- creates; a busy one grows one counter per delivery that runs at the same time, and no more.
--
-- The alternatives, and why not:
-- - An append-only usage_events table rolled up by a job: inserts never wait, but the answer's
--   `usage` must read the period's total, which is then the rolled-up row plus every event not
--   rolled up yet: a read that grows with traffic (a minute of 1,000 deliveries/s is 60,000 rows
--   to sum per delivery) unless it is allowed to be stale by a whole rollup interval.
-- - Counting only when a conversation starts: it still writes one row per workspace for every
--   new chat session or WhatsApp window, which is most deliveries of a busy workspace (in the
--   shared bench, every person's first message), and message counts would lag behind scoring.
-- Sharded rows keep every total exact at commit, cost one row update and a read of as many rows
-- as the workspace's peak concurrency (one index range of workspace_usage_period_shard_key) per
-- delivery, and need no job.
--
-- Exactness: each delivery adds its counts to exactly one row, in its own transaction, so a
-- period's total is the sum of what committed; the answer's `usage` is that sum as this
-- transaction sees it (other deliveries still in flight are not in it yet).
--
-- Closed periods: close_usage_periods (run by usage_reset) sets closed_at on every counter of
-- an ended period after waiting for every transaction that holds one or is creating one, and
-- moves the watermark usage_closing.closed_through; counting never touches a closed row (the
-- SKIP LOCKED pick, re-checked on the newest row version, and the new-counter path both require
-- closed_at IS NULL) and never creates the first row of a closed period, so a closed period's
-- total never changes, and a late delivery is counted in the period of the moment it runs.

-- The billing period a moment belongs to: the subscription's current period when it covers
-- the moment, else the calendar month (UTC). PL/pgSQL for its cached plan (see
-- billing/effective_plan.sql).
CREATE OR REPLACE FUNCTION usage_period(p_workspace_id uuid, p_at timestamptz,
                             OUT period_start timestamptz, OUT period_end timestamptz)
LANGUAGE plpgsql STABLE AS $$
BEGIN
    SELECT coalesce(s.current_period_start, date_trunc('month', p_at AT TIME ZONE 'UTC') AT TIME ZONE 'UTC'),
           coalesce(s.current_period_end, (date_trunc('month', p_at AT TIME ZONE 'UTC') + interval '1 month') AT TIME ZONE 'UTC')
    INTO period_start, period_end
    FROM (SELECT 1) one
    LEFT JOIN workspace_subscriptions s
      ON s.workspace_id = p_workspace_id
     AND s.current_period_start <= p_at AND p_at < s.current_period_end;
END;
$$;

-- Adds to a workspace's usage in the period of p_at and returns the period's totals (this
-- delivery included, other deliveries in flight not) with the plan's conversation limit
-- (NULL = unlimited; effective_plan.sql).
--
-- Locks: one workspace_usage row, FOR NO KEY UPDATE (no key changes), held to commit. It is
-- taken SKIP LOCKED, so it serialises nothing: a delivery that finds every counter of the
-- period held creates a counter of its own, a new row. That rare path waits only for a running
-- close_usage_periods (the shared advisory lock 'usage/new-counter') and, once per period, for
-- a delivery creating the period's shard 0 at the same moment.
CREATE OR REPLACE FUNCTION add_usage(p_workspace_id uuid, p_at timestamptz,
                          p_conversations integer, p_messages integer, p_tokens bigint DEFAULT 0,
                          OUT conversations integer, OUT messages integer,
                          OUT conversation_limit integer)
LANGUAGE plpgsql AS $$
DECLARE
    v_at    timestamptz := p_at;
    v_start timestamptz;
    v_end   timestamptz;
    v_id    uuid;
BEGIN
    FOR attempt IN 1..4 LOOP
        SELECT p.period_start, p.period_end INTO v_start, v_end
        FROM usage_period(p_workspace_id, v_at) p;

        -- 1. The usual case, one statement: add to the first open counter of the period that
        --    no transaction holds, and read the period's total beside it. A plain UPDATE, with
        --    the total read in its RETURNING: the same UPDATE as a data-modifying CTE (WITH
        --    bumped AS (UPDATE …) SELECT … FROM bumped) came back empty for 0.2-0.5% of calls
        --    under 16 connections although free counters existed (measured on PostgreSQL 15:
        --    0 of 69,000 plain, 169 of 68,000 in a CTE), and each of those created a counter, so
        --    a busy period grew hundreds a minute. tests/usage.rs bounds the counters.
        UPDATE workspace_usage u
        SET conversations = u.conversations + p_conversations,
            messages = u.messages + p_messages,
            tokens_used = u.tokens_used + p_tokens
        WHERE u.id = (SELECT f.id
                      FROM workspace_usage f
                      WHERE f.workspace_id = p_workspace_id
                        AND f.period_start = v_start
                        AND f.closed_at IS NULL
                      ORDER BY f.shard
                      LIMIT 1
                      FOR NO KEY UPDATE SKIP LOCKED)
        RETURNING u.id,
                  u.conversations + coalesce((SELECT sum(o.conversations)::int
                                             FROM workspace_usage o
                                             WHERE o.workspace_id = p_workspace_id
                                               AND o.period_start = v_start
                                               AND o.id <> u.id), 0),
                  u.messages + coalesce((SELECT sum(o.messages)::int
                                        FROM workspace_usage o
                                        WHERE o.workspace_id = p_workspace_id
                                          AND o.period_start = v_start
                                          AND o.id <> u.id), 0),
                  workspace_conversation_limit(p_workspace_id)
        INTO v_id, conversations, messages, conversation_limit;
        IF v_id IS NOT NULL THEN
            RETURN;
        END IF;


        -- 2. No open counter is free: a new one. Shard 0 when the period has none yet
        --    (usage_reset has not run in it), else a number never used before
        --    (workspace_usage_shard_seq): a row nobody else can be writing, so this insert
        --    never waits for another delivery. (Handing out a fixed set of numbers instead made
        --    deliveries that needed a new counter at the same moment queue on the same row and
        --    deadlock with the one holding it.) Never for a closed period: shard 0 must exist
        --    and be open, or (for a period's first counter) the period must end after the
        --    usage_closing watermark. The shared advisory lock (shared with every other
        --    delivery on this path, so they never wait for each other on it) is what
        --    close_usage_periods takes exclusively: it waits for this insert to commit, and
        --    this insert, which starts after the lock is granted, sees what a close committed.
        PERFORM pg_advisory_xact_lock_shared(hashtextextended('usage/new-counter', 0));
        WITH first AS (
            SELECT z.closed_at IS NOT NULL AS closed
            FROM workspace_usage z
            WHERE z.workspace_id = p_workspace_id AND z.period_start = v_start AND z.shard = 0
        )
        INSERT INTO workspace_usage AS u (workspace_id, period_start, period_end, shard,
                                          conversations, messages, tokens_used)
        SELECT p_workspace_id, v_start, v_end,
               CASE WHEN EXISTS (SELECT 1 FROM first) THEN nextval('workspace_usage_shard_seq')::int
                    ELSE 0 END,
               p_conversations, p_messages, p_tokens
        FROM usage_closing c
        WHERE c.id
          AND CASE WHEN EXISTS (SELECT 1 FROM first) THEN NOT (SELECT first.closed FROM first)
                   ELSE v_end > c.closed_through END
        ON CONFLICT (workspace_id, period_start, shard) DO NOTHING
        RETURNING u.id INTO v_id;

        IF v_id IS NOT NULL THEN
            SELECT coalesce(sum(u.conversations), 0)::int, coalesce(sum(u.messages), 0)::int,
                   workspace_conversation_limit(p_workspace_id)
            INTO conversations, messages, conversation_limit
            FROM workspace_usage u
            WHERE u.workspace_id = p_workspace_id AND u.period_start = v_start;
            RETURN;
        END IF;

        -- 3. Nothing inserted: another delivery created shard 0 a moment ago (the next
        --    attempt finds it), or the period of p_at is closed, and then this delivery counts
        --    in the period of now (a closed period's total never changes).
        IF EXISTS (SELECT 1 FROM workspace_usage z
                   WHERE z.workspace_id = p_workspace_id AND z.period_start = v_start
                     AND z.shard = 0 AND z.closed_at IS NOT NULL)
           OR v_end <= (SELECT c.closed_through FROM usage_closing c WHERE c.id) THEN
            v_at := clock_timestamp();
        END IF;
    END LOOP;
    RAISE EXCEPTION 'add_usage: no open usage period for workspace % at %', p_workspace_id, v_at
        USING ERRCODE = 'object_not_in_prerequisite_state';
END;
$$;

-- A workspace's usage in the period of p_at, read without writing or locking (0 when nothing
-- was counted): the sum of the period's counters.
CREATE OR REPLACE FUNCTION current_usage(p_workspace_id uuid, p_at timestamptz,
                              OUT conversations integer, OUT messages integer,
                              OUT conversation_limit integer)
LANGUAGE sql STABLE AS $$
    SELECT coalesce(sum(u.conversations), 0)::int, coalesce(sum(u.messages), 0)::int,
           workspace_conversation_limit(p_workspace_id)
    FROM usage_period(p_workspace_id, p_at) period
    LEFT JOIN workspace_usage u
      ON u.workspace_id = p_workspace_id AND u.period_start = period.period_start
$$;

-- Closes every period that ended at or before p_now (usage_reset runs it) and returns how many
-- (workspace, period) pairs it closed. Separate statements on purpose, each seeing what the
-- transactions it waited for committed:
-- 1. the advisory lock every delivery creating a counter holds shared: waits for those
--    inserts, and holds off new ones until this transaction (closed_at, the watermark) commits;
-- 2. lock every open counter of an ended period FOR UPDATE, which waits for each delivery that
--    holds one (FOR NO KEY UPDATE);
-- 3. then, in a new snapshot that sees what they committed (counters created meanwhile
--    included), mark them closed, and move the watermark.
-- Afterwards no delivery can change them: add_usage only updates rows with closed_at NULL, only
-- creates a counter while shard 0 is open, and only creates a shard 0 after the watermark.
CREATE OR REPLACE FUNCTION close_usage_periods(p_now timestamptz) RETURNS integer
LANGUAGE plpgsql AS $$
DECLARE
    v_closed integer;
BEGIN
    PERFORM pg_advisory_xact_lock(hashtextextended('usage/new-counter', 0));

    PERFORM 1
    FROM workspace_usage u
    WHERE u.period_end <= p_now AND u.closed_at IS NULL
    ORDER BY u.id
    FOR UPDATE;

    WITH closed AS (
        UPDATE workspace_usage u SET closed_at = p_now
        WHERE u.period_end <= p_now AND u.closed_at IS NULL
        RETURNING u.workspace_id, u.period_start
    )
    SELECT count(DISTINCT (c.workspace_id, c.period_start))::int INTO v_closed FROM closed c;

    UPDATE usage_closing SET closed_through = greatest(closed_through, p_now);
    RETURN v_closed;
END;
$$;

-- A period's totals, one row per workspace and period: the sum of its counters. What
-- dashboards and billing read (workspace_usage itself has one row per counter).
-- security_invoker: read as the caller, so workspace_usage's row-level security applies
-- (migrations/V19__roles_and_row_level_security.sql).
CREATE OR REPLACE VIEW workspace_period_usage WITH (security_invoker = true) AS
SELECT u.workspace_id, u.period_start, max(u.period_end) AS period_end,
       sum(u.conversations)::int AS conversations, sum(u.messages)::int AS messages,
       sum(u.tokens_used)::bigint AS tokens_used,
       bool_and(u.closed_at IS NOT NULL) AS closed, max(u.closed_at) AS closed_at,
       count(*)::int AS counters
FROM workspace_usage u
GROUP BY u.workspace_id, u.period_start;
