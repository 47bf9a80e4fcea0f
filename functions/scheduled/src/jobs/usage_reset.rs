//! `usage_reset`, daily at 00:05 UTC.
//!
//! Why: counters are per period, and a period starts by the calendar (or the subscription's
//! billing cycle), not by any event. Without this job a workspace's usage row for a new period
//! appears only with its first message, so dashboards show the old period until then; and a
//! scrape quota whose day ended still shows yesterday's count until the agent scrapes again.
//!
//! - Every workspace gets its `workspace_usage` row for the period containing now, with the
//!   period from `usage_period()`, the same function metering uses.
//! - Scrape quota windows whose `reset_at` passed restart at 0 until the next midnight in the
//!   workspace's timezone; an audit row keeps what each ended window counted.
//!
//! Nothing counted is changed or deleted. Daily is enough because every reader also restarts an
//! ended window itself; this job makes the stored rows agree with that.

use crate::schedule::Schedule;
use chrono::{DateTime, Utc};
use serde::Serialize;
use store::resets::{QuotaResetReport, UsageRowsReport};
use store::{Db, StoreError};

pub const NAME: &str = "usage_reset";
pub const SCHEDULE: Schedule = Schedule::DailyAt { hour: 0, minute: 5 };

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Summary {
    #[serde(flatten)]
    pub usage: UsageRowsReport,
    #[serde(flatten)]
    pub quotas: QuotaResetReport,
}

pub async fn run(db: &Db, now: DateTime<Utc>) -> Result<Summary, StoreError> {
    Ok(Summary {
        usage: store::resets::ensure_usage_rows(db, now).await?,
        quotas: store::resets::reset_scrape_quotas(db, now).await?,
    })
}
