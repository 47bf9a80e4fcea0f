//! The AI writer against a mock Bedrock (wiremock answering the Converse API's real JSON
//! shapes), through the consumer and real PostgreSQL: what the page gets, and what
//! `ai_usage_logs` records for every attempt.

use domain::ids::{AgentId, WorkspaceId};
use domain::jobs::Job;
use platform::aws::bedrock::Converse;
use platform::aws::{AwsClient, Credentials};
use platform::site_writer::AiWriter;
use site_rebuild::SiteRebuild;
use std::sync::Arc;
use std::time::Duration;
use store::testing::TestDb;
use uuid::Uuid;
use wiremock::matchers::{method, path_regex};
use wiremock::{Mock, MockBuilder, MockServer, ResponseTemplate};

const MODEL: &str = "anthropic.claude-3-haiku-20240307-v1:0";
const WORKSPACE: &str = "00000000-0000-4000-8000-00000000d001";
const AGENT: &str = "00000000-0000-4000-8000-00000000a001";

const GOOD_COPY: &str = r#"{"headline": "Find your family home in Baner with Asha",
 "about": ["Asha Verma has helped families settle in Pune's western suburbs for over a decade."],
 "faq": [{"question": "Which areas do you know best?", "answer": "Baner and Aundh."}],
 "metaDescription": "Asha Verma helps families buy homes in Baner and Aundh, Pune."}"#;

/// A Converse call to any model.
fn converse() -> MockBuilder {
    Mock::given(method("POST")).and(path_regex(r"^/model/.+/converse$"))
}

/// A Converse answer carrying `text`, as Bedrock sends it.
fn converse_answer(text: &str) -> ResponseTemplate {
    ResponseTemplate::new(200).set_body_json(serde_json::json!({
        "output": {"message": {"role": "assistant", "content": [{"text": text}]}},
        "stopReason": "end_turn",
        "usage": {"inputTokens": 812, "outputTokens": 240, "totalTokens": 1052},
        "metrics": {"latencyMs": 950}
    }))
}

fn throttled() -> ResponseTemplate {
    ResponseTemplate::new(429)
        .insert_header("x-amzn-ErrorType", "ThrottlingException")
        .set_body_json(
            serde_json::json!({"message": "Too many requests, please wait before trying again."}),
        )
}

struct World {
    test: TestDb,
    mock: MockServer,
}

impl World {
    async fn new() -> Self {
        let test = TestDb::new().await;
        test.client()
            .await
            .batch_execute(&format!(
                "INSERT INTO workspaces (id, slug, name, default_region) VALUES ('{WORKSPACE}', 'demo', 'Demo', 'IN');
                 INSERT INTO agents (id, workspace_id, name, phone_e164)
                 VALUES ('{AGENT}', '{WORKSPACE}', 'Asha Verma', '+919800000001');
                 INSERT INTO agent_configs (agent_id, site_slug, areas) VALUES ('{AGENT}', 'asha-verma', '{{Baner,Aundh}}');
                 INSERT INTO property_listings (workspace_id, agent_id, title, price, currency)
                 VALUES ('{WORKSPACE}', '{AGENT}', '2 BHK with balcony, Baner', 8500000, 'INR');"
            ))
            .await
            .expect("arranged");
        Self {
            test,
            mock: MockServer::start().await,
        }
    }

    fn consumer(&self, timeout: Duration) -> SiteRebuild {
        let aws = AwsClient::new(
            Some("us-east-1".to_owned()),
            Some(Credentials::new("test", "test", Some("session".to_owned()))),
        )
        .expect("client");
        let converse = Converse::new(aws, Some(self.mock.uri()));
        SiteRebuild {
            db: self.test.db().clone(),
            writer: Some(Arc::new(AiWriter::new(converse, MODEL, timeout))),
        }
    }

