//! `journal_replay`, every 5 minutes.
//!
//! Why: every verified webhook delivery is journaled, and a delivery whose write failed (a bug, a
//! deadlock, the database restarting) is journaled alone with its error. WhatsApp does not resend
//! after our 200, so without this job such a delivery would never be applied. The job re-applies
//! due deliveries through the same SQL the webhooks use, with backoff between attempts, and marks
//! a delivery failed for a person after `store::journal::MAX_ATTEMPTS`. Every 5 minutes matches
//! the first backoff steps, so a transient failure heals within minutes.

use crate::metrics::{self, Unit};
use crate::schedule::Schedule;
use chrono::{DateTime, Utc};
use platform::jobs::Publisher;
use serde::Serialize;
use store::journal::ReplayReport;
use store::{Db, StoreError};

pub const NAME: &str = "journal_replay";
pub const SCHEDULE: Schedule = Schedule::EveryMinutes(5);

/// Deliveries attempted per run: each is applied on its own, so this bounds one run's time well
/// inside the function's timeout; a larger backlog continues in the next runs.
pub const MAX_DELIVERIES_PER_RUN: i64 = 500;

/// What a run did, and how many journaled deliveries are still not applied.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ReplaySummary {
    #[serde(flatten)]
    pub replayed: ReplayReport,
    pub unapplied: i64,
}

/// Re-applies due deliveries, publishes the jobs they committed, and reports what is still not
/// applied as the `JournalUnappliedDeliveries` metric.
pub async fn run(
    db: &Db,
    publisher: &Publisher,
    now: DateTime<Utc>,
) -> Result<ReplaySummary, StoreError> {
    let replayed = store::journal::replay_due(db, now, MAX_DELIVERIES_PER_RUN).await?;
    // The applied deliveries committed their jobs (scoring, …) to the outbox; publish them now,
    // as the webhook would have, rather than leave them to the relay's grace period.
    publisher.publish_committed(&replayed.jobs).await;
    let unapplied = store::journal::unapplied_count(db).await?;
    metrics::emit(
        metrics::JOURNAL_UNAPPLIED_DELIVERIES,
        unapplied as f64,
        Unit::Count,
        now,
    );
    Ok(ReplaySummary {
        replayed,
        unapplied,
    })
}
