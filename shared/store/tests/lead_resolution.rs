//! resolve_lead and add_usage (leads/resolve_lead.sql, billing/usage.sql): the SQL every inbound channel uses to find the
//! person behind a delivery and to count usage.

use store::testing::TestDb;
use tokio_postgres::Client;

async fn workspace(client: &Client, slug: &str) -> uuid::Uuid {
    client
        .query_one(
            "INSERT INTO workspaces (slug, name) VALUES ($1, 'T') RETURNING id",
            &[&slug],
        )
        .await
        .expect("arrange a workspace")
        .get(0)
}

async fn resolve(
    client: &Client,
    ws: uuid::Uuid,
    identities: serde_json::Value,
) -> (uuid::Uuid, bool, Vec<uuid::Uuid>) {
    let row = client
        .query_one(
            "SELECT lead_id, created, conflicting_lead_ids FROM resolve_lead($1, $2, 'web', now())",
            &[&ws, &identities],
        )
        .await
        .expect("resolve_lead");
    (row.get(0), row.get(1), row.get(2))
}

#[tokio::test]
async fn a_known_identity_finds_its_lead_and_new_identities_attach_to_it() {
    let test = TestDb::new().await;
    let client = test.client().await;
    let ws = workspace(&client, "attach").await;

    let (first, created, _) = resolve(
        &client,
        ws,
        serde_json::json!([{"kind": "web_session", "value": "s1"}]),
    )
    .await;
    let (second, created_again, conflicts) = resolve(
        &client,
        ws,
        serde_json::json!([{"kind": "web_session", "value": "s1"}, {"kind": "email", "value": "a@b.co"}]),
    )
    .await;

    assert!(created && !created_again);
    assert_eq!(first, second, "the session's lead is found");
    assert!(conflicts.is_empty());
    let identities: i64 = client
        .query_one(
            "SELECT count(*) FROM lead_identities WHERE lead_id = $1",
            &[&first],
        )
        .await
        .expect("count")
        .get(0);
    assert_eq!(
        identities, 2,
        "the email is now an identity of the same lead"
    );
}

#[tokio::test]
async fn identities_of_two_leads_keep_the_strongest_and_record_the_conflict() {
    let test = TestDb::new().await;
    let client = test.client().await;
    let ws = workspace(&client, "conflict").await;
    let (by_email, _, _) = resolve(
        &client,
        ws,
        serde_json::json!([{"kind": "email", "value": "a@b.co"}]),
    )
    .await;
    let (by_phone, _, _) = resolve(
        &client,
        ws,
        serde_json::json!([{"kind": "phone", "value": "+919876543210"}]),
    )
    .await;

    let (kept, created, conflicts) = resolve(
        &client,
        ws,
        serde_json::json!([{"kind": "email", "value": "a@b.co"}, {"kind": "phone", "value": "+919876543210"}]),
    )
    .await;

    assert!(!created);
    assert_eq!(kept, by_phone, "phone is stronger than email");
    assert_eq!(conflicts, vec![by_email], "not merged silently");
    let audit: serde_json::Value = client
        .query_one(
            "SELECT data FROM audit_logs WHERE event_type = 'lead.identity_conflict'",
            &[],
        )
        .await
        .expect("one conflict row")
        .get(0);
    assert_eq!(audit["kinds"], serde_json::json!(["email"]));
    assert!(
        !audit.to_string().contains("a@b.co"),
        "no personal data in the audit row"
    );
}

