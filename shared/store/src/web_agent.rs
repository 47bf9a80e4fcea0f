//! The web-agent webhook's write: one parsed delivery in one statement.
//!
//! The whole write (journal, lead, identities, session, message, intents, usage, outbox) is the
//! SQL function `ingest_web_agent` (`web_agent/ingest_web_agent.sql`), called as a single
//! autocommit statement: one round trip and one transaction, so it all happens or none of it
//! does. Lead resolution inside it is `resolve_lead` (`leads/resolve_lead.sql`), the journal
//! protocol is [`crate::journal`]'s. This module only turns the parsed command into the
//! function's argument and its answer into types.
//!
//! The journal key ([`event_key`]) is per workspace and per client `message_id`; a delivery
//! without one gets a key of its own, made once here so that a replay from the journal applies
//! under the same key.
//!
//! A delivery the database refuses (an `agent_id` of no agent of the workspace, or only an
//! `external_session_id` that is linked to no lead yet) comes back as
//! [`IngestOutcome::Rejected`] with field errors, having written nothing.

use crate::StoreError;
use crate::outbox::OutboxMessage;
use domain::ids::{ConversationId, LeadId, WorkspaceId};
use domain::jobs::Queue;
use domain::validation::ValidationErrors;
use domain::web_agent::WebAgentCommand;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use tokio_postgres::types::{Json, Type};
use uuid::Uuid;

/// The one statement of the hot path, sent unnamed with its parameter types (`query_typed`):
/// Parse, Bind and Execute in one round trip, and nothing left on the server connection, so it
/// works behind a transaction-mode pooler (pgbouncer, Supavisor) where a named prepared
/// statement would not. The function's own plans are cached by PL/pgSQL per session anyway.
const INGEST: &str = "SELECT ingest_web_agent($1::jsonb, $2::jsonb)";

/// The workspace's conversations in the current billing period against its plan's limit.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Usage {
    pub conversations: i32,
    /// `None`: the plan is unlimited.
    pub limit: Option<i32>,
    /// More conversations than the limit. Informational: leads are never refused for billing.
    pub over_limit: bool,
}

/// What a delivery did (or, for a replay, did the first time).
#[derive(Debug, Clone, PartialEq)]
pub struct Ingested {
    pub lead_id: LeadId,
    /// The `web_sessions` row; `None` when the delivery named no session.
    pub session_id: Option<Uuid>,
    /// The stored `conversations` row; `None` when the delivery carried no message.
    pub message_id: Option<ConversationId>,
    /// This delivery created the lead.
    pub created: bool,
    /// A replay of a `message_id` already processed: nothing was written.
    pub duplicate: bool,
    pub usage: Usage,
    /// Other leads that own one of the delivery's identities; recorded in `audit_logs` for a
    /// person to decide, never merged.
    pub conflicting_lead_ids: Vec<LeadId>,
    /// The `score_lead` job written to the outbox, to publish after commit (`None` for a
    /// replay).
    pub job: Option<OutboxMessage>,
}

#[derive(Debug, Clone, PartialEq)]
pub enum IngestOutcome {
    Ingested(Ingested),
    /// Refused by a rule only the database can check; nothing was written.
    Rejected(ValidationErrors),
}

/// The journal key of a delivery: `m:<workspace>:<message_id>` (two workspaces' clients may use
/// the same message ids), or `r:<workspace>:<random>` for a delivery without a `message_id`,
/// which has no idempotency key of its own.
pub fn event_key(workspace_id: WorkspaceId, command: &WebAgentCommand) -> String {
    match &command.message_id {
        Some(message_id) => format!("m:{workspace_id}:{}", message_id.as_str()),
        None => format!("r:{workspace_id}:{}", Uuid::new_v4()),
    }
}

