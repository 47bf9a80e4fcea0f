//! The scheduled-jobs function: EventBridge Scheduler invokes it with `{"job": "<name>"}` and it
//! runs that one job. Every job is set-based (one or a few statements, never a loop per row) and
//! idempotent per period: running it twice changes nothing the second time, so a retried or
//! doubled schedule does no harm. Each returns a JSON summary of counts, which is logged and is
//! the invocation's result.
//!
//! Modules:
//! - [`jobs`]: one module per job, each with its name, schedule, limits and why it exists:
//!   [`jobs::outbox_relay`] (every minute), [`jobs::journal_replay`] (every 5 minutes),
//!   [`jobs::stale_scores`] (every 10 minutes),
//!   [`jobs::overdue_tasks`] (every 15 minutes), [`jobs::lead_followups`] (hourly),
//!   [`jobs::cold_leads`] (daily) and [`jobs::usage_reset`] (daily).
//! - [`metrics`]: CloudWatch metrics written as embedded-metric-format log lines (the outbox's
//!   oldest unpublished row, unapplied journal deliveries), which template.yaml's alarms watch.
//! - [`schedule`]: [`Schedule`], the one definition of "how often" that template.yaml is checked
//!   against and the local stack's timers are built from.
//!
//! The SQL lives in the store (`store::tasks`, `store::resets`, `store::rescoring`,
//! `store::scoring`, `store::journal`); this crate only picks the job, passes "now" from the injected
//! [`Clock`] and the job's limits, and reports.

pub mod jobs;
pub mod metrics;
pub mod schedule;

pub use schedule::Schedule;

use jobs::{
    cold_leads, journal_replay, lead_followups, outbox_relay, overdue_tasks, stale_scores,
    usage_reset,
};
use platform::clock::Clock;
use platform::jobs::{Publisher, RelaySettings};
use serde::{Deserialize, Serialize};
use store::{Db, StoreError};

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
    OverdueTasks,
    LeadFollowups,
    UsageReset,
    StaleScores,
    JournalReplay,
}

impl ScheduledJob {
    pub const ALL: [ScheduledJob; 7] = [
        ScheduledJob::OutboxRelay,
        ScheduledJob::ColdLeads,
        ScheduledJob::OverdueTasks,
        ScheduledJob::LeadFollowups,
        ScheduledJob::UsageReset,
        ScheduledJob::StaleScores,
        ScheduledJob::JournalReplay,
    ];

    /// The name in the schedule's input (`{"job": …}`), the local CLI and route.
    pub fn name(self) -> &'static str {
        match self {
            Self::OutboxRelay => outbox_relay::NAME,
            Self::ColdLeads => cold_leads::NAME,
            Self::OverdueTasks => overdue_tasks::NAME,
            Self::LeadFollowups => lead_followups::NAME,
            Self::UsageReset => usage_reset::NAME,
            Self::StaleScores => stale_scores::NAME,
            Self::JournalReplay => journal_replay::NAME,
        }
    }

    /// How often it runs (template.yaml's schedule must say the same).
    pub fn schedule(self) -> Schedule {
        match self {
            Self::OutboxRelay => outbox_relay::SCHEDULE,
            Self::ColdLeads => cold_leads::SCHEDULE,
            Self::OverdueTasks => overdue_tasks::SCHEDULE,
            Self::LeadFollowups => lead_followups::SCHEDULE,
            Self::UsageReset => usage_reset::SCHEDULE,
            Self::StaleScores => stale_scores::SCHEDULE,
            Self::JournalReplay => journal_replay::SCHEDULE,
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
    #[error("could not serialise the job's summary")]
    Summary(#[from] serde_json::Error),
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
    /// Runs one job and returns its summary (logged, and the invocation's result).
    pub async fn run(&self, job: ScheduledJob) -> Result<serde_json::Value, ScheduledError> {
        // One "now" per run: every statement of a job sees the same instant.
        let now = self.clock.now();
        let db = &self.db;
        let summary = match job {
            ScheduledJob::OutboxRelay => {
                summarise(outbox_relay::run(db, &self.publisher, self.relay, now).await?)
            }
            ScheduledJob::ColdLeads => summarise(cold_leads::run(db, now).await?),
            ScheduledJob::OverdueTasks => summarise(overdue_tasks::run(db, now).await?),
            ScheduledJob::LeadFollowups => summarise(lead_followups::run(db, now).await?),
            ScheduledJob::UsageReset => summarise(usage_reset::run(db, now).await?),
            ScheduledJob::StaleScores => summarise(stale_scores::run(db, now).await?),
            ScheduledJob::JournalReplay => {
                summarise(journal_replay::run(db, &self.publisher, now).await?)
            }
        }?;
        tracing::info!(job = job.name(), %summary, "scheduled job done");
        Ok(summary)
    }

    /// Runs a job given by name (the Lambda input, the local CLI and route).
    pub async fn run_named(&self, name: &str) -> Result<serde_json::Value, ScheduledError> {
        self.run(ScheduledJob::parse(name)?).await
    }

    /// The Lambda entry point's logic: decode the input, run the job.
    pub async fn handle(&self, input: ScheduledInput) -> Result<serde_json::Value, ScheduledError> {
        self.run_named(&input.job).await
    }
}

fn summarise(summary: impl Serialize) -> Result<serde_json::Value, ScheduledError> {
    Ok(serde_json::to_value(summary)?)
}
