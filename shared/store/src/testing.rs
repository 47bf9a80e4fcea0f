//! Test databases: a migrated template, and one fresh database per test cloned from it.
//!
//! With `DATABASE_URL` set, tests use that server (its user must be allowed to create
//! databases). Without it, the harness starts a throwaway cluster of its own in the system's
//! temporary folder (`$LEAD_ENGINE_TEST_PGDATA` overrides where), shared by every test process of
//! the run through a file lock; the test command stops and deletes it afterwards.
//!
//! The schema is migrated once into a template database named after the fingerprint of the
//! migrations and the function sources;
//! each [`TestDb`] is `CREATE DATABASE … TEMPLATE …` (a file copy, milliseconds) and is dropped
//! when the value is dropped, so tests run in parallel without sharing state.

//!
//! [`bench`] holds what the handler benchmarks share (concurrent driver, pgbench, report).

pub mod bench;

use crate::cluster::Cluster;
use crate::{Db, PoolSettings, migrate};
use std::fs::File;
use std::path::PathBuf;
use tokio::sync::OnceCell;

/// Where the harness keeps its throwaway cluster unless `LEAD_ENGINE_TEST_PGDATA` says otherwise.
pub fn default_test_cluster_dir() -> PathBuf {
    std::env::var_os("LEAD_ENGINE_TEST_PGDATA")
        .map(PathBuf::from)
        .unwrap_or_else(|| std::env::temp_dir().join("lead-engine-test-cluster"))
}

/// The server every test of this process uses, and its migrated template. Computed once per
/// process; only strings are kept, because each test runs on its own tokio runtime.
#[derive(Debug, Clone)]
struct Server {
    /// URL of a maintenance database (`postgres`) on the server.
    admin_url: String,
    template: String,
}

static SERVER: OnceCell<Server> = OnceCell::const_new();

async fn server() -> &'static Server {
    SERVER
        .get_or_init(|| async {
            let admin_url = match std::env::var("DATABASE_URL") {
                Ok(url) if !url.trim().is_empty() => url,
                _ => start_throwaway_cluster(),
            };
            let template = ensure_template(&admin_url).await;
            Server {
                admin_url,
                template,
            }
        })
        .await
}

fn start_throwaway_cluster() -> String {
    let dir = default_test_cluster_dir();
    // Several test binaries start at once; one of them creates and starts the cluster while the
    // others wait on the lock, then find it running.
    if let Some(parent) = dir.parent() {
        std::fs::create_dir_all(parent).expect("create the test cluster's parent folder");
    }
    let lock_path = dir.with_extension("lock");
    let lock = File::create(&lock_path).expect("create the test cluster's lock file");
    lock.lock().expect("lock the test cluster's lock file");
    let cluster = Cluster::new(&dir).expect("PostgreSQL server binaries are installed");
    let running = cluster
        .ensure_running()
        .unwrap_or_else(|e| panic!("start the test cluster in {}: {e}", dir.display()));
    drop(lock);
    running.url("postgres")
}

/// Builds the template database for the current migrations if no test process has yet. A
/// PostgreSQL advisory lock serialises test processes; the template is migrated under a
/// temporary name and renamed, so a failed migration never leaves a half-built template.
async fn ensure_template(admin_url: &str) -> String {
    let template = format!("lead_engine_tpl_{}", migrate::fingerprint());
    let admin = crate::pool::connect_once(admin_url, None)
        .await
        .expect("connect to the test server's maintenance database");
    admin
        .execute("SELECT pg_advisory_lock(4242001)", &[])
        .await
        .expect("take the template lock");
    let exists = admin
        .query_opt("SELECT 1 FROM pg_database WHERE datname = $1", &[&template])
        .await
        .expect("look up the template");
    if exists.is_none() {
        let building = format!("{template}_building");
        // One statement per call: CREATE/DROP DATABASE refuse to run in the implicit
        // transaction of a multi-statement query.
        for statement in [
            format!("DROP DATABASE IF EXISTS {building} WITH (FORCE)"),
            format!("CREATE DATABASE {building}"),
        ] {
            admin
                .batch_execute(&statement)
                .await
                .expect("create the template database");
        }
        let mut client = crate::pool::connect_once(&database_url(admin_url, &building), None)
            .await
            .expect("connect to the template database");
        migrate::run_on(&mut client)
            .await
            .expect("migrations apply to an empty database");
        drop(client);
        for statement in [
            format!("ALTER DATABASE {building} RENAME TO {template}"),
            format!("ALTER DATABASE {template} WITH IS_TEMPLATE true"),
        ] {
            admin
                .batch_execute(&statement)
                .await
                .expect("publish the template database");
        }
    }
    admin
        .execute("SELECT pg_advisory_unlock(4242001)", &[])
        .await
        .expect("release the template lock");
    template
}

