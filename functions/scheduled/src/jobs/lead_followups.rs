//! `lead_followups`, hourly.
//!
//! Why: workspaces define a `lead_inactive` rule ("a lead silent for N days gets a follow-up
//! task"); NEXUS OS stored such rules and never ran them. A lead going silent is an absence of
//! events, so a schedule has to find it. Hourly is well under the rule's unit (days), so a task
//! appears within the hour the lead crosses the line.
//!
//! Per workspace with an active rule (`inactive_days`, `priority`, `due_hours`, defaulting to 2,
//! `high`, 24), a lead gets one `follow_up` task when it is active, not opted out, not
//! `Converted` or `Closed Lost`; its last customer message is older than `inactive_days`; it has
//! no open automatic follow-up; and none was created for it within `inactive_days`. The title
//! names at most the lead's first name. One statement (store::tasks::create_followups); the
//! partial unique index on open automatic tasks keeps concurrent runs to one task per lead.

use crate::schedule::Schedule;
use chrono::{DateTime, Utc};
use store::tasks::FollowupReport;
use store::{Db, StoreError};

pub const NAME: &str = "lead_followups";
pub const SCHEDULE: Schedule = Schedule::EveryMinutes(60);

/// Follow-up tasks created per run, so a workspace that just turned the rule on over a large
/// backlog gets its tasks over a few hours rather than one run inserting without bound.
pub const MAX_TASKS_PER_RUN: i64 = 250_000;

pub async fn run(db: &Db, now: DateTime<Utc>) -> Result<FollowupReport, StoreError> {
    store::tasks::create_followups(db, now, MAX_TASKS_PER_RUN).await
}
