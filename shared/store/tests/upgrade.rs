//! Upgrading a database that an earlier build migrated (V1..V11, with the function bodies those
//! migrations created) to this build: the new migrate applies the new migrations, replaces every
//! function from its source, and what was stored before behaves the same afterwards.

use serde_json::json;
use store::testing::TestDb;
use uuid::Uuid;

/// The last migration of the build before function bodies became source files.
const LAST_VERSION_WITH_BODIES_IN_MIGRATIONS: i32 = 11;

#[tokio::test]
async fn a_database_migrated_by_the_previous_build_upgrades_and_keeps_its_behaviour() {
    let old = TestDb::empty().await;
    let mut raw = store::pool::connect_once(old.url(), None)
        .await
        .expect("connect to the empty database");
    store::migrate::run_history_up_to(&mut raw, LAST_VERSION_WITH_BODIES_IN_MIGRATIONS)
        .await
        .expect("the previous build's migrations apply");
    let client = old.client().await;
    let ws: Uuid = client
        .query_one(
            "INSERT INTO workspaces (slug, name) VALUES ('upgrade', 'Upgrade') RETURNING id",
            &[],
        )
        .await
        .expect("arrange a workspace")
        .get(0);
    // A delivery the previous build's ingest_web_agent processed and journaled.
    let before = json!({
        "workspace_id": ws, "phone_e164": "+919812345678", "phone_raw": "98123 45678",
        "message_id": "m-1", "message": "Hello", "sender": "customer", "intents": [],
    });
    let stored = client
        .query_one("SELECT ingest_web_agent($1, $2)", &[&before, &json!({})])
        .await
        .expect("the previous build ingests")
        .get::<_, serde_json::Value>(0);
    // A lead whose phone was set without a phone identity (the case resolve_lead now adopts).
    let imported: Uuid = client
        .query_one(
            "INSERT INTO leads (workspace_id, name, phone_e164, first_touchpoint, last_touchpoint)
             VALUES ($1, 'Imported', '+919800000001', 'web', 'web') RETURNING id",
            &[&ws],
        )
        .await
        .expect("arrange an imported lead")
        .get(0);
    drop(client);

    let report = store::migrate::run_on(&mut raw)
        .await
        .expect("this build's migrate upgrades it");

    assert!(
        report.applied.iter().any(|m| m.starts_with("V12__")),
        "{:?}",
        report.applied
    );
    assert!(report.sources_applied);
    let client = old.client().await;
    let replay = json!({
        "workspace_id": ws, "event_key": format!("m:{ws}:m-1"), "phone_e164": "+919812345678",
        "message_id": "m-1", "message": "Hello", "sender": "customer", "intents": [],
    });
    let answer: serde_json::Value = client
        .query_one("SELECT ingest_web_agent($1, $2)", &[&replay, &json!({})])
        .await
        .expect("the upgraded database ingests")
        .get(0);
    assert_eq!(answer["duplicate"], true, "{answer}");
    assert_eq!(
        answer["lead_id"], stored["lead_id"],
        "a delivery journaled before the upgrade is answered with the same ids"
    );
    let found: Uuid = client
        .query_one(
            "SELECT lead_id FROM resolve_lead($1, '[{\"kind\": \"phone\", \"value\": \"+919800000001\"}]',
                                              'whatsapp', now(), '+919800000001')",
            &[&ws],
        )
        .await
        .expect("resolve_lead from its source")
        .get(0);
    assert_eq!(found, imported, "the imported lead adopts its phone");
    let conversations: i64 = client
        .query_one("SELECT count(*) FROM conversations", &[])
        .await
        .expect("count")
        .get(0);
    assert_eq!(conversations, 1);
}
