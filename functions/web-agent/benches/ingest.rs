//! Throughput and latency of `POST /webhooks/web-agent` through the handler, next to the same
//! SQL run by `pgbench` on the same database, so our code's overhead is a visible ratio.
//!
//! ```text
//! cargo bench -p web-agent --bench ingest
//! ```
//!
//! What is measured, at each concurrency (default 1, 4, 16; `BENCH_CONCURRENCY=1,4,16`), for
//! `BENCH_SECONDS` (default 5) each:
//! - handler: `WebAgent::handle` on a built request, as Lambda or the local stack call it: size
//!   check, bearer key lookup (round trip 1), JSON parse, domain parse with phone numbers in four
//!   written forms, intent detection, `ingest_web_agent` (round trip 2), response JSON. The job
//!   sink is disabled, so publishing (an SQS call and an UPDATE of the outbox row, after the
//!   response is decided) is not part of the figure.
//! - pgbench: the same two statements (the key lookup and `SELECT ingest_web_agent(…)` with the
//!   argument the handler builds), in C, prepared, one autocommit statement each.
//!
//! Every request is a customer message from one of `PERSONS` people (a new lead the first time,
//! a returning one after), in that person's session, with a fresh `message_id`.
//!
//! The database is a clone of the migrated template on the test cluster (`DATABASE_URL`, else the
//! throwaway cluster in `LEAD_ENGINE_TEST_PGDATA`), dropped at the end. The run is bounded:
//! each measurement stops at its deadline and pgbench is killed if it overruns by 30 s.

#![allow(
    clippy::print_stdout,
    reason = "a benchmark's output is its report on stdout"
)]

use lambda_http::{Body, Request};
use platform::jobs::{JobSink, Publisher};
use serde_json::{Value, json};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};
use store::testing::TestDb;
use web_agent::WebAgent;

const API_KEY: &str = "le_bench_key_0123456789";
/// Distinct people the requests come from.
const PERSONS: u64 = 2_000;
const MESSAGE: &str = "Hi, is the 2 BHK in Baner still available? What is the price?";
const WARM_UP_REQUESTS: u64 = 300;
/// Grace given to pgbench beyond its own `-T` before it is killed.
const PGBENCH_OVERRUN: Duration = Duration::from_secs(30);

fn main() {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("a tokio runtime");
    runtime.block_on(run());
}

#[derive(Debug, Clone, Copy)]
struct Stats {
    requests: u64,
    errors: u64,
    per_second: f64,
    p50: Duration,
    p99: Duration,
}

impl Stats {
    fn from_latencies(mut latencies: Vec<Duration>, errors: u64, elapsed: Duration) -> Self {
        latencies.sort_unstable();
        let at = |q: usize| {
            latencies
                .get((latencies.len() * q / 100).min(latencies.len().saturating_sub(1)))
                .copied()
                .unwrap_or_default()
        };
        Self {
            requests: latencies.len() as u64,
            errors,
            per_second: latencies.len() as f64 / elapsed.as_secs_f64(),
            p50: at(50),
            p99: at(99),
        }
    }
}

