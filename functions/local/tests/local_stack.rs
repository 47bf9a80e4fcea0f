//! The local stack as a developer uses it: a webhook posted to its router, the job dispatched
//! in-process to the real score-lead consumer, the lead scored within a second.

use domain::jobs::Queue;
use domain::secret::Secret;
use lambda_http::{Body, Request};
use lead_engine_tests::fixtures::tenant;
use local::dispatch::{Consumers, start_in_process};
use local::routes::{App, router};
use platform::clock::Clock;
use platform::jobs::Publisher;
use score_lead::ScoreLead;
use std::sync::Arc;
use std::time::Duration;
use store::testing::TestDb;

fn post(path: &str, api_key: &str, body: serde_json::Value) -> Request {
    http::Request::builder()
        .method("POST")
        .uri(path)
        .header("content-type", "application/json")
        .header("authorization", format!("Bearer {api_key}"))
        .body(Body::from(body.to_string()))
        .expect("a valid request")
}

#[tokio::test]
async fn a_web_agent_message_posted_locally_is_scored_within_a_second() {
    let test = TestDb::new().await;
    let tenant = tenant(&**test.client().await).await;
    let scorer = ScoreLead {
        db: test.db().clone(),
        clock: Clock::System,
    };
    let sink = start_in_process(Consumers::new().with(Queue::Scoring, Arc::new(scorer)));
    let publisher = Publisher::new(test.db().clone(), sink);
    let app = App::new(
        test.db().clone(),
        publisher,
        Secret::new("s"),
        Secret::new("t"),
    );

    let response = router(app)
        .dispatch(post(
            "/webhooks/web-agent",
            &tenant.api_key,
            serde_json::json!({
                "name": "Priya", "phone": "+91 98765 43210", "external_session_id": "chat-1",
                "message_id": "m-1", "sender": "customer",
                "message": "What is the price of the 2 BHK? Can I book a site visit on Saturday?"
            }),
        ))
        .await;
    assert_eq!(response.status(), 200, "{:?}", response.body());
    let body: serde_json::Value = serde_json::from_slice(response.body().as_ref()).expect("json");
    let lead: uuid::Uuid = body["lead_id"]
        .as_str()
        .and_then(|s| s.parse().ok())
        .expect("a lead id");

    let client = test.client().await;
    let deadline = tokio::time::Instant::now() + Duration::from_secs(1);
    loop {
        let row = client
            .query_one("SELECT last_scored_at IS NOT NULL, lead_score, lead_stage FROM leads WHERE id = $1", &[&lead])
            .await
            .expect("the lead");
        if row.get::<_, bool>(0) {
            assert!(row.get::<_, i16>(1) > 0, "the message earned points");
            // engagement 5 + booking/visit intent 20 + depth 5 + activity 14 = 44: Qualified.
            assert_eq!(row.get::<_, i16>(1), 44);
            assert_eq!(row.get::<_, String>(2), "Qualified");
            break;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "not scored within a second"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

fn local_app(test: &TestDb) -> App {
    let (sender, _published) = tokio::sync::mpsc::unbounded_channel();
    let publisher = Publisher::new(
        test.db().clone(),
        platform::jobs::JobSink::InProcess(sender),
    );
    App::new(
        test.db().clone(),
        publisher,
        Secret::new("s"),
        Secret::new("t"),
    )
}

fn run_job(name: &str) -> Request {
    http::Request::builder()
        .method("POST")
        .uri(format!("/local/jobs/{name}"))
        .body(Body::Empty)
        .expect("a valid request")
}

#[tokio::test]
async fn a_scheduled_job_runs_now_through_the_local_jobs_route_and_answers_its_summary() {
    let test = TestDb::new().await;
    let routes = router(local_app(&test));

    let response = routes.dispatch(run_job("cold_leads")).await;

    assert_eq!(response.status(), 200, "{:?}", response.body());
    let summary: serde_json::Value =
        serde_json::from_slice(response.body().as_ref()).expect("a JSON summary");
    assert_eq!(summary["moved_to_cold"], 0, "{summary}");
}

#[tokio::test]
async fn an_unknown_scheduled_job_is_a_404_problem() {
    let test = TestDb::new().await;
    let routes = router(local_app(&test));

    let response = routes.dispatch(run_job("make_coffee")).await;

    assert_eq!(response.status(), 404);
    assert_eq!(
        response.headers()["content-type"],
        "application/problem+json"
    );
}

#[tokio::test]
async fn the_scrape_quota_routes_reach_the_handler_with_the_agent_from_the_path() {
    let test = TestDb::new().await;
    let tenant = tenant(&**test.client().await).await;
    let routes = router(local_app(&test));
    let path = format!("/agents/{}/scrape-quota", tenant.agent_id);

    let consumed = routes
        .dispatch(post(
            &path,
            &tenant.api_key,
            serde_json::json!({"units": 2}),
        ))
        .await;
    let mut get = post(&path, &tenant.api_key, serde_json::json!({}));
    *get.method_mut() = http::Method::GET;
    let read = routes.dispatch(get).await;

    assert_eq!(consumed.status(), 200, "{:?}", consumed.body());
    assert_eq!(read.status(), 200, "{:?}", read.body());
    let body: serde_json::Value = serde_json::from_slice(read.body().as_ref()).expect("json");
    assert_eq!(body["used_today"], 2, "GET reads what POST consumed");
}
