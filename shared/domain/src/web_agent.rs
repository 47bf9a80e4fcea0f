//! The web-agent webhook body (`POST /webhooks/web-agent`, docs/architecture.md §5.2), parsed.
//!
//! A website chat agent's server posts contact details, session events and messages with
//! PROXe's field names:
//!
//! ```text
//! name, phone, email, external_session_id, message_id, message, sender, website_url,
//! conversation_summary, user_inputs_summary, metadata, booking {status, date, time}, agent_id
//! ```
//!
//! [`WebAgentCommand::parse`] turns the JSON body into typed values or a [`ValidationErrors`]
//! naming *every* bad field, so a client fixes them all in one round trip. Unknown fields are
//! ignored (chat agents send more than we read); the body itself is kept in the journal as sent.
//!
//! Readings chosen where the contract leaves room (each is pinned by a test):
//! - `null`, a missing field and a blank string all mean "not given": chat widgets post `""` for
//!   what the visitor has not typed yet. Text is trimmed, except `message`, kept as written.
//! - `phone` and the two ids may also be JSON integers (`9876543210`): agents built on loosely
//!   typed stacks send them that way, and the digits are unambiguous.
//! - Someone must be identifiable: a phone, an email or an `external_session_id`. Whether a
//!   session alone identifies a lead (it does only once it is linked to one) is the database's
//!   answer, not the parser's; a body with none of the three is refused here, naming all three.
//! - `sender` is required with `message`: guessing `customer` would count the bot's own replies
//!   as the customer's interest and inflate scores.
//! - A booking with a date but no status is `pending` (decided where it is stored, because a
//!   status already stored wins); a booking object whose members are all absent is no booking.
//! - No string anywhere in the body may contain NUL: PostgreSQL cannot store it in text or
//!   JSONB, and the whole body is journaled.
//!
//! Personal data (name, phone, email, message text, summaries) never reaches `Debug` output or
//! an error message, so neither a log line nor a 422 can leak it.

use crate::email::Email;
use crate::ids::AgentId;
use crate::intent::{self, IntentHit};
use crate::phone::PhoneNumber;
use crate::validation::ValidationErrors;
use chrono::{Datelike, NaiveDate, NaiveTime};
use serde_json::{Map, Value};
use std::fmt;

/// Longest `name`, in characters.
pub const MAX_NAME_CHARS: usize = 200;
/// Longest `external_session_id` or `message_id`, in characters (the database allows 200 for a
/// session id, and a message id becomes part of a 300-character journal key).
pub const MAX_ID_CHARS: usize = 200;
/// Longest `message`, in characters. Chat messages are short; this bounds a pasted document.
pub const MAX_MESSAGE_CHARS: usize = 10_000;
/// Longest `conversation_summary` or `user_inputs_summary`, in characters.
pub const MAX_SUMMARY_CHARS: usize = 10_000;
/// Longest `website_url`, in characters (what browsers and CDNs reliably handle).
pub const MAX_URL_CHARS: usize = 2_048;
/// Largest `metadata` object, in bytes of compact JSON.
pub const MAX_METADATA_BYTES: usize = 16 * 1024;

crate::text_enum! {
    /// Who wrote a message in the web chat, by the code stored in `conversations.sender`.
    Sender, UnknownSender {
        /// The website visitor.
        Customer => "customer",
        /// The chat agent (the AI bot or a person answering through it).
        Agent => "agent",
        /// The chat platform itself (a "visitor left" notice, a form submission echo).
        System => "system",
    }
}

impl Sender {
    /// Chat agents write the code in any case.
    fn from_code(code: &str) -> Option<Self> {
        code.to_ascii_lowercase().parse().ok()
    }
}

crate::text_enum! {
    /// The state of a booking, as PROXe's web agent reports it, by the code stored in
    /// `leads.booking_status` and `web_sessions.booking_status`.
    BookingStatus, UnknownBookingStatus {
        Pending => "pending",
        Confirmed => "confirmed",
        Cancelled => "cancelled",
    }
}

impl BookingStatus {
    /// Any case, and the US spelling "canceled", which is common enough to accept rather than
    /// refuse.
    fn from_code(code: &str) -> Option<Self> {
        match code.to_ascii_lowercase().as_str() {
            "canceled" => Some(Self::Cancelled),
            code => code.parse().ok(),
        }
    }
}

