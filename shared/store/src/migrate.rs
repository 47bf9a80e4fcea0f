//! Schema migrations.
//!
//! The SQL files in the workspace's `migrations/` folder are embedded at compile time and applied
//! in order by refinery, which records each applied file (with its checksum) in
//! `refinery_schema_history`; running the migrator again applies nothing. Only the
//! `local -- migrate` command and the test harness call this: Lambda functions never migrate at
//! cold start, so a deploy never races its own schema change.

use crate::StoreError;

mod embedded {
    refinery::embed_migrations!("../../migrations");
}

/// What a migration run did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MigrationReport {
    /// Names of the migrations applied by this run, in order (`V1__foundation`, …).
    pub applied: Vec<String>,
}

#[derive(Debug, thiserror::Error)]
pub enum MigrateError {
    #[error("could not connect to run migrations")]
    Connect(#[from] StoreError),
    #[error("migration failed")]
    Migration(#[from] refinery::Error),
}

/// Applies every pending migration over one connection.
pub async fn run(url: &str, root_cert_path: Option<&str>) -> Result<MigrationReport, MigrateError> {
    let mut client = crate::pool::connect_once(url, root_cert_path).await?;
    run_on(&mut client).await
}

/// Applies every pending migration with an existing client.
pub async fn run_on(client: &mut tokio_postgres::Client) -> Result<MigrationReport, MigrateError> {
    let report = embedded::migrations::runner().run_async(client).await?;
    Ok(MigrationReport {
        applied: report
            .applied_migrations()
            .iter()
            .map(|m| format!("V{}__{}", m.version(), m.name()))
            .collect(),
    })
}

/// A fingerprint of every embedded migration (version, name, checksum): the test harness names
/// its template database after it, so changing a migration builds a fresh template.
pub fn fingerprint() -> String {
    use sha2::{Digest, Sha256};
    let mut hasher = Sha256::new();
    for m in embedded::migrations::runner().get_migrations() {
        hasher.update(format!("{}:{}:{};", m.version(), m.name(), m.checksum()));
    }
    hex::encode(&hasher.finalize()[..6])
}
