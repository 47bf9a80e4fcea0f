//! `GET, POST /webhooks/whatsapp` (docs/architecture.md §5.3): Meta's WhatsApp Cloud API webhook.
//!
//! - GET is the verification handshake: `hub.mode=subscribe` with `hub.verify_token` equal to
//!   `WHATSAPP_VERIFY_TOKEN` is answered 200 with `hub.challenge` as plain text; anything else is
//!   403.
//! - POST checks `X-Hub-Signature-256` over the raw body bytes (lambda_http has already undone
//!   API Gateway's base64) before anything is parsed or written: missing or wrong is 401, an
//!   empty configured secret a 500 (a deployment mistake, never "accept everything"). A verified
//!   delivery is then journaled and applied in one statement by [`store::whatsapp::ingest`] and
//!   answered 200, including the parts that could not be mapped, which are journaled with the
//!   reason: Meta stops retrying and nothing it sent is lost. The committed `score_lead` jobs
//!   are published after the commit.
//! - When applying fails, the delivery is journaled alone with the reason
//!   (`store::journal`), so nothing Meta sent is lost: the `journal_replay` job applies it. A
//!   transient failure (database unreachable, deadlock) is still a 5xx so Meta retries sooner;
//!   any other is answered 200, so a bug cannot make Meta give up on the delivery after days of
//!   retries.
//! - POST bodies up to 3 MB are accepted (Meta resends a refused body for days, so a 413 would
//!   lose it for good); other routes keep 256 KiB.
//!
//! This crate is an adapter: parsing lives in `domain::whatsapp`, the mapping and the SQL in
//! `store::whatsapp`. Logs carry ids and counts, never phone numbers, names or message text.

use domain::secret::Secret;
use domain::signature::{self, META_SIGNATURE_HEADER, SignatureError};
use http::{Method, header};
use lambda_http::{Body, Request, RequestExt, Response};
use platform::ApiError;
use platform::http::{
    WHATSAPP_MAX_BODY_BYTES, json_response, raw_body_within, request_id, respond,
};
use platform::jobs::Publisher;
use serde::Serialize;
use store::Db;
use store::whatsapp::{self as ingest, Applied, Delivery, Ingested};

/// The WhatsApp webhook, built once per cold start.
#[derive(Debug, Clone)]
pub struct WhatsApp {
    pub db: Db,
    /// Publishes the `score_lead` jobs a delivery committed.
    pub publisher: Publisher,
    /// `WHATSAPP_APP_SECRET`: the key of Meta's HMAC signatures.
    pub app_secret: Secret,
    /// `WHATSAPP_VERIFY_TOKEN`: what Meta echoes in the verification handshake.
    pub verify_token: Secret,
}

/// The answer to a verified POST. Meta reads only the status; the body says what happened.
#[derive(Debug, Serialize)]
struct Ack {
    received: bool,
    /// This exact body was processed before.
    duplicate: bool,
    /// False when the delivery was journaled without being applied (see the crate doc).
    applied: bool,
}

impl WhatsApp {
    /// Answers one request of the route (GET or POST); every other method is a 405.
    pub async fn handle(&self, request: Request) -> Response<Body> {
        let request_id = request_id(&request);
        let result = match *request.method() {
            Method::GET => self.handshake(&request),
            Method::POST => self.receive(&request, &request_id).await,
            _ => Err(ApiError::MethodNotAllowed),
        };
        respond(&request_id, result)
    }

    fn handshake(&self, request: &Request) -> Result<Response<Body>, ApiError> {
        let params = request.query_string_parameters();
        let accepted = params.first("hub.mode") == Some("subscribe")
            && params
                .first("hub.verify_token")
                .is_some_and(|token| self.is_verify_token(token));
        match params.first("hub.challenge") {
            Some(challenge) if accepted => Ok(plain_text(challenge)),
            _ => Err(ApiError::Forbidden(
                "hub.mode or hub.verify_token does not match",
            )),
        }
    }

    /// Compares in constant time by reusing the signature check: both tokens are MACed under
    /// the configured token and the tags compared by `verify_meta` (`subtle` underneath). Equal
    /// tags mean equal tokens; an empty configured token matches nothing (`EmptySecret`).
    fn is_verify_token(&self, token: &str) -> bool {
        let expected =
            signature::sign_meta(self.verify_token.expose().as_bytes(), &self.verify_token);
        signature::verify_meta(token.as_bytes(), Some(&expected), &self.verify_token).is_ok()
    }

