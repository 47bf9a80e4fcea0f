//! What a parsed WhatsApp delivery asks the database to do: the pure half of the WhatsApp
//! webhook's use case.
//!
//! [`IngestInput::from_webhook`] turns a [`Webhook`] into the one document `ingest_whatsapp()`
//! applies set-based: each change with the number that received it, each message that names a
//! sender with that sender's identities (phone in E.164, `wa_id`, business-scoped user id, and
//! the new number of a number change), the intents and the opt-out/opt-in keyword of what the
//! customer typed, each status, and every reason why part of the delivery cannot be mapped.
//! Items carry the JSON path the parser recorded, so the body is parsed once.
//!
//! Reasons name JSON paths, Meta's error codes and field names (capped), never a phone number, a
//! name or message text: they are stored in the journal and logged.

use crate::consent::{self, ConsentChange};
use crate::intent::{self, IntentHit};
use crate::phone::PhoneNumber;
use crate::whatsapp::{
    Change, InboundMessage, Sender, StatusUpdate, UNSUPPORTED_CONTENT, Webhook, WhatsAppParseError,
};
use chrono::{DateTime, Utc};
use serde::Serialize;
use serde_json::Value;

/// The longest identity value `lead_identities` accepts (its CHECK constraint).
pub const MAX_IDENTITY_CHARS: usize = 320;

/// How much of a Meta-supplied name (a message type, a change field) a reason repeats.
const MAX_NAME_IN_REASON: usize = 40;

/// The `p` document of `ingest_whatsapp()`.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct IngestInput {
    pub changes: Vec<ChangeInput>,
    /// Only messages that name a sender (others are reasons).
    pub messages: Vec<MessageInput>,
    pub statuses: Vec<StatusInput>,
    pub reasons: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ChangeInput {
    pub idx: usize,
    pub path: String,
    pub phone_number_id: Option<String>,
    /// Messages of this change that can be applied.
    pub messages: usize,
    pub statuses: usize,
}

/// One way a lead can be recognised (`lead_identities.kind` / `value`).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub struct Identity {
    pub kind: &'static str,
    pub value: String,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct MessageInput {
    /// Position among the applicable messages: the order of the delivery.
    pub i: usize,
    /// The `idx` of its change.
    pub change: usize,
    pub path: String,
    pub wamid: String,
    pub wa_id: Option<String>,
    /// The sender's number in E.164, when the `wa_id` is a valid phone number.
    pub phone: Option<String>,
    pub bsuid: Option<String>,
    pub name: Option<String>,
    pub at: DateTime<Utc>,
    pub kind: String,
    pub sender: Sender,
    pub content: String,
    pub metadata: Value,
    /// Sorted and distinct: the same sender is the same identity set, which is how the SQL
    /// groups messages into senders.
    pub identities: Vec<Identity>,
    pub intents: Vec<IntentHit>,
    pub consent: Option<&'static str>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct StatusInput {
    pub i: usize,
    pub change: usize,
    pub path: String,
    pub wamid: String,
    pub status: &'static str,
    pub at: DateTime<Utc>,
    pub metadata: Value,
}

impl IngestInput {
    /// Everything a readable delivery asks for.
    pub fn from_webhook(webhook: &Webhook) -> Self {
        let mut input = Self {
            reasons: webhook.problems.clone(),
            ..Self::default()
        };
        for (index, change) in webhook.changes.iter().enumerate() {
            input.add_change(index, change);
        }
        input
    }

    /// A body that is not a WhatsApp webhook at all: nothing to apply, one reason.
    pub fn unreadable(error: &WhatsAppParseError) -> Self {
        Self {
            reasons: vec![format!("body: {error}; nothing applied")],
            ..Self::default()
        }
    }

