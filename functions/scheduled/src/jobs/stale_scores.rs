//! `stale_scores`, every 10 minutes.
//!
//! Why: scoring is driven by jobs, and a job can be lost: it reached the dead-letter queue, or
//! its outbox row was given up after too many failed publishes. The lead would then keep a score
//! older than its newest message until it writes again. This job is the safety net that makes
//! scoring converge: it enqueues a `score_lead` job (reason [`REASON`]) for every lead whose
//! newest customer message is newer than `last_scored_at`, in one statement, capped per run, at
//! most once per lead and new message.

use crate::schedule::Schedule;
use chrono::{DateTime, Utc};
use serde::Serialize;
use std::time::Duration;
use store::{Db, StoreError};

pub const NAME: &str = "stale_scores";
pub const SCHEDULE: Schedule = Schedule::EveryMinutes(10);

/// The `reason` of the jobs it enqueues, so a scored lead's history says why.
pub const REASON: &str = store::rescoring::STALE_SCORE_REASON;

/// Jobs enqueued per run: bounds the burst the scoring queue gets after an outage; the rest
/// follow in the next runs.
pub const MAX_JOBS_PER_RUN: i64 = 5_000;

/// A message younger than this still has its own job in flight (publish, queue, consumer take
/// seconds); enqueuing a second one would only duplicate work.
pub const GRACE: Duration = Duration::from_secs(5 * 60);

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Summary {
    pub enqueued: i64,
}

pub async fn run(db: &Db, now: DateTime<Utc>) -> Result<Summary, StoreError> {
    Ok(Summary {
        enqueued: store::rescoring::enqueue_stale(db, now, MAX_JOBS_PER_RUN, GRACE).await?,
    })
}
