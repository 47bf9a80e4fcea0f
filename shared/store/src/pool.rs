//! The pooled PostgreSQL client.
//!
//! A [`Db`] is built once per process (cold start) and shared by every request. Building it does
//! not connect: the first query opens the first connection, so a cold start pays no TCP or TLS
//! handshake before a request needs one. A Lambda instance handles one request at a time, so its
//! pool holds one connection; the local stack uses more.
//!
//! TLS follows libpq's `sslmode`, except that a URL without one to a host off this machine gets
//! `verify-full`: a production connection is encrypted *and* checked unless the URL says
//! otherwise. Without `sslmode` to a loopback host (`localhost`, `127.0.0.1`, `::1`) it is libpq's
//! default, `prefer`: nothing crosses a network there, and local servers rarely have TLS.
//! - `disable`: plain TCP (the local stack's and the tests' private clusters).
//! - `prefer`, `require`: TLS with rustls; as in libpq, the server certificate is checked only
//!   when `PGSSLROOTCERT` names a CA bundle (chain and host name, then).
//! - `verify-full`, or no `sslmode` to a host off this machine: TLS, and the chain and host name
//!   are checked against
//!   `PGSSLROOTCERT` when set, else against the public web roots. Amazon RDS and Supabase sign
//!   with CAs of their own, not in the public roots: download their bundle (README, Deploy) and
//!   point `PGSSLROOTCERT` at it.
//! - `verify-ca` (chain without host name) is refused with a message: use `verify-full`.

use crate::StoreError;
use crate::api_keys::KeyCache;
use deadpool_postgres::{Manager, ManagerConfig, Pool, RecyclingMethod};
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{ClientConfig, DigitallySignedStruct, RootCertStore, SignatureScheme};
use std::sync::atomic::{AtomicBool, Ordering};
use std::{fmt, str::FromStr, sync::Arc, time::Duration};
use tokio_postgres::config::SslMode;
use tokio_postgres::types::{ToSql, Type};

/// How long a request may wait for a pooled connection before failing fast.
const POOL_WAIT: Duration = Duration::from_secs(10);
/// How long opening a new connection may take.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);

/// Why a database URL or TLS setting could not be used. Never contains the URL (it may carry a
/// password).
#[derive(Debug, thiserror::Error)]
pub enum PoolSetupError {
    #[error("is not a valid PostgreSQL connection URL: {0}")]
    InvalidUrl(String),
    #[error("pool size must be at least 1")]
    InvalidPoolSize,
    #[error("could not read the CA bundle named by PGSSLROOTCERT: {0}")]
    RootCert(String),
    #[error("could not build the connection pool: {0}")]
    Build(String),
}

/// What a pool is built from.
#[derive(Clone)]
pub struct PoolSettings {
    pub url: String,
    pub max_size: usize,
    /// A PEM file of CA certificates to verify the server against (`PGSSLROOTCERT`).
    pub root_cert_path: Option<String>,
}

impl fmt::Debug for PoolSettings {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PoolSettings")
            .field("url", &"[redacted]")
            .field("max_size", &self.max_size)
            .field("root_cert_path", &self.root_cert_path)
            .finish()
    }
}

/// Limits every session of a pool runs under, sent as connection options
/// (`options=-c statement_timeout=… -c lock_timeout=…` in the startup message), so they hold from
/// the first statement without a round trip of their own.
///
/// Why: Lambda scales out to many instances against one PostgreSQL. A statement stuck behind a
/// lock, or one that has gone slow, must fail inside the function's own timeout, free its
/// connection and report a retryable error (57014 `query_canceled`, 55P03 `lock_not_available`,
/// both [`StoreError::is_transient`]), rather than be killed with the instance mid-transaction
/// while the caller's retry piles onto the same lock.
///
/// A pooler in transaction mode may refuse or drop startup options (pgbouncer needs
/// `ignore_startup_parameters = options`, and then ignores them); set the same limits on the
/// functions' role there (`ALTER ROLE … SET statement_timeout = '5s'`), as the README says.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SessionLimits {
    /// `statement_timeout`: the longest any one statement may run.
    pub statement_timeout: Duration,
    /// `lock_timeout`: the longest a statement may wait for one lock.
    pub lock_timeout: Duration,
}

