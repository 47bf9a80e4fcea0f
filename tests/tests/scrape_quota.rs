//! POST, GET /agents/{agent_id}/scrape-quota end to end: through the handler, against real
//! PostgreSQL, with the clock pinned per request.
//!
//! Each test has a database of its own (cloned from the migrated template) with one tenant:
//! workspace A in `Asia/Kolkata` on a plan of 30 scrapes a day, with an API key and an agent.

use chrono::{DateTime, TimeDelta, TimeZone, Utc};
use lead_engine_tests::fixtures::{self, Sql};
use lead_engine_tests::scrape_quota::request;
use lead_engine_tests::spawn_app;
use serde_json::json;
use std::sync::Arc;

fn utc(y: i32, mo: u32, d: u32, h: u32, mi: u32, s: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(y, mo, d, h, mi, s)
        .single()
        .expect("a valid instant")
}

/// 10:00 in Kolkata (04:30 UTC) on an ordinary day: the next midnight there is 18:30 UTC.
fn morning() -> DateTime<Utc> {
    utc(2026, 3, 10, 4, 30, 0)
}

fn retry_after(response: &lead_engine_tests::response::TestResponse) -> u64 {
    response
        .header("retry-after")
        .and_then(|v| v.parse().ok())
        .unwrap_or_else(|| panic!("a Retry-After in whole seconds: {:?}", response.headers))
}

// ---------------------------------------------------------------------------------------------
// Consuming
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn a_first_consume_creates_the_window_and_answers_what_remains() {
    let app = spawn_app().await;

    let response = app.post_scrape_units(3, morning()).await;

    assert_eq!(response.status, 200, "{}", response.body);
    assert_eq!(response.content_type, "application/json");
    assert_eq!(
        response.body,
        json!({
            "agent_id": app.tenant.agent_id,
            "daily_limit": 30,
            "used_today": 3,
            "remaining": 27,
            "reset_at": "2026-03-10T18:30:00Z",
        })
    );
    let stored = app
        .stored_scrape_quota(app.tenant.agent_id)
        .await
        .expect("a row");
    assert_eq!(stored.daily_limit, None, "a new row follows the plan");
    assert_eq!(stored.used_today, 3);
}

// Several worker threads, so the requests really run at once and not only interleave.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn forty_concurrent_consumes_against_a_limit_of_ten_grant_exactly_ten() {
    let app = Arc::new(spawn_app().await);
    app.set_plan_scrape_limit(10).await;

    let requests: Vec<_> = (0..40)
        .map(|_| {
            let app = app.clone();
            tokio::spawn(async move { app.post_scrape_units(1, morning()).await.status })
        })
        .collect();
    let mut statuses = Vec::new();
    for request in requests {
        statuses.push(request.await.expect("a request task"));
    }

    let granted = statuses.iter().filter(|s| **s == 200).count();
    let refused = statuses.iter().filter(|s| **s == 429).count();
    assert_eq!((granted, refused), (10, 30), "{statuses:?}");
    let stored = app
        .stored_scrape_quota(app.tenant.agent_id)
        .await
        .expect("a row");
    assert_eq!(stored.used_today, 10);
}

// The restart and the consume are one statement: requests racing into a new day restart the
// window once between them, never once each.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn forty_concurrent_consumes_on_a_new_day_restart_the_window_once_and_grant_ten() {
    let app = Arc::new(spawn_app().await);
    app.set_plan_scrape_limit(10).await;
    assert_eq!(app.post_scrape_units(10, morning()).await.status, 200);
    let next_morning = morning() + TimeDelta::days(1);

    let requests: Vec<_> = (0..40)
        .map(|_| {
            let app = app.clone();
            tokio::spawn(async move { app.post_scrape_units(1, next_morning).await.status })
        })
        .collect();
    let mut granted = 0;
    for request in requests {
        granted += usize::from(request.await.expect("a request task") == 200);
    }

    assert_eq!(granted, 10);
    let stored = app
        .stored_scrape_quota(app.tenant.agent_id)
        .await
        .expect("a row");
    assert_eq!(
        (stored.used_today, stored.reset_at),
        (10, utc(2026, 3, 11, 18, 30, 0))
    );
}

