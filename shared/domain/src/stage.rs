//! The stage machine (docs/architecture.md §6.3): which stage a lead is in after it is scored, and the
//! reason code written with every change to `lead_stage_changes`.
//!
//! Why a pure function: the predecessors spread stage rules over triggers and handlers, and one of
//! them could never reach `New`. [`decide`] takes everything it needs as [`StageInput`] (what the
//! store read in the same transaction that scores the lead) plus `now`, and returns a
//! [`StageDecision`]. The caller writes the new stage, and an audit row, only when
//! [`StageDecision::changes`] says so, so re-scoring a lead that did not change writes nothing.
//!
//! Rules, first that applies:
//! 1. `Converted` and `Closed Lost` are set by people only: a lead in either (or pinned to either
//!    by an override) stays there.
//! 2. An active override keeps its stage (the score still updates), except that a booking made
//!    after the override clears it and moves the lead to `Booking Made`, and a customer message
//!    after a `Cold` override clears it and rules 3–8 apply (reason `re_engagement`).
//! 3. booking → `Booking Made`
//! 4. score ≥ 61 → `High Intent` (its sub-stage is kept while the lead stays `High Intent`)
//! 5. score ≥ 31 → `Qualified`
//! 6. customer message in the last 24 h → `Engaged`
//! 7. no customer message ever → `New`
//! 8. otherwise → `In Sequence`
//!
//! `Cold` without an override is set by the `cold_leads` job ([`cold_cutoff`]) and needs one more
//! rule, or rules 4–8 would put the lead straight back into `In Sequence` on its next scoring:
//! a `Cold` lead stays `Cold` until it sends a new customer message (or books). "A new message"
//! is read as "the last customer message is not older than the cold window (30 days)": the job
//! only moves leads silent for more than 30 days, so a message inside the window must have
//! arrived after the lead went cold. This is exactly the complement of the job's rule, so the job
//! and scoring can never undo each other, and it still holds when scoring runs late (a retried
//! job, a backlog), which "a message in the last 24 h" would not. A re-engaging `Cold` lead goes
//! through rules 3–8 with reason `re_engagement`; a `Cold` lead that books goes to `Booking Made`
//! with reason `booking_made`.
//!
//! Sub-stages exist only under `High Intent`; every decision for another stage carries none, which
//! clears a stale one.

use crate::scoring::is_within_last_24h;
use chrono::{DateTime, TimeDelta, Utc};

/// A score at or above this is `High Intent`.
pub const HIGH_INTENT_MIN_SCORE: u8 = 61;
/// A score at or above this (and below [`HIGH_INTENT_MIN_SCORE`]) is `Qualified`.
pub const QUALIFIED_MIN_SCORE: u8 = 31;
/// An `In Sequence` lead silent for more than this many days is `Cold`.
pub const COLD_AFTER_SILENT_DAYS: i64 = 30;

crate::text_enum! {
    /// Where a lead is in the funnel (`leads.lead_stage`).
    Stage, InvalidStage {
        New => "New",
        Engaged => "Engaged",
        Qualified => "Qualified",
        HighIntent => "High Intent",
        BookingMade => "Booking Made",
        InSequence => "In Sequence",
        Cold => "Cold",
        /// Set by people only.
        Converted => "Converted",
        /// Set by people only.
        ClosedLost => "Closed Lost",
    }
}

crate::text_enum! {
    /// A refinement of `High Intent` (`leads.sub_stage`); meaningless under any other stage.
    SubStage, InvalidSubStage {
        Proposal => "proposal",
        Negotiation => "negotiation",
        OnHold => "on-hold",
    }
}

crate::text_enum! {
    /// Why a stage changed (`lead_stage_changes.reason`).
    ///
    /// [`decide`] produces `auto_scoring`, `booking_made`, `re_engagement` and `manual_override`;
    /// the `cold_leads` job writes `system_cold`, and the override API writes `manual_override`
    /// when a person sets an override and `override_cleared` when a person removes one.
    ChangeReason, InvalidChangeReason {
        AutoScoring => "auto_scoring",
        BookingMade => "booking_made",
        ReEngagement => "re_engagement",
        SystemCold => "system_cold",
        ManualOverride => "manual_override",
        OverrideCleared => "override_cleared",
    }
}

impl Stage {
    /// `Converted` and `Closed Lost`: only people move a lead into or out of them.
    pub const fn is_terminal(self) -> bool {
        matches!(self, Stage::Converted | Stage::ClosedLost)
    }

    /// Only `High Intent` has sub-stages.
    pub const fn allows_sub_stage(self) -> bool {
        matches!(self, Stage::HighIntent)
    }
}

