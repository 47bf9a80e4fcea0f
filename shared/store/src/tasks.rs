//! Tasks (NEXUS OS, in English): the set-based rules the scheduled jobs run over `tasks`.
//!
//! - [`mark_overdue`] ([`mark_overdue.sql`](tasks/mark_overdue.sql)): open tasks past due and
//!   postponed tasks past `postponed_until` become `overdue`, one audit row each.
//! - [`create_followups`] ([`create_followups.sql`](tasks/create_followups.sql)): one
//!   `follow_up` task per lead that each workspace's `lead_inactive` rule says went silent.
//!
//! Each is one statement whatever the number of rows, so a run costs the same round trips for
//! ten tasks or a million, and each is idempotent: a second run at the same "now" changes nothing.

use crate::{Db, StoreError};
use chrono::{DateTime, Utc};
use serde::Serialize;
use tokio_postgres::types::Type;

/// What one run of [`mark_overdue`] changed.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct OverdueReport {
    /// Tasks that became `overdue`.
    pub marked: i64,
    /// Audit rows written (one per task marked).
    pub audited: i64,
}

/// The `overdue_tasks` statement (`$1` now). Public so the jobs bench times exactly it.
pub const MARK_OVERDUE_SQL: &str = include_str!("tasks/mark_overdue.sql");

/// The `lead_followups` statement (`$1` now, `$2` the cap). Public for the jobs bench.
pub const CREATE_FOLLOWUPS_SQL: &str = include_str!("tasks/create_followups.sql");

/// Marks every due task `overdue` as of `now`, in one statement.
pub async fn mark_overdue(db: &Db, now: DateTime<Utc>) -> Result<OverdueReport, StoreError> {
    let client = db.client().await?;
    let row = client
        .query_typed(MARK_OVERDUE_SQL, &[(&now, Type::TIMESTAMPTZ)])
        .await?
        .into_iter()
        .next()
        .ok_or_else(no_row("tasks/mark_overdue.sql"))?;
    Ok(OverdueReport {
        marked: row.try_get("marked")?,
        audited: row.try_get("audited")?,
    })
}

/// What one run of [`create_followups`] did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct FollowupReport {
    /// Active `lead_inactive` rules read (one per workspace at most).
    pub rules: i64,
    /// Follow-up tasks created.
    pub created: i64,
    /// Audit rows written (one per task created).
    pub audited: i64,
}

/// Creates at most `limit` follow-up tasks for silent leads as of `now`, in one statement.
pub async fn create_followups(
    db: &Db,
    now: DateTime<Utc>,
    limit: i64,
) -> Result<FollowupReport, StoreError> {
    let client = db.client().await?;
    let row = client
        .query_typed(
            CREATE_FOLLOWUPS_SQL,
            &[(&now, Type::TIMESTAMPTZ), (&limit, Type::INT8)],
        )
        .await?
        .into_iter()
        .next()
        .ok_or_else(no_row("tasks/create_followups.sql"))?;
    Ok(FollowupReport {
        rules: row.try_get("rules")?,
        created: row.try_get("created")?,
        audited: row.try_get("audited")?,
    })
}

/// The error for an aggregate statement that returned no row (it always returns one).
pub(crate) fn no_row(context: &'static str) -> impl FnOnce() -> StoreError {
    move || StoreError::Decode {
        context,
        source: "the statement returned no row".into(),
    }
}
