//! POST /webhooks/web-agent end to end: through the handler, against real PostgreSQL.
//!
//! Each test has a database of its own (cloned from the migrated template) with one tenant:
//! workspace A in region `IN` on a plan of 100 conversations, with an API key and an agent.

use domain::jobs::Job;
use lead_engine_tests::fixtures;
use lead_engine_tests::fixtures::Sql;
use lead_engine_tests::web_agent::request;
use lead_engine_tests::{TestApp, spawn_app};
use serde_json::{Value, json};
use uuid::Uuid;

/// The same person's number, the four ways a visitor might type it in India.
const PHONE_FORMATS: [&str; 4] = [
    "+91 98765 43210",
    "098765 43210",
    "9876543210",
    "0091-98765-43210",
];
const PHONE_E164: &str = "+919876543210";

fn first_contact() -> Value {
    json!({
        "name": "Priya Sharma",
        "phone": "+91 98765 43210",
        "email": "Priya.Sharma@Example.com",
        "external_session_id": "sess-1",
        "message_id": "msg-1",
        "message": "Hi, is the 2 BHK in Baner still available?",
        "sender": "customer",
        "website_url": "https://asha.example/listings/1",
        "conversation_summary": "Asked about the 2 BHK in Baner",
        "user_inputs_summary": "2 BHK, Baner",
        "metadata": {"utm_source": "google"},
    })
}

// ---------------------------------------------------------------------------------------------
// Leads, sessions, messages
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn a_new_person_becomes_one_lead_with_session_message_identities_usage_and_a_scoring_job() {
    let app = spawn_app().await;

    let response = app.post_web_agent(&first_contact()).await;

    assert_eq!(response.status, 200, "{}", response.body);
    assert_eq!(response.content_type, "application/json");
    assert_eq!(response.body["created"], true);
    assert_eq!(response.body["duplicate"], false);
    assert_eq!(
        response.body["usage"],
        json!({"conversations": 1, "limit": 100, "over_limit": false})
    );
    let lead_id = response.id("lead_id");

    let lead = app
        .row(
            "SELECT name, email, phone_e164, phone_raw, first_touchpoint, last_touchpoint,
                    last_customer_message_at IS NOT NULL, unified_context -> 'web'
             FROM leads WHERE id = $1",
            &[&lead_id],
        )
        .await;
    assert_eq!(
        lead.get::<_, Option<String>>(0).as_deref(),
        Some("Priya Sharma")
    );
    assert_eq!(
        lead.get::<_, Option<String>>(1).as_deref(),
        Some("priya.sharma@example.com"),
        "lower-cased"
    );
    assert_eq!(
        lead.get::<_, Option<String>>(2).as_deref(),
        Some(PHONE_E164)
    );
    assert_eq!(
        lead.get::<_, Option<String>>(3).as_deref(),
        Some("+91 98765 43210"),
        "as entered"
    );
    assert_eq!(
        (lead.get::<_, String>(4), lead.get::<_, String>(5)),
        ("web".into(), "web".into())
    );
    assert!(
        lead.get::<_, bool>(6),
        "a customer message sets last_customer_message_at"
    );
    let web: Value = lead.get(7);
    assert_eq!(
        web["conversation_summary"],
        "Asked about the 2 BHK in Baner"
    );
    assert_eq!(web["external_session_id"], "sess-1");

    let identities: Vec<(String, String)> = app
        .rows(
            "SELECT kind, value FROM lead_identities WHERE lead_id = $1 ORDER BY kind",
            &[&lead_id],
        )
        .await
        .iter()
        .map(|r| (r.get(0), r.get(1)))
        .collect();
    assert_eq!(
        identities,
        [
            ("email".to_owned(), "priya.sharma@example.com".to_owned()),
            ("phone".to_owned(), PHONE_E164.to_owned()),
            ("web_session".to_owned(), "sess-1".to_owned()),
        ]
    );

    let session = app
        .row(
            "SELECT id, lead_id, message_count, website_url, channel_data FROM web_sessions
             WHERE workspace_id = $1 AND external_session_id = 'sess-1'",
            &[&app.tenant.workspace_id],
        )
        .await;
    assert_eq!(session.get::<_, Uuid>(0), response.id("session_id"));
    assert_eq!(session.get::<_, Uuid>(1), lead_id);
    assert_eq!(session.get::<_, i32>(2), 1);
    assert_eq!(
        session.get::<_, Option<String>>(3).as_deref(),
        Some("https://asha.example/listings/1")
    );
    assert_eq!(
        session.get::<_, Value>(4),
        json!({"metadata": {"utm_source": "google"}})
    );

    let message = app
        .row(
            "SELECT id, lead_id, channel, sender, content, external_id FROM conversations
             WHERE workspace_id = $1",
            &[&app.tenant.workspace_id],
        )
        .await;
    assert_eq!(message.get::<_, Uuid>(0), response.id("message_id"));
    assert_eq!(message.get::<_, Uuid>(1), lead_id);
    assert_eq!(message.get::<_, String>(2), "web");
    assert_eq!(message.get::<_, String>(3), "customer");
    assert_eq!(
        message.get::<_, String>(4),
        "Hi, is the 2 BHK in Baner still available?"
    );
    assert_eq!(
        message.get::<_, Option<String>>(5).as_deref(),
        Some("msg-1")
    );

    let journal = app
        .row(
            "SELECT event_key, payload, processed_at IS NOT NULL FROM webhook_events
             WHERE workspace_id = $1",
            &[&app.tenant.workspace_id],
        )
        .await;
    assert!(
        journal.get::<_, String>(0).ends_with(":msg-1"),
        "keyed by message_id"
    );
    assert_eq!(
        journal.get::<_, Value>(1),
        first_contact(),
        "the body as received"
    );
    assert!(journal.get::<_, bool>(2));

    let usage = app
        .row(
            "SELECT conversations, messages FROM workspace_period_usage WHERE workspace_id = $1",
            &[&app.tenant.workspace_id],
        )
        .await;
    assert_eq!((usage.get::<_, i32>(0), usage.get::<_, i32>(1)), (1, 1));

    let published = app.published_jobs();
    assert_eq!(
        published.len(),
        1,
        "one scoring job, published after commit"
    );
    assert!(
        matches!(&published[0], Job::ScoreLead { lead_id: id, workspace_id, .. }
            if id.as_uuid() == lead_id && workspace_id.as_uuid() == app.tenant.workspace_id),
        "{published:?}"
    );
    let unpublished = app
        .count(
            "SELECT count(*) FROM outbox WHERE published_at IS NULL",
            &[],
        )
        .await;
    assert_eq!(unpublished, 0, "the outbox row is marked published");
}

