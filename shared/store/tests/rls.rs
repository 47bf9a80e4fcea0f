//! Tenancy enforced by the database (docs/architecture.md §7.3, issue 14), tested as the roles a
//! real Supabase client has: `anon`, and `authenticated` with the user's JWT claims in
//! `request.jwt.claims`, exactly as PostgREST sets them for each request. The roles, policies
//! and helpers are `migrations/V19__roles_and_row_level_security.sql`; the grants are the
//! `security/grants` source; the dashboard RPCs are `scoring/overrides.sql`.
//!
//! The world: workspace A with an owner, a member, an agent (linked to agent row "Asha") and a
//! viewer; workspace B with its owner. A has a lead assigned to Asha, one assigned to another
//! agent (Ravi) and an unassigned one; B has one lead. Every lead has a conversation and a task.

use store::testing::TestDb;
use tokio_postgres::error::SqlState;
use tokio_postgres::{Client, Row};
use uuid::Uuid;

const WORKSPACE_A: &str = "a0000000-0000-4000-8000-000000000000";
const WORKSPACE_B: &str = "b0000000-0000-4000-8000-000000000000";

// Identity-provider user ids (the JWT's `sub`).
const A_OWNER: &str = "a1000000-0000-4000-8000-000000000001";
const A_MEMBER: &str = "a1000000-0000-4000-8000-000000000002";
const A_AGENT: &str = "a1000000-0000-4000-8000-000000000003";
const A_VIEWER: &str = "a1000000-0000-4000-8000-000000000004";
const B_OWNER: &str = "b1000000-0000-4000-8000-000000000001";
const STRANGER: &str = "c1000000-0000-4000-8000-000000000001";

// Member rows of A.
const A_MEMBER_ROW: &str = "a2000000-0000-4000-8000-000000000002";
const A_AGENT_ROW: &str = "a2000000-0000-4000-8000-000000000003";

// Agent rows of A: Asha is the agent user's, Ravi has no login.
const ASHA: &str = "a3000000-0000-4000-8000-000000000001";
const RAVI: &str = "a3000000-0000-4000-8000-000000000002";

// Leads.
const LEAD_A_ASHAS: &str = "a4000000-0000-4000-8000-000000000001";
const LEAD_A_RAVIS: &str = "a4000000-0000-4000-8000-000000000002";
const LEAD_A_UNASSIGNED: &str = "a4000000-0000-4000-8000-000000000003";
const LEAD_B: &str = "b4000000-0000-4000-8000-000000000001";

/// Who runs a statement: PostgREST's role for a request without a JWT, or a signed-in user.
#[derive(Debug, Clone, Copy)]
enum Caller {
    Anon,
    User(&'static str),
}

struct World {
    test: TestDb,
}

impl World {
    async fn new() -> Self {
        let test = TestDb::new().await;
        test.client()
            .await
            .batch_execute(&format!(
                "INSERT INTO workspaces (id, slug, name) VALUES
                    ('{WORKSPACE_A}', 'tenant-a', 'A'), ('{WORKSPACE_B}', 'tenant-b', 'B');
                 INSERT INTO members (id, workspace_id, user_id, email, role) VALUES
                    (gen_random_uuid(), '{WORKSPACE_A}', '{A_OWNER}', 'owner@a.co', 'owner'),
                    ('{A_MEMBER_ROW}', '{WORKSPACE_A}', '{A_MEMBER}', 'member@a.co', 'member'),
                    ('{A_AGENT_ROW}', '{WORKSPACE_A}', '{A_AGENT}', 'asha@a.co', 'agent'),
                    (gen_random_uuid(), '{WORKSPACE_A}', '{A_VIEWER}', 'viewer@a.co', 'viewer'),
                    (gen_random_uuid(), '{WORKSPACE_B}', '{B_OWNER}', 'owner@b.co', 'owner');
                 INSERT INTO agents (id, workspace_id, member_id, name) VALUES
                    ('{ASHA}', '{WORKSPACE_A}', '{A_AGENT_ROW}', 'Asha'),
                    ('{RAVI}', '{WORKSPACE_A}', NULL, 'Ravi');
                 INSERT INTO leads (id, workspace_id, name, assigned_agent_id, first_touchpoint, last_touchpoint) VALUES
                    ('{LEAD_A_ASHAS}', '{WORKSPACE_A}', 'A: Asha''s', '{ASHA}', 'web', 'web'),
                    ('{LEAD_A_RAVIS}', '{WORKSPACE_A}', 'A: Ravi''s', '{RAVI}', 'web', 'web'),
                    ('{LEAD_A_UNASSIGNED}', '{WORKSPACE_A}', 'A: unassigned', NULL, 'web', 'web'),
                    ('{LEAD_B}', '{WORKSPACE_B}', 'B: lead', NULL, 'web', 'web');
                 INSERT INTO conversations (workspace_id, lead_id, channel, sender, content, external_id, sent_at)
                    SELECT workspace_id, id, 'web', 'customer', 'hello', id::text, now() FROM leads;
                 INSERT INTO tasks (workspace_id, lead_id, assigned_agent_id, title)
                    SELECT workspace_id, id, assigned_agent_id, 'Call ' || name FROM leads;
                 INSERT INTO api_keys (workspace_id, key_sha256, prefix) VALUES
                    ('{WORKSPACE_A}', sha256('key-a'::bytea), 'key-a');
                 INSERT INTO webhook_events (provider, event_key, workspace_id, payload) VALUES
                    ('web_agent', 'm:a:1', '{WORKSPACE_A}', '{{}}');
                 SELECT enqueue_score_lead('{WORKSPACE_A}', '{LEAD_A_ASHAS}', 'test');"
            ))
            .await
            .expect("arrange two workspaces");
        Self { test }
    }

