//! The one lead-scoring algorithm (docs/architecture.md §6.1).
//!
//! Why one: the products this backend replaces scored leads with several competing formulas (a SQL
//! trigger, a dashboard helper, an API route), so a lead's score depended on which code path had
//! touched it last. Here a score is a pure function of a lead's signals, and every caller (the
//! `score-lead` consumer, the local stack, tests) goes through [`score`]. Changing the numbers means
//! changing this file and its tests, nowhere else.
//!
//! Why the breakdown is stored: [`ScoreBreakdown`] is written to `leads.score_breakdown` (JSONB) next
//! to `lead_score`, so a person looking at a lead can see *why* it scored what it did ("no booking,
//! silent for three weeks") instead of trusting an opaque number.
//!
//! The pipeline has three steps, each a plain value:
//! 1. [`LeadFacts`]: raw facts, exactly what one SQL query over a lead returns (counts, distinct
//!    intent codes, the last two customer-message timestamps, readiness columns, booking flag).
//! 2. [`LeadSignals::from_facts`]: everything that depends on "now" or needs interpretation
//!    (days inactive, re-engagement, strongest intent) is derived here, with `now` as an argument.
//! 3. [`score`]: the table, part by part, into a [`ScoreBreakdown`].
//!
//! Readings chosen where the table leaves room (each is pinned by a test):
//! - `days_inactive` is the number of whole days (floor) from the last customer message to `now`;
//!   a timestamp in the future counts as 0. A lead that never sent a customer message has no
//!   `days_inactive` (`None`).
//! - Activity for a lead that never sent a customer message: rate 0 (no activity to rate) and no
//!   inactivity penalty (there is no silence to measure), so it earns touchpoint points only.
//! - The inactivity penalty `days_inactive / 7` is real (f64) division, capped at 5; the sum is
//!   rounded half away from zero ([`f64::round`]) and clamped to 0..=25.
//! - "Today" for re-engagement and "in the last 24 h" for stages mean the same thing: strictly less
//!   than 24 hours before `now` ([`is_within_last_24h`]). No timezone is involved, so a lead's
//!   score does not depend on where the server or the workspace is.
//! - Re-engagement needs a previous customer message: a lead's very first message is not a return
//!   from silence. The silence is the gap between the previous and the last customer message, ≥ 7
//!   days.
//! - Every known intent code implies a customer message, so it earns at least the "any customer
//!   message" tier even if the message count says 0; unknown codes are ignored.
//! - The readiness cap (15) equals the sum of its maximal parts (5 + 3 + 4 + 3); it is applied
//!   anyway so that changing one weight cannot silently exceed the table.

use chrono::{DateTime, TimeDelta, Utc};
use serde::{Deserialize, Serialize};

/// A customer message of at least this many characters (Unicode scalar values, not bytes) is
/// substantive even without a question mark.
pub const SUBSTANTIVE_MIN_CHARS: usize = 60;

/// Silence (between the previous and the last customer message) that makes a new message a
/// re-engagement.
pub const RE_ENGAGEMENT_SILENCE_DAYS: i64 = 7;

/// The highest total a lead can score.
pub const MAX_SCORE: u8 = 100;

const READINESS_CAP: u8 = 15;
const ACTIVITY_CAP: f64 = 25.0;
const INACTIVITY_PENALTY_CAP: f64 = 5.0;
const TOUCHPOINT_POINTS_CAP: u32 = 8;
const BOOKING_BOOST: u8 = 50;
const RE_ENGAGEMENT_BOOST: u8 = 20;

/// Whether a customer message counts as substantive: it asks something (`?` or `¿`) or it has at
/// least [`SUBSTANTIVE_MIN_CHARS`] characters.
///
/// The text is not trimmed, so the same rule can be written in SQL over `conversations.content`:
/// `strpos(content, '?') > 0 OR strpos(content, '¿') > 0 OR char_length(content) >= 60`.
pub fn is_substantive(text: &str) -> bool {
    text.contains(['?', '¿']) || text.chars().nth(SUBSTANTIVE_MIN_CHARS - 1).is_some()
}

/// Whether `at` lies strictly less than 24 hours before `now`. A time in the future counts as
/// within (it is "now" for every practical purpose, and clocks drift).
pub fn is_within_last_24h(at: DateTime<Utc>, now: DateTime<Utc>) -> bool {
    now.signed_duration_since(at) < TimeDelta::hours(24)
}

