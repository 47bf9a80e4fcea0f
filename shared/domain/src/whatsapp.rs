//! Meta WhatsApp Cloud API webhook bodies parsed into typed messages and delivery statuses.
//!
//! A verified POST is answered 200 once it is journaled, and every part of it that can be mapped
//! is mapped (docs/architecture.md §5.3). Meta adds fields and message types all the time, so this
//! parser is tolerant by design:
//!
//! - The body is read as a [`serde_json::Value`] and walked by hand instead of derived into
//!   strict structs. A field of an unexpected shape, a field we have never heard of, or a message
//!   type added next month never turns the whole delivery into an error.
//! - Only a body that is not JSON, not an object, not a `whatsapp_business_account` webhook, or
//!   has no `entry` array is a [`WhatsAppParseError`]. Everything below the envelope degrades:
//!   an unknown message type still yields an [`InboundMessage`] (its raw `type` as
//!   [`InboundMessage::kind`], content `"[unsupported message]"`); an item that cannot be used at
//!   all (a message with no `id`, a status with an unknown `status`) is skipped and described in
//!   [`Change::problems`] so the handler can journal the reason.
//! - `problems` and error messages name JSON paths and field names only, never values, so they
//!   can be logged without leaking phone numbers or message text (docs/architecture.md §7.2).
//! - Nothing panics on any input; the tests feed every fixture truncated at every byte and with
//!   every node replaced by every JSON type.
//!
//! Identity: since 2026 Meta also identifies users by a business-scoped user id (BSUID,
//! `user_id`/`from_user_id`) and may omit the phone-number `wa_id`/`from` for users who hide
//! their number. Both are kept as optional identities; a message's sender is completed from the
//! matching `contacts[]` entry.
//!
//! Lossless metadata: [`InboundMessage::metadata`] is the message object minus the fields lifted
//! into typed fields (`id`, `from`, `from_user_id`, `timestamp`, `type`, and `text` for text
//! messages), so media ids, `context`, `referral`, `errors`, interactive ids, order items,
//! location coordinates and fields Meta adds later are all kept verbatim, under Meta's own names.
//! The one derived entry is `flow_response`: a WhatsApp Flow's `response_json` string parsed into
//! JSON. [`StatusUpdate::metadata`] is built the same way.
//!
//! Known limit: serde_json refuses a lone UTF-16 surrogate escape (`"\ud83d"` with no pair). Such a
//! body is reported as not JSON; the raw bytes are still in the journal.

use chrono::{DateTime, Utc};
use serde_json::{Map, Value};

/// The `object` of every WhatsApp Business Account webhook.
pub const WHATSAPP_OBJECT: &str = "whatsapp_business_account";

/// How much of an unexpected `object` name is repeated in [`WhatsAppParseError::UnexpectedObject`].
const MAX_OBJECT_NAME_CHARS: usize = 64;

/// `kind` used when a message has no usable `type`.
pub const UNKNOWN_KIND: &str = "unknown";

/// Why a body could not be read as a WhatsApp webhook at all. Messages name no payload values.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum WhatsAppParseError {
    #[error("body is not JSON (line {line}, column {column})")]
    NotJson { line: usize, column: usize },
    #[error("body is not a JSON object")]
    NotAnObject,
    /// `object` is present but is not `whatsapp_business_account` (another product's webhook).
    #[error("body is a webhook for `{0}`, not `whatsapp_business_account`")]
    UnexpectedObject(String),
    #[error("body has no `entry` array")]
    MissingEntry,
}

/// One webhook delivery: every `entry[].changes[]` flattened, in order.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Webhook {
    pub changes: Vec<Change>,
    /// Entries or changes that were not objects; per-message problems are in [`Change::problems`].
    pub problems: Vec<String>,
}

impl Webhook {
    /// Every inbound message with the change (phone number, contacts) it arrived in.
    pub fn messages(&self) -> impl Iterator<Item = (&Change, &InboundMessage)> {
        self.changes
            .iter()
            .flat_map(|change| change.messages.iter().map(move |message| (change, message)))
    }

    /// Every status update with the change it arrived in.
    pub fn statuses(&self) -> impl Iterator<Item = (&Change, &StatusUpdate)> {
        self.changes
            .iter()
            .flat_map(|change| change.statuses.iter().map(move |status| (change, status)))
    }

    /// Every problem of the delivery: envelope-level first, then each change's.
    pub fn all_problems(&self) -> impl Iterator<Item = &str> {
        self.problems
            .iter()
            .chain(self.changes.iter().flat_map(|change| &change.problems))
            .map(String::as_str)
    }
}

/// One `entry[].changes[]` item.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Change {
    /// Where it is in the body (`entry[0].changes[1]`): reasons name it, never a value.
    pub path: String,
    /// The subscribed field, usually `"messages"`; empty when Meta sent none.
    pub field: String,
    /// `entry[].id`: the WhatsApp Business Account id.
    pub waba_id: Option<String>,
    /// `value.metadata.phone_number_id`: which of our numbers received it (maps to a workspace).
    pub phone_number_id: Option<String>,
    pub display_phone_number: Option<String>,
    pub contacts: Vec<Contact>,
    pub messages: Vec<InboundMessage>,
    pub statuses: Vec<StatusUpdate>,
    /// `value.errors[]`, verbatim (for example rate limits, or an unsupported payload).
    pub errors: Vec<Value>,
    /// Items that were skipped or could not be read, by JSON path, with no payload values.
    pub problems: Vec<String>,
}

/// One `value.contacts[]` item: who the messages in this change are from.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Contact {
    /// Phone-number identity (digits, no `+`); may be absent for BSUID-only users.
    pub wa_id: Option<String>,
    /// Business-scoped user id (BSUID), e.g. `US.13491208655302741918`.
    pub user_id: Option<String>,
    /// The BSUID of the parent business portfolio, when Meta sends it.
    pub parent_user_id: Option<String>,
    /// `profile.name`: fills an empty lead name.
    pub profile_name: Option<String>,
    /// `profile.username`, for users who chose one.
    pub username: Option<String>,
}

crate::text_enum! {
    /// Who wrote a message: the customer, or WhatsApp itself (`type: system`, e.g. a number
    /// change).
    Sender, UnknownSender {
        Customer => "customer",
        System => "system",
    }
}

/// One inbound message, ready for the conversation log.
#[derive(Debug, Clone, PartialEq)]
pub struct InboundMessage {
    /// Where it is in the body (`entry[0].changes[0].value.messages[2]`).
    pub path: String,
    /// Meta's message id (`wamid.…`): the dedupe key.
    pub wamid: String,
    /// Sender's `wa_id` (phone digits); absent for BSUID-only deliveries.
    pub from: Option<String>,
    /// Sender's business-scoped user id: `from_user_id`, or the matching contact's `user_id`.
    pub from_user_id: Option<String>,
    /// The matching contact's `profile.name`.
    pub profile_name: Option<String>,
    pub timestamp: DateTime<Utc>,
    /// Meta's `type` as sent (`text`, `image`, `interactive`, …), or [`UNKNOWN_KIND`].
    pub kind: String,
    pub sender: Sender,
    /// Readable text for the conversation log: what was typed or chosen, or a bracketed
    /// placeholder such as `[image]`, `[voice message]`, `[document: receipt.pdf]`.
    pub content: String,
    /// What the customer actually typed or chose (text body, caption, button or list title,
    /// order note): the input for intent and opt-out detection. `None` for placeholders, so a
    /// sticker or a location never reads as "STOP".
    pub text: Option<String>,
    /// The message object minus the lifted fields, plus `flow_response` (see the module doc).
    pub metadata: Value,
}

impl InboundMessage {
    /// For a `system` message that reports a number change, the customer's new `wa_id`.
    pub fn changed_wa_id(&self) -> Option<&str> {
        self.metadata
            .get("system")?
            .get("wa_id")?
            .as_str()
            .filter(|id| !id.is_empty())
    }

    /// The wamid this message replies to (`context.id`) or reacts to (`reaction.message_id`).
    pub fn referenced_wamid(&self) -> Option<&str> {
        self.metadata
            .pointer("/context/id")
            .or_else(|| self.metadata.pointer("/reaction/message_id"))?
            .as_str()
    }
}

/// One `value.statuses[]` item: what happened to a message *we* sent.
#[derive(Debug, Clone, PartialEq)]
pub struct StatusUpdate {
    /// Where it is in the body (`entry[0].changes[0].value.statuses[0]`).
    pub path: String,
    /// The wamid of our outgoing message.
    pub wamid: String,
    pub status: DeliveryStatus,
    pub timestamp: DateTime<Utc>,
    /// The recipient's `wa_id` (or a group id for group messages).
    pub recipient_id: Option<String>,
    /// The recipient's business-scoped user id, when Meta sends it.
    pub recipient_user_id: Option<String>,
    /// The status object minus the lifted fields: `conversation`, `pricing`, `errors`,
    /// `biz_opaque_callback_data`, `recipient_type`, …, verbatim.
    pub metadata: Value,
}

impl StatusUpdate {
    /// The numeric codes of the status's `errors[]` (safe to log: no personal data).
    pub fn error_codes(&self) -> Vec<i64> {
        self.metadata
            .get("errors")
            .and_then(Value::as_array)
            .map(|errors| {
                errors
                    .iter()
                    .filter_map(|error| error.get("code").and_then(Value::as_i64))
                    .collect()
            })
            .unwrap_or_default()
    }
}

crate::text_enum! {
    /// Delivery state of an outgoing message.
    ///
    /// Meta's webhooks arrive out of order and are retried, so the stored state must only move
    /// forward. That rule is the database's (`delivery_status_rank` in
    /// `shared/store/src/leads/conversations.sql`, applied by `ingest_whatsapp` and enforced by the
    /// append-only trigger): `sent < delivered < read < played`, and `failed` is final.
    DeliveryStatus, UnknownDeliveryStatus {
        Sent => "sent",
        Delivered => "delivered",
        Read => "read",
        Played => "played",
        Failed => "failed",
    }
}