#[tokio::test]
async fn units_beyond_what_remains_are_refused_with_retry_after_and_consume_nothing() {
    let app = spawn_app().await;
    app.set_plan_scrape_limit(10).await;
    assert_eq!(app.post_scrape_units(7, morning()).await.status, 200);

    let refused = app.post_scrape_units(4, morning()).await;

    assert_eq!(refused.status, 429, "{}", refused.body);
    assert_eq!(refused.content_type, "application/problem+json");
    assert_eq!(refused.body["status"], 429);
    // 04:30 UTC to 18:30 UTC.
    assert_eq!(retry_after(&refused), 14 * 3600);
    assert_eq!(
        app.stored_scrape_quota(app.tenant.agent_id)
            .await
            .unwrap()
            .used_today,
        7
    );

    let rest = app.post_scrape_units(3, morning()).await;
    assert_eq!(rest.status, 200, "what remains can still be taken");
    assert_eq!(
        (
            rest.body["used_today"].clone(),
            rest.body["remaining"].clone()
        ),
        (json!(10), json!(0))
    );
}

#[tokio::test]
async fn the_window_restarts_once_reset_at_has_passed() {
    let app = spawn_app().await;
    app.set_plan_scrape_limit(2).await;
    assert_eq!(app.post_scrape_units(2, morning()).await.status, 200);
    let reset_at = utc(2026, 3, 10, 18, 30, 0);
    let just_before = reset_at - TimeDelta::milliseconds(1);
    let refused = app.post_scrape_units(1, just_before).await;
    assert_eq!(refused.status, 429);
    assert_eq!(retry_after(&refused), 1, "rounded up, never 0");

    let response = app.post_scrape_units(1, reset_at).await;

    assert_eq!(response.status, 200, "{}", response.body);
    assert_eq!(response.body["used_today"], 1);
    assert_eq!(response.body["remaining"], 1);
    assert_eq!(response.body["reset_at"], "2026-03-11T18:30:00Z");
}

#[tokio::test]
async fn an_empty_body_or_an_empty_object_consumes_one_unit() {
    let app = spawn_app().await;
    let agent = app.tenant.agent_id.to_string();
    let key = Some(app.tenant.api_key.as_str());

    let no_body = app
        .post_scrape_quota_raw(&agent, key, None, morning())
        .await;
    let empty_object = app
        .post_scrape_quota_raw(&agent, key, Some("{}".into()), morning())
        .await;

    assert_eq!(no_body.status, 200, "{}", no_body.body);
    assert_eq!(no_body.body["used_today"], 1);
    assert_eq!(empty_object.status, 200, "{}", empty_object.body);
    assert_eq!(empty_object.body["used_today"], 2);
}

// ---------------------------------------------------------------------------------------------
// Midnight is the workspace's
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn in_kolkata_the_window_ends_at_midnight_india_time() {
    let app = spawn_app().await;
    app.set_timezone("Asia/Kolkata").await;
    app.set_plan_scrape_limit(1).await;
    // 23:59:59 on 10 March in Kolkata.
    let last_second = utc(2026, 3, 10, 18, 29, 59);

    let first = app.post_scrape_units(1, last_second).await;
    let refused = app.post_scrape_units(1, last_second).await;
    let next_day = app.post_scrape_units(1, utc(2026, 3, 10, 18, 30, 0)).await;

    assert_eq!(first.body["reset_at"], "2026-03-10T18:30:00Z");
    assert_eq!(refused.status, 429);
    assert_eq!(retry_after(&refused), 1);
    assert_eq!(next_day.status, 200, "{}", next_day.body);
    assert_eq!(next_day.body["reset_at"], "2026-03-11T18:30:00Z");
}

