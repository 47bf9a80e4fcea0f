//! The scheduled-jobs function: EventBridge Scheduler invokes it with `{"job": "<name>"}` and it
//! runs that one job. Every job is idempotent per period: running it twice changes nothing the
//! second time, so a retried or doubled schedule does no harm.
//!
//! Jobs and their schedules (template.yaml):
//! - `outbox_relay` (every minute): publishes outbox rows their producer could not publish.
//! - `cold_leads` (daily): moves `In Sequence` leads silent for more than 30 days to `Cold`.

use platform::clock::Clock;
use platform::jobs::{Publisher, RelaySettings};
use serde::Deserialize;
use store::{Db, StoreError};

/// Leads moved to `Cold` per call of the rule; the job repeats until none are left, so a backlog
/// is worked off in bounded statements.
pub const COLD_LEADS_BATCH: i32 = 1_000;

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
    ColdLeads,
}

impl ScheduledJob {
    pub const ALL: [ScheduledJob; 2] = [ScheduledJob::OutboxRelay, ScheduledJob::ColdLeads];

    pub fn name(self) -> &'static str {
        match self {
            Self::OutboxRelay => "outbox_relay",
            Self::ColdLeads => "cold_leads",
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
    pub db: Db,
    pub publisher: Publisher,
    pub relay: RelaySettings,
    pub clock: Clock,
}

impl Jobs {
    /// Runs one job and returns its report (logged, and the invocation's result).
    pub async fn run(&self, job: ScheduledJob) -> Result<serde_json::Value, ScheduledError> {
        let report = match job {
            ScheduledJob::OutboxRelay => {
                serde_json::to_value(self.publisher.relay(self.relay).await?)
            }
            ScheduledJob::ColdLeads => {
                let now = self.clock.now();
                let mut moved = 0;
                loop {
                    let batch =
                        store::scoring::mark_cold_leads(&self.db, now, COLD_LEADS_BATCH).await?;
                    moved += batch;
                    if batch < COLD_LEADS_BATCH as u64 {
                        break;
                    }
                }
                Ok(serde_json::json!({ "moved_to_cold": moved }))
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
