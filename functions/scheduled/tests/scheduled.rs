//! The scheduled-jobs function, driven by the sample events in `events/` as EventBridge Scheduler
//! sends them.

use platform::clock::Clock;
use platform::jobs::{JobSink, Publisher, RelaySettings};
use scheduled::{Jobs, ScheduledError, ScheduledInput};
use store::testing::TestDb;

fn jobs(test: &TestDb, now: &str) -> Jobs {
    Jobs {
        db: test.db().clone(),
        publisher: Publisher::new(test.db().clone(), JobSink::Disabled),
        relay: RelaySettings::default(),
        clock: Clock::Fixed(now.parse().expect("an instant")),
    }
}

fn event(name: &str) -> ScheduledInput {
    let path = format!("{}/../../events/{name}", env!("CARGO_MANIFEST_DIR"));
    let text = std::fs::read_to_string(&path).expect("the sample event exists");
    serde_json::from_str(&text).expect("the sample event decodes")
}

#[tokio::test]
async fn the_cold_leads_event_moves_silent_leads_and_a_second_run_does_nothing() {
    let test = TestDb::new().await;
    test.client()
        .await
        .batch_execute(
            "INSERT INTO workspaces (id, slug, name) VALUES ('00000000-0000-4000-8000-0000000000c1', 'cold', 'C');
             INSERT INTO leads (workspace_id, first_touchpoint, last_touchpoint, lead_stage, last_customer_message_at)
             VALUES ('00000000-0000-4000-8000-0000000000c1', 'web', 'web', 'In Sequence', '2026-10-01T00:00:00Z'),
                    ('00000000-0000-4000-8000-0000000000c1', 'web', 'web', 'In Sequence', '2026-11-15T00:00:00Z');",
        )
        .await
        .expect("arrange two leads");
    let jobs = jobs(&test, "2026-11-21T03:00:00Z");

    let first = jobs
        .handle(event("scheduled-cold-leads.json"))
        .await
        .expect("runs");
    let second = jobs
        .handle(event("scheduled-cold-leads.json"))
        .await
        .expect("runs again");

    assert_eq!(first["moved_to_cold"], 1);
    assert_eq!(second["moved_to_cold"], 0, "idempotent per period");
}

#[tokio::test]
async fn the_outbox_relay_event_runs_the_relay() {
    let test = TestDb::new().await;
    let report = jobs(&test, "2026-11-21T03:00:00Z")
        .handle(event("scheduled-outbox-relay.json"))
        .await
        .expect("runs");
    assert_eq!(report["claimed"], 0, "nothing to relay in an empty outbox");
}

#[tokio::test]
async fn an_unknown_job_is_an_error_naming_it() {
    let test = TestDb::new().await;
    let err = jobs(&test, "2026-11-21T03:00:00Z")
        .handle(ScheduledInput {
            job: "launch_rockets".into(),
        })
        .await
        .expect_err("refused");
    assert!(matches!(err, ScheduledError::UnknownJob(name) if name == "launch_rockets"));
}
