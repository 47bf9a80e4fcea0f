//! Workspace API keys: the credential of server-to-server callers (the website chat agent).
//!
//! Only the SHA-256 of a key is stored (`api_keys.key_sha256 = sha256(key::bytea)`), so a key is
//! found by hashing what the caller sent and looking the hash up: an indexed equality on a
//! digest, which reveals nothing about stored keys through timing. A revoked key is simply not
//! found; callers cannot tell it from an unknown one, and neither can a log line.

use crate::StoreError;
use domain::ids::WorkspaceId;
use domain::secret::Secret;
use sha2::{Digest, Sha256};
use uuid::Uuid;

/// A key that was found and is not revoked: everything a request needs to act for its
/// workspace.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuthenticatedKey {
    pub key_id: Uuid,
    pub workspace_id: WorkspaceId,
    /// The key's first characters, as shown in dashboards; safe to log.
    pub prefix: String,
    /// The workspace's region for phone numbers written without a country code (`IN`).
    pub default_region: String,
}

/// The stored form of a key: its SHA-256.
pub fn key_sha256(key: &str) -> [u8; 32] {
    Sha256::digest(key.as_bytes()).into()
}

/// The key lookup (`api_keys/authenticate.sql`; `$1` is the key's SHA-256). Public so the
/// web-agent bench can run the very same statement through pgbench.
pub const AUTHENTICATE_SQL: &str = include_str!("api_keys/authenticate.sql");

/// The live key whose SHA-256 matches `key`, if any; refreshes its `last_used_at` at most once a
/// minute, in the same round trip.
pub async fn authenticate(
    client: &deadpool_postgres::Client,
    key: &Secret,
) -> Result<Option<AuthenticatedKey>, StoreError> {
    let hash = key_sha256(key.expose());
    let statement = client.prepare_cached(AUTHENTICATE_SQL).await?;
    let row = client.query_opt(&statement, &[&&hash[..]]).await?;
    row.map(|row| {
        Ok(AuthenticatedKey {
            key_id: row.try_get("id")?,
            workspace_id: WorkspaceId::from_uuid(row.try_get("workspace_id")?),
            prefix: row.try_get("prefix")?,
            default_region: row.try_get("default_region")?,
        })
    })
    .transpose()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_stored_form_is_the_sha256_of_the_key_bytes() {
        // The FIPS 180-2 test vector; PostgreSQL's `sha256('abc'::bytea)` gives the same.
        assert_eq!(
            hex::encode(key_sha256("abc")),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }
}