#[tokio::test]
async fn in_new_york_the_window_ends_at_local_midnight_across_the_dst_change() {
    let app = spawn_app().await;
    app.set_timezone("America/New_York").await;
    app.set_plan_scrape_limit(1).await;
    // 23:30 EST on Saturday 7 March 2026; clocks go forward at 02:00 on Sunday 8 March.
    let saturday_night = utc(2026, 3, 8, 4, 30, 0);

    let saturday = app.post_scrape_units(1, saturday_night).await;
    let refused = app.post_scrape_units(1, saturday_night).await;
    let sunday = app.post_scrape_units(1, utc(2026, 3, 8, 5, 0, 0)).await;

    assert_eq!(
        saturday.body["reset_at"], "2026-03-08T05:00:00Z",
        "midnight EST"
    );
    assert_eq!(retry_after(&refused), 1800);
    assert_eq!(sunday.status, 200, "{}", sunday.body);
    assert_eq!(
        sunday.body["reset_at"], "2026-03-09T04:00:00Z",
        "midnight EDT: Sunday has 23 hours"
    );
}

// ---------------------------------------------------------------------------------------------
// The limit
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn the_limit_is_the_plans_then_the_subscriptions_and_an_override_wins() {
    let app = spawn_app().await;
    app.set_plan_scrape_limit(12).await;
    let limit = async || app.get_scrape_quota(morning()).await.body["daily_limit"].clone();

    assert_eq!(limit().await, 12, "the workspace's plan");

    app.subscribe_with_scrape_limit(50, "past_due").await;
    assert_eq!(
        limit().await,
        50,
        "the subscription's plan while Stripe retries"
    );

    app.execute(
        "UPDATE workspace_subscriptions SET status = 'canceled' WHERE workspace_id = $1",
        &[&app.tenant.workspace_id],
    )
    .await;
    assert_eq!(limit().await, 12, "back to the workspace's plan");

    app.set_scrape_override(Some(3)).await;
    assert_eq!(limit().await, 3, "the agent's override");
    assert_eq!(app.post_scrape_units(4, morning()).await.status, 429);
    assert_eq!(app.post_scrape_units(3, morning()).await.status, 200);

    app.set_scrape_override(None).await;
    assert_eq!(limit().await, 12, "NULL follows the plan again");
}

// ---------------------------------------------------------------------------------------------
// Reading
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn get_reads_the_window_without_consuming_or_writing() {
    let app = spawn_app().await;

    let before_any_use = app.get_scrape_quota(morning()).await;
    assert_eq!(before_any_use.status, 200, "{}", before_any_use.body);
    assert_eq!(before_any_use.body["used_today"], 0);
    assert_eq!(before_any_use.body["remaining"], 30);
    assert_eq!(before_any_use.body["reset_at"], "2026-03-10T18:30:00Z");
    assert_eq!(
        app.stored_scrape_quota(app.tenant.agent_id).await,
        None,
        "no row"
    );

    app.post_scrape_units(5, morning()).await;
    let first = app.get_scrape_quota(morning()).await;
    let second = app.get_scrape_quota(morning()).await;
    assert_eq!(first.body, second.body);
    assert_eq!(first.body["used_today"], 5);

    let tomorrow = app.get_scrape_quota(utc(2026, 3, 11, 4, 30, 0)).await;
    assert_eq!(
        tomorrow.body["used_today"], 0,
        "an expired window reads as restarted"
    );
    assert_eq!(tomorrow.body["reset_at"], "2026-03-11T18:30:00Z");
    let stored = app.stored_scrape_quota(app.tenant.agent_id).await.unwrap();
    assert_eq!(
        (stored.used_today, stored.reset_at),
        (5, utc(2026, 3, 10, 18, 30, 0)),
        "reading wrote nothing"
    );
}