    async fn rebuild(&self, timeout: Duration) {
        let job = Job::site_rebuild(
            WorkspaceId::from_uuid(WORKSPACE.parse().expect("uuid")),
            AgentId::from_uuid(AGENT.parse().expect("uuid")),
            "test",
        );
        let outcomes = self.consumer(timeout).rebuild(vec![job]).await;
        assert!(outcomes.iter().all(Result::is_ok), "{outcomes:?}");
    }

    /// The one version: its generator and hero headline.
    async fn version(&self) -> (String, String) {
        let row = self
            .test
            .client()
            .await
            .query_one(
                "SELECT generator, document #>> '{pages,0,sections,0,headline}' FROM agent_site_documents",
                &[],
            )
            .await
            .expect("exactly one version");
        (row.get(0), row.get(1))
    }

    /// Every usage row: (operation, model, success, error, input tokens, output tokens).
    async fn usage(&self) -> Vec<(String, String, bool, Option<String>, i32, i32)> {
        self.test
            .client()
            .await
            .query(
                "SELECT operation, model, success, error, input_tokens, output_tokens, latency_ms, workspace_id, agent_id
                 FROM ai_usage_logs ORDER BY created_at, id",
                &[],
            )
            .await
            .expect("usage rows")
            .iter()
            .map(|r| {
                assert!(r.get::<_, Option<i32>>(6).is_some_and(|l| l >= 0));
                assert_eq!(r.get::<_, Uuid>(7).to_string(), WORKSPACE);
                assert_eq!(r.get::<_, Option<Uuid>>(8).map(|a| a.to_string()).as_deref(), Some(AGENT));
                (r.get(0), r.get(1), r.get(2), r.get(3), r.get(4), r.get(5))
            })
            .collect()
    }
}

const FIVE_SECONDS: Duration = Duration::from_secs(5);

#[tokio::test]
async fn a_valid_answer_becomes_the_sites_copy_over_the_database_facts() {
    let world = World::new().await;
    converse()
        .respond_with(converse_answer(GOOD_COPY))
        .expect(1)
        .mount(&world.mock)
        .await;

    world.rebuild(FIVE_SECONDS).await;

    assert_eq!(
        world.version().await,
        (
            format!("ai:{MODEL}"),
            "Find your family home in Baner with Asha".to_owned()
        )
    );
    let html: String = world
        .test
        .client()
        .await
        .query_one("SELECT html FROM agent_site_documents", &[])
        .await
        .expect("html")
        .get(0);
    assert!(html.contains("₹85,00,000"), "prices come from the database");
    assert!(html.contains("https://wa.me/919800000001"), "the phone too");
    assert_eq!(
        world.usage().await,
        [("build_site".into(), MODEL.into(), true, None, 812, 240)]
    );
}

#[tokio::test]
async fn the_call_is_converse_on_the_encoded_model_id_signed_for_bedrock() {
    let world = World::new().await;
    converse()
        .respond_with(converse_answer(GOOD_COPY))
        .mount(&world.mock)
        .await;

    world.rebuild(FIVE_SECONDS).await;

    let requests = world.mock.received_requests().await.expect("recorded");
    let [request] = requests.as_slice() else {
        panic!("one call, got {}", requests.len());
    };
    assert_eq!(
        request.url.path(),
        "/model/anthropic.claude-3-haiku-20240307-v1%3A0/converse"
    );
    let header = |name: &str| {
        request
            .headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_owned()
    };
    assert_eq!(header("content-type"), "application/json");
    assert_eq!(header("x-amz-security-token"), "session");
    let authorization = header("authorization");
    let date = &header("x-amz-date")[..8];
    assert!(
        authorization.starts_with(&format!(
            "AWS4-HMAC-SHA256 Credential=test/{date}/us-east-1/bedrock/aws4_request, \
             SignedHeaders=content-type;host;x-amz-date;x-amz-security-token, Signature="
        )),
        "{authorization}"
    );
    let body: serde_json::Value = serde_json::from_slice(&request.body).expect("json");
    assert_eq!(body["inferenceConfig"]["maxTokens"], 1500);
    assert_eq!(body["messages"][0]["role"], "user");
    assert!(body["system"][0]["text"].is_string());
}

