//! Workspace API keys: the credential of server-to-server callers (the website chat agent).
//!
//! Only the SHA-256 of a key is stored (`api_keys.key_sha256 = sha256(key::bytea)`), so a key is
//! found by hashing what the caller sent and looking the hash up: an indexed equality on a
//! digest, which reveals nothing about stored keys through timing. A revoked key is simply not
//! found; callers cannot tell it from an unknown one, and neither can a log line.
//!
//! [`authenticate`] costs no round trip for:
//! - a token that cannot be a key ([`domain::api_key::is_well_formed`]);
//! - a key looked up by this instance within its [`KeyCache`]'s time to live, found or not.
//!   Lambda functions cache for [`KeyCache::LAMBDA_TTL`] (30 s), so a revoked key stops working
//!   within 30 s on every instance, and a flood of one junk key costs one lookup per instance
//!   per 30 s. The cache holds SHA-256 digests, never keys.

use crate::{Db, StoreError};
use domain::ids::WorkspaceId;
use domain::secret::Secret;
use sha2::{Digest, Sha256};
use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};
use tokio_postgres::types::Type;
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

/// The live key `key` is, if any: refused by shape without a round trip, answered from the
/// instance's [`KeyCache`] while fresh, else looked up (refreshing `last_used_at` at most once a
/// minute, in the same round trip) and cached.
pub async fn authenticate(db: &Db, key: &Secret) -> Result<Option<AuthenticatedKey>, StoreError> {
    if !domain::api_key::is_well_formed(key.expose()) {
        return Ok(None);
    }
    let hash = key_sha256(key.expose());
    let cache = db.key_cache();
    if let Some(known) = cache.get(&hash, Instant::now()) {
        return Ok(known);
    }
    let client = db.client().await?;
    let found = lookup(&client, &hash).await?;
    cache.put(hash, found.clone(), Instant::now());
    Ok(found)
}

/// Per-instance memory of key lookups, found and not found, for a stated time. A zero time to
/// live remembers nothing (tests that revoke a key and expect the next request refused).
#[derive(Debug)]
pub struct KeyCache {
    ttl: Duration,
    entries: Mutex<HashMap<[u8; 32], Remembered>>,
}

/// When a lookup was made, and what it found.
type Remembered = (Instant, Option<AuthenticatedKey>);

impl KeyCache {
    /// What Lambda functions use: a revocation takes effect within this time.
    pub const LAMBDA_TTL: Duration = Duration::from_secs(30);
    /// Entries kept at most; when full, expired ones go, and if none has, all go. Bounds the
    /// memory a flood of distinct well-formed junk keys can take.
    const MAX_ENTRIES: usize = 4096;

    pub fn new(ttl: Duration) -> Self {
        Self {
            ttl,
            entries: Mutex::new(HashMap::new()),
        }
    }

    /// The remembered answer for `hash`, while fresh at `now`.
    fn get(&self, hash: &[u8; 32], now: Instant) -> Option<Option<AuthenticatedKey>> {
        if self.ttl.is_zero() {
            return None;
        }
        let entries = self.entries.lock().unwrap_or_else(|e| e.into_inner());
        entries
            .get(hash)
            .filter(|(at, _)| now.duration_since(*at) < self.ttl)
            .map(|(_, key)| key.clone())
    }

    fn put(&self, hash: [u8; 32], key: Option<AuthenticatedKey>, now: Instant) {
        if self.ttl.is_zero() {
            return;
        }
        let mut entries = self.entries.lock().unwrap_or_else(|e| e.into_inner());
        if entries.len() >= Self::MAX_ENTRIES {
            entries.retain(|_, (at, _)| now.duration_since(*at) < self.ttl);
            if entries.len() >= Self::MAX_ENTRIES {
                entries.clear();
            }
        }
        entries.insert(hash, (now, key));
    }
}

/// The lookup itself: one round trip (`api_keys/authenticate.sql`).
async fn lookup(
    client: &deadpool_postgres::Client,
    hash: &[u8; 32],
) -> Result<Option<AuthenticatedKey>, StoreError> {
    // Unnamed (one round trip, pooler-safe) unless the statement cache is on (pool.rs).
    let row =
        crate::pool::query_hot_opt(client, AUTHENTICATE_SQL, &[(&&hash[..], Type::BYTEA)]).await?;
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

    fn found() -> Option<AuthenticatedKey> {
        Some(AuthenticatedKey {
            key_id: Uuid::nil(),
            workspace_id: WorkspaceId::from_uuid(Uuid::nil()),
            prefix: "le_test_".into(),
            default_region: "IN".into(),
        })
    }

    #[test]
    fn a_cached_answer_is_given_until_its_time_to_live_has_passed() {
        let cache = KeyCache::new(Duration::from_secs(30));
        let t0 = Instant::now();
        cache.put([1; 32], found(), t0);
        cache.put([2; 32], None, t0);

        assert_eq!(
            cache.get(&[1; 32], t0 + Duration::from_secs(29)),
            Some(found())
        );
        assert_eq!(
            cache.get(&[2; 32], t0 + Duration::from_secs(29)),
            Some(None)
        );
        assert_eq!(cache.get(&[1; 32], t0 + Duration::from_secs(30)), None);
        assert_eq!(cache.get(&[3; 32], t0), None, "never looked up");
    }

    #[test]
    fn a_zero_time_to_live_remembers_nothing() {
        let cache = KeyCache::new(Duration::ZERO);
        let t0 = Instant::now();
        cache.put([1; 32], found(), t0);
        assert_eq!(cache.get(&[1; 32], t0), None);
    }

    #[test]
    fn a_full_cache_drops_what_has_expired_first() {
        let cache = KeyCache::new(Duration::from_secs(30));
        let t0 = Instant::now();
        for i in 0..KeyCache::MAX_ENTRIES {
            let mut hash = [0; 32];
            hash[..8].copy_from_slice(&(i as u64).to_le_bytes());
            cache.put(hash, None, t0);
        }
        let later = t0 + Duration::from_secs(31);
        cache.put([9; 32], found(), later);

        let entries = cache.entries.lock().expect("lock");
        assert_eq!(
            entries.len(),
            1,
            "the expired entries went, the new one stayed"
        );
    }

    #[test]
    fn the_stored_form_is_the_sha256_of_the_key_bytes() {
        // The FIPS 180-2 test vector; PostgreSQL's `sha256('abc'::bytea)` gives the same.
        assert_eq!(
            hex::encode(key_sha256("abc")),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }
}