impl SessionLimits {
    /// HTTP webhooks (API Gateway gives up after 30 s; the functions time out at 10 s): a
    /// statement gets 5 s, a lock wait 2 s, and the caller's retry comes back to a free lock.
    pub const WEBHOOK: Self = Self {
        statement_timeout: Duration::from_secs(5),
        lock_timeout: Duration::from_secs(2),
    };
    /// Queue consumers (function timeout 30 s): 25 s a statement, 10 s a lock wait; a record that
    /// hits either returns to its queue and is retried.
    pub const CONSUMER: Self = Self {
        statement_timeout: Duration::from_secs(25),
        lock_timeout: Duration::from_secs(10),
    };
    /// Scheduled jobs (function timeout 300 s): a backlog is one set-based statement that may
    /// run for tens of seconds, so 280 s, inside the function's timeout; 10 s a lock wait.
    pub const SCHEDULED: Self = Self {
        statement_timeout: Duration::from_secs(280),
        lock_timeout: Duration::from_secs(10),
    };

    /// The `options` startup parameter that sets these, after any options already given.
    fn options(self, existing: Option<&str>) -> String {
        let limits = format!(
            "-c statement_timeout={} -c lock_timeout={}",
            self.statement_timeout.as_millis(),
            self.lock_timeout.as_millis()
        );
        match existing.map(str::trim).filter(|o| !o.is_empty()) {
            Some(existing) => format!("{existing} {limits}"),
            None => limits,
        }
    }
}

/// Whether the hot statements are prepared once per connection; see [`set_statement_cache`].
static STATEMENT_CACHE: AtomicBool = AtomicBool::new(false);

/// `DATABASE_STATEMENT_CACHE=on`: the hot path's statements (the API key lookup and the two
/// ingest calls) are prepared once per connection and reused (`prepare_typed_cached`), instead
/// of being sent unnamed and planned on every call. Measured with `cargo bench -p web-agent
/// --bench ingest`: about 1 ms a request at one connection. Only for a direct connection: a
/// transaction-mode pooler (Supavisor, pgbouncer) does not keep prepared statements, and RDS
/// Proxy pins a connection that has one, so it is off by default. Set once at cold start.
pub fn set_statement_cache(on: bool) {
    STATEMENT_CACHE.store(on, Ordering::Relaxed);
}

/// Whether [`set_statement_cache`] turned the statement cache on.
pub fn statement_cache() -> bool {
    STATEMENT_CACHE.load(Ordering::Relaxed)
}

/// Runs one of the hot path's statements: unnamed with its parameter types (pooler-safe), or,
/// with the statement cache on, prepared once per connection with the same types.
pub(crate) async fn query_hot_opt(
    client: &deadpool_postgres::Client,
    sql: &str,
    params: &[(&(dyn ToSql + Sync), Type)],
) -> Result<Option<tokio_postgres::Row>, tokio_postgres::Error> {
    if !statement_cache() {
        return client.query_typed_opt(sql, params).await;
    }
    let types: Vec<Type> = params.iter().map(|(_, ty)| ty.clone()).collect();
    let statement = client.prepare_typed_cached(sql, &types).await?;
    let values: Vec<&(dyn ToSql + Sync)> = params.iter().map(|(value, _)| *value).collect();
    client.query_opt(&statement, &values).await
}

/// The shared, cheaply clonable database handle: the pool, and the instance's memory of API key
/// lookups ([`crate::api_keys::KeyCache`]; none unless built with [`Db::with_key_cache`]).
#[derive(Clone)]
pub struct Db {
    pool: Pool,
    key_cache: Arc<KeyCache>,
}

impl fmt::Debug for Db {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let status = self.pool.status();
        f.debug_struct("Db")
            .field("max_size", &status.max_size)
            .field("size", &status.size)
            .finish()
    }
}

impl Db {
    /// Builds the pool without connecting; sessions run under the server's defaults.
    pub fn new(settings: &PoolSettings) -> Result<Self, PoolSetupError> {
        Self::build(settings, None)
    }

    /// Builds the pool without connecting; every session runs under `limits`.
    pub fn with_session_limits(
        settings: &PoolSettings,
        limits: SessionLimits,
    ) -> Result<Self, PoolSetupError> {
        Self::build(settings, Some(limits))
    }