/// Writes one delivery of `workspace_id` under its journal key ([`event_key`]). `body` is the
/// request body as received (journaled).
pub async fn ingest(
    client: &deadpool_postgres::Client,
    workspace_id: WorkspaceId,
    event_key: &str,
    command: &WebAgentCommand,
    body: &Value,
) -> Result<IngestOutcome, StoreError> {
    let argument = ingest_argument(workspace_id, event_key, command);
    let row = crate::pool::query_hot_opt(
        client,
        INGEST,
        &[(&argument, Type::JSONB), (body, Type::JSONB)],
    )
    .await?
    .ok_or_else(|| StoreError::Decode {
        context: "ingest_web_agent",
        source: "returned no row".into(),
    })?;
    let Json(answer): Json<Answer> = row.try_get(0)?;
    answer.into_outcome()
}

/// `ingest_web_agent`'s first argument: the parsed values, normalised (E.164 phone, lower-case
/// email, codes for enums, ISO dates), with the intents of a customer message already detected.
/// Public so the benchmark can hand pgbench exactly what the handler sends.
pub fn ingest_argument(
    workspace_id: WorkspaceId,
    event_key: &str,
    command: &WebAgentCommand,
) -> Value {
    let intents: Vec<Value> = command
        .customer_intents()
        .iter()
        .map(|hit| serde_json::to_value(hit).unwrap_or_default())
        .collect();
    json!({
        "workspace_id": workspace_id,
        "event_key": event_key,
        "name": command.name,
        "phone_e164": command.phone.as_ref().map(|p| p.number.as_str()),
        "phone_raw": command.phone.as_ref().map(|p| p.raw.as_str()),
        "email": command.email.as_ref().map(|e| e.as_str()),
        "external_session_id": command.external_session_id.as_ref().map(|s| s.as_str()),
        "message_id": command.message_id.as_ref().map(|m| m.as_str()),
        "message": command.message.as_ref().map(|m| m.text.as_str()),
        "sender": command.message.as_ref().map(|m| m.sender.as_str()),
        "website_url": command.website_url,
        "conversation_summary": command.conversation_summary,
        "user_inputs_summary": command.user_inputs_summary,
        "metadata": command.metadata,
        "booking": command.booking.map(|b| json!({
            "status": b.status.map(|s| s.as_str()),
            "date": b.date.map(|d| d.format("%Y-%m-%d").to_string()),
            "time": b.time.map(|t| t.format("%H:%M:%S").to_string()),
        })),
        "agent_id": command.agent_id,
        "intents": intents,
        "reason": command.score_reason(),
    })
}

/// `ingest_web_agent`'s answer, as it is written in the SQL.
#[derive(Debug, Deserialize)]
struct Answer {
    rejected: Option<Vec<RejectedField>>,
    lead_id: Option<Uuid>,
    session_id: Option<Uuid>,
    message_id: Option<Uuid>,
    #[serde(default)]
    created: bool,
    #[serde(default)]
    duplicate: bool,
    usage: Option<Usage>,
    #[serde(default)]
    conflicting_lead_ids: Vec<Uuid>,
    job: Option<AnswerJob>,
}

#[derive(Debug, Deserialize)]
struct RejectedField {
    field: String,
    message: String,
}

#[derive(Debug, Deserialize)]
struct AnswerJob {
    id: i64,
    payload: Value,
}

impl Answer {
    fn into_outcome(self) -> Result<IngestOutcome, StoreError> {
        if let Some(fields) = self.rejected {
            let mut errors = ValidationErrors::new();
            for field in fields {
                errors.push(field.field, field.message);
            }
            return Ok(IngestOutcome::Rejected(errors));
        }
        let (Some(lead_id), Some(usage)) = (self.lead_id, self.usage) else {
            return Err(StoreError::Decode {
                context: "ingest_web_agent result",
                source: "neither rejected nor a lead_id with usage".into(),
            });
        };
        Ok(IngestOutcome::Ingested(Ingested {
            lead_id: LeadId::from_uuid(lead_id),
            session_id: self.session_id,
            message_id: self.message_id.map(ConversationId::from_uuid),
            created: self.created,
            duplicate: self.duplicate,
            usage,
            conflicting_lead_ids: self
                .conflicting_lead_ids
                .into_iter()
                .map(LeadId::from_uuid)
                .collect(),
            job: self.job.map(|job| OutboxMessage {
                id: job.id,
                queue: Queue::Scoring,
                payload: job.payload,
                attempts: 0,
            }),
        }))
    }
}