/// What the body says about a booking; at least one member is present.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Booking {
    pub status: Option<BookingStatus>,
    pub date: Option<NaiveDate>,
    pub time: Option<NaiveTime>,
}

/// The chat session's id in the chat agent (`external_session_id`): one `web_sessions` row each.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ExternalSessionId(String);

impl ExternalSessionId {
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// The client's id of one message (`message_id`): the delivery's idempotency key.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct MessageId(String);

impl MessageId {
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A phone number as the visitor typed it, and what it means.
#[derive(Clone, PartialEq, Eq)]
pub struct EnteredPhone {
    /// The E.164 number: what matching uses.
    pub number: PhoneNumber,
    /// As entered (trimmed): kept in `leads.phone_raw`.
    pub raw: String,
}

impl fmt::Debug for EnteredPhone {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("EnteredPhone([redacted])")
    }
}

/// A message to append to the conversation log.
#[derive(Clone, PartialEq, Eq)]
pub struct ChatMessage {
    /// As written (not trimmed: whitespace can be meaningful in a pasted message).
    pub text: String,
    pub sender: Sender,
}

impl fmt::Debug for ChatMessage {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ChatMessage")
            .field(
                "text",
                &format_args!("[{} chars]", self.text.chars().count()),
            )
            .field("sender", &self.sender)
            .finish()
    }
}

/// A web-agent delivery, parsed. Every field is optional, but at least one of `phone`, `email`
/// and `external_session_id` is present.
#[derive(Clone, PartialEq)]
pub struct WebAgentCommand {
    pub name: Option<String>,
    pub phone: Option<EnteredPhone>,
    pub email: Option<Email>,
    pub external_session_id: Option<ExternalSessionId>,
    pub message_id: Option<MessageId>,
    pub message: Option<ChatMessage>,
    pub website_url: Option<String>,
    pub conversation_summary: Option<String>,
    pub user_inputs_summary: Option<String>,
    pub metadata: Option<Map<String, Value>>,
    pub booking: Option<Booking>,
    pub agent_id: Option<AgentId>,
}

/// Ids and shapes only: every field that can hold personal data is reduced to its presence.
impl fmt::Debug for WebAgentCommand {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("WebAgentCommand")
            .field("name", &self.name.as_ref().map(|_| "[redacted]"))
            .field("phone", &self.phone)
            .field("email", &self.email)
            .field("external_session_id", &self.external_session_id)
            .field("message_id", &self.message_id)
            .field("message", &self.message)
            .field("website_url", &self.website_url.is_some())
            .field("conversation_summary", &self.conversation_summary.is_some())
            .field("user_inputs_summary", &self.user_inputs_summary.is_some())
            .field("metadata", &self.metadata.as_ref().map(Map::len))
            .field("booking", &self.booking)
            .field("agent_id", &self.agent_id)
            .finish()
    }
}