#[tokio::test]
async fn a_returning_lead_is_found_by_its_phone_written_another_way() {
    let app = spawn_app().await;
    let first = app.post_web_agent(&first_contact()).await;

    let again = app
        .post_web_agent(&json!({
            "phone": "098765 43210",
            "external_session_id": "sess-1",
            "message_id": "msg-2",
            "message": "What is the price?",
            "sender": "customer",
        }))
        .await;

    assert_eq!(again.status, 200, "{}", again.body);
    assert_eq!(again.body["created"], false);
    assert_eq!(again.id("lead_id"), first.id("lead_id"));
    assert_eq!(
        again.id("session_id"),
        first.id("session_id"),
        "same chat, same session"
    );
    assert_eq!(app.count_in_workspace("leads").await, 1);
    assert_eq!(app.count_in_workspace("conversations").await, 2);
    let session = app
        .row(
            "SELECT message_count FROM web_sessions WHERE id = $1",
            &[&first.id("session_id")],
        )
        .await;
    assert_eq!(session.get::<_, i32>(0), 2);
    assert_eq!(
        again.body["usage"]["conversations"], 1,
        "no new conversation"
    );
    let phone_raw = app
        .row(
            "SELECT phone_raw FROM leads WHERE id = $1",
            &[&first.id("lead_id")],
        )
        .await;
    assert_eq!(
        phone_raw.get::<_, Option<String>>(0).as_deref(),
        Some("+91 98765 43210"),
        "first entry kept"
    );
}

#[tokio::test]
async fn a_returning_lead_on_another_session_gets_a_second_session_and_conversation() {
    let app = spawn_app().await;
    let first = app.post_web_agent(&first_contact()).await;

    let later = app
        .post_web_agent(&json!({
            "email": "priya.sharma@example.com",
            "external_session_id": "sess-2",
            "message_id": "msg-2",
            "message": "Back again, any 3 BHKs?",
            "sender": "customer",
        }))
        .await;

    assert_eq!(later.status, 200, "{}", later.body);
    assert_eq!(later.id("lead_id"), first.id("lead_id"), "found by email");
    assert_ne!(later.id("session_id"), first.id("session_id"));
    assert_eq!(
        later.body["usage"]["conversations"], 2,
        "a new session is a new conversation"
    );
    let sessions = app
        .count(
            "SELECT count(*) FROM web_sessions WHERE lead_id = $1",
            &[&first.id("lead_id")],
        )
        .await;
    assert_eq!(sessions, 2);
    let identity = app
        .row(
            "SELECT lead_id FROM lead_identities WHERE kind = 'web_session' AND value = 'sess-2'",
            &[],
        )
        .await;
    assert_eq!(
        identity.get::<_, Uuid>(0),
        first.id("lead_id"),
        "the new session is attached"
    );
}

#[tokio::test]
async fn a_session_already_linked_to_a_lead_identifies_it_alone() {
    let app = spawn_app().await;
    let first = app.post_web_agent(&first_contact()).await;

    let reply = app
        .post_web_agent(&json!({
            "external_session_id": "sess-1",
            "message_id": "msg-bot-1",
            "message": "Yes, it is available. Shall I book a visit?",
            "sender": "agent",
        }))
        .await;

    assert_eq!(reply.status, 200, "{}", reply.body);
    assert_eq!(reply.id("lead_id"), first.id("lead_id"));
    assert_eq!(app.count_in_workspace("leads").await, 1);
    let stamps = app
        .row(
            "SELECT last_customer_message_at = created_at FROM leads WHERE id = $1",
            &[&first.id("lead_id")],
        )
        .await;
    assert!(
        stamps.get::<_, bool>(0),
        "an agent message is not customer activity"
    );
}

#[tokio::test]
async fn a_message_without_message_id_is_appended_every_time() {
    let app = spawn_app().await;
    let body = json!({"phone": "9876543210", "external_session_id": "s", "message": "hello", "sender": "customer"});

    let first = app.post_web_agent(&body).await;
    let second = app.post_web_agent(&body).await;

    assert_eq!((first.status, second.status), (200, 200));
    assert_ne!(
        first.id("message_id"),
        second.id("message_id"),
        "no key, no dedupe"
    );
    assert_eq!(app.count_in_workspace("conversations").await, 2);
    assert_eq!(
        app.count_in_workspace("webhook_events").await,
        2,
        "both journaled"
    );
}