impl ChangeReason {
    /// `lead_stage_changes.is_automatic`: false only for changes a person made.
    pub const fn is_automatic(self) -> bool {
        !matches!(
            self,
            ChangeReason::ManualOverride | ChangeReason::OverrideCleared
        )
    }
}

/// The active row of `lead_stage_overrides` (`removed_at IS NULL`), if any.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ActiveOverride {
    pub stage: Stage,
    pub sub_stage: Option<SubStage>,
    pub set_at: DateTime<Utc>,
}

/// Everything [`decide`] needs about one lead.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct StageInput {
    /// `None` for a lead never staged.
    pub current_stage: Option<Stage>,
    pub current_sub_stage: Option<SubStage>,
    pub active_override: Option<ActiveOverride>,
    /// The new total score ([`crate::scoring::ScoreBreakdown::total`]).
    pub score: u8,
    /// A booking with status pending or confirmed exists.
    pub has_booking: bool,
    /// A pending or confirmed booking was made after the active override was set.
    pub booking_since_override: bool,
    /// A customer message arrived after the active override was set. A
    /// `last_customer_message_at` later than the override's `set_at` counts as well.
    pub customer_message_since_override: bool,
    pub last_customer_message_at: Option<DateTime<Utc>>,
    /// The scoring signal ([`crate::scoring::LeadSignals::re_engaged`]). It counts as a new
    /// message for a `Cold` lead; it always implies one inside the cold window anyway.
    pub re_engaged: bool,
}

/// The stage a lead should be in, and whether its active override must be removed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StageDecision {
    pub stage: Stage,
    pub sub_stage: Option<SubStage>,
    /// Set `removed_at` on the active override.
    pub clear_override: bool,
    /// The reason to record if this decision changes anything.
    pub reason: ChangeReason,
}

impl StageDecision {
    /// Whether applying this decision changes the lead: its stage, its sub-stage or its override.
    /// The caller writes the lead and a `lead_stage_changes` row only when this is true.
    pub fn changes(&self, input: &StageInput) -> bool {
        input.current_stage != Some(self.stage)
            || input.current_sub_stage != self.sub_stage
            || self.clear_override
    }
}

/// Decides a lead's stage after scoring; see the module documentation for the rules.
pub fn decide(input: &StageInput, now: DateTime<Utc>) -> StageDecision {
    // Rule 1: people's final word. An override pinning a terminal stage is that word too.
    if let Some(stage) = terminal_stage(input) {
        return keep(stage, None, ChangeReason::AutoScoring);
    }

    // Rule 2: an active override.
    if let Some(pinned) = &input.active_override {
        if input.has_booking && input.booking_since_override {
            return StageDecision {
                clear_override: true,
                ..booking_made()
            };
        }
        if pinned.stage == Stage::Cold && customer_message_since_override(input, pinned) {
            return StageDecision {
                clear_override: true,
                reason: ChangeReason::ReEngagement,
                ..by_score_and_activity(input, now)
            };
        }
        let sub_stage = pinned.sub_stage.filter(|_| pinned.stage.allows_sub_stage());
        return keep(pinned.stage, sub_stage, ChangeReason::ManualOverride);
    }

    // A `Cold` lead set by the cold_leads job.
    if input.current_stage == Some(Stage::Cold) {
        if messaged_since_going_cold(input, now) {
            return StageDecision {
                reason: ChangeReason::ReEngagement,
                ..by_score_and_activity(input, now)
            };
        }
        if !input.has_booking {
            return keep(Stage::Cold, None, ChangeReason::AutoScoring);
        }
    }

    by_score_and_activity(input, now)
}

/// The `cold_leads` job's cutoff at `now`: an `In Sequence` lead whose last customer message is
/// older than this is moved to `Cold` (the job's SQL compares with it; this owns the window). A
/// lead that never sent a customer message has no silence to measure and is never cold.
pub fn cold_cutoff(now: DateTime<Utc>) -> DateTime<Utc> {
    now - TimeDelta::days(COLD_AFTER_SILENT_DAYS)
}

/// Rules 3–8.
fn by_score_and_activity(input: &StageInput, now: DateTime<Utc>) -> StageDecision {
    if input.has_booking {
        return booking_made();
    }
    let (stage, sub_stage) = if input.score >= HIGH_INTENT_MIN_SCORE {
        let kept = input
            .current_sub_stage
            .filter(|_| input.current_stage == Some(Stage::HighIntent));
        (Stage::HighIntent, kept)
    } else if input.score >= QUALIFIED_MIN_SCORE {
        (Stage::Qualified, None)
    } else {
        match input.last_customer_message_at {
            Some(last) if is_within_last_24h(last, now) => (Stage::Engaged, None),
            Some(_) => (Stage::InSequence, None),
            None => (Stage::New, None),
        }
    };
    keep(stage, sub_stage, ChangeReason::AutoScoring)
}

