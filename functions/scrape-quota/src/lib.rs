//! The scrape quota: `POST, GET /agents/{agent_id}/scrape-quota` (docs/architecture.md section 5.4).
//!
//! A listing scraper or site bot asks before every import whether the agent may import `units`
//! more listings today. This crate is the HTTP adapter and holds no quota rule:
//! - the body's size is checked before anything reads it (413);
//! - the `Authorization: Bearer <api key>` is looked up by its SHA-256 (`store::api_keys`, round
//!   trip 1); missing, unknown or revoked is 401, and the key's workspace scopes the rest, so an
//!   agent of another workspace is a 404 exactly like an unknown or malformed agent id;
//! - POST reads `{"units": n}` (`domain::quota::Units`: 400 malformed JSON, 415 not JSON, 422
//!   naming `units`; no body asks for 1);
//! - the check and the consume are one statement (`store::scrape_quota`, round trip 2): 200 with
//!   the window when granted, 429 with `Retry-After` when the units do not fit (nothing consumed);
//! - GET runs the same statement asking for nothing, so it never writes.
//!
//! "Now" comes from an injected [`Clock`], so tests decide where midnight is. Every consume,
//! granted or refused, is one log line with ids and counts, never personal data.

use chrono::{DateTime, Utc};
use domain::ids::AgentId;
use domain::quota::{QuotaWindow, Units, retry_after_secs};
use lambda_http::{Body, Request, RequestExt, Response};
use platform::ApiError;
use platform::clock::Clock;
use platform::http::{bearer_token, json_body, json_response, raw_body, request_id, respond};
use serde::Serialize;
use store::Db;
use store::api_keys;
use store::scrape_quota::{self, Consumption};
use uuid::Uuid;

/// What the handler needs; built once per cold start.
#[derive(Debug, Clone)]
pub struct ScrapeQuota {
    pub db: Db,
    /// Where "now" comes from: the system clock in Lambda, a fixed instant in tests.
    pub clock: Clock,
}

/// The 200 body of both methods.
#[derive(Debug, Serialize)]
struct QuotaBody {
    agent_id: Uuid,
    daily_limit: u32,
    used_today: u32,
    remaining: u32,
    reset_at: DateTime<Utc>,
}

impl QuotaBody {
    fn new(agent_id: AgentId, window: &QuotaWindow) -> Self {
        Self {
            agent_id: agent_id.as_uuid(),
            daily_limit: window.daily_limit,
            used_today: window.used_today,
            remaining: window.remaining(),
            reset_at: window.reset_at,
        }
    }
}

/// The 404 of an agent that is unknown, malformed or another workspace's: indistinguishable on
/// purpose, so ids of other tenants cannot be probed.
const NO_SUCH_AGENT: ApiError = ApiError::NotFound("agent");

impl ScrapeQuota {
    /// Handles one request; every failure becomes a problem document here.
    pub async fn handle(&self, request: Request) -> Response<Body> {
        let request_id = request_id(&request);
        let result = self.handle_inner(&request, &request_id).await;
        respond(&request_id, result)
    }

    async fn handle_inner(
        &self,
        request: &Request,
        request_id: &str,
    ) -> Result<Response<Body>, ApiError> {
        let consuming = match *request.method() {
            http::Method::POST => true,
            http::Method::GET => false,
            _ => return Err(ApiError::MethodNotAllowed),
        };
        // Refused before parsing, and before spending a database round trip on it.
        let body = raw_body(request)?;
        let key = bearer_token(request)?;
        // A token that cannot be a key, and a key this instance looked up moments ago, cost no
        // round trip (store::api_keys).
        let key = api_keys::authenticate(&self.db, &key)
            .await?
            .ok_or(ApiError::Unauthorized("unknown or revoked API key"))?;
        // Judged after the key, so a caller without a valid key learns nothing about ids.
        let agent_id = agent_id(request)?;
        let client = self.db.client().await?;
        let now = self.clock.now();

        if !consuming {
            let window = scrape_quota::read(&client, key.workspace_id, agent_id, now)
                .await?
                .ok_or(NO_SUCH_AGENT)?;
            return Ok(json_response(200, &QuotaBody::new(agent_id, &window)));
        }

        let units = if body.trim_ascii().is_empty() {
            Units::ONE
        } else {
            Units::from_body(Some(&json_body(request)?))?
        };
        let consumption = scrape_quota::consume(&client, key.workspace_id, agent_id, units, now)
            .await?
            .ok_or(NO_SUCH_AGENT)?;
        let window = consumption.window();
        let outcome = match consumption {
            Consumption::Granted(_) => "granted",
            Consumption::Refused(_) => "refused",
        };
        tracing::info!(
            request_id,
            workspace_id = %key.workspace_id,
            api_key = %key.prefix,
            agent_id = %agent_id,
            units = units.get(),
            outcome,
            used_today = window.used_today,
            daily_limit = window.daily_limit,
            "scrape quota consume"
        );
        match consumption {
            Consumption::Granted(window) => {
                Ok(json_response(200, &QuotaBody::new(agent_id, &window)))
            }
            Consumption::Refused(window) => Err(ApiError::QuotaExhausted {
                retry_after_secs: retry_after_secs(now, window.reset_at),
            }),
        }
    }
}

/// The `{agent_id}` path parameter (API Gateway and the local router put it there).
fn agent_id(request: &Request) -> Result<AgentId, ApiError> {
    request
        .path_parameters()
        .first("agent_id")
        .and_then(|id| id.parse().ok())
        .ok_or(NO_SUCH_AGENT)
}