#[tokio::test]
async fn a_contact_form_without_a_message_stores_the_lead_and_no_message() {
    let app = spawn_app().await;

    let response = app
        .post_web_agent(&json!({"name": "Ravi", "email": "ravi@example.com"}))
        .await;

    assert_eq!(response.status, 200, "{}", response.body);
    assert_eq!(response.body["message_id"], Value::Null);
    assert_eq!(response.body["session_id"], Value::Null);
    assert_eq!(app.count_in_workspace("leads").await, 1);
    assert_eq!(app.count_in_workspace("conversations").await, 0);
    assert_eq!(app.published_jobs().len(), 1, "still rescored");
}

// ---------------------------------------------------------------------------------------------
// Idempotency
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn a_replayed_message_id_returns_the_same_ids_and_writes_nothing() {
    let app = spawn_app().await;
    let first = app.post_web_agent(&first_contact()).await;
    app.published_jobs();
    let before = app.footprint().await;

    let mut altered = first_contact();
    altered["message"] = json!("a retry may even carry different text");
    let replays = [
        app.post_web_agent(&first_contact()).await,
        app.post_web_agent(&altered).await,
    ];

    for replay in replays {
        assert_eq!(replay.status, 200, "{}", replay.body);
        assert_eq!(replay.body["duplicate"], true);
        assert_eq!(
            replay.body["created"], false,
            "this request created nothing"
        );
        for id in ["lead_id", "session_id", "message_id"] {
            assert_eq!(replay.body[id], first.body[id], "{id}");
        }
        assert_eq!(replay.body["usage"], first.body["usage"]);
    }
    assert_eq!(app.footprint().await, before, "nothing new in any table");
    assert!(app.published_jobs().is_empty(), "no job for a replay");
}

#[tokio::test]
async fn the_same_message_id_in_two_workspaces_is_two_messages() {
    let app = spawn_app().await;
    let other = app.another_tenant().await;

    let a = app.post_web_agent(&first_contact()).await;
    let b = app
        .post_web_agent_with_key(&other.api_key, &first_contact())
        .await;

    assert_eq!(
        b.body["duplicate"], false,
        "message ids are the client's, scoped to its workspace"
    );
    assert_ne!(a.id("message_id"), b.id("message_id"));
}

#[tokio::test]
async fn concurrent_replays_of_one_message_store_it_once() {
    let app = std::sync::Arc::new(spawn_app().await);

    let tasks: Vec<_> = (0..10)
        .map(|_| {
            let app = app.clone();
            tokio::spawn(async move { app.post_web_agent(&first_contact()).await })
        })
        .collect();
    let mut responses = Vec::new();
    for task in tasks {
        responses.push(task.await.expect("task"));
    }

    assert!(responses.iter().all(|r| r.status == 200), "{responses:?}");
    let fresh = responses
        .iter()
        .filter(|r| r.body["duplicate"] == false)
        .count();
    assert_eq!(fresh, 1, "one delivery wrote, nine were replays");
    let message_ids: std::collections::HashSet<_> = responses
        .iter()
        .map(|r| r.body["message_id"].clone())
        .collect();
    assert_eq!(message_ids.len(), 1, "every answer names the same message");
    assert_eq!(app.count_in_workspace("conversations").await, 1);
    assert_eq!(app.count_in_workspace("webhook_events").await, 1);
}

// ---------------------------------------------------------------------------------------------
// Bookings and summaries
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn a_booking_update_lands_on_the_lead_and_its_session() {
    let app = spawn_app().await;
    let first = app.post_web_agent(&first_contact()).await;

    let booked = app
        .post_web_agent(&json!({
            "external_session_id": "sess-1",
            "message_id": "msg-booking",
            "booking": {"status": "confirmed", "date": "2026-12-05", "time": "11:30"},
        }))
        .await;
    let rescheduled = app
        .post_web_agent(&json!({
            "external_session_id": "sess-1",
            "booking": {"time": "16:00"},
        }))
        .await;

    assert_eq!(
        (booked.status, rescheduled.status),
        (200, 200),
        "{}",
        booked.body
    );
    let lead = app
        .row(
            "SELECT booking_status, booking_date::text, booking_time::text, unified_context -> 'web'
             FROM leads WHERE id = $1",
            &[&first.id("lead_id")],
        )
        .await;
    assert_eq!(
        lead.get::<_, Option<String>>(0).as_deref(),
        Some("confirmed"),
        "absent status kept"
    );
    assert_eq!(
        lead.get::<_, Option<String>>(1).as_deref(),
        Some("2026-12-05"),
        "absent date kept"
    );
    assert_eq!(
        lead.get::<_, Option<String>>(2).as_deref(),
        Some("16:00:00"),
        "new time"
    );
    let web: Value = lead.get(3);
    assert_eq!(
        (
            &web["booking_status"],
            &web["booking_date"],
            &web["booking_time"]
        ),
        (&json!("confirmed"), &json!("2026-12-05"), &json!("16:00"))
    );
    let session = app
        .row(
            "SELECT booking_status, booking_date::text, booking_time::text FROM web_sessions WHERE id = $1",
            &[&first.id("session_id")],
        )
        .await;
    assert_eq!(
        session.get::<_, Option<String>>(0).as_deref(),
        Some("confirmed")
    );
    assert_eq!(
        session.get::<_, Option<String>>(1).as_deref(),
        Some("2026-12-05")
    );
    assert_eq!(
        session.get::<_, Option<String>>(2).as_deref(),
        Some("16:00:00")
    );
    let reasons: Vec<String> = app
        .published_jobs()
        .into_iter()
        .filter_map(|job| match job {
            Job::ScoreLead { reason, .. } => Some(reason),
            Job::SiteRebuild { .. } => None,
        })
        .collect();
    assert_eq!(
        reasons,
        [
            "web_agent_message",
            "web_agent_booking",
            "web_agent_booking"
        ]
    );
}

