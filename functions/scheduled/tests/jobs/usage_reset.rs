//! `usage_reset`: every workspace has its usage row for the current period, ended scrape-quota
//! windows restart, and nothing that was counted changes.

use crate::support::{World, at};
use chrono::{DateTime, Utc};
use scheduled::ScheduledJob;
use uuid::Uuid;

const NOW: &str = "2026-11-21T03:00:00Z";

async fn usage_periods(world: &World, workspace: Uuid) -> Vec<(DateTime<Utc>, DateTime<Utc>)> {
    world
        .test
        .client()
        .await
        .query(
            "SELECT period_start, period_end FROM workspace_usage WHERE workspace_id = $1
             ORDER BY period_start",
            &[&workspace],
        )
        .await
        .expect("usage rows")
        .iter()
        .map(|row| (row.get(0), row.get(1)))
        .collect()
}

/// What metering's own period function says for `workspace` at `now`.
async fn metering_period(
    world: &World,
    workspace: Uuid,
    now: &str,
) -> (DateTime<Utc>, DateTime<Utc>) {
    let row = world
        .test
        .client()
        .await
        .query_one(
            "SELECT period_start, period_end FROM usage_period($1, $2)",
            &[&workspace, &at(now)],
        )
        .await
        .expect("usage_period");
    (row.get(0), row.get(1))
}

/// An agent with a scrape quota that counted `used` in a window ending at `reset_at`.
async fn quota(world: &World, workspace: Uuid, used: i32, reset_at: &str) -> Uuid {
    let agent = world.agent(workspace).await;
    world
        .test
        .client()
        .await
        .execute(
            "INSERT INTO agent_scrape_quotas (agent_id, used_today, reset_at) VALUES ($1, $2, $3)",
            &[&agent, &used, &at(reset_at)],
        )
        .await
        .expect("arrange a quota");
    agent
}

async fn quota_state(world: &World, agent: Uuid) -> (i32, DateTime<Utc>) {
    let row = world
        .test
        .client()
        .await
        .query_one(
            "SELECT used_today, reset_at FROM agent_scrape_quotas WHERE agent_id = $1",
            &[&agent],
        )
        .await
        .expect("the quota");
    (row.get(0), row.get(1))
}

#[tokio::test]
async fn every_workspace_gets_its_usage_row_for_the_period_metering_uses() {
    let world = World::new().await;
    let first = world.workspace("UTC").await;
    let second = world.workspace("Asia/Kolkata").await;

    world.run(ScheduledJob::UsageReset, NOW).await;

    for workspace in [first, second] {
        assert_eq!(
            usage_periods(&world, workspace).await,
            [metering_period(&world, workspace, NOW).await]
        );
    }
}

#[tokio::test]
async fn a_paid_workspaces_usage_row_follows_its_subscription_period() {
    let world = World::new().await;
    let workspace = world.workspace("UTC").await;
    world
        .test
        .client()
        .await
        .execute(
            "INSERT INTO workspace_subscriptions (workspace_id, stripe_subscription_id,
                 stripe_customer_id, status, current_period_start, current_period_end,
                 stripe_event_created)
             VALUES ($1, 'sub_test', 'cus_test', 'active', '2026-11-14T08:00:00Z',
                     '2026-12-14T08:00:00Z', now())",
            &[&workspace],
        )
        .await
        .expect("arrange a subscription");

    world.run(ScheduledJob::UsageReset, NOW).await;

    assert_eq!(
        usage_periods(&world, workspace).await,
        [(at("2026-11-14T08:00:00Z"), at("2026-12-14T08:00:00Z"))]
    );
}

#[tokio::test]
async fn an_existing_usage_row_keeps_everything_it_counted() {
    let world = World::new().await;
    let workspace = world.workspace("UTC").await;
    let (start, end) = metering_period(&world, workspace, NOW).await;
    world
        .test
        .client()
        .await
        .execute(
            "INSERT INTO workspace_usage (workspace_id, period_start, period_end, conversations,
                                          messages, tokens_used)
             VALUES ($1, $2, $3, 7, 42, 1000)",
            &[&workspace, &start, &end],
        )
        .await
        .expect("arrange usage");
    let before = world.snapshot().await;

    let summary = world.run(ScheduledJob::UsageReset, NOW).await;

    assert_eq!(summary["usage_rows_created"], 0);
    assert_eq!(world.snapshot().await, before, "nothing counted changed");
}