    fn add_change(&mut self, index: usize, change: &Change) {
        let path = &change.path;
        self.reasons.extend(change.problems.iter().cloned());
        if !change.field.is_empty() && change.field != "messages" {
            self.reasons.push(format!(
                "{path}: field `{}` is not handled",
                capped(&change.field)
            ));
        }
        if !change.errors.is_empty() {
            self.reasons.push(format!(
                "{path}.value.errors: Meta reported errors {:?}",
                error_codes(&change.errors)
            ));
        }
        let applicable = change
            .messages
            .iter()
            .filter(|message| self.add_message(index, message))
            .count();
        for status in &change.statuses {
            self.add_status(index, status);
        }
        self.changes.push(ChangeInput {
            idx: index,
            path: path.clone(),
            phone_number_id: change.phone_number_id.clone(),
            messages: applicable,
            statuses: change.statuses.len(),
        });
    }

    /// Adds a message that names a sender; returns false (with a reason) for one that does not.
    fn add_message(&mut self, change: usize, message: &InboundMessage) -> bool {
        let path = &message.path;
        if message.kind == "unsupported" || message.content == UNSUPPORTED_CONTENT {
            self.reasons.push(format!(
                "{path}: message type `{}` is not supported; stored as a placeholder",
                capped(&message.kind)
            ));
        }
        if let Some(errors) = message.metadata.get("errors").and_then(Value::as_array) {
            self.reasons.push(format!(
                "{path}.errors: Meta reported errors {:?}",
                error_codes(errors)
            ));
        }

        // A wa_id that is not a valid phone number (test numbers, pywa's examples) still
        // identifies the person as a WhatsApp id; it only does not become a phone identity.
        let wa_id = message.from.as_deref();
        let phone = wa_id.and_then(|id| PhoneNumber::from_whatsapp_id(id).ok());
        let mut identities = Vec::new();
        if let Some(phone) = &phone {
            identities.push(identity("phone", phone.e164()));
        }
        if let Some(wa_id) = wa_id {
            identities.push(identity("whatsapp_id", wa_id));
        }
        if let Some(user_id) = &message.from_user_id {
            identities.push(identity("whatsapp_bsuid", user_id));
        }
        let sender_ids = identities.len();
        // A number change: the new number is the same person from now on.
        if let Some(new_wa_id) = message.changed_wa_id() {
            if let Ok(new_phone) = PhoneNumber::from_whatsapp_id(new_wa_id) {
                identities.push(identity("phone", new_phone.e164()));
            }
            identities.push(identity("whatsapp_id", new_wa_id));
        }
        let before = identities.len();
        identities.retain(|identity| identity.value.chars().count() <= MAX_IDENTITY_CHARS);
        if identities.len() < before {
            self.reasons.push(format!(
                "{path}: an id longer than {MAX_IDENTITY_CHARS} characters was not used"
            ));
        }
        if sender_ids == 0 || identities.is_empty() {
            self.reasons.push(format!(
                "{path}: no sender id (from, from_user_id or a matching contact); not stored"
            ));
            return false;
        }
        identities.sort();
        identities.dedup();

        let typed = match message.sender {
            Sender::Customer => message.text.as_deref(),
            Sender::System => None,
        };
        self.messages.push(MessageInput {
            i: self.messages.len(),
            change,
            path: path.clone(),
            wamid: message.wamid.clone(),
            wa_id: wa_id.map(str::to_owned),
            phone: phone.as_ref().map(|p| p.e164().to_owned()),
            bsuid: message.from_user_id.clone(),
            name: message.profile_name.clone(),
            at: message.timestamp,
            kind: message.kind.clone(),
            sender: message.sender,
            content: message.content.clone(),
            metadata: message.metadata.clone(),
            identities,
            intents: typed.map(intent::detect).unwrap_or_default(),
            consent: typed
                .and_then(consent::classify)
                .map(|change| match change {
                    ConsentChange::OptOut => "opt_out",
                    ConsentChange::OptIn => "opt_in",
                }),
        });
        true
    }

    fn add_status(&mut self, change: usize, status: &StatusUpdate) {
        self.statuses.push(StatusInput {
            i: self.statuses.len(),
            change,
            path: status.path.clone(),
            wamid: status.wamid.clone(),
            status: status.status.as_str(),
            at: status.timestamp,
            metadata: status.metadata.clone(),
        });
    }
}

fn identity(kind: &'static str, value: &str) -> Identity {
    Identity {
        kind,
        value: value.to_owned(),
    }
}

