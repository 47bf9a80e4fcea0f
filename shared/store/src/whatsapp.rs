//! The WhatsApp webhook's use case: a verified Meta delivery journaled and applied at once.
//!
//! - [`Delivery::from_body`] parses the body once (`domain::whatsapp`) and takes what needs no
//!   database from the domain (`domain::whatsapp_ingest`: identities, intents, consent, reasons
//!   with JSON paths); this module only binds it. A body that is not a WhatsApp webhook at all
//!   is still a delivery: it is journaled with the reason and nothing else.
//! - [`ingest`] sends the whole delivery to `ingest_whatsapp()` (`whatsapp/ingest_whatsapp.sql`)
//!   in one statement: journal, leads, identities, messages, intents, sessions, consent, usage
//!   and outbox rows are written in one implicit transaction, or none are. A prepared statement
//!   cached per connection keeps the hot path at one round trip.
//! - [`journal_unapplied`] is the failure path: when applying fails, the delivery is journaled
//!   alone with the reason (processed_at NULL, [`crate::journal::record_failure`]), so nothing
//!   Meta sent is lost: the `journal_replay` job, or Meta's next retry, applies it.
//! - [`Delivery::from_journal`] rebuilds a delivery from its journal row, for that replay.
//!
//! Reasons name JSON paths, our own ids and Meta's error codes, never a phone number, a name or
//! message text: they end up in `webhook_events.error` and in logs.

use crate::{Db, StoreError, outbox::OutboxMessage};
use domain::jobs::Queue;
use domain::whatsapp::{self, WhatsAppParseError};
use domain::whatsapp_ingest::IngestInput;
use serde::Deserialize;
use serde_json::{Map, Value, json};
use sha2::{Digest, Sha256};
use std::fmt;
use tokio_postgres::types::Type;
use uuid::Uuid;

/// `webhook_events.provider` of every WhatsApp delivery.
pub const PROVIDER: &str = "whatsapp";

/// The whole write: `$1` the journal key ([`Delivery::event_key`]), `$2` the journal payload as
/// JSON text ([`Delivery::payload`]), `$3` what the domain mapped ([`Delivery::input`]).
pub const INGEST_SQL: &str = "SELECT ingest_whatsapp($1, $2::text::jsonb, $3)";

/// One verified delivery, ready to be journaled and applied.
pub struct Delivery {
    event_key: String,
    payload: String,
    /// `payload` is the body's own text (not [`wrapped_body`]).
    payload_is_body: bool,
    input: Value,
    reasons: Vec<String>,
    messages: usize,
    statuses: usize,
}

impl fmt::Debug for Delivery {
    /// Counts only: the payload carries phone numbers, names and message text.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Delivery")
            .field("event_key", &self.event_key)
            .field("messages", &self.messages)
            .field("statuses", &self.statuses)
            .field("reasons", &self.reasons.len())
            .finish()
    }
}

impl Delivery {
    /// Reads a body whose signature has been verified. Never fails: what cannot be read becomes
    /// a reason, and the body itself is always journaled.
    pub fn from_body(raw: &[u8]) -> Self {
        let event_key = hex::encode(Sha256::digest(raw));
        let parsed = whatsapp::parse_webhook(raw);
        // The journal keeps the body as jsonb when PostgreSQL can hold it: JSON (only NotJson
        // says it is not) without the NUL escape, which jsonb refuses on top of serde_json.
        let payload_is_body =
            !matches!(parsed, Err(WhatsAppParseError::NotJson { .. })) && !contains_nul_escape(raw);
        let payload = if payload_is_body {
            String::from_utf8_lossy(raw).into_owned()
        } else {
            wrapped_body(raw)
        };
        let plan = match &parsed {
            Ok(webhook) => IngestInput::from_webhook(webhook),
            Err(error) => IngestInput::unreadable(error),
        };
        let mut input = serde_json::to_value(&plan).unwrap_or_default();
        strip_nul(&mut input);
        Self {
            event_key,
            payload,
            payload_is_body,
            input,
            messages: plan.messages.len(),
            statuses: plan.statuses.len(),
            reasons: plan.reasons,
        }
    }

    /// Rebuilds a journaled delivery for a replay: the body as the journal kept it (the body
    /// itself as jsonb, or [`wrapped_body`]'s `body_text`/`body_hex`), under its original key
    /// (the SHA-256 of the bytes Meta sent, which jsonb's re-serialised text would not give).
    pub fn from_journal(event_key: &str, payload: &Value) -> Self {
        let wrapped_text = payload.get("body_text").and_then(Value::as_str);
        let wrapped_hex = payload.get("body_hex").and_then(Value::as_str);
        let raw = match (wrapped_text, wrapped_hex) {
            (Some(text), _) => text.as_bytes().to_vec(),
            (None, Some(hex_text)) => hex::decode(hex_text).unwrap_or_default(),
            (None, None) => payload.to_string().into_bytes(),
        };
        let mut delivery = Self::from_body(&raw);
        delivery.event_key = event_key.to_owned();
        delivery
    }

