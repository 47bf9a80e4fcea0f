//! Scrape quotas (`POST, GET /agents/{agent_id}/scrape-quota`, docs/architecture.md section 5.4): the pure
//! part.
//!
//! A listing scraper or site bot asks for `units` before every import; each agent has a daily
//! allowance that restarts at the next midnight in its workspace's timezone. The rule itself
//! (restart the window when `reset_at` has passed, then consume only if it fits, where "midnight"
//! is) is one SQL statement, `store::scrape_quota`, because only the database can decide it
//! atomically under concurrency. What is left here is what needs no database:
//! - [`Units`]: the request body parsed (`{"units": n}`, 1..=1000, default 1), or a 422 naming
//!   `units`;
//! - [`QuotaWindow`]: the window the statement reports, and what remains of it;
//! - [`retry_after_secs`]: the `Retry-After` of a refusal.

use crate::validation::ValidationErrors;
use chrono::{DateTime, Utc};
use serde_json::Value;

/// How many units one request asks for: an integer in `MIN..=MAX`.
///
/// The upper bound keeps one request from being a bulk import in disguise and keeps the sum in
/// the database far from `integer` overflow.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Units(u16);

impl Units {
    pub const MIN: u16 = 1;
    pub const MAX: u16 = 1000;
    /// What a request without a body (or without `units`) asks for.
    pub const ONE: Self = Self(1);

    const FIELD: &'static str = "units";

    /// The units of a JSON integer in range; anything else (a fraction, a string, `1e20`, 0,
    /// a negative number, `null`) is refused. `1.0` is refused too: the contract says "a JSON
    /// integer", and a client writing fractions has a bug worth hearing about.
    pub fn new(value: &Value) -> Result<Self, ValidationErrors> {
        let refuse = || {
            ValidationErrors::single(
                Self::FIELD,
                format!("must be an integer from {} to {}", Self::MIN, Self::MAX),
            )
        };
        // as_i64 is Some only for a number written without fraction or exponent that fits i64.
        let n = value.as_i64().ok_or_else(refuse)?;
        u16::try_from(n)
            .ok()
            .filter(|n| (Self::MIN..=Self::MAX).contains(n))
            .map(Self)
            .ok_or_else(refuse)
    }

    /// The units a POST body asks for. `None` is a missing or blank body (one unit); otherwise
    /// the body must be an object whose only member, if any, is `units`. Unknown members are
    /// refused rather than ignored: `{"unit": 5}` silently consuming 1 would undercount imports.
    pub fn from_body(body: Option<&Value>) -> Result<Self, ValidationErrors> {
        let Some(body) = body else {
            return Ok(Self::ONE);
        };
        let Some(object) = body.as_object() else {
            return Err(ValidationErrors::single(
                "body",
                "must be a JSON object such as {\"units\": 1}",
            ));
        };
        let mut errors = ValidationErrors::new();
        for name in object.keys().filter(|name| *name != Self::FIELD) {
            // Names are the client's own text, not personal data; bounded so a 422 stays small.
            let name: String = name.chars().take(64).collect();
            errors.push(name, "is not a known field (only `units` is)");
        }
        let units = match object.get(Self::FIELD) {
            None => Some(Self::ONE),
            Some(value) => errors.check(Self::FIELD, Self::new(value).map_err(first_message)),
        };
        errors.finish(|| units.unwrap_or(Self::ONE))
    }

    pub const fn get(self) -> u16 {
        self.0
    }
}

impl Default for Units {
    fn default() -> Self {
        Self::ONE
    }
}

fn first_message(errors: ValidationErrors) -> String {
    errors
        .errors()
        .first()
        .map(|e| e.message.clone())
        .unwrap_or_default()
}

/// An agent's quota window as the database reported it, after any restart.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct QuotaWindow {
    /// The row's override, else the workspace plan's `scrape_daily_limit`.
    pub daily_limit: u32,
    pub used_today: u32,
    /// When this window ends: the next midnight in the workspace's timezone.
    pub reset_at: DateTime<Utc>,
}

impl QuotaWindow {
    /// What can still be consumed in this window; 0, never negative, when a lowered override
    /// leaves `used_today` above the limit.
    pub fn remaining(&self) -> u32 {
        self.daily_limit.saturating_sub(self.used_today)
    }
}

/// `Retry-After` for a refusal: whole seconds from `now` until `reset_at`, rounded up so a client
/// that waits exactly that long finds the window restarted, and at least 1 so a refusal never
/// says "retry now".
pub fn retry_after_secs(now: DateTime<Utc>, reset_at: DateTime<Utc>) -> u64 {
    let millis = (reset_at - now).num_milliseconds();
    let secs = u64::try_from(millis).unwrap_or(0).div_ceil(1000);
    secs.max(1)
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::{TimeDelta, TimeZone};
    use serde_json::json;

    #[test]
    fn units_are_integers_from_1_to_1000() {
        let accepted = [(json!(1), 1), (json!(7), 7), (json!(1000), 1000)];
        for (value, want) in accepted {
            assert_eq!(Units::new(&value).map(Units::get), Ok(want), "{value}");
        }
        let refused = [
            json!(0),
            json!(-1),
            json!(1.5),
            json!(1.0),
            json!("3"),
            json!(1001),
            json!(1e20),
            json!(u64::MAX),
            json!(null),
            json!(true),
            json!([1]),
        ];
        for value in refused {
            let errors = Units::new(&value).expect_err(&value.to_string());
            assert_eq!(errors.errors()[0].field, "units", "{value}");
        }
    }

    #[test]
    fn a_missing_body_or_missing_units_asks_for_one() {
        assert_eq!(Units::from_body(None), Ok(Units::ONE));
        assert_eq!(Units::from_body(Some(&json!({}))), Ok(Units::ONE));
        assert_eq!(
            Units::from_body(Some(&json!({"units": 25}))).map(Units::get),
            Ok(25)
        );
    }

    #[test]
    fn a_bad_body_names_every_bad_field() {
        let errors = Units::from_body(Some(&json!({"unit": 5, "units": 0}))).unwrap_err();
        let fields: Vec<&str> = errors.errors().iter().map(|e| e.field.as_str()).collect();
        assert_eq!(fields, ["unit", "units"]);

        let errors = Units::from_body(Some(&json!([1]))).unwrap_err();
        assert_eq!(errors.errors()[0].field, "body");
    }

    #[test]
    fn remaining_never_goes_below_zero() {
        let reset_at = Utc.with_ymd_and_hms(2026, 1, 2, 0, 0, 0).unwrap();
        let window = |daily_limit, used_today| QuotaWindow {
            daily_limit,
            used_today,
            reset_at,
        };
        assert_eq!(window(10, 3).remaining(), 7);
        assert_eq!(window(10, 10).remaining(), 0);
        assert_eq!(window(5, 10).remaining(), 0, "a lowered override");
    }

    #[test]
    fn retry_after_is_whole_seconds_rounded_up_and_at_least_one() {
        let now = Utc.with_ymd_and_hms(2026, 1, 1, 23, 0, 0).unwrap();
        let cases = [
            (TimeDelta::hours(1), 3600),
            (TimeDelta::milliseconds(3_600_001), 3601),
            (TimeDelta::milliseconds(1), 1),
            (TimeDelta::zero(), 1),
            (TimeDelta::seconds(-5), 1),
        ];
        for (until_reset, want) in cases {
            assert_eq!(
                retry_after_secs(now, now + until_reset),
                want,
                "{until_reset}"
            );
        }
    }
}