fn booking_made() -> StageDecision {
    keep(Stage::BookingMade, None, ChangeReason::BookingMade)
}

fn keep(stage: Stage, sub_stage: Option<SubStage>, reason: ChangeReason) -> StageDecision {
    StageDecision {
        stage,
        sub_stage,
        clear_override: false,
        reason,
    }
}

/// The terminal stage the lead is in or pinned to, if any. A terminal override wins over the
/// current stage: it is the latest thing a person said.
fn terminal_stage(input: &StageInput) -> Option<Stage> {
    let pinned = input.active_override.map(|pinned| pinned.stage);
    pinned
        .filter(|stage| stage.is_terminal())
        .or(input.current_stage.filter(|stage| stage.is_terminal()))
}

fn customer_message_since_override(input: &StageInput, pinned: &ActiveOverride) -> bool {
    input.customer_message_since_override
        || input
            .last_customer_message_at
            .is_some_and(|last| last > pinned.set_at)
}

fn messaged_since_going_cold(input: &StageInput, now: DateTime<Utc>) -> bool {
    input.re_engaged
        || input
            .last_customer_message_at
            .is_some_and(|last| !silent_past_cold_window(last, now))
}

fn silent_past_cold_window(last: DateTime<Utc>, now: DateTime<Utc>) -> bool {
    now.signed_duration_since(last) > TimeDelta::days(COLD_AFTER_SILENT_DAYS)
}

#[cfg(test)]
mod tests {
    use super::*;
    use ChangeReason::{AutoScoring, ManualOverride, ReEngagement};
    use chrono::TimeZone;

