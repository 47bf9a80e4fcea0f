//! `GET /openapi.json`: the HTTP contract of every route, as JSON (local stack only).
//!
//! The contract is the repository's hand-written `openapi.yaml` (OpenAPI 3.1), embedded at
//! compile time so the binary always serves the document it was built with. It is converted to
//! JSON once, on first use. A test (`tests/openapi.rs`) checks that it lists exactly the routes
//! the router has, and `scripts/api-contract` fuzzes every operation against the running stack
//! with schemathesis, so the document, the router and the handlers cannot drift apart.

use lambda_http::{Body, Response};
use platform::ApiError;
use std::sync::LazyLock;

/// The document as written (`openapi.yaml` at the repository root).
pub const OPENAPI_YAML: &str = include_str!("../../../openapi.yaml");

/// The document as a JSON value, or why `openapi.yaml` could not be read (a build with a broken
/// document answers 500; the tests refuse to pass with one).
pub fn document() -> Result<&'static serde_json::Value, &'static str> {
    static DOCUMENT: LazyLock<Result<serde_json::Value, String>> = LazyLock::new(|| {
        serde_norway::from_str(OPENAPI_YAML).map_err(|e| format!("openapi.yaml: {e}"))
    });
    DOCUMENT.as_ref().map_err(String::as_str)
}

/// The JSON bytes served, serialised once.
fn json_bytes() -> Result<&'static [u8], &'static str> {
    static BYTES: LazyLock<Result<Vec<u8>, String>> = LazyLock::new(|| {
        let document = document().map_err(str::to_owned)?;
        serde_json::to_vec(document).map_err(|e| format!("openapi.yaml as JSON: {e}"))
    });
    BYTES.as_deref().map_err(String::as_str)
}

pub fn handle(request_id: &str) -> Response<Body> {
    let bytes = match json_bytes() {
        Ok(bytes) => bytes,
        Err(reason) => return ApiError::Internal(reason.into()).into_response(request_id),
    };
    Response::builder()
        .status(200)
        .header(http::header::CONTENT_TYPE, "application/json")
        .body(Body::from(bytes.to_vec()))
        // Status and headers above are valid by construction.
        .unwrap_or_else(|_| Response::new(Body::Empty))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_embedded_document_reads_as_openapi_3_1() {
        let document = document().expect("openapi.yaml is valid YAML");
        let version = document["openapi"].as_str().unwrap_or_default();
        assert!(version.starts_with("3.1."), "{version}");
    }
}
