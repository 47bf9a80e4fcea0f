//! What the outbox relay and the journal replay report to CloudWatch (the OutboxStuck and
//! JournalUnapplied alarms): the figures in their summaries are the metric values they write.

use crate::support::World;
use scheduled::ScheduledJob;

#[tokio::test]
async fn the_relay_reports_how_long_the_oldest_unpublished_row_has_waited() {
    let world = World::new().await;
    // Rows the relay cannot take now (their backoff runs until tomorrow): one waiting 15
    // minutes, one younger, one published long ago.
    world
        .execute(
            "INSERT INTO outbox (queue, payload, created_at, available_at, published_at) VALUES
             ('scoring', '{}', '2026-12-01T09:00:00Z', now() + interval '1 day', NULL),
             ('scoring', '{}', '2026-12-01T09:10:00Z', now() + interval '1 day', NULL),
             ('sites',   '{}', '2026-11-01T00:00:00Z', '2026-11-01T00:00:00Z', '2026-11-01T00:00:01Z')",
        )
        .await;

    let summary = world
        .run(ScheduledJob::OutboxRelay, "2026-12-01T09:15:00Z")
        .await;

    assert_eq!(summary["oldest_unpublished_seconds"], 900.0);
    assert_eq!(summary["claimed"], 0, "{summary}");
}

#[tokio::test]
async fn an_empty_outbox_reports_zero() {
    let world = World::new().await;

    let summary = world
        .run(ScheduledJob::OutboxRelay, "2026-12-01T09:15:00Z")
        .await;

    assert_eq!(summary["oldest_unpublished_seconds"], 0.0);
}

#[tokio::test]
async fn the_replay_reports_every_delivery_still_not_applied() {
    let world = World::new().await;
    // Applied; waiting for its next attempt (tomorrow); given up for a person.
    world
        .execute(
            "INSERT INTO webhook_events (provider, event_key, payload, processed_at,
                                         next_attempt_at, failed_at) VALUES
             ('stripe', 'evt_applied', '{}', now(), NULL, NULL),
             ('stripe', 'evt_waiting', '{}', NULL, now() + interval '1 day', NULL),
             ('stripe', 'evt_given_up', '{}', NULL, NULL, '2026-11-30T00:00:00Z')",
        )
        .await;

    let summary = world
        .run(ScheduledJob::JournalReplay, "2026-12-01T09:15:00Z")
        .await;

    assert_eq!(summary["unapplied"], 2, "{summary}");
    assert_eq!(summary["claimed"], 0, "nothing was due");
}