    /// The journal key: SHA-256 of the body, hex. Meta's retry of a body has the same key.
    pub fn event_key(&self) -> &str {
        &self.event_key
    }

    /// What the domain mapped, as `ingest_whatsapp()` takes it (see the SQL's header).
    pub fn input(&self) -> &Value {
        &self.input
    }

    /// Messages that can be applied (they name a sender).
    pub fn message_count(&self) -> usize {
        self.messages
    }

    pub fn status_count(&self) -> usize {
        self.statuses
    }

    /// Why parts of the delivery cannot be mapped, as known before the database is asked.
    pub fn reasons(&self) -> &[String] {
        &self.reasons
    }

    /// The journal payload as JSON text: the body itself, or, when PostgreSQL's jsonb could
    /// not hold it (not JSON, or a `\u0000` escape), the body wrapped by [`wrapped_body`].
    pub fn payload(&self) -> &str {
        &self.payload
    }
}

/// What [`ingest`] did.
#[derive(Debug, Clone, PartialEq)]
pub enum Ingested {
    /// This exact body was journaled and applied before: nothing was written.
    Duplicate,
    Applied(Applied),
}

/// A delivery journaled and applied.
#[derive(Debug, Clone, PartialEq)]
pub struct Applied {
    pub event_id: Uuid,
    /// The workspace of every mapped change, when there is exactly one.
    pub workspace_id: Option<Uuid>,
    /// New `conversations` rows (messages seen before are not stored again).
    pub messages_stored: u64,
    /// Statuses that found our stored outgoing message.
    pub statuses_matched: u64,
    /// Leads that received a new message.
    pub leads: Vec<LeadTouched>,
    /// The committed `score_lead` jobs, one per lead, to publish now.
    pub jobs: Vec<OutboxMessage>,
    /// Each workspace's usage for the period after this delivery.
    pub usage: Vec<Usage>,
    /// Why parts were not applied (also in `webhook_events.error`).
    pub reasons: Vec<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
pub struct LeadTouched {
    pub lead_id: Uuid,
    pub created: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
pub struct Usage {
    pub workspace_id: Uuid,
    pub conversations: i32,
    pub messages: i32,
    /// The plan's monthly conversation limit; `None` is unlimited.
    pub conversation_limit: Option<i32>,
}

impl Usage {
    /// Leads are never refused for billing reasons; this only tells.
    pub fn over_limit(&self) -> bool {
        self.conversation_limit
            .is_some_and(|limit| self.conversations > limit)
    }
}

/// Journals and applies a delivery in one statement (see the module doc).
///
/// # Errors
/// Any database error; nothing was written then. [`StoreError::is_transient`] tells whether a
/// retry may succeed; otherwise call [`journal_unapplied`].
pub async fn ingest(db: &Db, delivery: &Delivery) -> Result<Ingested, StoreError> {
    let client = db.client().await?;
    // Unnamed (one round trip, pooler-safe) unless the statement cache is on (pool.rs).
    let row = crate::pool::query_hot_opt(
        &client,
        INGEST_SQL,
        &[
            (&delivery.event_key, Type::TEXT),
            (&delivery.payload, Type::TEXT),
            (&delivery.input, Type::JSONB),
        ],
    )
    .await?
    .ok_or_else(|| StoreError::Decode {
        context: "ingest_whatsapp",
        source: "returned no row".into(),
    })?;
    let result: Value = row.try_get(0)?;
    decode(result)
}

/// Journals a delivery without applying it, with why applying failed, so it can be replayed.
/// Returns false when the body had been applied already.
pub async fn journal_unapplied(
    db: &Db,
    delivery: &Delivery,
    reason: &str,
) -> Result<bool, StoreError> {
    // Wrapped whatever it is: this path must not fail for the reason the first one did.
    let payload = if delivery.payload_is_body {
        wrapped_body(delivery.payload.as_bytes())
    } else {
        delivery.payload.clone()
    };
    let payload: Value = serde_json::from_str(&payload).map_err(|e| StoreError::Decode {
        context: "wrapped WhatsApp body",
        source: Box::new(e),
    })?;
    crate::journal::record_failure(
        db,
        crate::journal::Provider::WhatsApp,
        &delivery.event_key,
        None,
        &payload,
        reason,
    )
    .await
}

#[derive(Deserialize)]
struct RawResult {
    duplicate: bool,
    event_id: Option<Uuid>,
    workspace_id: Option<Uuid>,
    #[serde(default)]
    messages_stored: u64,
    #[serde(default)]
    statuses_matched: u64,
    #[serde(default)]
    leads: Vec<LeadTouched>,
    #[serde(default)]
    jobs: Vec<RawJob>,
    #[serde(default)]
    usage: Vec<Usage>,
    #[serde(default)]
    reasons: Vec<String>,
}

#[derive(Deserialize)]
struct RawJob {
    id: i64,
    queue: String,
    payload: Value,
}

fn decode(result: Value) -> Result<Ingested, StoreError> {
    let decode_error = |source: Box<dyn std::error::Error + Send + Sync>| StoreError::Decode {
        context: "ingest_whatsapp result",
        source,
    };
    let raw: RawResult = serde_json::from_value(result).map_err(|e| decode_error(Box::new(e)))?;
    if raw.duplicate {
        return Ok(Ingested::Duplicate);
    }
    let event_id = raw
        .event_id
        .ok_or_else(|| decode_error("no event_id".into()))?;
    let jobs = raw
        .jobs
        .into_iter()
        .map(|job| {
            let queue = job
                .queue
                .parse::<Queue>()
                .map_err(|e| decode_error(format!("queue {:?}: {e}", job.queue).into()))?;
            Ok(OutboxMessage {
                id: job.id,
                queue,
                payload: job.payload,
                attempts: 0,
            })
        })
        .collect::<Result<_, StoreError>>()?;
    Ok(Ingested::Applied(Applied {
        event_id,
        workspace_id: raw.workspace_id,
        messages_stored: raw.messages_stored,
        statuses_matched: raw.statuses_matched,
        leads: raw.leads,
        jobs,
        usage: raw.usage,
        reasons: raw.reasons,
    }))
}

/// True when the JSON text has a `\u0000` escape, which PostgreSQL's jsonb refuses.
fn contains_nul_escape(raw: &[u8]) -> bool {
    raw.windows(6).any(|w| w == b"\\u0000")
}

/// The body as a JSON document PostgreSQL always accepts: `{"body_text": "…"}` for UTF-8
/// without NUL characters, else `{"body_hex": "…"}`. Lossless either way.
fn wrapped_body(raw: &[u8]) -> String {
    let wrapped = match std::str::from_utf8(raw) {
        Ok(text) if !text.contains('\0') => json!({ "body_text": text }),
        _ => json!({ "body_hex": hex::encode(raw) }),
    };
    wrapped.to_string()
}

/// Replaces NUL characters in every string and key: PostgreSQL text cannot hold them.
fn strip_nul(value: &mut Value) {
    match value {
        Value::String(s) if s.contains('\0') => *s = s.replace('\0', "\u{FFFD}"),
        Value::Array(items) => items.iter_mut().for_each(strip_nul),
        Value::Object(map) => {
            if map.keys().any(|k| k.contains('\0')) {
                let old = std::mem::take(map);
                *map = old
                    .into_iter()
                    .map(|(k, v)| (k.replace('\0', "\u{FFFD}"), v))
                    .collect::<Map<String, Value>>();
            }
            map.values_mut().for_each(strip_nul);
        }
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bodies_jsonb_cannot_hold_are_journaled_wrapped() {
        let cases: &[(&str, &[u8], &str)] = &[
            ("not JSON", b"hello", r#"{"body_text":"hello"}"#),
            ("invalid UTF-8", b"\xff\x00", r#"{"body_hex":"ff00"}"#),
        ];
        for (case, raw, payload) in cases {
            let delivery = Delivery::from_body(raw);
            assert_eq!(delivery.payload(), *payload, "{case}");
            assert_eq!(delivery.message_count(), 0, "{case}");
            assert!(delivery.reasons()[0].starts_with("body: "), "{case}");
        }
        let nul = br#"{"object":"whatsapp_business_account","entry":[],"x":"a\u0000b"}"#;
        let delivery = Delivery::from_body(nul);
        assert!(
            delivery.payload().starts_with(r#"{"body_text":"#),
            "NUL escape"
        );
    }

    #[test]
    fn nul_characters_are_replaced_in_strings_and_keys() {
        let mut value = json!({"a\u{0}": ["x\u{0}y", {"k": "\u{0}"}]});
        strip_nul(&mut value);
        assert_eq!(
            value,
            json!({"a\u{FFFD}": ["x\u{FFFD}y", {"k": "\u{FFFD}"}]})
        );
    }

    #[test]
    fn debug_shows_counts_not_content() {
        let raw = br#"{"object":"whatsapp_business_account","entry":[{"id":"1","changes":[{"field":"messages","value":{"metadata":{"phone_number_id":"1"},"messages":[{"from":"919876543210","id":"wamid.1","timestamp":"1","type":"text","text":{"body":"secret words"}}]}}]}]}"#;
        let delivery = Delivery::from_body(raw);
        let debug = format!("{delivery:?}");
        assert!(
            !debug.contains("secret") && !debug.contains("9876543210"),
            "{debug}"
        );
        assert_eq!(delivery.message_count(), 1);
    }
}
