//! The schema as a specification: what docs/architecture.md §4 promises, checked against a real
//! PostgreSQL database migrated from `migrations/`.

use store::testing::TestDb;
use tokio_postgres::Client;

/// Every table and view docs/architecture.md §4.1 names.
const DESIGNED_RELATIONS: &[&str] = &[
    "workspaces",
    "members",
    "api_keys",
    "whatsapp_channels",
    "agents",
    "agent_configs",
    "property_listings",
    "agent_site_documents",
    "agent_scrape_quotas",
    "ai_usage_logs",
    "leads",
    "lead_identities",
    "web_sessions",
    "whatsapp_sessions",
    "voice_sessions",
    "social_sessions",
    "conversations",
    "lead_intents_log",
    "lead_stage_changes",
    "lead_stage_overrides",
    "lead_activities",
    "tasks",
    "task_automation_rules",
    "pricing_plans",
    "workspace_subscriptions",
    "billing_invoices",
    "workspace_usage",
    "webhook_events",
    "outbox",
    "audit_logs",
    "unified_leads",
];

/// Inserts a workspace and a lead with a phone, returning (workspace_id, lead_id) as text.
async fn workspace_with_lead(client: &Client, slug: &str) -> (String, String) {
    let row = client
        .query_one(
            "WITH ws AS (INSERT INTO workspaces (slug, name) VALUES ($1, 'Test') RETURNING id)
             INSERT INTO leads (workspace_id, name, phone_e164, first_touchpoint, last_touchpoint)
             SELECT id, 'Test Lead', '+919876543210', 'web', 'web' FROM ws
             RETURNING workspace_id::text, id::text",
            &[&slug],
        )
        .await
        .expect("arrange a workspace and a lead");
    (row.get(0), row.get(1))
}

#[tokio::test]
async fn every_designed_table_and_view_exists() {
    let test = TestDb::new().await;
    let client = test.client().await;
    let rows = client
        .query(
            "SELECT table_name::text FROM information_schema.tables WHERE table_schema = 'public'",
            &[],
        )
        .await
        .expect("list tables");
    let present: Vec<String> = rows.iter().map(|r| r.get(0)).collect();
    for name in DESIGNED_RELATIONS {
        assert!(present.iter().any(|p| p == name), "{name} is missing");
    }
}

#[tokio::test]
async fn migrations_apply_to_an_empty_database_and_reapplying_changes_nothing() {
    let empty = TestDb::empty().await;
    let url = empty.url().to_owned();

    let first = store::migrate::run(&url, None)
        .await
        .expect("migrations apply");
    assert!(first.applied.len() >= 7, "applied {:?}", first.applied);
    assert!(
        first.sources_applied,
        "a new database gets the function sources"
    );
    let second = store::migrate::run(&url, None)
        .await
        .expect("migrations re-apply");
    assert!(
        second.applied.is_empty(),
        "second run applied {:?}",
        second.applied
    );
    assert!(
        !second.sources_applied,
        "unchanged sources are not re-created"
    );
}

