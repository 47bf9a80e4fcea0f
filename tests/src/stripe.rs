//! The Stripe webhook's verbs of the [`TestApp`], whose Stripe handler's clock stands at [`NOW`]
//! unless the builder says otherwise. Verbs act as Stripe would (`post_stripe_event`,
//! `post_stripe_bytes`, `post_stripe_with_signature`); [`TestApp::reported_limit`] reads the
//! conversation limit the web agent reports. Builders make events in Stripe's
//! shape from the copied fixtures (`subscription_event`, `checkout_event`, `invoice_event`);
//! helpers read back rows with plain SQL. The real payloads are in `tests/fixtures/stripe`
//! ([`fixture`], [`fixture_names`]; sources in `tests/fixtures/SOURCES.md`).

use crate::app::TestApp;
use crate::fixtures::{self, Sql, Tenant};
use crate::response::TestResponse;
use domain::secret::Secret;
use domain::signature::{STRIPE_SIGNATURE_HEADER, sign_stripe};
use lambda_http::{Body, Request};
use serde_json::{Value, json};
use std::path::PathBuf;
use uuid::Uuid;

/// The route, as API Gateway and the local stack call it.
pub const PATH: &str = "/webhooks/stripe";
/// The endpoint secret of the tests.
pub const SECRET: &str = "whsec_test_secret";
/// The local stack's default secret, which signs `events/stripe-subscription-updated.json`.
pub const LOCAL_SECRET: &str = "whsec_local_dev_secret";
/// Where the tests' clock stands (2026-01-01T10:00:00Z); events are signed at it.
pub const NOW: i64 = 1_767_261_600;

/// The repository's copies of the provider's published payloads.
pub const PAYLOADS: fixtures::Payloads = fixtures::Payloads("stripe");

pub fn fixtures_dir() -> PathBuf {
    PAYLOADS.dir()
}

/// Every fixture's file name, sorted.
pub fn fixture_names() -> Vec<String> {
    PAYLOADS.names()
}

/// A fixture's bytes, as they were published.
pub fn fixture_bytes(name: &str) -> Vec<u8> {
    PAYLOADS.bytes(name)
}

/// A fixture as JSON.
pub fn fixture(name: &str) -> Value {
    PAYLOADS.json(name)
}

/// Whether a fixture is an `event.data` fragment rather than a whole event.
pub fn is_fragment(name: &str) -> bool {
    name.contains("data-fragment")
}

/// An event envelope around `object` (what `data.object` holds).
pub fn envelope(event_id: &str, event_type: &str, created: i64, object: Value) -> Value {
    json!({
        "id": event_id,
        "object": "event",
        "api_version": "2020-08-27",
        "created": created,
        "data": { "object": object },
        "livemode": false,
        "pending_webhooks": 1,
        "request": { "id": null, "idempotency_key": null },
        "type": event_type,
    })
}

/// A fixture as an event with its own id: a whole event gets `event_id`; a fragment is wrapped
/// in an envelope of `fragment_type` created at `created`.
pub fn fixture_event(name: &str, event_id: &str, fragment_type: &str, created: i64) -> Value {
    let mut body = fixture(name);
    if is_fragment(name) {
        let object = body["object"].take();
        return envelope(event_id, fragment_type, created, object);
    }
    body["id"] = json!(event_id);
    body
}

/// What a subscription event says; built on stripe-ruby-mock's `customer.subscription.updated`.
#[derive(Debug, Clone)]
pub struct SubscriptionFacts<'a> {
    pub event_id: &'a str,
    pub event_type: &'a str,
    pub created: i64,
    /// `None`: `sub_of_<customer>`, so tests with many customers in one database never share a
    /// subscription id.
    pub subscription: Option<&'a str>,
    pub customer: &'a str,
    pub status: &'a str,
    pub price: &'a str,
    pub period_end: i64,
    /// `metadata.workspace_id`.
    pub workspace_id: Option<Uuid>,
}

impl<'a> SubscriptionFacts<'a> {
    /// An `active` subscription update with a month-long period ending 30 days after `created`.
    pub fn new(event_id: &'a str, created: i64, customer: &'a str, price: &'a str) -> Self {
        Self {
            event_id,
            event_type: "customer.subscription.updated",
            created,
            subscription: None,
            customer,
            status: "active",
            price,
            period_end: created + 30 * 86_400,
            workspace_id: None,
        }
    }
}