/// Loads `count` web leads into `workspace` in one statement, as a busy workspace holds them:
/// each with a phone (`+9197…`, so none collides with the `+9198…` people the benches and
/// scale tests send), an email, a chat session, and one customer message. For the scale test
/// and the ingest benches, which compare an empty workspace with a full one.
pub async fn load_web_leads(client: &tokio_postgres::Client, workspace: uuid::Uuid, count: i64) {
    client
        .execute(
            "WITH l AS (
                 INSERT INTO leads (workspace_id, name, phone_e164, phone_raw, email,
                                    first_touchpoint, last_touchpoint, last_interaction_at,
                                    last_customer_message_at)
                 SELECT $1, 'Lead ' || g, '+9197' || lpad(g::text, 8, '0'), '97' || lpad(g::text, 8, '0'),
                        'l' || g || '@example.com', 'web', 'web', now(), now()
                 FROM generate_series(1, $2::bigint) g
                 RETURNING id, phone_e164, email
             ), i AS (
                 INSERT INTO lead_identities (workspace_id, kind, value, lead_id)
                 SELECT $1, k.kind, k.value, l.id
                 FROM l CROSS JOIN LATERAL (VALUES ('phone', l.phone_e164), ('email', l.email),
                                                   ('web_session', 'bulk-' || l.phone_e164)) k (kind, value)
             ), c AS (
                 INSERT INTO conversations (workspace_id, lead_id, channel, sender, content,
                                            message_type, external_id, sent_at)
                 SELECT $1, l.id, 'web', 'customer', 'Hello', 'text', 'bulk-' || l.phone_e164, now()
                 FROM l
             )
             INSERT INTO web_sessions (workspace_id, lead_id, external_session_id, message_count)
             SELECT $1, l.id, 'bulk-' || l.phone_e164, 1 FROM l",
            &[&workspace, &count],
        )
        .await
        .expect("load the leads");
}

/// A new workspace (slug and name `slug`, region IN, no subscription) that receives the
/// WhatsApp number `phone_number_id`. For the scale test and the WhatsApp ingest bench.
pub async fn whatsapp_workspace(
    client: &tokio_postgres::Client,
    slug: &str,
    phone_number_id: &str,
) -> uuid::Uuid {
    client
        .query_one(
            "WITH ws AS (
                 INSERT INTO workspaces (slug, name, default_region)
                 VALUES ($1, $1, 'IN') RETURNING id
             ), channel AS (
                 INSERT INTO whatsapp_channels (workspace_id, phone_number_id)
                 SELECT id, $2 FROM ws
             )
             SELECT id FROM ws",
            &[&slug, &phone_number_id],
        )
        .await
        .expect("arrange a workspace with a WhatsApp number")
        .get(0)
}

/// Loads `count` WhatsApp leads into `workspace` in one statement: each with a phone
/// (`+9197…`, none of them a `+9198…` person the benches and scale tests send) and its WhatsApp
/// id as identities, a session on `phone_number_id` and one customer message. For the scale test
/// and the WhatsApp ingest bench.
pub async fn load_whatsapp_leads(
    client: &tokio_postgres::Client,
    workspace: uuid::Uuid,
    phone_number_id: &str,
    count: i64,
) {
    client
        .execute(
            "WITH l AS (
                 INSERT INTO leads (workspace_id, name, phone_e164, phone_raw, first_touchpoint,
                                    last_touchpoint, last_interaction_at, last_customer_message_at)
                 SELECT $1, 'Lead ' || g, '+9197' || lpad(g::text, 8, '0'),
                        '9197' || lpad(g::text, 8, '0'), 'whatsapp', 'whatsapp', now(), now()
                 FROM generate_series(1, $2::bigint) g
                 RETURNING id, phone_e164, phone_raw
             ), i AS (
                 INSERT INTO lead_identities (workspace_id, kind, value, lead_id)
                 SELECT $1, k.kind, k.value, l.id
                 FROM l CROSS JOIN LATERAL (VALUES ('phone', l.phone_e164),
                                                   ('whatsapp_id', l.phone_raw)) k (kind, value)
             ), c AS (
                 INSERT INTO conversations (workspace_id, lead_id, channel, sender, content,
                                            message_type, external_id, sent_at)
                 SELECT $1, l.id, 'whatsapp', 'customer', 'Hello', 'text', 'wamid.bulk-' || l.phone_raw, now()
                 FROM l
             )
             INSERT INTO whatsapp_sessions (workspace_id, lead_id, phone_number_id, wa_id_or_bsuid,
                                            wa_id, message_count, last_message_at, window_expires_at)
             SELECT $1, l.id, $3, l.phone_raw, l.phone_raw, 1, now(), now() + interval '24 hours'
             FROM l",
            &[&workspace, &count, &phone_number_id],
        )
        .await
        .expect("load the leads");
}

/// `url` with its database name replaced.
pub fn database_url(url: &str, database: &str) -> String {
    let (base, query) = match url.split_once('?') {
        Some((base, query)) => (base, Some(query)),
        None => (url, None),
    };
    let prefix = match base.rfind('/') {
        // The last '/' after the scheme's "//" starts the database name.
        Some(i) if i > base.find("//").map_or(0, |j| j + 1) => &base[..i],
        _ => base,
    };
    match query {
        Some(query) => format!("{prefix}/{database}?{query}"),
        None => format!("{prefix}/{database}"),
    }
}