/// Parses a webhook body (the raw bytes whose signature was already verified).
///
/// # Errors
/// Only when the envelope itself is unusable: not JSON, not an object, another product's
/// `object`, or no `entry` array. Anything wrong below that is in [`Webhook::all_problems`].
pub fn parse_webhook(raw: &[u8]) -> Result<Webhook, WhatsAppParseError> {
    let body: Value = serde_json::from_slice(raw).map_err(|e| WhatsAppParseError::NotJson {
        line: e.line(),
        column: e.column(),
    })?;
    let body = body.as_object().ok_or(WhatsAppParseError::NotAnObject)?;
    match body.get("object") {
        None => {}
        Some(Value::String(object)) if object == WHATSAPP_OBJECT => {}
        Some(Value::String(object)) => {
            // Meta's object names are short identifiers; cap what reaches an error message.
            let name = object.chars().take(MAX_OBJECT_NAME_CHARS).collect();
            return Err(WhatsAppParseError::UnexpectedObject(name));
        }
        Some(other) => {
            return Err(WhatsAppParseError::UnexpectedObject(
                json_type(other).to_string(),
            ));
        }
    }
    let entries = body
        .get("entry")
        .and_then(Value::as_array)
        .ok_or(WhatsAppParseError::MissingEntry)?;

    let mut webhook = Webhook::default();
    for (e, entry) in entries.iter().enumerate() {
        let Some(entry) = entry.as_object() else {
            webhook
                .problems
                .push(format!("entry[{e}]: not an object, skipped"));
            continue;
        };
        let waba_id = entry.get("id").and_then(id_string);
        let changes = match entry.get("changes") {
            None | Some(Value::Null) => continue,
            Some(Value::Array(changes)) => changes,
            Some(_) => {
                webhook
                    .problems
                    .push(format!("entry[{e}].changes: not an array, skipped"));
                continue;
            }
        };
        for (c, change) in changes.iter().enumerate() {
            let path = format!("entry[{e}].changes[{c}]");
            match change.as_object() {
                Some(change) => webhook
                    .changes
                    .push(parse_change(&path, change, waba_id.clone())),
                None => webhook
                    .problems
                    .push(format!("{path}: not an object, skipped")),
            }
        }
    }
    Ok(webhook)
}

fn parse_change(path: &str, change: &Map<String, Value>, waba_id: Option<String>) -> Change {
    let mut parsed = Change {
        path: path.to_owned(),
        field: change
            .get("field")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_string(),
        waba_id,
        ..Change::default()
    };
    if parsed.field.is_empty() {
        parsed.problems.push(format!("{path}.field: missing"));
    }
    let value = match change.get("value") {
        Some(Value::Object(value)) => value,
        None | Some(Value::Null) => {
            parsed.problems.push(format!("{path}.value: missing"));
            return parsed;
        }
        Some(_) => {
            parsed
                .problems
                .push(format!("{path}.value: not an object, skipped"));
            return parsed;
        }
    };
    let path = format!("{path}.value");

    if let Some(metadata) = value.get("metadata") {
        parsed.phone_number_id = metadata.get("phone_number_id").and_then(id_string);
        parsed.display_phone_number = metadata.get("display_phone_number").and_then(id_string);
    }

    let contacts = array_items(value, "contacts", &path, &mut parsed.problems);
    for (i, contact) in contacts.iter().enumerate() {
        match contact.as_object() {
            Some(contact) => parsed.contacts.push(parse_contact(contact)),
            None => parsed
                .problems
                .push(format!("{path}.contacts[{i}]: not an object, skipped")),
        }
    }

    parsed.errors = array_items(value, "errors", &path, &mut parsed.problems).to_vec();

    let messages = array_items(value, "messages", &path, &mut parsed.problems);
    for (i, message) in messages.iter().enumerate() {
        let item_path = format!("{path}.messages[{i}]");
        match parse_message(&item_path, message, &parsed.contacts) {
            Ok(message) => parsed.messages.push(message),
            Err(problem) => parsed.problems.push(problem),
        }
    }

    let statuses = array_items(value, "statuses", &path, &mut parsed.problems);
    for (i, status) in statuses.iter().enumerate() {
        let item_path = format!("{path}.statuses[{i}]");
        match parse_status(&item_path, status) {
            Ok(status) => parsed.statuses.push(status),
            Err(problem) => parsed.problems.push(problem),
        }
    }
    parsed
}

fn parse_contact(contact: &Map<String, Value>) -> Contact {
    let profile = contact.get("profile");
    Contact {
        wa_id: contact.get("wa_id").and_then(id_string),
        user_id: contact.get("user_id").and_then(id_string),
        parent_user_id: contact.get("parent_user_id").and_then(id_string),
        profile_name: profile
            .and_then(|p| p.get("name"))
            .and_then(non_blank)
            .map(str::to_string),
        username: profile
            .and_then(|p| p.get("username"))
            .and_then(non_blank)
            .map(str::to_string),
    }
}

/// Fields of a message object that become typed fields instead of metadata.
const LIFTED_MESSAGE_FIELDS: [&str; 5] = ["id", "from", "from_user_id", "timestamp", "type"];

fn parse_message(
    path: &str,
    message: &Value,
    contacts: &[Contact],
) -> Result<InboundMessage, String> {
    let message = message
        .as_object()
        .ok_or_else(|| format!("{path}: not an object, skipped"))?;
    let wamid = message
        .get("id")
        .and_then(id_string)
        .ok_or_else(|| format!("{path}.id: missing, message skipped"))?;
    let timestamp = message
        .get("timestamp")
        .and_then(unix_time)
        .ok_or_else(|| format!("{path}.timestamp: missing or invalid, message skipped"))?;
    let kind = message
        .get("type")
        .and_then(non_blank)
        .unwrap_or(UNKNOWN_KIND)
        .to_string();

    let from = message.get("from").and_then(id_string);
    let from_user_id = message.get("from_user_id").and_then(id_string);
    let contact = matching_contact(contacts, from.as_deref(), from_user_id.as_deref());

    let mut metadata: Map<String, Value> = message
        .iter()
        .filter(|(key, _)| !LIFTED_MESSAGE_FIELDS.contains(&key.as_str()))
        .filter(|(key, _)| !(kind == "text" && key.as_str() == "text"))
        .map(|(key, value)| (key.clone(), value.clone()))
        .collect();
    let rendered = render(&kind, message, &mut metadata);

    Ok(InboundMessage {
        path: path.to_owned(),
        wamid,
        from: from.or_else(|| contact.and_then(|c| c.wa_id.clone())),
        from_user_id: from_user_id.or_else(|| contact.and_then(|c| c.user_id.clone())),
        profile_name: contact.and_then(|c| c.profile_name.clone()),
        timestamp,
        sender: if kind == "system" {
            Sender::System
        } else {
            Sender::Customer
        },
        kind,
        content: rendered.content,
        text: rendered.text,
        metadata: Value::Object(metadata),
    })
}

/// The contact a message is from: one whose `wa_id` or `user_id` equals the message's sender, or,
/// when the message names no sender at all, the change's only contact. Never a guess between
/// several contacts or against a conflicting id.
fn matching_contact<'a>(
    contacts: &'a [Contact],
    from: Option<&str>,
    from_user_id: Option<&str>,
) -> Option<&'a Contact> {
    let matches = |contact: &&Contact| {
        (from.is_some() && contact.wa_id.as_deref() == from)
            || (from_user_id.is_some() && contact.user_id.as_deref() == from_user_id)
    };
    contacts.iter().find(matches).or_else(|| match contacts {
        [only] if from.is_none() && from_user_id.is_none() => Some(only),
        _ => None,
    })
}

struct Rendered {
    content: String,
    text: Option<String>,
}

impl Rendered {
    /// Something the customer typed or chose: shown as it is and used for intents.
    fn typed(text: &str) -> Self {
        Self {
            content: text.to_string(),
            text: Some(text.to_string()),
        }
    }

    /// A description of something that is not text.
    fn placeholder(content: impl Into<String>) -> Self {
        Self {
            content: content.into(),
            text: None,
        }
    }
}

/// The content of a message whose type Meta did not support (or we do not know).
pub const UNSUPPORTED_CONTENT: &str = "[unsupported message]";

/// Content and typed text for each of Meta's message types. `metadata` already holds the message
/// object; only derived values are added to it.
fn render(kind: &str, message: &Map<String, Value>, metadata: &mut Map<String, Value>) -> Rendered {
    let body = message.get(kind);
    let field = |name: &str| body.and_then(|b| b.get(name)).and_then(non_blank);
    match kind {
        "text" => {
            field("body").map_or_else(|| Rendered::placeholder("[empty message]"), Rendered::typed)
        }
        "image" | "video" | "sticker" | "audio" | "document" => match field("caption") {
            Some(caption) => Rendered::typed(caption),
            None => Rendered::placeholder(media_placeholder(kind, body)),
        },
        "location" => Rendered::placeholder(location(body)),
        "contacts" => Rendered::placeholder(shared_contacts(body)),
        "interactive" => interactive(body, metadata),
        "button" => {
            field("text").map_or_else(|| Rendered::placeholder("[button]"), Rendered::typed)
        }
        "reaction" => match field("emoji") {
            Some(emoji) => Rendered::placeholder(emoji),
            None => Rendered::placeholder("[reaction removed]"),
        },
        "order" => order(body),
        "system" => Rendered::placeholder(match (field("body"), field("type")) {
            (Some(text), _) => text.to_string(),
            (None, Some(system_type)) => format!("[system: {system_type}]"),
            (None, None) => "[system message]".to_string(),
        }),
        "request_welcome" => Rendered::placeholder("[conversation opened]"),
        _ => Rendered::placeholder(UNSUPPORTED_CONTENT),
    }
}

