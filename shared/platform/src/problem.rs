//! HTTP errors as RFC 9457 problem documents.
//!
//! [`ApiError`] is the HTTP layer's one error type; [`ApiError::into_response`] is the one place
//! that turns any failure into a status code and an `application/problem+json` body. A 500 says
//! nothing about its cause to the caller (only a request id to quote); the cause chain is logged.

use domain::validation::ValidationErrors;
use lambda_http::{Body, Response};
use serde::Serialize;
use store::StoreError;

#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// 400: the body is not well-formed JSON.
    #[error("malformed request: {0}")]
    Malformed(String),
    /// 401: missing or invalid credentials or signature.
    #[error("unauthorized: {0}")]
    Unauthorized(&'static str),
    /// 403: understood and authenticated, but refused (WhatsApp's verification handshake).
    #[error("forbidden: {0}")]
    Forbidden(&'static str),
    /// 404: no such resource, including one that belongs to another workspace.
    #[error("not found: {0}")]
    NotFound(&'static str),
    /// 405: the route exists with other methods.
    #[error("method not allowed")]
    MethodNotAllowed,
    /// 413: the body is over the limit (refused before parsing).
    #[error("body over {limit} bytes")]
    PayloadTooLarge { limit: usize },
    /// 415: the body is not JSON.
    #[error("unsupported media type")]
    UnsupportedMediaType,
    /// 422: valid JSON that breaks a rule; every bad field is listed.
    #[error("validation failed: {0}")]
    Validation(ValidationErrors),
    /// 429: a quota is exhausted until `retry_after_secs` from now.
    #[error("quota exhausted")]
    QuotaExhausted { retry_after_secs: u64 },
    /// 503: a dependency (the database) is unreachable; safe to retry.
    #[error("service unavailable")]
    Unavailable(#[source] Box<dyn std::error::Error + Send + Sync>),
    /// 500: anything unexpected; the cause is logged, never returned.
    #[error("internal error")]
    Internal(#[source] Box<dyn std::error::Error + Send + Sync>),
    /// 500: applying a delivery failed, but the delivery itself was journaled and will be
    /// applied from the journal; sending it again is safe (it is idempotent on its id).
    #[error("delivery journaled, not applied")]
    Journaled(#[source] Box<dyn std::error::Error + Send + Sync>),
}

impl From<ValidationErrors> for ApiError {
    fn from(errors: ValidationErrors) -> Self {
        Self::Validation(errors)
    }
}

impl From<StoreError> for ApiError {
    fn from(err: StoreError) -> Self {
        if matches!(err, StoreError::Pool(_)) {
            Self::Unavailable(Box::new(err))
        } else {
            Self::Internal(Box::new(err))
        }
    }
}

/// An RFC 9457 problem document.
#[derive(Debug, Serialize)]
pub struct Problem {
    #[serde(rename = "type")]
    pub kind: &'static str,
    pub title: &'static str,
    pub status: u16,
    pub detail: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub errors: Option<ValidationErrors>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub request_id: Option<String>,
}

pub const PROBLEM_JSON: &str = "application/problem+json";

impl ApiError {
    pub fn status(&self) -> u16 {
        match self {
            Self::Malformed(_) => 400,
            Self::Unauthorized(_) => 401,
            Self::Forbidden(_) => 403,
            Self::NotFound(_) => 404,
            Self::MethodNotAllowed => 405,
            Self::PayloadTooLarge { .. } => 413,
            Self::UnsupportedMediaType => 415,
            Self::Validation(_) => 422,
            Self::QuotaExhausted { .. } => 429,
            Self::Internal(_) | Self::Journaled(_) => 500,
            Self::Unavailable(_) => 503,
        }
    }

    /// The problem document for this error. `request_id` is quoted on 5xx so a person can find
    /// the logged cause.
    pub fn problem(&self, request_id: &str) -> Problem {
        let (kind, title, detail, errors) = match self {
            Self::Malformed(detail) => (
                "malformed-request",
                "Malformed request",
                detail.clone(),
                None,
            ),
            Self::Unauthorized(detail) => {
                ("unauthorized", "Unauthorized", (*detail).to_owned(), None)
            }
            Self::Forbidden(detail) => ("forbidden", "Forbidden", (*detail).to_owned(), None),
            Self::NotFound(what) => ("not-found", "Not found", format!("{what} not found"), None),
            Self::MethodNotAllowed => (
                "method-not-allowed",
                "Method not allowed",
                "this route does not accept that method".to_owned(),
                None,
            ),
            Self::PayloadTooLarge { limit } => (
                "payload-too-large",
                "Payload too large",
                format!("the body must be at most {limit} bytes"),
                None,
            ),
            Self::UnsupportedMediaType => (
                "unsupported-media-type",
                "Unsupported media type",
                "the body must be JSON (Content-Type: application/json)".to_owned(),
                None,
            ),
            Self::Validation(errors) => (
                "validation-error",
                "Invalid request",
                "one or more fields are invalid".to_owned(),
                Some(errors.clone()),
            ),
            Self::QuotaExhausted { retry_after_secs } => (
                "quota-exhausted",
                "Quota exhausted",
                format!("the quota resets in {retry_after_secs} seconds"),
                None,
            ),
            Self::Unavailable(_) => (
                "service-unavailable",
                "Service unavailable",
                format!("a dependency is unavailable; retry later (request {request_id})"),
                None,
            ),
            Self::Internal(_) => (
                "internal-error",
                "Internal error",
                format!("an unexpected error occurred (request {request_id})"),
                None,
            ),
            Self::Journaled(_) => (
                "delivery-journaled",
                "Delivery kept, not applied yet",
                format!(
                    "the delivery could not be applied now; it was kept and will be applied \
                     later, and sending it again is safe (request {request_id})"
                ),
                None,
            ),
        };
        let status = self.status();
        Problem {
            kind: type_uri(kind),
            title,
            status,
            detail,
            errors,
            request_id: (status >= 500).then(|| request_id.to_owned()),
        }
    }

    /// The response for this error; 5xx causes are logged here, with their source chain.
    pub fn into_response(self, request_id: &str) -> Response<Body> {
        let status = self.status();
        if status >= 500 {
            tracing::error!(request_id, error = %error_chain(&self), status, "request failed");
        } else {
            tracing::info!(request_id, status, kind = %self, "request rejected");
        }
        let problem = self.problem(request_id);
        let body = serde_json::to_vec(&problem).unwrap_or_default();
        let mut builder = Response::builder()
            .status(status)
            .header(http::header::CONTENT_TYPE, PROBLEM_JSON);
        if let Self::QuotaExhausted { retry_after_secs } = self {
            builder = builder.header(http::header::RETRY_AFTER, retry_after_secs.to_string());
        }
        builder
            .body(Body::from(body))
            // Status and headers above are valid by construction.
            .unwrap_or_else(|_| Response::new(Body::Empty))
    }
}

fn type_uri(kind: &'static str) -> &'static str {
    match kind {
        "malformed-request" => "https://lead-engine.dev/problems/malformed-request",
        "unauthorized" => "https://lead-engine.dev/problems/unauthorized",
        "forbidden" => "https://lead-engine.dev/problems/forbidden",
        "not-found" => "https://lead-engine.dev/problems/not-found",
        "method-not-allowed" => "https://lead-engine.dev/problems/method-not-allowed",
        "payload-too-large" => "https://lead-engine.dev/problems/payload-too-large",
        "unsupported-media-type" => "https://lead-engine.dev/problems/unsupported-media-type",
        "validation-error" => "https://lead-engine.dev/problems/validation-error",
        "quota-exhausted" => "https://lead-engine.dev/problems/quota-exhausted",
        "delivery-journaled" => "https://lead-engine.dev/problems/delivery-journaled",
        "service-unavailable" => "https://lead-engine.dev/problems/service-unavailable",
        _ => "https://lead-engine.dev/problems/internal-error",
    }
}

/// "outer: inner: innermost", for logs. A PostgreSQL error is described by its SQLSTATE,
/// constraint, table and column only: its message and DETAIL can quote the values of a row
/// (`Key (phone_e164)=(+91…) already exists`), and values are personal data.
pub fn error_chain(err: &(dyn std::error::Error + 'static)) -> String {
    let mut out = describe(err);
    let mut source = err.source();
    while let Some(cause) = source {
        out.push_str(": ");
        out.push_str(&describe(cause));
        source = cause.source();
    }
    out
}

fn describe(err: &(dyn std::error::Error + 'static)) -> String {
    let Some(db) = err.downcast_ref::<store::tokio_postgres::error::DbError>() else {
        return err.to_string();
    };
    let mut out = format!("PostgreSQL {} SQLSTATE {}", db.severity(), db.code().code());
    for (label, value) in [
        ("constraint", db.constraint()),
        ("table", db.table()),
        ("column", db.column()),
        ("routine", db.routine()),
    ] {
        if let Some(value) = value {
            out.push_str(&format!(" {label}={value}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn body_json(response: &Response<Body>) -> serde_json::Value {
        serde_json::from_slice(response.body().as_ref()).expect("problem bodies are JSON")
    }

    #[test]
    fn every_error_maps_to_its_documented_status() {
        let cases: Vec<(ApiError, u16)> = vec![
            (ApiError::Malformed("x".into()), 400),
            (ApiError::Unauthorized("no key"), 401),
            (ApiError::NotFound("agent"), 404),
            (ApiError::PayloadTooLarge { limit: 1 }, 413),
            (ApiError::UnsupportedMediaType, 415),
            (
                ApiError::Validation(ValidationErrors::single("phone", "bad")),
                422,
            ),
            (
                ApiError::QuotaExhausted {
                    retry_after_secs: 9,
                },
                429,
            ),
            (ApiError::Internal("boom".into()), 500),
        ];
        for (error, status) in cases {
            let name = error.to_string();
            let response = error.into_response("req-1");
            assert_eq!(response.status().as_u16(), status, "{name}");
            assert_eq!(response.headers()["content-type"], PROBLEM_JSON, "{name}");
            assert_eq!(body_json(&response)["status"], status, "{name}");
        }
    }

    #[test]
    fn a_validation_problem_lists_every_field() {
        let mut errors = ValidationErrors::new();
        errors.push("phone", "is not a possible phone number");
        errors.push("booking.date", "must be YYYY-MM-DD");
        let body = body_json(&ApiError::Validation(errors).into_response("r"));
        assert_eq!(body["errors"][0]["field"], "phone");
        assert_eq!(body["errors"][1]["field"], "booking.date");
    }

    #[test]
    fn a_500_is_opaque_and_quotes_the_request_id() {
        let cause = std::io::Error::other("password authentication failed for user x");
        let response = ApiError::Internal(Box::new(cause)).into_response("req-42");
        let body = body_json(&response);
        let text = body.to_string();
        assert!(!text.contains("password"), "{text}");
        assert_eq!(body["request_id"], "req-42");
    }

    #[tokio::test]
    async fn logged_database_errors_never_carry_the_rows_values() {
        // A real server error: DbError cannot be built by hand.
        let test = store::testing::TestDb::new().await;
        let err = test
            .client()
            .await
            .batch_execute(
                "CREATE TEMP TABLE t (phone text CONSTRAINT t_phone_key UNIQUE); \
                 INSERT INTO t VALUES ('+919876543210'); INSERT INTO t VALUES ('+919876543210');",
            )
            .await
            .expect_err("a duplicate");
        let logged = error_chain(&err);
        assert!(!logged.contains("+919876543210"), "{logged}");
        assert!(
            logged.contains("SQLSTATE 23505") && logged.contains("t_phone_key"),
            "{logged}"
        );
    }

    #[test]
    fn a_429_says_when_to_retry() {
        let response = ApiError::QuotaExhausted {
            retry_after_secs: 120,
        }
        .into_response("r");
        assert_eq!(response.headers()["retry-after"], "120");
    }
}
