//! The usage_reset job's statements: new billing periods and ended scrape-quota windows.
//!
//! - [`ensure_usage_rows`] ([`usage_rows.sql`](resets/usage_rows.sql)): every workspace's
//!   `workspace_usage` row for the period containing "now", with the period from
//!   `usage_period()`, the function metering uses.
//! - [`reset_scrape_quotas`] ([`scrape_quotas.sql`](resets/scrape_quotas.sql)): quota windows
//!   whose `reset_at` passed restart at 0 until the next midnight in the workspace's timezone,
//!   with an audit row keeping what the ended window counted.
//!
//! Neither changes or deletes anything that was counted, and each is idempotent per period.

use crate::tasks::no_row;
use crate::{Db, StoreError};
use chrono::{DateTime, Utc};
use serde::Serialize;
use tokio_postgres::types::Type;

/// What [`ensure_usage_rows`] did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct UsageRowsReport {
    /// Workspaces seen.
    pub workspaces: i64,
    /// Usage rows created (workspaces that had none for the current period).
    pub usage_rows_created: i64,
}

/// Makes sure every workspace has its usage row for the period containing `now`.
pub async fn ensure_usage_rows(db: &Db, now: DateTime<Utc>) -> Result<UsageRowsReport, StoreError> {
    let client = db.client().await?;
    let row = client
        .query_typed(
            include_str!("resets/usage_rows.sql"),
            &[(&now, Type::TIMESTAMPTZ)],
        )
        .await?
        .into_iter()
        .next()
        .ok_or_else(no_row("resets/usage_rows.sql"))?;
    Ok(UsageRowsReport {
        workspaces: row.try_get("workspaces")?,
        usage_rows_created: row.try_get("usage_rows_created")?,
    })
}

/// What [`reset_scrape_quotas`] did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct QuotaResetReport {
    /// Quota windows restarted.
    pub quotas_reset: i64,
    /// Audit rows written (one per window restarted).
    pub audited: i64,
}

/// Restarts every scrape-quota window whose `reset_at` is at or before `now`.
pub async fn reset_scrape_quotas(
    db: &Db,
    now: DateTime<Utc>,
) -> Result<QuotaResetReport, StoreError> {
    let client = db.client().await?;
    let row = client
        .query_typed(
            include_str!("resets/scrape_quotas.sql"),
            &[(&now, Type::TIMESTAMPTZ)],
        )
        .await?
        .into_iter()
        .next()
        .ok_or_else(no_row("resets/scrape_quotas.sql"))?;
    Ok(QuotaResetReport {
        quotas_reset: row.try_get("quotas_reset")?,
        audited: row.try_get("audited")?,
    })
}