fn media_placeholder(kind: &str, media: Option<&Value>) -> String {
    let flag = |name: &str| {
        media
            .and_then(|m| m.get(name))
            .and_then(Value::as_bool)
            .unwrap_or(false)
    };
    match kind {
        "audio" if flag("voice") => "[voice message]".to_string(),
        "sticker" if flag("animated") => "[animated sticker]".to_string(),
        "document" => match media.and_then(|m| m.get("filename")).and_then(non_blank) {
            Some(filename) => format!("[document: {filename}]"),
            None => "[document]".to_string(),
        },
        _ => format!("[{kind}]"),
    }
}

fn location(location: Option<&Value>) -> String {
    let text = |name: &str| location.and_then(|l| l.get(name)).and_then(non_blank);
    let number = |name: &str| match location.and_then(|l| l.get(name)) {
        Some(Value::Number(n)) => Some(n.to_string()),
        Some(Value::String(s)) if !s.trim().is_empty() => Some(s.trim().to_string()),
        _ => None,
    };
    let place: Vec<&str> = [text("name"), text("address")]
        .into_iter()
        .flatten()
        .collect();
    if !place.is_empty() {
        return format!("[location] {}", place.join(", "));
    }
    match (number("latitude"), number("longitude")) {
        (Some(lat), Some(long)) => format!("[location] {lat},{long}"),
        _ => "[location]".to_string(),
    }
}

fn shared_contacts(contacts: Option<&Value>) -> String {
    let cards = contacts
        .and_then(Value::as_array)
        .map(Vec::as_slice)
        .unwrap_or_default();
    let names: Vec<String> = cards.iter().filter_map(contact_card_name).collect();
    match (cards.len(), names.is_empty()) {
        (0 | 1, true) => "[contact]".to_string(),
        (_, true) => "[contacts]".to_string(),
        (1, false) => format!("[contact] {}", names.join(", ")),
        (_, false) => format!("[contacts] {}", names.join(", ")),
    }
}

fn contact_card_name(card: &Value) -> Option<String> {
    let name = card.get("name")?;
    if let Some(formatted) = name.get("formatted_name").and_then(non_blank) {
        return Some(formatted.to_string());
    }
    let parts: Vec<&str> = ["first_name", "last_name"]
        .into_iter()
        .filter_map(|part| name.get(part).and_then(non_blank))
        .collect();
    (!parts.is_empty()).then(|| parts.join(" "))
}

fn interactive(interactive: Option<&Value>, metadata: &mut Map<String, Value>) -> Rendered {
    let Some(interactive) = interactive.filter(|i| i.is_object()) else {
        return Rendered::placeholder("[interactive message]");
    };
    let Some(subtype) = interactive.get("type").and_then(non_blank) else {
        return Rendered::placeholder("[interactive message]");
    };
    let reply = interactive.get(subtype);
    match subtype {
        "button_reply" | "list_reply" => {
            match reply.and_then(|r| r.get("title")).and_then(non_blank) {
                Some(title) => Rendered::typed(title),
                None => Rendered::placeholder(format!("[interactive: {subtype}]")),
            }
        }
        "nfm_reply" => {
            let response = reply
                .and_then(|r| r.get("response_json"))
                .and_then(Value::as_str)
                .and_then(|json| serde_json::from_str::<Value>(json).ok());
            if let Some(response) = response {
                metadata.insert("flow_response".to_string(), response);
            }
            Rendered::placeholder("[form response]")
        }
        other => Rendered::placeholder(format!("[interactive: {other}]")),
    }
}

fn order(order: Option<&Value>) -> Rendered {
    let items = order
        .and_then(|o| o.get("product_items"))
        .and_then(Value::as_array)
        .map_or(0, Vec::len);
    let summary = match items {
        1 => "[order: 1 item]".to_string(),
        n => format!("[order: {n} items]"),
    };
    match order.and_then(|o| o.get("text")).and_then(non_blank) {
        Some(note) => Rendered {
            content: format!("{summary} {note}"),
            text: Some(note.to_string()),
        },
        None => Rendered::placeholder(summary),
    }
}

/// Fields of a status object that become typed fields instead of metadata.
const LIFTED_STATUS_FIELDS: [&str; 5] = [
    "id",
    "status",
    "timestamp",
    "recipient_id",
    "recipient_user_id",
];

fn parse_status(path: &str, status: &Value) -> Result<StatusUpdate, String> {
    let status = status
        .as_object()
        .ok_or_else(|| format!("{path}: not an object, skipped"))?;
    let wamid = status
        .get("id")
        .and_then(id_string)
        .ok_or_else(|| format!("{path}.id: missing, status skipped"))?;
    let delivery = status
        .get("status")
        .and_then(Value::as_str)
        // Meta writes them in lowercase; case is ignored all the same.
        .and_then(|s| s.trim().to_ascii_lowercase().parse::<DeliveryStatus>().ok())
        .ok_or_else(|| format!("{path}.status: missing or unknown, status skipped"))?;
    let timestamp = status
        .get("timestamp")
        .and_then(unix_time)
        .ok_or_else(|| format!("{path}.timestamp: missing or invalid, status skipped"))?;
    let metadata: Map<String, Value> = status
        .iter()
        .filter(|(key, _)| !LIFTED_STATUS_FIELDS.contains(&key.as_str()))
        .map(|(key, value)| (key.clone(), value.clone()))
        .collect();
    Ok(StatusUpdate {
        path: path.to_owned(),
        wamid,
        status: delivery,
        timestamp,
        recipient_id: status.get("recipient_id").and_then(id_string),
        recipient_user_id: status.get("recipient_user_id").and_then(id_string),
        metadata: Value::Object(metadata),
    })
}

/// The items of `object[key]` when it is an array. Absent or `null` is an empty list; any other
/// shape is a problem and an empty list.
fn array_items<'a>(
    object: &'a Map<String, Value>,
    key: &str,
    path: &str,
    problems: &mut Vec<String>,
) -> &'a [Value] {
    match object.get(key) {
        None | Some(Value::Null) => &[],
        Some(Value::Array(items)) => items,
        Some(_) => {
            problems.push(format!("{path}.{key}: not an array, skipped"));
            &[]
        }
    }
}

