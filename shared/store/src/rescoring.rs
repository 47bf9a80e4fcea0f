//! Re-scoring as a safety net: [`enqueue_stale`] ([`enqueue_stale.sql`](rescoring/enqueue_stale.sql))
//! writes a `score_lead` job to the outbox for every lead whose newest customer message is newer
//! than its last score, so scoring converges even when the job a message enqueued was lost.

use crate::tasks::no_row;
use crate::{Db, StoreError};
use chrono::{DateTime, Utc};
use std::time::Duration;
use tokio_postgres::types::Type;

/// The `reason` of the jobs [`enqueue_stale`] writes. The SQL spells it out (a partial index
/// needs a literal); a test checks the two agree.
pub const STALE_SCORE_REASON: &str = "stale_score";

/// Enqueues at most `limit` score_lead jobs for leads whose newest customer message is newer
/// than their last score and older than `grace`; returns how many were enqueued.
pub async fn enqueue_stale(
    db: &Db,
    now: DateTime<Utc>,
    limit: i64,
    grace: Duration,
) -> Result<i64, StoreError> {
    let grace = i64::try_from(grace.as_secs()).unwrap_or(i64::MAX);
    let grace = format!("{grace} seconds");
    let client = db.client().await?;
    let row = client
        .query_typed(
            include_str!("rescoring/enqueue_stale.sql"),
            &[
                (&now, Type::TIMESTAMPTZ),
                (&limit, Type::INT8),
                (&grace, Type::TEXT),
            ],
        )
        .await?
        .into_iter()
        .next()
        .ok_or_else(no_row("rescoring/enqueue_stale.sql"))?;
    Ok(row.try_get("enqueued")?)
}