/// Raw facts about one lead, as the store reads them in one query. Nothing here depends on "now".
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LeadFacts {
    /// Messages with `sender = 'customer'`, on every channel.
    pub customer_messages: u32,
    /// Customer messages for which [`is_substantive`] holds.
    pub substantive_messages: u32,
    /// Distinct intent codes detected in customer messages (`lead_intents_log.intent`):
    /// `booking`, `site_visit`, `pricing`, `availability`, `interest`, `objection`,
    /// `human_handoff`, `opt_out`. Unknown codes are ignored.
    pub intent_codes: Vec<String>,
    /// The newest customer message.
    pub last_customer_message_at: Option<DateTime<Utc>>,
    /// The customer message before the newest one.
    pub previous_customer_message_at: Option<DateTime<Utc>>,
    /// Distinct channels (web, whatsapp, voice, social) with a customer message or a session.
    pub touchpoints: u32,
    pub readiness: Readiness,
    /// The lead has a booking whose status is pending or confirmed.
    pub has_booking: bool,
}

/// What the lead has told us about being ready to buy or rent.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Readiness {
    pub budget_known: bool,
    pub location_or_property_type_known: bool,
    pub timeline: Option<Timeline>,
    pub financing_ready: bool,
}

impl Readiness {
    /// Reads readiness facts from a lead's `unified_context`: the chat agents and the WhatsApp
    /// flow store what they collected there, either at the top level, under `readiness`, or under
    /// a channel's object (`web`, `whatsapp`, `web.metadata`, …). The first non-empty value of a
    /// fact wins; a missing fact is "not known", never an error.
    pub fn from_unified_context(context: &serde_json::Value) -> Readiness {
        let mut objects = Vec::new();
        collect_objects(context, 0, &mut objects);
        let find = |keys: &[&str]| {
            objects.iter().find_map(|object| {
                keys.iter()
                    .filter_map(|key| object.get(*key))
                    .find(|value| is_present(value))
            })
        };
        let timeline = find(&[
            "timeline",
            "move_in",
            "purchase_timeline",
            "buying_timeline",
        ])
        .and_then(|v| v.as_str())
        .map(Timeline::read);
        let financing_ready = find(&[
            "financing_ready",
            "financing",
            "loan_approved",
            "pre_approved",
        ])
        .is_some_and(|v| match v {
            serde_json::Value::Bool(b) => *b,
            serde_json::Value::String(s) => matches!(
                s.trim().to_lowercase().as_str(),
                "yes" | "ready" | "approved" | "pre-approved" | "pre_approved" | "cash" | "true"
            ),
            _ => false,
        });
        Readiness {
            budget_known: find(&["budget", "budget_range", "price_range", "max_budget"]).is_some(),
            location_or_property_type_known: find(&[
                "location",
                "preferred_location",
                "locality",
                "area",
                "property_type",
            ])
            .is_some(),
            timeline,
            financing_ready,
        }
    }
}

/// The object itself and its object children, two levels deep, outermost first.
fn collect_objects<'a>(
    value: &'a serde_json::Value,
    depth: usize,
    out: &mut Vec<&'a serde_json::Map<String, serde_json::Value>>,
) {
    if let serde_json::Value::Object(map) = value {
        out.push(map);
        if depth < 2 {
            for child in map.values() {
                collect_objects(child, depth + 1, out);
            }
        }
    }
}

fn is_present(value: &serde_json::Value) -> bool {
    match value {
        serde_json::Value::Null => false,
        serde_json::Value::String(s) => !s.trim().is_empty(),
        serde_json::Value::Array(a) => !a.is_empty(),
        serde_json::Value::Object(o) => !o.is_empty(),
        _ => true,
    }
}

crate::text_enum! {
    /// When the lead wants to move.
    Timeline, UnknownTimeline {
        Asap => "asap",
        Soon => "soon",
        Later => "later",
    }
}

impl Timeline {
    /// Reads the free text a chat agent collected. Case, surrounding spaces, underscores and
    /// repeated spaces do not matter. Only known phrases earn points: anything unrecognised is
    /// `Later`, so a vague answer never inflates a score.
    ///
    /// Asap: "asap", "immediately", "immediate", "urgent", "urgently", "now", "right away",
    /// "as soon as possible". Soon: "soon", "1-3 months" (also "1 - 3 months", "1 to 3 months"),
    /// "within 3 months", "this month", "next month", "within a month".
    pub fn read(text: &str) -> Timeline {
        let lowered = text
            .to_lowercase()
            .replace('_', " ")
            .replace(['–', '—'], "-");
        let normalised = lowered
            .split_whitespace()
            .collect::<Vec<_>>()
            .join(" ")
            .replace(" - ", "-");
        match normalised.as_str() {
            "asap"
            | "immediately"
            | "immediate"
            | "urgent"
            | "urgently"
            | "now"
            | "right away"
            | "as soon as possible" => Timeline::Asap,
            "soon" | "1-3 months" | "1 to 3 months" | "within 3 months" | "this month"
            | "next month" | "within a month" => Timeline::Soon,
            _ => Timeline::Later,
        }
    }
}

/// How strong the strongest intent of a lead is. Ordered: a later variant beats an earlier one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum IntentTier {
    /// The lead sent a customer message, with no intent worth more.
    AnyMessage,
    /// `interest`.
    Interest,
    /// `pricing` or `availability`.
    Pricing,
    /// `booking` or `site_visit`.
    Booking,
}