#[tokio::test]
async fn every_unique_key_the_design_relies_on_rejects_a_duplicate() {
    let test = TestDb::new().await;
    let client = test.client().await;
    let (ws, lead) = workspace_with_lead(&client, "uniq").await;
    client
        .batch_execute(&format!(
            "INSERT INTO agents (id, workspace_id, name) VALUES ('00000000-0000-4000-8000-0000000000a1', '{ws}', 'A');
             INSERT INTO pricing_plans (code, name, stripe_price_id) VALUES ('p1', 'P', 'price_1');"
        ))
        .await
        .expect("arrange an agent and a plan");

    // (what it protects, a statement run twice; the second run must hit a unique key)
    let cases: Vec<(&str, String)> = vec![
        ("workspace slug", "INSERT INTO workspaces (slug, name) VALUES ('dup-slug', 'X')".into()),
        ("workspace stripe customer", "INSERT INTO workspaces (slug, name, stripe_customer_id) SELECT 'c-' || md5(random()::text), 'X', 'cus_1'".into()),
        ("api key hash", format!("INSERT INTO api_keys (workspace_id, key_sha256, prefix) VALUES ('{ws}', sha256('k'::bytea), 'k')")),
        ("whatsapp phone_number_id", format!("INSERT INTO whatsapp_channels (workspace_id, phone_number_id) VALUES ('{ws}', '111')")),
        ("one identity per workspace, kind and value", format!("INSERT INTO lead_identities (workspace_id, kind, value, lead_id) VALUES ('{ws}', 'phone', '+919876543210', '{lead}')")),
        ("one lead per phone per workspace", format!("INSERT INTO leads (workspace_id, phone_e164, first_touchpoint, last_touchpoint) VALUES ('{ws}', '+14155550100', 'web', 'web')")),
        ("one web session per external id", format!("INSERT INTO web_sessions (workspace_id, lead_id, external_session_id) VALUES ('{ws}', '{lead}', 's-1')")),
        ("one whatsapp session per number and user", format!("INSERT INTO whatsapp_sessions (workspace_id, lead_id, phone_number_id, wa_id_or_bsuid) VALUES ('{ws}', '{lead}', '111', '919876543210')")),
        ("one message per provider id", format!("INSERT INTO conversations (workspace_id, lead_id, channel, sender, content, external_id, sent_at) VALUES ('{ws}', '{lead}', 'whatsapp', 'customer', 'hi', 'wamid.1', now())")),
        ("one journal row per provider event", "INSERT INTO webhook_events (provider, event_key, payload) VALUES ('stripe', 'evt_1', '{}')".into()),
        ("one usage row per workspace and period", format!("INSERT INTO workspace_usage (workspace_id, period_start, period_end) VALUES ('{ws}', '2026-11-01', '2026-12-01')")),
        ("one site document per agent and version", "INSERT INTO agent_site_documents (agent_id, version, content_sha256, document, generator) VALUES ('00000000-0000-4000-8000-0000000000a1', 1, sha256('d'::bytea), '{}', 'test')".into()),
        ("one active override per lead", format!("INSERT INTO lead_stage_overrides (lead_id, stage) VALUES ('{lead}', 'Qualified')")),
        ("one subscription per workspace", format!("INSERT INTO workspace_subscriptions (workspace_id, stripe_subscription_id, stripe_customer_id, status, stripe_event_created) SELECT '{ws}', 'sub_' || md5(random()::text), 'cus_1', 'active', now()")),
        ("one invoice row per stripe invoice", format!("INSERT INTO billing_invoices (stripe_invoice_id, workspace_id, status, currency) VALUES ('in_1', '{ws}', 'paid', 'usd')")),
        ("plan code", "INSERT INTO pricing_plans (code, name) VALUES ('p1', 'again')".into()),
        ("plan stripe price", "INSERT INTO pricing_plans (code, name, stripe_price_id) SELECT 'p' || floor(random()*1e6)::int, 'P', 'price_1'".into()),
        ("one open automatic task per lead and rule", format!("INSERT INTO tasks (workspace_id, lead_id, task_type, title, auto_generated, generation_rule) VALUES ('{ws}', '{lead}', 'follow_up', 'Follow up', true, 'lead_inactive')")),
        ("one intent row per message and intent", format!("INSERT INTO lead_intents_log (lead_id, conversation_id, intent, confidence, matched) SELECT '{lead}', id, 'pricing', 0.9, 'price' FROM conversations WHERE external_id = 'wamid.1'")),
    ];
    for (what, statement) in &cases {
        // The first run must succeed unless an earlier case already inserted the row it needs.
        let first = client.execute(statement.as_str(), &[]).await;
        let first_ok = first.is_ok();
        let second = client.execute(statement.as_str(), &[]).await;
        let err = second.expect_err(&format!(
            "{what}: a duplicate must be rejected (first ok: {first_ok})"
        ));
        let store_err = store::StoreError::from(err);
        assert!(
            store_err.unique_violation().is_some(),
            "{what}: expected a unique violation, got {store_err:?}"
        );
    }
}

