//! `overdue_tasks`: which tasks become overdue, which never do, and what each change leaves behind.

use crate::support::{Task, World};
use scheduled::ScheduledJob;
use uuid::Uuid;

const NOW: &str = "2026-11-21T10:00:00Z";
const PAST: &str = "2026-11-21T09:59:00Z";
const FUTURE: &str = "2026-11-21T10:01:00Z";

/// Arranges one task in a fresh workspace, runs the job at NOW, returns the task's status.
async fn status_after_one_run(task: Task) -> (World, Uuid, String) {
    let world = World::new().await;
    let workspace = world.workspace("UTC").await;
    let id = world.task(workspace, task).await;
    world.run(ScheduledJob::OverdueTasks, NOW).await;
    let status = world.task_status(id).await;
    (world, id, status)
}

#[tokio::test]
async fn a_pending_task_past_its_due_time_becomes_overdue() {
    let (_, _, status) = status_after_one_run(Task::new("pending").due(PAST)).await;
    assert_eq!(status, "overdue");
}

#[tokio::test]
async fn an_in_progress_task_past_its_due_time_becomes_overdue() {
    let (_, _, status) = status_after_one_run(Task::new("in_progress").due(PAST)).await;
    assert_eq!(status, "overdue");
}

#[tokio::test]
async fn a_postponed_task_past_postponed_until_becomes_overdue_even_if_not_yet_due() {
    let task = Task::new("postponed").due(FUTURE).postponed_until(PAST);
    let (_, _, status) = status_after_one_run(task).await;
    assert_eq!(status, "overdue");
}

#[tokio::test]
async fn a_completed_task_past_its_due_time_is_untouched() {
    let (_, _, status) = status_after_one_run(Task::new("completed").due(PAST)).await;
    assert_eq!(status, "completed");
}

#[tokio::test]
async fn a_cancelled_task_past_its_due_time_is_untouched() {
    let (_, _, status) = status_after_one_run(Task::new("cancelled").due(PAST)).await;
    assert_eq!(status, "cancelled");
}

#[tokio::test]
async fn a_soft_deleted_task_past_its_due_time_is_untouched() {
    let (_, _, status) = status_after_one_run(Task::new("pending").due(PAST).deleted()).await;
    assert_eq!(status, "pending");
}

#[tokio::test]
async fn a_task_not_yet_due_is_untouched() {
    let (_, _, status) = status_after_one_run(Task::new("pending").due(FUTURE)).await;
    assert_eq!(status, "pending");
}

#[tokio::test]
async fn a_task_with_no_due_time_is_untouched() {
    let (_, _, status) = status_after_one_run(Task::new("in_progress")).await;
    assert_eq!(status, "in_progress");
}

#[tokio::test]
async fn a_task_still_postponed_is_untouched_even_if_past_its_due_time() {
    let task = Task::new("postponed").due(PAST).postponed_until(FUTURE);
    let (_, _, status) = status_after_one_run(task).await;
    assert_eq!(status, "postponed");
}

#[tokio::test]
async fn each_task_that_changes_gets_one_audit_row_with_the_date_it_passed() {
    let (world, id, _) = status_after_one_run(Task::new("in_progress").due(PAST)).await;
    let rows: i64 = world
        .one(
            "SELECT count(*) FROM audit_logs
             WHERE entity_type = 'task' AND entity_id = $1 AND event_type = 'task_overdue'
               AND actor = 'system' AND (data ->> 'due_at')::timestamptz = $2",
            &[&id, &crate::support::at(PAST)],
        )
        .await;
    assert_eq!(rows, 1);
}

#[tokio::test]
async fn a_task_that_does_not_change_gets_no_audit_row() {
    let (world, _, _) = status_after_one_run(Task::new("pending").due(FUTURE)).await;
    let rows: i64 = world.one("SELECT count(*) FROM audit_logs", &[]).await;
    assert_eq!(rows, 0);
}

#[tokio::test]
async fn the_summary_counts_what_changed() {
    let world = World::new().await;
    let workspace = world.workspace("UTC").await;
    world.task(workspace, Task::new("pending").due(PAST)).await;
    world
        .task(workspace, Task::new("postponed").postponed_until(PAST))
        .await;
    world
        .task(workspace, Task::new("pending").due(FUTURE))
        .await;

    let summary = world.run(ScheduledJob::OverdueTasks, NOW).await;

    assert_eq!(summary, serde_json::json!({"marked": 2, "audited": 2}));
}

#[tokio::test]
async fn a_second_run_changes_nothing() {
    let world = World::new().await;
    let workspace = world.workspace("UTC").await;
    world.task(workspace, Task::new("pending").due(PAST)).await;
    world
        .task(workspace, Task::new("in_progress").due(PAST))
        .await;
    world
        .task(workspace, Task::new("postponed").postponed_until(PAST))
        .await;
    world
        .task(workspace, Task::new("pending").due(FUTURE))
        .await;
    world.run(ScheduledJob::OverdueTasks, NOW).await;
    let after_first = world.snapshot().await;

    let second = world.run(ScheduledJob::OverdueTasks, NOW).await;

    assert_eq!(second["marked"], 0);
    assert_eq!(
        world.snapshot().await,
        after_first,
        "updated_at, rows and audit rows unchanged"
    );
}
