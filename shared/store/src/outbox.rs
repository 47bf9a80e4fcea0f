//! The transactional outbox.
//!
//! A job is written to `outbox` in the same transaction as the data that caused it, so it exists
//! if and only if that data was committed. After commit the producer publishes it and marks it
//! published; if that fails (SQS down, the function frozen or killed), the `outbox_relay` job
//! finds the row after a grace period and publishes it. Delivery is therefore at least once;
//! consumers are idempotent.
//!
//! The relay claims rows with `FOR UPDATE SKIP LOCKED` and leases them by pushing `available_at`
//! forward in the same statement, so two relays running at once never claim the same row, and a
//! relay that dies mid-publish only delays its rows until the lease ends. Failures are recorded
//! (`attempts`, `last_error`) with exponential backoff up to one hour, and a row is retried at that
//! pace for as long as it takes: never given up, never deleted unpublished. The `outbox_relay`
//! job reports the oldest unpublished row's age as a metric, so a row that keeps failing is seen
//! (the `OutboxStuck` alarm). Published rows are pruned after a retention period.

use crate::StoreError;
use domain::jobs::{Job, Queue};
use std::time::Duration;
use tokio_postgres::GenericClient;
use tokio_postgres::types::Type;

/// A job row on its way to a queue.
#[derive(Debug, Clone, PartialEq)]
pub struct OutboxMessage {
    pub id: i64,
    pub queue: Queue,
    pub payload: serde_json::Value,
    pub attempts: i32,
}

impl OutboxMessage {
    fn from_row(row: &tokio_postgres::Row) -> Result<Self, StoreError> {
        let queue_name: String = row.try_get("queue")?;
        let queue = queue_name
            .parse::<Queue>()
            .map_err(|e| StoreError::Decode {
                context: "outbox.queue",
                source: format!("{queue_name:?}: {e}").into(),
            })?;
        Ok(Self {
            id: row.try_get("id")?,
            queue,
            payload: row.try_get("payload")?,
            attempts: row.try_get("attempts")?,
        })
    }
}

/// Writes `jobs` to the outbox with the caller's client or transaction, in one statement.
pub async fn enqueue<C: GenericClient>(
    client: &C,
    jobs: &[Job],
) -> Result<Vec<OutboxMessage>, StoreError> {
    if jobs.is_empty() {
        return Ok(Vec::new());
    }
    let queues: Vec<&str> = jobs.iter().map(|job| job.queue().as_str()).collect();
    let payloads: Vec<serde_json::Value> = jobs.iter().map(Job::to_value).collect();
    let rows = client
        .query_typed(
            "INSERT INTO outbox (queue, payload)
             SELECT queue, payload FROM unnest($1::text[], $2::jsonb[]) AS j (queue, payload)
             RETURNING id, queue, payload, attempts",
            &[(&queues, Type::TEXT_ARRAY), (&payloads, Type::JSONB_ARRAY)],
        )
        .await?;
    rows.iter().map(OutboxMessage::from_row).collect()
}

/// Marks rows published (a row already published stays as it was).
pub async fn mark_published<C: GenericClient>(client: &C, ids: &[i64]) -> Result<u64, StoreError> {
    if ids.is_empty() {
        return Ok(0);
    }
    Ok(client
        .execute_typed(
            "UPDATE outbox SET published_at = now(), last_error = NULL
             WHERE id = ANY($1) AND published_at IS NULL",
            &[(&ids, Type::INT8_ARRAY)],
        )
        .await?)
}

/// Records failed publishes: one more attempt, the error, and a backoff of
/// 5 s × 2^attempts (at most an hour) before the relay tries again.
pub async fn mark_failed<C: GenericClient>(
    client: &C,
    failures: &[(i64, String)],
) -> Result<u64, StoreError> {
    if failures.is_empty() {
        return Ok(0);
    }
    let ids: Vec<i64> = failures.iter().map(|(id, _)| *id).collect();
    let errors: Vec<&str> = failures.iter().map(|(_, e)| e.as_str()).collect();
    Ok(client
        .execute_typed(
            include_str!("outbox/mark_failed.sql"),
            &[(&ids, Type::INT8_ARRAY), (&errors, Type::TEXT_ARRAY)],
        )
        .await?)
}

/// Claims up to `limit` rows that are still unpublished `grace` after they were written and
/// whose backoff has passed, oldest first, leasing them for `lease`, however often they failed.
pub async fn claim_due<C: GenericClient>(
    client: &C,
    limit: i64,
    grace: Duration,
    lease: Duration,
) -> Result<Vec<OutboxMessage>, StoreError> {
    let rows = client
        .query_typed(
            include_str!("outbox/claim_due.sql"),
            &[
                (&limit, Type::INT8),
                (&seconds(grace), Type::FLOAT8),
                (&seconds(lease), Type::FLOAT8),
            ],
        )
        .await?;
    rows.iter().map(OutboxMessage::from_row).collect()
}

/// How long the oldest unpublished row has waited, in seconds at `now`; `0` when none waits.
/// The `outbox_relay` job reports it as the metric the `OutboxStuck` alarm watches.
pub async fn oldest_unpublished_age<C: GenericClient>(
    client: &C,
    now: chrono::DateTime<chrono::Utc>,
) -> Result<f64, StoreError> {
    let row = client
        .query_typed_one(
            "SELECT coalesce(extract(epoch FROM $1 - min(created_at))::float8, 0)
             FROM outbox WHERE published_at IS NULL",
            &[(&now, Type::TIMESTAMPTZ)],
        )
        .await?;
    Ok(row.try_get::<_, f64>(0)?.max(0.0))
}

/// Deletes up to `limit` rows published more than `retention` ago. Unpublished rows are never
/// deleted here.
pub async fn prune_published<C: GenericClient>(
    client: &C,
    retention: Duration,
    limit: i64,
) -> Result<u64, StoreError> {
    Ok(client
        .execute_typed(
            "DELETE FROM outbox WHERE id IN (
                 SELECT id FROM outbox
                 WHERE published_at < now() - make_interval(secs => $1)
                 ORDER BY published_at LIMIT $2)",
            &[(&seconds(retention), Type::FLOAT8), (&limit, Type::INT8)],
        )
        .await?)
}

fn seconds(duration: Duration) -> f64 {
    duration.as_secs_f64()
}