/// An identifier: a non-empty string as sent, or a number written in decimal (Meta documents ids
/// as strings but some tooling sends numbers).
fn id_string(value: &Value) -> Option<String> {
    match value {
        Value::String(s) if !s.trim().is_empty() => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

/// A string with something other than whitespace in it.
fn non_blank(value: &Value) -> Option<&str> {
    value.as_str().filter(|s| !s.trim().is_empty())
}

/// Meta's timestamps are Unix seconds as a decimal string; a bare integer is accepted too.
fn unix_time(value: &Value) -> Option<DateTime<Utc>> {
    let seconds = match value {
        Value::String(s) => s.trim().parse::<i64>().ok()?,
        Value::Number(n) => n.as_i64()?,
        _ => return None,
    };
    DateTime::from_timestamp(seconds, 0)
}

fn json_type(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "boolean",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;
    use std::path::{Path, PathBuf};

    const SHEENA_WA_ID: &str = "16505551234";
    const PYWA_WA_ID: &str = "972987654321";
    const PYWA_BSUID: &str = "US.13491208655302741918";

    fn fixture_dir() -> PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/fixtures/whatsapp")
    }

    fn fixture(name: &str) -> Vec<u8> {
        let path = fixture_dir().join(name);
        std::fs::read(&path).unwrap_or_else(|e| panic!("read {}: {e}", path.display()))
    }

    fn all_fixtures() -> Vec<(String, Vec<u8>)> {
        let mut files: Vec<(String, Vec<u8>)> = std::fs::read_dir(fixture_dir())
            .expect("whatsapp fixtures directory")
            .map(|entry| {
                let path = entry.expect("directory entry").path();
                let name = path
                    .file_name()
                    .expect("file name")
                    .to_string_lossy()
                    .into_owned();
                (name, std::fs::read(&path).expect("fixture bytes"))
            })
            .collect();
        files.sort();
        assert!(files.len() >= 38, "only {} fixtures found", files.len());
        files
    }

    /// A fixture as JSON, edited, then serialised again: for cases the fixtures do not cover.
    fn edited(name: &str, edit: impl FnOnce(&mut Value)) -> Vec<u8> {
        let mut body: Value = serde_json::from_slice(&fixture(name)).expect("fixture is JSON");
        edit(&mut body);
        serde_json::to_vec(&body).expect("serialise")
    }

    fn first_message_mut(body: &mut Value) -> &mut Value {
        body.pointer_mut("/entry/0/changes/0/value/messages/0")
            .expect("fixture has a message")
    }

    fn single_change(raw: &[u8]) -> Change {
        let webhook = parse_webhook(raw).expect("parses");
        assert!(webhook.problems.is_empty(), "{:?}", webhook.problems);
        assert_eq!(webhook.changes.len(), 1, "one change");
        webhook.changes.into_iter().next().expect("one change")
    }

    fn only_message_of(raw: &[u8]) -> InboundMessage {
        let change = single_change(raw);
        assert!(change.problems.is_empty(), "{:?}", change.problems);
        assert_eq!(change.messages.len(), 1, "one message");
        change.messages.into_iter().next().expect("one message")
    }

    fn only_message(name: &str) -> InboundMessage {
        only_message_of(&fixture(name))
    }

    fn only_status(name: &str) -> StatusUpdate {
        let change = single_change(&fixture(name));
        assert!(change.problems.is_empty(), "{:?}", change.problems);
        assert!(change.messages.is_empty());
        assert_eq!(change.statuses.len(), 1, "one status");
        change.statuses.into_iter().next().expect("one status")
    }

    fn at(secs: i64) -> DateTime<Utc> {
        DateTime::from_timestamp(secs, 0).expect("valid timestamp")
    }

    fn meta<'a>(message: &'a InboundMessage, pointer: &str) -> &'a Value {
        message
            .metadata
            .pointer(pointer)
            .unwrap_or_else(|| panic!("metadata{pointer} missing in {}", message.metadata))
    }

    fn count_at(body: &Value, key: &str) -> usize {
        body["entry"]
            .as_array()
            .into_iter()
            .flatten()
            .flat_map(|entry| entry["changes"].as_array().into_iter().flatten())
            .map(|change| change["value"][key].as_array().map_or(0, Vec::len))
            .sum()
    }

    // ---- every fixture ------------------------------------------------------------------------

    #[test]
    fn every_fixture_parses_with_every_message_and_status_accounted_for() {
        for (name, raw) in all_fixtures() {
            let webhook =
                parse_webhook(&raw).unwrap_or_else(|e| panic!("{name} does not parse: {e}"));
            let body: Value = serde_json::from_slice(&raw).expect("fixture is JSON");

            assert!(!webhook.changes.is_empty(), "{name}: no changes");
            assert_eq!(
                webhook.all_problems().collect::<Vec<_>>(),
                Vec::<&str>::new(),
                "{name}: problems"
            );
            assert_eq!(
                webhook.messages().count(),
                count_at(&body, "messages"),
                "{name}: messages"
            );
            assert_eq!(
                webhook.statuses().count(),
                count_at(&body, "statuses"),
                "{name}: statuses"
            );
            for (change, message) in webhook.messages() {
                assert_eq!(change.field, "messages", "{name}");
                assert!(message.wamid.starts_with("wamid."), "{name}: wamid");
                assert!(!message.content.trim().is_empty(), "{name}: empty content");
                assert_ne!(message.kind, UNKNOWN_KIND, "{name}: kind");
                assert!(message.metadata.is_object(), "{name}: metadata");
                assert!(
                    message.from.is_some() || message.from_user_id.is_some(),
                    "{name}: no sender identity"
                );
            }
        }
    }

    #[test]
    fn every_fixture_with_a_sender_contact_gets_its_profile_name() {
        for (name, raw) in all_fixtures() {
            let webhook = parse_webhook(&raw).expect("parses");
            for (change, message) in webhook.messages() {
                if change.contacts.is_empty() {
                    assert_eq!(message.profile_name, None, "{name}");
                } else {
                    assert!(message.profile_name.is_some(), "{name}: profile name");
                }
            }
        }
    }

    // ---- content for every message type -------------------------------------------------------

    #[test]
    fn each_message_type_renders_readable_content_and_only_typed_text_as_text() {
        use Sender::{Customer, System};
        // (fixture, kind, content, text, sender)
        #[rustfmt::skip]
        let cases: &[(&str, &str, &str, Option<&str>, Sender)] = &[
            ("meta_message_text.json", "text", "Does it come in another color?", Some("Does it come in another color?"), Customer),
            ("meta_message_text_ctwa_referral.json", "text", "Can I get more info about this?", Some("Can I get more info about this?"), Customer),
            ("meta_message_text_referred_product.json", "text", "Is this still available?", Some("Is this still available?"), Customer),
            ("pywa_message_text_reply_context.json", "text", "replied text", Some("replied text"), Customer),
            ("pywa_message_text_frequently_forwarded.json", "text", "text forwarded many times", Some("text forwarded many times"), Customer),
            ("meta_message_document.json", "document", "my receipt", Some("my receipt"), Customer),
            ("pywa_message_image.json", "image", "[image]", None, Customer),
            ("pywa_message_image_with_url.json", "image", "[image]", None, Customer),
            ("pywa_message_video.json", "video", "caption", Some("caption"), Customer),
            ("pywa_message_audio_forwarded.json", "audio", "[audio]", None, Customer),
            ("pywa_message_audio_voice.json", "audio", "[voice message]", None, Customer),
            ("pywa_message_sticker_static.json", "sticker", "[sticker]", None, Customer),
            ("pywa_message_sticker_animated.json", "sticker", "[animated sticker]", None, Customer),
            ("pywa_message_location_chosen.json", "location", "[location] Facebook HQ, 1 Hacker Way, Menlo Park, CA 94025", None, Customer),
            ("pywa_message_location_current.json", "location", "[location] 12.25089,43.90539", None, Customer),
            ("meta_message_contacts.json", "contacts", "[contact] Barbara J. Johnson", None, Customer),
            ("meta_message_interactive_button_reply.json", "interactive", "Cancel", Some("Cancel"), Customer),
            ("meta_message_interactive_list_reply.json", "interactive", "Priority Mail Express", Some("Priority Mail Express"), Customer),
            ("pywa_message_interactive_nfm_reply_flow.json", "interactive", "[form response]", None, Customer),
            ("pywa_message_interactive_missing_payload.json", "interactive", "[interactive message]", None, Customer),
            ("pywa_message_button_quick_reply.json", "button", "title", Some("title"), Customer),
            ("pywa_message_button_from_user_id.json", "button", "title", Some("title"), Customer),
            ("pywa_message_reaction.json", "reaction", "\u{1F62E}", None, Customer),
            ("pywa_message_reaction_removed.json", "reaction", "[reaction removed]", None, Customer),
            ("pywa_message_order.json", "order", "[order: 3 items]", None, Customer),
            ("meta_message_system_user_changed_number.json", "system", "User Sheena Nelson changed from 16505551234 to 12195555358", None, System),
            ("pywa_message_system_identity_change.json", "system", "User identity changed", None, System),
            ("meta_message_unsupported.json", "unsupported", "[unsupported message]", None, Customer),
            ("pywa_message_unsupported_with_type.json", "unsupported", "[unsupported message]", None, Customer),
        ];
        for &(name, kind, content, text, sender) in cases {
            let message = only_message(name);
            assert_eq!(message.kind, kind, "{name}: kind");
            assert_eq!(message.content, content, "{name}: content");
            assert_eq!(message.text.as_deref(), text, "{name}: text");
            assert_eq!(message.sender, sender, "{name}: sender");
        }
        let covered: Vec<&str> = cases.iter().map(|case| case.0).collect();
        for (name, _) in all_fixtures() {
            if name.contains("_message_") {
                assert!(
                    covered.contains(&name.as_str()),
                    "{name} has no content case"
                );
            }
        }
    }

    #[test]
    fn placeholders_cover_media_without_caption_and_payloads_the_fixtures_lack() {
        // (what, fixture, edit of the first message, content, text)
        type Edit = fn(&mut Value);
        let cases: &[(&str, &str, Edit, &str, Option<&str>)] = &[
            (
                "document without caption",
                "meta_message_document.json",
                |m| {
                    m["document"]
                        .as_object_mut()
                        .expect("object")
                        .remove("caption");
                },
                "[document: receipt.pdf]",
                None,
            ),
            (
                "document without caption or filename",
                "meta_message_document.json",
                |m| {
                    m["document"] = json!({"id": "1", "mime_type": "application/pdf"});
                },
                "[document]",
                None,
            ),
            (
                "image with a blank caption",
                "pywa_message_image.json",
                |m| {
                    m["image"]["caption"] = json!("  ");
                },
                "[image]",
                None,
            ),
            (
                "image with a caption",
                "pywa_message_image.json",
                |m| {
                    m["image"]["caption"] = json!("Is the 2BHK still free?");
                },
                "Is the 2BHK still free?",
                Some("Is the 2BHK still free?"),
            ),
            (
                "video without caption",
                "pywa_message_video.json",
                |m| {
                    m["video"]
                        .as_object_mut()
                        .expect("object")
                        .remove("caption");
                },
                "[video]",
                None,
            ),
            (
                "text with no body",
                "meta_message_text.json",
                |m| {
                    m["text"] = json!({});
                },
                "[empty message]",
                None,
            ),
            (
                "location with only a name",
                "pywa_message_location_chosen.json",
                |m| {
                    m["location"] = json!({"latitude": 1.5, "longitude": 2, "name": "Site office"});
                },
                "[location] Site office",
                None,
            ),
            (
                "location with nothing",
                "pywa_message_location_chosen.json",
                |m| {
                    m["location"] = json!({});
                },
                "[location]",
                None,
            ),
            (
                "two shared contacts, one with only first and last name",
                "meta_message_contacts.json",
                |m| {
                    m["contacts"] = json!([
                    {"name": {"formatted_name": "Barbara J. Johnson"}},
                    {"name": {"first_name": "Ravi", "last_name": "Kumar"}}]);
                },
                "[contacts] Barbara J. Johnson, Ravi Kumar",
                None,
            ),
            (
                "shared contact with no name",
                "meta_message_contacts.json",
                |m| {
                    m["contacts"] = json!([{"phones": []}]);
                },
                "[contact]",
                None,
            ),
            (
                "reaction with no emoji field",
                "pywa_message_reaction.json",
                |m| {
                    m["reaction"] = json!({"message_id": "wamid.abc"});
                },
                "[reaction removed]",
                None,
            ),
            (
                "order with a note",
                "pywa_message_order.json",
                |m| {
                    m["order"]["text"] = json!("deliver after 6");
                },
                "[order: 3 items] deliver after 6",
                Some("deliver after 6"),
            ),
            (
                "order with one item",
                "pywa_message_order.json",
                |m| {
                    m["order"]["product_items"] = json!([{"product_retailer_id": "X"}]);
                },
                "[order: 1 item]",
                None,
            ),
            (
                "interactive of a subtype we do not know",
                "meta_message_interactive_button_reply.json",
                |m| {
                    m["interactive"] =
                        json!({"type": "call_permission_reply", "call_permission_reply": {}});
                },
                "[interactive: call_permission_reply]",
                None,
            ),
            (
                "button reply with no title",
                "meta_message_interactive_button_reply.json",
                |m| {
                    m["interactive"]["button_reply"] = json!({"id": "x"});
                },
                "[interactive: button_reply]",
                None,
            ),
            (
                "interactive with no subtype",
                "meta_message_interactive_button_reply.json",
                |m| {
                    m["interactive"] = json!({"button_reply": {"title": "Yes"}});
                },
                "[interactive message]",
                None,
            ),
            (
                "quick-reply button with no text",
                "pywa_message_button_quick_reply.json",
                |m| {
                    m["button"] = json!({"payload": "p"});
                },
                "[button]",
                None,
            ),
            (
                "system message with only a type",
                "pywa_message_system_identity_change.json",
                |m| {
                    m["system"] = json!({"type": "customer_identity_changed"});
                },
                "[system: customer_identity_changed]",
                None,
            ),
            (
                "system message with nothing",
                "pywa_message_system_identity_change.json",
                |m| {
                    m.as_object_mut().expect("object").remove("system");
                },
                "[system message]",
                None,
            ),
            (
                "welcome request",
                "meta_message_text.json",
                |m| {
                    m["type"] = json!("request_welcome");
                    m.as_object_mut().expect("object").remove("text");
                },
                "[conversation opened]",
                None,
            ),
            (
                "a type Meta has not documented yet",
                "meta_message_text.json",
                |m| {
                    m["type"] = json!("poll");
                    m["poll"] = json!({"question": "?"});
                },
                "[unsupported message]",
                None,
            ),
        ];
        for &(what, name, edit, content, text) in cases {
            let message = only_message_of(&edited(name, |body| edit(first_message_mut(body))));
            assert_eq!(message.content, content, "{what}: content");
            assert_eq!(message.text.as_deref(), text, "{what}: text");
        }
    }

    // ---- focused: messages --------------------------------------------------------------------

    #[test]
    fn text_message_carries_ids_sender_profile_and_time() {
        let change = single_change(&fixture("meta_message_text.json"));
        assert_eq!(change.field, "messages");
        assert_eq!(change.waba_id.as_deref(), Some("102290129340398"));
        assert_eq!(change.phone_number_id.as_deref(), Some("106540352242922"));
        assert_eq!(change.display_phone_number.as_deref(), Some("15550783881"));
        assert_eq!(
            change.contacts,
            vec![Contact {
                wa_id: Some(SHEENA_WA_ID.into()),
                profile_name: Some("Sheena Nelson".into()),
                ..Contact::default()
            }]
        );
        let message = &change.messages[0];
        assert_eq!(
            message.wamid,
            "wamid.HBgLMTY1MDM4Nzk0MzkVAgASGBQzQTRBNjU5OUFFRTAzODEwMTQ0RgA="
        );
        assert_eq!(message.from.as_deref(), Some(SHEENA_WA_ID));
        assert_eq!(message.from_user_id, None);
        assert_eq!(message.profile_name.as_deref(), Some("Sheena Nelson"));
        assert_eq!(message.timestamp.to_rfc3339(), "2025-06-08T20:59:43+00:00");
        assert_eq!(
            message.metadata,
            json!({}),
            "the text body is lifted, nothing else left"
        );
    }

    #[test]
    fn click_to_whatsapp_ad_keeps_the_referral_for_attribution() {
        let message = only_message("meta_message_text_ctwa_referral.json");
        assert_eq!(meta(&message, "/referral/source_type"), "ad");
        assert_eq!(meta(&message, "/referral/source_id"), "120226305854810726");
        assert!(
            meta(&message, "/referral/ctwa_clid")
                .as_str()
                .is_some_and(|c| c.starts_with("Aff-"))
        );
        assert_eq!(
            meta(&message, "/referral/welcome_message/text"),
            "Hi there! Let us know how we can help!"
        );
    }

    #[test]
    fn message_business_button_keeps_the_referred_product_and_its_own_waba() {
        let change = single_change(&fixture("meta_message_text_referred_product.json"));
        assert_eq!(change.waba_id.as_deref(), Some("419561257915477"));
        let message = &change.messages[0];
        assert_eq!(
            meta(message, "/context/referred_product/catalog_id"),
            "194836987003835"
        );
        assert_eq!(
            meta(message, "/context/referred_product/product_retailer_id"),
            "di9ozbzfi4"
        );
    }

    #[test]
    fn reply_and_forward_context_is_kept() {
        let reply = only_message("pywa_message_text_reply_context.json");
        assert_eq!(meta(&reply, "/context/from"), "972123456789");
        assert_eq!(reply.referenced_wamid(), Some("wamid.xyzxyz=="));

        let forwarded = only_message("pywa_message_text_frequently_forwarded.json");
        assert_eq!(meta(&forwarded, "/context/frequently_forwarded"), true);
        assert_eq!(forwarded.referenced_wamid(), None);

        let audio = only_message("pywa_message_audio_forwarded.json");
        assert_eq!(meta(&audio, "/context/forwarded"), true);
    }

    #[test]
    fn media_messages_keep_id_mime_type_hash_filename_and_url() {
        let document = only_message("meta_message_document.json");
        assert_eq!(meta(&document, "/document/id"), "622684793477189");
        assert_eq!(meta(&document, "/document/filename"), "receipt.pdf");
        assert_eq!(meta(&document, "/document/mime_type"), "application/pdf");
        assert_eq!(
            meta(&document, "/document/sha256"),
            "V5OPpLD/gEG6Xjg0MbmQDLFgcKsL+j5LfY4ny/pZ4MY="
        );
        assert!(
            meta(&document, "/document/url")
                .as_str()
                .is_some_and(|u| u.starts_with("https://"))
        );

        let image = only_message("pywa_message_image_with_url.json");
        assert_eq!(meta(&image, "/image/id"), "65463453");
        assert_eq!(meta(&image, "/image/mime_type"), "image/jpeg");
        assert!(
            meta(&image, "/image/url")
                .as_str()
                .is_some_and(|u| u.contains("mid=65463453"))
        );

        let voice = only_message("pywa_message_audio_voice.json");
        assert_eq!(meta(&voice, "/audio/voice"), true);
        assert_eq!(meta(&voice, "/audio/mime_type"), "audio/ogg; codecs=opus");

        let video = only_message("pywa_message_video.json");
        assert_eq!(meta(&video, "/video/id"), "765756756");

        let sticker = only_message("pywa_message_sticker_animated.json");
        assert_eq!(meta(&sticker, "/sticker/animated"), true);
        assert_eq!(meta(&sticker, "/sticker/mime_type"), "image/webp");
    }

    #[test]
    fn location_keeps_coordinates_name_address_and_url() {
        let chosen = only_message("pywa_message_location_chosen.json");
        assert_eq!(
            meta(&chosen, "/location/latitude").as_f64(),
            Some(37.4611978)
        );
        assert_eq!(
            meta(&chosen, "/location/longitude").as_f64(),
            Some(-122.2164385)
        );
        assert_eq!(
            meta(&chosen, "/location/url"),
            "https://maps.google.com/?cid=2000000000000000000"
        );
    }

    #[test]
    fn shared_contact_cards_are_kept_whole() {
        let message = only_message("meta_message_contacts.json");
        assert_eq!(meta(&message, "/contacts/0/org/company"), "Social Tsunami");
        assert_eq!(meta(&message, "/contacts/0/phones/0/wa_id"), "14125550829");
        assert_eq!(message.timestamp.to_rfc3339(), "2025-04-11T04:08:16+00:00");
    }

    #[test]
    fn interactive_replies_keep_the_chosen_ids_and_the_message_they_answer() {
        let list = only_message("meta_message_interactive_list_reply.json");
        assert_eq!(meta(&list, "/interactive/type"), "list_reply");
        assert_eq!(
            meta(&list, "/interactive/list_reply/id"),
            "priority_express"
        );
        assert_eq!(
            meta(&list, "/interactive/list_reply/description"),
            "Next Day to 2 Days"
        );
        assert_eq!(
            list.referenced_wamid(),
            Some("wamid.HBgLMTQxMjU1NTA4MjkVAgASGBQzQUNCNjk5RDUwNUZGMUZEM0VBRAA=")
        );

        let button = only_message("meta_message_interactive_button_reply.json");
        assert_eq!(
            meta(&button, "/interactive/button_reply/id"),
            "cancel-button"
        );
        assert_eq!(button.timestamp, at(1_750_025_136));
    }

    #[test]
    fn flow_completion_parses_the_response_json_into_metadata() {
        let message = only_message("pywa_message_interactive_nfm_reply_flow.json");
        assert_eq!(message.wamid, "wamid.wegrchytvwcggt==");
        assert_eq!(meta(&message, "/flow_response/delivery_rating"), "4");
        assert_eq!(
            meta(&message, "/flow_response/comment_text"),
            "Comment Text"
        );
        assert_eq!(
            meta(&message, "/flow_response/flow_token"),
            "AQAAAAACS5FpgQ_cAAAAAD0QI3s."
        );
        assert_eq!(meta(&message, "/interactive/nfm_reply/name"), "flow");
    }

    #[test]
    fn flow_completion_with_unparseable_response_json_keeps_the_raw_string_only() {
        let raw = edited("pywa_message_interactive_nfm_reply_flow.json", |body| {
            first_message_mut(body)["interactive"]["nfm_reply"]["response_json"] =
                json!("{not json");
        });
        let message = only_message_of(&raw);
        assert_eq!(message.content, "[form response]");
        assert_eq!(message.metadata.get("flow_response"), None);
        assert_eq!(
            meta(&message, "/interactive/nfm_reply/response_json"),
            "{not json"
        );
    }

    #[test]
    fn interactive_message_without_its_payload_is_kept_with_the_change_errors() {
        let change = single_change(&fixture("pywa_message_interactive_missing_payload.json"));
        assert!(change.problems.is_empty());
        let message = &change.messages[0];
        assert_eq!(message.wamid, "wamid.wegrchytvwcggt=");
        assert_eq!(message.kind, "interactive");
        assert_eq!(message.referenced_wamid(), Some("wamid.gvwegfretge=="));
        assert_eq!(change.errors.len(), 1);
        assert_eq!(change.errors[0]["code"], 131000);
        assert_eq!(
            change.errors[0]["error_data"]["details"],
            "Unsupported webhook payload"
        );
    }

    #[test]
    fn template_quick_reply_keeps_its_payload_and_context() {
        let message = only_message("pywa_message_button_quick_reply.json");
        assert_eq!(message.wamid, "wamid.xsidjw");
        assert_eq!(meta(&message, "/button/payload"), "callback_data");
        assert_eq!(message.referenced_wamid(), Some("wamid.xyzxyz=="));
    }

    #[test]
    fn business_scoped_user_id_comes_from_the_message_or_the_matching_contact() {
        let explicit = only_message("pywa_message_button_from_user_id.json");
        assert_eq!(explicit.from.as_deref(), Some(PYWA_WA_ID));
        assert_eq!(explicit.from_user_id.as_deref(), Some(PYWA_BSUID));
        assert_eq!(
            explicit.metadata.get("from_user_id"),
            None,
            "lifted, not duplicated"
        );

        let from_contact = only_message("pywa_message_image.json");
        assert_eq!(from_contact.from.as_deref(), Some(PYWA_WA_ID));
        assert_eq!(from_contact.from_user_id.as_deref(), Some(PYWA_BSUID));
        assert_eq!(from_contact.profile_name.as_deref(), Some("Test Name"));

        let change = single_change(&fixture("pywa_message_image.json"));
        assert_eq!(
            change.contacts[0].parent_user_id.as_deref(),
            Some("US.ENT.11815799212886844830")
        );
    }

    #[test]
    fn bsuid_only_delivery_without_a_phone_number_is_still_a_message() {
        let raw = edited("pywa_message_button_from_user_id.json", |body| {
            let value = body.pointer_mut("/entry/0/changes/0/value").expect("value");
            value["contacts"][0]
                .as_object_mut()
                .expect("contact")
                .remove("wa_id");
            value["messages"][0]
                .as_object_mut()
                .expect("message")
                .remove("from");
        });
        let message = only_message_of(&raw);
        assert_eq!(message.from, None);
        assert_eq!(message.from_user_id.as_deref(), Some(PYWA_BSUID));
        assert_eq!(
            message.profile_name.as_deref(),
            Some("Test Name"),
            "matched by user_id"
        );
    }

    #[test]
    fn sender_is_matched_to_a_contact_only_when_the_ids_agree() {
        let contacts = vec![
            Contact {
                wa_id: Some("111".into()),
                profile_name: Some("A".into()),
                ..Contact::default()
            },
            Contact {
                wa_id: Some("222".into()),
                user_id: Some("US.2".into()),
                profile_name: Some("B".into()),
                ..Contact::default()
            },
        ];
        let name = |contacts: &[Contact], from: Option<&str>, user: Option<&str>| {
            matching_contact(contacts, from, user).and_then(|c| c.profile_name.clone())
        };
        // (case, contacts, from, from_user_id, expected profile name)
        type Case<'a> = (
            &'a str,
            &'a [Contact],
            Option<&'a str>,
            Option<&'a str>,
            Option<&'a str>,
        );
        let cases: [Case<'_>; 7] = [
            (
                "wa_id matches the second",
                &contacts,
                Some("222"),
                None,
                Some("B"),
            ),
            (
                "user_id matches the second",
                &contacts,
                None,
                Some("US.2"),
                Some("B"),
            ),
            (
                "no ids and two contacts: no guess",
                &contacts,
                None,
                None,
                None,
            ),
            ("unknown wa_id", &contacts, Some("333"), None, None),
            (
                "no ids and one contact: that contact",
                &contacts[..1],
                None,
                None,
                Some("A"),
            ),
            (
                "conflicting wa_id and one contact: no guess",
                &contacts[..1],
                Some("999"),
                None,
                None,
            ),
            ("no contacts", &[], Some("111"), None, None),
        ];
        for (case, contacts, from, user, expected) in cases {
            assert_eq!(name(contacts, from, user).as_deref(), expected, "{case}");
        }
    }

    #[test]
    fn message_with_no_sender_fields_takes_the_sole_contacts_identities() {
        let raw = edited("pywa_message_image.json", |body| {
            first_message_mut(body)
                .as_object_mut()
                .expect("message")
                .remove("from");
        });
        let message = only_message_of(&raw);
        assert_eq!(message.from.as_deref(), Some(PYWA_WA_ID));
        assert_eq!(message.from_user_id.as_deref(), Some(PYWA_BSUID));
    }

    #[test]
    fn reaction_decodes_escaped_emoji_and_names_the_reacted_message() {
        let message = only_message("pywa_message_reaction.json");
        assert_eq!(message.content, "😮");
        assert_eq!(meta(&message, "/reaction/emoji"), "😮");
        assert_eq!(message.referenced_wamid(), Some("wamid.yzxyzx="));
        assert_eq!(message.timestamp.to_rfc3339(), "2023-10-11T17:14:16+00:00");

        let removed = only_message("pywa_message_reaction_removed.json");
        assert_eq!(meta(&removed, "/reaction/emoji"), "");
        assert_eq!(removed.referenced_wamid(), Some("wamid.yzxyzx="));
    }

    #[test]
    fn non_latin_text_and_escapes_are_preserved_exactly() {
        let raw = edited("meta_message_text.json", |body| {
            first_message_mut(body)["text"]["body"] = json!("नमस्ते, 2 BHK चाहिए 🏠 ¿Precio?");
        });
        let message = only_message_of(&raw);
        assert_eq!(message.content, "नमस्ते, 2 BHK चाहिए 🏠 ¿Precio?");
        assert_eq!(
            message.text.as_deref(),
            Some("नमस्ते, 2 BHK चाहिए 🏠 ¿Precio?")
        );

        let escaped = br#"{"object":"whatsapp_business_account","entry":[{"changes":[{"field":"messages","value":{"messages":[{"id":"wamid.1","from":"1","timestamp":"1","type":"text","text":{"body":"\u0928\u092e\u0938\u094d\u0924\u0947 \ud83c\udfe0"}}]}}]}]}"#;
        assert_eq!(only_message_of(escaped).content, "नमस्ते 🏠");
    }

    #[test]
    fn order_keeps_catalog_and_items() {
        let message = only_message("pywa_message_order.json");
        assert_eq!(meta(&message, "/order/catalog_id"), "354160437058781");
        assert_eq!(
            meta(&message, "/order/product_items")
                .as_array()
                .map(Vec::len),
            Some(3)
        );
        assert_eq!(
            meta(&message, "/order/product_items/0/product_retailer_id"),
            "HAMBURGER"
        );
        assert_eq!(meta(&message, "/order/product_items/0/quantity"), 3);
    }

    #[test]
    fn changed_number_is_a_system_message_carrying_the_new_wa_id() {
        let change = single_change(&fixture("meta_message_system_user_changed_number.json"));
        assert!(change.contacts.is_empty(), "Meta sends no contacts[] here");
        let message = &change.messages[0];
        assert_eq!(message.sender, Sender::System);
        assert_eq!(
            message.from.as_deref(),
            Some(SHEENA_WA_ID),
            "the old number"
        );
        assert_eq!(message.changed_wa_id(), Some("12195555358"));
        assert_eq!(meta(message, "/system/type"), "user_changed_number");
        assert_eq!(message.profile_name, None);
        assert_eq!(message.timestamp.to_rfc3339(), "2025-06-18T17:55:42+00:00");
    }

    #[test]
    fn identity_change_is_a_system_message_with_its_identity_block() {
        let message = only_message("pywa_message_system_identity_change.json");
        assert_eq!(message.sender, Sender::System);
        assert_eq!(meta(&message, "/system/type"), "customer_identity_changed");
        assert_eq!(meta(&message, "/identity/hash"), "xyzxyz");
        assert_eq!(meta(&message, "/identity/acknowledged"), true);
        assert_eq!(message.changed_wa_id(), None);
    }

    #[test]
    fn unsupported_messages_keep_their_errors_and_inner_type() {
        let cases = [
            ("meta_message_unsupported.json", "edit"),
            ("pywa_message_unsupported_with_type.json", "pool"),
        ];
        for (name, inner) in cases {
            let message = only_message(name);
            assert_eq!(meta(&message, "/unsupported/type"), inner, "{name}");
            assert_eq!(meta(&message, "/errors/0/code"), 131051, "{name}");
            assert_eq!(
                meta(&message, "/errors/0/title"),
                "Message type unknown",
                "{name}"
            );
        }
    }

    #[test]
    fn unknown_message_type_is_a_message_with_its_raw_type_and_payload() {
        let raw = edited("meta_message_text.json", |body| {
            let message = first_message_mut(body);
            message["type"] = json!("poll");
            message["poll"] = json!({"question": "Which day suits a visit?"});
        });
        let message = only_message_of(&raw);
        assert_eq!(message.kind, "poll");
        assert_eq!(message.content, "[unsupported message]");
        assert_eq!(message.text, None);
        assert_eq!(message.sender, Sender::Customer);
        assert_eq!(meta(&message, "/poll/question"), "Which day suits a visit?");
        assert!(
            message.metadata.get("text").is_some(),
            "text is only lifted for text messages"
        );
    }

    #[test]
    fn message_without_a_type_is_kind_unknown() {
        let raw = edited("meta_message_text.json", |body| {
            first_message_mut(body)
                .as_object_mut()
                .expect("message")
                .remove("type");
        });
        let message = only_message_of(&raw);
        assert_eq!(message.kind, UNKNOWN_KIND);
        assert_eq!(message.content, "[unsupported message]");
    }

    #[test]
    fn timestamp_as_a_json_number_is_accepted() {
        let raw = edited("meta_message_text.json", |body| {
            first_message_mut(body)["timestamp"] = json!(1_749_416_383);
        });
        assert_eq!(only_message_of(&raw).timestamp, at(1_749_416_383));
    }

    #[test]
    fn unusable_messages_are_skipped_and_reported_while_the_rest_are_kept() {
        let raw = edited("meta_message_text.json", |body| {
            let good = first_message_mut(body).clone();
            let mut no_id = good.clone();
            no_id.as_object_mut().expect("message").remove("id");
            let mut empty_id = good.clone();
            empty_id["id"] = json!("");
            let mut bad_time = good.clone();
            bad_time["timestamp"] = json!("yesterday");
            let mut far_time = good.clone();
            far_time["timestamp"] = json!(i64::MAX.to_string());
            body["entry"][0]["changes"][0]["value"]["messages"] =
                json!([no_id, good, empty_id, "not a message", bad_time, far_time]);
        });
        let change = single_change(&raw);
        assert_eq!(change.messages.len(), 1, "the good message is kept");
        let base = "entry[0].changes[0].value.messages";
        assert_eq!(
            change.problems,
            vec![
                format!("{base}[0].id: missing, message skipped"),
                format!("{base}[2].id: missing, message skipped"),
                format!("{base}[3]: not an object, skipped"),
                format!("{base}[4].timestamp: missing or invalid, message skipped"),
                format!("{base}[5].timestamp: missing or invalid, message skipped"),
            ]
        );
    }

    #[test]
    fn problems_name_paths_but_never_payload_values() {
        let raw = edited("meta_message_text.json", |body| {
            let message = first_message_mut(body);
            message.as_object_mut().expect("message").remove("id");
            message["text"]["body"] = json!("my number is 4155550829");
            body["entry"][0]["changes"][0]["value"]["statuses"] =
                json!([{"id": "wamid.x", "status": "exploded-4155550829", "timestamp": "1"}]);
        });
        let webhook = parse_webhook(&raw).expect("parses");
        let problems: Vec<&str> = webhook.all_problems().collect();
        assert_eq!(problems.len(), 2);
        for problem in problems {
            assert!(!problem.contains("4155550829"), "{problem}");
            assert!(!problem.contains(SHEENA_WA_ID), "{problem}");
            assert!(!problem.contains("wamid"), "{problem}");
        }
    }

    #[test]
    fn unknown_fields_at_every_level_are_ignored() {
        let plain = parse_webhook(&fixture("meta_message_text.json")).expect("parses");
        let raw = edited("meta_message_text.json", |body| {
            body["new_top_level"] = json!({"x": 1});
            body["entry"][0]["new_entry_field"] = json!([1, 2]);
            body["entry"][0]["changes"][0]["new_change_field"] = json!(null);
            let value = &mut body["entry"][0]["changes"][0]["value"];
            value["new_value_field"] = json!("x");
            value["metadata"]["new_metadata_field"] = json!(true);
            value["contacts"][0]["new_contact_field"] = json!({});
        });
        assert_eq!(parse_webhook(&raw).expect("parses"), plain);
    }

    #[test]
    fn new_message_fields_are_kept_in_metadata() {
        let raw = edited("meta_message_text.json", |body| {
            first_message_mut(body)["group_id"] = json!("120363000000000000");
        });
        assert_eq!(
            meta(&only_message_of(&raw), "/group_id"),
            "120363000000000000"
        );
    }

    #[test]
    fn value_level_errors_without_messages_or_statuses_are_kept_verbatim() {
        let change = single_change(&fixture("meta_value_errors_rate_limit.json"));
        assert!(change.messages.is_empty());
        assert!(change.statuses.is_empty());
        assert!(change.problems.is_empty());
        assert_eq!(change.errors.len(), 1);
        assert_eq!(change.errors[0]["code"], 130429);
        assert_eq!(change.errors[0]["title"], "Rate limit hit");
        assert_eq!(
            change.errors[0]["href"],
            "/documentation/business-messaging/whatsapp/support/error-codes"
        );
    }

    // ---- focused: statuses --------------------------------------------------------------------

    #[test]
    fn every_status_fixture_yields_our_wamid_its_status_time_and_recipient() {
        use DeliveryStatus::{Delivered, Failed, Played, Read, Sent};
        // (fixture, wamid, status, unix time, recipient)
        #[rustfmt::skip]
        let cases: &[(&str, &str, DeliveryStatus, i64, &str)] = &[
            ("meta_status_sent_marketing_pmp.json", "wamid.HBgLMTY1MDM4Nzk0MzkVAgASGBQzQUFERjg0NDEzNDdFODU3MUMxMAA=", Sent, 1_750_030_073, SHEENA_WA_ID),
            ("meta_status_v24_minimal.json", "wamid.HBgLMTY1MDM4Nzk0MzkVAgASGBQzQUFERjg0NDEzNDdFODU3MUMxMAA=", Sent, 1_750_030_073, SHEENA_WA_ID),
            ("meta_status_delivered_service_cbp.json", "wamid.HBgLMTY1MDM4Nzk0MzkVAgARGBI3MTE5MjVBOTE3MDk5QUVFM0YA", Delivered, 1_750_263_773, SHEENA_WA_ID),
            ("meta_status_failed_131049.json", "wamid.HBgLMTY1MDM4Nzk0MzkVAgARGBI0QUQ2MjA4NEYyRkExNjMyREUA", Failed, 1_751_142_888, SHEENA_WA_ID),
            ("pywa_status_played.json", "wamid.xyzxyz", Played, 1_689_380_458, PYWA_WA_ID),
            ("pywa_status_read_group.json", "<WHATSAPP_MESSAGE_ID>", Read, 1_698_266_945, "fowefinoewcnw"),
            ("pywa_status_sent_biz_opaque_callback_data.json", "wamid.xyzxyz", Sent, 1_698_266_945, PYWA_WA_ID),
            ("pywa_status_failed_130472.json", "wamid.xyzxyz", Failed, 1_689_380_458, PYWA_WA_ID),
        ];
        for &(name, wamid, status, secs, recipient) in cases {
            let update = only_status(name);
            assert_eq!(update.wamid, wamid, "{name}");
            assert_eq!(update.status, status, "{name}");
            assert_eq!(update.timestamp, at(secs), "{name}");
            assert_eq!(update.recipient_id.as_deref(), Some(recipient), "{name}");
        }
        let covered: Vec<&str> = cases.iter().map(|case| case.0).collect();
        for (name, _) in all_fixtures() {
            if name.contains("_status_") {
                assert!(
                    covered.contains(&name.as_str()),
                    "{name} has no status case"
                );
            }
        }
    }

    #[test]
    fn failed_statuses_keep_their_errors_and_expose_the_codes() {
        let meta_failed = only_status("meta_status_failed_131049.json");
        assert_eq!(meta_failed.error_codes(), vec![131049]);
        assert_eq!(
            meta_failed.metadata["errors"][0]["error_data"]["details"],
            "In order to maintain a healthy ecosystem engagement, the message failed to be delivered."
        );
        assert_eq!(
            only_status("pywa_status_failed_130472.json").error_codes(),
            vec![130472]
        );
        assert_eq!(
            only_status("pywa_status_played.json").error_codes(),
            Vec::<i64>::new()
        );
    }

    #[test]
    fn status_metadata_keeps_pricing_conversation_and_callback_data() {
        let marketing = only_status("meta_status_sent_marketing_pmp.json");
        assert_eq!(marketing.metadata["pricing"]["pricing_model"], "PMP");
        assert_eq!(marketing.metadata["pricing"]["type"], "regular");
        assert_eq!(
            marketing.metadata["conversation"]["origin"]["type"],
            "marketing"
        );
        assert_eq!(
            marketing.metadata["conversation"]["expiration_timestamp"],
            "1750116480"
        );

        let service = only_status("meta_status_delivered_service_cbp.json");
        assert_eq!(service.metadata["pricing"]["pricing_model"], "CBP");
        assert_eq!(service.metadata["pricing"]["billable"], true);

        let tracked = only_status("pywa_status_sent_biz_opaque_callback_data.json");
        assert_eq!(tracked.metadata["biz_opaque_callback_data"], "some data");

        let minimal = only_status("meta_status_v24_minimal.json");
        assert_eq!(
            minimal.metadata,
            json!({}),
            "v24+: no conversation, no pricing"
        );
    }

    #[test]
    fn group_status_keeps_the_participant_identities() {
        let group = only_status("pywa_status_read_group.json");
        assert_eq!(group.metadata["recipient_type"], "group");
        assert_eq!(group.metadata["recipient_participant_user_id"], "US.123456");
        assert_eq!(group.recipient_user_id, None);
        let change = single_change(&fixture("pywa_status_read_group.json"));
        assert_eq!(change.contacts[0].username.as_deref(), Some("<USERNAME>"));
    }

    #[test]
    fn status_recipient_user_id_is_lifted_when_sent() {
        let raw = edited("meta_status_v24_minimal.json", |body| {
            body["entry"][0]["changes"][0]["value"]["statuses"][0]["recipient_user_id"] =
                json!("US.77");
        });
        let change = single_change(&raw);
        assert_eq!(
            change.statuses[0].recipient_user_id.as_deref(),
            Some("US.77")
        );
        assert_eq!(change.statuses[0].metadata, json!({}));
    }

    #[test]
    fn unusable_statuses_are_skipped_and_reported() {
        let raw = edited("meta_status_v24_minimal.json", |body| {
            let good = body["entry"][0]["changes"][0]["value"]["statuses"][0].clone();
            let mut unknown = good.clone();
            unknown["status"] = json!("deleted");
            let mut no_id = good.clone();
            no_id.as_object_mut().expect("status").remove("id");
            let mut no_time = good.clone();
            no_time.as_object_mut().expect("status").remove("timestamp");
            body["entry"][0]["changes"][0]["value"]["statuses"] =
                json!([unknown, good, no_id, no_time]);
        });
        let change = single_change(&raw);
        assert_eq!(change.statuses.len(), 1);
        let base = "entry[0].changes[0].value.statuses";
        assert_eq!(
            change.problems,
            vec![
                format!("{base}[0].status: missing or unknown, status skipped"),
                format!("{base}[2].id: missing, status skipped"),
                format!("{base}[3].timestamp: missing or invalid, status skipped"),
            ]
        );
    }

    // ---- delivery status order ----------------------------------------------------------------

    #[test]
    fn delivery_statuses_print_and_parse_as_metas_names() {
        for status in [
            DeliveryStatus::Sent,
            DeliveryStatus::Delivered,
            DeliveryStatus::Read,
            DeliveryStatus::Played,
            DeliveryStatus::Failed,
        ] {
            assert_eq!(status.as_str().parse::<DeliveryStatus>(), Ok(status));
            assert_eq!(status.to_string(), status.as_str());
            assert_eq!(
                serde_json::to_value(status).expect("serialise"),
                json!(status.as_str())
            );
        }
        assert_eq!(
            "deleted".parse::<DeliveryStatus>(),
            Err(UnknownDeliveryStatus)
        );
        assert_eq!("".parse::<DeliveryStatus>(), Err(UnknownDeliveryStatus));
    }

    #[test]
    fn bodies_that_are_not_a_whatsapp_envelope_are_errors() {
        let cases: &[(&str, &[u8], WhatsAppParseError)] = &[
            (
                "empty body",
                b"",
                WhatsAppParseError::NotJson { line: 1, column: 0 },
            ),
            (
                "plain text",
                b"hello",
                WhatsAppParseError::NotJson { line: 1, column: 1 },
            ),
            (
                "form body",
                b"a=1&b=2",
                WhatsAppParseError::NotJson { line: 1, column: 1 },
            ),
            (
                "truncated object",
                b"{\"entry\": [",
                WhatsAppParseError::NotJson {
                    line: 1,
                    column: 11,
                },
            ),
            ("array", b"[]", WhatsAppParseError::NotAnObject),
            ("string", b"\"entry\"", WhatsAppParseError::NotAnObject),
            ("null", b"null", WhatsAppParseError::NotAnObject),
            ("empty object", b"{}", WhatsAppParseError::MissingEntry),
            (
                "object without entry",
                b"{\"object\":\"whatsapp_business_account\"}",
                WhatsAppParseError::MissingEntry,
            ),
            (
                "entry is an object",
                b"{\"entry\":{}}",
                WhatsAppParseError::MissingEntry,
            ),
            (
                "entry is null",
                b"{\"entry\":null}",
                WhatsAppParseError::MissingEntry,
            ),
            (
                "instagram webhook",
                b"{\"object\":\"instagram\",\"entry\":[]}",
                WhatsAppParseError::UnexpectedObject("instagram".into()),
            ),
            (
                "object is a number",
                b"{\"object\":5,\"entry\":[]}",
                WhatsAppParseError::UnexpectedObject("number".into()),
            ),
        ];
        for (case, raw, expected) in cases {
            assert_eq!(parse_webhook(raw).as_ref(), Err(expected), "{case}");
        }
    }

    #[test]
    fn invalid_utf8_and_lone_surrogates_are_not_json() {
        assert!(matches!(
            parse_webhook(b"{\"entry\":[\xff]}"),
            Err(WhatsAppParseError::NotJson { .. })
        ));
        assert!(matches!(
            parse_webhook(
                br#"{"entry":[{"changes":[{"value":{"messages":[{"text":{"body":"\ud83d"}}]}}]}]}"#
            ),
            Err(WhatsAppParseError::NotJson { .. })
        ));
    }

    #[test]
    fn parse_errors_never_repeat_the_body() {
        let error = parse_webhook(b"{\"phone\": \"+14155550829\", oops}").expect_err("not JSON");
        assert!(!error.to_string().contains("4155550829"), "{error}");
        let long = format!("{{\"object\":\"{}\",\"entry\":[]}}", "x".repeat(10_000));
        let error = parse_webhook(long.as_bytes()).expect_err("unexpected object");
        assert!(error.to_string().len() < 200, "object name is capped");
    }

    #[test]
    fn envelopes_with_nothing_in_them_are_empty_webhooks() {
        let cases: &[(&str, &str)] = &[
            (
                "no entries",
                r#"{"object":"whatsapp_business_account","entry":[]}"#,
            ),
            (
                "entry without changes",
                r#"{"object":"whatsapp_business_account","entry":[{"id":"1"}]}"#,
            ),
            (
                "entry with empty changes",
                r#"{"object":"whatsapp_business_account","entry":[{"id":"1","changes":[]}]}"#,
            ),
            (
                "entry with null changes",
                r#"{"object":"whatsapp_business_account","entry":[{"id":"1","changes":null}]}"#,
            ),
            ("no object field", r#"{"entry":[]}"#),
        ];
        for (case, raw) in cases {
            assert_eq!(
                parse_webhook(raw.as_bytes()),
                Ok(Webhook::default()),
                "{case}"
            );
        }
    }

    #[test]
    fn malformed_entries_and_changes_are_reported_not_fatal() {
        let raw = br#"{"object":"whatsapp_business_account","entry":[
            "junk",
            {"id":"1","changes":"junk"},
            {"id":2,"changes":[7,{"field":"messages"},{"value":{"contacts":{},"messages":"x","statuses":1,"errors":false}}]}
        ]}"#;
        let webhook = parse_webhook(raw).expect("the envelope is fine");
        assert_eq!(
            webhook.problems,
            vec![
                "entry[0]: not an object, skipped",
                "entry[1].changes: not an array, skipped",
                "entry[2].changes[0]: not an object, skipped",
            ]
        );
        assert_eq!(webhook.changes.len(), 2);
        assert_eq!(
            webhook.changes[0].waba_id.as_deref(),
            Some("2"),
            "numeric ids become text"
        );
        assert_eq!(
            webhook.changes[0].problems,
            vec!["entry[2].changes[1].value: missing"]
        );
        assert_eq!(
            webhook.changes[1].problems,
            vec![
                "entry[2].changes[2].field: missing",
                "entry[2].changes[2].value.contacts: not an array, skipped",
                "entry[2].changes[2].value.errors: not an array, skipped",
                "entry[2].changes[2].value.messages: not an array, skipped",
                "entry[2].changes[2].value.statuses: not an array, skipped",
            ]
        );
    }

    #[test]
    fn every_entry_and_change_of_one_post_is_flattened_in_order() {
        let first: Value =
            serde_json::from_slice(&fixture("meta_message_text.json")).expect("json");
        let second: Value =
            serde_json::from_slice(&fixture("meta_message_text_referred_product.json"))
                .expect("json");
        let status: Value =
            serde_json::from_slice(&fixture("pywa_status_played.json")).expect("json");
        let body = json!({
            "object": "whatsapp_business_account",
            "entry": [
                {"id": "A", "changes": [first["entry"][0]["changes"][0], status["entry"][0]["changes"][0]]},
                second["entry"][0],
            ]
        });
        let webhook = parse_webhook(&serde_json::to_vec(&body).expect("json")).expect("parses");
        let wabas: Vec<Option<&str>> = webhook
            .changes
            .iter()
            .map(|c| c.waba_id.as_deref())
            .collect();
        assert_eq!(wabas, vec![Some("A"), Some("A"), Some("419561257915477")]);
        let contents: Vec<&str> = webhook
            .messages()
            .map(|(_, m)| m.content.as_str())
            .collect();
        assert_eq!(
            contents,
            vec!["Does it come in another color?", "Is this still available?"]
        );
        let statuses: Vec<DeliveryStatus> = webhook.statuses().map(|(_, s)| s.status).collect();
        assert_eq!(statuses, vec![DeliveryStatus::Played]);
    }

    #[test]
    fn changes_for_other_fields_are_kept_without_messages() {
        let raw = br#"{"object":"whatsapp_business_account","entry":[{"id":"1","changes":[
            {"field":"message_template_status_update","value":{"event":"APPROVED","message_template_id":12}}]}]}"#;
        let change = single_change(raw);
        assert_eq!(change.field, "message_template_status_update");
        assert!(
            change.messages.is_empty() && change.statuses.is_empty() && change.problems.is_empty()
        );
    }

    // ---- robustness ---------------------------------------------------------------------------

    #[test]
    fn parsing_never_panics_on_any_truncation_of_any_fixture() {
        for (name, raw) in all_fixtures() {
            for end in 0..raw.len() {
                // A prefix is either an error or (when only trailing whitespace was cut) the same.
                if let Ok(webhook) = parse_webhook(&raw[..end]) {
                    assert_eq!(Ok(webhook), parse_webhook(&raw), "{name} cut at {end}");
                }
            }
        }
    }

    /// Every JSON pointer in `value`, depth first.
    fn pointers(value: &Value, at: String, out: &mut Vec<String>) {
        match value {
            Value::Object(map) => {
                for (key, child) in map {
                    pointers(
                        child,
                        format!("{at}/{}", key.replace('~', "~0").replace('/', "~1")),
                        out,
                    );
                }
            }
            Value::Array(items) => {
                for (i, child) in items.iter().enumerate() {
                    pointers(child, format!("{at}/{i}"), out);
                }
            }
            _ => {}
        }
        out.push(at);
    }

    #[test]
    fn any_node_of_any_fixture_replaced_by_any_json_type_never_panics_or_fails_below_the_envelope()
    {
        let replacements = [
            json!(null),
            json!(true),
            json!(0),
            json!(-1),
            json!(1.5e300),
            json!(u64::MAX),
            json!(""),
            json!("x"),
            json!([]),
            json!([null]),
            json!({}),
        ];
        for (name, raw) in all_fixtures() {
            let original: Value = serde_json::from_slice(&raw).expect("json");
            let mut paths = Vec::new();
            pointers(&original, String::new(), &mut paths);
            for path in paths {
                for replacement in &replacements {
                    let mut body = original.clone();
                    match body.pointer_mut(&path) {
                        Some(node) => *node = replacement.clone(),
                        None => body = replacement.clone(),
                    }
                    let bytes = serde_json::to_vec(&body).expect("serialise");
                    let parsed = parse_webhook(&bytes);
                    // Inside an entry, damage is degraded to problems or placeholders.
                    if path.starts_with("/entry/") {
                        assert!(
                            parsed.is_ok(),
                            "{name}: {path} = {replacement} → {parsed:?}"
                        );
                    }
                }
            }
        }
    }
}
