//! `stale_scores`: the safety net that re-enqueues scoring for leads scored before their newest
//! message, once per new message, with the job body the consumer decodes.

use crate::support::{Lead, World};
use domain::ids::{LeadId, WorkspaceId};
use domain::jobs::Job;
use scheduled::ScheduledJob;
use scheduled::jobs::stale_scores;
use uuid::Uuid;

const NOW: &str = "2026-11-21T10:00:00Z";
/// Older than the grace period.
const MESSAGE: &str = "2026-11-21T09:00:00Z";

fn lead(last_message: Option<&'static str>, last_scored: Option<&'static str>) -> Lead {
    Lead {
        last_customer_message_at: last_message,
        last_scored_at: last_scored,
        ..Lead::silent_since(MESSAGE)
    }
}

async fn jobs_for(world: &World, lead: Uuid) -> Vec<serde_json::Value> {
    world
        .test
        .client()
        .await
        .query(
            "SELECT payload FROM outbox WHERE (payload ->> 'lead_id')::uuid = $1 ORDER BY id",
            &[&lead],
        )
        .await
        .expect("outbox rows")
        .iter()
        .map(|row| row.get(0))
        .collect()
}

/// Arranges one lead, runs the job at NOW, returns the jobs enqueued for it.
async fn enqueued_for(arranged: Lead) -> Vec<serde_json::Value> {
    let world = World::new().await;
    let workspace = world.workspace("UTC").await;
    let id = world.lead(workspace, arranged).await;
    world.run(ScheduledJob::StaleScores, NOW).await;
    jobs_for(&world, id).await
}

#[tokio::test]
async fn a_lead_with_a_message_newer_than_its_score_gets_a_score_lead_job() {
    let jobs = enqueued_for(lead(Some(MESSAGE), Some("2026-11-21T08:00:00Z"))).await;
    assert_eq!(jobs.len(), 1);
}

#[tokio::test]
async fn a_lead_never_scored_with_a_message_gets_a_score_lead_job() {
    assert_eq!(enqueued_for(lead(Some(MESSAGE), None)).await.len(), 1);
}

#[tokio::test]
async fn a_lead_scored_after_its_newest_message_gets_none() {
    let jobs = enqueued_for(lead(Some(MESSAGE), Some("2026-11-21T09:00:01Z"))).await;
    assert!(jobs.is_empty());
}

#[tokio::test]
async fn a_lead_without_customer_messages_gets_none() {
    assert!(enqueued_for(lead(None, None)).await.is_empty());
}

#[tokio::test]
async fn a_message_younger_than_the_grace_period_is_left_to_its_own_job() {
    let jobs = enqueued_for(lead(Some("2026-11-21T09:58:00Z"), None)).await;
    assert!(jobs.is_empty(), "its own job is still in flight");
}

#[tokio::test]
async fn the_job_body_is_exactly_what_domain_jobs_job_writes() {
    let world = World::new().await;
    let workspace = world.workspace("UTC").await;
    let id = world.lead(workspace, lead(Some(MESSAGE), None)).await;

    world.run(ScheduledJob::StaleScores, NOW).await;

    let body = jobs_for(&world, id).await.pop().expect("one job");
    let expected = Job::score_lead(
        WorkspaceId::from_uuid(workspace),
        LeadId::from_uuid(id),
        stale_scores::REASON,
    );
    assert_eq!(body, expected.to_value(), "same JSON, field for field");
    assert_eq!(
        Job::from_value(body),
        Ok(expected.clone()),
        "the consumer reads it"
    );
    let queue: String = world.one("SELECT queue FROM outbox", &[]).await;
    assert_eq!(queue, expected.queue().as_str());
}

#[tokio::test]
async fn a_second_run_changes_nothing() {
    let world = World::new().await;
    let workspace = world.workspace("UTC").await;
    for _ in 0..3 {
        world.lead(workspace, lead(Some(MESSAGE), None)).await;
    }
    let first = world.run(ScheduledJob::StaleScores, NOW).await;
    let after_first = world.snapshot().await;

    let second = world
        .run(ScheduledJob::StaleScores, "2026-11-21T10:10:00Z")
        .await;

    assert_eq!(first["enqueued"], 3);
    assert_eq!(second["enqueued"], 0);
    assert_eq!(world.snapshot().await, after_first);
}

#[tokio::test]
async fn a_newer_message_after_a_safety_net_job_gets_one_more() {
    let world = World::new().await;
    let workspace = world.workspace("UTC").await;
    let id = world.lead(workspace, lead(Some(MESSAGE), None)).await;
    world.run(ScheduledJob::StaleScores, NOW).await;
    world
        .execute("UPDATE leads SET last_customer_message_at = '2026-11-21T10:30:00Z'")
        .await;

    world
        .run(ScheduledJob::StaleScores, "2026-11-21T11:00:00Z")
        .await;

    assert_eq!(jobs_for(&world, id).await.len(), 2);
}

#[tokio::test]
async fn a_run_enqueues_at_most_its_cap() {
    let world = World::new().await;
    let workspace = world.workspace("UTC").await;
    world
        .test
        .client()
        .await
        .execute(
            "INSERT INTO leads (workspace_id, first_touchpoint, last_touchpoint, last_customer_message_at)
             SELECT $1, 'web', 'web', '2026-11-21T09:00:00Z' FROM generate_series(1, $2::int)",
            &[&workspace, &(stale_scores::MAX_JOBS_PER_RUN as i32 + 1)],
        )
        .await
        .expect("arrange leads");

    let first = world.run(ScheduledJob::StaleScores, NOW).await;
    let second = world.run(ScheduledJob::StaleScores, NOW).await;

    assert_eq!(first["enqueued"], stale_scores::MAX_JOBS_PER_RUN);
    assert_eq!(second["enqueued"], 1, "the rest in the next run");
}