impl IntentTier {
    /// The tier of a stored intent code; `None` for a code this algorithm does not know.
    /// `objection`, `human_handoff` and `opt_out` are known but rank no higher than any message.
    pub fn from_code(code: &str) -> Option<IntentTier> {
        match code {
            "booking" | "site_visit" => Some(IntentTier::Booking),
            "pricing" | "availability" => Some(IntentTier::Pricing),
            "interest" => Some(IntentTier::Interest),
            "objection" | "human_handoff" | "opt_out" => Some(IntentTier::AnyMessage),
            _ => None,
        }
    }

    const fn points(self) -> u8 {
        match self {
            IntentTier::AnyMessage => 5,
            IntentTier::Interest => 10,
            IntentTier::Pricing => 15,
            IntentTier::Booking => 20,
        }
    }
}

/// The signals the table scores, derived from [`LeadFacts`] at a given instant.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LeadSignals {
    pub customer_messages: u32,
    pub substantive_messages: u32,
    /// `None` when the lead never sent a customer message nor had a known intent detected.
    pub strongest_intent: Option<IntentTier>,
    /// Whole days since the last customer message; `None` when there was none.
    pub days_inactive: Option<u32>,
    pub touchpoints: u32,
    pub readiness: Readiness,
    pub has_booking: bool,
    /// The last customer message is within the last 24 h and came after ≥ 7 days of silence.
    pub re_engaged: bool,
}

impl LeadSignals {
    pub fn from_facts(facts: &LeadFacts, now: DateTime<Utc>) -> LeadSignals {
        let any_message = (facts.customer_messages > 0).then_some(IntentTier::AnyMessage);
        let strongest_intent = facts
            .intent_codes
            .iter()
            .filter_map(|code| IntentTier::from_code(code))
            .chain(any_message)
            .max();

        let days_inactive = facts.last_customer_message_at.map(|last| {
            let days = now.signed_duration_since(last).num_days().max(0);
            u32::try_from(days).unwrap_or(u32::MAX)
        });

        let re_engaged = match (
            facts.last_customer_message_at,
            facts.previous_customer_message_at,
        ) {
            (Some(last), Some(previous)) => {
                is_within_last_24h(last, now)
                    && last.signed_duration_since(previous)
                        >= TimeDelta::days(RE_ENGAGEMENT_SILENCE_DAYS)
            }
            _ => false,
        };

        LeadSignals {
            customer_messages: facts.customer_messages,
            substantive_messages: facts.substantive_messages,
            strongest_intent,
            days_inactive,
            touchpoints: facts.touchpoints,
            readiness: facts.readiness,
            has_booking: facts.has_booking,
            re_engaged,
        }
    }
}

/// A score and the points of each part of the table, stored as `leads.score_breakdown`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct ScoreBreakdown {
    /// 0..=20, from the number of customer messages.
    pub engagement: u8,
    /// 0..=20, from the strongest intent.
    pub intent: u8,
    /// 0..=15, from the number of substantive customer messages.
    pub depth: u8,
    /// 0..=25, from recency, channels used and inactivity.
    pub activity: u8,
    /// 0..=15, from readiness facts.
    pub readiness: u8,
    /// 0, 20 (re-engaged) or 50 (booking).
    pub boost: u8,
    /// The sum of the parts, capped at [`MAX_SCORE`]; this is `leads.lead_score`.
    pub total: u8,
}

/// Scores a lead's signals by the table in docs/architecture.md §6.1.
pub fn score(signals: &LeadSignals) -> ScoreBreakdown {
    let engagement = engagement_points(signals.customer_messages);
    let intent = signals.strongest_intent.map_or(0, IntentTier::points);
    let depth = depth_points(signals.substantive_messages);
    let activity = activity_points(signals.days_inactive, signals.touchpoints);
    let readiness = readiness_points(&signals.readiness);
    let boost = if signals.has_booking {
        BOOKING_BOOST
    } else if signals.re_engaged {
        RE_ENGAGEMENT_BOOST
    } else {
        0
    };
    let total = [engagement, intent, depth, activity, readiness, boost]
        .into_iter()
        .fold(0u8, u8::saturating_add)
        .min(MAX_SCORE);
    ScoreBreakdown {
        engagement,
        intent,
        depth,
        activity,
        readiness,
        boost,
        total,
    }
}

const fn engagement_points(customer_messages: u32) -> u8 {
    match customer_messages {
        0 => 0,
        1..=2 => 5,
        3..=5 => 10,
        6..=10 => 15,
        _ => 20,
    }
}

const fn depth_points(substantive_messages: u32) -> u8 {
    match substantive_messages {
        0 => 0,
        1..=2 => 5,
        3..=5 => 10,
        _ => 15,
    }
}

