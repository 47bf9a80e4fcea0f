//! The functions' real binaries, started as Lambda starts them: `AWS_LAMBDA_RUNTIME_API` points
//! at a stand-in for the Runtime API ([`RuntimeApi`]) that hands them the samples in `events/`.
//! What the stand-in receives is the contract: one response per event, and an event a function
//! cannot read reported through `/error`, with the instance still serving the next one.
//!
//! The binaries are the ones `scripts/test` builds (`cargo test --workspace --bins`), found next
//! to this test's own executable (`runtime_api::workspace_binary`).

use lead_engine_tests::moto::MotoServer;
use lead_engine_tests::runtime_api::{Outcome, RuntimeApi, lambda_command, sample};
use serde_json::{Value, json};
use std::process::Child;
use std::time::Duration;
use store::testing::TestDb;

const DEMO_KEY: &str = "le_local_demo_key_change_me";

/// The function's process; killed when dropped, as Lambda ends a sandbox.
struct Function(Child);

impl Drop for Function {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Starts `name` as Lambda would, handed events by `runtime`.
fn start(name: &str, runtime: &RuntimeApi, env: &[(&str, &str)]) -> Function {
    Function(
        lambda_command(name, runtime, env)
            .spawn()
            .expect("start the function"),
    )
}

/// A test database whose workspace holds the local stack's demo key and agent (the samples name
/// them).
async fn database_with_demo_key() -> TestDb {
    let test_db = TestDb::new().await;
    let client = test_db.client().await;
    let tenant = lead_engine_tests::fixtures::tenant(&client).await;
    client
        .execute(
            "INSERT INTO api_keys (workspace_id, key_sha256, prefix, label)
             VALUES ($1, $2, 'le_local', 'demo')",
            &[
                &tenant.workspace_id,
                &store::api_keys::key_sha256(DEMO_KEY).to_vec(),
            ],
        )
        .await
        .expect("the demo key");
    client
        .execute(
            "INSERT INTO agents (id, workspace_id, name)
             VALUES ('00000000-0000-4000-8000-00000000a001', $1, 'Asha Verma')",
            &[&tenant.workspace_id],
        )
        .await
        .expect("the demo agent");
    test_db
}

fn request_ids(outcomes: &[Outcome]) -> Vec<String> {
    outcomes
        .iter()
        .filter_map(|outcome| match outcome {
            Outcome::Response { request_id, .. } | Outcome::Error { request_id, .. } => {
                Some(request_id.clone())
            }
            Outcome::InitError { .. } => None,
        })
        .collect()
}

#[tokio::test]
async fn the_web_agent_answers_each_event_once_and_reports_an_unreadable_one_as_an_error() {
    let test_db = database_with_demo_key().await;
    let sqs = MotoServer::start().await;
    let queues = platform::jobs::ensure_queues(&sqs.client(), "runtime", 5, 30)
        .await
        .expect("queues");
    let scoring = &queues[&domain::jobs::Queue::Scoring].url;
    let runtime = RuntimeApi::start(vec![
        sample("web-agent-post.json"),
        json!({ "not": "an API Gateway event" }),
        sample("web-agent-post.json"),
    ])
    .await;

    let _function = start(
        "web-agent",
        &runtime,
        &[
            ("DATABASE_URL", test_db.url()),
            ("SCORING_QUEUE_URL", scoring),
            ("SQS_ENDPOINT_URL", &sqs.endpoint),
        ],
    );
    let outcomes = runtime.outcomes(3, Duration::from_secs(60)).await;

    assert!(
        runtime.first_poll().is_some(),
        "the function finished its init"
    );
    assert_eq!(outcomes.len(), 3, "one outcome per event: {outcomes:#?}");
    let ids = request_ids(&outcomes);
    let handed: Vec<String> = runtime.handed().into_iter().map(|(id, _)| id).collect();
    assert_eq!(ids, handed, "each event answered once, in order");
    match &outcomes[0] {
        Outcome::Response { body, .. } => {
            assert_eq!(body["statusCode"], 200, "{body}");
            let answer: Value =
                serde_json::from_str(body["body"].as_str().unwrap_or_default()).expect("JSON");
            assert_eq!(answer["duplicate"], false, "{answer}");
        }
        other => panic!("the sample is answered: {other:?}"),
    }
    assert!(
        matches!(&outcomes[1], Outcome::Error { body, .. } if body["errorType"].is_string()),
        "an event that is not API Gateway's is an invocation error: {:?}",
        outcomes[1]
    );
    match &outcomes[2] {
        Outcome::Response { body, .. } => {
            let answer: Value =
                serde_json::from_str(body["body"].as_str().unwrap_or_default()).expect("JSON");
            assert_eq!(
                answer["duplicate"], true,
                "the same delivery again: {answer}"
            );
        }
        other => panic!("the instance kept serving after the error: {other:?}"),
    }
    // The binary published the first delivery's job with Lambda's environment (region and the
    // role's temporary credentials) through its own SQS client; the replay published none.
    let received = sqs
        .client()
        .receive_message()
        .queue_url(scoring)
        .max_number_of_messages(10)
        .wait_time_seconds(1)
        .send()
        .await
        .expect("receive");
    let bodies: Vec<Value> = received
        .messages()
        .iter()
        .map(|m| serde_json::from_str(m.body().unwrap_or_default()).expect("a JSON job"))
        .collect();
    assert_eq!(bodies.len(), 1, "one job: {bodies:?}");
    assert_eq!(bodies[0]["kind"], "score_lead", "{bodies:?}");
}

#[tokio::test]
async fn score_lead_answers_its_sqs_sample_with_a_batch_response() {
    let test_db = TestDb::new().await;
    let runtime = RuntimeApi::start(vec![sample("sqs-score-lead.json")]).await;

    let _function = start("score-lead", &runtime, &[("DATABASE_URL", test_db.url())]);
    let outcomes = runtime.outcomes(1, Duration::from_secs(60)).await;

    assert_eq!(outcomes.len(), 1, "{outcomes:#?}");
    assert_eq!(
        request_ids(&outcomes),
        ["00000000-0000-4000-8000-000000000000"]
    );
    match &outcomes[0] {
        Outcome::Response { body, .. } => {
            assert!(body["batchItemFailures"].is_array(), "{body}");
        }
        other => panic!("a batch response: {other:?}"),
    }
}
