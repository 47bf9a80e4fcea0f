//! CloudWatch metrics as embedded-metric-format (EMF) log lines.
//!
//! Lambda sends every stdout line to CloudWatch Logs, and CloudWatch turns a JSON line with an
//! `_aws` member into metric data points. So a job publishes a metric by writing one line: no SDK
//! call, no network round trip, no IAM permission. template.yaml's `OutboxStuck` and
//! `JournalUnapplied` alarms watch the two metrics written here.

use chrono::{DateTime, Utc};
use serde_json::{Value, json};
use std::io::Write;

/// Every metric's namespace (template.yaml's alarms name it).
pub const NAMESPACE: &str = "LeadEngine";
/// The one dimension every metric carries, so alarms select exactly these.
pub const SERVICE: &str = "lead-engine";

/// Seconds the oldest unpublished outbox row has waited (`outbox_relay`, every minute).
pub const OUTBOX_OLDEST_UNPUBLISHED_SECONDS: &str = "OutboxOldestUnpublishedSeconds";
/// Journaled webhook deliveries not applied (`journal_replay`, every 5 minutes).
pub const JOURNAL_UNAPPLIED_DELIVERIES: &str = "JournalUnappliedDeliveries";

/// A CloudWatch unit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Unit {
    Seconds,
    Count,
}

impl Unit {
    fn as_str(self) -> &'static str {
        match self {
            Unit::Seconds => "Seconds",
            Unit::Count => "Count",
        }
    }
}

/// The EMF line for one value of `name` at `at`.
pub fn line(name: &str, value: f64, unit: Unit, at: DateTime<Utc>) -> Value {
    json!({
        "_aws": {
            "Timestamp": at.timestamp_millis(),
            "CloudWatchMetrics": [{
                "Namespace": NAMESPACE,
                "Dimensions": [["Service"]],
                "Metrics": [{ "Name": name, "Unit": unit.as_str() }],
            }],
        },
        "Service": SERVICE,
        name: value,
    })
}

/// Writes the line to stdout, where Lambda picks it up. A failed write is logged, never fatal:
/// the job's work is done, and a missing data point is what the alarms treat as breaching.
pub fn emit(name: &str, value: f64, unit: Unit, at: DateTime<Utc>) {
    let line = line(name, value, unit, at);
    let mut stdout = std::io::stdout().lock();
    if let Err(error) = writeln!(stdout, "{line}") {
        tracing::warn!(metric = name, %error, "could not write the metric line");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_line_declares_its_metric_and_carries_the_value_and_dimension() {
        let at = DateTime::from_timestamp(1_767_261_600, 0).expect("an instant");
        let line = line(OUTBOX_OLDEST_UNPUBLISHED_SECONDS, 42.5, Unit::Seconds, at);

        assert_eq!(
            line,
            json!({
                "_aws": {
                    "Timestamp": 1_767_261_600_000_i64,
                    "CloudWatchMetrics": [{
                        "Namespace": "LeadEngine",
                        "Dimensions": [["Service"]],
                        "Metrics": [{ "Name": "OutboxOldestUnpublishedSeconds", "Unit": "Seconds" }],
                    }],
                },
                "Service": "lead-engine",
                "OutboxOldestUnpublishedSeconds": 42.5,
            })
        );
    }
}