#[tokio::test]
async fn a_new_period_gets_a_new_row_and_the_old_period_stays_as_counted() {
    let world = World::new().await;
    let workspace = world.workspace("UTC").await;
    world.run(ScheduledJob::UsageReset, NOW).await;
    world
        .execute("UPDATE workspace_usage SET conversations = 3, messages = 9")
        .await;

    world
        .run(ScheduledJob::UsageReset, "2026-12-01T00:05:00Z")
        .await;

    let counts: Vec<(i32, i32)> = world
        .test
        .client()
        .await
        .query(
            "SELECT conversations, messages FROM workspace_usage WHERE workspace_id = $1
             ORDER BY period_start",
            &[&workspace],
        )
        .await
        .expect("usage rows")
        .iter()
        .map(|row| (row.get(0), row.get(1)))
        .collect();
    assert_eq!(counts, [(3, 9), (0, 0)]);
}

#[tokio::test]
async fn an_ended_scrape_quota_window_restarts_at_zero_until_the_next_midnight_in_the_workspace_timezone()
 {
    let world = World::new().await;
    let workspace = world.workspace("Asia/Kolkata").await;
    let agent = quota(&world, workspace, 30, "2026-11-20T18:30:00Z").await;

    world.run(ScheduledJob::UsageReset, NOW).await;

    // 03:00 UTC is 08:30 in Kolkata (UTC+05:30); the next midnight there is 18:30 UTC.
    assert_eq!(
        quota_state(&world, agent).await,
        (0, at("2026-11-21T18:30:00Z"))
    );
}

#[tokio::test]
async fn a_workspace_with_an_unknown_timezone_restarts_at_midnight_utc() {
    let world = World::new().await;
    let workspace = world.workspace("Mars/Olympus_Mons").await;
    let agent = quota(&world, workspace, 5, "2026-11-21T00:00:00Z").await;

    world.run(ScheduledJob::UsageReset, NOW).await;

    assert_eq!(
        quota_state(&world, agent).await,
        (0, at("2026-11-22T00:00:00Z"))
    );
}

#[tokio::test]
async fn a_scrape_quota_window_still_running_is_untouched() {
    let world = World::new().await;
    let workspace = world.workspace("UTC").await;
    let agent = quota(&world, workspace, 12, "2026-11-22T00:00:00Z").await;

    world.run(ScheduledJob::UsageReset, NOW).await;

    assert_eq!(
        quota_state(&world, agent).await,
        (12, at("2026-11-22T00:00:00Z"))
    );
}

#[tokio::test]
async fn what_an_ended_window_counted_is_kept_in_an_audit_row() {
    let world = World::new().await;
    let workspace = world.workspace("UTC").await;
    let agent = quota(&world, workspace, 17, "2026-11-21T00:00:00Z").await;

    world.run(ScheduledJob::UsageReset, NOW).await;

    let row = world
        .test
        .client()
        .await
        .query_one(
            "SELECT (data ->> 'used')::int, (data ->> 'window_ended_at')::timestamptz
             FROM audit_logs
             WHERE entity_type = 'agent' AND entity_id = $1 AND event_type = 'scrape_quota_reset'",
            &[&agent],
        )
        .await
        .expect("one audit row");
    assert_eq!(row.get::<_, i32>(0), 17);
    assert_eq!(row.get::<_, DateTime<Utc>>(1), at("2026-11-21T00:00:00Z"));
}

#[tokio::test]
async fn a_second_run_changes_nothing() {
    let world = World::new().await;
    let workspace = world.workspace("Asia/Kolkata").await;
    world.workspace("UTC").await;
    quota(&world, workspace, 30, "2026-11-20T18:30:00Z").await;
    quota(&world, workspace, 3, "2026-11-22T18:30:00Z").await;
    let first = world.run(ScheduledJob::UsageReset, NOW).await;
    let after_first = world.snapshot().await;

    let second = world.run(ScheduledJob::UsageReset, NOW).await;

    assert_eq!(
        first,
        serde_json::json!({"workspaces": 2, "usage_rows_created": 2, "quotas_reset": 1, "audited": 1})
    );
    assert_eq!(
        second,
        serde_json::json!({"workspaces": 2, "usage_rows_created": 0, "quotas_reset": 0, "audited": 0})
    );
    assert_eq!(world.snapshot().await, after_first);
}