#[tokio::test]
async fn an_invalid_answer_is_corrected_on_the_second_attempt() {
    let world = World::new().await;
    converse()
        .respond_with(converse_answer("Sure! Here is a lovely headline for Asha."))
        .up_to_n_times(1)
        .mount(&world.mock)
        .await;
    converse()
        .respond_with(converse_answer(GOOD_COPY))
        .mount(&world.mock)
        .await;

    world.rebuild(FIVE_SECONDS).await;

    assert_eq!(world.version().await.0, format!("ai:{MODEL}"));
    let usage = world.usage().await;
    assert_eq!(usage.len(), 2);
    assert_eq!(
        (usage[0].2, usage[0].3.as_deref()),
        (false, Some("invalid_output"))
    );
    assert_eq!((usage[1].2, usage[1].3.as_deref()), (true, None));
    let requests = world.mock.received_requests().await.expect("recorded");
    let second: serde_json::Value = serde_json::from_slice(&requests[1].body).expect("json");
    let messages = second["messages"].as_array().expect("messages");
    assert_eq!(
        messages.len(),
        3,
        "prompt, the refused answer, the correction"
    );
    assert!(
        messages[2].to_string().contains("was not accepted"),
        "the corrective prompt names the errors: {}",
        messages[2]
    );
}

#[tokio::test]
async fn three_invalid_answers_fall_back_to_the_template() {
    let world = World::new().await;
    let too_long = GOOD_COPY.replace(
        "Find your family home in Baner with Asha",
        &"Very long headline ".repeat(10),
    );
    converse()
        .respond_with(converse_answer(&too_long))
        .expect(3)
        .mount(&world.mock)
        .await;

    world.rebuild(FIVE_SECONDS).await;

    assert_eq!(
        world.version().await,
        (
            "template".to_owned(),
            "Homes in Baner and Aundh with Asha Verma".to_owned()
        )
    );
    let usage = world.usage().await;
    assert_eq!(usage.len(), 3);
    assert!(
        usage
            .iter()
            .all(|u| !u.2 && u.3.as_deref() == Some("invalid_output"))
    );
}

#[tokio::test]
async fn a_timeout_falls_back_to_the_template_after_one_attempt() {
    let world = World::new().await;
    converse()
        .respond_with(converse_answer(GOOD_COPY).set_delay(Duration::from_secs(3)))
        .mount(&world.mock)
        .await;

    world.rebuild(Duration::from_millis(300)).await;

    assert_eq!(world.version().await.0, "template");
    let usage = world.usage().await;
    assert_eq!(usage.len(), 1);
    assert_eq!(
        (usage[0].2, usage[0].3.as_deref()),
        (false, Some("timeout"))
    );
}

#[tokio::test]
async fn throttling_falls_back_to_the_template_after_one_attempt() {
    let world = World::new().await;
    converse()
        .respond_with(throttled())
        .expect(1)
        .mount(&world.mock)
        .await;

    world.rebuild(FIVE_SECONDS).await;

    assert_eq!(world.version().await.0, "template");
    let usage = world.usage().await;
    assert_eq!(usage.len(), 1);
    assert_eq!(
        (usage[0].2, usage[0].3.as_deref()),
        (false, Some("throttled"))
    );
}

#[tokio::test]
async fn a_duplicate_job_does_not_call_the_model_again() {
    let world = World::new().await;
    converse()
        .respond_with(converse_answer(GOOD_COPY))
        .expect(1)
        .mount(&world.mock)
        .await;

    world.rebuild(FIVE_SECONDS).await;
    world.rebuild(FIVE_SECONDS).await;

    assert_eq!(world.usage().await.len(), 1);
}