    fn build(
        settings: &PoolSettings,
        limits: Option<SessionLimits>,
    ) -> Result<Self, PoolSetupError> {
        if settings.max_size == 0 {
            return Err(PoolSetupError::InvalidPoolSize);
        }
        let (mut config, verification) = parse_connection(&settings.url)?;
        if let Some(limits) = limits {
            let options = limits.options(config.get_options());
            config.options(&options);
        }
        if config.get_connect_timeout().is_none() {
            config.connect_timeout(CONNECT_TIMEOUT);
        }
        let manager_config = ManagerConfig {
            // A pooled connection is checked with a cheap flag, not a round trip: every round
            // trip counts on the hot path, and a broken connection surfaces as a transient error.
            recycling_method: RecyclingMethod::Fast,
        };
        let manager = if config.get_ssl_mode() == SslMode::Disable {
            Manager::from_config(config, tokio_postgres::NoTls, manager_config)
        } else {
            let tls = tls_connector(settings.root_cert_path.as_deref(), verification)?;
            Manager::from_config(config, tls, manager_config)
        };
        let pool = Pool::builder(manager)
            .max_size(settings.max_size)
            .wait_timeout(Some(POOL_WAIT))
            .create_timeout(Some(CONNECT_TIMEOUT))
            .runtime(deadpool_postgres::Runtime::Tokio1)
            .build()
            .map_err(|e| PoolSetupError::Build(e.to_string()))?;
        Ok(Self {
            pool,
            key_cache: Arc::new(KeyCache::new(Duration::ZERO)),
        })
    }

    /// This handle, remembering API key lookups for `ttl` (see [`crate::api_keys`]).
    #[must_use]
    pub fn with_key_cache(mut self, ttl: Duration) -> Self {
        self.key_cache = Arc::new(KeyCache::new(ttl));
        self
    }

    pub(crate) fn key_cache(&self) -> &KeyCache {
        &self.key_cache
    }

    /// A connection from the pool. Opening a new one is logged at debug level with how long it
    /// took (TCP, TLS, authentication and the session settings: a cold start's first round trips).
    pub async fn client(&self) -> Result<deadpool_postgres::Object, StoreError> {
        let started = std::time::Instant::now();
        let client = self.pool.get().await?;
        // A connection handed out for the first time is one this call opened (or waited for,
        // when `open_in_background` was opening it); every later hand-out recycles it.
        if deadpool_postgres::Object::metrics(&client).recycle_count == 0 {
            tracing::debug!(
                elapsed_ms = started.elapsed().as_secs_f64() * 1e3,
                "database connection opened"
            );
        }
        Ok(client)
    }

    /// Starts opening the pool's first connection on a task and returns at once. A cold
    /// start's first request then finds the connection open, or part-way there, instead of
    /// opening it after reading its body: the TCP, TLS and authentication round trips overlap
    /// the runtime's first poll and the request's own CPU work (its first phone number loads
    /// metadata, for one). It never delays init; a failure is logged and the request opens its
    /// own connection as it would have. Call it from `main`, inside the Tokio runtime.
    pub fn open_in_background(&self) {
        let db = self.clone();
        tokio::spawn(async move {
            if let Err(error) = db.client().await {
                tracing::warn!(%error, "opening the database connection before the first request failed");
            }
        });
    }

    /// A real round trip to the database, for health checks.
    pub async fn ping(&self) -> Result<(), StoreError> {
        let client = self.client().await?;
        client.simple_query("SELECT 1").await?;
        Ok(())
    }
}

/// Parses a connection URL, reporting only what is wrong with it, never the URL itself.
pub fn parse_url(url: &str) -> Result<tokio_postgres::Config, PoolSetupError> {
    parse_connection(url).map(|(config, _)| config)
}

/// Whether the server's certificate is checked (see the module documentation).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Verification {
    /// `prefer`, `require`: checked only against `PGSSLROOTCERT` when it is set.
    WhenRootGiven,
    /// `verify-full` or no `sslmode`: chain and host name, against `PGSSLROOTCERT` or the public
    /// web roots.
    Full,
}

/// The URL's settings, with the `sslmode`s tokio-postgres does not know turned into the TLS
/// they mean, and whether the certificate is to be checked.
fn parse_connection(url: &str) -> Result<(tokio_postgres::Config, Verification), PoolSetupError> {
    let (text, verification) = match sslmode(url).as_deref() {
        None if is_loopback(url) => (url.to_owned(), Verification::WhenRootGiven),
        None => (with_sslmode(url, None), Verification::Full),
        Some("verify-full") => (with_sslmode(url, Some("verify-full")), Verification::Full),
        Some("verify-ca") => {
            return Err(PoolSetupError::InvalidUrl(
                "sslmode=verify-ca is not supported: use verify-full (the host name is checked \
                 too) or require"
                    .into(),
            ));
        }
        Some(_) => (url.to_owned(), Verification::WhenRootGiven),
    };
    let config = tokio_postgres::Config::from_str(&text).map_err(|e| {
        // tokio-postgres' messages name the bad option, not its value.
        PoolSetupError::InvalidUrl(e.to_string())
    })?;
    Ok((config, verification))
}

