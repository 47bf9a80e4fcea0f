//! The web-agent webhook's verbs of the [`TestApp`]: they post like a chat agent's server would
//! (`post_web_agent`, `post_web_agent_with_key`, `post_web_agent_raw`); [`TestApp::footprint`]
//! reads back what a delivery stored.

use crate::app::TestApp;
use crate::fixtures::Sql;
use crate::response::TestResponse;
use lambda_http::{Body, Request};
use serde_json::Value;

/// The route, as API Gateway and the local stack call it.
pub const PATH: &str = "/webhooks/web-agent";

impl TestApp {
    /// Posts `body` to the web-agent webhook as JSON with workspace A's key.
    pub async fn post_web_agent(&self, body: &Value) -> TestResponse {
        self.post_web_agent_with_key(&self.tenant.api_key, body)
            .await
    }

    /// Posts `body` to the web-agent webhook as JSON with `api_key`.
    pub async fn post_web_agent_with_key(&self, api_key: &str, body: &Value) -> TestResponse {
        self.post_web_agent_raw(
            Some(&format!("Bearer {api_key}")),
            Some("application/json"),
            body.to_string(),
        )
        .await
    }

    /// Posts anything to the web-agent webhook: the Authorization header and content type as
    /// given (None: no header).
    pub async fn post_web_agent_raw(
        &self,
        authorization: Option<&str>,
        content_type: Option<&str>,
        body: impl Into<Body>,
    ) -> TestResponse {
        self.send(request(authorization, content_type, body)).await
    }

    /// Row counts of every table a delivery writes, in workspace A: a refused or replayed
    /// request must leave them all unchanged.
    pub async fn footprint(&self) -> Footprint {
        let ws = self.tenant.workspace_id;
        let row = self
            .row(
                "SELECT (SELECT count(*) FROM leads WHERE workspace_id = $1),
                        (SELECT count(*) FROM lead_identities WHERE workspace_id = $1),
                        (SELECT count(*) FROM web_sessions WHERE workspace_id = $1),
                        (SELECT count(*) FROM conversations WHERE workspace_id = $1),
                        (SELECT count(*) FROM lead_intents_log i JOIN leads l ON l.id = i.lead_id
                          WHERE l.workspace_id = $1),
                        (SELECT count(*) FROM webhook_events WHERE workspace_id = $1),
                        (SELECT count(*) FROM outbox),
                        (SELECT count(*) FROM audit_logs WHERE workspace_id = $1),
                        (SELECT coalesce(sum(conversations), 0)::bigint FROM workspace_usage WHERE workspace_id = $1),
                        (SELECT coalesce(sum(messages), 0)::bigint FROM workspace_usage WHERE workspace_id = $1),
                        (SELECT coalesce(max(updated_at)::text, '') FROM leads WHERE workspace_id = $1)",
                &[&ws],
            )
            .await;
        Footprint {
            leads: row.get(0),
            identities: row.get(1),
            sessions: row.get(2),
            messages: row.get(3),
            intents: row.get(4),
            journal: row.get(5),
            outbox: row.get(6),
            audit_logs: row.get(7),
            usage_conversations: row.get(8),
            usage_messages: row.get(9),
            last_lead_update: row.get(10),
        }
    }
}

/// How much a workspace has stored; see [`TestApp::footprint`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Footprint {
    pub leads: i64,
    pub identities: i64,
    pub sessions: i64,
    pub messages: i64,
    pub intents: i64,
    pub journal: i64,
    pub outbox: i64,
    pub audit_logs: i64,
    pub usage_conversations: i64,
    pub usage_messages: i64,
    pub last_lead_update: String,
}

/// A POST to the webhook's route as API Gateway hands it to the function.
pub fn request(
    authorization: Option<&str>,
    content_type: Option<&str>,
    body: impl Into<Body>,
) -> Request {
    let mut builder = http::Request::builder().method("POST").uri(PATH);
    if let Some(authorization) = authorization {
        builder = builder.header("authorization", authorization);
    }
    if let Some(content_type) = content_type {
        builder = builder.header("content-type", content_type);
    }
    builder.body(body.into()).expect("a valid test request")
}
