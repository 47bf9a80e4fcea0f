//! Request bodies and JSON responses.
//!
//! lambda_http has already base64-decoded a body API Gateway encoded, so [`raw_body`] sees the
//! bytes the client sent: what signatures are computed over. The size limit is checked on those
//! bytes before anything parses them.
//!
//! [`bearer_token`] reads the workspace API key of `Authorization: Bearer <key>`, the one way
//! every API-key route (web-agent, scrape-quota) takes its credential.

use crate::ApiError;
use domain::secret::Secret;
use lambda_http::{Body, Request, RequestExt, Response};
use serde::Serialize;

/// The body limit of every route but the WhatsApp webhook's (docs/architecture.md §5.1).
pub const MAX_BODY_BYTES: usize = 256 * 1024;

/// The WhatsApp webhook's body limit. Meta batches many messages and statuses into one delivery
/// and resends a refused body for days, so a 413 would lose it for good: bodies up to 3 MB are
/// accepted, verified and journaled.
pub const WHATSAPP_MAX_BODY_BYTES: usize = 3 * 1024 * 1024;

/// The largest body any route accepts: what a server in front of the handlers must let through
/// (each handler then applies its own limit).
pub const LARGEST_BODY_BYTES: usize = WHATSAPP_MAX_BODY_BYTES;

/// The raw bytes of the body, refused with 413 when over [`MAX_BODY_BYTES`].
pub fn raw_body(request: &Request) -> Result<&[u8], ApiError> {
    raw_body_within(request, MAX_BODY_BYTES)
}

/// The raw bytes of the body, refused with 413 when over `limit`.
pub fn raw_body_within(request: &Request, limit: usize) -> Result<&[u8], ApiError> {
    let bytes: &[u8] = match request.body() {
        Body::Empty => &[],
        Body::Text(text) => text.as_bytes(),
        Body::Binary(bytes) => bytes,
        // lambda_http::Body is non-exhaustive in spirit; anything else is treated as empty.
        #[allow(unreachable_patterns)]
        _ => &[],
    };
    if bytes.len() > limit {
        return Err(ApiError::PayloadTooLarge { limit });
    }
    Ok(bytes)
}

/// The body as a JSON value: 413 over the limit, 415 when the content type is not JSON, 400 when
/// it is not well-formed JSON. Typed parsing (422 with field errors) is the use case's job.
pub fn json_body(request: &Request) -> Result<serde_json::Value, ApiError> {
    let bytes = raw_body(request)?;
    if !is_json_content_type(request) {
        return Err(ApiError::UnsupportedMediaType);
    }
    serde_json::from_slice(bytes).map_err(|e| {
        // serde_json's syntax errors give a position, never the body's text.
        ApiError::Malformed(format!("the body is not valid JSON ({e})"))
    })
}

