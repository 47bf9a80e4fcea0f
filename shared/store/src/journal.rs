//! The inbound journal (`webhook_events`), one protocol for every webhook.
//!
//! Every verified delivery is kept. A provider's apply function (`ingest_web_agent`,
//! `ingest_whatsapp`, `ingest_stripe`) opens the journal, applies the delivery and closes the
//! journal in one statement (`journal/journal.sql`), so the row and the effects commit together,
//! and a replayed delivery is answered from its stored result. When applying fails,
//! [`record_failure`] journals the delivery alone, in its own transaction, with the reason; the
//! `journal_replay` scheduled job calls [`replay_due`], which applies it again through the same
//! use case, with backoff, until it applies or [`MAX_ATTEMPTS`] marks it failed.
//!
//! Reasons stored in `webhook_events.error` name error kinds, SQLSTATEs, JSON paths and our own
//! ids, never a database message (those can quote values), a phone number or message text.

use crate::outbox::OutboxMessage;
use crate::{Db, StoreError, billing, web_agent, whatsapp};
use chrono::{DateTime, Duration, Utc};
use domain::ids::WorkspaceId;
use serde::Serialize;
use serde_json::Value;
use tokio_postgres::types::Type;
use uuid::Uuid;

/// Attempts the replay job makes before it marks a delivery failed for a person to look at.
pub const MAX_ATTEMPTS: i32 = 8;
/// The wait after the first failed replay; it doubles with every further attempt.
pub const FIRST_BACKOFF: Duration = Duration::minutes(1);
/// The longest wait between two attempts.
pub const MAX_BACKOFF: Duration = Duration::hours(6);
/// How long a claimed delivery is left to the run that claimed it before another run may.
const CLAIM_LEASE_SECS: f64 = 300.0;

domain::text_enum! {
    /// Who sent a delivery (`webhook_events.provider`).
    Provider, UnknownProvider {
        WebAgent => "web_agent",
        WhatsApp => "whatsapp",
        Stripe => "stripe",
    }
}

/// Journals a delivery that could not be applied, alone and with why, so nothing a provider sent
/// is lost. Returns false when the delivery had been applied already (nothing changes then).
pub async fn record_failure(
    db: &Db,
    provider: Provider,
    event_key: &str,
    workspace_id: Option<Uuid>,
    payload: &Value,
    error: &str,
) -> Result<bool, StoreError> {
    let client = db.client().await?;
    let written = client
        .execute_typed(
            include_str!("journal/record_failure.sql"),
            &[
                (&provider.as_str(), Type::TEXT),
                (&event_key, Type::TEXT),
                (&workspace_id, Type::UUID),
                (payload, Type::JSONB),
                (&error, Type::TEXT),
            ],
        )
        .await?;
    Ok(written == 1)
}

/// A reason for `webhook_events.error` when applying failed: the error's kind and SQLSTATE,
/// never a database message (those can quote values).
pub fn failure_reason(error: &StoreError) -> String {
    let code = match error {
        StoreError::Database(e) => e.code().map(|c| c.code().to_owned()),
        _ => None,
    };
    match code {
        Some(code) => format!("not applied: {error} (SQLSTATE {code}); replay from the journal"),
        None => format!("not applied: {error}; replay from the journal"),
    }
}

/// The wait before attempt `attempts + 1`, after `attempts` failed ones.
pub fn backoff(attempts: i32) -> Duration {
    let doublings = u32::try_from(attempts.saturating_sub(1).clamp(0, 20)).unwrap_or(0);
    FIRST_BACKOFF
        .checked_mul(1 << doublings)
        .map_or(MAX_BACKOFF, |wait| wait.min(MAX_BACKOFF))
}

/// What one run of [`replay_due`] did.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct ReplayReport {
    /// Deliveries claimed for an attempt.
    pub claimed: u64,
    /// Applied by this run (or found applied already: a provider's retry got there first).
    pub applied: u64,
    /// Failed again; tried later after the backoff.
    pub retry_later: u64,
    /// Failed for the last time, or can never apply (a body that no longer parses); marked
    /// `failed_at` for a person to look at.
    pub failed: u64,
    /// The jobs the applied deliveries committed, for the caller to publish.
    #[serde(skip)]
    pub jobs: Vec<OutboxMessage>,
}