#[tokio::test]
async fn fifty_concurrent_deliveries_for_one_person_make_exactly_one_lead() {
    let test = TestDb::with_pool_size(20).await;
    let ws = workspace(&**test.client().await, "race").await;
    let mut tasks = Vec::new();
    for i in 0..50 {
        let db = test.db().clone();
        // Different mixes of the same person's identities, all arriving at once.
        let identities = match i % 3 {
            0 => serde_json::json!([{"kind": "phone", "value": "+919876543210"}]),
            1 => {
                serde_json::json!([{"kind": "phone", "value": "+919876543210"}, {"kind": "email", "value": "p@x.co"}])
            }
            _ => {
                serde_json::json!([{"kind": "email", "value": "p@x.co"}, {"kind": "phone", "value": "+919876543210"}, {"kind": "web_session", "value": format!("s{i}")}])
            }
        };
        tasks.push(tokio::spawn(async move {
            let client = db.client().await.expect("a connection");
            client
                .query_one(
                    "SELECT lead_id FROM resolve_lead($1, $2, 'web', now(), '+919876543210')",
                    &[&ws, &identities],
                )
                .await
                .expect("resolve_lead")
                .get::<_, uuid::Uuid>(0)
        }));
    }
    let mut ids = Vec::new();
    for task in tasks {
        ids.push(task.await.expect("task"));
    }
    ids.dedup();

    let client = test.client().await;
    let leads: i64 = client
        .query_one("SELECT count(*) FROM leads", &[])
        .await
        .expect("count")
        .get(0);
    assert_eq!(leads, 1, "one lead for one person");
    assert_eq!(ids.len(), 1, "every delivery got the same lead");
    let per_kind: Vec<(String, i64)> = client
        .query(
            "SELECT kind, count(*) FROM lead_identities GROUP BY kind ORDER BY kind",
            &[],
        )
        .await
        .expect("count identities")
        .iter()
        .map(|r| (r.get(0), r.get(1)))
        .collect();
    assert_eq!(
        per_kind,
        vec![
            ("email".into(), 1),
            ("phone".into(), 1),
            ("web_session".into(), 16)
        ],
        "one identity per kind and value"
    );
}

#[tokio::test]
async fn the_same_phone_in_two_workspaces_is_two_leads() {
    let test = TestDb::new().await;
    let client = test.client().await;
    let a = workspace(&client, "ws-a").await;
    let b = workspace(&client, "ws-b").await;
    let phone = serde_json::json!([{"kind": "phone", "value": "+919876543210"}]);

    let (lead_a, _, _) = resolve(&client, a, phone.clone()).await;
    let (lead_b, created_b, _) = resolve(&client, b, phone).await;

    assert!(created_b);
    assert_ne!(lead_a, lead_b);
}

#[tokio::test]
async fn usage_counts_per_calendar_month_against_the_plan_limit() {
    let test = TestDb::new().await;
    let client = test.client().await;
    client
        .batch_execute(
            "INSERT INTO pricing_plans (code, name, conversation_limit) VALUES ('small', 'Small', 2);
             INSERT INTO workspaces (slug, name, plan_id) SELECT 'usage', 'U', id FROM pricing_plans;",
        )
        .await
        .expect("arrange");
    let ws: uuid::Uuid = client
        .query_one("SELECT id FROM workspaces", &[])
        .await
        .expect("ws")
        .get(0);

    let mut last = (0, 0, None);
    for _ in 0..3 {
        let row = client
            .query_one(
                "SELECT * FROM add_usage($1, '2026-11-21T10:00:00Z', 1, 2)",
                &[&ws],
            )
            .await
            .expect("add_usage");
        last = (
            row.get::<_, i32>(0),
            row.get::<_, i32>(1),
            row.get::<_, Option<i32>>(2),
        );
    }
    let next_month = client
        .query_one(
            "SELECT conversations FROM add_usage($1, '2026-12-01T00:00:00Z', 1, 0)",
            &[&ws],
        )
        .await
        .expect("add_usage")
        .get::<_, i32>(0);

    assert_eq!(
        last,
        (3, 6, Some(2)),
        "three conversations, six messages, limit two"
    );
    assert_eq!(next_month, 1, "a new month starts from zero");
}

#[tokio::test]
async fn a_lead_with_the_phone_but_no_phone_identity_adopts_it_instead_of_being_duplicated() {
    let test = TestDb::new().await;
    let client = test.client().await;
    let ws = workspace(&client, "adopt").await;
    // Set by a person or an import: the column only, no identity row.
    let imported: uuid::Uuid = client
        .query_one(
            "INSERT INTO leads (workspace_id, name, phone_e164, first_touchpoint, last_touchpoint)
             VALUES ($1, 'Imported', '+919812345678', 'web', 'web') RETURNING id",
            &[&ws],
        )
        .await
        .expect("arrange an imported lead")
        .get(0);

    let (found, created, conflicts) = resolve(
        &client,
        ws,
        serde_json::json!([{"kind": "phone", "value": "+919812345678"},
                           {"kind": "whatsapp_id", "value": "919812345678"}]),
    )
    .await;

    assert_eq!(found, imported, "the imported lead is the person");
    assert!(!created && conflicts.is_empty());
    let identities: i64 = client
        .query_one(
            "SELECT count(*) FROM lead_identities WHERE lead_id = $1",
            &[&imported],
        )
        .await
        .expect("count identities")
        .get(0);
    assert_eq!(
        identities, 2,
        "the phone and the WhatsApp id now point at it"
    );
}
