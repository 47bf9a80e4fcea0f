//! Lead Engine's domain: the types and rules every function shares, with no I/O.
//!
//! Nothing here touches a database, a socket, a clock or an async runtime; "now" is always an
//! argument. That keeps every rule testable as a plain function and lets the store and the Lambda
//! functions stay thin adapters around it.
//!
//! Modules and what each owns:
//! - [`api_key`]: the shape of a workspace API key, checked before any database round trip.
//! - [`validation`]: field-level errors (`{field, message}`) that become a 422's `errors[]`.
//! - [`ids`]: typed identifiers (`WorkspaceId`, `LeadId`, …) so ids of different things never mix.
//! - [`secret`]: a wrapper that keeps secrets out of `Debug`/`Display` and therefore out of logs.
//! - [`phone`]: `PhoneNumber`, parsed to E.164 with a workspace's default region.
//! - [`email`]: `Email`, trimmed and lower-cased for matching.
//! - [`text_enum`](mod@text_enum): `text_enum!`, the one way to write an enum stored as text.
//! - [`text`]: the one normalisation keyword rules compare (case, accents, punctuation).
//! - [`intent`]: keyword intent detection (English, Hindi in Latin script, Spanish).
//! - [`consent`]: opt-out / opt-in keywords (STOP, START and their equivalents).
//! - [`scoring`]: the one lead-scoring algorithm (docs/architecture.md §6.1) with its breakdown.
//! - [`stage`]: the stage machine and its reason codes.
//! - [`signature`]: webhook signature verification (Meta `X-Hub-Signature-256`, `Stripe-Signature`).
//! - [`whatsapp`]: Meta WhatsApp Cloud API webhook payloads parsed into typed messages/statuses.
//! - [`whatsapp_ingest`]: what a parsed WhatsApp delivery asks the database to do (identities,
//!   intents, consent, reasons with JSON paths).
//! - [`web_agent`]: the web-agent webhook body parsed into typed values or field errors.
//! - [`site`]: agent microsites: the typed site document, its writers and its HTML page.
//! - [`stripe`]: Stripe webhook events (`StripeEventId`, checkout sessions, subscriptions,
//!   invoices, both the pre-2025 and the 2025+ "basil" shapes) and the billing state rules.
//! - [`jobs`]: the versioned SQS job messages shared by producers and consumers.
//! - [`quota`]: scrape-quota request units, the window's remaining units and `Retry-After`.

pub mod api_key;
pub mod consent;
pub mod email;
pub mod ids;
pub mod intent;
pub mod jobs;
pub mod phone;
pub mod quota;
pub mod scoring;
pub mod secret;
pub mod signature;
pub mod site;
pub mod stage;
pub mod stripe;
pub mod text;
pub mod text_enum;
pub mod validation;
pub mod web_agent;
pub mod whatsapp;
pub mod whatsapp_ingest;
