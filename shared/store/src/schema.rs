//! SQL functions, trigger functions and views as editable source.
//!
//! Migrations are history: once applied, a file never changes (refinery refuses a changed
//! checksum). Function and view bodies are not history but code, so they live in `.sql` files
//! beside the Rust module that calls them, written as `CREATE OR REPLACE …`, and are listed here
//! in the order they must be created in (a function that another calls at definition time — a
//! view's query, a type — comes first; PL/pgSQL bodies resolve names when they run).
//!
//! [`crate::migrate`] applies every pending migration first, then re-creates all of these in one
//! transaction, and records their [`fingerprint`] in `schema_sources`, so an unchanged set costs
//! one lookup. A change that `CREATE OR REPLACE` cannot make (a renamed or retyped parameter, a
//! different result type) needs an explicit `DROP FUNCTION` in a new migration: PostgreSQL
//! refuses it loudly, it never happens silently.

use sha2::{Digest, Sha256};

/// One source file: its name (its path below `shared/store/src`, without `.sql`) and its text.
#[derive(Debug, Clone, Copy)]
pub struct Source {
    pub name: &'static str,
    pub sql: &'static str,
}

macro_rules! sources {
    ($($name:literal),* $(,)?) => {
        &[$(Source { name: $name, sql: include_str!(concat!($name, ".sql")) }),*]
    };
}

/// Every source, in creation order.
pub const SOURCES: &[Source] = sources![
    // Rules shared by every module: roles, ranks, the plan a workspace is on.
    "leads/members",
    "billing/effective_plan",
    "billing/usage",
    "outbox/enqueue",
    "journal/journal",
    // Leads, their identities and conversations.
    "leads/identities",
    "leads/resolve_lead",
    "leads/conversations",
    "leads/audit",
    "leads/unified_leads",
    // Channels.
    "web_agent/ingest_web_agent",
    "whatsapp/ingest_whatsapp",
    "billing/stripe_rules",
    "billing/ingest_stripe",
    // Scoring and stages.
    "scoring/overrides",
    "scoring/mark_cold_leads",
    // Scrape quotas.
    "scrape_quota/consume",
    // Agent microsites: the producer triggers (after the function they all call) and the
    // consumer's version writer.
    "sites/enqueue_rebuilds",
    "sites/request_rebuilds",
    "sites/config_trigger",
    "sites/listing_triggers",
    "sites/agent_trigger",
    "sites/publish",
    // Last: who may use what, set-wise over everything above (roles and policies: V19).
    "security/grants",
];

/// A short hash of every source's name and text: `schema_sources` records the one applied, and
/// the test harness names its template database after it (with the migrations').
pub fn fingerprint() -> String {
    let mut hasher = Sha256::new();
    for source in SOURCES {
        hasher.update(source.name.as_bytes());
        hasher.update([0]);
        hasher.update(source.sql.as_bytes());
        hasher.update([0]);
    }
    hex::encode(&hasher.finalize()[..8])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_source_replaces_rather_than_creates() {
        for source in SOURCES {
            let upper = source.sql.to_uppercase();
            for statement in ["CREATE FUNCTION", "CREATE VIEW", "CREATE TRIGGER"] {
                assert!(
                    !upper.contains(statement),
                    "{} uses `{statement}`: sources are re-applied, so they must say CREATE OR REPLACE",
                    source.name
                );
            }
        }
    }

    #[test]
    fn source_names_are_unique() {
        let mut names: Vec<_> = SOURCES.iter().map(|s| s.name).collect();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), SOURCES.len(), "a source is listed twice");
    }
}
