//! Lead Engine's domain: the types and rules every function shares, with no I/O.
//!
//! Nothing here touches a database, a socket, a clock or an async runtime; "now" is always an
//! argument. That keeps every rule testable as a plain function and lets the store and the Lambda
//! functions stay thin adapters around it.
//!
//! Modules and what each owns:
//! - [`validation`]: field-level errors (`{field, message}`) that become a 422's `errors[]`.
//! - [`ids`]: typed identifiers (`WorkspaceId`, `LeadId`, …) so ids of different things never mix.
//! - [`secret`]: a wrapper that keeps secrets out of `Debug`/`Display` and therefore out of logs.
//! - [`phone`]: `PhoneNumber`, parsed to E.164 with a workspace's default region.
//! - [`email`]: `Email`, trimmed and lower-cased for matching.
//! - [`intent`]: keyword intent detection (English, Hindi in Latin script, Spanish).
//! - [`consent`]: opt-out / opt-in keywords (STOP, START and their equivalents).
//! - [`scoring`]: the one lead-scoring algorithm (DESIGN.md section 4) with its breakdown.
//! - [`stage`]: the stage machine and its reason codes.
//! - [`signature`]: webhook signature verification (Meta `X-Hub-Signature-256`, `Stripe-Signature`).
//! - [`whatsapp`]: Meta WhatsApp Cloud API webhook payloads parsed into typed messages/statuses.
//! - [`web_agent`]: the web-agent webhook body parsed into typed values or field errors.
//! - [`stripe`]: Stripe webhook events (`StripeEventId`, checkout sessions, subscriptions,
//!   invoices, both the pre-2025 and the 2025+ "basil" shapes) and the billing state rules.
//! - [`jobs`]: the versioned SQS job messages shared by producers and consumers.

pub mod consent;
pub mod email;
pub mod ids;
pub mod intent;
pub mod jobs;
pub mod phone;
pub mod scoring;
pub mod secret;
pub mod signature;
pub mod stage;
pub mod stripe;
pub mod validation;
pub mod web_agent;
pub mod whatsapp;
