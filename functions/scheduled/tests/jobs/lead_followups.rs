//! `lead_followups`: which leads get a follow-up task, what the task says, and that runs (twice,
//! or at once) never make a second one.

use crate::support::{Lead, Task, World, at, jobs_on};
use scheduled::ScheduledJob;
use uuid::Uuid;

const NOW: &str = "2026-11-21T10:00:00Z";
/// Three days before NOW: silent for longer than the default two days.
const SILENT: &str = "2026-11-18T10:00:00Z";
/// One day before NOW: not silent long enough for the default rule.
const RECENT: &str = "2026-11-20T10:00:00Z";
const DEFAULT_RULE: &str = r#"{"inactive_days": 2, "priority": "high", "due_hours": 24}"#;

/// A workspace with the default active rule.
async fn world_with_rule(config: &str) -> (World, Uuid) {
    let world = World::new().await;
    let workspace = world.workspace("UTC").await;
    world.rule(workspace, config, true).await;
    (world, workspace)
}

async fn follow_ups(world: &World, lead: Uuid) -> i64 {
    world
        .one(
            "SELECT count(*) FROM tasks WHERE lead_id = $1 AND generation_rule = 'lead_inactive'",
            &[&lead],
        )
        .await
}

/// Arranges `lead` under the default rule, runs the job at NOW, counts its follow-ups.
async fn follow_ups_for(lead: Lead) -> i64 {
    let (world, workspace) = world_with_rule(DEFAULT_RULE).await;
    let id = world.lead(workspace, lead).await;
    world.run(ScheduledJob::LeadFollowups, NOW).await;
    follow_ups(&world, id).await
}

