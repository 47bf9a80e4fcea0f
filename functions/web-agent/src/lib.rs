//! The web-agent webhook: `POST /webhooks/web-agent` (docs/architecture.md §5.2).
//!
//! A website chat agent's server posts contact details, session events and messages. This crate
//! is the HTTP adapter around the use case and holds no domain rule:
//! - the body's size is checked before anything reads it (413);
//! - the `Authorization: Bearer <api key>` is looked up by its SHA-256 (`store::api_keys`, one
//!   round trip); missing, unknown or revoked is 401, and the key's workspace scopes the rest;
//! - the body is read as JSON (415, 400) and parsed into typed values in the workspace's phone
//!   region (`domain::web_agent`, 422 naming every bad field);
//! - the whole write is one statement (`store::web_agent`, the second and last round trip),
//!   journaled under the delivery's key; when applying fails the delivery is journaled alone
//!   (`store::journal`) and answered 500 `delivery-journaled`: the `journal_replay` job applies
//!   it, and the client's retry with the same `message_id` is safe;
//! - the `score_lead` job it wrote to the outbox is published after commit (a failed publish is
//!   left to the outbox relay and never fails the request).
//!
//! Logs carry ids (request, workspace, key prefix, lead, session, message), never the contact
//! details or the message.

use domain::web_agent::WebAgentCommand;
use lambda_http::{Body, Request, Response};
use platform::ApiError;
use platform::http::{bearer_token, json_body, json_response, raw_body, request_id, respond};
use platform::jobs::Publisher;
use serde::Serialize;
use store::Db;
use store::api_keys::{self, AuthenticatedKey};
use store::journal::{self, Provider};
use store::web_agent::{self, IngestOutcome, Ingested, Usage};
use uuid::Uuid;

/// What the handler needs; built once per cold start.
#[derive(Debug, Clone)]
pub struct WebAgent {
    pub db: Db,
    /// Publishes the `score_lead` job each delivery commits.
    pub publisher: Publisher,
}

/// The 200 body.
#[derive(Debug, Serialize)]
struct Accepted {
    lead_id: Uuid,
    /// The `web_sessions` row, or null when the delivery named no session.
    session_id: Option<Uuid>,
    /// The stored message, or null when the delivery carried none.
    message_id: Option<Uuid>,
    created: bool,
    duplicate: bool,
    usage: Usage,
}

impl From<&Ingested> for Accepted {
    fn from(ingested: &Ingested) -> Self {
        Self {
            lead_id: ingested.lead_id.as_uuid(),
            session_id: ingested.session_id,
            message_id: ingested.message_id.map(|id| id.as_uuid()),
            created: ingested.created,
            duplicate: ingested.duplicate,
            usage: ingested.usage,
        }
    }
}

impl WebAgent {
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
        if request.method() != http::Method::POST {
            return Err(ApiError::MethodNotAllowed);
        }
        // Refused before parsing, and before spending a database round trip on it.
        raw_body(request)?;
        let key = bearer_token(request)?;
        // A token that cannot be a key, and a key this instance looked up moments ago, cost no
        // round trip (store::api_keys).
        let key: AuthenticatedKey = api_keys::authenticate(&self.db, &key)
            .await?
            .ok_or(ApiError::Unauthorized("unknown or revoked API key"))?;

        let body = json_body(request)?;
        let command = WebAgentCommand::parse(&body, &key.default_region)?;
        let event_key = web_agent::event_key(key.workspace_id, &command);
        let client = self.db.client().await?;
        let outcome =
            web_agent::ingest(&client, key.workspace_id, &event_key, &command, &body).await;
        // The publisher and the failure path use a connection of their own; a Lambda pool holds
        // one, so this one goes back first.
        drop(client);
        let outcome = match outcome {
            Ok(outcome) => outcome,
            Err(error) => return Err(self.journal_failure(&key, &event_key, &body, error).await),
        };

        let ingested = match outcome {
            IngestOutcome::Ingested(ingested) => ingested,
            IngestOutcome::Rejected(errors) => return Err(errors.into()),
        };
        if let Some(job) = &ingested.job {
            self.publisher
                .publish_committed(std::slice::from_ref(job))
                .await;
        }
        tracing::info!(
            request_id,
            workspace_id = %key.workspace_id,
            api_key = %key.prefix,
            lead_id = %ingested.lead_id,
            session_id = ?ingested.session_id,
            message_id = ?ingested.message_id.map(|id| id.as_uuid()),
            created = ingested.created,
            duplicate = ingested.duplicate,
            identity_conflicts = ingested.conflicting_lead_ids.len(),
            over_limit = ingested.usage.over_limit,
            "web-agent delivery stored"
        );
        Ok(json_response(200, &Accepted::from(&ingested)))
    }

    /// Applying failed: keep the delivery in the journal with the reason, so it is applied later
    /// even if the client never retries. When even that fails (the database is unreachable),
    /// the client's retry is all there is, and the answer says to retry.
    async fn journal_failure(
        &self,
        key: &AuthenticatedKey,
        event_key: &str,
        body: &serde_json::Value,
        error: store::StoreError,
    ) -> ApiError {
        let reason = journal::failure_reason(&error);
        let recorded = journal::record_failure(
            &self.db,
            Provider::WebAgent,
            event_key,
            Some(key.workspace_id.as_uuid()),
            body,
            &reason,
        )
        .await;
        match recorded {
            Ok(_) => ApiError::Journaled(Box::new(error)),
            Err(journal_error) => {
                tracing::error!(
                    workspace_id = %key.workspace_id,
                    error = %platform::problem::error_chain(&journal_error),
                    "a failed web-agent delivery could not be journaled either"
                );
                error.into()
            }
        }
    }
}