/// A claimed journal row.
struct Claimed {
    id: Uuid,
    provider: String,
    event_key: String,
    workspace_id: Option<Uuid>,
    payload: Value,
    attempts: i32,
    default_region: Option<String>,
}

/// How one attempt ended.
enum Attempt {
    Applied(Vec<OutboxMessage>),
    /// Worth trying again (the reason is stored).
    Failed(String),
    /// Can never apply; stop trying.
    Hopeless(String),
}

/// Which journaled deliveries a replay on demand takes (`local -- replay`).
#[derive(Debug, Clone, Default)]
pub struct ReplayFilter {
    /// Only this provider's deliveries.
    pub provider: Option<Provider>,
    /// Only deliveries received at or after this moment.
    pub since: Option<DateTime<Utc>>,
    /// Attempt them now, whatever their backoff says.
    pub ignore_backoff: bool,
}

/// Journaled deliveries not applied (yet to be retried, or given up for a person): what the
/// `journal_replay` job reports as the metric the `JournalUnapplied` alarm watches.
pub async fn unapplied_count(db: &Db) -> Result<i64, StoreError> {
    let client = db.client().await?;
    let row = client
        .query_typed_one(
            "SELECT count(*) FROM webhook_events WHERE processed_at IS NULL",
            &[],
        )
        .await?;
    Ok(row.try_get(0)?)
}

/// Re-applies up to `limit` journaled deliveries whose next attempt is due at `now` (the
/// `journal_replay` scheduled job).
pub async fn replay_due(
    db: &Db,
    now: DateTime<Utc>,
    limit: i64,
) -> Result<ReplayReport, StoreError> {
    replay(db, now, limit, &ReplayFilter::default()).await
}

/// Re-applies up to `limit` unapplied journaled deliveries that `filter` selects.
pub async fn replay(
    db: &Db,
    now: DateTime<Utc>,
    limit: i64,
    filter: &ReplayFilter,
) -> Result<ReplayReport, StoreError> {
    let claimed = {
        let client = db.client().await?;
        let provider = filter.provider.map(Provider::as_str);
        let rows = client
            .query_typed(
                include_str!("journal/claim_due.sql"),
                &[
                    (&now, Type::TIMESTAMPTZ),
                    (&limit, Type::INT8),
                    (&CLAIM_LEASE_SECS, Type::FLOAT8),
                    (&provider, Type::TEXT),
                    (&filter.since, Type::TIMESTAMPTZ),
                    (&filter.ignore_backoff, Type::BOOL),
                ],
            )
            .await?;
        rows.iter()
            .map(|row| {
                Ok(Claimed {
                    id: row.try_get("id")?,
                    provider: row.try_get("provider")?,
                    event_key: row.try_get("event_key")?,
                    workspace_id: row.try_get("workspace_id")?,
                    payload: row.try_get("payload")?,
                    attempts: row.try_get("attempts")?,
                    default_region: row.try_get("default_region")?,
                })
            })
            .collect::<Result<Vec<_>, StoreError>>()?
    };

    let mut report = ReplayReport {
        claimed: claimed.len() as u64,
        ..ReplayReport::default()
    };
    // One delivery at a time: each is its provider's whole use case (one statement), exactly
    // as when it first arrived; a batch of them in one statement would let one bad delivery
    // roll back the others.
    for row in claimed {
        let (reason, give_up) = match apply(db, &row).await {
            Attempt::Applied(jobs) => {
                report.applied += 1;
                report.jobs.extend(jobs);
                continue;
            }
            Attempt::Failed(reason) => (reason, row.attempts >= MAX_ATTEMPTS),
            Attempt::Hopeless(reason) => (reason, true),
        };
        if give_up {
            report.failed += 1;
        } else {
            report.retry_later += 1;
        }
        tracing::warn!(
            event_id = %row.id,
            provider = %row.provider,
            attempts = row.attempts,
            give_up,
            %reason,
            "journaled delivery failed to apply again"
        );
        let next = now + backoff(row.attempts);
        let client = db.client().await?;
        client
            .execute_typed(
                include_str!("journal/mark_attempt_failed.sql"),
                &[
                    (&row.id, Type::UUID),
                    (&reason, Type::TEXT),
                    (&give_up, Type::BOOL),
                    (&next, Type::TIMESTAMPTZ),
                    (&now, Type::TIMESTAMPTZ),
                ],
            )
            .await?;
    }
    Ok(report)
}