async fn run() {
    let seconds: u64 = env_or("BENCH_SECONDS", 5);
    let concurrencies: Vec<usize> = std::env::var("BENCH_CONCURRENCY")
        .unwrap_or_else(|_| "1,4,16".to_owned())
        .split(',')
        .filter_map(|c| c.trim().parse().ok())
        .filter(|c| *c > 0)
        .collect();
    let max_concurrency = concurrencies.iter().copied().max().unwrap_or(1);
    let pgbench = pgbench_binary();

    let test_db = TestDb::with_pool_size(max_concurrency).await;
    let workspace_id = arrange_workspace(&test_db).await;
    let db = test_db.db().clone();
    let app = Arc::new(WebAgent {
        publisher: Publisher::new(db.clone(), JobSink::Disabled),
        db,
    });
    let script = pgbench_script(workspace_id);

    println!(
        "web-agent ingest benchmark: {seconds} s per run, {PERSONS} people, {} CPUs, database {}",
        std::thread::available_parallelism().map_or(0, usize::from),
        test_db
            .url()
            .rsplit('/')
            .next()
            .and_then(|name| name.split('?').next())
            .unwrap_or_default()
    );
    let warm_up = drive(
        &app,
        4,
        Duration::from_secs(60),
        Some(WARM_UP_REQUESTS),
        "warm",
    )
    .await;
    println!(
        "warm-up: {} requests, {} errors",
        warm_up.requests, warm_up.errors
    );
    println!();
    println!(
        "{:>11} | {:>13} {:>8} {:>8} | {:>13} {:>8} {:>8} | {:>16}",
        "concurrency",
        "handler req/s",
        "p50 ms",
        "p99 ms",
        "pgbench tps",
        "p50 ms",
        "p99 ms",
        "handler/pgbench"
    );
    for &concurrency in &concurrencies {
        let duration = Duration::from_secs(seconds);
        let label = format!("c{concurrency}");
        let handler = drive(&app, concurrency, duration, None, &label).await;
        let sql = match &pgbench {
            Some(binary) => run_pgbench(binary, test_db.url(), &script, concurrency, seconds),
            None => Err("pgbench not found (set PG_BIN_DIR)".to_owned()),
        };
        let (pg_tps, pg_p50, pg_p99, ratio) = match &sql {
            Ok(sql) => (
                format!("{:.0}", sql.per_second),
                ms(sql.p50),
                ms(sql.p99),
                format!("{:.2}", handler.per_second / sql.per_second),
            ),
            Err(_) => ("n/a".into(), "n/a".into(), "n/a".into(), "n/a".into()),
        };
        println!(
            "{:>11} | {:>13.0} {:>8} {:>8} | {:>13} {:>8} {:>8} | {:>16}",
            concurrency,
            handler.per_second,
            ms(handler.p50),
            ms(handler.p99),
            pg_tps,
            pg_p50,
            pg_p99,
            ratio
        );
        if handler.errors > 0 {
            println!(
                "            handler errors: {} of {}",
                handler.errors, handler.requests
            );
        }
        match sql {
            Ok(sql) if sql.errors > 0 => {
                println!("            pgbench failed transactions: {}", sql.errors)
            }
            Err(error) => println!("            pgbench: {error}"),
            Ok(_) => {}
        }
    }
    let counts = test_db
        .client()
        .await
        .query_one(
            "SELECT (SELECT count(*) FROM leads), (SELECT count(*) FROM conversations),
                    (SELECT count(*) FROM lead_intents_log)",
            &[],
        )
        .await
        .expect("count rows");
    println!();
    println!(
        "stored: {} leads, {} messages, {} intents",
        counts.get::<_, i64>(0),
        counts.get::<_, i64>(1),
        counts.get::<_, i64>(2)
    );
}

fn ms(duration: Duration) -> String {
    format!("{:.2}", duration.as_secs_f64() * 1000.0)
}

fn env_or<T: std::str::FromStr>(name: &str, default: T) -> T {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// A workspace in region IN on an unlimited plan, with the bench key and an agent.
async fn arrange_workspace(test_db: &TestDb) -> uuid::Uuid {
    let hash = store::api_keys::key_sha256(API_KEY).to_vec();
    test_db
        .client()
        .await
        .query_one(
            "WITH plan AS (
                 INSERT INTO pricing_plans (code, name) VALUES ('bench', 'Bench') RETURNING id
             ), ws AS (
                 INSERT INTO workspaces (slug, name, default_region, plan_id)
                 SELECT 'bench', 'Bench', 'IN', id FROM plan RETURNING id
             ), key AS (
                 INSERT INTO api_keys (workspace_id, key_sha256, prefix) SELECT id, $1, 'le_bench' FROM ws
             )
             SELECT id FROM ws",
            &[&hash],
        )
        .await
        .expect("arrange the bench workspace")
        .get(0)
}