/// A subscription event in the pre-2025 shape (period on the subscription).
pub fn subscription_event(facts: &SubscriptionFacts<'_>) -> Value {
    let mut event = fixture("srm_customer.subscription.updated.json");
    event["id"] = json!(facts.event_id);
    event["type"] = json!(facts.event_type);
    event["created"] = json!(facts.created);
    let object = &mut event["data"]["object"];
    object["id"] = json!(
        facts
            .subscription
            .map_or_else(|| format!("sub_of_{}", facts.customer), str::to_owned)
    );
    object["customer"] = json!(facts.customer);
    object["status"] = json!(facts.status);
    object["current_period_start"] = json!(facts.period_end - 30 * 86_400);
    object["current_period_end"] = json!(facts.period_end);
    object["items"]["data"][0]["price"]["id"] = json!(facts.price);
    object["items"]["data"][0]["plan"]["id"] = json!(facts.price);
    object["plan"]["id"] = json!(facts.price);
    if let Some(workspace_id) = facts.workspace_id {
        object["metadata"] = json!({ "workspace_id": workspace_id.to_string() });
    }
    event
}

/// The same event in the 2025+ ("basil") shape: the period moves from the subscription to its
/// item, and the legacy `plan` objects are gone.
pub fn basil_subscription_event(facts: &SubscriptionFacts<'_>) -> Value {
    let mut event = subscription_event(facts);
    event["api_version"] = json!("2025-03-31.basil");
    let object = event["data"]["object"]
        .as_object_mut()
        .expect("subscription object");
    let start = object.remove("current_period_start").unwrap_or_default();
    let end = object.remove("current_period_end").unwrap_or_default();
    object.remove("plan");
    let item = object["items"]["data"][0]
        .as_object_mut()
        .expect("subscription item");
    item.remove("plan");
    item.insert("current_period_start".to_owned(), start);
    item.insert("current_period_end".to_owned(), end);
    event
}

/// A subscription-mode `checkout.session.completed` (pay-rails' fragment) for `customer`,
/// naming `workspace_id` in `client_reference_id`.
pub fn checkout_event(
    event_id: &str,
    created: i64,
    customer: &str,
    workspace_id: Option<Uuid>,
) -> Value {
    let mut object = fixture("pay_checkout.session.completed.data-fragment.json")["object"].take();
    object["customer"] = json!(customer);
    object["client_reference_id"] = json!(workspace_id.map(|id| id.to_string()));
    envelope(event_id, "checkout.session.completed", created, object)
}

/// An invoice event (stripe-ruby-mock's `invoice.paid`) for `invoice_id` in `status`.
pub fn invoice_event(
    event_id: &str,
    event_type: &str,
    invoice_id: &str,
    customer: &str,
    status: &str,
) -> Value {
    let mut event = fixture("srm_invoice.paid.json");
    event["id"] = json!(event_id);
    event["type"] = json!(event_type);
    let object = &mut event["data"]["object"];
    object["id"] = json!(invoice_id);
    object["customer"] = json!(customer);
    object["status"] = json!(status);
    object["amount_paid"] = json!(if status == "paid" { 2000 } else { 0 });
    event
}

/// `Stripe-Signature` for `body` signed with `secret` at `t`.
pub fn sign(body: &[u8], secret: &str, t: i64) -> String {
    sign_stripe(body, &Secret::new(secret), t)
}

/// A POST to the webhook's route as API Gateway hands it to the function.
pub fn post_request(body: impl Into<Body>, signature: Option<&str>) -> Request {
    let mut builder = http::Request::builder()
        .method("POST")
        .uri(PATH)
        .header("content-type", "application/json; charset=utf-8");
    if let Some(signature) = signature {
        builder = builder.header(STRIPE_SIGNATURE_HEADER, signature);
    }
    builder.body(body.into()).expect("a valid test request")
}

/// The stored subscription row of a workspace.
#[derive(Debug, Clone, PartialEq)]
pub struct SubscriptionRow {
    pub stripe_subscription_id: String,
    pub status: String,
    pub plan_id: Option<Uuid>,
    pub period_end: Option<i64>,
    pub stripe_event_id: Option<String>,
}

/// A journal row.
#[derive(Debug, Clone, PartialEq)]
pub struct JournalRow {
    pub processed: bool,
    pub workspace_id: Option<Uuid>,
    pub error: Option<String>,
    pub result: Option<Value>,
}

impl TestApp {
    /// Posts an event to the Stripe webhook as JSON text, signed with the tests' secret at
    /// [`NOW`].
    pub async fn post_stripe_event(&self, event: &Value) -> TestResponse {
        self.post_stripe_bytes(event.to_string()).await
    }