    /// Runs `sql` in one transaction as `caller`, the way PostgREST runs a request: `SET ROLE`
    /// plus the JWT claims, both local to the transaction. Commits when it succeeds.
    async fn run_as(&self, caller: Caller, sql: &str) -> Result<Vec<Row>, tokio_postgres::Error> {
        let mut client = self.test.client().await;
        let tx = client.transaction().await.expect("begin");
        match caller {
            Caller::Anon => tx.batch_execute("SET LOCAL ROLE anon").await?,
            Caller::User(sub) => {
                let claims = serde_json::json!({"sub": sub, "role": "authenticated"}).to_string();
                tx.batch_execute("SET LOCAL ROLE authenticated").await?;
                tx.execute(
                    "SELECT set_config('request.jwt.claims', $1, true)",
                    &[&claims],
                )
                .await?;
            }
        }
        let rows = tx.query(sql, &[]).await?;
        tx.commit().await?;
        Ok(rows)
    }

    /// The first column of every row `caller` gets for `sql`, as text, sorted.
    async fn texts_as(&self, caller: Caller, sql: &str) -> Vec<String> {
        let rows = self
            .run_as(caller, sql)
            .await
            .unwrap_or_else(|e| panic!("{caller:?} runs {sql}: {:?}", e.as_db_error()));
        let mut texts: Vec<String> = rows.iter().map(|r| r.get(0)).collect();
        texts.sort();
        texts
    }

    /// The names of the leads `caller` sees in `relation` (leads or unified_leads), sorted.
    async fn lead_names_as(&self, caller: Caller, relation: &str) -> Vec<String> {
        self.texts_as(caller, &format!("SELECT name FROM {relation}"))
            .await
    }

    /// The lead names whose rows of `table` (keyed by lead_id) `caller` sees, sorted.
    async fn lead_names_through_as(&self, caller: Caller, table: &str) -> Vec<String> {
        let owner = self.test.client().await;
        let ids = self
            .texts_as(caller, &format!("SELECT lead_id::text FROM {table}"))
            .await;
        let mut names = Vec::new();
        for id in ids {
            let row = owner
                .query_one("SELECT name FROM leads WHERE id = $1::text::uuid", &[&id])
                .await
                .expect("the lead");
            names.push(row.get::<_, String>(0));
        }
        names.sort();
        names
    }

    /// A lead's stage, whether it is pinned, and how many audit rows it has, as the owner reads
    /// them.
    async fn stage_of(&self, lead: &str) -> (String, bool, i64) {
        let row = self
            .test
            .client()
            .await
            .query_one(
                "SELECT lead_stage, stage_override,
                        (SELECT count(*) FROM lead_stage_changes c WHERE c.lead_id = l.id)
                 FROM leads l WHERE id = $1::text::uuid",
                &[&lead],
            )
            .await
            .expect("the lead");
        (row.get(0), row.get(1), row.get(2))
    }

