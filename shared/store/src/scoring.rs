//! Scoring a batch of leads: the use case behind the score-lead consumer.
//!
//! A batch costs a constant number of statements whatever its size: one that locks the leads
//! ([`lock.sql`](scoring/lock.sql)), one that then reads every fact the rules need
//! ([`facts.sql`](scoring/facts.sql), after the lock so it sees an override committed while the
//! batch waited), the pure rules of
//! `domain::scoring` and `domain::stage` per lead, and one that writes every change with its
//! audit row ([`apply.sql`](scoring/apply.sql)), all in one transaction. A lead whose inputs did
//! not change is not written at all, so replaying a job changes nothing.
//!
//! Also here: the `cold_leads` rule the scheduled job runs, and thin wrappers over the internal
//! override functions (`scoring/overrides.sql`: `pin_lead_stage` / `unpin_lead_stage`, for
//! server-side code; dashboards call the JWT-checked RPCs beside them).

use crate::{Db, StoreError};
use chrono::{DateTime, Utc};
use domain::ids::{LeadId, MemberId, WorkspaceId};
use domain::scoring::{LeadFacts, LeadSignals, Readiness, ScoreBreakdown, score};
use domain::stage::{ActiveOverride, Stage, StageInput, SubStage, decide};
use std::collections::HashMap;
use std::str::FromStr;
use tokio_postgres::types::Type;

/// What happened to one lead of a batch.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LeadOutcome {
    /// Score or stage changed and was written.
    Updated,
    /// Nothing changed; nothing was written.
    Unchanged,
    /// No such lead in the job's workspace (deleted since, or a forged job): nothing to do.
    Missing,
}

/// Per-lead outcomes of one batch, in the order asked.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ScoringReport {
    pub outcomes: Vec<((WorkspaceId, LeadId), LeadOutcome)>,
    pub stage_changes: i64,
}

/// One lead's new state, when it differs from the stored one.
struct Update {
    lead_id: LeadId,
    breakdown: ScoreBreakdown,
    stage: Stage,
    sub_stage: Option<SubStage>,
    clear_override: bool,
    stage_changed: bool,
    reason: &'static str,
}

/// Scores every lead of the batch at `now` in one transaction.
pub async fn score_leads(
    db: &Db,
    targets: &[(WorkspaceId, LeadId)],
    now: DateTime<Utc>,
) -> Result<ScoringReport, StoreError> {
    let mut client = db.client().await?;
    let tx = client.transaction().await?;
    let lead_ids: Vec<uuid::Uuid> = targets.iter().map(|(_, l)| l.as_uuid()).collect();
    let workspace_ids: Vec<uuid::Uuid> = targets.iter().map(|(w, _)| w.as_uuid()).collect();
    let locked: Vec<uuid::Uuid> = tx
        .query_typed(
            include_str!("scoring/lock.sql"),
            &[
                (&lead_ids, Type::UUID_ARRAY),
                (&workspace_ids, Type::UUID_ARRAY),
            ],
        )
        .await?
        .iter()
        .map(|row| row.try_get(0))
        .collect::<Result<_, _>>()?;
    let rows = tx
        .query_typed(
            include_str!("scoring/facts.sql"),
            &[(&locked, Type::UUID_ARRAY)],
        )
        .await?;

    let mut updates = Vec::new();
    let mut found: HashMap<LeadId, LeadOutcome> = HashMap::new();
    for row in &rows {
        let stored = StoredLead::from_row(row)?;
        let outcome = match evaluate(&stored, now) {
            Some(update) => {
                updates.push(update);
                LeadOutcome::Updated
            }
            None => LeadOutcome::Unchanged,
        };
        found.insert(stored.id, outcome);
    }

    let mut stage_changes = 0;
    if !updates.is_empty() {
        let ids: Vec<uuid::Uuid> = updates.iter().map(|u| u.lead_id.as_uuid()).collect();
        let scores: Vec<i32> = updates
            .iter()
            .map(|u| i32::from(u.breakdown.total))
            .collect();
        let breakdowns: Vec<serde_json::Value> = updates
            .iter()
            .map(|u| serde_json::to_value(u.breakdown).unwrap_or_default())
            .collect();
        let stages: Vec<&str> = updates.iter().map(|u| u.stage.as_str()).collect();
        let sub_stages: Vec<Option<&str>> = updates
            .iter()
            .map(|u| u.sub_stage.map(SubStage::as_str))
            .collect();
        let clear: Vec<bool> = updates.iter().map(|u| u.clear_override).collect();
        let changed: Vec<bool> = updates.iter().map(|u| u.stage_changed).collect();
        let reasons: Vec<&str> = updates.iter().map(|u| u.reason).collect();
        let row = tx
            .query_typed_one(
                include_str!("scoring/apply.sql"),
                &[
                    (&ids, Type::UUID_ARRAY),
                    (&scores, Type::INT4_ARRAY),
                    (&breakdowns, Type::JSONB_ARRAY),
                    (&stages, Type::TEXT_ARRAY),
                    (&sub_stages, Type::TEXT_ARRAY),
                    (&clear, Type::BOOL_ARRAY),
                    (&changed, Type::BOOL_ARRAY),
                    (&reasons, Type::TEXT_ARRAY),
                    (&now, Type::TIMESTAMPTZ),
                ],
            )
            .await?;
        stage_changes = row.try_get("stage_changes")?;
    }
    tx.commit().await?;

    let outcomes = targets
        .iter()
        .map(|target| {
            let outcome = found
                .get(&target.1)
                .copied()
                .unwrap_or(LeadOutcome::Missing);
            (*target, outcome)
        })
        .collect();
    Ok(ScoringReport {
        outcomes,
        stage_changes,
    })
}