    async fn receive(
        &self,
        request: &Request,
        request_id: &str,
    ) -> Result<Response<Body>, ApiError> {
        let raw = raw_body_within(request, WHATSAPP_MAX_BODY_BYTES)?;
        let header = request
            .headers()
            .get(META_SIGNATURE_HEADER)
            .and_then(|value| value.to_str().ok());
        signature::verify_meta(raw, header, &self.app_secret).map_err(|error| match error {
            SignatureError::EmptySecret => ApiError::Internal(Box::new(error)),
            refused => {
                tracing::info!(request_id, reason = %refused, "whatsapp signature refused");
                ApiError::Unauthorized("X-Hub-Signature-256 is missing or does not match the body")
            }
        })?;

        let delivery = Delivery::from_body(raw);
        match ingest::ingest(&self.db, &delivery).await {
            Ok(Ingested::Duplicate) => {
                tracing::info!(
                    request_id,
                    event_key = delivery.event_key(),
                    "whatsapp delivery already processed"
                );
                Ok(ack(true, true))
            }
            Ok(Ingested::Applied(applied)) => {
                // Boxed: the publisher's SQS future is large and would otherwise be inlined.
                Box::pin(self.publisher.publish_committed(&applied.jobs)).await;
                log_applied(request_id, &delivery, &applied);
                Ok(ack(false, true))
            }
            Err(error) => {
                let reason = store::journal::failure_reason(&error);
                tracing::error!(
                    request_id,
                    event_key = delivery.event_key(),
                    %reason,
                    "whatsapp delivery could not be applied; journaling it alone"
                );
                let journaled = ingest::journal_unapplied(&self.db, &delivery, &reason).await;
                match journaled {
                    // Kept: the journal_replay job applies it. A transient failure is still a
                    // 5xx, so Meta's retry may apply it sooner.
                    Ok(_) if error.is_transient() => Err(ApiError::Journaled(Box::new(error))),
                    Ok(_) => Ok(ack(false, false)),
                    // Not even journaled: only Meta's retry can bring it back.
                    Err(_) => Err(error.into()),
                }
            }
        }
    }
}

fn ack(duplicate: bool, applied: bool) -> Response<Body> {
    json_response(
        200,
        &Ack {
            received: true,
            duplicate,
            applied,
        },
    )
}

/// The handshake's answer: the challenge as it came, as text that browsers will not sniff.
fn plain_text(text: &str) -> Response<Body> {
    Response::builder()
        .status(200)
        .header(header::CONTENT_TYPE, "text/plain; charset=utf-8")
        .header(header::X_CONTENT_TYPE_OPTIONS, "nosniff")
        .body(Body::from(text.to_owned()))
        // Status and headers above are valid by construction.
        .unwrap_or_else(|_| Response::new(Body::Empty))
}

fn log_applied(request_id: &str, delivery: &Delivery, applied: &Applied) {
    tracing::info!(
        request_id,
        event_id = %applied.event_id,
        workspace_id = ?applied.workspace_id,
        messages = delivery.message_count(),
        statuses = delivery.status_count(),
        messages_stored = applied.messages_stored,
        statuses_matched = applied.statuses_matched,
        leads = applied.leads.len(),
        leads_created = applied.leads.iter().filter(|lead| lead.created).count(),
        jobs = applied.jobs.len(),
        unmapped = applied.reasons.len(),
        "whatsapp delivery applied"
    );
    if !applied.reasons.is_empty() {
        // Reasons name JSON paths, our own ids and Meta's error codes only.
        tracing::info!(request_id, event_id = %applied.event_id, reasons = ?applied.reasons,
            "parts of a whatsapp delivery were journaled without being applied");
    }
    for usage in applied.usage.iter().filter(|usage| usage.over_limit()) {
        tracing::warn!(
            workspace_id = %usage.workspace_id,
            conversations = usage.conversations,
            limit = usage.conversation_limit,
            "workspace is over its plan's conversation limit"
        );
    }
}