/// A database of one's own, cloned from the migrated template, dropped on drop.
#[derive(Debug)]
pub struct TestDb {
    name: String,
    url: String,
    admin_url: String,
    db: Db,
    direct: Db,
}

/// The port of a transaction-mode pooler (pgbouncer) in front of the test cluster, if the run
/// asks for one: `scripts/test` runs the web-agent, WhatsApp and scoring tests a second time so,
/// to prove their statements survive a pooler that does not keep prepared statements.
fn pooler_port() -> Option<u16> {
    std::env::var("LEAD_ENGINE_TEST_POOLER_PORT")
        .ok()
        .and_then(|port| port.trim().parse().ok())
}

/// `url` (`postgres://user@host:port/db…`) with another port.
fn with_port(url: &str, port: u16) -> String {
    let Some(at) = url.find('@') else {
        return url.to_owned();
    };
    let rest = &url[at + 1..];
    let host_end = rest.find(['/', '?']).unwrap_or(rest.len());
    let host = rest[..host_end]
        .rsplit_once(':')
        .map_or(&rest[..host_end], |(host, _)| host);
    format!("{}@{host}:{port}{}", &url[..at], &rest[host_end..])
}

impl TestDb {
    /// A fresh, migrated database with a small pool.
    pub async fn new() -> Self {
        Self::with_pool_size(8).await
    }

    pub async fn with_pool_size(max_size: usize) -> Self {
        let server = server().await;
        Self::create(server, Some(&server.template), max_size).await
    }

    /// An empty database (no schema at all), dropped on drop: for tests of the migrations
    /// themselves.
    pub async fn empty() -> Self {
        Self::create(server().await, None, 2).await
    }

    async fn create(server: &Server, template: Option<&str>, max_size: usize) -> Self {
        let name = format!("lead_engine_test_{}", uuid::Uuid::new_v4().simple());
        let admin = crate::pool::connect_once(&server.admin_url, None)
            .await
            .expect("connect to the test server");
        let create = match template {
            Some(template) => format!("CREATE DATABASE {name} TEMPLATE {template}"),
            None => format!("CREATE DATABASE {name}"),
        };
        admin
            .batch_execute(&create)
            .await
            .expect("create the test database");
        let url = database_url(&server.admin_url, &name);
        let pool = |url: String| {
            Db::new(&PoolSettings {
                url,
                max_size,
                root_cert_path: None,
            })
            .expect("build a pool for the test database")
        };
        let direct = pool(url.clone());
        let db = match pooler_port() {
            Some(port) => pool(with_port(&url, port)),
            None => direct.clone(),
        };
        Self {
            name,
            url,
            admin_url: server.admin_url.clone(),
            db,
            direct,
        }
    }

    /// The pooled handle, as the functions get it: through the transaction-mode pooler when
    /// `LEAD_ENGINE_TEST_POOLER_PORT` names one (scripts/test's pgbouncer pass), else direct.
    pub fn db(&self) -> &Db {
        &self.db
    }

    /// This database's connection URL.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// A one-off client, for arranging and asserting with plain SQL. Always a direct connection:
    /// the pooler pass checks the functions' statements, not the tests' own.
    pub async fn client(&self) -> deadpool_postgres::Object {
        self.direct
            .client()
            .await
            .expect("a connection to the test database")
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        let name = self.name.clone();
        let admin_url = self.admin_url.clone();
        // Drop cannot await, and the test's runtime may be shutting down: drop the database from
        // a thread with a runtime of its own. WITH (FORCE) ends the pool's connections.
        let dropper = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .expect("a runtime to drop the test database");
            runtime.block_on(async move {
                if let Ok(admin) = crate::pool::connect_once(&admin_url, None).await {
                    let _ = admin
                        .batch_execute(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
                        .await;
                }
            });
        });
        let _ = dropper.join();
    }
}

#[cfg(test)]
mod tests {
    use super::database_url;

    #[test]
    fn with_port_swaps_only_the_port() {
        assert_eq!(
            super::with_port("postgres://u@127.0.0.1:5432/db?sslmode=disable", 6432),
            "postgres://u@127.0.0.1:6432/db?sslmode=disable"
        );
        assert_eq!(
            super::with_port("postgres://u@h/db", 6432),
            "postgres://u@h:6432/db"
        );
    }

    #[test]
    fn database_url_swaps_only_the_database_name() {
        let cases = [
            ("postgres://u@h:5/postgres", "x", "postgres://u@h:5/x"),
            (
                "postgres://u@h:5/postgres?sslmode=disable",
                "x",
                "postgres://u@h:5/x?sslmode=disable",
            ),
            ("postgres://u@h:5", "x", "postgres://u@h:5/x"),
        ];
        for (url, db, want) in cases {
            assert_eq!(database_url(url, db), want, "case {url}");
        }
    }
}