/// Meta's numeric error codes (no personal data in them).
fn error_codes(errors: &[Value]) -> Vec<i64> {
    errors
        .iter()
        .filter_map(|error| error.get("code").and_then(Value::as_i64))
        .collect()
}

fn capped(name: &str) -> String {
    name.chars().take(MAX_NAME_IN_REASON).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::whatsapp::parse_webhook;
    use serde_json::json;

    fn input(body: Value) -> IngestInput {
        IngestInput::from_webhook(&parse_webhook(body.to_string().as_bytes()).expect("parses"))
    }

    fn text_message(id: &str, from: &str, text: &str) -> Value {
        json!({"from": from, "id": id, "timestamp": "1764000000", "type": "text",
               "text": {"body": text}})
    }

    fn delivery(messages: Vec<Value>, statuses: Vec<Value>) -> Value {
        json!({"object": "whatsapp_business_account", "entry": [{"id": "waba", "changes": [
            {"field": "messages", "value": {"messaging_product": "whatsapp",
             "metadata": {"phone_number_id": "111", "display_phone_number": "15550000000"},
             "contacts": [{"wa_id": "919812345678", "profile": {"name": "Asha"}}],
             "messages": messages, "statuses": statuses}}]}]})
    }

    #[test]
    fn a_customer_message_carries_its_identities_intents_consent_and_path() {
        let input = input(delivery(
            vec![text_message("wamid.1", "919812345678", "STOP")],
            vec![],
        ));

        let message = &input.messages[0];
        assert_eq!(message.path, "entry[0].changes[0].value.messages[0]");
        assert_eq!(message.phone.as_deref(), Some("+919812345678"));
        assert_eq!(
            message.identities,
            vec![
                identity("phone", "+919812345678"),
                identity("whatsapp_id", "919812345678")
            ]
        );
        assert_eq!(message.consent, Some("opt_out"));
        assert!(
            message
                .intents
                .iter()
                .any(|hit| hit.intent == intent::Intent::OptOut)
        );
        assert_eq!(message.name.as_deref(), Some("Asha"));
        assert_eq!(input.changes[0].messages, 1);
        assert!(input.reasons.is_empty(), "{:?}", input.reasons);
    }

    #[test]
    fn an_item_the_parser_skipped_does_not_shift_the_paths_of_the_next() {
        let input = input(delivery(
            vec![
                json!({"from": "919812345678", "type": "text"}),
                text_message("wamid.2", "919812345678", "hello"),
            ],
            vec![
                json!({"id": "wamid.out", "status": "read", "timestamp": "1764000000",
                        "recipient_id": "919812345678"}),
            ],
        ));

        assert_eq!(
            input.messages[0].path,
            "entry[0].changes[0].value.messages[1]"
        );
        assert_eq!(
            input.statuses[0].path,
            "entry[0].changes[0].value.statuses[0]"
        );
        assert!(
            input
                .reasons
                .iter()
                .any(|r| r.starts_with("entry[0].changes[0].value.messages[0]")),
            "{:?}",
            input.reasons
        );
    }

    #[test]
    fn a_sender_id_over_the_identity_limit_is_dropped_with_a_reason_naming_no_value() {
        let long = "9".repeat(MAX_IDENTITY_CHARS + 1);
        let mut message = text_message("wamid.3", "919812345678", "hi");
        message["from_user_id"] = json!(long);
        let input = input(delivery(vec![message], vec![]));

        assert!(
            input.messages[0]
                .identities
                .iter()
                .all(|i| i.kind != "whatsapp_bsuid")
        );
        let reason = input.reasons.join("; ");
        assert!(reason.contains("longer than 320"), "{reason}");
        assert!(!reason.contains(&long), "no value in a reason");
    }

    #[test]
    fn a_body_that_is_not_a_webhook_is_one_reason_and_nothing_to_apply() {
        let error = parse_webhook(b"[]").expect_err("not an object");
        let input = IngestInput::unreadable(&error);

        assert!(input.messages.is_empty() && input.changes.is_empty());
        assert_eq!(input.reasons.len(), 1);
    }
}
