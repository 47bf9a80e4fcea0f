//! `cargo bench -p scheduled --bench jobs`: `overdue_tasks` and `lead_followups` over 1,000,000
//! tasks and 200,000 leads, printing rows per second (goal: 1 M tasks in under 10 s).
//!
//! The work is one statement per job inside PostgreSQL, so the Rust profile barely matters:
//! `cargo bench -p scheduled --bench jobs --profile dev` skips the release build's fat LTO of the
//! AWS SDK and measures the same thing. Each job is timed on its first run (everything to do)
//! and on a second run (nothing to do: the cost of an idle schedule). Uses the test harness's
//! database (a throwaway cluster unless `DATABASE_URL` is set), and prints that server's
//! durability and memory settings first, since the figures depend on them.

use platform::clock::Clock;
use platform::jobs::{JobSink, Publisher, RelaySettings};
use scheduled::{Jobs, ScheduledJob};
use std::time::Instant;
use store::testing::TestDb;

const TASKS: i64 = 1_000_000;
const LEADS: i64 = 200_000;
const WORKSPACES: i64 = 20;
const NOW: &str = "2026-11-21T10:00:00Z";

#[tokio::main]
async fn main() {
    let test = TestDb::new().await;
    let client = test.client().await;
    report_settings(&client).await;
    let started = Instant::now();
    // Leads silent for three days (the default rule's two days have passed); every tenth is
    // Converted and must be skipped. Each lead has five tasks: due, in progress and due, postponed
    // past its date, not yet due, completed: 3 of 5 are due, so 600,000 tasks change.
    client
        .batch_execute(&format!(
            "INSERT INTO workspaces (slug, name)
             SELECT 'bench-' || w, 'Bench ' || w FROM generate_series(1, {WORKSPACES}) w;
             INSERT INTO task_automation_rules (workspace_id, rule_type) SELECT id, 'lead_inactive' FROM workspaces;
             INSERT INTO leads (workspace_id, name, first_touchpoint, last_touchpoint, lead_stage,
                                last_customer_message_at)
             SELECT w.id, 'Lead ' || i, 'web', 'web',
                    CASE WHEN i % 10 = 0 THEN 'Converted' ELSE 'Engaged' END,
                    '2026-11-18T09:00:00Z'
             FROM generate_series(1, {LEADS}) i
             JOIN (SELECT id, row_number() OVER (ORDER BY id) - 1 AS n FROM workspaces) w
               ON w.n = i % {WORKSPACES};
             INSERT INTO tasks (workspace_id, lead_id, title, status, due_at, postponed_until, completed_at)
             SELECT l.workspace_id, l.id, 'Task',
                    (ARRAY['pending', 'in_progress', 'postponed', 'pending', 'completed'])[k],
                    CASE WHEN k = 4 THEN timestamptz '2026-11-22T00:00:00Z' ELSE timestamptz '2026-11-21T09:00:00Z' END,
                    CASE WHEN k = 3 THEN timestamptz '2026-11-21T09:30:00Z' END,
                    CASE WHEN k = 5 THEN timestamptz '2026-11-20T00:00:00Z' END
             FROM leads l CROSS JOIN generate_series(1, {TASKS} / {LEADS}) k;"
        ))
        .await
        .expect("arrange the bench data");
    // As autovacuum would have by then; VACUUM cannot share the batch's implicit transaction.
    for table in ["leads", "tasks"] {
        client
            .batch_execute(&format!("VACUUM ANALYZE {table}"))
            .await
            .expect("vacuum");
    }
    // And the arrangement's WAL checkpointed, so the timed runs do not share the machine with
    // the checkpoint a million-row load leaves pending (a job runs long after its data arrived).
    client
        .batch_execute("CHECKPOINT")
        .await
        .expect("checkpoint");
    report_line(&format!(
        "arranged {TASKS} tasks and {LEADS} leads in {:.1} s",
        started.elapsed().as_secs_f64()
    ));

    if std::env::var_os("BENCH_EXPLAIN").is_some() {
        explain(&client).await;
    }
    let jobs = Jobs {
        db: test.db().clone(),
        publisher: Publisher::new(test.db().clone(), JobSink::Disabled),
        relay: RelaySettings::default(),
        clock: Clock::Fixed(NOW.parse().expect("an instant")),
    };
    time(&jobs, &client, ScheduledJob::OverdueTasks, "marked", TASKS).await;
    time(
        &jobs,
        &client,
        ScheduledJob::LeadFollowups,
        "created",
        LEADS,
    )
    .await;
}