#[tokio::test]
async fn deleting_a_lead_deletes_its_sessions_messages_and_audit_rows() {
    let test = TestDb::new().await;
    let client = test.client().await;
    let (ws, lead) = workspace_with_lead(&client, "cascade").await;
    client
        .batch_execute(&format!(
            "INSERT INTO lead_identities (workspace_id, kind, value, lead_id) VALUES ('{ws}', 'email', 'a@b.co', '{lead}');
             INSERT INTO web_sessions (workspace_id, lead_id, external_session_id) VALUES ('{ws}', '{lead}', 's');
             INSERT INTO whatsapp_sessions (workspace_id, lead_id, phone_number_id, wa_id_or_bsuid) VALUES ('{ws}', '{lead}', 'p', 'w');
             INSERT INTO voice_sessions (workspace_id, lead_id, external_call_id) VALUES ('{ws}', '{lead}', 'c');
             INSERT INTO social_sessions (workspace_id, lead_id, platform, external_thread_id) VALUES ('{ws}', '{lead}', 'instagram', 't');
             INSERT INTO conversations (workspace_id, lead_id, channel, sender, content, external_id, sent_at) VALUES ('{ws}', '{lead}', 'web', 'customer', 'hello', 'm1', now());
             INSERT INTO lead_intents_log (lead_id, conversation_id, intent, confidence, matched) SELECT '{lead}', id, 'interest', 0.5, 'interested' FROM conversations;
             INSERT INTO lead_stage_changes (lead_id, new_stage, reason, is_automatic) VALUES ('{lead}', 'Engaged', 'auto_scoring', true);
             INSERT INTO lead_stage_overrides (lead_id, stage) VALUES ('{lead}', 'Qualified');
             INSERT INTO lead_activities (lead_id, activity_type) VALUES ('{lead}', 'call');
             INSERT INTO tasks (workspace_id, lead_id, title) VALUES ('{ws}', '{lead}', 'Call back');
             INSERT INTO audit_logs (workspace_id, actor, event_type, entity_type, entity_id) VALUES ('{ws}', 'system', 'lead.identity_conflict', 'lead', '{lead}');"
        ))
        .await
        .expect("arrange a lead with everything that hangs off it");

    client
        .execute(&format!("DELETE FROM leads WHERE id = '{lead}'"), &[])
        .await
        .expect("delete the lead");

    for table in [
        "lead_identities",
        "web_sessions",
        "whatsapp_sessions",
        "voice_sessions",
        "social_sessions",
        "conversations",
        "lead_intents_log",
        "lead_stage_changes",
        "lead_stage_overrides",
        "lead_activities",
        "tasks",
        "audit_logs",
    ] {
        let count: i64 = client
            .query_one(&format!("SELECT count(*) FROM {table}"), &[])
            .await
            .expect("count rows")
            .get(0);
        assert_eq!(count, 0, "{table} still has rows of the deleted lead");
    }
}

#[tokio::test]
async fn deleting_a_workspace_deletes_its_audit_rows_and_no_others() {
    let test = TestDb::new().await;
    let client = test.client().await;
    let (gone, _) = workspace_with_lead(&client, "gone").await;
    let (kept, _) = workspace_with_lead(&client, "kept").await;
    for ws in [&gone, &kept] {
        client
            .execute(
                "INSERT INTO audit_logs (workspace_id, actor, event_type, entity_type)
                 SELECT $1::text::uuid, 'system', 'task_overdue', 'task' FROM generate_series(1, 3)",
                &[ws],
            )
            .await
            .expect("audit rows");
    }

    client
        .execute("DELETE FROM workspaces WHERE id = $1::text::uuid", &[&gone])
        .await
        .expect("delete the workspace");

    let left: Vec<(String, i64)> = client
        .query(
            "SELECT workspace_id::text, count(*) FROM audit_logs GROUP BY 1 ORDER BY 1",
            &[],
        )
        .await
        .expect("count audit rows")
        .iter()
        .map(|row| (row.get(0), row.get(1)))
        .collect();
    assert_eq!(
        left,
        vec![(kept, 3)],
        "the deleted workspace's audit trail goes with it (a trigger, not a foreign key: V21)"
    );
}