/// True for `application/json` and `application/*+json`, with any parameters.
pub fn is_json_content_type(request: &Request) -> bool {
    let Some(value) = request
        .headers()
        .get(http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
    else {
        return false;
    };
    let essence = value
        .split(';')
        .next()
        .unwrap_or_default()
        .trim()
        .to_ascii_lowercase();
    essence == "application/json"
        || (essence.starts_with("application/") && essence.ends_with("+json"))
}

/// The key of `Authorization: Bearer <key>` (scheme case-insensitive, RFC 9110), wrapped so it
/// never prints. Missing, another scheme or an empty key is 401; whether the key is valid is the
/// caller's lookup (`store::api_keys::authenticate`, which also refuses tokens of the wrong
/// shape without a round trip).
pub fn bearer_token(request: &Request) -> Result<Secret, ApiError> {
    const MISSING: ApiError = ApiError::Unauthorized(
        "an API key is required: send it as the header Authorization: Bearer <api key>",
    );
    let header = request
        .headers()
        .get(http::header::AUTHORIZATION)
        .and_then(|value| value.to_str().ok())
        .ok_or(MISSING)?;
    let (scheme, token) = header.trim().split_once(' ').ok_or(MISSING)?;
    let token = token.trim();
    if !scheme.eq_ignore_ascii_case("bearer") || token.is_empty() {
        return Err(MISSING);
    }
    Ok(Secret::new(token))
}

/// The id to quote in logs and 5xx problems: Lambda's request id, else a generated one.
pub fn request_id(request: &Request) -> String {
    request
        .lambda_context_ref()
        .map(|ctx| ctx.request_id.clone())
        .filter(|id| !id.is_empty())
        .unwrap_or_else(|| uuid::Uuid::new_v4().to_string())
}

/// A JSON response with the given status.
pub fn json_response<T: Serialize>(status: u16, value: &T) -> Response<Body> {
    match serde_json::to_vec(value) {
        Ok(body) => Response::builder()
            .status(status)
            .header(http::header::CONTENT_TYPE, "application/json")
            .body(Body::from(body))
            .unwrap_or_else(|_| Response::new(Body::Empty)),
        Err(err) => ApiError::Internal(Box::new(err)).into_response("serialization"),
    }
}

/// Runs a handler body and maps its error in the one place errors become responses.
pub fn respond(request_id: &str, result: Result<Response<Body>, ApiError>) -> Response<Body> {
    result.unwrap_or_else(|err| err.into_response(request_id))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request(content_type: Option<&str>, body: Body) -> Request {
        let mut builder = http::Request::builder().method("POST").uri("/x");
        if let Some(ct) = content_type {
            builder = builder.header("content-type", ct);
        }
        builder.body(body).expect("a valid test request")
    }

    #[test]
    fn a_body_over_the_limit_is_refused_before_parsing() {
        let big = "x".repeat(MAX_BODY_BYTES + 1);
        let err = json_body(&request(Some("application/json"), Body::from(big))).unwrap_err();
        assert_eq!(err.status(), 413);
    }

    #[test]
    fn a_body_at_the_limit_is_read() {
        let exact = vec![b' '; MAX_BODY_BYTES];
        assert!(raw_body(&request(None, Body::from(exact))).is_ok());
    }

    #[test]
    fn content_types_are_judged_by_their_essence() {
        let cases = [
            (Some("application/json"), true),
            (Some("application/json; charset=utf-8"), true),
            (Some("Application/JSON"), true),
            (Some("application/problem+json"), true),
            (Some("text/plain"), false),
            (Some("application/x-www-form-urlencoded"), false),
            (None, false),
        ];
        for (ct, want) in cases {
            assert_eq!(
                is_json_content_type(&request(ct, Body::Empty)),
                want,
                "{ct:?}"
            );
        }
    }

    #[test]
    fn a_bearer_key_is_read_whatever_the_schemes_case() {
        let with = |authorization: &str| {
            let request = http::Request::builder()
                .header("authorization", authorization)
                .body(Body::Empty)
                .expect("a valid test request");
            bearer_token(&request).map(|key| key.expose().to_owned())
        };
        assert_eq!(with("Bearer le_123").ok().as_deref(), Some("le_123"));
        assert_eq!(with("bearer  le_123 ").ok().as_deref(), Some("le_123"));
        for refused in ["Basic abc", "Bearer ", "Bearer", "le_123"] {
            assert_eq!(with(refused).map_err(|e| e.status()), Err(401), "{refused}");
        }
        let none = bearer_token(&request(None, Body::Empty)).map_err(|e| e.status());
        assert_eq!(none.err(), Some(401));
    }

    #[test]
    fn bad_json_is_400_and_non_json_is_415() {
        let bad = json_body(&request(Some("application/json"), Body::from("{\"a\":"))).unwrap_err();
        assert_eq!(bad.status(), 400);
        let text = json_body(&request(Some("text/plain"), Body::from("{}"))).unwrap_err();
        assert_eq!(text.status(), 415);
    }
}
