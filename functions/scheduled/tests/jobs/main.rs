//! The scheduled jobs, as specifications: every rule of every job is its own test, run against
//! real PostgreSQL with the clock pinned. One module per job, plus the sample events, the
//! template's schedules and the scale test.

mod events;
mod lead_followups;
mod metrics;
mod overdue_tasks;
mod scale;
mod stale_scores;
mod support;
mod template;
mod usage_reset;