impl WebAgentCommand {
    /// Parses a body, reading national phone numbers in `default_region` (the workspace's).
    pub fn parse(body: &Value, default_region: &str) -> Result<Self, ValidationErrors> {
        let Some(object) = body.as_object() else {
            return Err(ValidationErrors::single("body", "must be a JSON object"));
        };
        if let Some(field) = field_with_nul(object) {
            return Err(ValidationErrors::single(
                field,
                "must not contain NUL characters",
            ));
        }
        let mut errors = ValidationErrors::new();
        let field = |name: &str| object.get(name).unwrap_or(&Value::Null);

        let name = errors
            .check("name", line_text(field("name"), MAX_NAME_CHARS))
            .flatten();
        let phone_raw = errors
            .check("phone", digits_or_text(field("phone")))
            .flatten();
        let phone = phone_raw.as_ref().and_then(|raw| {
            errors
                .check("phone", PhoneNumber::parse(raw, default_region))
                .map(|number| EnteredPhone {
                    number,
                    raw: raw.clone(),
                })
        });
        let email_raw = errors.check("email", present(field("email"))).flatten();
        let email = email_raw.and_then(|raw| errors.check("email", Email::parse(raw)));
        let external_session_id = errors
            .check("external_session_id", id_text(field("external_session_id")))
            .flatten()
            .map(ExternalSessionId);
        let message_id = errors
            .check("message_id", id_text(field("message_id")))
            .flatten()
            .map(MessageId);
        let message = parse_message(field("message"), field("sender"), &mut errors);
        let website_url = errors
            .check(
                "website_url",
                line_text(field("website_url"), MAX_URL_CHARS),
            )
            .flatten();
        let conversation_summary = errors
            .check(
                "conversation_summary",
                long_text(field("conversation_summary"), MAX_SUMMARY_CHARS),
            )
            .flatten();
        let user_inputs_summary = errors
            .check(
                "user_inputs_summary",
                long_text(field("user_inputs_summary"), MAX_SUMMARY_CHARS),
            )
            .flatten();
        let metadata = errors
            .check("metadata", metadata(field("metadata")))
            .flatten();
        let booking = parse_booking(field("booking"), &mut errors);
        let agent_id = errors
            .check("agent_id", agent_id(field("agent_id")))
            .flatten();

        // Nobody to identify: only when none of the three was even given (a given but invalid
        // phone already has its own error).
        if !["phone", "email", "external_session_id"]
            .into_iter()
            .any(|name| is_given(field(name)))
        {
            for field in ["phone", "email", "external_session_id"] {
                errors.push(
                    field,
                    "one of phone, email or external_session_id is required to identify the lead",
                );
            }
        }

        errors.finish(|| Self {
            name,
            phone,
            email,
            external_session_id,
            message_id,
            message,
            website_url,
            conversation_summary,
            user_inputs_summary,
            metadata,
            booking,
            agent_id,
        })
    }

    /// The intents of a customer's message (docs/architecture.md §6.2): none for the agent's or the
    /// system's messages, which say nothing about what the customer wants.
    pub fn customer_intents(&self) -> Vec<IntentHit> {
        match &self.message {
            Some(message) if message.sender == Sender::Customer => intent::detect(&message.text),
            _ => Vec::new(),
        }
    }

    /// Why the lead is rescored after this delivery (the `reason` of its `score_lead` job).
    pub fn score_reason(&self) -> &'static str {
        if self.booking.is_some() {
            "web_agent_booking"
        } else if self.message.is_some() {
            "web_agent_message"
        } else {
            "web_agent_update"
        }
    }
}

/// Why a text field was refused. Messages complete a sentence about the field and never quote
/// its value.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
enum TextError {
    #[error("must be a string")]
    NotString,
    #[error("must be a string or an integer")]
    NotStringOrInteger,
    #[error("is longer than {0} characters")]
    TooLong(usize),
    #[error("must not contain control characters")]
    Control,
    #[error("must be a JSON object")]
    NotObject,
    #[error("is larger than {0} bytes")]
    TooLarge(usize),
    #[error("must be a UUID")]
    NotUuid,
}

/// False for null, missing and blank; true for anything else, valid or not.
fn is_given(value: &Value) -> bool {
    match value {
        Value::Null => false,
        Value::String(text) => !text.trim().is_empty(),
        _ => true,
    }
}

/// `None` for null, missing and blank.
fn present(value: &Value) -> Result<Option<&str>, TextError> {
    match value {
        Value::Null => Ok(None),
        Value::String(text) if text.trim().is_empty() => Ok(None),
        Value::String(text) => Ok(Some(text)),
        _ => Err(TextError::NotString),
    }
}

fn check_len(text: &str, max_chars: usize) -> Result<(), TextError> {
    if text.chars().nth(max_chars).is_some() {
        return Err(TextError::TooLong(max_chars));
    }
    Ok(())
}

/// A one-line value (name, email, URL): trimmed, capped, no control characters.
fn line_text(value: &Value, max_chars: usize) -> Result<Option<String>, TextError> {
    let Some(text) = present(value)? else {
        return Ok(None);
    };
    let text = text.trim();
    check_len(text, max_chars)?;
    if text.chars().any(char::is_control) {
        return Err(TextError::Control);
    }
    Ok(Some(text.to_owned()))
}