#[tokio::test]
async fn a_silent_lead_gets_one_follow_up_with_the_rules_priority_due_time_and_the_leads_agent() {
    let (world, workspace) =
        world_with_rule(r#"{"inactive_days": 2, "priority": "medium", "due_hours": 6}"#).await;
    let agent = world.agent(workspace).await;
    let lead = world
        .lead(
            workspace,
            Lead {
                agent: Some(agent),
                ..Lead::silent_since(SILENT)
            },
        )
        .await;

    world.run(ScheduledJob::LeadFollowups, NOW).await;

    let row = world
        .test
        .client()
        .await
        .query_one(
            "SELECT task_type, status, priority, due_at, assigned_agent_id, auto_generated,
                    generation_rule, workspace_id
             FROM tasks WHERE lead_id = $1",
            &[&lead],
        )
        .await
        .expect("one task");
    assert_eq!(row.get::<_, String>("task_type"), "follow_up");
    assert_eq!(row.get::<_, String>("status"), "pending");
    assert_eq!(row.get::<_, String>("priority"), "medium");
    assert_eq!(
        row.get::<_, chrono::DateTime<chrono::Utc>>("due_at"),
        at("2026-11-21T16:00:00Z")
    );
    assert_eq!(row.get::<_, Option<Uuid>>("assigned_agent_id"), Some(agent));
    assert!(row.get::<_, bool>("auto_generated"));
    assert_eq!(row.get::<_, String>("generation_rule"), "lead_inactive");
    assert_eq!(row.get::<_, Uuid>("workspace_id"), workspace);
}

#[tokio::test]
async fn a_rule_with_an_empty_config_uses_the_defaults() {
    let (world, workspace) = world_with_rule("{}").await;
    let silent = world.lead(workspace, Lead::silent_since(SILENT)).await;
    let recent = world.lead(workspace, Lead::silent_since(RECENT)).await;

    world.run(ScheduledJob::LeadFollowups, NOW).await;

    let (priority, due_at): (String, chrono::DateTime<chrono::Utc>) = {
        let row = world
            .test
            .client()
            .await
            .query_one(
                "SELECT priority, due_at FROM tasks WHERE lead_id = $1",
                &[&silent],
            )
            .await
            .expect("the silent lead has a task");
        (row.get(0), row.get(1))
    };
    assert_eq!(priority, "high", "default priority");
    assert_eq!(due_at, at("2026-11-22T10:00:00Z"), "default 24 hours");
    assert_eq!(follow_ups(&world, recent).await, 0, "default two days");
}

#[tokio::test]
async fn a_rule_with_values_of_the_wrong_type_falls_back_to_the_defaults() {
    let (world, workspace) =
        world_with_rule(r#"{"inactive_days": "soon", "priority": "urgent", "due_hours": null}"#)
            .await;
    let lead = world.lead(workspace, Lead::silent_since(SILENT)).await;

    world.run(ScheduledJob::LeadFollowups, NOW).await;

    let priority: String = world
        .one("SELECT priority FROM tasks WHERE lead_id = $1", &[&lead])
        .await;
    assert_eq!(priority, "high");
}

#[tokio::test]
async fn the_rules_inactive_days_decides_how_long_silent_is() {
    let (world, workspace) = world_with_rule(r#"{"inactive_days": 5}"#).await;
    let three_days = world.lead(workspace, Lead::silent_since(SILENT)).await;
    let six_days = world
        .lead(workspace, Lead::silent_since("2026-11-15T10:00:00Z"))
        .await;

    world.run(ScheduledJob::LeadFollowups, NOW).await;

    assert_eq!(follow_ups(&world, three_days).await, 0);
    assert_eq!(follow_ups(&world, six_days).await, 1);
}

#[tokio::test]
async fn a_workspace_whose_rule_is_inactive_gets_no_follow_ups() {
    let world = World::new().await;
    let workspace = world.workspace("UTC").await;
    world.rule(workspace, DEFAULT_RULE, false).await;
    let lead = world.lead(workspace, Lead::silent_since(SILENT)).await;

    world.run(ScheduledJob::LeadFollowups, NOW).await;

    assert_eq!(follow_ups(&world, lead).await, 0);
}

#[tokio::test]
async fn a_workspace_without_a_rule_gets_no_follow_ups() {
    let world = World::new().await;
    let workspace = world.workspace("UTC").await;
    let lead = world.lead(workspace, Lead::silent_since(SILENT)).await;

    world.run(ScheduledJob::LeadFollowups, NOW).await;

    assert_eq!(follow_ups(&world, lead).await, 0);
}

#[tokio::test]
async fn an_archived_lead_gets_no_follow_up() {
    let lead = Lead {
        status: "archived",
        ..Lead::silent_since(SILENT)
    };
    assert_eq!(follow_ups_for(lead).await, 0);
}

#[tokio::test]
async fn an_opted_out_lead_gets_no_follow_up() {
    let lead = Lead {
        opted_out: true,
        ..Lead::silent_since(SILENT)
    };
    assert_eq!(follow_ups_for(lead).await, 0);
}

#[tokio::test]
async fn a_converted_lead_gets_no_follow_up() {
    let lead = Lead {
        stage: "Converted",
        ..Lead::silent_since(SILENT)
    };
    assert_eq!(follow_ups_for(lead).await, 0);
}

#[tokio::test]
async fn a_closed_lost_lead_gets_no_follow_up() {
    let lead = Lead {
        stage: "Closed Lost",
        ..Lead::silent_since(SILENT)
    };
    assert_eq!(follow_ups_for(lead).await, 0);
}

#[tokio::test]
async fn a_lead_that_wrote_within_inactive_days_gets_no_follow_up() {
    assert_eq!(follow_ups_for(Lead::silent_since(RECENT)).await, 0);
}

#[tokio::test]
async fn a_lead_that_never_wrote_gets_no_follow_up() {
    let lead = Lead {
        last_customer_message_at: None,
        ..Lead::silent_since(SILENT)
    };
    assert_eq!(follow_ups_for(lead).await, 0);
}

#[tokio::test]
async fn a_lead_with_an_open_automatic_follow_up_gets_no_second_one() {
    let (world, workspace) = world_with_rule(DEFAULT_RULE).await;
    let lead = world.lead(workspace, Lead::silent_since(SILENT)).await;
    // Open (overdue) and created long ago: only the open rule keeps it from a second one.
    world
        .task(
            workspace,
            Task::new("overdue").auto_follow_up(lead, "2026-10-01T00:00:00Z"),
        )
        .await;

    world.run(ScheduledJob::LeadFollowups, NOW).await;

    assert_eq!(follow_ups(&world, lead).await, 1);
}

#[tokio::test]
async fn a_follow_up_completed_within_inactive_days_brings_no_new_one() {
    let (world, workspace) = world_with_rule(DEFAULT_RULE).await;
    let lead = world.lead(workspace, Lead::silent_since(SILENT)).await;
    world
        .task(
            workspace,
            Task::new("completed").auto_follow_up(lead, "2026-11-20T12:00:00Z"),
        )
        .await;

    world.run(ScheduledJob::LeadFollowups, NOW).await;

    assert_eq!(follow_ups(&world, lead).await, 1, "only the completed one");
}

#[tokio::test]
async fn a_follow_up_deleted_within_inactive_days_brings_no_new_one() {
    let (world, workspace) = world_with_rule(DEFAULT_RULE).await;
    let lead = world.lead(workspace, Lead::silent_since(SILENT)).await;
    world
        .task(
            workspace,
            Task::new("pending")
                .auto_follow_up(lead, "2026-11-20T12:00:00Z")
                .deleted(),
        )
        .await;

    world.run(ScheduledJob::LeadFollowups, NOW).await;

    assert_eq!(follow_ups(&world, lead).await, 1, "only the deleted one");
}

#[tokio::test]
async fn a_follow_up_completed_longer_ago_than_inactive_days_lets_a_new_one_come() {
    let (world, workspace) = world_with_rule(DEFAULT_RULE).await;
    let lead = world.lead(workspace, Lead::silent_since(SILENT)).await;
    world
        .task(
            workspace,
            Task::new("completed").auto_follow_up(lead, "2026-11-18T12:00:00Z"),
        )
        .await;

    world.run(ScheduledJob::LeadFollowups, NOW).await;

    assert_eq!(follow_ups(&world, lead).await, 2);
}

#[tokio::test]
async fn the_title_names_the_lead_by_first_name_only() {
    let (world, workspace) = world_with_rule(DEFAULT_RULE).await;
    let named = world.lead(workspace, Lead::silent_since(SILENT)).await;
    let unnamed = world
        .lead(
            workspace,
            Lead {
                name: None,
                ..Lead::silent_since(SILENT)
            },
        )
        .await;

    world.run(ScheduledJob::LeadFollowups, NOW).await;

    let title = |lead: Uuid| {
        let world = &world;
        async move {
            world
                .one::<String>("SELECT title FROM tasks WHERE lead_id = $1", &[&lead])
                .await
        }
    };
    assert_eq!(title(named).await, "Follow up with Priya");
    assert_eq!(title(unnamed).await, "Follow up with this lead");
}

#[tokio::test]
async fn each_follow_up_created_gets_one_audit_row() {
    let (world, workspace) = world_with_rule(DEFAULT_RULE).await;
    let lead = world.lead(workspace, Lead::silent_since(SILENT)).await;

    let summary = world.run(ScheduledJob::LeadFollowups, NOW).await;

    let audited: i64 = world
        .one(
            "SELECT count(*) FROM audit_logs a JOIN tasks t ON t.id = a.entity_id
             WHERE a.entity_type = 'task' AND a.event_type = 'task_created'
               AND t.lead_id = $1 AND a.data ->> 'lead_id' = $1::text",
            &[&lead],
        )
        .await;
    assert_eq!(audited, 1);
    assert_eq!(
        summary,
        serde_json::json!({"rules": 1, "created": 1, "audited": 1})
    );
}

#[tokio::test]
async fn a_second_run_changes_nothing() {
    let (world, workspace) = world_with_rule(DEFAULT_RULE).await;
    for _ in 0..3 {
        world.lead(workspace, Lead::silent_since(SILENT)).await;
    }
    world.run(ScheduledJob::LeadFollowups, NOW).await;
    let after_first = world.snapshot().await;

    let second = world.run(ScheduledJob::LeadFollowups, NOW).await;

    assert_eq!(second["created"], 0);
    assert_eq!(world.snapshot().await, after_first);
}

#[tokio::test]
async fn a_run_an_hour_later_changes_nothing_either() {
    let (world, workspace) = world_with_rule(DEFAULT_RULE).await;
    world.lead(workspace, Lead::silent_since(SILENT)).await;
    world.run(ScheduledJob::LeadFollowups, NOW).await;
    let after_first = world.snapshot().await;

    world
        .run(ScheduledJob::LeadFollowups, "2026-11-21T11:00:00Z")
        .await;

    assert_eq!(world.snapshot().await, after_first);
}

#[tokio::test]
async fn two_concurrent_runs_create_one_task_per_lead() {
    let (world, workspace) = world_with_rule(DEFAULT_RULE).await;
    const LEADS: i64 = 200;
    for _ in 0..LEADS {
        world.lead(workspace, Lead::silent_since(SILENT)).await;
    }
    // A third session holds a lock every insert into tasks waits for, until both runs are
    // waiting on it: both then read "no follow-up yet" and race to insert, which is exactly the
    // case the unique index must settle.
    let mut blocker = store::testing::TestDb::client(&world.test).await;
    let hold = blocker.transaction().await.expect("begin");
    hold.batch_execute("LOCK TABLE tasks IN SHARE MODE")
        .await
        .expect("lock tasks");
    let one = tokio::spawn({
        let jobs = jobs_on(world.db().clone(), NOW);
        async move { jobs.run(ScheduledJob::LeadFollowups).await }
    });
    let two = tokio::spawn({
        let jobs = jobs_on(world.db().clone(), NOW);
        async move { jobs.run(ScheduledJob::LeadFollowups).await }
    });
    let mut waiting = 0;
    for _ in 0..200 {
        waiting = world
            .one::<i64>(
                "SELECT count(*) FROM pg_locks WHERE NOT granted AND relation = 'tasks'::regclass",
                &[],
            )
            .await;
        if waiting == 2 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(25)).await;
    }
    assert_eq!(waiting, 2, "both runs reached the insert");
    hold.commit().await.expect("release");
    let first = one.await.expect("first run task");
    let second = two.await.expect("second run task");

    let created = first.expect("first run")["created"].as_i64().unwrap_or(-1)
        + second.expect("second run")["created"]
            .as_i64()
            .unwrap_or(-1);
    let tasks: i64 = world.one("SELECT count(*) FROM tasks", &[]).await;
    let per_lead: i64 = world
        .one(
            "SELECT coalesce(max(n), 0) FROM (SELECT count(*) AS n FROM tasks GROUP BY lead_id) c",
            &[],
        )
        .await;
    assert_eq!(tasks, LEADS);
    assert_eq!(per_lead, 1);
    assert_eq!(created, LEADS, "the runs' summaries add up to what exists");
}
