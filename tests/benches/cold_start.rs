//! Cold start, measured as Lambda starts a function: a fresh process of the function's release
//! binary with `AWS_LAMBDA_RUNTIME_API` pointing at the Runtime API stand-in
//! (`lead_engine_tests::runtime_api`), handed its sample from `events/`.
//!
//! For web-agent, whatsapp and score-lead it prints, over 20 cold starts each (median, and the
//! slowest):
//! - init: from exec to the first `GET …/invocation/next`;
//! - first invocation: from handing over the event to the response, which includes the first
//!   database connection, the first statements and (web-agent) the first SQS call.
//!
//! Run with `scripts/bench-cold-start`, which builds the release binaries first. Each run gets
//! its own delivery (a new message id, re-signed for WhatsApp), so every first invocation does
//! a real ingest rather than a replay. Figures depend on the machine; the README records them.

#![allow(clippy::print_stdout)] // a bench's report is its output

use domain::secret::Secret;
use lead_engine_tests::moto::MotoServer;
use lead_engine_tests::runtime_api::{
    Outcome, RuntimeApi, lambda_command, sample, workspace_binary,
};
use serde_json::Value;
use std::time::{Duration, Instant};
use store::testing::TestDb;

const RUNS: usize = 20;
const DEMO_KEY: &str = "le_local_demo_key_change_me";
const DEMO_AGENT: &str = "00000000-0000-4000-8000-00000000a001";
const WHATSAPP_APP_SECRET: &str = "local_app_secret";
const WHATSAPP_PHONE_NUMBER_ID: &str = "106540352242922";

/// The web-agent sample with message `run`'s own ids.
fn web_agent_event(run: usize) -> Value {
    let mut event = sample("web-agent-post.json");
    let mut body: Value =
        serde_json::from_str(event["body"].as_str().unwrap_or_default()).expect("a JSON body");
    body["message_id"] = format!("cold-start-{run}").into();
    body["external_session_id"] = format!("cold-start-session-{run}").into();
    event["body"] = body.to_string().into();
    event
}

/// The WhatsApp sample with message `run`'s own id, signed again with the local secret.
fn whatsapp_event(run: usize) -> Value {
    let mut event = sample("whatsapp-message-post.json");
    let text = event["body"].as_str().unwrap_or_default().to_owned();
    let mut body: Value = serde_json::from_str(&text).expect("a JSON body");
    if let Some(messages) = body["entry"][0]["changes"][0]["value"]["messages"].as_array_mut() {
        for message in messages {
            message["id"] = format!("wamid.cold-start-{run}").into();
        }
    }
    let raw = body.to_string();
    let signature = domain::signature::sign_meta(raw.as_bytes(), &Secret::new(WHATSAPP_APP_SECRET));
    event["headers"]["x-hub-signature-256"] = signature.into();
    event["headers"]["content-length"] = raw.len().to_string().into();
    event["body"] = raw.into();
    event
}

fn score_lead_event(_run: usize) -> Value {
    sample("sqs-score-lead.json")
}

/// The event a function is handed on run `n`.
type EventForRun = fn(usize) -> Value;

struct Timing {
    init: Duration,
    first_invocation: Duration,
}

async fn cold_start(name: &str, event: Value, env: &[(&str, &str)]) -> Timing {
    let runtime = RuntimeApi::start(vec![event]).await;
    let mut command = lambda_command(name, &runtime, env);
    let started = Instant::now();
    let mut child = command.spawn().expect("start the function");
    let outcomes = runtime.outcomes(1, Duration::from_secs(30)).await;
    let _ = child.kill();
    let _ = child.wait();

    let first_poll = runtime
        .first_poll()
        .expect("the function asked for an event");
    let handed = runtime.handed()[0].1;
    match outcomes.first() {
        Some(Outcome::Response { at, body, .. }) => {
            if let Some(status) = body["statusCode"].as_u64() {
                assert!(status < 300, "{name} answered {status}: {body}");
            }
            Timing {
                init: first_poll - started,
                first_invocation: *at - handed,
            }
        }
        other => panic!("{name}: no response ({other:?})"),
    }
}

fn median(mut values: Vec<Duration>) -> Duration {
    values.sort();
    values[values.len() / 2]
}

fn millis(d: Duration) -> String {
    format!("{:.1} ms", d.as_secs_f64() * 1000.0)
}

#[tokio::main]
async fn main() {
    let test_db = TestDb::new().await;
    let client = test_db.client().await;
    let tenant = lead_engine_tests::fixtures::tenant(&client).await;
    client
        .execute(
            "WITH key AS (
                 INSERT INTO api_keys (workspace_id, key_sha256, prefix, label)
                 VALUES ($1, $2, 'le_local', 'demo')
             ), channel AS (
                 INSERT INTO whatsapp_channels (workspace_id, phone_number_id, display_phone_number)
                 VALUES ($1, $4, '+1 555 078 3881')
             )
             INSERT INTO agents (id, workspace_id, name) VALUES ($3::text::uuid, $1, 'Asha Verma')",
            &[
                &tenant.workspace_id,
                &store::api_keys::key_sha256(DEMO_KEY).to_vec(),
                &DEMO_AGENT,
                &WHATSAPP_PHONE_NUMBER_ID,
            ],
        )
        .await
        .expect("the samples' key, channel and agent");
    let sqs = MotoServer::start().await;
    let queues = platform::jobs::ensure_queues(&sqs.client(), "cold-start", 5, 30)
        .await
        .expect("queues");
    let scoring = queues[&domain::jobs::Queue::Scoring].url.clone();
    let env = [
        ("DATABASE_URL", test_db.url()),
        ("SCORING_QUEUE_URL", scoring.as_str()),
        ("SQS_ENDPOINT_URL", sqs.endpoint.as_str()),
        ("WHATSAPP_APP_SECRET", WHATSAPP_APP_SECRET),
        ("WHATSAPP_VERIFY_TOKEN", "local_verify_token"),
    ];

    let functions: [(&str, EventForRun); 3] = [
        ("web-agent", web_agent_event),
        ("whatsapp", whatsapp_event),
        ("score-lead", score_lead_event),
    ];
    println!("cold start: {RUNS} runs each, median (slowest)");
    println!(
        "{:<12} {:>10} {:>22} {:>26}",
        "function", "binary", "init (exec → next)", "first invocation"
    );
    for (name, event) in functions {
        let size = std::fs::metadata(workspace_binary(name))
            .map(|m| m.len())
            .unwrap_or(0);
        let mut init = Vec::new();
        let mut first = Vec::new();
        for run in 0..RUNS {
            let timing = cold_start(name, event(run), &env).await;
            init.push(timing.init);
            first.push(timing.first_invocation);
        }
        let slowest = |values: &[Duration]| values.iter().max().copied().unwrap_or_default();
        println!(
            "{:<12} {:>8.1} MB {:>12} ({:>8}) {:>14} ({:>8})",
            name,
            size as f64 / 1e6,
            millis(median(init.clone())),
            millis(slowest(&init)),
            millis(median(first.clone())),
            millis(slowest(&first)),
        );
    }
}
