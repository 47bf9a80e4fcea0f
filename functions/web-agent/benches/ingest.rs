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
//! Then the handler alone, at the same concurrencies, in an empty workspace and in a workspace
//! of 200,000 leads (each with a phone, an email, a chat session and a message), with requests
//! from the same `PERSONS` people, none of them among the 200,000: the only difference is the
//! size of the tables, and the figures should match.
//!
//! Profiles: `cargo bench` builds with the release profile (fat LTO; about 15 minutes from
//! scratch on a small machine); `cargo bench -p web-agent --bench ingest --profile dev` builds
//! our crates unoptimised (dependencies stay optimised) for quick iteration. Quote the profile
//! with the figures.
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
use std::sync::Arc;
use std::time::Duration;
use store::testing::TestDb;
use store::testing::bench::{self, Stats, hex_lower};
use web_agent::WebAgent;

const API_KEY: &str = "le_bench_key_0123456789";
/// Distinct people the requests come from.
const PERSONS: u64 = 2_000;
const MESSAGE: &str = "Hi, is the 2 BHK in Baner still available? What is the price?";
const WARM_UP_REQUESTS: u64 = 300;
/// Leads of the large workspace.
const LEADS: i64 = 200_000;

fn main() {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("a tokio runtime");
    runtime.block_on(run());
}

async fn run() {
    let seconds: u64 = bench::env_or("BENCH_SECONDS", 5);
    let concurrencies = bench::concurrencies("1,4,16");
    let max_concurrency = concurrencies.iter().copied().max().unwrap_or(1);

    // DATABASE_STATEMENT_CACHE=on prepares the hot statements per connection, as pgbench does.
    let statement_cache = std::env::var("DATABASE_STATEMENT_CACHE").as_deref() == Ok("on");
    store::pool::set_statement_cache(statement_cache);
    println!(
        "statement cache: {}",
        if statement_cache {
            "on"
        } else {
            "off (unnamed statements)"
        }
    );
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
    bench::compare(
        test_db.url(),
        &script,
        &concurrencies,
        seconds,
        |concurrency, duration| {
            drive(
                &app,
                concurrency,
                duration,
                None,
                &format!("c{concurrency}"),
            )
        },
    )
    .await;
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

    // The handler alone, in an empty workspace and in one of 200,000 leads.
    for (label, slug, key, leads) in [
        (
            "empty workspace",
            "bench_empty",
            "le_bench_key_empty_000001",
            0,
        ),
        (
            "workspace of 200,000 leads",
            "bench_large",
            "le_bench_key_large_000001",
            LEADS,
        ),
    ] {
        arrange_workspace_with(&test_db, slug, key, leads).await;
        let warm_up = drive_with_key(
            &app,
            key,
            4,
            Duration::from_secs(60),
            Some(WARM_UP_REQUESTS),
            &format!("{slug}-warm"),
        )
        .await;
        bench::print_handler_table(label, &warm_up);
        for &concurrency in &concurrencies {
            let stats = drive_with_key(
                &app,
                key,
                concurrency,
                Duration::from_secs(seconds),
                None,
                &format!("{slug}-c{concurrency}"),
            )
            .await;
            bench::print_handler_row(concurrency, &stats);
        }
    }
}

/// A workspace in region IN on an unlimited plan, with the bench key and an agent.
async fn arrange_workspace(test_db: &TestDb) -> uuid::Uuid {
    arrange_workspace_with(test_db, "bench", API_KEY, 0).await
}

/// A workspace `slug` with API key `key`, and `leads` leads, each with a phone, an email, a
/// chat session and one message (none of them one of the `PERSONS` people).
async fn arrange_workspace_with(test_db: &TestDb, slug: &str, key: &str, leads: i64) -> uuid::Uuid {
    let hash = store::api_keys::key_sha256(key).to_vec();
    let client = test_db.client().await;
    let workspace: uuid::Uuid = client
        .query_one(
            "WITH plan AS (
                 INSERT INTO pricing_plans (code, name) VALUES ($2, 'Bench') RETURNING id
             ), ws AS (
                 INSERT INTO workspaces (slug, name, default_region, plan_id)
                 SELECT replace($2, '_', '-'), 'Bench', 'IN', id FROM plan RETURNING id
             ), key AS (
                 INSERT INTO api_keys (workspace_id, key_sha256, prefix) SELECT id, $1, 'le_bench' FROM ws
             )
             SELECT id FROM ws",
            &[&hash, &slug],
        )
        .await
        .expect("arrange the bench workspace")
        .get(0);
    if leads > 0 {
        store::testing::load_web_leads(&client, workspace, leads).await;
        client
            .batch_execute("VACUUM ANALYZE leads, lead_identities, conversations, web_sessions")
            .await
            .expect("vacuum the loaded tables");
    }
    workspace
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

fn request(body: &Value, key: &str) -> Request {
    http::Request::builder()
        .method("POST")
        .uri("/webhooks/web-agent")
        .header("authorization", format!("Bearer {key}"))
        .header("content-type", "application/json")
        .body(Body::from(body.to_string()))
        .expect("a valid request")
}

/// Posts through the handler from `concurrency` loops until `duration` has passed (or `limit`
/// requests were sent).
fn drive(
    app: &Arc<WebAgent>,
    concurrency: usize,
    duration: Duration,
    limit: Option<u64>,
    run: &str,
) -> impl Future<Output = Stats> + use<> {
    drive_with_key(app, API_KEY, concurrency, duration, limit, run)
}

/// [`drive`] with the API key of another workspace.
fn drive_with_key(
    app: &Arc<WebAgent>,
    key: &str,
    concurrency: usize,
    duration: Duration,
    limit: Option<u64>,
    run: &str,
) -> impl Future<Output = Stats> + use<> {
    let app = app.clone();
    let run: Arc<str> = run.into();
    let key: Arc<str> = key.into();
    bench::drive(concurrency, duration, limit, move |k| {
        // Building the body is the client's work: it happens here, outside the timed future.
        let request = request(&body(&run, k), &key);
        let app = app.clone();
        async move { app.handle(request).await.status() == 200 }
    })
}

/// The pgbench script: the handler's two statements. The key lookup is the store's own SQL
/// with the key's hash inlined; the ingest argument is what the handler builds for a sample
/// body, with the person and the message id varied per transaction as the handler's are.
fn pgbench_script(workspace_id: uuid::Uuid) -> String {
    let authenticate = bench::sql_command(store::api_keys::AUTHENTICATE_SQL).replace(
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
           'event_key', concat_ws(chr(58), 'm', '{workspace_id}', 'pgb-' || (:m)::text)), {body});\n",
        max = PERSONS - 1,
        argument = hex_json(&argument),
        body = hex_json(&sample),
    )
}