/// A lead as the facts query read it.
struct StoredLead {
    id: LeadId,
    stage: Option<Stage>,
    sub_stage: Option<SubStage>,
    score: i16,
    breakdown: Option<ScoreBreakdown>,
    facts: LeadFacts,
    active_override: Option<ActiveOverride>,
    override_had_booking: bool,
}

impl StoredLead {
    fn from_row(row: &tokio_postgres::Row) -> Result<Self, StoreError> {
        let decode = |context: &'static str, e: String| StoreError::Decode {
            context,
            source: e.into(),
        };
        let stage: String = row.try_get("lead_stage")?;
        let sub_stage: Option<String> = row.try_get("sub_stage")?;
        let breakdown: serde_json::Value = row.try_get("score_breakdown")?;
        let context: serde_json::Value = row.try_get("unified_context")?;
        let override_stage: Option<String> = row.try_get("override_stage")?;
        let override_sub: Option<String> = row.try_get("override_sub_stage")?;
        let override_set_at: Option<DateTime<Utc>> = row.try_get("override_set_at")?;
        let active_override = match (override_stage, override_set_at) {
            (Some(stage), Some(set_at)) => Some(ActiveOverride {
                stage: Stage::from_str(&stage)
                    .map_err(|e| decode("override stage", e.to_string()))?,
                sub_stage: override_sub
                    .map(|s| SubStage::from_str(&s))
                    .transpose()
                    .map_err(|e| decode("override sub-stage", e.to_string()))?,
                set_at,
            }),
            _ => None,
        };
        let count = |name: &str| -> Result<u32, StoreError> {
            let n: i32 = row.try_get(name)?;
            Ok(u32::try_from(n).unwrap_or(0))
        };
        Ok(Self {
            id: LeadId::from_uuid(row.try_get("id")?),
            stage: Some(Stage::from_str(&stage).map_err(|e| decode("lead stage", e.to_string()))?),
            sub_stage: sub_stage
                .map(|s| SubStage::from_str(&s))
                .transpose()
                .map_err(|e| decode("lead sub-stage", e.to_string()))?,
            score: row.try_get("lead_score")?,
            // A lead never scored has `{}`: no stored breakdown.
            breakdown: serde_json::from_value(breakdown).ok(),
            facts: LeadFacts {
                customer_messages: count("customer_messages")?,
                substantive_messages: count("substantive_messages")?,
                intent_codes: row.try_get("intent_codes")?,
                last_customer_message_at: row.try_get("last_customer_message_at")?,
                previous_customer_message_at: row.try_get("previous_customer_message_at")?,
                touchpoints: count("touchpoints")?,
                readiness: Readiness::from_unified_context(&context),
                has_booking: row.try_get("has_booking")?,
            },
            active_override,
            override_had_booking: row
                .try_get::<_, Option<bool>>("override_had_booking")?
                .unwrap_or(false),
        })
    }
}