#[tokio::test]
async fn a_booking_date_without_a_status_is_a_pending_booking() {
    let app = spawn_app().await;

    let response = app
        .post_web_agent(
            &json!({"phone": "9876543210", "booking": {"date": "2026-12-05", "time": "10:00"}}),
        )
        .await;

    let lead = app
        .row(
            "SELECT booking_status FROM leads WHERE id = $1",
            &[&response.id("lead_id")],
        )
        .await;
    assert_eq!(lead.get::<_, Option<String>>(0).as_deref(), Some("pending"));
}

#[tokio::test]
async fn summaries_merge_so_that_absent_fields_never_erase_stored_ones() {
    let app = spawn_app().await;
    let first = app.post_web_agent(&first_contact()).await;

    app.post_web_agent(&json!({
        "external_session_id": "sess-1",
        "conversation_summary": "Now also asked about parking",
        "user_inputs_summary": "",
        "website_url": null,
        "metadata": {"page": "/listings/2"},
    }))
    .await;

    let lead = app
        .row(
            "SELECT unified_context FROM leads WHERE id = $1",
            &[&first.id("lead_id")],
        )
        .await;
    let context: Value = lead.get(0);
    let web = &context["web"];
    assert_eq!(
        web["conversation_summary"], "Now also asked about parking",
        "a given field updates"
    );
    assert_eq!(
        web["user_inputs_summary"], "2 BHK, Baner",
        "a blank field keeps the stored value"
    );
    assert_eq!(
        web["website_url"], "https://asha.example/listings/1",
        "a null field keeps it too"
    );
    let session = app
        .row(
            "SELECT conversation_summary, user_inputs_summary, website_url, channel_data
             FROM web_sessions WHERE id = $1",
            &[&first.id("session_id")],
        )
        .await;
    assert_eq!(
        session.get::<_, Option<String>>(0).as_deref(),
        Some("Now also asked about parking")
    );
    assert_eq!(
        session.get::<_, Option<String>>(1).as_deref(),
        Some("2 BHK, Baner")
    );
    assert_eq!(
        session.get::<_, Option<String>>(2).as_deref(),
        Some("https://asha.example/listings/1")
    );
    assert_eq!(
        session.get::<_, Value>(3),
        json!({"metadata": {"utm_source": "google", "page": "/listings/2"}}),
        "metadata keys merge"
    );
}

#[tokio::test]
async fn contact_details_fill_what_is_empty_and_never_overwrite() {
    let app = spawn_app().await;
    let first = app
        .post_web_agent(&json!({"external_session_id": "s1", "phone": "9876543210"}))
        .await;

    app.post_web_agent(
        &json!({"external_session_id": "s1", "name": "Priya", "email": "p@example.com"}),
    )
    .await;
    app.post_web_agent(&json!({"external_session_id": "s1", "name": "Someone Else"}))
        .await;

    let lead = app
        .row(
            "SELECT name, email FROM leads WHERE id = $1",
            &[&first.id("lead_id")],
        )
        .await;
    assert_eq!(lead.get::<_, Option<String>>(0).as_deref(), Some("Priya"));
    assert_eq!(
        lead.get::<_, Option<String>>(1).as_deref(),
        Some("p@example.com")
    );
}

#[tokio::test]
async fn the_capturing_agent_is_recorded_once() {
    let app = spawn_app().await;
    let agent = app.tenant.agent_id;
    let second_agent: Uuid = app
        .row(
            "INSERT INTO agents (workspace_id, name) VALUES ($1, 'Second') RETURNING id",
            &[&app.tenant.workspace_id],
        )
        .await
        .get(0);

    let first = app
        .post_web_agent(&json!({"phone": "9876543210", "agent_id": agent}))
        .await;
    app.post_web_agent(&json!({"phone": "9876543210", "agent_id": second_agent}))
        .await;

    let lead = app
        .row(
            "SELECT source_agent_id FROM leads WHERE id = $1",
            &[&first.id("lead_id")],
        )
        .await;
    assert_eq!(
        lead.get::<_, Option<Uuid>>(0),
        Some(agent),
        "the first capture is the source"
    );
}

