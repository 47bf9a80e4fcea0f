//! The scoring pipeline end to end: a conversation posted message by message through the
//! web-agent webhook, each published score_lead job run through the real score-lead consumer.

use lead_engine_tests::fixtures::Sql;
use lead_engine_tests::{TestApp, spawn_app};
use platform::clock::Clock;
use score_lead::ScoreLead;
use serde_json::{Value, json};

/// Posts one chat event for the same person and session, then scores the jobs it published.
async fn post_and_score(app: &TestApp, n: &mut u32, extra: Value) -> uuid::Uuid {
    *n += 1;
    let mut body = json!({
        "name": "Ravi", "phone": "98765 43210", "external_session_id": "chat-42",
        "message_id": format!("m-{n}"),
    });
    if let (Some(body), Some(extra)) = (body.as_object_mut(), extra.as_object()) {
        body.extend(extra.clone());
    }
    let response = app.post_web_agent(&body).await;
    assert_eq!(response.status, 200, "{}", response.body);
    let scorer = ScoreLead {
        db: app.test_db.db().clone(),
        clock: Clock::System,
    };
    let outcomes = scorer.score(app.published_jobs()).await;
    assert!(outcomes.iter().all(Result::is_ok));
    response.id("lead_id")
}

async fn stage(app: &TestApp, lead: uuid::Uuid) -> String {
    app.row("SELECT lead_stage FROM leads WHERE id = $1", &[&lead])
        .await
        .get(0)
}

#[tokio::test]
async fn a_conversation_through_the_webhook_moves_a_lead_from_new_to_booking_made() {
    let app = spawn_app().await;
    let mut n = 0;

    let lead = post_and_score(&app, &mut n, json!({})).await;
    assert_eq!(
        stage(&app, lead).await,
        "New",
        "contact details only: no customer message"
    );

    post_and_score(&app, &mut n, json!({"sender": "customer", "message": "hi"})).await;
    assert_eq!(stage(&app, lead).await, "Engaged");

    for question in [
        "What is the price?",
        "Is it still available?",
        "What about the budget?",
    ] {
        post_and_score(
            &app,
            &mut n,
            json!({"sender": "customer", "message": question}),
        )
        .await;
    }
    assert_eq!(stage(&app, lead).await, "Qualified");

    for _ in 0..8 {
        post_and_score(
            &app,
            &mut n,
            json!({"sender": "customer",
                   "message": "Could we book a site visit this Saturday morning? Please share the floor plan."}),
        )
        .await;
    }
    assert_eq!(stage(&app, lead).await, "High Intent");

    post_and_score(
        &app,
        &mut n,
        json!({"booking": {"status": "confirmed", "date": "2026-12-05", "time": "11:00"}}),
    )
    .await;
    assert_eq!(stage(&app, lead).await, "Booking Made");

    let changes: Vec<(Option<String>, String, String)> = app
        .rows("SELECT old_stage, new_stage, reason FROM lead_stage_changes WHERE lead_id = $1 ORDER BY created_at", &[&lead])
        .await
        .iter()
        .map(|r| (r.get(0), r.get(1), r.get(2)))
        .collect();
    assert_eq!(
        changes,
        vec![
            (Some("New".into()), "Engaged".into(), "auto_scoring".into()),
            (
                Some("Engaged".into()),
                "Qualified".into(),
                "auto_scoring".into()
            ),
            (
                Some("Qualified".into()),
                "High Intent".into(),
                "auto_scoring".into()
            ),
            (
                Some("High Intent".into()),
                "Booking Made".into(),
                "booking_made".into()
            ),
        ],
        "one audit row per change"
    );

    // Replaying the same job changes nothing.
    let before = app
        .row(
            "SELECT lead_score, score_breakdown, last_scored_at FROM leads WHERE id = $1",
            &[&lead],
        )
        .await;
    let replay = domain::jobs::Job::score_lead(
        domain::ids::WorkspaceId::from_uuid(app.tenant.workspace_id),
        domain::ids::LeadId::from_uuid(lead),
        "replay",
    );
    let scorer = ScoreLead {
        db: app.test_db.db().clone(),
        clock: Clock::System,
    };
    assert!(scorer.score(vec![replay]).await[0].is_ok());
    let after = app
        .row(
            "SELECT lead_score, score_breakdown, last_scored_at FROM leads WHERE id = $1",
            &[&lead],
        )
        .await;
    assert_eq!(before.get::<_, i16>(0), after.get::<_, i16>(0));
    assert_eq!(before.get::<_, Value>(1), after.get::<_, Value>(1));
    assert_eq!(
        before.get::<_, Option<chrono::DateTime<chrono::Utc>>>(2),
        after.get::<_, Option<chrono::DateTime<chrono::Utc>>>(2),
        "nothing written"
    );
    let count = app
        .count(
            "SELECT count(*) FROM lead_stage_changes WHERE lead_id = $1",
            &[&lead],
        )
        .await;
    assert_eq!(count, 4);
}