/// The rules: a new breakdown and stage decision; `None` when nothing would change.
fn evaluate(lead: &StoredLead, now: DateTime<Utc>) -> Option<Update> {
    let signals = LeadSignals::from_facts(&lead.facts, now);
    let breakdown = score(&signals);
    let input = StageInput {
        current_stage: lead.stage,
        current_sub_stage: lead.sub_stage,
        active_override: lead.active_override,
        score: breakdown.total,
        has_booking: lead.facts.has_booking,
        booking_since_override: lead.facts.has_booking && !lead.override_had_booking,
        customer_message_since_override: match (
            &lead.active_override,
            lead.facts.last_customer_message_at,
        ) {
            (Some(pinned), Some(last)) => last > pinned.set_at,
            _ => false,
        },
        last_customer_message_at: lead.facts.last_customer_message_at,
        re_engaged: signals.re_engaged,
    };
    let decision = decide(&input, now);
    let stage_changed = decision.changes(&input);
    let score_changed =
        i16::from(breakdown.total) != lead.score || lead.breakdown != Some(breakdown);
    if !stage_changed && !score_changed {
        return None;
    }
    Some(Update {
        lead_id: lead.id,
        breakdown,
        stage: decision.stage,
        sub_stage: decision.sub_stage,
        clear_override: decision.clear_override,
        stage_changed,
        reason: decision.reason.as_str(),
    })
}

/// Moves `In Sequence` leads silent for more than [`domain::stage::COLD_AFTER_SILENT_DAYS`] days
/// at `now` to `Cold` (at most `limit` per call); returns how many moved.
pub async fn mark_cold_leads(db: &Db, now: DateTime<Utc>, limit: i32) -> Result<u64, StoreError> {
    let client = db.client().await?;
    let rows = client
        .query_typed(
            "SELECT lead_id FROM mark_cold_leads($1, $2)",
            &[
                (&domain::stage::cold_cutoff(now), Type::TIMESTAMPTZ),
                (&limit, Type::INT4),
            ],
        )
        .await?;
    Ok(rows.len() as u64)
}

/// Pins a lead's stage on behalf of a member (`None`: the system or an operator), in the workspace
/// the caller's credential resolved. Server-side code calls this (the internal `pin_lead_stage`,
/// granted to the functions' role only); a dashboard calls the `set_lead_stage_override` RPC
/// with the user's JWT instead (`scoring/overrides.sql`). A lead of another workspace is
/// not found, like one that does not exist.
pub async fn set_override(
    db: &Db,
    workspace_id: WorkspaceId,
    lead_id: LeadId,
    stage: &str,
    sub_stage: Option<&str>,
    member_id: Option<MemberId>,
    reason: Option<&str>,
) -> Result<(), StoreError> {
    let client = db.client().await?;
    client
        .query_typed_one(
            "SELECT id FROM pin_lead_stage($1, $2, $3, $4, $5, $6)",
            &[
                (&workspace_id.as_uuid(), Type::UUID),
                (&lead_id.as_uuid(), Type::UUID),
                (&stage, Type::TEXT),
                (&sub_stage, Type::TEXT),
                (&member_id.map(|m| m.as_uuid()), Type::UUID),
                (&reason, Type::TEXT),
            ],
        )
        .await?;
    Ok(())
}

/// Clears a lead's override on behalf of a member (as [`set_override`]); returns false when it
/// had none.
pub async fn clear_override(
    db: &Db,
    workspace_id: WorkspaceId,
    lead_id: LeadId,
    member_id: Option<MemberId>,
    reason: Option<&str>,
) -> Result<bool, StoreError> {
    let client = db.client().await?;
    let row = client
        .query_typed_one(
            "SELECT unpin_lead_stage($1, $2, $3, $4)",
            &[
                (&workspace_id.as_uuid(), Type::UUID),
                (&lead_id.as_uuid(), Type::UUID),
                (&member_id.map(|m| m.as_uuid()), Type::UUID),
                (&reason, Type::TEXT),
            ],
        )
        .await?;
    Ok(row.try_get(0)?)
}
