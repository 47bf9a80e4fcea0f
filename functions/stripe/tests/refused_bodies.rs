//! Signed bodies the handler refuses before anything is written, so they can never become a 500.
//! The pool points at nothing: a request that reached the database would fail differently.

use domain::secret::Secret;
use domain::signature::sign_stripe;
use lambda_http::{Body, Request};
use platform::clock::Clock;
use serde_json::json;
use std::time::{SystemTime, UNIX_EPOCH};
use store::{Db, PoolSettings};
use stripe::Stripe;

const SECRET: &str = "whsec_refused_bodies";

fn handler() -> Stripe {
    let db = Db::new(&PoolSettings {
        url: "postgres://nobody@127.0.0.1:9/none?sslmode=disable".to_owned(),
        max_size: 1,
        root_cert_path: None,
    })
    .expect("a lazy pool");
    Stripe {
        db,
        webhook_secret: Secret::new(SECRET),
        clock: Clock::System,
    }
}

fn signed(body: &str) -> Request {
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or_default();
    let t = i64::try_from(now).expect("a sane clock");
    http::Request::builder()
        .method("POST")
        .uri("/webhooks/stripe")
        .header("content-type", "application/json")
        .header(
            "stripe-signature",
            sign_stripe(body.as_bytes(), &Secret::new(SECRET), t),
        )
        .body(Body::from(body.to_owned()))
        .expect("a valid request")
}

fn event(object: serde_json::Value, event_type: &str) -> serde_json::Value {
    json!({
        "id": "evt_1NulCharacters", "object": "event", "type": event_type,
        "created": 1_700_000_000, "livemode": false, "data": {"object": object}
    })
}

#[tokio::test]
async fn a_signed_event_with_nul_in_any_string_or_key_is_a_400_not_a_500() {
    // Found by schemathesis (scripts/api-contract): PostgreSQL stores NUL in neither text nor
    // jsonb, so such an event could be neither applied nor journaled, and was answered 500.
    #[rustfmt::skip]
    let cases = [
        ("a value deep in the object", event(json!({"object": "subscription", "metadata": {"note": "a\u{0}b"}}), "customer.subscription.updated")),
        ("a key",                      event(json!({"object": "subscription", "a\u{0}": 1}), "customer.subscription.updated")),
        ("the type",                   event(json!({}), "invoice.\u{0}paid")),
        ("an unhandled type's object", event(json!({"list": ["x", "\u{0}"]}), "charge.succeeded")),
    ];
    for (where_, body) in cases {
        let response = handler().handle(signed(&body.to_string())).await;

        assert_eq!(response.status(), 400, "NUL in {where_}");
        assert_eq!(
            response.headers()["content-type"],
            "application/problem+json",
            "NUL in {where_}"
        );
        let problem: serde_json::Value =
            serde_json::from_slice(response.body().as_ref()).expect("a problem document");
        assert_eq!(
            problem["type"], "https://lead-engine.dev/problems/malformed-request",
            "NUL in {where_}"
        );
    }
}
