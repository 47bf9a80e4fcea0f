//! Cold start, measured as Lambda starts a function: a fresh process of the function's release
//! binary with `AWS_LAMBDA_RUNTIME_API` pointing at the Runtime API stand-in
//! (`lead_engine_tests::runtime_api`), handed its sample from `events/`.
//!
//! For web-agent, whatsapp and score-lead it prints, over 20 cold starts each (median, and the
//! slowest):
//! - init: from exec to the first `GET …/invocation/next`;
//! - first invocation: from handing over the event to the response, which includes the first
//!   database connection, the first statements and (web-agent, whatsapp) the first SQS call;
//! - second invocation: the same work on the now warm instance (a new delivery);
//!
//! and the median SendMessageBatch of a warm client to the same SQS server (moto), the share
//! of each invocation that is the server's own. `COLD_START_TRACE=<RUST_LOG filter>` also
//! prints the first cold start's log lines, timed from the hand-over of its event (the
//! `publish_jobs` lines time the SQS call and the outbox update).
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
use std::io::{BufRead, BufReader};
use std::process::Stdio;
use std::sync::{Arc, Mutex};
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
    second_invocation: Duration,
}

/// `COLD_START_TRACE`, if set: the `RUST_LOG` filter for the first cold start of each
/// function, whose log lines are then printed with when they arrived (ms from the hand-over of
/// the first event; negative during init). For example
/// `COLD_START_TRACE=platform=debug,aws_smithy_runtime=debug scripts/bench-cold-start`.
fn trace_filter() -> Option<String> {
    std::env::var("COLD_START_TRACE")
        .ok()
        .filter(|v| !v.is_empty())
}

/// A function's stdout lines, each with when it arrived.
type Lines = Arc<Mutex<Vec<(Instant, String)>>>;

/// One cold start, handed two events: the first invocation is the cold one, the second shows
/// the same work on a warm instance.
async fn cold_start(
    name: &str,
    events: [Value; 2],
    env: &[(&str, &str)],
    trace: Option<&str>,
) -> Timing {
    let runtime = RuntimeApi::start(events.into()).await;
    let mut command = lambda_command(name, &runtime, env);
    if let Some(filter) = trace {
        command.env("RUST_LOG", filter).stdout(Stdio::piped());
    }
    let started = Instant::now();
    let mut child = command.spawn().expect("start the function");
    let lines: Lines = Arc::default();
    let reader = child.stdout.take().map(|stdout| {
        let lines = lines.clone();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                lines
                    .lock()
                    .unwrap_or_else(|e| e.into_inner())
                    .push((Instant::now(), line));
            }
        })
    });
    let outcomes = runtime.outcomes(2, Duration::from_secs(30)).await;
    let _ = child.kill();
    let _ = child.wait();
    if let Some(reader) = reader {
        let _ = reader.join();
    }

    let first_poll = runtime
        .first_poll()
        .expect("the function asked for an event");
    let handed = runtime.handed();
    let responded = |i: usize| match outcomes.get(i) {
        Some(Outcome::Response { at, body, .. }) => {
            if let Some(status) = body["statusCode"].as_u64() {
                assert!(status < 300, "{name} answered {status}: {body}");
            }
            *at - handed[i].1
        }
        other => panic!("{name}: no response to event {i} ({other:?})"),
    };
    let timing = Timing {
        init: first_poll - started,
        first_invocation: responded(0),
        second_invocation: responded(1),
    };
    if trace.is_some() {
        println!("{name}: log lines, ms from handing over the first event");
        println!("  {:>8.1}  (exec)", signed_millis(started, handed[0].1));
        println!(
            "  {:>8.1}  (first /next)",
            signed_millis(first_poll, handed[0].1)
        );
        for (at, line) in lines.lock().unwrap_or_else(|e| e.into_inner()).iter() {
            println!("  {:>8.1}  {line}", signed_millis(*at, handed[0].1));
        }
        println!(
            "  {:>8.1}  (first response)",
            timing.first_invocation.as_secs_f64() * 1000.0
        );
    }
    timing
}

/// `at` relative to `origin`, in ms.
fn signed_millis(at: Instant, origin: Instant) -> f64 {
    if at >= origin {
        (at - origin).as_secs_f64() * 1000.0
    } else {
        -(origin - at).as_secs_f64() * 1000.0
    }
}

/// The median time of a warm SendMessageBatch from the functions' own client to the same
/// server, so the SQS server's share of a first invocation can be told apart from the
/// function's.
async fn warm_send_message_batch(client: &platform::aws::sqs::SqsClient, url: &str) -> Duration {
    let mut times = Vec::new();
    for i in 0..RUNS {
        let entry = platform::aws::sqs::Entry {
            id: format!("warm{i}"),
            body: "{}".to_owned(),
        };
        let started = Instant::now();
        let failed = client
            .send_message_batch(url, &[entry])
            .await
            .expect("SendMessageBatch");
        assert!(failed.is_empty(), "{failed:?}");
        times.push(started.elapsed());
    }
    median(times)
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

    let trace = trace_filter();
    let sqs_client = sqs.publisher_client();
    // The first call connects; the median is of warm ones.
    let warm_sqs = warm_send_message_batch(&sqs_client, &scoring).await;

    let functions: [(&str, EventForRun); 3] = [
        ("web-agent", web_agent_event),
        ("whatsapp", whatsapp_event),
        ("score-lead", score_lead_event),
    ];
    println!("cold start: {RUNS} runs each, median (slowest)");
    println!(
        "{:<12} {:>10} {:>22} {:>24} {:>24}",
        "function", "binary", "init (exec → next)", "first invocation", "second invocation"
    );
    for (name, event) in functions {
        let size = std::fs::metadata(workspace_binary(name))
            .map(|m| m.len())
            .unwrap_or(0);
        let mut init = Vec::new();
        let mut first = Vec::new();
        let mut second = Vec::new();
        for run in 0..RUNS {
            let events = [event(run), event(RUNS + run)];
            let trace = trace.as_deref().filter(|_| run == 0);
            let timing = cold_start(name, events, &env, trace).await;
            init.push(timing.init);
            first.push(timing.first_invocation);
            second.push(timing.second_invocation);
        }
        let slowest = |values: &[Duration]| values.iter().max().copied().unwrap_or_default();
        println!(
            "{:<12} {:>8.1} MB {:>12} ({:>8}) {:>12} ({:>8}) {:>12} ({:>8})",
            name,
            size as f64 / 1e6,
            millis(median(init.clone())),
            millis(slowest(&init)),
            millis(median(first.clone())),
            millis(slowest(&first)),
            millis(median(second.clone())),
            millis(slowest(&second)),
        );
    }
    println!(
        "SendMessageBatch of one entry to the same SQS server from a warm client: {} (median of {RUNS})",
        millis(warm_sqs)
    );
}
