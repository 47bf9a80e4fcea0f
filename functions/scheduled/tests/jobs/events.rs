//! The function driven by the sample events in `events/`, as EventBridge Scheduler sends them.

use crate::support::World;
use scheduled::{ScheduledError, ScheduledInput, ScheduledJob};

fn event_path(job: ScheduledJob) -> String {
    format!(
        "{}/../../events/scheduled-{}.json",
        env!("CARGO_MANIFEST_DIR"),
        job.name().replace('_', "-")
    )
}

fn event(job: ScheduledJob) -> ScheduledInput {
    let path = event_path(job);
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{path} decodes: {e}"))
}

#[test]
fn every_job_has_a_sample_event_naming_it() {
    for job in ScheduledJob::ALL {
        assert_eq!(event(job).job, job.name(), "{}", event_path(job));
    }
}

#[tokio::test]
async fn every_sample_event_runs_its_job_on_an_empty_database() {
    let world = World::new().await;
    let jobs = world.jobs("2026-11-21T03:00:00Z");
    for job in ScheduledJob::ALL {
        let summary = jobs
            .handle(event(job))
            .await
            .unwrap_or_else(|e| panic!("{}: {e:?}", job.name()));
        assert!(summary.is_object(), "{} returns a JSON summary", job.name());
    }
}

#[tokio::test]
async fn the_cold_leads_event_moves_silent_leads_and_a_second_run_does_nothing() {
    let world = World::new().await;
    world
        .execute(
            "INSERT INTO workspaces (id, slug, name) VALUES ('00000000-0000-4000-8000-0000000000c1', 'cold', 'C');
             INSERT INTO leads (workspace_id, first_touchpoint, last_touchpoint, lead_stage, last_customer_message_at)
             VALUES ('00000000-0000-4000-8000-0000000000c1', 'web', 'web', 'In Sequence', '2026-10-01T00:00:00Z'),
                    ('00000000-0000-4000-8000-0000000000c1', 'web', 'web', 'In Sequence', '2026-11-15T00:00:00Z');",
        )
        .await;
    let jobs = world.jobs("2026-11-21T03:00:00Z");

    let first = jobs
        .handle(event(ScheduledJob::ColdLeads))
        .await
        .expect("runs");
    let second = jobs
        .handle(event(ScheduledJob::ColdLeads))
        .await
        .expect("runs again");

    assert_eq!(first["moved_to_cold"], 1);
    assert_eq!(second["moved_to_cold"], 0, "idempotent per period");
}

#[tokio::test]
async fn the_outbox_relay_event_runs_the_relay() {
    let world = World::new().await;
    let report = world
        .jobs("2026-11-21T03:00:00Z")
        .handle(event(ScheduledJob::OutboxRelay))
        .await
        .expect("runs");
    assert_eq!(report["claimed"], 0, "nothing to relay in an empty outbox");
}

#[tokio::test]
async fn an_unknown_job_is_an_error_naming_it() {
    let world = World::new().await;
    let err = world
        .jobs("2026-11-21T03:00:00Z")
        .handle(ScheduledInput {
            job: "launch_rockets".into(),
        })
        .await
        .expect_err("refused");
    assert!(matches!(err, ScheduledError::UnknownJob(name) if name == "launch_rockets"));
}
