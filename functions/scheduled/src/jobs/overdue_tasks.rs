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

/// No per-run cap: the one UPDATE finds due tasks through partial indexes and writes each row
/// once; capping would need a locked sub-select that writes every row twice (see the SQL).
pub async fn run(db: &Db, now: DateTime<Utc>) -> Result<OverdueReport, StoreError> {
    store::tasks::mark_overdue(db, now).await
}