/// The body a chat agent would post for request `k` of a run: person `k` scrambled into
/// 0..PERSONS, their phone in one of four written forms.
fn body(run: &str, k: u64) -> Value {
    let person = k.wrapping_mul(2_654_435_761) % PERSONS;
    let digits = format!("98{person:08}");
    let (head, tail) = digits.split_at(5);
    let phone = match k % 4 {
        0 => format!("+91 {head} {tail}"),
        1 => format!("0{head} {tail}"),
        2 => digits.clone(),
        _ => format!("0091-{head}-{tail}"),
    };
    json!({
        "name": format!("Person {person}"),
        "phone": phone,
        "email": format!("p{person}@example.com"),
        "external_session_id": format!("s-{person}"),
        "message_id": format!("{run}-{k}"),
        "message": MESSAGE,
        "sender": "customer",
        "conversation_summary": "Asked about the 2 BHK in Baner",
        "metadata": {"utm_source": "bench"},
    })
}

fn request(body: &Value) -> Request {
    http::Request::builder()
        .method("POST")
        .uri("/webhooks/web-agent")
        .header("authorization", format!("Bearer {API_KEY}"))
        .header("content-type", "application/json")
        .body(Body::from(body.to_string()))
        .expect("a valid request")
}

/// Runs `concurrency` loops posting through the handler until `duration` has passed (or `limit`
/// requests were sent).
async fn drive(
    app: &Arc<WebAgent>,
    concurrency: usize,
    duration: Duration,
    limit: Option<u64>,
    run: &str,
) -> Stats {
    let next = Arc::new(AtomicU64::new(0));
    let started = Instant::now();
    let deadline = started + duration;
    let workers: Vec<_> = (0..concurrency)
        .map(|_| {
            let app = app.clone();
            let next = next.clone();
            let run = run.to_owned();
            tokio::spawn(async move {
                let mut latencies = Vec::new();
                let mut errors = 0;
                while Instant::now() < deadline {
                    let k = next.fetch_add(1, Ordering::Relaxed);
                    if limit.is_some_and(|limit| k >= limit) {
                        break;
                    }
                    // Building the body is the client's work, not the handler's.
                    let request = request(&body(&run, k));
                    let sent = Instant::now();
                    let response = app.handle(request).await;
                    latencies.push(sent.elapsed());
                    if response.status() != 200 {
                        errors += 1;
                    }
                }
                (latencies, errors)
            })
        })
        .collect();
    let mut latencies = Vec::new();
    let mut errors = 0;
    for worker in workers {
        let (mut worker_latencies, worker_errors) = worker.await.expect("a bench worker");
        latencies.append(&mut worker_latencies);
        errors += worker_errors;
    }
    Stats::from_latencies(latencies, errors, started.elapsed())
}

/// The pgbench script: the handler's two statements. The key lookup is the store's own SQL
/// with the key's hash inlined; the ingest argument is what the handler builds for a sample
/// body, with the person and the message id varied per transaction as the handler's are.
fn pgbench_script(workspace_id: uuid::Uuid) -> String {
    let authenticate: String = include_str!("../../../shared/store/src/api_keys/authenticate.sql")
        .lines()
        .filter(|line| !line.trim_start().starts_with("--"))
        .collect::<Vec<_>>()
        .join(" ")
        .replace(
            "$1",
            &format!(
                "'\\x{}'::bytea",
                hex_lower(&store::api_keys::key_sha256(API_KEY))
            ),
        );
    let sample = body("sample", 0);
    let command =
        domain::web_agent::WebAgentCommand::parse(&sample, "IN").expect("the sample body is valid");
    // The event key is replaced per transaction below, as the message id is.
    let argument = store::web_agent::ingest_argument(
        domain::ids::WorkspaceId::from_uuid(workspace_id),
        "per-transaction",
        &command,
    );
    // JSON goes in hex: pgbench's prepared mode reads every `:word` in a statement as a
    // variable, literals included (`"confidence":0.9`). Decoding happens per execution (convert_from
    // is not folded into the plan), so the JSON is parsed on every transaction, as the handler's
    // parameter is.
    let hex_json = |value: &Value| {
        format!(
            "convert_from(decode('{}', 'hex'), 'UTF8')::jsonb",
            hex_lower(value.to_string().as_bytes())
        )
    };
    format!(
        "\\set p random(0, {max})\n\
         \\set m random(1, 9000000000000000000)\n\
         {authenticate};\n\
         SELECT ingest_web_agent({argument} || jsonb_build_object(\
           'phone_e164', '+9198' || lpad((:p)::text, 8, '0'), \
           'phone_raw', '98' || lpad((:p)::text, 8, '0'), \
           'email', 'p' || (:p)::text || '@example.com', \
           'name', 'Person ' || (:p)::text, \
           'external_session_id', 's-' || (:p)::text, \
           'message_id', 'pgb-' || (:m)::text, \
           'event_key', 'm:{workspace_id}:pgb-' || (:m)::text), {body});\n",
        max = PERSONS - 1,
        argument = hex_json(&argument),
        body = hex_json(&sample),
    )
}

