//! Helpers for the end-to-end tests under `tests/tests/`.
//!
//! - [`app`]: the one [`TestApp`] ([`spawn_app`]): a database, workspace A, every HTTP handler
//!   and the jobs they published, with verbs named after the routes.
//! - [`web_agent`], [`whatsapp`], [`stripe`], [`scrape_quota`]: each route's verbs on the
//!   `TestApp`, its request builders, and builders of its callers' payloads.
//! - [`moto`]: a real SQS-compatible server (moto's, from PyPI) on a free loopback port, one per
//!   test, stopped when dropped.
//! - [`fixtures`]: arranging tenants (workspace, API key, WhatsApp channel, agent) with plain SQL,
//!   and the repository's copies of provider payloads.
//! - [`response`]: [`TestResponse`], what a handler answered.
//! - [`runtime_api`]: a stand-in for the Lambda Runtime API, to run a function's real binary as
//!   Lambda does (the runtime test and the cold-start bench).

pub mod app;
pub mod fixtures;
pub mod moto;
pub mod response;
pub mod runtime_api;
pub mod scrape_quota;
pub mod stripe;
pub mod web_agent;
pub mod whatsapp;

pub use app::{TestApp, spawn_app};
pub use response::TestResponse;
