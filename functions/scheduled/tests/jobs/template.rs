//! template.yaml's EventBridge Scheduler entries must say what the Rust constants say: one
//! schedule per job, with the job's own interval. The template is read with a small line-based
//! reader (the workspace has no YAML crate, and CloudFormation's `!Ref`/`!GetAtt` tags trip
//! plain YAML parsers anyway); it understands exactly the shape the template uses and fails
//! loudly, naming the line, on anything else inside a schedule.

use scheduled::{Schedule, ScheduledJob};
use std::collections::BTreeMap;

/// One `Type: ScheduleV2` event: its logical name, expression and target job.
#[derive(Debug)]
struct ScheduleEntry {
    event: String,
    expression: String,
    job: String,
}

/// Non-blank, non-comment lines with their indentation.
fn lines(text: &str) -> Vec<(usize, usize, &str)> {
    text.lines()
        .enumerate()
        .filter(|(_, line)| {
            let trimmed = line.trim();
            !trimmed.is_empty() && !trimmed.starts_with('#')
        })
        .map(|(number, line)| {
            let indent = line.len() - line.trim_start().len();
            (number + 1, indent, line.trim())
        })
        .collect()
}

/// A scalar as YAML writes it: bare, 'single-quoted' ('' is a quote) or "double-quoted".
/// A CloudFormation tag (`!Ref X`) is not a literal: the test cannot check it, so it says so.
fn scalar(value: &str, line: usize) -> String {
    let value = value.trim();
    assert!(
        !value.starts_with('!'),
        "template.yaml line {line}: {value:?} is a CloudFormation tag; schedules must be literals"
    );
    if let Some(inner) = value.strip_prefix('\'').and_then(|v| v.strip_suffix('\'')) {
        inner.replace("''", "'")
    } else if let Some(inner) = value.strip_prefix('"').and_then(|v| v.strip_suffix('"')) {
        inner.replace("\\\"", "\"")
    } else {
        value.to_owned()
    }
}

fn schedule_entries(text: &str) -> Vec<ScheduleEntry> {
    let lines = lines(text);
    let mut entries = Vec::new();
    for (i, &(number, indent, content)) in lines.iter().enumerate() {
        if content.split_once(':').map(|(k, v)| (k.trim(), v.trim()))
            != Some(("Type", "ScheduleV2"))
        {
            continue;
        }
        // The event's logical name is the nearest line above that is less indented.
        let (_, event_indent, event_line) = lines[..i]
            .iter()
            .rev()
            .find(|(_, other, _)| *other < indent)
            .copied()
            .unwrap_or_else(|| panic!("template.yaml line {number}: a schedule with no name"));
        let event = event_line.trim_end_matches(':').to_owned();
        let mut expression = None;
        let mut input = None;
        for &(line, other_indent, other) in lines[..].iter().skip(i + 1) {
            if other_indent <= event_indent {
                break;
            }
            match other.split_once(':') {
                Some(("ScheduleExpression", value)) => expression = Some(scalar(value, line)),
                Some(("Input", value)) => input = Some(scalar(value, line)),
                _ => {}
            }
        }
        let expression = expression
            .unwrap_or_else(|| panic!("template.yaml: {event} has no ScheduleExpression"));
        let input = input.unwrap_or_else(|| panic!("template.yaml: {event} has no Input"));
        let input: serde_json::Value = serde_json::from_str(&input)
            .unwrap_or_else(|e| panic!("template.yaml: {event}'s Input is not JSON: {e}"));
        let job = input["job"]
            .as_str()
            .unwrap_or_else(|| panic!("template.yaml: {event}'s Input has no \"job\""))
            .to_owned();
        entries.push(ScheduleEntry {
            event,
            expression,
            job,
        });
    }
    entries
}

fn template() -> String {
    let path = format!("{}/../../template.yaml", env!("CARGO_MANIFEST_DIR"));
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

#[test]
fn every_job_has_exactly_one_schedule_in_the_template_with_its_own_interval() {
    let entries = schedule_entries(&template());
    let mut by_job: BTreeMap<&str, Vec<&ScheduleEntry>> = BTreeMap::new();
    for entry in &entries {
        by_job.entry(entry.job.as_str()).or_default().push(entry);
    }
    for job in ScheduledJob::ALL {
        let found = by_job.remove(job.name()).unwrap_or_default();
        assert_eq!(
            found.len(),
            1,
            "{} must have exactly one schedule in template.yaml, found {found:?}",
            job.name()
        );
        let entry = found[0];
        assert_eq!(
            Schedule::parse_expression(&entry.expression),
            Some(job.schedule()),
            "template.yaml's {} says {:?}; {}'s SCHEDULE is {}",
            entry.event,
            entry.expression,
            job.name(),
            job.schedule()
        );
    }
    assert!(
        by_job.is_empty(),
        "template.yaml schedules jobs the function does not know: {by_job:?}"
    );
}

#[test]
fn the_reader_understands_the_shapes_the_template_uses() {
    let text = "
Resources:
  Fn:
    Properties:
      Policies:
        - SQSSendMessagePolicy:
            QueueName: !GetAtt Q.QueueName
      Events:
        # a comment
        Relay:
          Type: ScheduleV2
          Properties:
            ScheduleExpression: rate(1 minute)
            Input: '{\"job\": \"outbox_relay\"}'
        Nightly:
          Type: ScheduleV2
          Properties:
            ScheduleExpression: \"cron(30 3 * * ? *)\"
            Input: '{\"job\": \"cold_leads\"}'
  Other:
    Type: AWS::SQS::Queue
";
    let entries = schedule_entries(text);
    let seen: Vec<_> = entries
        .iter()
        .map(|e| (e.event.as_str(), e.expression.as_str(), e.job.as_str()))
        .collect();
    assert_eq!(
        seen,
        [
            ("Relay", "rate(1 minute)", "outbox_relay"),
            ("Nightly", "cron(30 3 * * ? *)", "cold_leads"),
        ]
    );
}

#[test]
#[should_panic(expected = "CloudFormation tag")]
fn a_schedule_given_by_a_tag_is_refused_rather_than_guessed() {
    schedule_entries(
        "      Events:\n        Relay:\n          Type: ScheduleV2\n          Properties:\n            ScheduleExpression: !Ref Rate\n            Input: '{\"job\": \"outbox_relay\"}'\n",
    );
}