// ---------------------------------------------------------------------------------------------
// Identity: dedupe, conflicts, tenancy
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn fifty_concurrent_posts_for_one_person_make_one_lead_one_identity_per_kind_and_every_message()
 {
    let app = std::sync::Arc::new(spawn_app().await);

    let tasks: Vec<_> = (0..50)
        .map(|i| {
            let app = app.clone();
            let body = json!({
                "name": "Priya",
                "phone": PHONE_FORMATS[i % PHONE_FORMATS.len()],
                "email": if i % 2 == 0 { "priya@example.com" } else { " PRIYA@example.com " },
                "external_session_id": "sess-race",
                "message_id": format!("race-{i}"),
                "message": format!("message {i}"),
                "sender": "customer",
            });
            tokio::spawn(async move { app.post_web_agent(&body).await })
        })
        .collect();
    let mut responses = Vec::new();
    for task in tasks {
        responses.push(task.await.expect("task"));
    }

    assert!(
        responses.iter().all(|r| r.status == 200),
        "{:?}",
        responses.iter().find(|r| r.status != 200)
    );
    let leads: std::collections::HashSet<_> = responses.iter().map(|r| r.id("lead_id")).collect();
    assert_eq!(leads.len(), 1, "every post got the same lead");
    assert_eq!(
        responses
            .iter()
            .filter(|r| r.body["created"] == true)
            .count(),
        1
    );
    assert_eq!(app.count_in_workspace("leads").await, 1);
    let per_kind: Vec<(String, i64)> = app
        .rows(
            "SELECT kind, count(*) FROM lead_identities WHERE workspace_id = $1 GROUP BY kind ORDER BY kind",
            &[&app.tenant.workspace_id],
        )
        .await
        .iter()
        .map(|r| (r.get(0), r.get(1)))
        .collect();
    assert_eq!(
        per_kind,
        [
            ("email".to_owned(), 1),
            ("phone".to_owned(), 1),
            ("web_session".to_owned(), 1)
        ]
    );
    assert_eq!(app.count_in_workspace("conversations").await, 50);
    assert_eq!(app.count_in_workspace("web_sessions").await, 1);
    let counters = app
        .row(
            "SELECT s.message_count, u.conversations, u.messages
             FROM web_sessions s JOIN workspace_period_usage u USING (workspace_id)
             WHERE s.workspace_id = $1",
            &[&app.tenant.workspace_id],
        )
        .await;
    assert_eq!(
        (
            counters.get::<_, i32>(0),
            counters.get::<_, i32>(1),
            counters.get::<_, i32>(2)
        ),
        (50, 1, 50),
        "session messages, usage conversations, usage messages"
    );
}

#[tokio::test]
async fn identities_of_two_leads_keep_the_phone_lead_and_record_the_conflict_without_merging() {
    let app = spawn_app().await;
    let by_email = app
        .post_web_agent(&json!({"email": "priya@example.com", "external_session_id": "s-email"}))
        .await;
    let by_phone = app
        .post_web_agent(&json!({"phone": "9876543210", "external_session_id": "s-phone"}))
        .await;

    let both = app
        .post_web_agent(&json!({
            "phone": "+91 98765 43210",
            "email": "priya@example.com",
            "external_session_id": "s-email",
            "message": "it's me again",
            "sender": "customer",
        }))
        .await;

    assert_eq!(both.status, 200, "{}", both.body);
    assert_eq!(
        both.id("lead_id"),
        by_phone.id("lead_id"),
        "phone is the strongest identity"
    );
    assert_eq!(app.count_in_workspace("leads").await, 2, "not merged");
    let email_owner = app
        .row(
            "SELECT lead_id FROM lead_identities WHERE kind = 'email'",
            &[],
        )
        .await;
    assert_eq!(
        email_owner.get::<_, Uuid>(0),
        by_email.id("lead_id"),
        "the email stays with its lead"
    );
    let kept = app
        .row(
            "SELECT email FROM leads WHERE id = $1",
            &[&by_phone.id("lead_id")],
        )
        .await;
    assert_eq!(
        kept.get::<_, Option<String>>(0),
        None,
        "the other lead's email is not copied over"
    );
    let session_owner = app
        .row(
            "SELECT lead_id FROM web_sessions WHERE external_session_id = 's-email'",
            &[],
        )
        .await;
    assert_eq!(
        session_owner.get::<_, Uuid>(0),
        by_email.id("lead_id"),
        "the session is not moved"
    );
    let audit = app
        .row(
            "SELECT entity_id, data FROM audit_logs WHERE event_type = 'lead.identity_conflict'",
            &[],
        )
        .await;
    assert_eq!(audit.get::<_, Uuid>(0), by_phone.id("lead_id"));
    let data: Value = audit.get(1);
    assert_eq!(data["other_lead_ids"], json!([by_email.id("lead_id")]));
    assert!(
        !data.to_string().contains("priya"),
        "no personal data in the audit row"
    );
}

#[tokio::test]
async fn a_lead_another_channel_stored_with_only_a_phone_column_is_found_by_that_phone() {
    let app = spawn_app().await;
    // As a channel might leave it: phone_e164 set, but no 'phone' identity.
    let existing: Uuid = app
        .row(
            "INSERT INTO leads (workspace_id, phone_e164, first_touchpoint, last_touchpoint)
             VALUES ($1, $2, 'whatsapp', 'whatsapp') RETURNING id",
            &[&app.tenant.workspace_id, &PHONE_E164],
        )
        .await
        .get(0);

    let response = app
        .post_web_agent(&json!({"phone": "98765 43210", "external_session_id": "s"}))
        .await;

    assert_eq!(response.status, 200, "{}", response.body);
    assert_eq!(response.id("lead_id"), existing);
    assert_eq!(response.body["created"], false);
    let first_touchpoint = app
        .row(
            "SELECT first_touchpoint, last_touchpoint FROM leads WHERE id = $1",
            &[&existing],
        )
        .await;
    assert_eq!(
        first_touchpoint.get::<_, String>(0),
        "whatsapp",
        "first touchpoint only on creation"
    );
    assert_eq!(first_touchpoint.get::<_, String>(1), "web");
}

