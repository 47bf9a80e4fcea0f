//! `POST /webhooks/stripe` (docs/architecture.md section 5.4): Stripe's billing events.
//!
//! In this order, because each step must not run for a request the one before refused:
//! 1. A body over 256 KiB is a 413, before anything reads it (`platform::http::raw_body`;
//!    lambda_http has already undone API Gateway's base64, so these are the bytes Stripe signed).
//! 2. `Stripe-Signature` is checked over those raw bytes (`domain::signature::verify_stripe`: the
//!    whole `whsec_…` secret as key, any `v1`, `|now − t| ≤ 300 s` with the injected clock). A
//!    refusal is a 401 whose detail names the kind of failure only, never the secret or the
//!    header's value, and nothing is journaled: an unsigned request must not be able to fill the
//!    journal. An empty configured secret is a 500 (a deployment mistake, never "accept all").
//! 3. The body is parsed (`domain::stripe`): signed bytes that are not JSON, or not an event,
//!    are a 400 (Stripe never sends those; a sender holding the secret sent something wrong), and
//!    so is a body with NUL (`\u0000`) in any string or key, which PostgreSQL cannot store.
//! 4. `store::billing::ingest_stripe` journals and applies the event in one statement and the
//!    answer is 200, including for types that are not handled (journaled and acknowledged), for
//!    events that wait for their workspace, and for a replay of an event already processed
//!    (its stored result, nothing written).
//! 5. When applying fails, the event is journaled alone with the reason (`store::journal`) and
//!    the `journal_replay` job applies it. A transient failure (database unreachable, deadlock)
//!    is still a 5xx so Stripe retries sooner; any other is answered 200, so a bug cannot make
//!    Stripe disable the endpoint after days of failures.
//!
//! Logs carry event ids, types, outcomes and workspace ids; never customer names or emails.

use domain::secret::Secret;
use domain::signature::{self, STRIPE_SIGNATURE_HEADER, STRIPE_TOLERANCE_SECS, SignatureError};
use domain::stripe::StripeEvent;
use http::Method;
use lambda_http::{Body, Request, Response};
use platform::ApiError;
use platform::clock::Clock;
use platform::http::{json_response, raw_body, request_id, respond};
use serde::Serialize;
use store::Db;
use store::billing::{self, StripeDelivery};

/// The Stripe webhook, built once per cold start.
#[derive(Debug, Clone)]
pub struct Stripe {
    pub db: Db,
    /// `STRIPE_WEBHOOK_SECRET`: the endpoint's `whsec_…` signing secret, used whole as the key.
    pub webhook_secret: Secret,
    /// "Now" for the signature's timestamp tolerance; fixed in tests.
    pub clock: Clock,
}

/// The answer to a verified event. Stripe reads only the status; the body says what happened.
#[derive(Debug, Serialize)]
struct Ack<'a> {
    received: bool,
    event_id: &'a str,
    /// What `ingest_stripe` did (`applied`, `pending`, `ignored`, …); `not_applied` when applying
    /// failed and the event was journaled alone for the replay job.
    outcome: &'a str,
    /// The event was processed before: nothing was written.
    duplicate: bool,
}

impl Stripe {
    /// Answers one request of the route; every method but POST is a 405.
    pub async fn handle(&self, request: Request) -> Response<Body> {
        let request_id = request_id(&request);
        let result = match *request.method() {
            Method::POST => self.receive(&request, &request_id).await,
            _ => Err(ApiError::MethodNotAllowed),
        };
        respond(&request_id, result)
    }

