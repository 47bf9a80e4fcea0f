//! score-lead: the consumer of the scoring queue.
//!
//! Each batch of `score_lead` jobs is one call to `store::scoring::score_leads` (a constant number
//! of statements whatever the batch size). A job for a lead that no longer exists is acknowledged
//! and logged, not retried; a database failure fails the batch's records so SQS retries them and,
//! past the redrive count, parks them in the dead-letter queue.

use domain::jobs::Job;
use platform::clock::Clock;
use platform::jobs::{ConsumeFuture, Consumer, JobFailed};
use store::Db;
use store::scoring::{LeadOutcome, score_leads};

/// The consumer; built once per cold start.
#[derive(Debug, Clone)]
pub struct ScoreLead {
    pub db: Db,
    pub clock: Clock,
}

impl ScoreLead {
    /// Scores the batch; one outcome per job, in order.
    pub async fn score(&self, jobs: Vec<Job>) -> Vec<Result<(), JobFailed>> {
        let targets: Vec<_> = jobs
            .iter()
            .filter_map(|job| match job {
                Job::ScoreLead {
                    workspace_id,
                    lead_id,
                    ..
                } => Some((*workspace_id, *lead_id)),
                Job::SiteRebuild { .. } => None,
            })
            .collect();
        let report = match score_leads(&self.db, &targets, self.clock.now()).await {
            Ok(report) => report,
            Err(err) => {
                let error = platform::problem::error_chain(&err);
                tracing::error!(%error, jobs = jobs.len(), "scoring batch failed");
                return jobs.iter().map(|_| Err(JobFailed(error.clone()))).collect();
            }
        };
        tracing::info!(
            leads = targets.len(),
            stage_changes = report.stage_changes,
            "scored batch"
        );
        let mut outcomes = report.outcomes.into_iter();
        jobs.iter()
            .map(|job| match job {
                Job::ScoreLead { lead_id, .. } => {
                    if let Some((_, LeadOutcome::Missing)) = outcomes.next() {
                        tracing::info!(lead_id = %lead_id, "lead no longer exists; job acknowledged");
                    }
                    Ok(())
                }
                Job::SiteRebuild { .. } => {
                    tracing::error!(kind = job.kind(), "job sent to the scoring queue by mistake");
                    Err(JobFailed(format!("{} jobs do not belong on the scoring queue", job.kind())))
                }
            })
            .collect()
    }
}

impl Consumer for ScoreLead {
    fn consume(&self, jobs: Vec<Job>) -> ConsumeFuture<'_> {
        Box::pin(self.score(jobs))
    }
}