#[tokio::test]
async fn workspace_b_gets_its_own_lead_for_the_same_phone_and_cannot_touch_workspace_a() {
    let app = spawn_app().await;
    let b = app.another_tenant().await;
    let in_a = app.post_web_agent(&first_contact()).await;
    let a_before = app.footprint().await;

    let in_b = app
        .post_web_agent_with_key(
            &b.api_key,
            &json!({
                "name": "Impostor",
                "phone": "9876543210",
                "email": "priya.sharma@example.com",
                "external_session_id": "sess-1",
                "message_id": "msg-b",
                "message": "hello from B",
                "sender": "customer",
            }),
        )
        .await;
    let session_only = app
        .post_web_agent_with_key(
            &b.api_key,
            &json!({"external_session_id": "sess-1-only-in-a"}),
        )
        .await;
    app.post_web_agent(&json!({"external_session_id": "sess-1-only-in-a", "phone": "9876543210"}))
        .await;
    let probe = app
        .post_web_agent_with_key(&b.api_key, &json!({"external_session_id": "sess-1-only-in-a", "message": "x", "sender": "customer"}))
        .await;

    assert_eq!(in_b.status, 200, "{}", in_b.body);
    assert_eq!(in_b.body["created"], true, "B's own lead");
    assert_ne!(in_b.id("lead_id"), in_a.id("lead_id"));
    assert_ne!(
        in_b.id("session_id"),
        in_a.id("session_id"),
        "session ids are per workspace too"
    );
    assert_eq!(session_only.status, 422, "A's session means nothing to B");
    assert_eq!(probe.status, 422, "not even once A has linked it");
    let a_lead = app
        .row(
            "SELECT name, workspace_id FROM leads WHERE id = $1",
            &[&in_a.id("lead_id")],
        )
        .await;
    assert_eq!(
        a_lead.get::<_, Option<String>>(0).as_deref(),
        Some("Priya Sharma"),
        "A's lead untouched"
    );
    assert_eq!(app.count_in("leads", b.workspace_id).await, 1);
    assert_eq!(app.count_in("conversations", b.workspace_id).await, 1);
    let a_messages = app.count_in_workspace("conversations").await;
    assert_eq!(a_messages, a_before.messages, "nothing of B's landed in A");
}

#[tokio::test]
async fn an_agent_of_another_workspace_is_refused_naming_agent_id() {
    let app = spawn_app().await;
    let b = app.another_tenant().await;
    let before = app.footprint().await;

    let response = app
        .post_web_agent(&json!({"phone": "9876543210", "agent_id": b.agent_id, "message_id": "m", "message": "hi", "sender": "customer"}))
        .await;

    assert_eq!(response.status, 422);
    assert_eq!(response.error_fields(), ["agent_id"]);
    assert_eq!(
        app.footprint().await,
        before,
        "nothing written, not even the journal"
    );
    // The message id was not used up: the corrected delivery goes through.
    let fixed = app
        .post_web_agent(&json!({"phone": "9876543210", "agent_id": app.tenant.agent_id, "message_id": "m", "message": "hi", "sender": "customer"}))
        .await;
    assert_eq!(
        (fixed.status, &fixed.body["duplicate"]),
        (200, &json!(false))
    );
}

// ---------------------------------------------------------------------------------------------
// Usage
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn a_workspace_over_its_limit_is_told_but_its_leads_are_never_refused() {
    let app = TestApp::builder().conversation_limit(1).spawn().await;

    let first = app
        .post_web_agent(&json!({"phone": "9876543210", "external_session_id": "s1"}))
        .await;
    let second = app
        .post_web_agent(&json!({"phone": "9812345678", "external_session_id": "s2"}))
        .await;

    assert_eq!(
        first.body["usage"],
        json!({"conversations": 1, "limit": 1, "over_limit": false})
    );
    assert_eq!(second.status, 200);
    assert_eq!(
        second.body["usage"],
        json!({"conversations": 2, "limit": 1, "over_limit": true})
    );
    assert_eq!(app.count_in_workspace("leads").await, 2);
}

// ---------------------------------------------------------------------------------------------
// Intents
// ---------------------------------------------------------------------------------------------

/// (sender, message, expected (intent, matched keyword) rows, why).
type IntentCase<'a> = (&'a str, &'a str, &'a [(&'a str, &'a str)], &'a str);

#[tokio::test]
async fn intents_in_customer_messages_are_logged_in_english_hindi_and_spanish() {
    let app = spawn_app().await;
    #[rustfmt::skip]
    let cases: &[IntentCase] = &[
        ("customer", "What is the price of the 3 BHK? Is it still available?",
            &[("pricing", "what is the price"), ("availability", "still available")], "English"),
        ("customer", "Please call me back, I want to book a site visit",
            &[("booking", "want to book"), ("site_visit", "site visit"), ("human_handoff", "please call")],
            "English, three intents; the leftmost phrase takes its words"),
        ("customer", "flat ka rate kya hai? site visit karna hai",
            &[("site_visit", "site visit karna hai"), ("pricing", "rate kya hai")], "Hindi in Latin script"),
        ("customer", "bahut mehenga hai, abhi nahi",
            &[("objection", "bahut mehenga")], "Hindi objection"),
        ("customer", "¿Cuánto cuesta? Quiero agendar una visita",
            &[("site_visit", "agendar una visita"), ("pricing", "cuanto cuesta")], "Spanish with accents"),
        ("customer", "No me interesa, gracias",
            &[("objection", "no me interesa")], "Spanish objection"),
        ("customer", "ok thanks", &[], "nothing to detect"),
        ("agent",    "The price is 85 lakh. Would you like to book a visit?", &[], "the bot's words are not the customer's intent"),
    ];

    for (i, (sender, text, want, why)) in cases.iter().enumerate() {
        let response = app
            .post_web_agent(&json!({"phone": "9876543210", "message_id": format!("intent-{i}"), "message": text, "sender": sender}))
            .await;
        assert_eq!(response.status, 200, "case {why}: {}", response.body);
        let message_id = response.id("message_id");
        let mut got: Vec<(String, String)> = app
            .rows(
                "SELECT intent, matched FROM lead_intents_log WHERE conversation_id = $1",
                &[&message_id],
            )
            .await
            .iter()
            .map(|r| (r.get(0), r.get(1)))
            .collect();
        got.sort();
        let mut want: Vec<(String, String)> = want
            .iter()
            .map(|(i, m)| ((*i).to_owned(), (*m).to_owned()))
            .collect();
        want.sort();
        assert_eq!(got, want, "case {why}: {text:?}");
    }
    let all_on_the_lead = app
        .count(
            "SELECT count(*) FROM lead_intents_log i JOIN leads l ON l.id = i.lead_id WHERE l.workspace_id = $1",
            &[&app.tenant.workspace_id],
        )
        .await;
    assert_eq!(all_on_the_lead, 11, "every hit is a row on the lead");
}

