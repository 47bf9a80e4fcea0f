//! `GET /health` through the local stack's router, against a real database and a dead one.

use domain::secret::Secret;
use lambda_http::{Body, Request};
use local::routes::{App, router};
use platform::jobs::{JobSink, Publisher};
use store::{Db, PoolSettings, testing::TestDb};

fn app(db: Db) -> App {
    let publisher = Publisher::new(db.clone(), JobSink::Disabled);
    App::new(db, publisher, Secret::new("s"), Secret::new("t"))
}

fn get(path: &str) -> Request {
    http::Request::builder()
        .method("GET")
        .uri(path)
        .body(Body::Empty)
        .expect("a valid request")
}

fn json(response: &http::Response<Body>) -> serde_json::Value {
    serde_json::from_slice(response.body().as_ref()).expect("a JSON body")
}

#[tokio::test]
async fn health_is_200_when_the_database_answers() {
    let test = TestDb::new().await;
    let response = router(app(test.db().clone()))
        .dispatch(get("/health"))
        .await;
    assert_eq!(response.status(), 200);
    assert_eq!(
        json(&response),
        serde_json::json!({"status": "ok", "database": "ok"})
    );
}

#[tokio::test]
async fn health_is_503_when_the_database_is_unreachable() {
    // Nothing listens on port 1; the pool builds (it connects lazily) and the ping fails.
    let db = Db::new(&PoolSettings {
        url: "postgres://postgres@127.0.0.1:1/none?sslmode=disable&connect_timeout=1".into(),
        max_size: 1,
        root_cert_path: None,
    })
    .expect("a pool builds without connecting");
    let response = router(app(db)).dispatch(get("/health")).await;
    assert_eq!(response.status(), 503);
    assert_eq!(json(&response)["database"], "unreachable");
}
