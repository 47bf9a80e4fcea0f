//! Lead Engine's Lambda glue: what every function does the same way around its use case.
//!
//! Modules and what each owns:
//! - [`clock`]: the injected clock ("now" is a dependency, so tests control time).
//! - [`config`]: reading the environment, with errors that name the variable; secrets wrapped.
//! - [`telemetry`]: JSON tracing for CloudWatch, with the Lambda request id on every line.
//! - [`problem`]: [`ApiError`], the HTTP layer's one error type, and its single mapping to
//!   RFC 9457 `application/problem+json` responses.
//! - [`aws`]: the functions' AWS client (SigV4-signed JSON POSTs: SQS SendMessageBatch, Bedrock
//!   Converse), small where the SDK is not.
//! - [`jobs`]: publishing outbox rows (SQS or in-process), the relay, and the SQS batch runner.
//! - [`http`]: request bodies (size limit before parsing, content type, JSON), the bearer API key
//!   and JSON responses.
//! - [`site_writer`]: the AI microsite copy writer (Bedrock Converse).

pub mod aws;
pub mod clock;
pub mod config;
pub mod http;
pub mod jobs;
pub mod problem;
pub mod site_writer;
pub mod telemetry;

pub use problem::ApiError;