// ---------------------------------------------------------------------------------------------
// Bad input and credentials
// ---------------------------------------------------------------------------------------------

/// (Authorization, Content-Type, body, expected status, expected error fields, why).
type BadRequest<'a> = (
    Option<&'a str>,
    Option<&'a str>,
    String,
    u16,
    &'a [&'a str],
    &'a str,
);

#[tokio::test]
async fn bad_requests_are_refused_with_the_documented_status_and_write_nothing() {
    let app = spawn_app().await;
    let key = format!("Bearer {}", app.tenant.api_key);
    let json_ct = Some("application/json");
    let over_limit = format!(
        "{{\"phone\":\"9876543210\",\"message\":\"{}\"}}",
        "x".repeat(256 * 1024)
    );
    #[rustfmt::skip]
    let cases: Vec<BadRequest> = vec![
        (Some(&key), json_ct, "{\"phone\": ".into(),                      400, &[], "malformed JSON"),
        (Some(&key), Some("text/plain"), "{\"phone\":\"9876543210\"}".into(), 415, &[], "not JSON"),
        (Some(&key), None, "{\"phone\":\"9876543210\"}".into(),           415, &[], "no content type"),
        (Some(&key), json_ct, over_limit.clone(),                          413, &[], "over 256 KiB"),
        (None, json_ct, over_limit,                                        413, &[], "over 256 KiB is refused before anything else"),
        (None, json_ct, "{\"phone\":\"9876543210\"}".into(),              401, &[], "no Authorization header"),
        (Some("Basic dXNlcjpwYXNz"), json_ct, "{\"phone\":\"9876543210\"}".into(), 401, &[], "not a bearer token"),
        (Some("Bearer "), json_ct, "{\"phone\":\"9876543210\"}".into(),   401, &[], "an empty token"),
        (Some("Bearer le_test_nobody"), json_ct, "{\"phone\":\"9876543210\"}".into(), 401, &[], "an unknown key"),
        (Some(&key), json_ct, "[1, 2]".into(),                             422, &["body"], "not an object"),
        (Some(&key), json_ct, "{\"phone\":\"+91 98765 4321\"}".into(),    422, &["phone"], "an impossible number"),
        (Some(&key), json_ct, "{\"phone\":\"5555555555\"}".into(),        422, &["phone"], "an unassigned range"),
        (Some(&key), json_ct, "{\"email\":\"priya@\"}".into(),            422, &["email"], "an impossible email"),
        (Some(&key), json_ct, "{\"name\":\"Priya\",\"message\":\"hi\",\"sender\":\"customer\"}".into(),
                                                      422, &["phone", "email", "external_session_id"], "nobody identified"),
        (Some(&key), json_ct, "{\"external_session_id\":\"never-seen\",\"message\":\"hi\",\"sender\":\"customer\"}".into(),
                                                      422, &["phone", "email"], "a session linked to no lead"),
        (Some(&key), json_ct, "{\"phone\":\"9876543210\",\"agent_id\":\"00000000-0000-4000-8000-000000000999\"}".into(),
                                                      422, &["agent_id"], "an unknown agent"),
        (Some(&key), json_ct, "{\"phone\":\"9876543210\",\"agent_id\":\"agent-7\"}".into(),
                                                      422, &["agent_id"], "an agent id that is no UUID"),
        (Some(&key), json_ct, "{\"phone\":\"9876543210\",\"message\":\"hi\",\"sender\":\"bot\"}".into(),
                                                      422, &["sender"], "an unknown sender"),
        (Some(&key), json_ct, "{\"phone\":\"9876543210\",\"message\":\"hi\"}".into(),
                                                      422, &["sender"], "a message without sender"),
        (Some(&key), json_ct, "{\"phone\":\"9876543210\",\"booking\":{\"status\":\"maybe\",\"date\":\"5/12/26\",\"time\":\"7pm\"}}".into(),
                                                      422, &["booking.status", "booking.date", "booking.time"], "a bad booking"),
        (Some(&key), json_ct, format!("{{\"phone\":\"12\",\"message_id\":\"{}\",\"external_session_id\":\"{}\"}}", "m".repeat(201), "s".repeat(201)),
                                                      422, &["phone", "external_session_id", "message_id"], "every bad field at once"),
        (Some(&key), json_ct, "{\"phone\":\"9876543210\",\"metadata\":{\"note\":\"a\\u0000b\"}}".into(),
                                                      422, &["metadata"], "a NUL PostgreSQL cannot store"),
    ];
    let before = app.footprint().await;

    for (authorization, content_type, body, status, fields, why) in cases {
        let response = app
            .post_web_agent_raw(authorization, content_type, body)
            .await;
        assert_eq!(response.status, status, "case {why}: {}", response.body);
        assert_eq!(
            response.content_type, "application/problem+json",
            "case {why}"
        );
        assert_eq!(response.body["status"], status, "case {why}");
        assert_eq!(response.error_fields(), fields, "case {why}");
    }
    assert_eq!(
        app.footprint().await,
        before,
        "no refused request wrote anything"
    );
    assert!(app.published_jobs().is_empty());
}