/// The `sslmode` a URL (`postgres://…?sslmode=…`) or a key-value string (`host=… sslmode=…`)
/// gives, if any.
fn sslmode(url: &str) -> Option<String> {
    let is_url = url.starts_with("postgres://") || url.starts_with("postgresql://");
    let pairs: Vec<&str> = if is_url {
        url.split_once('?')
            .map(|(_, query)| query.split('&').collect())
            .unwrap_or_default()
    } else {
        url.split_whitespace().collect()
    };
    pairs
        .into_iter()
        .filter_map(|pair| pair.split_once('='))
        .find(|(key, _)| *key == "sslmode")
        .map(|(_, value)| value.trim_matches('\'').to_owned())
}

/// Whether every host the URL names is this machine (a loopback name or address).
fn is_loopback(url: &str) -> bool {
    let Ok(config) = tokio_postgres::Config::from_str(url) else {
        return false;
    };
    let hosts = config.get_hosts();
    !hosts.is_empty()
        && hosts.iter().all(|host| match host {
            tokio_postgres::config::Host::Tcp(name) => {
                name == "localhost"
                    || name
                        .trim_matches(['[', ']'])
                        .parse::<std::net::IpAddr>()
                        .is_ok_and(|ip| ip.is_loopback())
            }
            tokio_postgres::config::Host::Unix(_) => true,
        })
}

/// `url` with `sslmode=require` in place of `replacing` (or added when there is none), so
/// tokio-postgres negotiates TLS; the checking is set up by [`tls_connector`].
fn with_sslmode(url: &str, replacing: Option<&str>) -> String {
    match replacing {
        Some(mode) => url.replacen(&format!("sslmode={mode}"), "sslmode=require", 1),
        None if url.starts_with("postgres://") || url.starts_with("postgresql://") => {
            let separator = if url.contains('?') { '&' } else { '?' };
            format!("{url}{separator}sslmode=require")
        }
        None => format!("{url} sslmode=require"),
    }
}

/// Opens one connection outside any pool (migrations, test administration).
pub async fn connect_once(
    url: &str,
    root_cert_path: Option<&str>,
) -> Result<tokio_postgres::Client, StoreError> {
    let (config, verification) = parse_connection(url).map_err(|e| StoreError::Decode {
        context: "database url",
        source: Box::new(e),
    })?;
    let client = if config.get_ssl_mode() == SslMode::Disable {
        let (client, connection) = config.connect(tokio_postgres::NoTls).await?;
        tokio::spawn(connection);
        client
    } else {
        let tls = tls_connector(root_cert_path, verification).map_err(|e| StoreError::Decode {
            context: "tls settings",
            source: Box::new(e),
        })?;
        let (client, connection) = config.connect(tls).await?;
        tokio::spawn(connection);
        client
    };
    Ok(client)
}

fn tls_connector(
    root_cert_path: Option<&str>,
    verification: Verification,
) -> Result<tokio_postgres_rustls::MakeRustlsConnect, PoolSetupError> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let builder = ClientConfig::builder_with_provider(provider.clone())
        .with_safe_default_protocol_versions()
        .map_err(|e| PoolSetupError::Build(e.to_string()))?;
    let config = match root_cert_path {
        Some(path) => {
            let pem = std::fs::read(path).map_err(|e| PoolSetupError::RootCert(e.to_string()))?;
            let mut roots = RootCertStore::empty();
            for cert in rustls_pemfile::certs(&mut pem.as_slice()) {
                let cert = cert.map_err(|e| PoolSetupError::RootCert(e.to_string()))?;
                roots
                    .add(cert)
                    .map_err(|e| PoolSetupError::RootCert(e.to_string()))?;
            }
            if roots.is_empty() {
                return Err(PoolSetupError::RootCert(
                    "the file holds no PEM certificate".into(),
                ));
            }
            builder.with_root_certificates(roots).with_no_client_auth()
        }
        None if verification == Verification::Full => {
            let roots = RootCertStore {
                roots: webpki_roots::TLS_SERVER_ROOTS.to_vec(),
            };
            builder.with_root_certificates(roots).with_no_client_auth()
        }
        None => builder
            .dangerous()
            .with_custom_certificate_verifier(Arc::new(EncryptOnly(provider)))
            .with_no_client_auth(),
    };
    Ok(tokio_postgres_rustls::MakeRustlsConnect::new(config))
}