fn hex_lower(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn pgbench_binary() -> Option<PathBuf> {
    if let Some(dir) = std::env::var_os("PG_BIN_DIR") {
        let path = Path::new(&dir).join("pgbench");
        return path.exists().then_some(path);
    }
    let mut found: Vec<PathBuf> = std::fs::read_dir("/usr/lib/postgresql")
        .ok()?
        .filter_map(|entry| entry.ok().map(|e| e.path().join("bin/pgbench")))
        .filter(|path| path.exists())
        .collect();
    found.sort();
    found.pop()
}

/// Runs pgbench for `seconds` and reads its per-transaction log for the latency percentiles.
fn run_pgbench(
    binary: &Path,
    url: &str,
    script: &str,
    concurrency: usize,
    seconds: u64,
) -> Result<Stats, String> {
    let dir = std::env::temp_dir().join(format!("web-agent-bench-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).map_err(|e| e.to_string())?;
    let script_path = dir.join("ingest.sql");
    std::fs::write(&script_path, script).map_err(|e| e.to_string())?;
    let threads = concurrency.min(std::thread::available_parallelism().map_or(1, usize::from));
    let started = Instant::now();
    let mut child = Command::new(binary)
        .args(["-n", "-M", "prepared", "-l"])
        .arg(format!("--log-prefix={}", dir.join("log").display()))
        .arg(format!("-c{concurrency}"))
        .arg(format!("-j{threads}"))
        .arg(format!("-T{seconds}"))
        .arg("-f")
        .arg(&script_path)
        .arg(url)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| format!("could not start pgbench: {e}"))?;
    let limit = Duration::from_secs(seconds) + PGBENCH_OVERRUN;
    loop {
        match child.try_wait().map_err(|e| e.to_string())? {
            Some(_) => break,
            None if started.elapsed() > limit => {
                let _ = child.kill();
                let _ = child.wait();
                return Err("pgbench overran its time and was stopped".into());
            }
            None => std::thread::sleep(Duration::from_millis(50)),
        }
    }
    let output = child.wait_with_output().map_err(|e| e.to_string())?;
    let stdout = String::from_utf8_lossy(&output.stdout);
    if !output.status.success() {
        let stderr = String::from_utf8_lossy(&output.stderr);
        let reason = stderr
            .lines()
            .find(|line| line.contains("ERROR") || line.contains("error"))
            .unwrap_or_default();
        return Err(format!("pgbench failed: {reason}"));
    }
    let failed = stdout
        .lines()
        .find_map(|line| line.strip_prefix("number of failed transactions: "))
        .and_then(|rest| rest.split_whitespace().next()?.parse().ok())
        .unwrap_or(0);
    let mut latencies = Vec::new();
    for entry in std::fs::read_dir(&dir).map_err(|e| e.to_string())? {
        let path = entry.map_err(|e| e.to_string())?.path();
        if !path
            .file_name()
            .is_some_and(|n| n.to_string_lossy().starts_with("log."))
        {
            continue;
        }
        let log = std::fs::read_to_string(&path).map_err(|e| e.to_string())?;
        // client_id transaction_no time_us script_no epoch epoch_us
        latencies.extend(log.lines().filter_map(|line| {
            let micros: u64 = line.split_whitespace().nth(2)?.parse().ok()?;
            Some(Duration::from_micros(micros))
        }));
    }
    let _ = std::fs::remove_dir_all(&dir);
    // pgbench's own -T is the measured span; the process also spent time connecting.
    Ok(Stats::from_latencies(
        latencies,
        failed,
        Duration::from_secs(seconds),
    ))
}