    async fn owner(&self) -> deadpool_postgres::Object {
        self.test.client().await
    }
}

fn sorted(names: &[&str]) -> Vec<String> {
    let mut names: Vec<String> = names.iter().map(|n| (*n).to_owned()).collect();
    names.sort();
    names
}

fn code(result: &Result<Vec<Row>, tokio_postgres::Error>) -> Option<SqlState> {
    result.as_ref().err().and_then(|e| e.code().cloned())
}

fn message(result: &Result<Vec<Row>, tokio_postgres::Error>) -> String {
    result
        .as_ref()
        .err()
        .and_then(|e| e.as_db_error())
        .map(|d| d.message().to_owned())
        .unwrap_or_default()
}

/// Every relation (tables and views) of the public schema.
async fn public_relations(client: &Client) -> Vec<String> {
    client
        .query(
            "SELECT relname::text FROM pg_class
             WHERE relnamespace = 'public'::regnamespace AND relkind IN ('r', 'p', 'v', 'm')
             ORDER BY 1",
            &[],
        )
        .await
        .expect("list relations")
        .iter()
        .map(|r| r.get(0))
        .collect()
}

/// Every function of the public and private schemas that `role` may execute.
async fn executable_by(client: &Client, role: &str) -> Vec<String> {
    client
        .query(
            "SELECT p.oid::regprocedure::text FROM pg_proc p
             WHERE p.pronamespace IN ('public'::regnamespace, 'private'::regnamespace)
               AND has_function_privilege($1, p.oid, 'EXECUTE')
             ORDER BY 1",
            &[&role],
        )
        .await
        .expect("list functions")
        .iter()
        .map(|r| r.get(0))
        .collect()
}

#[tokio::test]
async fn a_member_sees_their_workspaces_leads_conversations_and_tasks_and_none_of_another_workspaces()
 {
    let world = World::new().await;
    let member = Caller::User(A_MEMBER);
    let all_of_a = sorted(&["A: Asha's", "A: Ravi's", "A: unassigned"]);

    assert_eq!(world.lead_names_as(member, "leads").await, all_of_a);
    assert_eq!(
        world.lead_names_as(member, "unified_leads").await,
        all_of_a,
        "the view applies the caller's policies (security_invoker)"
    );
    for table in ["conversations", "tasks"] {
        assert_eq!(
            world.lead_names_through_as(member, table).await,
            all_of_a,
            "{table}"
        );
    }
    assert_eq!(
        world.texts_as(member, "SELECT slug FROM workspaces").await,
        vec!["tenant-a"]
    );
    assert_eq!(
        world
            .texts_as(Caller::User(B_OWNER), "SELECT name FROM leads")
            .await,
        vec!["B: lead"],
        "and B's owner sees only B's"
    );
    assert!(
        world
            .texts_as(Caller::User(STRANGER), "SELECT name FROM unified_leads")
            .await
            .is_empty(),
        "a user who is nobody's member sees nothing"
    );
}

#[tokio::test]
async fn a_dashboard_user_cannot_read_api_keys_webhook_events_or_the_outbox_at_all() {
    let world = World::new().await;

    for table in [
        "api_keys",
        "webhook_events",
        "outbox",
        "stripe_pending_events",
        "whatsapp_channels",
        "schema_sources",
    ] {
        let read = world
            .run_as(
                Caller::User(A_OWNER),
                &format!("SELECT count(*) FROM {table}"),
            )
            .await;
        assert_eq!(
            code(&read),
            Some(SqlState::INSUFFICIENT_PRIVILEGE),
            "{table}: even an owner's dashboard session is refused"
        );
    }
}

#[tokio::test]
async fn a_dashboard_user_may_execute_the_dashboard_rpcs_and_nothing_else() {
    let world = World::new().await;
    let owner = world.owner().await;

    assert_eq!(
        executable_by(&owner, "authenticated").await,
        vec![
            "clear_lead_stage_override(uuid,text)",
            "private.member_rank(uuid)",
            "private.sees_lead(uuid,uuid)",
            "set_lead_stage_override(uuid,text,text,text)",
        ],
        "the two RPCs, and the policies' helpers in a schema PostgREST does not expose"
    );
    for call in [
        "SELECT ingest_web_agent('{}', '{}')",
        "SELECT ingest_whatsapp('k', '{}', '{}')",
        "SELECT ingest_stripe('k', '{}', '{}')",
        "SELECT pin_lead_stage(NULL, NULL, 'Cold', NULL, NULL, NULL)",
        "SELECT enqueue_score_lead(NULL, NULL, 'x')",
        "SELECT * FROM mark_cold_leads(now(), 1)",
    ] {
        let result = world.run_as(Caller::User(A_OWNER), call).await;
        assert_eq!(
            code(&result),
            Some(SqlState::INSUFFICIENT_PRIVILEGE),
            "{call}"
        );
    }
}

#[tokio::test]
async fn anon_is_refused_every_table_view_and_function() {
    let world = World::new().await;
    let owner = world.owner().await;

    for relation in public_relations(&owner).await {
        let read = world
            .run_as(Caller::Anon, &format!("SELECT 1 FROM {relation} LIMIT 1"))
            .await;
        assert_eq!(
            code(&read),
            Some(SqlState::INSUFFICIENT_PRIVILEGE),
            "anon reads {relation}"
        );
    }
    assert!(
        executable_by(&owner, "anon").await.is_empty(),
        "anon may execute {:?}",
        executable_by(&owner, "anon").await
    );
    let rpc = world
        .run_as(
            Caller::Anon,
            &format!("SELECT set_lead_stage_override('{LEAD_A_ASHAS}', 'Closed Lost')"),
        )
        .await;
    assert_eq!(code(&rpc), Some(SqlState::INSUFFICIENT_PRIVILEGE));
}

#[tokio::test]
async fn an_override_of_another_workspaces_lead_is_not_found_like_a_lead_that_does_not_exist() {
    let world = World::new().await;
    let before = world.stage_of(LEAD_B).await;

    let foreign = world
        .run_as(
            Caller::User(A_OWNER),
            &format!("SELECT id FROM set_lead_stage_override('{LEAD_B}', 'Closed Lost')"),
        )
        .await;
    let missing = world
        .run_as(
            Caller::User(A_OWNER),
            &format!(
                "SELECT id FROM set_lead_stage_override('{}', 'Closed Lost')",
                Uuid::new_v4()
            ),
        )
        .await;
    let clear_foreign = world
        .run_as(
            Caller::User(A_OWNER),
            &format!("SELECT clear_lead_stage_override('{LEAD_B}')"),
        )
        .await;

    assert_eq!(code(&foreign), Some(SqlState::NO_DATA_FOUND));
    assert_eq!(
        (code(&foreign), message(&foreign)),
        (code(&missing), message(&missing)),
        "another workspace's lead and no lead at all are the same answer"
    );
    assert_eq!(code(&clear_foreign), Some(SqlState::NO_DATA_FOUND));
    assert_eq!(
        world.stage_of(LEAD_B).await,
        before,
        "B's lead is unchanged"
    );
}

#[tokio::test]
async fn a_member_pins_and_clears_a_stage_as_the_user_of_the_jwt() {
    let world = World::new().await;

    world
        .run_as(
            Caller::User(A_MEMBER),
            &format!("SELECT id FROM set_lead_stage_override('{LEAD_A_RAVIS}', 'High Intent', 'proposal', 'call went well')"),
        )
        .await
        .expect("a member pins any lead of the workspace");
    let cleared = world
        .run_as(
            Caller::User(A_MEMBER),
            &format!("SELECT clear_lead_stage_override('{LEAD_A_RAVIS}', 'done')"),
        )
        .await
        .expect("and clears it");

    assert!(cleared[0].get::<_, bool>(0));
    let audit: Vec<String> = world
        .owner()
        .await
        .query(
            "SELECT reason || ' by ' || changed_by::text FROM lead_stage_changes
             WHERE lead_id = $1::text::uuid ORDER BY created_at, reason DESC",
            &[&LEAD_A_RAVIS],
        )
        .await
        .expect("the audit")
        .iter()
        .map(|r| r.get(0))
        .collect();
    assert_eq!(
        audit,
        vec![
            format!("manual_override by {A_MEMBER_ROW}"),
            format!("override_cleared by {A_MEMBER_ROW}"),
        ],
        "the member row of the JWT's user is recorded, not an argument"
    );
}

#[tokio::test]
async fn an_agent_sees_only_the_leads_assigned_to_them_and_the_unassigned_ones() {
    let world = World::new().await;
    let agent = Caller::User(A_AGENT);
    let theirs = sorted(&["A: Asha's", "A: unassigned"]);

    assert_eq!(world.lead_names_as(agent, "leads").await, theirs);
    assert_eq!(world.lead_names_as(agent, "unified_leads").await, theirs);
    for table in ["conversations", "tasks", "lead_identities"] {
        let seen = world.lead_names_through_as(agent, table).await;
        assert!(
            !seen.contains(&"A: Ravi's".to_owned()),
            "{table}: nothing of Ravi's lead ({seen:?})"
        );
    }
    assert_eq!(
        world
            .lead_names_as(Caller::User(A_VIEWER), "leads")
            .await
            .len(),
        3,
        "a viewer reads every lead of the workspace"
    );
}

#[tokio::test]
async fn the_role_order_decides_who_may_change_a_stage() {
    let world = World::new().await;
    let pin = |lead: &str| format!("SELECT id FROM set_lead_stage_override('{lead}', 'Cold')");

    // (who, which lead, the answer)
    let cases = [
        (A_OWNER, LEAD_A_RAVIS, None),
        (A_MEMBER, LEAD_A_ASHAS, None),
        (A_AGENT, LEAD_A_ASHAS, None),
        (A_AGENT, LEAD_A_UNASSIGNED, None),
        (A_AGENT, LEAD_A_RAVIS, Some(SqlState::NO_DATA_FOUND)),
        (
            A_VIEWER,
            LEAD_A_UNASSIGNED,
            Some(SqlState::INSUFFICIENT_PRIVILEGE),
        ),
        (STRANGER, LEAD_A_UNASSIGNED, Some(SqlState::NO_DATA_FOUND)),
    ];
    for (user, lead, expected) in cases {
        let result = world.run_as(Caller::User(user), &pin(lead)).await;
        assert_eq!(
            code(&result),
            expected,
            "{user} pins {lead}: {}",
            message(&result)
        );
    }
    // Writing rows directly is no one's right: dashboards change data through the RPCs.
    for statement in [
        format!("UPDATE leads SET lead_stage = 'Converted' WHERE id = '{LEAD_A_ASHAS}'"),
        format!("DELETE FROM conversations WHERE lead_id = '{LEAD_A_ASHAS}'"),
        format!(
            "INSERT INTO lead_stage_overrides (lead_id, stage) VALUES ('{LEAD_A_UNASSIGNED}', 'Cold')"
        ),
    ] {
        let result = world.run_as(Caller::User(A_OWNER), &statement).await;
        assert_eq!(
            code(&result),
            Some(SqlState::INSUFFICIENT_PRIVILEGE),
            "{statement}"
        );
    }
}

#[tokio::test]
async fn billing_usage_and_the_audit_trail_are_read_by_admins_and_owners_only() {
    let world = World::new().await;
    world
        .owner()
        .await
        .batch_execute(&format!(
            "INSERT INTO workspace_usage (workspace_id, period_start, period_end)
             VALUES ('{WORKSPACE_A}', '2026-11-01', '2026-12-01')"
        ))
        .await
        .expect("arrange a usage row");
    let usage = "SELECT workspace_id::text FROM workspace_usage";

    assert_eq!(
        world.texts_as(Caller::User(A_OWNER), usage).await,
        vec![WORKSPACE_A]
    );
    assert!(
        world
            .texts_as(Caller::User(A_MEMBER), usage)
            .await
            .is_empty()
    );
    assert!(
        world
            .texts_as(Caller::User(B_OWNER), usage)
            .await
            .is_empty()
    );
}

#[tokio::test]
async fn every_tenant_table_has_row_level_security_and_a_policy_for_the_functions_role() {
    let test = TestDb::new().await;
    let client = test.client().await;

    // Tenant tables: workspaces, every table with a workspace_id column, and every table with a
    // foreign key to a tenant table (transitively).
    let rows = client
        .query(
            "WITH RECURSIVE tenant (oid) AS (
                 SELECT 'workspaces'::regclass::oid
                 UNION
                 SELECT a.attrelid FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid
                 WHERE c.relnamespace = 'public'::regnamespace AND c.relkind IN ('r', 'p')
                   AND a.attname = 'workspace_id' AND NOT a.attisdropped
                 UNION
                 SELECT k.conrelid FROM pg_constraint k JOIN tenant t ON k.confrelid = t.oid
                 WHERE k.contype = 'f')
             SELECT c.relname::text, c.relrowsecurity,
                    EXISTS (SELECT 1 FROM pg_policy p
                            WHERE p.polrelid = c.oid
                              AND 'lead_engine_app'::regrole = ANY (p.polroles))
             FROM tenant JOIN pg_class c ON c.oid = tenant.oid
             ORDER BY 1",
            &[],
        )
        .await
        .expect("walk the catalog");

