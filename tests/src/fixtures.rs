//! Arranging tenants for end-to-end tests with plain SQL: a workspace on a plan, an API key,
//! a WhatsApp channel and an agent, each unique per call so tests never collide.

use sha2::{Digest, Sha256};
use store::testing::TestDb;
use tokio_postgres::types::ToSql;
use tokio_postgres::{Client, Row};
use uuid::Uuid;

/// Everything a test needs to act as one customer of Lead Engine.
#[derive(Debug, Clone)]
pub struct Tenant {
    pub workspace_id: Uuid,
    pub slug: String,
    /// The plaintext API key (only its SHA-256 is stored).
    pub api_key: String,
    /// The workspace's WhatsApp `metadata.phone_number_id`.
    pub phone_number_id: String,
    pub agent_id: Uuid,
    pub plan_conversation_limit: i32,
}

/// A workspace in region `IN` on a plan allowing 100 conversations a month.
pub async fn tenant(client: &Client) -> Tenant {
    tenant_with(client, "IN", 100).await
}

pub async fn tenant_with(client: &Client, region: &str, conversation_limit: i32) -> Tenant {
    let tag = Uuid::new_v4().simple().to_string();
    let slug = format!("ws-{}", &tag[..12]);
    let api_key = format!("le_test_{tag}");
    let phone_number_id = format!("1{}", &Uuid::new_v4().as_u128().to_string()[..14]);
    let key_hash = Sha256::digest(api_key.as_bytes()).to_vec();
    let row = client
        .query_one(
            "WITH plan AS (
                 INSERT INTO pricing_plans (code, name, conversation_limit)
                 VALUES ('p_' || replace($1, '-', '_'), 'Test plan', $5) RETURNING id
             ), ws AS (
                 INSERT INTO workspaces (slug, name, default_region, plan_id)
                 SELECT $1, 'Test workspace', $2, id FROM plan RETURNING id
             ), key AS (
                 INSERT INTO api_keys (workspace_id, key_sha256, prefix, label)
                 SELECT id, $3, 'le_test_', 'test' FROM ws
             ), channel AS (
                 INSERT INTO whatsapp_channels (workspace_id, phone_number_id, display_phone_number)
                 SELECT id, $4, '+91 98000 00000' FROM ws
             ), agent AS (
                 INSERT INTO agents (workspace_id, name) SELECT id, 'Test Agent' FROM ws RETURNING id
             )
             SELECT ws.id, agent.id FROM ws, agent",
            &[&slug, &region, &key_hash, &phone_number_id, &conversation_limit],
        )
        .await
        .expect("arrange a tenant");
    Tenant {
        workspace_id: row.get(0),
        slug,
        api_key,
        phone_number_id,
        agent_id: row.get(1),
        plan_conversation_limit: conversation_limit,
    }
}

/// Revokes a tenant's API key.
pub async fn revoke_api_key(client: &Client, tenant: &Tenant) {
    client
        .execute(
            "UPDATE api_keys SET revoked_at = now() WHERE workspace_id = $1",
            &[&tenant.workspace_id],
        )
        .await
        .expect("revoke the key");
}

/// Plain-SQL verbs for arranging and asserting, shared by every `TestApp`: a test reads back what
/// a handler stored without a second data-access layer. Each verb panics with the SQL on error.
#[allow(async_fn_in_trait)] // Test helpers: callers never need the future to be `Send`.
pub trait Sql {
    /// The test's own database.
    fn test_db(&self) -> &TestDb;
    /// The workspace the app acts for.
    fn workspace_id(&self) -> Uuid;

    /// Exactly one row.
    async fn row(&self, sql: &str, params: &[&(dyn ToSql + Sync)]) -> Row {
        self.test_db()
            .client()
            .await
            .query_one(sql, params)
            .await
            .unwrap_or_else(|e| panic!("{sql}: {e}"))
    }

    /// Every row.
    async fn rows(&self, sql: &str, params: &[&(dyn ToSql + Sync)]) -> Vec<Row> {
        self.test_db()
            .client()
            .await
            .query(sql, params)
            .await
            .unwrap_or_else(|e| panic!("{sql}: {e}"))
    }

    /// Runs a statement to arrange a test.
    async fn execute(&self, sql: &str, params: &[&(dyn ToSql + Sync)]) -> u64 {
        self.test_db()
            .client()
            .await
            .execute(sql, params)
            .await
            .unwrap_or_else(|e| panic!("{sql}: {e}"))
    }

    /// A processing bug, simulated: from now on the database refuses to store any message whose
    /// content is `boom` (a real trigger, so the failure is PostgreSQL's own).
    async fn break_message_inserts(&self) {
        self.execute(
            "CREATE FUNCTION refuse_boom() RETURNS trigger LANGUAGE plpgsql AS $$
             BEGIN
                 IF NEW.content = 'boom' THEN RAISE EXCEPTION 'simulated bug'; END IF;
                 RETURN NEW;
             END $$",
            &[],
        )
        .await;
        self.execute(
            "CREATE TRIGGER refuse_boom BEFORE INSERT ON conversations
             FOR EACH ROW EXECUTE FUNCTION refuse_boom()",
            &[],
        )
        .await;
    }

    /// The bug of [`Sql::break_message_inserts`], fixed.
    async fn repair_message_inserts(&self) {
        self.execute("DROP TRIGGER refuse_boom ON conversations", &[])
            .await;
    }

    /// A single `bigint` (a count).
    async fn count(&self, sql: &str, params: &[&(dyn ToSql + Sync)]) -> i64 {
        self.row(sql, params).await.get(0)
    }

    /// Rows of `table` in `workspace_id`.
    async fn count_in(&self, table: &str, workspace_id: Uuid) -> i64 {
        let sql = format!("SELECT count(*) FROM {table} WHERE workspace_id = $1");
        self.count(&sql, &[&workspace_id]).await
    }

    /// Rows of `table` in the app's workspace.
    async fn count_in_workspace(&self, table: &str) -> i64 {
        self.count_in(table, self.workspace_id()).await
    }
}

/// A provider's published payloads under `tests/fixtures/<provider>` (where each came from:
/// `tests/fixtures/SOURCES.md`), read as the provider sent them.
#[derive(Debug, Clone, Copy)]
pub struct Payloads(pub &'static str);

impl Payloads {
    pub fn dir(self) -> std::path::PathBuf {
        std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR"))
            .join("fixtures")
            .join(self.0)
    }

    /// Every payload's file name, sorted.
    pub fn names(self) -> Vec<String> {
        let mut names: Vec<String> = std::fs::read_dir(self.dir())
            .unwrap_or_else(|e| panic!("the {} fixtures folder: {e}", self.0))
            .map(|entry| {
                entry
                    .expect("a directory entry")
                    .file_name()
                    .to_string_lossy()
                    .into_owned()
            })
            .filter(|name| name.ends_with(".json"))
            .collect();
        names.sort();
        names
    }

    /// A payload's bytes, as they were published.
    pub fn bytes(self, name: &str) -> Vec<u8> {
        let path = self.dir().join(name);
        std::fs::read(&path).unwrap_or_else(|e| panic!("read {}: {e}", path.display()))
    }

    /// A payload as JSON.
    pub fn json(self, name: &str) -> serde_json::Value {
        serde_json::from_slice(&self.bytes(name)).expect("fixtures are JSON")
    }
}