// ---------------------------------------------------------------------------------------------
// Who may ask, about which agent
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn another_workspaces_key_gets_404_and_consumes_nothing() {
    let app = spawn_app().await;
    let other = app.another_tenant().await;
    let agent = app.tenant.agent_id.to_string();

    let post = app
        .post_scrape_quota_raw(
            &agent,
            Some(&other.api_key),
            Some(r#"{"units": 1}"#.into()),
            morning(),
        )
        .await;
    let get = app
        .send_at(
            request("GET", &agent, Some(&other.api_key), None),
            morning(),
        )
        .await;

    assert_eq!(post.status, 404, "{}", post.body);
    assert_eq!(get.status, 404, "{}", get.body);
    assert_eq!(post.content_type, "application/problem+json");
    assert_eq!(app.stored_scrape_quota(app.tenant.agent_id).await, None);
}

#[tokio::test]
async fn unknown_and_malformed_agent_ids_are_404() {
    let app = spawn_app().await;
    let key = Some(app.tenant.api_key.as_str());

    for agent in [
        uuid::Uuid::new_v4().to_string(),
        "not-a-uuid".into(),
        "%20".into(),
    ] {
        let response = app
            .post_scrape_quota_raw(&agent, key, None, morning())
            .await;
        assert_eq!(response.status, 404, "{agent}: {}", response.body);
    }
}

#[tokio::test]
async fn no_key_a_wrong_key_or_a_revoked_key_is_401() {
    let app = spawn_app().await;
    let agent = app.tenant.agent_id.to_string();

    let none = app
        .post_scrape_quota_raw(&agent, None, None, morning())
        .await;
    let wrong = app
        .post_scrape_quota_raw(&agent, Some("le_wrong"), None, morning())
        .await;
    {
        let client = app.test_db.client().await;
        fixtures::revoke_api_key(&client, &app.tenant).await;
    }
    let revoked = app
        .post_scrape_quota_raw(&agent, Some(&app.tenant.api_key), None, morning())
        .await;

    for (name, response) in [("none", none), ("wrong", wrong), ("revoked", revoked)] {
        assert_eq!(response.status, 401, "{name}: {}", response.body);
    }
    assert_eq!(app.stored_scrape_quota(app.tenant.agent_id).await, None);
}

// ---------------------------------------------------------------------------------------------
// The body
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn each_bad_units_is_a_422_naming_units() {
    let app = spawn_app().await;
    let agent = app.tenant.agent_id.to_string();
    let key = Some(app.tenant.api_key.as_str());

    for units in ["0", "-1", "1.5", "\"3\"", "1001", "1e20", "null"] {
        let body = format!(r#"{{"units": {units}}}"#);
        let response = app
            .post_scrape_quota_raw(&agent, key, Some(body), morning())
            .await;
        assert_eq!(response.status, 422, "{units}: {}", response.body);
        assert_eq!(response.error_fields(), ["units"], "{units}");
    }
    assert_eq!(app.stored_scrape_quota(app.tenant.agent_id).await, None);
}

#[tokio::test]
async fn malformed_json_is_400_and_a_non_json_body_is_415() {
    let app = spawn_app().await;
    let agent = app.tenant.agent_id.to_string();

    let malformed = app
        .post_scrape_quota_raw(
            &agent,
            Some(&app.tenant.api_key),
            Some(r#"{"units": "#.into()),
            morning(),
        )
        .await;
    let mut text = request(
        "POST",
        &agent,
        Some(&app.tenant.api_key),
        Some("units=1".into()),
    );
    text.headers_mut()
        .insert("content-type", http::HeaderValue::from_static("text/plain"));
    let text = app.send_at(text, morning()).await;

    assert_eq!(malformed.status, 400, "{}", malformed.body);
    assert_eq!(text.status, 415, "{}", text.body);
    assert_eq!(app.stored_scrape_quota(app.tenant.agent_id).await, None);
}

// ---------------------------------------------------------------------------------------------
// The sample event
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn the_sample_api_gateway_event_runs_through_the_handler() {
    let app = spawn_app().await;
    // The local stack's demo key and agent, in this test's workspace.
    let demo_key_hash = store::api_keys::key_sha256("le_local_demo_key_change_me").to_vec();
    app.execute(
        "INSERT INTO api_keys (workspace_id, key_sha256, prefix, label) VALUES ($1, $2, 'le_local', 'demo')",
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
        "/../events/scrape-quota-post.json"
    ))
    .expect("the sample event exists");
    let request = lambda_http::request::from_str(&event).expect("a valid API Gateway v2 event");

    let response = app.send_at(request, morning()).await;

    assert_eq!(response.status, 200, "{}", response.body);
    assert_eq!(
        response.body["agent_id"],
        "00000000-0000-4000-8000-00000000a001"
    );
    assert_eq!(response.body["used_today"], 3);
}
