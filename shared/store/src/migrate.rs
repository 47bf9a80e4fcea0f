//! Schema migrations and function sources.
//!
//! The SQL files in the workspace's `migrations/` folder are embedded at compile time and applied
//! in order by refinery, which records each applied file (with its checksum) in
//! `refinery_schema_history`; running the migrator again applies nothing. Then the function and
//! view sources of [`crate::schema`] are re-created, in one transaction, when their fingerprint
//! differs from the one `schema_sources` recorded. The whole run holds a PostgreSQL advisory lock,
//! so two deploys migrating at once run one after the other instead of interleaving.
//!
//! Only the `local -- migrate` command and the test harness call this: Lambda functions never
//! migrate at cold start, so a deploy never races its own schema change.

use crate::{StoreError, schema};

mod embedded {
    refinery::embed_migrations!("../../migrations");
}

/// The session advisory lock every migrate run holds (an arbitrary, fixed key).
const MIGRATE_LOCK: i64 = 7_042_001_012;

/// What a migration run did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MigrationReport {
    /// Names of the migrations applied by this run, in order (`V1__foundation`, …).
    pub applied: Vec<String>,
    /// Whether the function sources were (re)created (false: the database already ran them).
    pub sources_applied: bool,
}

#[derive(Debug, thiserror::Error)]
pub enum MigrateError {
    #[error("could not connect to run migrations")]
    Connect(#[from] StoreError),
    #[error("migration failed")]
    Migration(#[from] refinery::Error),
    #[error("function source {name} failed to apply")]
    Source {
        name: &'static str,
        #[source]
        source: tokio_postgres::Error,
    },
    #[error("migration lock or bookkeeping failed")]
    Database(#[source] tokio_postgres::Error),
}

/// Applies every pending migration, then the function sources, over one connection.
pub async fn run(url: &str, root_cert_path: Option<&str>) -> Result<MigrationReport, MigrateError> {
    let mut client = crate::pool::connect_once(url, root_cert_path).await?;
    run_on(&mut client).await
}

/// Applies every pending migration, then the function sources, with an existing client.
pub async fn run_on(client: &mut tokio_postgres::Client) -> Result<MigrationReport, MigrateError> {
    client
        .execute("SELECT pg_advisory_lock($1)", &[&MIGRATE_LOCK])
        .await
        .map_err(MigrateError::Database)?;
    let outcome = migrate_locked(client).await;
    // Released on every path; a connection that died released it already.
    let _ = client
        .execute("SELECT pg_advisory_unlock($1)", &[&MIGRATE_LOCK])
        .await;
    outcome
}

async fn migrate_locked(
    client: &mut tokio_postgres::Client,
) -> Result<MigrationReport, MigrateError> {
    let report = embedded::migrations::runner().run_async(client).await?;
    let applied = report
        .applied_migrations()
        .iter()
        .map(|m| format!("V{}__{}", m.version(), m.name()))
        .collect();
    let sources_applied = apply_sources(client).await?;
    Ok(MigrationReport {
        applied,
        sources_applied,
    })
}

/// Re-creates every function source in one transaction unless `schema_sources` already records
/// this build's fingerprint.
async fn apply_sources(client: &mut tokio_postgres::Client) -> Result<bool, MigrateError> {
    let fingerprint = schema::fingerprint();
    let transaction = client.transaction().await.map_err(MigrateError::Database)?;
    let current: Option<String> = transaction
        .query_opt("SELECT fingerprint FROM schema_sources FOR UPDATE", &[])
        .await
        .map_err(MigrateError::Database)?
        .map(|row| row.get(0));
    if current.as_deref() == Some(fingerprint.as_str()) {
        return Ok(false);
    }
    for source in schema::SOURCES {
        transaction
            .batch_execute(source.sql)
            .await
            .map_err(|source_error| MigrateError::Source {
                name: source.name,
                source: source_error,
            })?;
    }
    transaction
        .execute(
            "INSERT INTO schema_sources (fingerprint) VALUES ($1)
             ON CONFLICT (singleton) DO UPDATE SET fingerprint = EXCLUDED.fingerprint,
                                                   applied_at = now()",
            &[&fingerprint],
        )
        .await
        .map_err(MigrateError::Database)?;
    transaction.commit().await.map_err(MigrateError::Database)?;
    Ok(true)
}

/// Applies the migrations up to and including `version`, and nothing else: a database as an
/// older build left it. For upgrade tests only.
#[cfg(feature = "test-util")]
pub async fn run_history_up_to(
    client: &mut tokio_postgres::Client,
    version: i32,
) -> Result<(), MigrateError> {
    embedded::migrations::runner()
        .set_target(refinery::Target::Version(version))
        .run_async(client)
        .await?;
    Ok(())
}

/// A fingerprint of every embedded migration (version, name, checksum) and of the function
/// sources: the test harness names its template database after it, so changing either builds a
/// fresh template.
pub fn fingerprint() -> String {
    use sha2::{Digest, Sha256};
    let mut hasher = Sha256::new();
    for m in embedded::migrations::runner().get_migrations() {
        hasher.update(format!("{}:{}:{};", m.version(), m.name(), m.checksum()));
    }
    hasher.update(schema::fingerprint());
    hex::encode(&hasher.finalize()[..6])
}