    assert!(rows.len() >= 25, "found only {} tenant tables", rows.len());
    for row in &rows {
        let (table, secured, admitted): (String, bool, bool) = (row.get(0), row.get(1), row.get(2));
        assert!(
            secured,
            "{table} holds tenant rows without row-level security: ENABLE it and add policies"
        );
        assert!(
            admitted,
            "{table}: the functions' role (lead_engine_app) has no policy, so the Lambdas would see no rows"
        );
    }
}

#[tokio::test]
async fn every_security_definer_function_fixes_its_search_path() {
    let test = TestDb::new().await;
    let rows = test
        .client()
        .await
        .query(
            "SELECT p.oid::regprocedure::text, coalesce(p.proconfig, '{}')::text
             FROM pg_proc p
             WHERE p.prosecdef
               AND p.pronamespace NOT IN ('pg_catalog'::regnamespace, 'information_schema'::regnamespace)",
            &[],
        )
        .await
        .expect("read pg_proc");

    assert!(
        rows.len() >= 4,
        "the RPCs and the policy helpers are SECURITY DEFINER"
    );
    for row in &rows {
        let (function, config): (String, String) = (row.get(0), row.get(1));
        assert!(
            config.contains("search_path=pg_catalog, public"),
            "{function} is SECURITY DEFINER without SET search_path = pg_catalog, public ({config})"
        );
    }
}

