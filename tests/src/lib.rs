//! Helpers for the end-to-end tests under `tests/tests/`.
//!
//! - [`moto`]: a real SQS-compatible server (moto's, from PyPI) on a free loopback port, one per
//!   test, stopped when dropped.
//! - [`fixtures`]: arranging tenants (workspace, API key, WhatsApp channel, agent) with plain SQL.
//! - [`response`]: [`response::TestResponse`], what a handler answered, for every `TestApp`.
//! - [`scrape_quota`]: a `TestApp` for the scrape quota, with the clock pinned per request.
//! - [`web_agent`]: a `TestApp` for the web-agent webhook.
//! - [`whatsapp`]: a `TestApp` for the WhatsApp webhook.
//! - [`stripe`]: a `TestApp` for the Stripe webhook, with builders of Stripe-shaped events.

pub mod fixtures;
pub mod moto;
pub mod response;
pub mod scrape_quota;
pub mod stripe;
pub mod web_agent;
pub mod whatsapp;
