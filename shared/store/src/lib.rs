//! Lead Engine's PostgreSQL layer.
//!
//! Everything that speaks SQL lives here, next to the SQL it runs; functions never build queries.
//!
//! Modules and what each owns:
//! - [`pool`]: [`Db`], the deadpool-postgres pool built once per process from a connection URL,
//!   with rustls TLS when the URL asks for it.
//! - [`migrate`]: the embedded `migrations/` folder and the runner (`local -- migrate`), which
//!   applies pending migrations and then the function sources; Lambda functions never migrate.
//! - [`schema`]: the SQL function, trigger-function and view sources (`**/*.sql` beside their
//!   modules), in creation order, and their fingerprint.
//! - [`journal`]: the inbound journal every webhook shares (`webhook_events`): the failure path
//!   and the replay of deliveries that failed to apply.
//! - [`api_keys`]: workspace API keys, found by their SHA-256.
//! - [`web_agent`]: the web-agent webhook's write (`ingest_web_agent`).
//! - [`whatsapp`]: the WhatsApp webhook's write (`ingest_whatsapp`) and its failure path.
//! - [`scoring`]: lead facts for scoring, the scoring write, stage overrides, cold leads.
//! - [`billing`]: the Stripe webhook's write (`ingest_stripe`: customer link, subscriptions in
//!   event order, invoices forward only, events waiting for their workspace, audit) and its
//!   failure path.
//! - `leads/*.sql`, `billing/*.sql`: SQL shared by every channel (lead resolution, identities,
//!   conversations, the plan access rule, usage metering), called from the other modules' SQL.
//! - [`outbox`]: the transactional outbox: enqueue in the caller's transaction, claim, mark.
//! - [`scrape_quota`]: agents' daily scrape quotas, checked and consumed in one statement.
//! - [`sites`]: agent microsites: build inputs, versioned publishing, the live page.
//! - [`tasks`]: the scheduled rules over tasks (overdue marking, follow-ups for silent leads).
//! - [`resets`]: the usage_reset job's statements (usage rows per period, scrape-quota windows).
//! - [`rescoring`]: the stale_scores safety net (score_lead jobs for leads scored before their
//!   newest message).
//! - [`error`]: [`StoreError`] and the one helper that maps constraint violations by name.
//! - [`cluster`] (feature `cluster`): a private PostgreSQL cluster started from the system's
//!   binaries, for the local stack and the tests.
//! - [`testing`] (feature `test-util`): a migrated template database and one cloned database per
//!   test.

pub mod api_keys;
pub mod billing;
pub mod error;
pub mod journal;
pub mod migrate;
pub mod outbox;
pub mod pool;
pub mod rescoring;
pub mod resets;
pub mod schema;
pub mod scoring;
pub mod scrape_quota;
pub mod sites;
pub mod tasks;
pub mod web_agent;
pub mod whatsapp;

#[cfg(feature = "cluster")]
pub mod cluster;
#[cfg(feature = "test-util")]
pub mod testing;

pub use error::StoreError;
pub use pool::{Db, PoolSettings, SessionLimits};
pub use tokio_postgres;
