//! One module per scheduled job. Each says why the job exists and exports its `NAME` (the
//! schedule's `{"job": …}` input), its `SCHEDULE` (template.yaml and the local stack follow it),
//! its limits as named constants, and a `run` that takes "now" from an injected clock and returns
//! a serialisable summary of counts.

pub mod cold_leads;
pub mod journal_replay;
pub mod lead_followups;
pub mod outbox_relay;
pub mod overdue_tasks;
pub mod stale_scores;
pub mod usage_reset;