#[tokio::test]
async fn unified_leads_has_one_row_per_reachable_lead_with_its_latest_sessions() {
    let test = TestDb::new().await;
    let client = test.client().await;
    let (ws, lead) = workspace_with_lead(&client, "view").await;
    client
        .batch_execute(&format!(
            "INSERT INTO web_sessions (workspace_id, lead_id, external_session_id, last_message_at) VALUES
                ('{ws}', '{lead}', 'old', now() - interval '2 days'),
                ('{ws}', '{lead}', 'new', now());
             INSERT INTO whatsapp_sessions (workspace_id, lead_id, phone_number_id, wa_id_or_bsuid) VALUES ('{ws}', '{lead}', 'p', 'w');
             INSERT INTO social_sessions (workspace_id, lead_id, platform, external_thread_id) VALUES
                ('{ws}', '{lead}', 'instagram', 't1'), ('{ws}', '{lead}', 'facebook', 't2');
             -- A lead known only by a chat session: not a person we can name or reach yet.
             INSERT INTO leads (workspace_id, first_touchpoint, last_touchpoint) VALUES ('{ws}', 'web', 'web');"
        ))
        .await
        .expect("arrange sessions");

    let rows = client
        .query(
            "SELECT id::text, metadata FROM unified_leads WHERE workspace_id = $1::text::uuid",
            &[&ws],
        )
        .await
        .expect("read the view");
    assert_eq!(
        rows.len(),
        1,
        "one row per reachable lead, none for the anonymous one"
    );
    let id: String = rows[0].get(0);
    let metadata: serde_json::Value = rows[0].get(1);
    assert_eq!(id, lead);
    assert_eq!(
        metadata["web_data"]["external_session_id"], "new",
        "latest web session"
    );
    assert_eq!(metadata["whatsapp_data"]["wa_id_or_bsuid"], "w");
    assert!(metadata["voice_data"].is_null());
    assert_eq!(metadata["social_data"].as_array().map(Vec::len), Some(2));
}

#[tokio::test]
async fn conversations_are_append_only_and_statuses_only_move_forward() {
    let test = TestDb::new().await;
    let client = test.client().await;
    let (ws, lead) = workspace_with_lead(&client, "append").await;
    client
        .batch_execute(&format!(
            "INSERT INTO conversations (workspace_id, lead_id, channel, sender, content, external_id, delivery_status, sent_at)
             VALUES ('{ws}', '{lead}', 'whatsapp', 'agent', 'hello', 'wamid.out', 'sent', now())"
        ))
        .await
        .expect("arrange an outgoing message");

    let edit = client
        .execute("UPDATE conversations SET content = 'changed'", &[])
        .await;
    assert!(edit.is_err(), "content must never change");
    client
        .execute("UPDATE conversations SET delivery_status = 'read'", &[])
        .await
        .expect("sent -> read moves forward");
    let back = client
        .execute(
            "UPDATE conversations SET delivery_status = 'delivered'",
            &[],
        )
        .await;
    assert!(back.is_err(), "read -> delivered would move backward");
}

#[tokio::test]
async fn updated_at_is_maintained_by_the_shared_trigger() {
    let test = TestDb::new().await;
    let client = test.client().await;
    let (_, lead) = workspace_with_lead(&client, "touch").await;
    client
        .execute(
            "UPDATE leads SET updated_at = '2000-01-01' WHERE id = $1::text::uuid",
            &[&lead],
        )
        .await
        .expect("try to set updated_at by hand");
    let fresh: bool = client
        .query_one(
            "SELECT updated_at > now() - interval '1 minute' FROM leads WHERE id = $1::text::uuid",
            &[&lead],
        )
        .await
        .expect("read updated_at")
        .get(0);
    assert!(fresh, "the trigger sets updated_at on every update");
}
