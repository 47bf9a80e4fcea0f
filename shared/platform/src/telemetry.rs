//! Tracing set-up.
//!
//! Lambda functions log one JSON object per line (CloudWatch parses it, and Logs Insights can
//! query fields). lambda_runtime opens a span carrying `requestId` around every invocation; the
//! span is included in each line, so every line carries the request id without handlers passing
//! it around. The level comes from `RUST_LOG` (default `info`).
//!
//! Log ids, never personal data: no phone numbers, emails, names or message text.

use tracing_subscriber::EnvFilter;

/// JSON lines for Lambda. Safe to call more than once (later calls do nothing).
pub fn init_json() {
    let _ = tracing_subscriber::fmt()
        .json()
        .with_env_filter(filter())
        .with_current_span(true)
        .with_span_list(false)
        .flatten_event(true)
        .with_target(true)
        .without_time() // CloudWatch stamps every line itself.
        .with_ansi(false)
        .try_init();
}

/// Human-readable lines for the local stack.
pub fn init_pretty() {
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter())
        .with_target(false)
        .try_init();
}

fn filter() -> EnvFilter {
    EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"))
}
