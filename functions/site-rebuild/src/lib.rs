//! site-rebuild: the consumer of the sites queue.
//!
//! A batch of `site_rebuild` jobs is one read of every input (`store::sites::load_inputs`, one
//! snapshot), a pure build per agent (`domain::site`: document, SHA-256, HTML) and one write of
//! every result (`store::sites::publish`). Building outside any transaction is safe because the
//! write checks the config's `site_revision`: if an edit landed during the build, the flag stays
//! set and a follow-up job exists.
//!
//! Duplicated and concurrent jobs are harmless: an unchanged document writes no version, and
//! versions are numbered under the config row's lock. An agent that no longer exists, or has no
//! config, is acknowledged with a log line (retrying cannot help); a database failure fails the
//! batch's records so SQS retries them and, past the redrive count, parks them in the DLQ.

use domain::ids::AgentId;
use domain::jobs::Job;
use domain::site::BuiltSite;
use platform::jobs::{ConsumeFuture, Consumer, JobFailed};
use std::collections::HashMap;
use store::Db;
use store::sites::{Build, Loaded, PublishOutcome, Published, load_inputs, publish};

/// The consumer; built once per cold start.
#[derive(Debug, Clone)]
pub struct SiteRebuild {
    pub db: Db,
}

impl SiteRebuild {
    /// Rebuilds the batch's sites; one outcome per job, in order.
    pub async fn rebuild(&self, jobs: Vec<Job>) -> Vec<Result<(), JobFailed>> {
        let targets: Vec<_> = jobs
            .iter()
            .filter_map(|job| match job {
                Job::SiteRebuild {
                    workspace_id,
                    agent_id,
                    ..
                } => Some((*workspace_id, *agent_id)),
                Job::ScoreLead { .. } => None,
            })
            .collect();
        let published = match self.build_and_publish(&targets).await {
            Ok(published) => published,
            Err(err) => {
                let error = platform::problem::error_chain(&err);
                tracing::error!(%error, jobs = jobs.len(), "site rebuild batch failed");
                return jobs.iter().map(|_| Err(JobFailed(error.clone()))).collect();
            }
        };
        jobs.iter()
            .map(|job| match job {
                Job::SiteRebuild { agent_id, .. } => {
                    log_outcome(*agent_id, published.get(agent_id));
                    Ok(())
                }
                Job::ScoreLead { .. } => {
                    tracing::error!(kind = job.kind(), "job sent to the sites queue by mistake");
                    Err(JobFailed(format!(
                        "{} jobs do not belong on the sites queue",
                        job.kind()
                    )))
                }
            })
            .collect()
    }

    async fn build_and_publish(
        &self,
        targets: &[(domain::ids::WorkspaceId, AgentId)],
    ) -> Result<HashMap<AgentId, Outcome>, store::StoreError> {
        let mut outcomes = HashMap::new();
        if targets.is_empty() {
            return Ok(outcomes);
        }
        let client = self.db.client().await?;
        let mut builds = Vec::new();
        for (agent_id, loaded) in load_inputs(&**client, targets).await? {
            match loaded {
                Loaded::Ready { input, revision } => builds.push(Build {
                    agent_id,
                    revision,
                    site: BuiltSite::from_template(&input),
                }),
                Loaded::NoConfig => {
                    outcomes.insert(agent_id, Outcome::NoConfig);
                }
                Loaded::UpToDate => {
                    outcomes.insert(agent_id, Outcome::UpToDate);
                }
            }
        }
        for published in publish(&**client, &builds).await? {
            outcomes.insert(published.agent_id, Outcome::Published(published));
        }
        Ok(outcomes)
    }
}

/// What happened to one agent of the batch (absent = no such agent in the job's workspace).
#[derive(Debug, Clone, Copy)]
enum Outcome {
    NoConfig,
    UpToDate,
    Published(Published),
}

fn log_outcome(agent_id: AgentId, outcome: Option<&Outcome>) {
    match outcome {
        None => tracing::info!(agent_id = %agent_id, "agent no longer exists; job acknowledged"),
        Some(Outcome::NoConfig) => {
            tracing::info!(agent_id = %agent_id, "agent has no site config; job acknowledged");
        }
        Some(Outcome::UpToDate) => {
            tracing::info!(agent_id = %agent_id, "site already built from this input; job acknowledged");
        }
        Some(Outcome::Published(p)) => match p.outcome {
            PublishOutcome::Missing => {
                tracing::info!(agent_id = %agent_id, "site config deleted during the build; job acknowledged");
            }
            outcome => tracing::info!(
                agent_id = %agent_id,
                outcome = ?outcome,
                live_version = p.live_version,
                rebuild_pending = p.rebuild_pending,
                "site rebuilt"
            ),
        },
    }
}

impl Consumer for SiteRebuild {
    fn consume(&self, jobs: Vec<Job>) -> ConsumeFuture<'_> {
        Box::pin(self.rebuild(jobs))
    }
}