/// A free text (summaries): trimmed and capped; line breaks are fine.
fn long_text(value: &Value, max_chars: usize) -> Result<Option<String>, TextError> {
    let Some(text) = present(value)? else {
        return Ok(None);
    };
    let text = text.trim();
    check_len(text, max_chars)?;
    Ok(Some(text.to_owned()))
}

/// A string, or an integer read as its digits (phone numbers and ids sent as numbers).
fn digits_or_text(value: &Value) -> Result<Option<String>, TextError> {
    match value {
        // Unsigned only: `-98765…` is no phone number or id, yet its digits would parse as one.
        Value::Number(number) if number.is_u64() => Ok(Some(number.to_string())),
        Value::Number(_) | Value::Bool(_) | Value::Array(_) | Value::Object(_) => {
            Err(TextError::NotStringOrInteger)
        }
        _ => Ok(present(value)?.map(|text| text.trim().to_owned())),
    }
}

/// An id: a string or an integer, trimmed, capped, printable.
fn id_text(value: &Value) -> Result<Option<String>, TextError> {
    let Some(id) = digits_or_text(value)? else {
        return Ok(None);
    };
    check_len(&id, MAX_ID_CHARS)?;
    if id.chars().any(char::is_control) {
        return Err(TextError::Control);
    }
    Ok(Some(id))
}

fn metadata(value: &Value) -> Result<Option<Map<String, Value>>, TextError> {
    match value {
        Value::Null => Ok(None),
        Value::Object(map) if map.is_empty() => Ok(None),
        Value::Object(map) => {
            // Serializing a Value cannot fail (its keys are strings); the fallback only makes a
            // failure count as too large instead of panicking.
            let size = serde_json::to_vec(value).map_or(usize::MAX, |bytes| bytes.len());
            if size > MAX_METADATA_BYTES {
                return Err(TextError::TooLarge(MAX_METADATA_BYTES));
            }
            Ok(Some(map.clone()))
        }
        _ => Err(TextError::NotObject),
    }
}

fn agent_id(value: &Value) -> Result<Option<AgentId>, TextError> {
    let Some(text) = present(value)? else {
        return Ok(None);
    };
    text.parse().map(Some).map_err(|_| TextError::NotUuid)
}

fn parse_message(
    message: &Value,
    sender: &Value,
    errors: &mut ValidationErrors,
) -> Option<ChatMessage> {
    let message_given = is_given(message);
    let text = match message {
        Value::String(text) if message_given => match check_len(text, MAX_MESSAGE_CHARS) {
            Ok(()) => Some(text.clone()),
            Err(err) => {
                errors.push("message", err.to_string());
                None
            }
        },
        _ if message_given => {
            errors.push("message", TextError::NotString.to_string());
            None
        }
        _ => None,
    };
    let sender = match present(sender) {
        Ok(None) => {
            if message_given {
                errors.push(
                    "sender",
                    "is required with message (one of customer, agent, system)",
                );
            }
            None
        }
        Ok(Some(code)) => {
            let sender = Sender::from_code(code.trim());
            if sender.is_none() {
                errors.push("sender", "must be one of customer, agent, system");
            }
            sender
        }
        Err(err) => {
            errors.push("sender", err.to_string());
            None
        }
    };
    Some(ChatMessage {
        text: text?,
        sender: sender?,
    })
}

fn parse_booking(value: &Value, errors: &mut ValidationErrors) -> Option<Booking> {
    let object = match value {
        Value::Null => return None,
        Value::Object(object) => object,
        _ => {
            errors.push("booking", "must be a JSON object");
            return None;
        }
    };
    let member = |name: &str| object.get(name).unwrap_or(&Value::Null);
    let before = errors.errors().len();

    let status = match present(member("status")) {
        Ok(None) => None,
        Ok(Some(code)) => {
            let status = BookingStatus::from_code(code.trim());
            if status.is_none() {
                errors.push(
                    "booking.status",
                    "must be one of pending, confirmed, cancelled",
                );
            }
            status
        }
        Err(err) => {
            errors.push("booking.status", err.to_string());
            None
        }
    };
    let date = match present(member("date")) {
        Ok(None) => None,
        Ok(Some(text)) => {
            let date = parse_date(text.trim());
            if date.is_none() {
                errors.push("booking.date", "must be a calendar date written YYYY-MM-DD");
            }
            date
        }
        Err(err) => {
            errors.push("booking.date", err.to_string());
            None
        }
    };
    let time = match present(member("time")) {
        Ok(None) => None,
        Ok(Some(text)) => {
            let time = parse_time(text.trim());
            if time.is_none() {
                errors.push(
                    "booking.time",
                    "must be a time of day written HH:MM (24-hour)",
                );
            }
            time
        }
        Err(err) => {
            errors.push("booking.time", err.to_string());
            None
        }
    };

    if errors.errors().len() > before || (status.is_none() && date.is_none() && time.is_none()) {
        return None;
    }
    Some(Booking { status, date, time })
}

