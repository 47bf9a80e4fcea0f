//! Throughput and latency of `POST /agents/{agent_id}/scrape-quota` through the handler, next to
//! the same SQL run by `pgbench` on the same database, so our code's overhead is a visible ratio.
//!
//! ```text
//! cargo bench -p scrape-quota --bench consume
//! ```
//!
//! What is measured, at each concurrency (default 1 and 16; `BENCH_CONCURRENCY=1,16`), for
//! `BENCH_SECONDS` (default 5) each:
//! - handler: `ScrapeQuota::handle` on a built request with `{"units": 1}`, as Lambda or the
//!   local stack call it: size check, bearer key lookup (round trip 1), path and body parsing,
//!   the check-and-consume statement (round trip 2), the response JSON;
//! - pgbench: the same two statements (the store's key lookup and its call of
//!   `consume_scrape_quota`, with the handler's values inlined and `now()` for the clock), in C,
//!   prepared, one autocommit statement each. The handler's statements are unnamed (pooler-safe)
//!   and so parsed on every call; the function's own plan is cached per connection either way.
//!
//! Requests are spread over `AGENTS` agents of one workspace (request k asks for agent
//! k mod `AGENTS`) on a plan whose limit is never reached, so every request is a grant (a write)
//! and concurrent requests rarely wait on one agent's row lock; a scraper per agent is the real
//! shape. Refusals are cheaper (no write) and are not measured.
//!
//! The database is a clone of the migrated template on the test cluster (`DATABASE_URL`, else the
//! throwaway cluster in `LEAD_ENGINE_TEST_PGDATA`), dropped at the end.

#![allow(
    clippy::print_stdout,
    reason = "a benchmark's output is its report on stdout"
)]

use lambda_http::{Body, Request, RequestExt};
use platform::clock::Clock;
use scrape_quota::ScrapeQuota;
use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;
use store::testing::TestDb;
use store::testing::bench::{self, Stats, hex_lower};
use uuid::Uuid;

const API_KEY: &str = "le_bench_key_0123456789";
/// Agents the requests are spread over.
const AGENTS: u64 = 1_000;
/// The plan's daily limit: out of reach, so every request is a grant.
const UNREACHABLE_LIMIT: i32 = 2_000_000_000;
const WARM_UP_REQUESTS: u64 = 300;

fn main() {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("a tokio runtime");
    runtime.block_on(run());
}

async fn run() {
    let seconds: u64 = bench::env_or("BENCH_SECONDS", 5);
    let concurrencies = bench::concurrencies("1,16");
    let max_concurrency = concurrencies.iter().copied().max().unwrap_or(1);

    let test_db = TestDb::with_pool_size(max_concurrency).await;
    let workspace_id = arrange_workspace(&test_db).await;
    let app = Arc::new(ScrapeQuota {
        db: test_db.db().clone(),
        clock: Clock::System,
    });
    let script = pgbench_script(workspace_id);

    println!(
        "scrape-quota consume benchmark: {seconds} s per run, {AGENTS} agents, {} CPUs",
        std::thread::available_parallelism().map_or(0, usize::from),
    );
    let warm_up = drive(&app, 4, Duration::from_secs(60), Some(WARM_UP_REQUESTS)).await;
    println!(
        "warm-up: {} requests, {} errors",
        warm_up.requests, warm_up.errors
    );
    println!();
    bench::compare(
        test_db.url(),
        &script,
        &concurrencies,
        seconds,
        |concurrency, duration| drive(&app, concurrency, duration, None),
    )
    .await;
    let used: i64 = test_db
        .client()
        .await
        .query_one(
            "SELECT coalesce(sum(used_today), 0)::bigint FROM agent_scrape_quotas",
            &[],
        )
        .await
        .expect("sum the quotas")
        .get(0);
    println!();
    println!("consumed: {used} units");
}

/// Agent `n`'s id: fixed, so the handler and pgbench can both compute it.
fn agent_id(n: u64) -> Uuid {
    Uuid::from_u128(0x0000_0000_0000_4000_8000_0000_0000_0000 | u128::from(n))
}

/// A workspace on a plan that is never exhausted, with the bench key and `AGENTS` agents.
async fn arrange_workspace(test_db: &TestDb) -> Uuid {
    let hash = store::api_keys::key_sha256(API_KEY).to_vec();
    let agents: Vec<Uuid> = (0..AGENTS).map(agent_id).collect();
    test_db
        .client()
        .await
        .query_one(
            "WITH plan AS (
                 INSERT INTO pricing_plans (code, name, scrape_daily_limit)
                 VALUES ('bench', 'Bench', $2) RETURNING id
             ), ws AS (
                 INSERT INTO workspaces (slug, name, timezone, plan_id)
                 SELECT 'bench', 'Bench', 'Asia/Kolkata', id FROM plan RETURNING id
             ), key AS (
                 INSERT INTO api_keys (workspace_id, key_sha256, prefix) SELECT id, $1, 'le_bench' FROM ws
             ), agents AS (
                 INSERT INTO agents (id, workspace_id, name)
                 SELECT a, ws.id, 'Bench agent' FROM ws, unnest($3::uuid[]) AS a
             )
             SELECT id FROM ws",
            &[&hash, &UNREACHABLE_LIMIT, &agents],
        )
        .await
        .expect("arrange the bench workspace")
        .get(0)
}

fn request(agent: Uuid) -> Request {
    http::Request::builder()
        .method("POST")
        .uri(format!("/agents/{agent}/scrape-quota"))
        .header("authorization", format!("Bearer {API_KEY}"))
        .header("content-type", "application/json")
        .body(Body::from(r#"{"units": 1}"#))
        .expect("a valid request")
        .with_path_parameters(HashMap::from([("agent_id".to_owned(), agent.to_string())]))
}

/// Posts through the handler from `concurrency` loops until `duration` has passed (or `limit`
/// requests were sent).
fn drive(
    app: &Arc<ScrapeQuota>,
    concurrency: usize,
    duration: Duration,
    limit: Option<u64>,
) -> impl Future<Output = Stats> + use<> {
    let app = app.clone();
    bench::drive(concurrency, duration, limit, move |k| {
        // Building the request is the client's work: it happens here, outside the timed future.
        let request = request(agent_id(k % AGENTS));
        let app = app.clone();
        async move { app.handle(request).await.status() == 200 }
    })
}

/// The pgbench script: the handler's two statements, the store's own SQL with the handler's
/// values inlined; the agent varies per transaction as the handler's does.
fn pgbench_script(workspace_id: Uuid) -> String {
    let authenticate = bench::sql_command(store::api_keys::AUTHENTICATE_SQL).replace(
        "$1",
        &format!(
            "'\\x{}'::bytea",
            hex_lower(&store::api_keys::key_sha256(API_KEY))
        ),
    );
    let consume = store::scrape_quota::STATEMENT
        .replace("$1", &format!("'{workspace_id}'::uuid"))
        // Agent ids are agent_id(n): the fixed prefix and n in the last 12 hex digits.
        .replace(
            "$2",
            "('00000000-0000-4000-8000-' || lpad(to_hex((:a)::bigint), 12, '0'))::uuid",
        )
        .replace("$3", "1")
        .replace("$4", "now()");
    format!(
        "\\set a random(0, {max})\n{authenticate};\n{consume};\n",
        max = AGENTS - 1
    )
}
