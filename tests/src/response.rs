//! What a handler answered, as the `TestApp` reports it: status, headers and the body both as
//! text and as JSON, so a test asserts on whichever the contract speaks of.

use lambda_http::{Body, Response};
use serde_json::Value;

#[derive(Debug, Clone)]
pub struct TestResponse {
    pub status: u16,
    pub content_type: String,
    pub headers: http::HeaderMap,
    /// The body as text (the WhatsApp handshake's challenge).
    pub text: String,
    /// The JSON body (a problem document for errors); `Null` when the body is not JSON.
    pub body: Value,
}

impl TestResponse {
    pub fn from_response(response: Response<Body>) -> Self {
        let headers = response.headers().clone();
        let content_type = headers
            .get("content-type")
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_owned();
        let bytes = response.body().as_ref();
        Self {
            status: response.status().as_u16(),
            content_type,
            text: String::from_utf8_lossy(bytes).into_owned(),
            body: serde_json::from_slice(bytes).unwrap_or(Value::Null),
            headers,
        }
    }

    /// A header's value as text, if it was sent.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    /// The `field` of every entry of a problem's `errors[]`.
    pub fn error_fields(&self) -> Vec<String> {
        self.body["errors"]
            .as_array()
            .map(|errors| {
                errors
                    .iter()
                    .filter_map(|e| e["field"].as_str().map(str::to_owned))
                    .collect()
            })
            .unwrap_or_default()
    }

    /// The `outcome` of a Stripe webhook's 200 (`applied`, `pending`, …).
    pub fn outcome(&self) -> &str {
        self.body["outcome"].as_str().unwrap_or_default()
    }

    /// A uuid member of the 200 body (`lead_id`, `session_id`, `agent_id`, …).
    pub fn id(&self, member: &str) -> uuid::Uuid {
        self.body[member]
            .as_str()
            .and_then(|s| s.parse().ok())
            .unwrap_or_else(|| panic!("{member} is a uuid in {}", self.body))
    }
}
