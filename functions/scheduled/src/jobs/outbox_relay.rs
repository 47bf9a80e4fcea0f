//! `outbox_relay`, every minute.
//!
//! Why: a job is written to the outbox in the same transaction as the data that caused it and
//! published after commit. When that publish fails (SQS down, the function frozen or killed after
//! commit), nothing else would ever send the job; the relay finds such rows after a grace period
//! and publishes them, so every committed job is delivered at least once.

use crate::schedule::Schedule;
use platform::jobs::{Publisher, RelayReport, RelaySettings};
use store::StoreError;

pub const NAME: &str = "outbox_relay";
pub const SCHEDULE: Schedule = Schedule::EveryMinutes(1);

/// Publishes what producers left unpublished; the limits per run are in `settings`.
pub async fn run(
    publisher: &Publisher,
    settings: RelaySettings,
) -> Result<RelayReport, StoreError> {
    publisher.relay(settings).await
}