#[tokio::test]
async fn a_problem_never_echoes_personal_data() {
    let app = spawn_app().await;

    let response = app
        .post_web_agent(
            &json!({"name": "Priya\u{7}", "phone": "+91 98765 4321", "email": "priya@"}),
        )
        .await;

    assert_eq!(response.status, 422);
    let text = response.body.to_string();
    for secret in ["Priya", "priya", "98765"] {
        assert!(!text.contains(secret), "{secret} in {text}");
    }
}

#[tokio::test]
async fn a_revoked_key_is_refused_like_an_unknown_one() {
    let app = spawn_app().await;
    assert_eq!(
        app.post_web_agent(&first_contact()).await.status,
        200,
        "the key works before"
    );
    let client = app.test_db.client().await;
    fixtures::revoke_api_key(&client, &app.tenant).await;
    let before = app.footprint().await;

    let response = app.post_web_agent(&json!({"phone": "9812345678"})).await;

    assert_eq!(response.status, 401);
    assert_eq!(response.body["detail"], "unknown or revoked API key");
    assert_eq!(app.footprint().await, before);
}

#[tokio::test]
async fn a_key_is_marked_used_at_most_once_a_minute() {
    let app = spawn_app().await;
    let last_used = || async {
        app.row(
            "SELECT last_used_at FROM api_keys WHERE workspace_id = $1",
            &[&app.tenant.workspace_id],
        )
        .await
        .get::<_, Option<std::time::SystemTime>>(0)
    };
    assert_eq!(last_used().await, None);

    app.post_web_agent(&json!({"phone": "9876543210"})).await;
    let first = last_used().await.expect("set on first use");
    app.post_web_agent(&json!({"phone": "9876543210"})).await;
    assert_eq!(
        last_used().await,
        Some(first),
        "not rewritten within the minute"
    );

    app.execute(
        "UPDATE api_keys SET last_used_at = now() - interval '2 minutes' WHERE workspace_id = $1",
        &[&app.tenant.workspace_id],
    )
    .await;
    app.post_web_agent(&json!({"phone": "9876543210"})).await;
    assert!(last_used().await > Some(first), "refreshed once stale");
}

#[tokio::test]
async fn only_post_is_accepted() {
    let app = spawn_app().await;
    let mut get = request(Some(&format!("Bearer {}", app.tenant.api_key)), None, "");
    *get.method_mut() = http::Method::GET;

    let response = app.send(get).await;

    assert_eq!(response.status, 405);
}

// ---------------------------------------------------------------------------------------------
// The sample event
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn the_sample_api_gateway_event_runs_through_the_handler() {
    let app = spawn_app().await;
    // The local stack's demo key and agent, in this test's workspace.
    let demo_key_hash = fixtures_sha256("le_local_demo_key_change_me");
    app.execute(
        "INSERT INTO api_keys (workspace_id, key_sha256, prefix, label) VALUES ($1, $2, 'le_local', 'demo');
         ",
        &[&app.tenant.workspace_id, &demo_key_hash],
    )
    .await;
    app.execute(
        "INSERT INTO agents (id, workspace_id, name) VALUES ('00000000-0000-4000-8000-00000000a001', $1, 'Asha Verma')",
        &[&app.tenant.workspace_id],
    )
    .await;
    let event = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../events/web-agent-post.json"
    ))
    .expect("the sample event exists");
    let request = lambda_http::request::from_str(&event).expect("a valid API Gateway v2 event");

    let response = app.send(request).await;

    assert_eq!(response.status, 200, "{}", response.body);
    assert_eq!(response.body["created"], true);
    let lead = app
        .row(
            "SELECT phone_e164, booking_status, source_agent_id::text FROM leads WHERE id = $1",
            &[&response.id("lead_id")],
        )
        .await;
    assert_eq!(
        lead.get::<_, Option<String>>(0).as_deref(),
        Some(PHONE_E164)
    );
    assert_eq!(lead.get::<_, Option<String>>(1).as_deref(), Some("pending"));
    assert_eq!(
        lead.get::<_, Option<String>>(2).as_deref(),
        Some("00000000-0000-4000-8000-00000000a001")
    );
    let intents: Vec<String> = app
        .rows(
            "SELECT intent FROM lead_intents_log WHERE conversation_id = $1 ORDER BY intent",
            &[&response.id("message_id")],
        )
        .await
        .iter()
        .map(|r| r.get(0))
        .collect();
    assert_eq!(intents, ["availability", "pricing"]);
}

fn fixtures_sha256(key: &str) -> Vec<u8> {
    store::api_keys::key_sha256(key).to_vec()
}
