//! A `TestApp` for the web-agent webhook: a database of its own, a tenant in region `IN`, the
//! handler as Lambda runs it, and the jobs it published (in-process, so they can be read).
//!
//! Verbs post like a chat agent's server would (`post`, `post_with_key`, `post_raw`); helpers
//! read back what was stored with plain SQL.

use crate::fixtures::{self, Sql, Tenant};
pub use crate::response::TestResponse;
use domain::jobs::Job;
use lambda_http::{Body, Request};
use platform::jobs::{InProcessDelivery, JobSink, Publisher};
use serde_json::Value;
use std::sync::Mutex;
use store::testing::TestDb;
use tokio::sync::mpsc;
use web_agent::WebAgent;

/// The route, as API Gateway and the local stack call it.
pub const PATH: &str = "/webhooks/web-agent";

#[derive(Debug)]
pub struct TestApp {
    pub test_db: TestDb,
    pub app: WebAgent,
    /// Workspace A: region `IN`, a plan of 100 conversations, one API key, one agent.
    pub tenant: Tenant,
    published: Mutex<mpsc::UnboundedReceiver<InProcessDelivery>>,
}

impl TestApp {
    /// A fresh database with one tenant; the pool is large enough for the concurrency tests.
    pub async fn spawn() -> Self {
        Self::spawn_with_limit(100).await
    }

    /// As [`TestApp::spawn`], with the tenant's plan allowing `conversation_limit`.
    pub async fn spawn_with_limit(conversation_limit: i32) -> Self {
        let test_db = TestDb::with_pool_size(24).await;
        let tenant = {
            let client = test_db.client().await;
            fixtures::tenant_with(&client, "IN", conversation_limit).await
        };
        let (sender, published) = mpsc::unbounded_channel();
        let db = test_db.db().clone();
        let app = WebAgent {
            publisher: Publisher::new(db.clone(), JobSink::InProcess(sender)),
            db,
        };
        Self {
            test_db,
            app,
            tenant,
            published: Mutex::new(published),
        }
    }

    /// Another workspace in the same database (region `IN`), with its own key and agent.
    pub async fn another_tenant(&self) -> Tenant {
        let client = self.test_db.client().await;
        fixtures::tenant(&client).await
    }

    /// Posts `body` as JSON with workspace A's key.
    pub async fn post(&self, body: &Value) -> TestResponse {
        self.post_with_key(&self.tenant.api_key, body).await
    }

    /// Posts `body` as JSON with `api_key`.
    pub async fn post_with_key(&self, api_key: &str, body: &Value) -> TestResponse {
        self.post_raw(
            Some(&format!("Bearer {api_key}")),
            Some("application/json"),
            body.to_string(),
        )
        .await
    }

    /// Posts anything: the Authorization header and content type as given (None: no header).
    pub async fn post_raw(
        &self,
        authorization: Option<&str>,
        content_type: Option<&str>,
        body: impl Into<Body>,
    ) -> TestResponse {
        self.send(request(authorization, content_type, body)).await
    }

    /// Runs any request through the handler.
    pub async fn send(&self, request: Request) -> TestResponse {
        TestResponse::from_response(self.app.handle(request).await)
    }

    /// The jobs published since the last call, decoded.
    pub fn published_jobs(&self) -> Vec<Job> {
        let mut receiver = self
            .published
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        std::iter::from_fn(|| receiver.try_recv().ok())
            .map(|delivery| Job::from_body(&delivery.body).expect("a published job decodes"))
            .collect()
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

impl Sql for TestApp {
    fn test_db(&self) -> &TestDb {
        &self.test_db
    }

    fn workspace_id(&self) -> uuid::Uuid {
        self.tenant.workspace_id
    }
}
