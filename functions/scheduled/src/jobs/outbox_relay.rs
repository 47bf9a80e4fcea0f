//! `outbox_relay`, every minute.
//!
//! Why: a job is written to the outbox in the same transaction as the data that caused it and
//! published after commit. When that publish fails (SQS down, the function frozen or killed after
//! commit), nothing else would ever send the job; the relay finds such rows after a grace period
//! and publishes them, so every committed job is delivered at least once.

use crate::metrics::{self, Unit};
use crate::schedule::Schedule;
use chrono::{DateTime, Utc};
use platform::jobs::{Publisher, RelayReport, RelaySettings};
use serde::Serialize;
use store::{Db, StoreError};

pub const NAME: &str = "outbox_relay";
pub const SCHEDULE: Schedule = Schedule::EveryMinutes(1);

/// What a run did, and how long the oldest row still unpublished has waited.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RelaySummary {
    #[serde(flatten)]
    pub relayed: RelayReport,
    pub oldest_unpublished_seconds: f64,
}

/// Publishes what producers left unpublished (the limits per run are in `settings`), then
/// reports the oldest row still waiting as the `OutboxOldestUnpublishedSeconds` metric. A row
/// that keeps failing is never given up (store::outbox), so this metric is what makes it seen.
pub async fn run(
    db: &Db,
    publisher: &Publisher,
    settings: RelaySettings,
    now: DateTime<Utc>,
) -> Result<RelaySummary, StoreError> {
    let relayed = publisher.relay(settings).await?;
    let client = db.client().await?;
    let oldest = store::outbox::oldest_unpublished_age(&**client, now).await?;
    metrics::emit(
        metrics::OUTBOX_OLDEST_UNPUBLISHED_SECONDS,
        oldest,
        Unit::Seconds,
        now,
    );
    Ok(RelaySummary {
        relayed,
        oldest_unpublished_seconds: oldest,
    })
}
