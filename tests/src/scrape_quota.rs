//! A `TestApp` for the scrape quota: a database of its own, a tenant (workspace A, timezone
//! `Asia/Kolkata`, a plan of 30 scrapes a day, one API key, one agent) and the handler as Lambda
//! runs it, with the clock pinned to an instant each request chooses.
//!
//! Verbs call the route like a scraper would (`post_units`, `post_raw`, `get`, each at an
//! instant); arranging verbs change the plan, the override, the timezone; [`TestApp::stored`]
//! reads the row back with plain SQL.

use crate::fixtures::{self, Sql, Tenant};
pub use crate::response::TestResponse;
use chrono::{DateTime, Utc};
use lambda_http::{Body, Request, RequestExt};
use platform::clock::Clock;
use scrape_quota::ScrapeQuota;
use std::collections::HashMap;
use store::testing::TestDb;
use uuid::Uuid;

/// Concurrent requests the pool serves without queueing (the concurrency test sends 40).
const POOL_SIZE: usize = 40;

#[derive(Debug)]
pub struct TestApp {
    pub test_db: TestDb,
    /// Workspace A.
    pub tenant: Tenant,
}

/// `agent_scrape_quotas` as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredQuota {
    /// `None`: follows the plan.
    pub daily_limit: Option<i32>,
    pub used_today: i32,
    pub reset_at: DateTime<Utc>,
}

impl TestApp {
    pub async fn spawn() -> Self {
        let test_db = TestDb::with_pool_size(POOL_SIZE).await;
        let tenant = {
            let client = test_db.client().await;
            fixtures::tenant(&client).await
        };
        Self { test_db, tenant }
    }

    /// The handler with its clock stopped at `now`.
    pub fn handler_at(&self, now: DateTime<Utc>) -> ScrapeQuota {
        ScrapeQuota {
            db: self.test_db.db().clone(),
            clock: Clock::Fixed(now),
        }
    }

    /// Another workspace in the same database, with its own key and agent.
    pub async fn another_tenant(&self) -> Tenant {
        let client = self.test_db.client().await;
        fixtures::tenant(&client).await
    }

    /// POST `{"units": units}` for workspace A's agent at `now`.
    pub async fn post_units(&self, units: u32, now: DateTime<Utc>) -> TestResponse {
        let body = serde_json::json!({ "units": units }).to_string();
        self.post_raw(
            &self.tenant.agent_id.to_string(),
            Some(&self.tenant.api_key),
            Some(body),
            now,
        )
        .await
    }

    /// POST anything: the path's agent id, the key (None: no header) and the JSON body (None:
    /// no body) as given.
    pub async fn post_raw(
        &self,
        agent_id: &str,
        api_key: Option<&str>,
        body: Option<String>,
        now: DateTime<Utc>,
    ) -> TestResponse {
        let request = request("POST", agent_id, api_key, body);
        self.send(request, now).await
    }

    /// GET workspace A's agent's window at `now`.
    pub async fn get(&self, now: DateTime<Utc>) -> TestResponse {
        let request = request(
            "GET",
            &self.tenant.agent_id.to_string(),
            Some(&self.tenant.api_key),
            None,
        );
        self.send(request, now).await
    }

    /// Runs any request through the handler at `now`.
    pub async fn send(&self, request: Request, now: DateTime<Utc>) -> TestResponse {
        TestResponse::from_response(self.handler_at(now).handle(request).await)
    }

    /// Sets workspace A's timezone (an IANA name).
    pub async fn set_timezone(&self, timezone: &str) {
        self.execute(
            "UPDATE workspaces SET timezone = $2 WHERE id = $1",
            &[&self.tenant.workspace_id, &timezone],
        )
        .await;
    }

    /// Sets the daily limit of workspace A's own plan.
    pub async fn set_plan_limit(&self, limit: i32) {
        self.execute(
            "UPDATE pricing_plans SET scrape_daily_limit = $2
             WHERE id = (SELECT plan_id FROM workspaces WHERE id = $1)",
            &[&self.tenant.workspace_id, &limit],
        )
        .await;
    }

    /// Subscribes workspace A to a new plan of `limit` scrapes a day, with the given Stripe
    /// status.
    pub async fn subscribe(&self, limit: i32, status: &str) {
        self.execute(
            "WITH plan AS (
                 INSERT INTO pricing_plans (code, name, scrape_daily_limit)
                 VALUES ('sub_' || replace(gen_random_uuid()::text, '-', ''), 'Subscribed', $2)
                 RETURNING id
             )
             INSERT INTO workspace_subscriptions
                 (workspace_id, stripe_subscription_id, stripe_customer_id, plan_id, status,
                  stripe_event_created)
             SELECT $1::uuid, 'sub_' || $1::uuid, 'cus_' || $1::uuid, plan.id, $3, now() FROM plan",
            &[&self.tenant.workspace_id, &limit, &status],
        )
        .await;
    }

    /// Gives workspace A's agent a per-agent limit (None: back to the plan's), creating its row
    /// if needed.
    pub async fn set_override(&self, limit: Option<i32>) {
        self.execute(
            "INSERT INTO agent_scrape_quotas (agent_id, daily_limit) VALUES ($1, $2)
             ON CONFLICT (agent_id) DO UPDATE SET daily_limit = EXCLUDED.daily_limit",
            &[&self.tenant.agent_id, &limit],
        )
        .await;
    }

    /// The agent's stored row, if it has one.
    pub async fn stored(&self, agent_id: Uuid) -> Option<StoredQuota> {
        self.rows(
            "SELECT daily_limit, used_today, reset_at FROM agent_scrape_quotas WHERE agent_id = $1",
            &[&agent_id],
        )
        .await
        .first()
        .map(|row| StoredQuota {
            daily_limit: row.get(0),
            used_today: row.get(1),
            reset_at: row.get(2),
        })
    }
}

/// A request to `/agents/{agent_id}/scrape-quota` as API Gateway hands it to the function: the
/// path parameter set, `Authorization: Bearer <key>` when a key is given, a JSON body when one is.
pub fn request(
    method: &str,
    agent_id: &str,
    api_key: Option<&str>,
    body: Option<String>,
) -> Request {
    let mut builder = http::Request::builder()
        .method(method)
        .uri(format!("/agents/{agent_id}/scrape-quota"));
    if let Some(key) = api_key {
        builder = builder.header("authorization", format!("Bearer {key}"));
    }
    let body = match body {
        Some(body) => {
            builder = builder.header("content-type", "application/json");
            Body::from(body)
        }
        None => Body::Empty,
    };
    builder
        .body(body)
        .expect("a valid test request")
        .with_path_parameters(HashMap::from([(
            "agent_id".to_owned(),
            agent_id.to_owned(),
        )]))
}

impl Sql for TestApp {
    fn test_db(&self) -> &TestDb {
        &self.test_db
    }

    fn workspace_id(&self) -> Uuid {
        self.tenant.workspace_id
    }
}