/// `YYYY-MM-DD` exactly, in years 0001 to 9999: chrono alone would also take `2026-1-5`, a date
/// written another way (`05/01/2026`) is ambiguous between regions, and year 0000 (1 BC to
/// chrono) is no year of PostgreSQL's `date`, so it would fail the whole write as a 500.
fn parse_date(text: &str) -> Option<NaiveDate> {
    let bytes = text.as_bytes();
    let shape = bytes.len() == 10
        && bytes.iter().enumerate().all(|(i, b)| match i {
            4 | 7 => *b == b'-',
            _ => b.is_ascii_digit(),
        });
    if !shape {
        return None;
    }
    NaiveDate::parse_from_str(text, "%Y-%m-%d")
        .ok()
        .filter(|date| date.year() >= 1)
}

/// `HH:MM`, or `HH:MM:SS` as databases print it; 24-hour.
fn parse_time(text: &str) -> Option<NaiveTime> {
    let bytes = text.as_bytes();
    let shape = |len: usize| {
        bytes.len() == len
            && bytes.iter().enumerate().all(|(i, b)| match i {
                2 | 5 => *b == b':',
                _ => b.is_ascii_digit(),
            })
    };
    if shape(5) {
        NaiveTime::parse_from_str(text, "%H:%M").ok()
    } else if shape(8) {
        NaiveTime::parse_from_str(text, "%H:%M:%S").ok()
    } else {
        None
    }
}

/// The body's top-level fields, as [`WebAgentCommand::parse`] reads them.
const FIELDS: [&str; 13] = [
    "name",
    "phone",
    "email",
    "external_session_id",
    "message_id",
    "message",
    "sender",
    "website_url",
    "conversation_summary",
    "user_inputs_summary",
    "metadata",
    "booking",
    "agent_id",
];

/// The first field holding a NUL anywhere inside it. Only our own field names are reported
/// (anything else is `body`): a key chosen by the client can be personal data, and field names
/// reach logs.
fn field_with_nul(object: &Map<String, Value>) -> Option<&'static str> {
    object.iter().find_map(|(key, value)| {
        if !key.contains('\0') && !has_nul(value) {
            return None;
        }
        Some(
            FIELDS
                .into_iter()
                .find(|field| field == key)
                .unwrap_or("body"),
        )
    })
}

