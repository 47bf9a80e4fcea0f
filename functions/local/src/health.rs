//! `GET /health`: is the process up and can it reach its database?
//!
//! 200 `{"status":"ok","database":"ok"}` after a real round trip; 503 with
//! `{"status":"degraded","database":"unreachable"}` when the database does not answer, so a load
//! balancer or a developer sees the difference between "up" and "useful".

use lambda_http::{Body, Response};
use serde_json::json;
use store::Db;

pub async fn handle(db: &Db) -> Response<Body> {
    match db.ping().await {
        Ok(()) => platform::http::json_response(200, &json!({"status": "ok", "database": "ok"})),
        Err(err) => {
            tracing::warn!(error = %platform::problem::error_chain(&err), "health check failed");
            platform::http::json_response(
                503,
                &json!({"status": "degraded", "database": "unreachable"}),
            )
        }
    }
}
