//! The served contract: `GET /openapi.json` is the repository's `openapi.yaml` as JSON, an
//! OpenAPI 3.1 document that lists exactly the routes the local router serves, so the document
//! and the router cannot drift apart. (That each operation's responses match the document is
//! `scripts/api-contract`'s job: schemathesis against the running stack.)

use domain::secret::Secret;
use lambda_http::{Body, Request};
use local::routes::{App, router};
use platform::jobs::{JobSink, Publisher};
use std::collections::BTreeSet;
use store::{Db, PoolSettings};

/// The router over a pool that never connects: serving the document needs no database.
fn routes() -> local::router::Router {
    let db = Db::new(&PoolSettings {
        url: "postgres://nobody@127.0.0.1:9/none?sslmode=disable".to_owned(),
        max_size: 1,
        root_cert_path: None,
    })
    .expect("a lazy pool");
    let (sender, _published) = tokio::sync::mpsc::unbounded_channel();
    let publisher = Publisher::new(db.clone(), JobSink::InProcess(sender));
    router(App::new(db, publisher, Secret::new("s"), Secret::new("t")))
}

fn get(path: &str) -> Request {
    http::Request::builder()
        .method("GET")
        .uri(path)
        .body(Body::Empty)
        .expect("a valid request")
}

async fn served_document() -> serde_json::Value {
    let response = routes().dispatch(get("/openapi.json")).await;
    assert_eq!(response.status(), 200, "{:?}", response.body());
    assert_eq!(response.headers()["content-type"], "application/json");
    serde_json::from_slice(response.body().as_ref()).expect("the document is JSON")
}

const METHODS: [&str; 8] = [
    "get", "put", "post", "delete", "options", "head", "patch", "trace",
];

#[tokio::test]
async fn the_served_document_is_openapi_3_1() {
    let document = served_document().await;

    let version = document["openapi"].as_str().unwrap_or_default();
    assert!(version.starts_with("3.1."), "openapi: {version:?}");
    assert!(document["info"]["title"].is_string());
    assert!(document["paths"].is_object());
}

#[tokio::test]
async fn the_document_lists_exactly_the_routes_the_router_serves() {
    let document = served_document().await;
    let paths = document["paths"].as_object().expect("paths");

    let documented: BTreeSet<(String, String)> = paths
        .iter()
        .flat_map(|(path, item)| {
            let item = item.as_object().cloned().unwrap_or_default();
            METHODS
                .into_iter()
                .filter(move |method| item.contains_key(*method))
                .map(move |method| (method.to_uppercase(), path.clone()))
        })
        .collect();
    let served: BTreeSet<(String, String)> = routes()
        .routes()
        .into_iter()
        .map(|(method, pattern)| (method.to_string(), pattern))
        .collect();

    assert_eq!(
        documented.difference(&served).collect::<Vec<_>>(),
        Vec::<&(String, String)>::new(),
        "documented but not served"
    );
    assert_eq!(
        served.difference(&documented).collect::<Vec<_>>(),
        Vec::<&(String, String)>::new(),
        "served but not documented"
    );
}

#[tokio::test]
async fn every_operation_documents_its_responses_and_local_only_routes_say_so() {
    let document = served_document().await;
    let local_only = [
        "/health",
        "/openapi.json",
        "/sites/{site_slug}",
        "/local/jobs/{name}",
    ];

    for (path, item) in document["paths"].as_object().expect("paths") {
        for method in METHODS {
            let Some(operation) = item.get(method) else {
                continue;
            };
            let name = format!("{} {path}", method.to_uppercase());
            assert!(
                operation["operationId"].is_string(),
                "{name}: no operationId"
            );
            let responses = operation["responses"].as_object().expect("responses");
            assert!(
                responses.keys().any(|status| status.starts_with('2')),
                "{name}: no success response"
            );
            let tags: Vec<&str> = operation["tags"]
                .as_array()
                .map(|tags| tags.iter().filter_map(|t| t.as_str()).collect())
                .unwrap_or_default();
            assert_eq!(
                tags.contains(&"local-only"),
                local_only.contains(&path.as_str()),
                "{name}: tagged {tags:?}"
            );
        }
    }
}

#[tokio::test]
async fn every_problem_response_requires_type_title_and_status() {
    let document = served_document().await;
    let problem = &document["components"]["schemas"]["Problem"];
    let required: Vec<&str> = problem["required"]
        .as_array()
        .expect("required")
        .iter()
        .filter_map(|v| v.as_str())
        .collect();
    for member in ["type", "title", "status", "detail"] {
        assert!(required.contains(&member), "Problem must require {member}");
    }

    for (name, response) in document["components"]["responses"]
        .as_object()
        .expect("responses")
    {
        let content = response["content"].as_object().expect("content");
        assert_eq!(
            content.keys().collect::<Vec<_>>(),
            ["application/problem+json"],
            "{name}: errors are problem documents"
        );
    }
}
