//! `overdue_tasks`, every 15 minutes.
//!
//! Why: a task becomes overdue because time passed, not because anyone touched it, so only a
//! schedule can mark it. Agents' task lists and reminders read `status = 'overdue'`; without this
//! job a missed follow-up would look pending forever. Exact rules (NEXUS OS had looser ones):
//! `pending` and `in_progress` tasks past `due_at`, and `postponed` tasks past `postponed_until`,
//! become `overdue`, each with one audit row; completed, cancelled, soft-deleted, not-yet-due and
//! still-postponed tasks are left alone. One statement (store::tasks::mark_overdue).

use crate::schedule::Schedule;
use chrono::{DateTime, Utc};
use store::tasks::OverdueReport;
use store::{Db, StoreError};

pub const NAME: &str = "overdue_tasks";
pub const SCHEDULE: Schedule = Schedule::EveryMinutes(15);

/// Tasks marked per run. Far above any normal 15-minute backlog, so one run marks everything due
/// in one statement; a larger backlog (say after an outage) is finished by the following runs
/// instead of one run holding row locks on millions of tasks.
pub const MAX_TASKS_PER_RUN: i64 = 1_000_000;

pub async fn run(db: &Db, now: DateTime<Utc>) -> Result<OverdueReport, StoreError> {
    store::tasks::mark_overdue(db, now, MAX_TASKS_PER_RUN).await
}