/// The server settings behind the figures, printed with them. The test harness's cluster trades
/// durability for speed (`fsync`, `synchronous_commit` and `full_page_writes` off), which
/// production must not: its figures are what the statements cost, without what a durable server
/// adds for writing and flushing WAL. Point `DATABASE_URL` at a durable server to measure that.
async fn report_settings(client: &store::tokio_postgres::Client) {
    let row = client
        .query_one(
            "SELECT current_setting('server_version'), current_setting('shared_buffers'),
                    current_setting('work_mem'), current_setting('max_wal_size'),
                    current_setting('wal_compression'), current_setting('fsync'),
                    current_setting('synchronous_commit'), current_setting('full_page_writes')",
            &[],
        )
        .await
        .expect("read the server settings");
    let setting = |i: usize| row.get::<_, String>(i);
    report_line(&format!(
        "server: PostgreSQL {}, shared_buffers {}, work_mem {}, max_wal_size {}, wal_compression {}; \
         fsync {}, synchronous_commit {}, full_page_writes {} (durable only if all three are on)",
        setting(0),
        setting(1),
        setting(2),
        setting(3),
        setting(4),
        setting(5),
        setting(6),
        setting(7),
    ));
}

/// With `BENCH_EXPLAIN=1`: each job's statement under EXPLAIN ANALYZE (trigger and foreign-key
/// times included), rolled back, to see where the time goes before changing the SQL.
async fn explain(client: &store::tokio_postgres::Client) {
    use store::tokio_postgres::types::Type;
    let now: chrono::DateTime<chrono::Utc> = NOW.parse().expect("an instant");
    let limit = i64::MAX;
    for (name, sql) in [
        ("overdue_tasks", store::tasks::MARK_OVERDUE_SQL),
        ("lead_followups", store::tasks::CREATE_FOLLOWUPS_SQL),
    ] {
        client.batch_execute("BEGIN").await.expect("begin");
        let rows = client
            .query_typed(
                &format!("EXPLAIN (ANALYZE, BUFFERS, TIMING OFF) {sql}"),
                &[(&now, Type::TIMESTAMPTZ), (&limit, Type::INT8)],
            )
            .await
            .expect("explain");
        client.batch_execute("ROLLBACK").await.expect("rollback");
        report_line(&format!("--- {name}"));
        for row in rows {
            report_line(&row.get::<_, String>(0));
        }
    }
}

/// Runs `job` twice, printing each run's time, the rows it changed per second and the rows it
/// had to consider per second, and the CPU time the server spent on it when it can tell.
async fn time(
    jobs: &Jobs,
    client: &store::tokio_postgres::Client,
    job: ScheduledJob,
    changed_key: &str,
    considered: i64,
) {
    for run in ["first", "second"] {
        let cpu_before = server_cpu_seconds(client).await;
        let started = Instant::now();
        let summary = jobs.run(job).await.expect("the job runs");
        let seconds = started.elapsed().as_secs_f64();
        let cpu = match (cpu_before, server_cpu_seconds(client).await) {
            (Some(before), Some(after)) => format!(", server CPU {:.2} s", after - before),
            _ => String::new(),
        };
        let changed = summary[changed_key].as_i64().unwrap_or_default();
        report_line(&format!(
            "{:<15} {run:<6} run: {seconds:>6.2} s, {changed:>7} {changed_key} ({:>9.0} rows/s changed, {:>9.0} rows/s considered){cpu}",
            job.name(),
            changed as f64 / seconds,
            considered as f64 / seconds,
        ));
    }
}

/// CPU seconds (user and system) used so far by the server processes serving this database's
/// clients, other than the one asking: the job's connection (autovacuum is not counted). On a
/// shared machine the wall time depends on what else runs; this much less. Read from /proc
/// through pg_read_file, so only for a local server and a superuser (the harness's cluster);
/// None otherwise. Linux counts in USER_HZ (100 a second).
async fn server_cpu_seconds(client: &store::tokio_postgres::Client) -> Option<f64> {
    let row = client
        .query_one(
            "SELECT coalesce(sum(s[12]::bigint + s[13]::bigint), 0)::float8 / 100
             FROM pg_stat_activity a,
                  string_to_array(split_part(pg_read_file('/proc/' || a.pid || '/stat'), ') ', 2), ' ') s
             WHERE a.datname = current_database() AND a.backend_type = 'client backend'
               AND a.pid <> pg_backend_pid()",
            &[],
        )
        .await
        .ok()?;
    row.get::<_, Option<f64>>(0)
}

/// The bench's output is its report, not logging.
#[allow(clippy::print_stdout)]
fn report_line(line: &str) {
    println!("{line}");
}