    fn now() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2025, 6, 1, 12, 0, 0).single().unwrap()
    }

    fn hours_ago(hours: i64) -> DateTime<Utc> {
        now() - TimeDelta::hours(hours)
    }

    fn days_ago(days: i64) -> DateTime<Utc> {
        now() - TimeDelta::days(days)
    }

    fn staged(stage: Stage) -> StageInput {
        StageInput {
            current_stage: Some(stage),
            ..StageInput::default()
        }
    }

    fn pinned(stage: Stage, sub_stage: Option<SubStage>) -> Option<ActiveOverride> {
        Some(ActiveOverride {
            stage,
            sub_stage,
            set_at: days_ago(5),
        })
    }

    struct Case {
        input: StageInput,
        stage: Stage,
        sub_stage: Option<SubStage>,
        clear_override: bool,
        reason: ChangeReason,
        changes: bool,
        why: &'static str,
    }

    /// A case whose decision keeps any override and carries no sub-stage.
    fn to(
        input: StageInput,
        stage: Stage,
        reason: ChangeReason,
        changes: bool,
        why: &'static str,
    ) -> Case {
        Case {
            input,
            stage,
            sub_stage: None,
            clear_override: false,
            reason,
            changes,
            why,
        }
    }

    fn run(cases: Vec<Case>) {
        for case in cases {
            let got = decide(&case.input, now());
            let want = StageDecision {
                stage: case.stage,
                sub_stage: case.sub_stage,
                clear_override: case.clear_override,
                reason: case.reason,
            };
            assert_eq!(got, want, "{}", case.why);
            assert_eq!(
                got.changes(&case.input),
                case.changes,
                "changes: {}",
                case.why
            );
        }
    }

    #[test]
    fn terminal_stages_are_never_left_by_scoring() {
        run(vec![
            to(
                StageInput {
                    score: 95,
                    has_booking: true,
                    last_customer_message_at: Some(hours_ago(1)),
                    ..staged(Stage::Converted)
                },
                Stage::Converted,
                AutoScoring,
                false,
                "Converted stays Converted despite a booking and a top score",
            ),
            to(
                StageInput {
                    score: 80,
                    last_customer_message_at: Some(hours_ago(1)),
                    re_engaged: true,
                    ..staged(Stage::ClosedLost)
                },
                Stage::ClosedLost,
                AutoScoring,
                false,
                "Closed Lost stays Closed Lost despite a fresh re-engaging message",
            ),
            to(
                StageInput {
                    active_override: pinned(Stage::Cold, None),
                    customer_message_since_override: true,
                    last_customer_message_at: Some(hours_ago(1)),
                    ..staged(Stage::Converted)
                },
                Stage::Converted,
                AutoScoring,
                false,
                "a terminal current stage beats a stale Cold override's re-engagement",
            ),
            to(
                StageInput {
                    active_override: pinned(Stage::ClosedLost, None),
                    has_booking: true,
                    booking_since_override: true,
                    ..staged(Stage::ClosedLost)
                },
                Stage::ClosedLost,
                AutoScoring,
                false,
                "a booking does not clear an override pinning Closed Lost",
            ),
            to(
                StageInput {
                    active_override: pinned(Stage::Converted, None),
                    score: 10,
                    ..staged(Stage::Qualified)
                },
                Stage::Converted,
                AutoScoring,
                true,
                "an override pinning Converted is applied if the lead is not there yet",
            ),
            to(
                StageInput {
                    current_sub_stage: Some(SubStage::Proposal),
                    ..staged(Stage::Converted)
                },
                Stage::Converted,
                AutoScoring,
                true,
                "a stale sub-stage under a terminal stage is cleared",
            ),
        ]);
    }

    #[test]
    fn an_active_override_keeps_its_stage_whatever_the_score() {
        run(vec![
            to(
                StageInput {
                    active_override: pinned(Stage::Qualified, None),
                    score: 90,
                    last_customer_message_at: Some(hours_ago(1)),
                    ..staged(Stage::Qualified)
                },
                Stage::Qualified,
                ManualOverride,
                false,
                "a Qualified override ignores a High Intent score",
            ),
            to(
                StageInput {
                    active_override: pinned(Stage::Qualified, None),
                    has_booking: true,
                    booking_since_override: false,
                    ..staged(Stage::Qualified)
                },
                Stage::Qualified,
                ManualOverride,
                false,
                "a booking older than the override does not clear it",
            ),
            to(
                StageInput {
                    active_override: pinned(Stage::Qualified, None),
                    booking_since_override: true,
                    has_booking: false,
                    ..staged(Stage::Qualified)
                },
                Stage::Qualified,
                ManualOverride,
                false,
                "a booking made since the override but cancelled since does not clear it",
            ),
            to(
                StageInput {
                    active_override: pinned(Stage::InSequence, None),
                    customer_message_since_override: true,
                    last_customer_message_at: Some(hours_ago(1)),
                    score: 50,
                    ..staged(Stage::InSequence)
                },
                Stage::InSequence,
                ManualOverride,
                false,
                "a customer message clears only a Cold override",
            ),
            to(
                StageInput {
                    active_override: pinned(Stage::Cold, None),
                    last_customer_message_at: Some(days_ago(40)),
                    ..staged(Stage::Cold)
                },
                Stage::Cold,
                ManualOverride,
                false,
                "a Cold override with no message since stays Cold",
            ),
            to(
                StageInput {
                    active_override: pinned(Stage::New, None),
                    last_customer_message_at: Some(days_ago(6)),
                    score: 40,
                    ..staged(Stage::Engaged)
                },
                Stage::New,
                ManualOverride,
                true,
                "New is reachable by override, and an override not yet applied is a change",
            ),
        ]);
    }

    #[test]
    fn an_override_keeps_its_high_intent_sub_stage() {
        run(vec![
            Case {
                input: StageInput {
                    active_override: pinned(Stage::HighIntent, Some(SubStage::Negotiation)),
                    current_sub_stage: Some(SubStage::Negotiation),
                    score: 10,
                    ..staged(Stage::HighIntent)
                },
                stage: Stage::HighIntent,
                sub_stage: Some(SubStage::Negotiation),
                clear_override: false,
                reason: ManualOverride,
                changes: false,
                why: "a High Intent/negotiation override survives a low score",
            },
            to(
                StageInput {
                    active_override: pinned(Stage::Qualified, Some(SubStage::Proposal)),
                    current_sub_stage: Some(SubStage::Proposal),
                    ..staged(Stage::Qualified)
                },
                Stage::Qualified,
                ManualOverride,
                true,
                "an invalid sub-stage on a non-High-Intent override is dropped",
            ),
        ]);
    }

    #[test]
    fn a_booking_since_the_override_clears_it() {
        run(vec![
            Case {
                input: StageInput {
                    active_override: pinned(Stage::InSequence, None),
                    has_booking: true,
                    booking_since_override: true,
                    ..staged(Stage::InSequence)
                },
                stage: Stage::BookingMade,
                sub_stage: None,
                clear_override: true,
                reason: ChangeReason::BookingMade,
                changes: true,
                why: "a new booking beats an In Sequence override",
            },
            Case {
                input: StageInput {
                    active_override: pinned(Stage::HighIntent, Some(SubStage::OnHold)),
                    current_sub_stage: Some(SubStage::OnHold),
                    has_booking: true,
                    booking_since_override: true,
                    score: 90,
                    ..staged(Stage::HighIntent)
                },
                stage: Stage::BookingMade,
                sub_stage: None,
                clear_override: true,
                reason: ChangeReason::BookingMade,
                changes: true,
                why: "leaving High Intent for a booking clears the sub-stage",
            },
            Case {
                input: StageInput {
                    active_override: pinned(Stage::Cold, None),
                    has_booking: true,
                    booking_since_override: true,
                    customer_message_since_override: true,
                    last_customer_message_at: Some(hours_ago(1)),
                    ..staged(Stage::Cold)
                },
                stage: Stage::BookingMade,
                sub_stage: None,
                clear_override: true,
                reason: ChangeReason::BookingMade,
                changes: true,
                why: "a booking since a Cold override wins over the message that came with it",
            },
            Case {
                input: StageInput {
                    active_override: pinned(Stage::BookingMade, None),
                    has_booking: true,
                    booking_since_override: true,
                    ..staged(Stage::BookingMade)
                },
                stage: Stage::BookingMade,
                sub_stage: None,
                clear_override: true,
                reason: ChangeReason::BookingMade,
                changes: true,
                why: "clearing the override is a change even when the stage stays",
            },
        ]);
    }

    #[test]
    fn a_customer_message_clears_a_cold_override_and_the_rules_apply() {
        let cold_override = || StageInput {
            active_override: pinned(Stage::Cold, None),
            ..staged(Stage::Cold)
        };
        let cleared = |input, stage, why| Case {
            input,
            stage,
            sub_stage: None,
            clear_override: true,
            reason: ReEngagement,
            changes: true,
            why,
        };
        run(vec![
            cleared(
                StageInput {
                    customer_message_since_override: true,
                    last_customer_message_at: Some(hours_ago(2)),
                    score: 20,
                    ..cold_override()
                },
                Stage::Engaged,
                "a low score with a fresh message is Engaged",
            ),
            cleared(
                StageInput {
                    customer_message_since_override: true,
                    last_customer_message_at: Some(hours_ago(2)),
                    score: 45,
                    ..cold_override()
                },
                Stage::Qualified,
                "a Qualified score with a fresh message is Qualified",
            ),
            cleared(
                StageInput {
                    customer_message_since_override: true,
                    last_customer_message_at: Some(hours_ago(2)),
                    score: 70,
                    ..cold_override()
                },
                Stage::HighIntent,
                "a High Intent score with a fresh message is High Intent",
            ),
            cleared(
                StageInput {
                    customer_message_since_override: true,
                    last_customer_message_at: Some(days_ago(2)),
                    score: 10,
                    ..cold_override()
                },
                Stage::InSequence,
                "a message since the override, scored two days late, is In Sequence",
            ),
            cleared(
                StageInput {
                    customer_message_since_override: false,
                    last_customer_message_at: Some(days_ago(1)),
                    score: 10,
                    ..cold_override()
                },
                Stage::InSequence,
                "a last message after the override's set_at counts even without the flag",
            ),
            cleared(
                StageInput {
                    customer_message_since_override: true,
                    has_booking: true,
                    last_customer_message_at: Some(hours_ago(2)),
                    ..cold_override()
                },
                Stage::BookingMade,
                "an older booking applies by rule 3 once the override is gone",
            ),
        ]);
    }

    #[test]
    fn a_cold_lead_stays_cold_until_it_sends_a_new_message() {
        run(vec![
            to(
                StageInput {
                    last_customer_message_at: Some(days_ago(45)),
                    score: 10,
                    ..staged(Stage::Cold)
                },
                Stage::Cold,
                AutoScoring,
                false,
                "silent for 45 days: rule 8 must not pull it back to In Sequence",
            ),
            to(
                StageInput {
                    last_customer_message_at: Some(days_ago(30) - TimeDelta::seconds(1)),
                    ..staged(Stage::Cold)
                },
                Stage::Cold,
                AutoScoring,
                false,
                "one second past the cold window is still cold",
            ),
            to(
                StageInput {
                    last_customer_message_at: None,
                    ..staged(Stage::Cold)
                },
                Stage::Cold,
                AutoScoring,
                false,
                "a Cold lead that never messaged stays Cold",
            ),
            to(
                StageInput {
                    last_customer_message_at: Some(days_ago(45)),
                    has_booking: true,
                    ..staged(Stage::Cold)
                },
                Stage::BookingMade,
                ChangeReason::BookingMade,
                true,
                "a booking moves a silent Cold lead to Booking Made",
            ),
        ]);
    }

    #[test]
    fn a_cold_lead_with_a_new_message_re_engages_through_the_rules() {
        run(vec![
            to(
                StageInput {
                    last_customer_message_at: Some(hours_ago(1)),
                    re_engaged: true,
                    score: 25,
                    ..staged(Stage::Cold)
                },
                Stage::Engaged,
                ReEngagement,
                true,
                "a message an hour ago re-engages a Cold lead as Engaged",
            ),
            to(
                StageInput {
                    last_customer_message_at: Some(hours_ago(1)),
                    score: 40,
                    ..staged(Stage::Cold)
                },
                Stage::Qualified,
                ReEngagement,
                true,
                "a re-engaged lead with a Qualified score is Qualified",
            ),
            to(
                StageInput {
                    last_customer_message_at: Some(hours_ago(1)),
                    has_booking: true,
                    ..staged(Stage::Cold)
                },
                Stage::BookingMade,
                ReEngagement,
                true,
                "a re-engaging message with a booking is Booking Made, credited to the message",
            ),
            to(
                StageInput {
                    last_customer_message_at: Some(days_ago(3)),
                    score: 10,
                    ..staged(Stage::Cold)
                },
                Stage::InSequence,
                ReEngagement,
                true,
                "a message three days ago, scored late, still re-engages",
            ),
            to(
                StageInput {
                    last_customer_message_at: Some(days_ago(30)),
                    score: 10,
                    ..staged(Stage::Cold)
                },
                Stage::InSequence,
                ReEngagement,
                true,
                "exactly 30 days is inside the window, the complement of the cold_leads job",
            ),
        ]);
    }

    #[test]
    fn booking_comes_before_score() {
        run(vec![
            to(
                StageInput {
                    has_booking: true,
                    score: 95,
                    ..staged(Stage::HighIntent)
                },
                Stage::BookingMade,
                ChangeReason::BookingMade,
                true,
                "a booking beats a High Intent score",
            ),
            to(
                StageInput {
                    has_booking: true,
                    ..StageInput::default()
                },
                Stage::BookingMade,
                ChangeReason::BookingMade,
                true,
                "a never-staged lead with a booking is Booking Made",
            ),
            to(
                StageInput {
                    has_booking: true,
                    score: 55,
                    ..staged(Stage::BookingMade)
                },
                Stage::BookingMade,
                ChangeReason::BookingMade,
                false,
                "a lead already at Booking Made stays without a change",
            ),
        ]);
    }

    #[test]
    fn score_thresholds_pick_high_intent_and_qualified() {
        let scored = |score: u8| StageInput {
            score,
            last_customer_message_at: Some(days_ago(3)),
            ..staged(Stage::InSequence)
        };
        run(vec![
            to(
                scored(100),
                Stage::HighIntent,
                AutoScoring,
                true,
                "100 is High Intent",
            ),
            to(
                scored(61),
                Stage::HighIntent,
                AutoScoring,
                true,
                "61 is High Intent",
            ),
            to(
                scored(60),
                Stage::Qualified,
                AutoScoring,
                true,
                "60 is only Qualified",
            ),
            to(
                scored(31),
                Stage::Qualified,
                AutoScoring,
                true,
                "31 is Qualified",
            ),
            to(
                scored(30),
                Stage::InSequence,
                AutoScoring,
                false,
                "30 is below Qualified; silent for 3 days it is In Sequence",
            ),
            to(
                scored(0),
                Stage::InSequence,
                AutoScoring,
                false,
                "0 with old messages is In Sequence",
            ),
            to(
                StageInput {
                    score: 30,
                    last_customer_message_at: Some(hours_ago(2)),
                    ..staged(Stage::New)
                },
                Stage::Engaged,
                AutoScoring,
                true,
                "30 with a message 2 h ago is Engaged",
            ),
        ]);
    }

    #[test]
    fn a_sub_stage_is_kept_within_high_intent_and_cleared_on_leaving() {
        let high = |score: u8, sub_stage| StageInput {
            score,
            current_sub_stage: sub_stage,
            last_customer_message_at: Some(days_ago(2)),
            ..staged(Stage::HighIntent)
        };
        run(vec![
            Case {
                input: high(75, Some(SubStage::Proposal)),
                stage: Stage::HighIntent,
                sub_stage: Some(SubStage::Proposal),
                clear_override: false,
                reason: AutoScoring,
                changes: false,
                why: "a High Intent lead keeps its proposal sub-stage",
            },
            Case {
                input: high(61, Some(SubStage::OnHold)),
                stage: Stage::HighIntent,
                sub_stage: Some(SubStage::OnHold),
                clear_override: false,
                reason: AutoScoring,
                changes: false,
                why: "at exactly 61 the on-hold sub-stage is kept",
            },
            to(
                high(60, Some(SubStage::Negotiation)),
                Stage::Qualified,
                AutoScoring,
                true,
                "dropping to Qualified clears the sub-stage",
            ),
            to(
                high(10, Some(SubStage::Proposal)),
                Stage::InSequence,
                AutoScoring,
                true,
                "dropping to In Sequence clears the sub-stage",
            ),
            to(
                StageInput {
                    score: 80,
                    current_sub_stage: Some(SubStage::Proposal),
                    ..staged(Stage::Qualified)
                },
                Stage::HighIntent,
                AutoScoring,
                true,
                "entering High Intent starts with no sub-stage, even a stale one",
            ),
        ]);
    }

    #[test]
    fn activity_picks_engaged_new_or_in_sequence_below_qualified() {
        let last = |at: Option<DateTime<Utc>>| StageInput {
            score: 12,
            last_customer_message_at: at,
            ..StageInput::default()
        };
        run(vec![
            to(
                last(Some(hours_ago(0))),
                Stage::Engaged,
                AutoScoring,
                true,
                "a message now is Engaged",
            ),
            to(
                last(Some(now() - TimeDelta::hours(23) - TimeDelta::minutes(59))),
                Stage::Engaged,
                AutoScoring,
                true,
                "a message 23h59m ago is Engaged",
            ),
            to(
                last(Some(hours_ago(24))),
                Stage::InSequence,
                AutoScoring,
                true,
                "a message exactly 24 h ago is no longer Engaged",
            ),
            to(
                last(Some(hours_ago(-1))),
                Stage::Engaged,
                AutoScoring,
                true,
                "a message stamped in the future is Engaged",
            ),
            to(
                last(None),
                Stage::New,
                AutoScoring,
                true,
                "a never-staged lead that never messaged is New",
            ),
            to(
                StageInput {
                    score: 0,
                    ..staged(Stage::New)
                },
                Stage::New,
                AutoScoring,
                false,
                "a New lead with nothing new stays New without a change",
            ),
            to(
                StageInput {
                    score: 35,
                    ..staged(Stage::New)
                },
                Stage::Qualified,
                AutoScoring,
                true,
                "a New lead whose score reaches 31 (e.g. readiness from a form) is Qualified",
            ),
            to(
                StageInput {
                    last_customer_message_at: Some(days_ago(29)),
                    ..staged(Stage::Engaged)
                },
                Stage::InSequence,
                AutoScoring,
                true,
                "an Engaged lead silent for a day or more falls to In Sequence",
            ),
        ]);
    }

    #[test]
    fn changes_compares_stage_sub_stage_and_override_clearing() {
        let decision = StageDecision {
            stage: Stage::HighIntent,
            sub_stage: Some(SubStage::Proposal),
            clear_override: false,
            reason: AutoScoring,
        };
        let same = StageInput {
            current_sub_stage: Some(SubStage::Proposal),
            ..staged(Stage::HighIntent)
        };
        let cases = [
            (same.clone(), false, "same stage and sub-stage is no change"),
            (
                StageInput {
                    current_stage: None,
                    ..same.clone()
                },
                true,
                "a never-staged lead always changes",
            ),
            (
                StageInput {
                    current_sub_stage: Some(SubStage::OnHold),
                    ..same.clone()
                },
                true,
                "a different sub-stage is a change",
            ),
            (
                StageInput {
                    current_sub_stage: None,
                    ..same.clone()
                },
                true,
                "gaining a sub-stage is a change",
            ),
            (
                StageInput {
                    current_stage: Some(Stage::Qualified),
                    ..same.clone()
                },
                true,
                "a different stage is a change",
            ),
        ];
        for (input, want, why) in cases {
            assert_eq!(decision.changes(&input), want, "{why}");
        }
        let clearing = StageDecision {
            clear_override: true,
            ..decision
        };
        assert!(
            clearing.changes(&same),
            "clearing the override alone is a change"
        );
    }

    /// Applies a decision the way the store does.
    fn apply(input: &StageInput, decision: &StageDecision) -> StageInput {
        StageInput {
            current_stage: Some(decision.stage),
            current_sub_stage: decision.sub_stage,
            active_override: if decision.clear_override {
                None
            } else {
                input.active_override
            },
            ..input.clone()
        }
    }

    #[test]
    fn deciding_again_after_applying_a_decision_changes_nothing() {
        let stages = std::iter::once(None).chain(Stage::ALL.iter().copied().map(Some));
        let overrides = [
            None,
            pinned(Stage::Cold, None),
            pinned(Stage::Qualified, None),
            pinned(Stage::HighIntent, Some(SubStage::Negotiation)),
            pinned(Stage::InSequence, Some(SubStage::Proposal)),
            pinned(Stage::Converted, None),
        ];
        let lasts = [
            None,
            Some(hours_ago(-1)),
            Some(hours_ago(2)),
            Some(days_ago(3)),
            Some(days_ago(45)),
        ];
        let mut checked = 0;
        for current_stage in stages {
            for current_sub_stage in [None, Some(SubStage::Proposal)] {
                for active_override in overrides {
                    for score in [0, 30, 31, 60, 61, 100] {
                        for last_customer_message_at in lasts {
                            for flags in 0u8..16 {
                                let input = StageInput {
                                    current_stage,
                                    current_sub_stage,
                                    active_override,
                                    score,
                                    has_booking: flags & 1 != 0,
                                    booking_since_override: flags & 2 != 0,
                                    customer_message_since_override: flags & 4 != 0,
                                    last_customer_message_at,
                                    re_engaged: flags & 8 != 0,
                                };
                                let first = decide(&input, now());
                                let applied = apply(&input, &first);
                                let second = decide(&applied, now());
                                assert!(
                                    !second.changes(&applied),
                                    "not idempotent: {input:?} -> {first:?} -> {second:?}"
                                );
                                assert_eq!(
                                    (second.stage, second.sub_stage),
                                    (first.stage, first.sub_stage),
                                    "{input:?}"
                                );
                                assert!(
                                    first.sub_stage.is_none() || first.stage.allows_sub_stage(),
                                    "a sub-stage outside High Intent: {input:?} -> {first:?}"
                                );
                                checked += 1;
                            }
                        }
                    }
                }
            }
        }
        assert_eq!(checked, 10 * 2 * 6 * 6 * 5 * 16);
    }

    #[test]
    fn the_cold_job_and_scoring_never_undo_each_other() {
        for hours in (0..=24 * 40).step_by(7) {
            let last = Some(hours_ago(hours));
            let in_sequence = StageInput {
                score: 10,
                last_customer_message_at: last,
                ..staged(Stage::InSequence)
            };
            if last.is_some_and(|last| last < cold_cutoff(now())) {
                let cold = StageInput {
                    current_stage: Some(Stage::Cold),
                    ..in_sequence
                };
                let decision = decide(&cold, now());
                assert_eq!(
                    decision.stage,
                    Stage::Cold,
                    "{hours} h: a cold lead stays cold"
                );
            } else {
                let decision = decide(&in_sequence, now());
                assert_ne!(
                    decision.stage,
                    Stage::Cold,
                    "{hours} h: scoring never makes a lead cold"
                );
            }
        }
    }

    #[test]
    fn the_cold_cutoff_is_the_window_before_now() {
        // The job's SQL moves leads whose last customer message is older than the cutoff.
        let cases = [
            (days_ago(31), true, "silent for 31 days"),
            (days_ago(30), false, "exactly 30 days is inside the window"),
            (hours_ago(30 * 24 + 1), true, "an hour past the window"),
            (days_ago(2), false, "recently active"),
        ];
        for (last, want, why) in cases {
            assert_eq!(last < cold_cutoff(now()), want, "{why}");
        }
    }

    #[test]
    fn stored_text_round_trips_through_from_str_and_serde() {
        for stage in Stage::ALL {
            assert_eq!(stage.as_str().parse::<Stage>(), Ok(stage));
            let json = serde_json::to_value(stage).unwrap();
            assert_eq!(json, serde_json::json!(stage.as_str()));
            assert_eq!(serde_json::from_value::<Stage>(json).unwrap(), stage);
        }
        for sub_stage in SubStage::ALL {
            assert_eq!(sub_stage.as_str().parse::<SubStage>(), Ok(sub_stage));
            let json = serde_json::to_value(sub_stage).unwrap();
            assert_eq!(serde_json::from_value::<SubStage>(json).unwrap(), sub_stage);
        }
        for reason in ChangeReason::ALL {
            assert_eq!(reason.as_str().parse::<ChangeReason>(), Ok(reason));
            let json = serde_json::to_value(reason).unwrap();
            assert_eq!(
                serde_json::from_value::<ChangeReason>(json).unwrap(),
                reason
            );
        }
    }

    #[test]
    fn stored_text_matches_the_design() {
        let stages: Vec<&str> = Stage::ALL.iter().map(|stage| stage.as_str()).collect();
        assert_eq!(
            stages,
            [
                "New",
                "Engaged",
                "Qualified",
                "High Intent",
                "Booking Made",
                "In Sequence",
                "Cold",
                "Converted",
                "Closed Lost"
            ]
        );
        let sub_stages: Vec<&str> = SubStage::ALL.iter().map(|sub| sub.as_str()).collect();
        assert_eq!(sub_stages, ["proposal", "negotiation", "on-hold"]);
        let reasons: Vec<&str> = ChangeReason::ALL
            .iter()
            .map(|reason| reason.as_str())
            .collect();
        assert_eq!(
            reasons,
            [
                "auto_scoring",
                "booking_made",
                "re_engagement",
                "system_cold",
                "manual_override",
                "override_cleared"
            ]
        );
        assert_eq!(Stage::HighIntent.to_string(), "High Intent");
        assert!(
            serde_json::from_str::<Stage>("\"HighIntent\"").is_err(),
            "only the stored text"
        );
    }

    #[test]
    fn only_people_make_non_automatic_changes() {
        for reason in ChangeReason::ALL {
            let by_person = matches!(reason, ManualOverride | ChangeReason::OverrideCleared);
            assert_eq!(reason.is_automatic(), !by_person, "{reason}");
        }
    }
}
