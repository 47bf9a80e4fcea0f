//! Billing: the plan a workspace is on, and the Stripe webhook's use case that keeps it in sync.
//!
//! SQL beside this module (`billing/*.sql`, listed in [`crate::schema`]):
//! - `effective_plan.sql`: `effective_plan_id()` and `workspace_conversation_limit()`, the one
//!   access rule every limit reads (subscription plan while trialing/active/past_due, else the
//!   workspace's own plan).
//! - `usage.sql`: the usage period and counters.
//! - `stripe_rules.sql`: the order of Stripe's statuses (the tie rule of subscription events,
//!   invoices never moving backwards), mirrored from `domain::stripe`.
//! - `ingest_stripe.sql`: `ingest_stripe()`, one verified event journaled and applied in one
//!   statement: checkout links a workspace to its customer and applies the events that waited
//!   for it; subscription and invoice events upsert their rows under the order rules; audit rows
//!   for every plan or status change. Its header comment lists the outcomes and the lock order.
//!
//! Rust's part is small on purpose: [`StripeDelivery::new`] turns the parsed event
//! (`domain::stripe`) into the JSON `ingest_stripe` takes, [`ingest_stripe`] runs it (one round
//! trip), [`record_failure`] journals an event alone when applying failed, and
//! [`StripeDelivery::from_journal`] rebuilds an event from its journal row for the replay job.

use crate::journal::{self, Provider};
use crate::{Db, StoreError};
use domain::stripe::{EventObject, StripeEvent, StripeEventError};
use serde::Deserialize;
use serde_json::{Value, json};
use tokio_postgres::types::Type;
use uuid::Uuid;

/// The whole write: journal, link, subscription/invoice, pending events, audit rows.
const INGEST_SQL: &str = "SELECT ingest_stripe($1, $2, $3)";

/// One verified Stripe event, ready to be journaled and applied.
#[derive(Debug, Clone)]
pub struct StripeDelivery {
    event_key: String,
    /// The body as the journal keeps it.
    payload: Value,
    /// What `ingest_stripe` applies (`p`; see `billing/ingest_stripe.sql`).
    input: Value,
}

impl StripeDelivery {
    /// `body` is the verified body as JSON (the event was parsed from the same bytes).
    pub fn new(event: &StripeEvent, body: Value) -> Self {
        let (kind, object, reasons) = match &event.object {
            EventObject::Checkout(checkout) => {
                ("checkout", to_json(checkout), checkout.problems.clone())
            }
            EventObject::Subscription(subscription) => (
                "subscription",
                to_json(subscription),
                subscription.problems.clone(),
            ),
            EventObject::Invoice(invoice) => {
                ("invoice", to_json(invoice), invoice.problems.clone())
            }
            EventObject::Unhandled => ("unhandled", Value::Null, Vec::new()),
            EventObject::Unreadable(problem) => (
                "unreadable",
                Value::Null,
                vec![format!("{problem}; not applied")],
            ),
        };
        let input = json!({
            "kind": kind,
            "type": event.event_type.as_str(),
            "created": event.created,
            "livemode": event.livemode,
            "object": object,
            "reasons": reasons,
        });
        Self {
            event_key: event.id.as_str().to_owned(),
            payload: body,
            input,
        }
    }

    /// Rebuilds a journaled event for a replay. The journal keeps the body as jsonb, whose text
    /// differs from the bytes Stripe signed, but the signature was checked when it arrived and
    /// the event is read by its JSON, not its bytes.
    ///
    /// # Errors
    /// When the stored body is no longer an event (it always was one when it was journaled).
    pub fn from_journal(payload: &Value) -> Result<Self, StripeEventError> {
        let text = payload.to_string();
        let event = StripeEvent::parse(text.as_bytes())?;
        Ok(Self::new(&event, payload.clone()))
    }

    /// The journal key: Stripe's event id.
    pub fn event_key(&self) -> &str {
        &self.event_key
    }

    /// The `kind` of the event's object as `ingest_stripe` sees it (`subscription`, …).
    pub fn kind(&self) -> &str {
        self.input["kind"].as_str().unwrap_or_default()
    }
}

/// The facts are serialisable by construction (strings, numbers, timestamps, UUIDs).
fn to_json<T: serde::Serialize>(value: &T) -> Value {
    serde_json::to_value(value).unwrap_or(Value::Null)
}

domain::text_enum! {
    /// What `ingest_stripe` did with an event (also what a replay of it answers).
    Outcome, UnknownOutcome {
        /// A subscription or invoice row was written.
        Applied => "applied",
        /// Older than what is stored: nothing was written.
        Stale => "stale",
        /// No workspace is linked to its customer yet; applied when a checkout links it.
        Pending => "pending",
        /// A checkout linked a workspace to its customer (and applied what was pending).
        Linked => "linked",
        /// A type, or a checkout mode, that changes nothing.
        Ignored => "ignored",
        /// Nothing says which workspace it belongs to.
        Unlinked => "unlinked",
        /// A handled type whose object could not be read.
        Unreadable => "unreadable",
    }
}

/// A pending event applied by a checkout's link.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct PendingApplied {
    pub event_id: String,
    pub outcome: Outcome,
}

/// `ingest_stripe`'s answer.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct StripeResult {
    pub event_id: String,
    #[serde(rename = "type")]
    pub event_type: String,
    pub outcome: Outcome,
    /// The event was processed before: this is its stored result and nothing was written.
    pub duplicate: bool,
    pub workspace_id: Option<Uuid>,
    /// Why parts of the event were not applied; ids, statuses and field names only.
    #[serde(default)]
    pub reasons: Vec<String>,
    #[serde(default)]
    pub pending_applied: Vec<PendingApplied>,
}

/// Journals and applies an event in one statement (see the module doc).
///
/// # Errors
/// Any database error; nothing was written then. [`StoreError::is_transient`] tells whether
/// Stripe's retry may succeed; otherwise call [`record_failure`].
pub async fn ingest_stripe(db: &Db, delivery: &StripeDelivery) -> Result<StripeResult, StoreError> {
    let client = db.client().await?;
    let rows = client
        .query_typed(
            INGEST_SQL,
            &[
                (&delivery.event_key, Type::TEXT),
                (&delivery.payload, Type::JSONB),
                (&delivery.input, Type::JSONB),
            ],
        )
        .await?;
    let result: Value = rows
        .first()
        .ok_or_else(|| decode_error("ingest_stripe returned no row"))?
        .try_get(0)?;
    serde_json::from_value(result).map_err(|source| StoreError::Decode {
        context: "ingest_stripe result",
        source: Box::new(source),
    })
}

/// Journals an event alone, with why applying failed, for the replay job. Returns false when
/// the event had been applied already.
///
/// # Errors
/// Any database error.
pub async fn record_failure(
    db: &Db,
    delivery: &StripeDelivery,
    reason: &str,
) -> Result<bool, StoreError> {
    journal::record_failure(
        db,
        Provider::Stripe,
        &delivery.event_key,
        None,
        &delivery.payload,
        reason,
    )
    .await
}

fn decode_error(what: &'static str) -> StoreError {
    StoreError::Decode {
        context: what,
        source: what.into(),
    }
}
