//! Configuration from the environment.
//!
//! Every function reads its settings once at cold start. A missing or malformed variable stops
//! the process with an error that names the variable (and never prints its value), so a broken
//! deploy fails on its first invocation with a readable log line instead of a 500 per request.

use domain::secret::Secret;
use std::{fmt::Display, str::FromStr};
use store::{Db, PoolSettings, SessionLimits};

#[derive(Debug, thiserror::Error)]
#[error("environment variable {variable} {problem}")]
pub struct ConfigError {
    pub variable: &'static str,
    pub problem: String,
}

impl ConfigError {
    pub fn new(variable: &'static str, problem: impl Into<String>) -> Self {
        Self {
            variable,
            problem: problem.into(),
        }
    }
}

/// A variable's value; unset and empty are the same (both are deploy mistakes).
pub fn optional(variable: &'static str) -> Option<String> {
    std::env::var(variable)
        .ok()
        .map(|v| v.trim().to_owned())
        .filter(|v| !v.is_empty())
}

pub fn required(variable: &'static str) -> Result<String, ConfigError> {
    optional(variable).ok_or_else(|| ConfigError::new(variable, "is not set"))
}

pub fn required_secret(variable: &'static str) -> Result<Secret, ConfigError> {
    required(variable).map(Secret::new)
}

/// A parsed variable with a default; a value that does not parse is an error, not the default.
pub fn parsed_or<T>(variable: &'static str, default: T) -> Result<T, ConfigError>
where
    T: FromStr,
    T::Err: Display,
{
    match optional(variable) {
        None => Ok(default),
        Some(raw) => raw
            .parse()
            .map_err(|e| ConfigError::new(variable, format!("is malformed: {e}"))),
    }
}

/// The database settings: `DATABASE_URL`, `DATABASE_POOL_SIZE` (default `default_pool_size`:
/// 1 for a Lambda instance, which serves one request at a time) and `PGSSLROOTCERT`.
pub fn database_settings(default_pool_size: usize) -> Result<PoolSettings, ConfigError> {
    let url = required("DATABASE_URL")?;
    store::pool::parse_url(&url)
        .map_err(|e| ConfigError::new("DATABASE_URL", format!("is malformed: {e}")))?;
    let max_size = parsed_or("DATABASE_POOL_SIZE", default_pool_size)?;
    if max_size == 0 {
        return Err(ConfigError::new("DATABASE_POOL_SIZE", "must be at least 1"));
    }
    Ok(PoolSettings {
        url,
        max_size,
        root_cert_path: optional("PGSSLROOTCERT"),
    })
}

/// The pool for a Lambda function: built once, connects on first use, every session runs under
/// `limits` (`SessionLimits::WEBHOOK`, `CONSUMER` or `SCHEDULED`), and API key lookups are
/// remembered for `KeyCache::LAMBDA_TTL` (30 s: a revocation takes effect within that time).
pub fn database_from_env(limits: SessionLimits) -> Result<Db, ConfigError> {
    let settings = database_settings(1)?;
    // `on` only for a direct connection (store::pool::set_statement_cache says why).
    let cache = match optional("DATABASE_STATEMENT_CACHE").as_deref() {
        None | Some("off") => false,
        Some("on") => true,
        Some(_) => {
            return Err(ConfigError::new(
                "DATABASE_STATEMENT_CACHE",
                "must be on or off",
            ));
        }
    };
    store::pool::set_statement_cache(cache);
    let db = Db::with_session_limits(&settings, limits)
        .map_err(|e| ConfigError::new("DATABASE_URL", e.to_string()))?;
    Ok(db.with_key_cache(store::api_keys::KeyCache::LAMBDA_TTL))
}