fn has_nul(value: &Value) -> bool {
    match value {
        Value::String(text) => text.contains('\0'),
        Value::Array(items) => items.iter().any(has_nul),
        Value::Object(map) => map
            .iter()
            .any(|(key, item)| key.contains('\0') || has_nul(item)),
        Value::Null | Value::Bool(_) | Value::Number(_) => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::intent::Intent;
    use serde_json::json;

    fn parse(body: Value) -> Result<WebAgentCommand, ValidationErrors> {
        WebAgentCommand::parse(&body, "IN")
    }

    fn fields(result: Result<WebAgentCommand, ValidationErrors>) -> Vec<String> {
        match result {
            Ok(command) => panic!("expected field errors, got {command:?}"),
            Err(errors) => errors.errors().iter().map(|e| e.field.clone()).collect(),
        }
    }

    #[test]
    fn a_full_proxe_body_becomes_typed_values() {
        let command = parse(json!({
            "name": "  Asha Rao ",
            "phone": "+91 98765 43210",
            "email": " Asha@Example.COM",
            "external_session_id": "sess-1",
            "message_id": "msg-1",
            "message": "Is the 2 BHK still available? ",
            "sender": "customer",
            "website_url": "https://asha.example/listings/2",
            "conversation_summary": "Asked about 2 BHKs",
            "user_inputs_summary": "Budget 80L",
            "metadata": {"utm_source": "ads"},
            "booking": {"status": "confirmed", "date": "2026-12-05", "time": "10:30"},
            "agent_id": "0191c1a2-7b3c-7d4e-8f50-123456789abc",
            "unknown_field": "ignored",
        }))
        .expect("a valid body");

        assert_eq!(command.name.as_deref(), Some("Asha Rao"));
        let phone = command.phone.as_ref().expect("phone");
        assert_eq!(phone.number.as_str(), "+919876543210");
        assert_eq!(phone.raw, "+91 98765 43210", "kept as entered");
        assert_eq!(
            command.email.as_ref().map(Email::as_str),
            Some("asha@example.com")
        );
        assert_eq!(
            command
                .external_session_id
                .as_ref()
                .map(ExternalSessionId::as_str),
            Some("sess-1")
        );
        assert_eq!(
            command.message_id.as_ref().map(MessageId::as_str),
            Some("msg-1")
        );
        let message = command.message.as_ref().expect("message");
        assert_eq!(
            message.text, "Is the 2 BHK still available? ",
            "not trimmed"
        );
        assert_eq!(message.sender, Sender::Customer);
        assert_eq!(command.metadata.as_ref().map(Map::len), Some(1));
        assert_eq!(
            command.booking,
            Some(Booking {
                status: Some(BookingStatus::Confirmed),
                date: NaiveDate::from_ymd_opt(2026, 12, 5),
                time: NaiveTime::from_hms_opt(10, 30, 0),
            })
        );
        assert_eq!(
            command.agent_id.map(|id| id.to_string()).as_deref(),
            Some("0191c1a2-7b3c-7d4e-8f50-123456789abc")
        );
    }

    #[test]
    fn one_indian_number_written_four_ways_is_one_phone() {
        for raw in [
            "+91 98765 43210",
            "098765 43210",
            "9876543210",
            "0091-98765-43210",
        ] {
            let command = parse(json!({"phone": raw})).expect(raw);
            let phone = command.phone.expect("phone");
            assert_eq!(phone.number.as_str(), "+919876543210", "case {raw:?}");
            assert_eq!(phone.raw, raw, "case {raw:?}: the raw form is kept");
        }
    }

    #[test]
    fn null_missing_and_blank_all_mean_not_given() {
        let command = parse(json!({
            "phone": "9876543210",
            "name": "", "email": "   ", "external_session_id": null, "message_id": "",
            "message": "", "sender": null, "website_url": " ", "conversation_summary": "",
            "user_inputs_summary": null, "metadata": {}, "booking": {"status": "", "date": null},
            "agent_id": "",
        }))
        .expect("blanks are absences, not errors");
        assert!(command.name.is_none() && command.email.is_none());
        assert!(command.external_session_id.is_none() && command.message_id.is_none());
        assert!(command.message.is_none() && command.website_url.is_none());
        assert!(command.conversation_summary.is_none() && command.user_inputs_summary.is_none());
        assert!(
            command.metadata.is_none() && command.booking.is_none() && command.agent_id.is_none()
        );
    }

    #[test]
    fn every_bad_field_is_named_at_once() {
        let long_id = "x".repeat(MAX_ID_CHARS + 1);
        let result = parse(json!({
            "name": "x".repeat(MAX_NAME_CHARS + 1),
            "phone": "12345",
            "email": "not-an-email",
            "external_session_id": long_id,
            "message_id": {"nested": true},
            "message": "hello",
            "sender": "visitor",
            "website_url": 42,
            "conversation_summary": ["a"],
            "user_inputs_summary": "x".repeat(MAX_SUMMARY_CHARS + 1),
            "metadata": "utm=ads",
            "booking": {"status": "maybe", "date": "05/12/2026", "time": "25:00"},
            "agent_id": "agent-7",
        }));
        assert_eq!(
            fields(result),
            [
                "name",
                "phone",
                "email",
                "external_session_id",
                "message_id",
                "sender",
                "website_url",
                "conversation_summary",
                "user_inputs_summary",
                "metadata",
                "booking.status",
                "booking.date",
                "booking.time",
                "agent_id",
            ]
        );
    }

    #[test]
    fn error_messages_say_what_is_wrong_without_quoting_the_value() {
        let result =
            parse(json!({"phone": "+91 98765 4321", "email": "asha@", "name": "Asha\u{7}"}));
        let errors = result.expect_err("three bad fields");
        #[rustfmt::skip]
        let want = [
            ("name",  "must not contain control characters"),
            ("phone", "is not a possible phone number"),
            ("email", "has an invalid domain"),
        ];
        for ((field, message), got) in want.iter().zip(errors.errors()) {
            assert_eq!(
                (got.field.as_str(), got.message.as_str()),
                (*field, *message)
            );
        }
        let text = format!("{errors:?}");
        assert!(!text.contains("98765") && !text.contains("asha") && !text.contains("Asha"));
    }

    #[test]
    fn a_body_that_identifies_nobody_names_phone_email_and_session() {
        let result = parse(json!({"name": "Asha", "message": "hi", "sender": "customer"}));
        assert_eq!(fields(result), ["phone", "email", "external_session_id"]);
    }

    #[test]
    fn a_given_but_invalid_phone_is_its_own_error_not_also_an_identification_error() {
        for (body, why) in [
            (json!({"phone": "12345"}), "impossible number"),
            (json!({"phone": {"cc": "91"}}), "wrong type"),
            (json!({"phone": -9876543210_i64}), "negative number"),
        ] {
            assert_eq!(fields(parse(body)), ["phone"], "case {why}");
        }
    }

    #[test]
    fn a_session_id_alone_is_enough_for_the_parser() {
        let command =
            parse(json!({"external_session_id": "s-1", "message": "hi", "sender": "agent"}))
                .expect("the database decides whether the session is linked to a lead");
        assert!(command.phone.is_none() && command.email.is_none());
    }

    #[test]
    fn a_message_needs_a_sender_and_a_sender_alone_is_ignored() {
        assert_eq!(
            fields(parse(json!({"phone": "9876543210", "message": "hi"}))),
            ["sender"]
        );
        let command =
            parse(json!({"phone": "9876543210", "sender": "customer"})).expect("no message");
        assert!(command.message.is_none());
        assert_eq!(
            fields(parse(
                json!({"phone": "9876543210", "message": "x".repeat(MAX_MESSAGE_CHARS + 1)})
            )),
            ["message", "sender"],
            "a too-long message still needs its sender"
        );
    }

    #[test]
    fn senders_and_booking_statuses_are_read_case_insensitively() {
        #[rustfmt::skip]
        let cases = [
            ("Customer", "PENDING",   Sender::Customer, BookingStatus::Pending),
            ("agent",    "Confirmed", Sender::Agent,    BookingStatus::Confirmed),
            (" SYSTEM ", "canceled",  Sender::System,   BookingStatus::Cancelled),
        ];
        for (sender, status, want_sender, want_status) in cases {
            let command = parse(
                json!({"phone": "9876543210", "message": "m", "sender": sender,
                                       "booking": {"status": status}}),
            )
            .expect(sender);
            assert_eq!(
                command.message.map(|m| m.sender),
                Some(want_sender),
                "case {sender:?}"
            );
            assert_eq!(
                command.booking.and_then(|b| b.status),
                Some(want_status),
                "case {status:?}"
            );
        }
    }

    #[test]
    fn booking_dates_and_times_have_one_written_form() {
        #[rustfmt::skip]
        let cases = [
            ("2026-12-05", "10:30",    true,  "the documented form"),
            ("2026-12-05", "10:30:00", true,  "seconds, as databases print times"),
            ("2026-12-05", "00:00",    true,  "midnight"),
            ("2026-02-29", "10:30",    false, "not a leap year"),
            ("2026-1-5",   "10:30",    false, "unpadded date"),
            ("05/12/2026", "10:30",    false, "a regional date"),
            ("2026-12-05", "24:00",    false, "hour 24"),
            ("2026-12-05", "9:30",     false, "unpadded hour"),
            ("2026-12-05", "10:30 PM", false, "12-hour clock"),
            ("0000-01-01", "10:30",    false, "year zero, which PostgreSQL has not"),
            ("0001-01-01", "10:30",    true,  "the first year PostgreSQL's date has"),
            ("9999-12-31", "10:30",    true,  "the last four-digit year"),
        ];
        for (date, time, valid, why) in cases {
            let result =
                parse(json!({"phone": "9876543210", "booking": {"date": date, "time": time}}));
            assert_eq!(result.is_ok(), valid, "case {date} {time}: {why}");
        }
    }

    #[test]
    fn a_booking_in_year_zero_is_refused_naming_booking_date() {
        // It used to reach PostgreSQL, which has no year 0, and fail the whole delivery as a
        // 500 (issue 14); openapi.yaml documents the years 0001 to 9999.
        let result = parse(json!({"phone": "9876543210", "booking": {"date": "0000-01-01"}}));
        assert_eq!(fields(result), ["booking.date"]);
    }

    #[test]
    fn phone_and_ids_may_be_sent_as_integers() {
        let command =
            parse(json!({"phone": 9876543210_u64, "external_session_id": 42, "message_id": 7}))
                .expect("integers");
        assert_eq!(
            command.phone.map(|p| p.number.into_string()).as_deref(),
            Some("+919876543210")
        );
        assert_eq!(
            command.external_session_id.map(|s| s.0).as_deref(),
            Some("42")
        );
        assert_eq!(command.message_id.map(|m| m.0).as_deref(), Some("7"));
    }

    #[test]
    fn a_nul_anywhere_is_refused_naming_only_our_own_field() {
        #[rustfmt::skip]
        let cases = [
            (json!({"phone": "98765\u{0}43210"}),                          "phone"),
            (json!({"phone": "9876543210", "metadata": {"a": ["x\u{0}"]}}), "metadata"),
            (json!({"phone": "9876543210", "extra": "\u{0}"}),             "body"),
            (json!({"phone": "9876543210", "asha@x.co\u{0}": 1}),          "body"),
        ];
        for (body, want) in cases {
            assert_eq!(fields(parse(body)), [want], "case {want}");
        }
    }

    #[test]
    fn a_body_that_is_not_an_object_is_one_error() {
        for body in [json!([1]), json!("text"), json!(null)] {
            assert_eq!(fields(parse(body.clone())), ["body"], "case {body}");
        }
    }

    #[test]
    fn metadata_is_capped_in_bytes() {
        let big = json!({"phone": "9876543210", "metadata": {"k": "x".repeat(MAX_METADATA_BYTES)}});
        assert_eq!(fields(parse(big)), ["metadata"]);
    }

    #[test]
    fn debug_output_carries_no_personal_data() {
        let command = parse(json!({"name": "Asha Rao", "phone": "9876543210", "email": "asha@x.co",
                                   "message": "my flat in Baner", "sender": "customer",
                                   "conversation_summary": "wants Baner", "external_session_id": "s-9"}))
        .expect("valid");
        let text = format!("{command:?}");
        for secret in ["Asha", "asha", "98765", "Baner"] {
            assert!(!text.contains(secret), "{secret} leaked: {text}");
        }
        assert!(text.contains("s-9"), "ids stay readable: {text}");
    }

    #[test]
    fn intents_are_read_from_customer_messages_only() {
        let from = |sender: &str| {
            parse(json!({"phone": "9876543210", "message": "I want to book a site visit", "sender": sender}))
                .expect("valid")
                .customer_intents()
                .into_iter()
                .map(|hit| hit.intent)
                .collect::<Vec<_>>()
        };
        assert_eq!(from("customer"), [Intent::Booking, Intent::SiteVisit]);
        assert!(
            from("agent").is_empty(),
            "the bot offering a visit is not the customer asking"
        );
        assert!(from("system").is_empty());
    }

    #[test]
    fn the_score_reason_names_what_changed() {
        #[rustfmt::skip]
        let cases = [
            (json!({"phone": "9876543210", "booking": {"status": "pending"}, "message": "m", "sender": "agent"}), "web_agent_booking"),
            (json!({"phone": "9876543210", "message": "m", "sender": "customer"}),                            "web_agent_message"),
            (json!({"phone": "9876543210", "conversation_summary": "s"}),                                     "web_agent_update"),
        ];
        for (body, want) in cases {
            assert_eq!(parse(body).expect("valid").score_reason(), want);
        }
    }
}
