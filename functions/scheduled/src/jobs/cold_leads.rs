//! `cold_leads`, daily at 03:30 UTC.
//!
//! Why: a lead moves to `Cold` because of what did *not* happen (no customer message for 30
//! days), so no webhook or scoring job ever fires for it; a schedule has to look. Scoring alone
//! would only notice the next time the lead writes, which for a cold lead may be never.

use crate::schedule::Schedule;
use chrono::{DateTime, Utc};
use serde::Serialize;
use store::{Db, StoreError};

pub const NAME: &str = "cold_leads";
pub const SCHEDULE: Schedule = Schedule::DailyAt {
    hour: 3,
    minute: 30,
};

/// Leads moved to `Cold` per statement; the job repeats until none are left, so a backlog is
/// worked off in bounded statements that never hold many lead locks at once.
pub const BATCH: i32 = 1_000;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Summary {
    pub moved_to_cold: u64,
}

pub async fn run(db: &Db, now: DateTime<Utc>) -> Result<Summary, StoreError> {
    let mut moved = 0;
    loop {
        let batch = store::scoring::mark_cold_leads(db, now, BATCH).await?;
        moved += batch;
        if batch < BATCH as u64 {
            break;
        }
    }
    Ok(Summary {
        moved_to_cold: moved,
    })
}
