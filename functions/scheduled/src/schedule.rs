//! When a job runs: the one definition template.yaml's EventBridge Scheduler entries and the local
//! stack's timers are checked against (tests/template.rs) or built from (local `schedules.rs`).

use std::fmt;
use std::time::Duration;

/// A job's schedule, in the two shapes EventBridge Scheduler entries use here.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Schedule {
    /// `rate(N minutes)` (written `rate(N hours)` when N is a whole number of hours).
    EveryMinutes(u32),
    /// `cron(M H * * ? *)`: once a day at H:M UTC, chosen for when traffic is lowest.
    DailyAt { hour: u8, minute: u8 },
}

impl Schedule {
    /// How long between two runs; the local stack's timer period.
    pub const fn interval(self) -> Duration {
        match self {
            Self::EveryMinutes(minutes) => Duration::from_secs(minutes as u64 * 60),
            Self::DailyAt { .. } => Duration::from_secs(24 * 3600),
        }
    }

    /// The EventBridge Scheduler expression, as template.yaml should say it.
    pub fn expression(self) -> String {
        self.to_string()
    }

    /// Reads an EventBridge Scheduler expression of either shape this project uses; `None` for
    /// anything else (so a test reports the template's text rather than guessing).
    pub fn parse_expression(text: &str) -> Option<Self> {
        let text = text.trim();
        if let Some(inner) = text.strip_prefix("rate(").and_then(|t| t.strip_suffix(')')) {
            let (amount, unit) = inner.trim().split_once(' ')?;
            let amount: u32 = amount.parse().ok()?;
            let minutes = match unit.trim() {
                "minute" | "minutes" => amount,
                "hour" | "hours" => amount.checked_mul(60)?,
                "day" | "days" => amount.checked_mul(24 * 60)?,
                _ => return None,
            };
            return (minutes > 0).then_some(Self::EveryMinutes(minutes));
        }
        let inner = text.strip_prefix("cron(")?.strip_suffix(')')?;
        match inner.split_whitespace().collect::<Vec<_>>().as_slice() {
            [minute, hour, "*", "*", "?", "*"] => {
                let minute: u8 = minute.parse().ok().filter(|m| *m < 60)?;
                let hour: u8 = hour.parse().ok().filter(|h| *h < 24)?;
                Some(Self::DailyAt { hour, minute })
            }
            _ => None,
        }
    }
}

impl fmt::Display for Schedule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            Self::EveryMinutes(1) => f.write_str("rate(1 minute)"),
            Self::EveryMinutes(60) => f.write_str("rate(1 hour)"),
            Self::EveryMinutes(m) if m % 60 == 0 => write!(f, "rate({} hours)", m / 60),
            Self::EveryMinutes(m) => write!(f, "rate({m} minutes)"),
            Self::DailyAt { hour, minute } => write!(f, "cron({minute} {hour} * * ? *)"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_expression_written_reads_back_as_the_same_schedule() {
        for schedule in [
            Schedule::EveryMinutes(1),
            Schedule::EveryMinutes(10),
            Schedule::EveryMinutes(60),
            Schedule::EveryMinutes(120),
            Schedule::DailyAt {
                hour: 3,
                minute: 30,
            },
        ] {
            assert_eq!(
                Schedule::parse_expression(&schedule.expression()),
                Some(schedule),
                "{schedule}"
            );
        }
    }

    #[test]
    fn equivalent_rates_are_the_same_schedule() {
        assert_eq!(
            Schedule::parse_expression("rate(60 minutes)"),
            Schedule::parse_expression("rate(1 hour)")
        );
    }

    #[test]
    fn expressions_of_other_shapes_are_not_guessed() {
        for text in [
            "rate(0 minutes)",
            "rate(5 fortnights)",
            "cron(0 12 ? * MON-FRI *)",
            "at(2026-12-01T00:00:00)",
            "cron(61 3 * * ? *)",
        ] {
            assert_eq!(Schedule::parse_expression(text), None, "{text}");
        }
    }

    #[test]
    fn a_daily_schedule_runs_once_a_day() {
        let daily = Schedule::DailyAt { hour: 0, minute: 0 };
        assert_eq!(daily.interval(), Duration::from_secs(86_400));
        assert_eq!(
            Schedule::EveryMinutes(15).interval(),
            Duration::from_secs(900)
        );
    }
}
