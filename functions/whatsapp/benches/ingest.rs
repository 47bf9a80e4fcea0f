//! Throughput and latency of `POST /webhooks/whatsapp` through the handler: one signed Meta
//! delivery with one text message per request, as Meta sends them.
//!
//! ```text
//! cargo bench -p whatsapp --bench ingest
//! cargo bench -p whatsapp --bench ingest --profile dev    # quick, unoptimised build of ours
//! ```
//!
//! What is measured, at each concurrency (default 1, 4, 16; `BENCH_CONCURRENCY=1,4,16`), for
//! `BENCH_SECONDS` (default 5) each: `WhatsApp::handle` on a built request, as Lambda or the
//! local stack call it: size check, signature check over the raw bytes, parse, mapping,
//! `ingest_whatsapp` (the one round trip), response. The job sink is disabled, so publishing is
//! not part of the figure.
//!
//! Twice: in an empty workspace, then in a workspace of 200,000 leads (each with a phone and a
//! WhatsApp id, a session and a message). The requests come from the same `PERSONS` people in
//! both, none of them among the 200,000, so the only difference is the size of the tables.
//! The figures should match: nothing in an ingest reads a workspace's rows beyond the person's.
//!
//! The database is a clone of the migrated template on the test cluster (`DATABASE_URL`, else the
//! throwaway cluster in `LEAD_ENGINE_TEST_PGDATA`), dropped at the end.

#![allow(
    clippy::print_stdout,
    reason = "a benchmark's output is its report on stdout"
)]

use domain::secret::Secret;
use lambda_http::{Body, Request};
use platform::jobs::{JobSink, Publisher};
use serde_json::json;
use std::sync::Arc;
use std::time::Duration;
use store::testing::TestDb;
use store::testing::bench::{self, Stats};
use whatsapp::WhatsApp;

const APP_SECRET: &str = "bench_app_secret";
/// Distinct people the requests come from.
const PERSONS: u64 = 2_000;
/// Leads of the large workspace.
const LEADS: i64 = 200_000;
const MESSAGE: &str = "Hi, is the 2 BHK in Baner still available? What is the price?";
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
    let concurrencies = bench::concurrencies("1,4,16");
    let max_concurrency = concurrencies.iter().copied().max().unwrap_or(1);

    let test_db = TestDb::with_pool_size(max_concurrency).await;
    let db = test_db.db().clone();
    let app = Arc::new(WhatsApp {
        publisher: Publisher::new(db.clone(), JobSink::Disabled),
        db,
        app_secret: Secret::new(APP_SECRET),
        verify_token: Secret::new("bench-verify"),
    });
    println!(
        "whatsapp ingest benchmark: {seconds} s per run, {PERSONS} people, one text message per \
         signed delivery, {} CPUs",
        std::thread::available_parallelism().map_or(0, usize::from)
    );

    for (label, number, leads) in [
        ("empty workspace", "100000000000001", 0),
        ("workspace of 200,000 leads", "100000000000002", LEADS),
    ] {
        arrange_workspace(&test_db, number, leads).await;
        let warm_up = drive(
            &app,
            number,
            4,
            Duration::from_secs(60),
            Some(WARM_UP_REQUESTS),
            "warm",
        )
        .await;
        bench::print_handler_table(label, &warm_up);
        for &concurrency in &concurrencies {
            let stats = drive(
                &app,
                number,
                concurrency,
                Duration::from_secs(seconds),
                None,
                &format!("c{concurrency}"),
            )
            .await;
            bench::print_handler_row(concurrency, &stats);
        }
    }

    let counts = test_db
        .client()
        .await
        .query_one(
            "SELECT (SELECT count(*) FROM leads), (SELECT count(*) FROM conversations),
                    (SELECT coalesce(sum(messages), 0) FROM workspace_usage)",
            &[],
        )
        .await
        .expect("count rows");
    println!();
    println!(
        "stored: {} leads, {} messages, {} messages metered",
        counts.get::<_, i64>(0),
        counts.get::<_, i64>(1),
        counts.get::<_, i64>(2)
    );
}

/// A workspace on an unlimited plan with a WhatsApp number, and `leads` leads, each with a
/// phone, a WhatsApp id, a session on the number and one message (none of them one of the
/// `PERSONS` people the requests come from).
async fn arrange_workspace(test_db: &TestDb, phone_number_id: &str, leads: i64) {
    let client = test_db.client().await;
    let workspace = store::testing::whatsapp_workspace(
        &client,
        &format!("wa-{phone_number_id}"),
        phone_number_id,
    )
    .await;
    if leads == 0 {
        return;
    }
    store::testing::load_whatsapp_leads(&client, workspace, phone_number_id, leads).await;
    client
        .batch_execute("VACUUM ANALYZE leads, lead_identities, conversations, whatsapp_sessions")
        .await
        .expect("vacuum the loaded tables");
}

/// The signed request for request `k` of a run: person `k` scrambled into 0..PERSONS, one text
/// message with an id of its own (so every body, and its journal key, is new).
fn request(phone_number_id: &str, run: &str, k: u64) -> Request {
    let person = k.wrapping_mul(2_654_435_761) % PERSONS;
    let wa_id = format!("9198{person:08}");
    let body = json!({
        "object": "whatsapp_business_account",
        "entry": [{
            "id": "102290129340398",
            "changes": [{
                "field": "messages",
                "value": {
                    "messaging_product": "whatsapp",
                    "metadata": {"display_phone_number": "15550783881",
                                 "phone_number_id": phone_number_id},
                    "contacts": [{"profile": {"name": format!("Person {person}")}, "wa_id": wa_id}],
                    "messages": [{
                        "from": wa_id,
                        "id": format!("wamid.{phone_number_id}-{run}-{k}"),
                        "timestamp": chrono_now().to_string(),
                        "type": "text",
                        "text": {"body": MESSAGE}
                    }]
                }
            }]
        }]
    })
    .to_string();
    let signature = domain::signature::sign_meta(body.as_bytes(), &Secret::new(APP_SECRET));
    http::Request::builder()
        .method("POST")
        .uri("/webhooks/whatsapp")
        .header("x-hub-signature-256", signature)
        .header("content-type", "application/json")
        .body(Body::from(body))
        .expect("a valid request")
}

/// Seconds since the epoch (Meta's message timestamps).
fn chrono_now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |elapsed| elapsed.as_secs())
}

/// Posts through the handler from `concurrency` loops until `duration` has passed (or `limit`
/// requests were sent).
fn drive(
    app: &Arc<WhatsApp>,
    phone_number_id: &str,
    concurrency: usize,
    duration: Duration,
    limit: Option<u64>,
    run: &str,
) -> impl Future<Output = Stats> + use<> {
    let app = app.clone();
    let run: Arc<str> = run.into();
    let number: Arc<str> = phone_number_id.into();
    bench::drive(concurrency, duration, limit, move |k| {
        // Building and signing the body is Meta's work: it happens here, outside the timed
        // future.
        let request = request(&number, &run, k);
        let app = app.clone();
        async move { app.handle(request).await.status() == 200 }
    })
}