    async fn receive(
        &self,
        request: &Request,
        request_id: &str,
    ) -> Result<Response<Body>, ApiError> {
        let raw = raw_body(request)?;
        let header = request
            .headers()
            .get(STRIPE_SIGNATURE_HEADER)
            .and_then(|value| value.to_str().ok());
        let now = self.clock.now().timestamp();
        signature::verify_stripe(
            raw,
            header,
            &self.webhook_secret,
            now,
            STRIPE_TOLERANCE_SECS,
        )
        .map_err(|error| refusal(request_id, error))?;

        let event = StripeEvent::parse(raw).map_err(|error| {
            ApiError::Malformed(format!("the body is not a Stripe event: {error}"))
        })?;
        // Parsing succeeded on these bytes, so they are JSON.
        let body: serde_json::Value = serde_json::from_slice(raw).map_err(|error| {
            ApiError::Malformed(format!("the body is not valid JSON ({error})"))
        })?;
        // PostgreSQL can store NUL in neither text nor jsonb, so such a body could be neither
        // applied nor journaled (it was a 500). Stripe never sends one.
        if has_nul(&body) {
            return Err(ApiError::Malformed(
                "the body is not a Stripe event: a string or a key contains NUL (\\u0000)"
                    .to_owned(),
            ));
        }
        let delivery = StripeDelivery::new(&event, body);

        match billing::ingest_stripe(&self.db, &delivery).await {
            Ok(result) => {
                tracing::info!(
                    request_id,
                    event_id = %event.id,
                    event_type = %event.event_type,
                    outcome = ?result.outcome,
                    duplicate = result.duplicate,
                    workspace_id = ?result.workspace_id,
                    pending_applied = result.pending_applied.len(),
                    "stripe event journaled"
                );
                if !result.reasons.is_empty() {
                    // Reasons name ids, statuses and fields only.
                    tracing::info!(request_id, event_id = %event.id, reasons = ?result.reasons,
                        "parts of a stripe event were not applied");
                }
                Ok(ack(
                    event.id.as_str(),
                    result.outcome.as_str(),
                    result.duplicate,
                ))
            }
            Err(error) => {
                let reason = store::journal::failure_reason(&error);
                tracing::error!(
                    request_id,
                    event_id = %event.id,
                    event_type = %event.event_type,
                    %reason,
                    "stripe event could not be applied; journaling it alone"
                );
                match billing::record_failure(&self.db, &delivery, &reason).await {
                    // Kept: the journal_replay job applies it. A transient failure is still a
                    // 5xx, so Stripe's retry may apply it sooner.
                    Ok(_) if error.is_transient() => Err(ApiError::Journaled(Box::new(error))),
                    Ok(_) => Ok(ack(event.id.as_str(), "not_applied", false)),
                    // Not even journaled: only Stripe's retry can bring it back.
                    Err(_) => Err(error.into()),
                }
            }
        }
    }
}

/// Whether any string or key anywhere in `value` contains NUL.
fn has_nul(value: &serde_json::Value) -> bool {
    match value {
        serde_json::Value::String(text) => text.contains('\0'),
        serde_json::Value::Array(items) => items.iter().any(has_nul),
        serde_json::Value::Object(map) => map
            .iter()
            .any(|(key, item)| key.contains('\0') || has_nul(item)),
        _ => false,
    }
}

/// Maps a refused signature to its answer. Each reason is a fixed sentence: it names the kind of
/// failure, never the secret, the header's value or the body.
fn refusal(request_id: &str, error: SignatureError) -> ApiError {
    let detail = match error {
        SignatureError::EmptySecret => return ApiError::Internal(Box::new(error)),
        SignatureError::MissingHeader => "the Stripe-Signature header is missing",
        SignatureError::WrongPrefix | SignatureError::MalformedHeader => {
            "the Stripe-Signature header is malformed"
        }
        SignatureError::NoV1Signature => "the Stripe-Signature header carries no v1 signature",
        SignatureError::BadHex | SignatureError::Mismatch => {
            "no v1 signature in Stripe-Signature matches the body"
        }
        SignatureError::TimestampOutsideTolerance { .. } => {
            "the Stripe-Signature timestamp is more than 300 seconds from now"
        }
    };
    tracing::info!(request_id, reason = %error, "stripe signature refused");
    ApiError::Unauthorized(detail)
}

fn ack(event_id: &str, outcome: &str, duplicate: bool) -> Response<Body> {
    json_response(
        200,
        &Ack {
            received: true,
            event_id,
            outcome,
            duplicate,
        },
    )
}