    /// Posts `body` to the Stripe webhook as it is, signed with the tests' secret at [`NOW`].
    pub async fn post_stripe_bytes(&self, body: impl AsRef<[u8]>) -> TestResponse {
        let body = body.as_ref();
        self.post_stripe_with_signature(body, Some(&sign(body, SECRET, NOW)))
            .await
    }

    /// Posts `body` to the Stripe webhook with the given `Stripe-Signature` (None: no header).
    pub async fn post_stripe_with_signature(
        &self,
        body: &[u8],
        signature: Option<&str>,
    ) -> TestResponse {
        self.send(post_request(body.to_vec(), signature)).await
    }

    /// Links `tenant` to a Stripe customer, as a completed checkout would have.
    pub async fn link_customer(&self, tenant: &Tenant, customer: &str) {
        self.execute(
            "UPDATE workspaces SET stripe_customer_id = $2 WHERE id = $1",
            &[&tenant.workspace_id, &customer],
        )
        .await;
    }

    /// A pricing plan sold under Stripe price `price_id`.
    pub async fn arrange_plan(&self, price_id: &str, conversation_limit: i32) -> Uuid {
        self.row(
            "INSERT INTO pricing_plans (code, name, stripe_price_id, conversation_limit)
             VALUES ('s_' || substr(md5($1), 1, 20), 'Plan ' || $1, $1, $2) RETURNING id",
            &[&price_id, &conversation_limit],
        )
        .await
        .get(0)
    }

    /// The subscription row of `workspace_id`, if any.
    pub async fn subscription(&self, workspace_id: Uuid) -> Option<SubscriptionRow> {
        self.rows(
            "SELECT stripe_subscription_id, status, plan_id,
                    extract(epoch FROM current_period_end)::bigint, stripe_event_id
             FROM workspace_subscriptions WHERE workspace_id = $1",
            &[&workspace_id],
        )
        .await
        .first()
        .map(|row| SubscriptionRow {
            stripe_subscription_id: row.get(0),
            status: row.get(1),
            plan_id: row.get(2),
            period_end: row.get(3),
            stripe_event_id: row.get(4),
        })
    }

    /// The status and amount paid of a stored invoice.
    pub async fn invoice(&self, invoice_id: &str) -> Option<(String, i64)> {
        self.rows(
            "SELECT status, amount_paid FROM billing_invoices WHERE stripe_invoice_id = $1",
            &[&invoice_id],
        )
        .await
        .first()
        .map(|row| (row.get(0), row.get(1)))
    }

    /// The journal row of a Stripe event.
    pub async fn stripe_journal(&self, event_id: &str) -> Option<JournalRow> {
        self.rows(
            "SELECT processed_at IS NOT NULL, workspace_id, error, result FROM webhook_events
             WHERE provider = 'stripe' AND event_key = $1",
            &[&event_id],
        )
        .await
        .first()
        .map(|row| JournalRow {
            processed: row.get(0),
            workspace_id: row.get(1),
            error: row.get(2),
            result: row.get(3),
        })
    }

    /// Every Stripe journal row.
    pub async fn stripe_journal_count(&self) -> i64 {
        self.count(
            "SELECT count(*) FROM webhook_events WHERE provider = 'stripe'",
            &[],
        )
        .await
    }

    /// `audit_logs` rows written by Stripe events in `workspace_id`, oldest first: (event type,
    /// data).
    pub async fn stripe_audit(&self, workspace_id: Uuid) -> Vec<(String, Value)> {
        self.rows(
            "SELECT event_type, data FROM audit_logs
             WHERE workspace_id = $1 AND actor = 'stripe' ORDER BY created_at, id",
            &[&workspace_id],
        )
        .await
        .iter()
        .map(|row| (row.get(0), row.get(1)))
        .collect()
    }

    /// Events still waiting for their customer's workspace.
    pub async fn stripe_pending_count(&self) -> i64 {
        self.count("SELECT count(*) FROM stripe_pending_events", &[])
            .await
    }

    /// The conversation limit the web-agent webhook reports for `tenant` right now (one more
    /// message from a new visitor, so the answer carries `usage`).
    pub async fn reported_limit(&self, tenant: &Tenant) -> Value {
        let message_id = Uuid::new_v4().to_string();
        let body = json!({
            "name": "Test Visitor",
            "email": format!("visitor-{message_id}@example.com"),
            "external_session_id": format!("sess-{message_id}"),
            "message_id": message_id,
            "message": "Hello",
            "sender": "customer",
        });
        let response = self.post_web_agent_with_key(&tenant.api_key, &body).await;
        assert_eq!(response.status, 200, "web-agent post");
        response.body["usage"]["limit"].clone()
    }
}
