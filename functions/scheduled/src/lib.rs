//! The scheduled-jobs function: EventBridge Scheduler invokes it with `{"job": "<name>"}` and it
//! runs that one job. Every job is idempotent per period: running it twice changes nothing the
//! second time, so a retried or doubled schedule does no harm.
//!
//! Jobs and their schedules (template.yaml):
//! - `outbox_relay` (every minute): publishes outbox rows their producer could not publish.

use platform::jobs::{Publisher, RelaySettings};
use serde::Deserialize;
use store::StoreError;

/// The invocation payload.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ScheduledInput {
    pub job: String,
}

/// The jobs this function knows, by their schedule names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ScheduledJob {
    OutboxRelay,
}

impl ScheduledJob {
    pub const ALL: [ScheduledJob; 1] = [ScheduledJob::OutboxRelay];

    pub fn name(self) -> &'static str {
        match self {
            Self::OutboxRelay => "outbox_relay",
        }
    }

    pub fn parse(name: &str) -> Result<Self, ScheduledError> {
        Self::ALL
            .into_iter()
            .find(|job| job.name() == name)
            .ok_or_else(|| ScheduledError::UnknownJob(name.to_owned()))
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ScheduledError {
    #[error("unknown scheduled job {0:?}")]
    UnknownJob(String),
    #[error("scheduled job failed")]
    Store(#[from] StoreError),
}

/// What a job needs; built once per cold start.
#[derive(Debug, Clone)]
pub struct Jobs {
    pub publisher: Publisher,
    pub relay: RelaySettings,
}

impl Jobs {
    /// Runs one job and returns its report (logged, and the invocation's result).
    pub async fn run(&self, job: ScheduledJob) -> Result<serde_json::Value, ScheduledError> {
        let report = match job {
            ScheduledJob::OutboxRelay => {
                serde_json::to_value(self.publisher.relay(self.relay).await?)
            }
        };
        let report = report.unwrap_or_default();
        tracing::info!(job = job.name(), %report, "scheduled job done");
        Ok(report)
    }

    /// The Lambda entry point's logic: decode the input, run the job.
    pub async fn handle(&self, input: ScheduledInput) -> Result<serde_json::Value, ScheduledError> {
        self.run(ScheduledJob::parse(&input.job)?).await
    }
}
