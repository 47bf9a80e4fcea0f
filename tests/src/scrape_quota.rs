//! The scrape quota's verbs of the [`TestApp`], each at an instant the test chooses: they call
//! the route like a scraper would (`post_scrape_units`, `post_scrape_quota_raw`,
//! `get_scrape_quota`). Workspace A has timezone `Asia/Kolkata` and a plan of 30 scrapes a day.
//! Arranging verbs change the plan, the agent's override, the timezone;
//! [`TestApp::stored_scrape_quota`] reads the row back with plain SQL.

use crate::app::TestApp;
use crate::fixtures::Sql;
use crate::response::TestResponse;
use chrono::{DateTime, Utc};
use lambda_http::{Body, Request, RequestExt};
use std::collections::HashMap;
use uuid::Uuid;

/// `agent_scrape_quotas` as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredQuota {
    /// `None`: follows the plan.
    pub daily_limit: Option<i32>,
    pub used_today: i32,
    pub reset_at: DateTime<Utc>,
}

impl TestApp {
    /// POST `{"units": units}` to workspace A's agent's scrape quota at `now`.
    pub async fn post_scrape_units(&self, units: u32, now: DateTime<Utc>) -> TestResponse {
        let body = serde_json::json!({ "units": units }).to_string();
        self.post_scrape_quota_raw(
            &self.tenant.agent_id.to_string(),
            Some(&self.tenant.api_key),
            Some(body),
            now,
        )
        .await
    }

    /// POST anything to the scrape quota: the path's agent id, the key (None: no header) and
    /// the JSON body (None: no body) as given.
    pub async fn post_scrape_quota_raw(
        &self,
        agent_id: &str,
        api_key: Option<&str>,
        body: Option<String>,
        now: DateTime<Utc>,
    ) -> TestResponse {
        let request = request("POST", agent_id, api_key, body);
        self.send_at(request, now).await
    }

    /// GET workspace A's agent's scrape-quota window at `now`.
    pub async fn get_scrape_quota(&self, now: DateTime<Utc>) -> TestResponse {
        let request = request(
            "GET",
            &self.tenant.agent_id.to_string(),
            Some(&self.tenant.api_key),
            None,
        );
        self.send_at(request, now).await
    }

    /// Sets workspace A's timezone (an IANA name).
    pub async fn set_timezone(&self, timezone: &str) {
        self.execute(
            "UPDATE workspaces SET timezone = $2 WHERE id = $1",
            &[&self.tenant.workspace_id, &timezone],
        )
        .await;
    }

    /// Sets the daily scrape limit of workspace A's own plan.
    pub async fn set_plan_scrape_limit(&self, limit: i32) {
        self.execute(
            "UPDATE pricing_plans SET scrape_daily_limit = $2
             WHERE id = (SELECT plan_id FROM workspaces WHERE id = $1)",
            &[&self.tenant.workspace_id, &limit],
        )
        .await;
    }

    /// Subscribes workspace A to a new plan of `limit` scrapes a day, with the given Stripe
    /// status.
    pub async fn subscribe_with_scrape_limit(&self, limit: i32, status: &str) {
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
    pub async fn set_scrape_override(&self, limit: Option<i32>) {
        self.execute(
            "INSERT INTO agent_scrape_quotas (agent_id, daily_limit) VALUES ($1, $2)
             ON CONFLICT (agent_id) DO UPDATE SET daily_limit = EXCLUDED.daily_limit",
            &[&self.tenant.agent_id, &limit],
        )
        .await;
    }

    /// The agent's stored scrape-quota row, if it has one.
    pub async fn stored_scrape_quota(&self, agent_id: Uuid) -> Option<StoredQuota> {
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