async fn apply(db: &Db, row: &Claimed) -> Attempt {
    match row.provider.parse::<Provider>().ok() {
        Some(Provider::WebAgent) => apply_web_agent(db, row).await,
        Some(Provider::WhatsApp) => {
            let delivery = whatsapp::Delivery::from_journal(&row.event_key, &row.payload);
            match whatsapp::ingest(db, &delivery).await {
                Ok(whatsapp::Ingested::Applied(applied)) => Attempt::Applied(applied.jobs),
                Ok(whatsapp::Ingested::Duplicate) => Attempt::Applied(Vec::new()),
                Err(error) => Attempt::Failed(failure_reason(&error)),
            }
        }
        Some(Provider::Stripe) => match billing::StripeDelivery::from_journal(&row.payload) {
            // Stripe events enqueue no jobs.
            Ok(delivery) => match billing::ingest_stripe(db, &delivery).await {
                Ok(_) => Attempt::Applied(Vec::new()),
                Err(error) => Attempt::Failed(failure_reason(&error)),
            },
            Err(error) => {
                Attempt::Hopeless(format!("the body is no longer a Stripe event: {error}"))
            }
        },
        None => Attempt::Hopeless(format!(
            "no replay for provider {:?} in this build",
            row.provider
        )),
    }
}

async fn apply_web_agent(db: &Db, row: &Claimed) -> Attempt {
    let (Some(workspace_id), Some(region)) = (row.workspace_id, row.default_region.as_deref())
    else {
        return Attempt::Hopeless("the delivery's workspace no longer exists".to_owned());
    };
    let command = match domain::web_agent::WebAgentCommand::parse(&row.payload, region) {
        Ok(command) => command,
        Err(errors) => {
            return Attempt::Hopeless(format!(
                "the body no longer parses: fields {}",
                errors.fields().join(", ")
            ));
        }
    };
    let client = match db.client().await {
        Ok(client) => client,
        Err(error) => return Attempt::Failed(failure_reason(&error)),
    };
    let workspace_id = WorkspaceId::from_uuid(workspace_id);
    match web_agent::ingest(
        &client,
        workspace_id,
        &row.event_key,
        &command,
        &row.payload,
    )
    .await
    {
        Ok(web_agent::IngestOutcome::Ingested(ingested)) => {
            Attempt::Applied(ingested.job.into_iter().collect())
        }
        Ok(web_agent::IngestOutcome::Rejected(errors)) => {
            Attempt::Hopeless(format!("refused: fields {}", errors.fields().join(", ")))
        }
        Err(error) => Attempt::Failed(failure_reason(&error)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_from_one_minute_and_stops_at_six_hours() {
        let cases = [
            (0, 1),
            (1, 1),
            (2, 2),
            (3, 4),
            (4, 8),
            (9, 256),
            (10, 360),
            (40, 360),
        ];
        for (attempts, minutes) in cases {
            assert_eq!(
                backoff(attempts),
                Duration::minutes(minutes),
                "after {attempts} failed attempts"
            );
        }
    }

    #[test]
    fn providers_round_trip_through_their_stored_names() {
        for provider in Provider::ALL {
            assert_eq!(provider.as_str().parse::<Provider>(), Ok(provider));
        }
        assert!("email".parse::<Provider>().is_err());
    }
}