#[tokio::test]
async fn the_privileges_are_the_same_after_the_sources_are_re_created() {
    let test = TestDb::new().await;
    let client = test.client().await;
    let before = (
        executable_by(&client, "authenticated").await,
        executable_by(&client, "anon").await,
    );
    client
        .batch_execute("DELETE FROM schema_sources")
        .await
        .expect("forget the applied sources");

    let report = store::migrate::run(test.url(), None)
        .await
        .expect("migrate again");

    assert!(report.sources_applied, "every source was re-created");
    let after = (
        executable_by(&client, "authenticated").await,
        executable_by(&client, "anon").await,
    );
    assert_eq!(after, before);
}

#[tokio::test]
async fn the_functions_role_ingests_scores_and_pins_stages_without_owning_anything() {
    let world = World::new().await;
    // A pool whose sessions run as lead_engine_app, as a Lambda's connection does.
    let url = world.test.url();
    let separator = if url.contains('?') { '&' } else { '?' };
    let app = store::Db::new(&store::PoolSettings {
        url: format!("{url}{separator}options=-c%20role%3Dlead_engine_app"),
        max_size: 2,
        root_cert_path: None,
    })
    .expect("a pool");
    let client = app.client().await.expect("connect as the functions' role");
    let role: String = client
        .query_one("SELECT current_user::text", &[])
        .await
        .expect("who")
        .get(0);
    assert_eq!(role, "lead_engine_app");

    let ingested: serde_json::Value = client
        .query_one(
            "SELECT ingest_web_agent($1, '{}')",
            &[&serde_json::json!({
                "workspace_id": WORKSPACE_A, "event_key": "m:a:app-1",
                "phone_e164": "+919812345678", "message_id": "app-1",
                "message": "Hello, what is the price?", "sender": "customer", "intents": [],
            })],
        )
        .await
        .expect("the web-agent write")
        .get(0);
    let lead = domain::ids::LeadId::from_uuid(
        ingested["lead_id"]
            .as_str()
            .and_then(|s| s.parse().ok())
            .expect("a lead id"),
    );
    let workspace = domain::ids::WorkspaceId::from_uuid(WORKSPACE_A.parse().expect("uuid"));
    let report = store::scoring::score_leads(&app, &[(workspace, lead)], chrono::Utc::now())
        .await
        .expect("scoring");
    assert_eq!(
        report.outcomes[0].1,
        store::scoring::LeadOutcome::Updated,
        "the functions' role sees every row of the workspace it is told"
    );
    store::scoring::set_override(&app, workspace, lead, "Closed Lost", None, None, None)
        .await
        .expect("pin a stage server-side");
    let foreign = store::scoring::set_override(
        &app,
        domain::ids::WorkspaceId::from_uuid(WORKSPACE_B.parse().expect("uuid")),
        lead,
        "Cold",
        None,
        None,
        None,
    )
    .await
    .expect_err("not B's lead");
    assert!(
        matches!(&foreign, store::StoreError::Database(e) if e.code() == Some(&SqlState::NO_DATA_FOUND)),
        "{foreign:?}"
    );

    for (statement, what) in [
        (
            "SELECT count(*) FROM schema_sources",
            "migration bookkeeping",
        ),
        (
            "ALTER TABLE leads DISABLE ROW LEVEL SECURITY",
            "disable RLS",
        ),
        ("DROP TABLE outbox", "drop a table"),
    ] {
        let refused = client.query(statement, &[]).await;
        assert!(refused.is_err(), "the functions' role may not {what}");
    }
}
