//! One journal for every webhook: a delivery that fails to apply is kept, with why, and the
//! `journal_replay` job (store::journal::replay_due) applies it exactly once when the fault is
//! gone. The fault here is a real one: a trigger that refuses the message
//! (`Sql::break_message_inserts`), installed by the test and dropped again.

use chrono::{Duration, Utc};
use lead_engine_tests::fixtures::Sql;
use lead_engine_tests::{spawn_app, whatsapp};
use serde_json::{Value, json};
use store::journal::{self, MAX_ATTEMPTS};

fn boom_delivery() -> Value {
    json!({
        "name": "Asha", "phone": "98123 45678", "external_session_id": "s-boom",
        "message_id": "m-boom", "message": "boom", "sender": "customer",
    })
}

#[tokio::test]
async fn a_web_agent_delivery_that_fails_is_journaled_and_replayed_exactly_once() {
    let app = spawn_app().await;
    app.break_message_inserts().await;

    let failed = app.post_web_agent(&boom_delivery()).await;

    assert_eq!(failed.status, 500, "{}", failed.body);
    assert_eq!(
        failed.body["type"],
        "https://lead-engine.dev/problems/delivery-journaled"
    );
    assert_eq!(
        app.count_in_workspace("leads").await,
        0,
        "nothing half-written"
    );
    let kept = app
        .row(
            "SELECT processed_at IS NULL, error, payload, workspace_id FROM webhook_events
             WHERE provider = 'web_agent'",
            &[],
        )
        .await;
    assert!(kept.get::<_, bool>(0), "kept as not applied");
    let error: String = kept.get(1);
    assert!(error.contains("SQLSTATE P0001"), "{error}");
    assert!(
        !error.contains("boom") && !error.contains("Asha"),
        "no personal data: {error}"
    );
    assert_eq!(
        kept.get::<_, Value>(2),
        boom_delivery(),
        "the body as received"
    );
    assert_eq!(kept.get::<_, uuid::Uuid>(3), app.tenant.workspace_id);

    app.repair_message_inserts().await;
    let replayed = journal::replay_due(app.test_db.db(), Utc::now(), 100)
        .await
        .expect("replay");
    let again = journal::replay_due(app.test_db.db(), Utc::now() + Duration::hours(1), 100)
        .await
        .expect("replay again");

    assert_eq!((replayed.claimed, replayed.applied), (1, 1), "{replayed:?}");
    assert_eq!(
        replayed.jobs.len(),
        1,
        "the score_lead job comes back to publish"
    );
    assert_eq!(again.claimed, 0, "an applied delivery is not replayed");
    assert_eq!(app.count_in_workspace("leads").await, 1);
    assert_eq!(app.count_in_workspace("conversations").await, 1);
    let retried = app.post_web_agent(&boom_delivery()).await;
    assert_eq!(retried.status, 200, "{}", retried.body);
    assert_eq!(
        retried.body["duplicate"], true,
        "the client's retry finds it applied"
    );
    assert_eq!(app.count_in_workspace("conversations").await, 1);
}

#[tokio::test]
async fn a_whatsapp_delivery_that_fails_is_replayed_from_the_journal_without_meta() {
    let app = spawn_app().await;
    app.break_message_inserts().await;
    let body = whatsapp::inbound(
        &app.tenant.phone_number_id,
        &[whatsapp::Message::text(
            "wamid.boom",
            "919812345678",
            "boom",
            1_764_000_000,
        )],
    )
    .to_string();

    let failed = app.post_whatsapp_bytes(&body).await;
    assert_eq!(failed.status, 200, "{}", failed.body);
    assert_eq!(failed.body["applied"], false);
    app.repair_message_inserts().await;

    let replayed = journal::replay_due(app.test_db.db(), Utc::now(), 100)
        .await
        .expect("replay");

    assert_eq!((replayed.claimed, replayed.applied), (1, 1), "{replayed:?}");
    assert_eq!(app.count_in_workspace("conversations").await, 1);
    let journal = app
        .row(
            "SELECT count(*), bool_and(processed_at IS NOT NULL), max(error) FROM webhook_events",
            &[],
        )
        .await;
    assert_eq!(journal.get::<_, i64>(0), 1, "one journal row for the body");
    assert!(journal.get::<_, bool>(1), "applied");
    assert_eq!(journal.get::<_, Option<String>>(2), None);
    let duplicate = app.post_whatsapp_bytes(&body).await;
    assert_eq!(
        duplicate.body["duplicate"], true,
        "Meta's late retry changes nothing"
    );
    assert_eq!(app.count_in_workspace("conversations").await, 1);
}

#[tokio::test]
async fn a_delivery_that_keeps_failing_backs_off_and_is_marked_failed_after_the_last_attempt() {
    let app = spawn_app().await;
    app.break_message_inserts().await;
    app.post_web_agent(&boom_delivery()).await;
    let mut now = Utc::now();

    let first = journal::replay_due(app.test_db.db(), now, 100)
        .await
        .expect("replay");
    let too_soon = journal::replay_due(app.test_db.db(), now + Duration::seconds(30), 100)
        .await
        .expect("replay");
    assert_eq!(first.retry_later, 1, "{first:?}");
    assert_eq!(too_soon.claimed, 0, "the backoff is respected");
    let mut failed = 0;
    for _ in 1..MAX_ATTEMPTS {
        now += Duration::hours(7);
        failed += journal::replay_due(app.test_db.db(), now, 100)
            .await
            .expect("replay")
            .failed;
    }

    assert_eq!(failed, 1, "given up once, after {MAX_ATTEMPTS} attempts");
    let row = app
        .row(
            "SELECT attempts, failed_at IS NOT NULL, processed_at IS NULL FROM webhook_events",
            &[],
        )
        .await;
    assert_eq!(row.get::<_, i32>(0), MAX_ATTEMPTS);
    assert!(row.get::<_, bool>(1) && row.get::<_, bool>(2));
    let after = journal::replay_due(app.test_db.db(), now + Duration::days(30), 100)
        .await
        .expect("replay");
    assert_eq!(after.claimed, 0, "a failed delivery waits for a person");
}