/// libpq's `sslmode=require` semantics: the connection is encrypted and the handshake signature
/// is checked, but the certificate chain is not verified (no CA bundle was given).
#[derive(Debug)]
struct EncryptOnly(Arc<rustls::crypto::CryptoProvider>);

impl ServerCertVerifier for EncryptOnly {
    fn verify_server_cert(
        &self,
        _end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp_response: &[u8],
        _now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        Ok(ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(
            message,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(
            message,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.0.signature_verification_algorithms.supported_schemes()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tls_follows_sslmode_and_verifies_fully_when_none_is_given_off_this_machine() {
        for (url, ssl, verification) in [
            ("postgres://u@h/db", SslMode::Require, Verification::Full),
            (
                "postgres://u@127.0.0.1:5/db",
                SslMode::Prefer,
                Verification::WhenRootGiven,
            ),
            (
                "postgres://u@localhost/db",
                SslMode::Prefer,
                Verification::WhenRootGiven,
            ),
            (
                "postgres://u@[::1]:5/db",
                SslMode::Prefer,
                Verification::WhenRootGiven,
            ),
            (
                "postgres://u@localhost/db?sslmode=verify-full",
                SslMode::Require,
                Verification::Full,
            ),
            (
                "postgres://u@h/db?application_name=x",
                SslMode::Require,
                Verification::Full,
            ),
            (
                "postgres://u@h/db?sslmode=verify-full",
                SslMode::Require,
                Verification::Full,
            ),
            ("host=h dbname=db", SslMode::Require, Verification::Full),
            (
                "host=h sslmode=verify-full",
                SslMode::Require,
                Verification::Full,
            ),
            (
                "postgres://u@h/db?sslmode=require",
                SslMode::Require,
                Verification::WhenRootGiven,
            ),
            (
                "postgres://u@h/db?sslmode=prefer",
                SslMode::Prefer,
                Verification::WhenRootGiven,
            ),
            (
                "postgres://u@h/db?sslmode=disable",
                SslMode::Disable,
                Verification::WhenRootGiven,
            ),
        ] {
            let (config, verifies) = parse_connection(url).expect(url);
            assert_eq!(config.get_ssl_mode(), ssl, "{url}");
            assert_eq!(verifies, verification, "{url}");
        }
    }

    #[test]
    fn verify_ca_is_refused_naming_what_to_use() {
        let err = parse_connection("postgres://u@h/db?sslmode=verify-ca").unwrap_err();
        assert!(err.to_string().contains("use verify-full"), "{err}");
    }

    #[test]
    fn a_malformed_url_is_rejected_without_echoing_it() {
        let err = parse_url("postgres://user:hunter2@host:notaport/db").unwrap_err();
        assert!(!err.to_string().contains("hunter2"), "{err}");
    }

    #[test]
    fn settings_debug_hides_the_url() {
        let settings = PoolSettings {
            url: "postgres://u:hunter2@h/db".into(),
            max_size: 1,
            root_cert_path: None,
        };
        assert!(!format!("{settings:?}").contains("hunter2"));
    }

    #[tokio::test]
    async fn building_a_pool_does_not_connect() {
        // Port 1 is never a PostgreSQL server: building must still succeed.
        let settings = PoolSettings {
            url: "postgres://nobody@127.0.0.1:1/none?sslmode=require".into(),
            max_size: 1,
            root_cert_path: None,
        };
        let db = Db::new(&settings).expect("a pool builds without a server");
        assert!(db.ping().await.is_err(), "no server answers on port 1");
    }

    #[test]
    fn a_zero_pool_size_is_refused() {
        let settings = PoolSettings {
            url: "postgres://u@h/db".into(),
            max_size: 0,
            root_cert_path: None,
        };
        assert!(matches!(
            Db::new(&settings),
            Err(PoolSetupError::InvalidPoolSize)
        ));
    }
}