/// `round(rate × 12 + min(touchpoints × 2, 8) − min(days_inactive / 7, 5))`, clamped to 0..=25.
fn activity_points(days_inactive: Option<u32>, touchpoints: u32) -> u8 {
    let (rate, penalty) = match days_inactive {
        // Never messaged: nothing to rate and no silence to penalise.
        None => (0.0, 0.0),
        Some(days) => (
            recency_rate(days),
            (f64::from(days) / 7.0).min(INACTIVITY_PENALTY_CAP),
        ),
    };
    let channels = f64::from(touchpoints.saturating_mul(2).min(TOUCHPOINT_POINTS_CAP));
    let points = (rate * 12.0 + channels - penalty)
        .round()
        .clamp(0.0, ACTIVITY_CAP);
    // In range 0..=25 after the clamp, so the conversion is exact.
    points as u8
}

const fn recency_rate(days_inactive: u32) -> f64 {
    match days_inactive {
        0 => 1.0,
        1 => 0.8,
        2..=3 => 0.6,
        4..=7 => 0.4,
        _ => 0.2,
    }
}

fn readiness_points(readiness: &Readiness) -> u8 {
    let budget = if readiness.budget_known { 5 } else { 0 };
    let place = if readiness.location_or_property_type_known {
        3
    } else {
        0
    };
    let timeline = match readiness.timeline {
        Some(Timeline::Asap) => 4,
        Some(Timeline::Soon) => 2,
        Some(Timeline::Later) | None => 0,
    };
    let financing = if readiness.financing_ready { 3 } else { 0 };
    (budget + place + timeline + financing).min(READINESS_CAP)
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn now() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2025, 6, 1, 12, 0, 0).single().unwrap()
    }

    fn ago(delta: TimeDelta) -> DateTime<Utc> {
        now() - delta
    }

    fn readiness_all(timeline: Timeline) -> Readiness {
        Readiness {
            budget_known: true,
            location_or_property_type_known: true,
            timeline: Some(timeline),
            financing_ready: true,
        }
    }

    struct Case<I, W> {
        input: I,
        want: W,
        why: &'static str,
    }

    fn case<I, W>(input: I, want: W, why: &'static str) -> Case<I, W> {
        Case { input, want, why }
    }

    #[test]
    fn engagement_follows_the_customer_message_thresholds() {
        let cases = [
            case(0, 0, "no customer message earns nothing"),
            case(1, 5, "one message is >= 1"),
            case(2, 5, "two messages are still only >= 1"),
            case(3, 10, "three messages are > 2"),
            case(5, 10, "five messages are still only > 2"),
            case(6, 15, "six messages are > 5"),
            case(10, 15, "ten messages are still only > 5"),
            case(11, 20, "eleven messages are > 10"),
            case(u32::MAX, 20, "huge counts stay at the top tier"),
        ];
        for case in cases {
            let signals = LeadSignals {
                customer_messages: case.input,
                ..LeadSignals::default()
            };
            assert_eq!(score(&signals).engagement, case.want, "{}", case.why);
        }
    }

    #[test]
    fn intent_scores_the_strongest_known_code() {
        let cases = [
            case((vec![], 0), 0, "no messages and no intents earn nothing"),
            case((vec![], 1), 5, "any customer message earns 5"),
            case((vec!["objection"], 2), 5, "objection ranks as any message"),
            case(
                (vec!["human_handoff"], 2),
                5,
                "handoff ranks as any message",
            ),
            case((vec!["opt_out"], 2), 5, "opt-out ranks as any message"),
            case((vec!["interest"], 1), 10, "interest earns 10"),
            case((vec!["pricing"], 1), 15, "pricing earns 15"),
            case((vec!["availability"], 1), 15, "availability earns 15"),
            case((vec!["booking"], 1), 20, "booking earns 20"),
            case((vec!["site_visit"], 1), 20, "site visit earns 20"),
            case(
                (vec!["interest", "site_visit", "pricing"], 3),
                20,
                "the strongest of several intents wins",
            ),
            case(
                (vec!["objection", "interest"], 3),
                10,
                "order is irrelevant",
            ),
            case((vec!["teleport"], 1), 5, "an unknown code is ignored"),
            case(
                (vec!["teleport"], 0),
                0,
                "an unknown code alone earns nothing",
            ),
            case((vec!["Booking"], 1), 5, "codes are matched exactly"),
            case(
                (vec!["pricing"], 0),
                15,
                "a known intent implies a customer message even if the count lags",
            ),
        ];
        for case in cases {
            let (codes, messages) = case.input;
            let facts = LeadFacts {
                customer_messages: messages,
                intent_codes: codes.into_iter().map(String::from).collect(),
                ..LeadFacts::default()
            };
            let signals = LeadSignals::from_facts(&facts, now());
            assert_eq!(score(&signals).intent, case.want, "{}", case.why);
        }
    }

    #[test]
    fn intent_tiers_are_ordered_from_any_message_to_booking() {
        assert!(IntentTier::AnyMessage < IntentTier::Interest);
        assert!(IntentTier::Interest < IntentTier::Pricing);
        assert!(IntentTier::Pricing < IntentTier::Booking);
    }

    #[test]
    fn depth_follows_the_substantive_message_thresholds() {
        let cases = [
            case(0, 0, "no substantive message earns nothing"),
            case(1, 5, "one substantive message is >= 1"),
            case(2, 5, "two are still only >= 1"),
            case(3, 10, "three are > 2"),
            case(5, 10, "five are still only > 2"),
            case(6, 15, "six are > 5"),
            case(u32::MAX, 15, "huge counts stay at the top tier"),
        ];
        for case in cases {
            let signals = LeadSignals {
                substantive_messages: case.input,
                ..LeadSignals::default()
            };
            assert_eq!(score(&signals).depth, case.want, "{}", case.why);
        }
    }

    #[test]
    fn substantive_means_a_question_or_at_least_sixty_characters() {
        let cases = [
            case(
                "ok".to_string(),
                false,
                "a short statement is not substantive",
            ),
            case(String::new(), false, "an empty message is not substantive"),
            case(
                "price?".to_string(),
                true,
                "a question mark makes it substantive",
            ),
            case(
                "¿precio".to_string(),
                true,
                "an inverted question mark counts",
            ),
            case("a".repeat(59), false, "59 characters are one short"),
            case("a".repeat(60), true, "60 characters are enough"),
            case(
                "é".repeat(30),
                false,
                "30 two-byte characters are 60 bytes but only 30 characters",
            ),
            case("é".repeat(60), true, "characters are counted, not bytes"),
            case("नमस्ते".repeat(10), true, "60 Devanagari code points count"),
        ];
        for case in cases {
            assert_eq!(is_substantive(&case.input), case.want, "{}", case.why);
        }
    }

    #[test]
    fn activity_combines_recency_channels_and_inactivity() {
        // (days_inactive, touchpoints) -> points
        let cases = [
            case((None, 0), 0, "never messaged, no channel: nothing"),
            case(
                (None, 1),
                2,
                "never messaged: no rate, no penalty, channel points only",
            ),
            case((None, 3), 6, "never messaged, three channels"),
            case(
                (None, 4),
                8,
                "channel points reach their cap of 8 at four channels",
            ),
            case((None, 5), 8, "a fifth channel adds nothing"),
            case((None, u32::MAX), 8, "absurd channel counts do not overflow"),
            case((Some(0), 0), 12, "today: rate 1.0 × 12"),
            case((Some(0), 1), 14, "today, one channel: 12 + 2"),
            case((Some(0), 2), 16, "today, two channels: 12 + 4"),
            case((Some(0), 3), 18, "today, three channels: 12 + 6"),
            case((Some(0), 4), 20, "today, four channels: 12 + 8"),
            case((Some(0), 5), 20, "today, five channels: still 12 + 8"),
            case((Some(1), 0), 9, "1 day: 9.6 − 0.14 = 9.46 rounds down"),
            case((Some(1), 1), 11, "1 day, one channel: 11.46 rounds down"),
            case(
                (Some(2), 0),
                7,
                "2 days: rate 0.6, 7.2 − 0.29 = 6.91 rounds up",
            ),
            case((Some(3), 0), 7, "3 days: still rate 0.6, 7.2 − 0.43 = 6.77"),
            case((Some(3), 1), 9, "3 days, one channel: 8.77 rounds up"),
            case((Some(4), 0), 4, "4 days: rate 0.4, 4.8 − 0.57 = 4.23"),
            case(
                (Some(7), 0),
                4,
                "7 days: still rate 0.4, 4.8 − 1 = 3.8 rounds up",
            ),
            case((Some(7), 1), 6, "7 days, one channel: 5.8 rounds up"),
            case((Some(8), 0), 1, "8 days: rate 0.2, 2.4 − 1.14 = 1.26"),
            case((Some(8), 1), 3, "8 days, one channel: 3.26"),
            case(
                (Some(30), 1),
                0,
                "30 days, one channel: 2.4 + 2 − 4.29 = 0.11",
            ),
            case((Some(30), 4), 6, "30 days, four channels: 6.11"),
            case((Some(31), 0), 0, "31 days: negative raw value clamps to 0"),
            case((Some(31), 1), 0, "31 days, one channel: −0.03 clamps to 0"),
            case((Some(31), 4), 6, "31 days, four channels: 5.97 rounds up"),
            case(
                (Some(35), 4),
                5,
                "35 days: penalty reaches its cap of 5, 5.4",
            ),
            case((Some(365), 4), 5, "a year: penalty stays capped at 5"),
            case(
                (Some(u32::MAX), 4),
                5,
                "absurd inactivity does not overflow",
            ),
        ];
        for case in cases {
            let (days_inactive, touchpoints) = case.input;
            let signals = LeadSignals {
                days_inactive,
                touchpoints,
                ..LeadSignals::default()
            };
            assert_eq!(score(&signals).activity, case.want, "{}", case.why);
        }
    }

    #[test]
    fn days_inactive_counts_whole_days_and_never_goes_negative() {
        let cases = [
            case(None, None, "no customer message: no inactivity"),
            case(
                Some(ago(TimeDelta::zero())),
                Some(0),
                "a message now is 0 days",
            ),
            case(
                Some(ago(TimeDelta::hours(23) + TimeDelta::minutes(59))),
                Some(0),
                "23h59m is still 0 whole days",
            ),
            case(Some(ago(TimeDelta::hours(24))), Some(1), "24 h is 1 day"),
            case(
                Some(ago(TimeDelta::hours(47))),
                Some(1),
                "47 h floors to 1 day",
            ),
            case(Some(ago(TimeDelta::days(3))), Some(3), "3 days"),
            case(Some(ago(TimeDelta::days(7))), Some(7), "7 days"),
            case(Some(ago(TimeDelta::days(8))), Some(8), "8 days"),
            case(Some(ago(TimeDelta::days(30))), Some(30), "30 days"),
            case(Some(ago(TimeDelta::days(31))), Some(31), "31 days"),
            case(
                Some(ago(-TimeDelta::hours(5))),
                Some(0),
                "a future timestamp counts as 0",
            ),
        ];
        for case in cases {
            let facts = LeadFacts {
                last_customer_message_at: case.input,
                ..LeadFacts::default()
            };
            let signals = LeadSignals::from_facts(&facts, now());
            assert_eq!(signals.days_inactive, case.want, "{}", case.why);
        }

        let oldest = LeadFacts {
            last_customer_message_at: Some(DateTime::<Utc>::MIN_UTC),
            ..LeadFacts::default()
        };
        let signals = LeadSignals::from_facts(&oldest, DateTime::<Utc>::MAX_UTC);
        assert!(
            signals.days_inactive > Some(190_000_000),
            "the widest possible span neither panics nor wraps"
        );
    }

    #[test]
    fn readiness_adds_its_facts_up_to_the_cap() {
        let none = Readiness::default();
        let cases = [
            case(none, 0, "nothing known earns nothing"),
            case(
                Readiness {
                    budget_known: true,
                    ..none
                },
                5,
                "a known budget earns 5",
            ),
            case(
                Readiness {
                    location_or_property_type_known: true,
                    ..none
                },
                3,
                "a known location or property type earns 3",
            ),
            case(
                Readiness {
                    timeline: Some(Timeline::Asap),
                    ..none
                },
                4,
                "an asap timeline earns 4",
            ),
            case(
                Readiness {
                    timeline: Some(Timeline::Soon),
                    ..none
                },
                2,
                "a soon timeline earns 2",
            ),
            case(
                Readiness {
                    timeline: Some(Timeline::Later),
                    ..none
                },
                0,
                "a later timeline earns nothing",
            ),
            case(
                Readiness {
                    financing_ready: true,
                    ..none
                },
                3,
                "ready financing earns 3",
            ),
            case(
                readiness_all(Timeline::Soon),
                13,
                "everything with a soon timeline: 5 + 3 + 2 + 3",
            ),
            case(
                readiness_all(Timeline::Asap),
                15,
                "everything with an asap timeline reaches the cap of 15 exactly",
            ),
        ];
        for case in cases {
            let signals = LeadSignals {
                readiness: case.input,
                ..LeadSignals::default()
            };
            assert_eq!(score(&signals).readiness, case.want, "{}", case.why);
        }
    }

    #[test]
    fn readiness_never_exceeds_its_cap() {
        for budget_known in [false, true] {
            for location_or_property_type_known in [false, true] {
                for financing_ready in [false, true] {
                    for timeline in [
                        None,
                        Some(Timeline::Asap),
                        Some(Timeline::Soon),
                        Some(Timeline::Later),
                    ] {
                        let readiness = Readiness {
                            budget_known,
                            location_or_property_type_known,
                            timeline,
                            financing_ready,
                        };
                        assert!(readiness_points(&readiness) <= 15, "{readiness:?}");
                    }
                }
            }
        }
    }

    #[test]
    fn timeline_text_is_read_tolerantly() {
        let cases = [
            case("asap", Timeline::Asap, "asap"),
            case(" ASAP ", Timeline::Asap, "case and spaces do not matter"),
            case("Immediately", Timeline::Asap, "immediately means asap"),
            case("urgent", Timeline::Asap, "urgent means asap"),
            case(
                "as_soon_as_possible",
                Timeline::Asap,
                "underscores are spaces",
            ),
            case("soon", Timeline::Soon, "soon"),
            case("1-3 months", Timeline::Soon, "1-3 months is soon"),
            case(
                "1 - 3  Months",
                Timeline::Soon,
                "spacing around the dash is ignored",
            ),
            case("1–3 months", Timeline::Soon, "an en dash is a dash"),
            case(
                "1-3_months",
                Timeline::Soon,
                "an enum-like spelling is read",
            ),
            case("this month", Timeline::Soon, "this month is soon"),
            case("6 months", Timeline::Later, "six months is later"),
            case(
                "not urgent",
                Timeline::Later,
                "phrases are matched whole, not by substring",
            ),
            case("", Timeline::Later, "empty text earns nothing"),
            case("just browsing", Timeline::Later, "anything else is later"),
        ];
        for case in cases {
            assert_eq!(Timeline::read(case.input), case.want, "{}", case.why);
        }
    }

    #[test]
    fn re_engagement_needs_a_message_today_after_a_week_of_silence() {
        // (last ago, gap between previous and last) -> re_engaged
        let day = TimeDelta::days(1);
        let hour = TimeDelta::hours(1);
        let cases = [
            case(
                (Some(hour), Some(day * 7)),
                true,
                "message 1 h ago after exactly 7 days",
            ),
            case(
                (Some(hour), Some(day * 7 - TimeDelta::seconds(1))),
                false,
                "a gap one second short of 7 days is not silence enough",
            ),
            case((Some(hour), Some(day * 40)), true, "a long silence counts"),
            case(
                (Some(hour * 23 + TimeDelta::minutes(59)), Some(day * 8)),
                true,
                "23h59m ago is still today",
            ),
            case(
                (Some(hour * 24), Some(day * 8)),
                false,
                "exactly 24 h ago is not today",
            ),
            case(
                (Some(hour * 25), Some(day * 8)),
                false,
                "yesterday's return is over",
            ),
            case(
                (Some(-hour), Some(day * 8)),
                true,
                "a message stamped slightly in the future is today",
            ),
            case((Some(hour), None), false, "a first message is not a return"),
            case((None, None), false, "no message, no re-engagement"),
            case(
                (Some(hour), Some(-day * 8)),
                false,
                "a previous message after the last one is inconsistent and ignored",
            ),
        ];
        for case in cases {
            let (last_ago, gap) = case.input;
            let last = last_ago.map(ago);
            let facts = LeadFacts {
                customer_messages: 2,
                last_customer_message_at: last,
                previous_customer_message_at: last.zip(gap).map(|(last, gap)| last - gap),
                ..LeadFacts::default()
            };
            let signals = LeadSignals::from_facts(&facts, now());
            assert_eq!(signals.re_engaged, case.want, "{}", case.why);
        }
    }

    #[test]
    fn boost_prefers_a_booking_over_re_engagement() {
        // (has_booking, re_engaged) -> boost
        let cases = [
            case((false, false), 0, "neither earns no boost"),
            case((false, true), 20, "re-engagement earns 20"),
            case((true, false), 50, "a booking earns 50"),
            case(
                (true, true),
                50,
                "a booking replaces the re-engagement boost, not adds",
            ),
        ];
        for case in cases {
            let (has_booking, re_engaged) = case.input;
            let signals = LeadSignals {
                has_booking,
                re_engaged,
                ..LeadSignals::default()
            };
            assert_eq!(score(&signals).boost, case.want, "{}", case.why);
        }
    }

    #[test]
    fn total_is_the_sum_of_the_parts_around_the_stage_thresholds() {
        let signals = |messages, intent, substantive, days, touchpoints, readiness| LeadSignals {
            customer_messages: messages,
            strongest_intent: Some(intent),
            substantive_messages: substantive,
            days_inactive: Some(days),
            touchpoints,
            readiness,
            ..LeadSignals::default()
        };
        let budget = Readiness {
            budget_known: true,
            ..Readiness::default()
        };
        let cases = [
            case(
                signals(
                    1,
                    IntentTier::AnyMessage,
                    1,
                    1,
                    1,
                    Readiness {
                        timeline: Some(Timeline::Asap),
                        ..Readiness::default()
                    },
                ),
                (5, 5, 5, 11, 4, 0, 30),
                "30: one below Qualified",
            ),
            case(
                signals(
                    1,
                    IntentTier::AnyMessage,
                    0,
                    0,
                    1,
                    Readiness {
                        timeline: Some(Timeline::Soon),
                        ..budget
                    },
                ),
                (5, 5, 0, 14, 7, 0, 31),
                "31: exactly Qualified",
            ),
            case(
                signals(
                    6,
                    IntentTier::Pricing,
                    3,
                    0,
                    2,
                    Readiness {
                        timeline: Some(Timeline::Asap),
                        ..Readiness::default()
                    },
                ),
                (15, 15, 10, 16, 4, 0, 60),
                "60: one below High Intent",
            ),
            case(
                signals(6, IntentTier::Pricing, 3, 0, 2, budget),
                (15, 15, 10, 16, 5, 0, 61),
                "61: exactly High Intent",
            ),
        ];
        for case in cases {
            let got = score(&case.input);
            let (engagement, intent, depth, activity, readiness, boost, total) = case.want;
            let want = ScoreBreakdown {
                engagement,
                intent,
                depth,
                activity,
                readiness,
                boost,
                total,
            };
            assert_eq!(got, want, "{}", case.why);
        }
    }

    #[test]
    fn total_is_capped_at_one_hundred() {
        let signals = LeadSignals {
            customer_messages: 11,
            substantive_messages: 6,
            strongest_intent: Some(IntentTier::Booking),
            days_inactive: Some(0),
            touchpoints: 4,
            readiness: readiness_all(Timeline::Asap),
            has_booking: true,
            re_engaged: true,
        };
        let got = score(&signals);
        let want = ScoreBreakdown {
            engagement: 20,
            intent: 20,
            depth: 15,
            activity: 20,
            readiness: 15,
            boost: 50,
            total: 100,
        };
        assert_eq!(got, want, "parts sum to 140, the total stops at 100");
    }

    #[test]
    fn a_lead_with_no_signals_scores_zero() {
        let signals = LeadSignals::from_facts(&LeadFacts::default(), now());
        assert_eq!(score(&signals), ScoreBreakdown::default());
    }

    #[test]
    fn facts_flow_through_to_a_full_breakdown() {
        let facts = LeadFacts {
            customer_messages: 4,
            substantive_messages: 2,
            intent_codes: vec!["interest".into(), "availability".into()],
            last_customer_message_at: Some(ago(TimeDelta::hours(2))),
            previous_customer_message_at: Some(ago(TimeDelta::days(10))),
            touchpoints: 2,
            readiness: Readiness {
                budget_known: true,
                location_or_property_type_known: true,
                timeline: Some(Timeline::read("this month")),
                financing_ready: false,
            },
            has_booking: false,
        };
        let signals = LeadSignals::from_facts(&facts, now());
        assert_eq!(signals.strongest_intent, Some(IntentTier::Pricing));
        assert_eq!(signals.days_inactive, Some(0));
        assert!(
            signals.re_engaged,
            "a message today after 10 days of silence"
        );
        let want = ScoreBreakdown {
            engagement: 10,
            intent: 15,
            depth: 5,
            activity: 16,
            readiness: 10,
            boost: 20,
            total: 76,
        };
        assert_eq!(score(&signals), want);
    }

    #[test]
    fn breakdown_is_stored_as_a_flat_json_object() {
        let breakdown = ScoreBreakdown {
            engagement: 5,
            intent: 10,
            depth: 0,
            activity: 14,
            readiness: 3,
            boost: 0,
            total: 32,
        };
        let json = serde_json::to_value(breakdown).unwrap();
        assert_eq!(
            json,
            serde_json::json!({
                "engagement": 5, "intent": 10, "depth": 0, "activity": 14,
                "readiness": 3, "boost": 0, "total": 32
            })
        );
        let back: ScoreBreakdown = serde_json::from_value(json).unwrap();
        assert_eq!(back, breakdown);
    }

    #[test]
    fn scoring_is_within_bounds_for_extreme_signals() {
        for messages in [0, 1, u32::MAX] {
            for days in [None, Some(0), Some(u32::MAX)] {
                for touchpoints in [0, u32::MAX] {
                    for has_booking in [false, true] {
                        let signals = LeadSignals {
                            customer_messages: messages,
                            substantive_messages: messages,
                            strongest_intent: Some(IntentTier::Booking),
                            days_inactive: days,
                            touchpoints,
                            readiness: readiness_all(Timeline::Asap),
                            has_booking,
                            re_engaged: true,
                        };
                        let got = score(&signals);
                        assert!(got.total <= MAX_SCORE, "{signals:?}");
                        assert!(got.activity <= 25, "{signals:?}");
                    }
                }
            }
        }
    }

    #[test]
    fn readiness_is_read_from_any_level_of_the_unified_context() {
        let cases = [
            (serde_json::json!({}), Readiness::default(), "nothing known"),
            (
                serde_json::json!({"readiness": {"budget": "80L", "timeline": "ASAP"}}),
                Readiness {
                    budget_known: true,
                    timeline: Some(Timeline::Asap),
                    ..Readiness::default()
                },
                "a readiness object",
            ),
            (
                serde_json::json!({"web": {"metadata": {"property_type": "2BHK", "financing": "pre-approved"}}}),
                Readiness {
                    location_or_property_type_known: true,
                    financing_ready: true,
                    ..Readiness::default()
                },
                "nested under a channel's metadata",
            ),
            (
                serde_json::json!({"web": {"budget": "", "location": null, "financing": "no"}}),
                Readiness::default(),
                "empty and negative values are not facts",
            ),
        ];
        for (context, want, why) in cases {
            assert_eq!(Readiness::from_unified_context(&context), want, "{why}");
        }
    }
}
