//! site-rebuild: the consumer of the sites queue.
//!
//! A batch of `site_rebuild` jobs is one read of every input (`store::sites::load_inputs`, one
//! snapshot), a build per agent, and one write of every result (`store::sites::publish`).
//! Building outside any transaction is safe because the write checks the config's
//! `site_revision`: if an edit landed during the build, the flag stays set and a follow-up job
//! exists.
//!
//! The build is the template writer's document (`domain::site`), or, when `SITE_WRITER_MODEL`
//! is set, the AI writer's copy over the same facts (`platform::site_writer`), falling back to
//! the template on any failure. The batch's AI calls run concurrently and are logged in one
//! `ai_usage_logs` insert.
//!
//! Duplicated and concurrent jobs are harmless: a job whose input is already published builds
//! nothing, an unchanged document writes no version, and versions are numbered under the config
//! row's lock. An agent that no longer exists, or has no config, is acknowledged with a log line
//! (retrying cannot help); a database failure fails the batch's records so SQS retries them and,
//! past the redrive count, parks them in the DLQ.

use domain::ids::{AgentId, WorkspaceId};
use domain::jobs::Job;
use domain::site::{BuiltSite, Generator, SiteInput};
use platform::jobs::{ConsumeFuture, Consumer, JobFailed};
use platform::site_writer::AiWriter;
use std::collections::HashMap;
use std::sync::Arc;
use store::Db;
use store::sites::{
    AiUsage, Build, Loaded, PublishOutcome, Published, load_inputs, log_ai_usage, publish,
};

/// The consumer; built once per cold start.
#[derive(Debug, Clone)]
pub struct SiteRebuild {
    pub db: Db,
    /// The AI writer, when a model is configured; `None` = template only.
    pub writer: Option<Arc<AiWriter>>,
}

impl SiteRebuild {
    /// The template writer only.
    pub fn template_only(db: Db) -> Self {
        Self { db, writer: None }
    }

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
        targets: &[(WorkspaceId, AgentId)],
    ) -> Result<HashMap<AgentId, Outcome>, store::StoreError> {
        let mut outcomes = HashMap::new();
        if targets.is_empty() {
            return Ok(outcomes);
        }
        let workspace_of: HashMap<AgentId, WorkspaceId> =
            targets.iter().map(|(w, a)| (*a, *w)).collect();
        let mut ready = Vec::new();
        {
            let client = self.db.client().await?;
            for (agent_id, loaded) in load_inputs(&**client, targets).await? {
                match loaded {
                    Loaded::Ready { input, revision } => ready.push((agent_id, revision, input)),
                    Loaded::NoConfig => {
                        outcomes.insert(agent_id, Outcome::NoConfig);
                    }
                    Loaded::UpToDate => {
                        outcomes.insert(agent_id, Outcome::UpToDate);
                    }
                }
            }
        }
        // No connection is held while a model writes: that can take seconds per agent.
        let (builds, usage) = self.build_all(ready, &workspace_of).await;
        let client = self.db.client().await?;
        log_ai_usage(&**client, &usage).await?;
        for published in publish(&**client, &builds).await? {
            outcomes.insert(published.agent_id, Outcome::Published(published));
        }
        Ok(outcomes)
    }

    /// Builds every ready site: template copy, or the AI writer's (concurrently per agent).
    async fn build_all(
        &self,
        ready: Vec<(AgentId, i64, Box<SiteInput>)>,
        workspace_of: &HashMap<AgentId, WorkspaceId>,
    ) -> (Vec<Build>, Vec<AiUsage>) {
        let Some(writer) = &self.writer else {
            let builds = ready
                .into_iter()
                .map(|(agent_id, revision, input)| Build {
                    agent_id,
                    revision,
                    site: BuiltSite::from_template(&input),
                })
                .collect();
            return (builds, Vec::new());
        };
        let mut tasks = tokio::task::JoinSet::new();
        for (agent_id, revision, input) in ready {
            let writer = Arc::clone(writer);
            tasks.spawn(async move {
                let written = writer.write(&input).await;
                let site = match written.copy {
                    Some(copy) => {
                        BuiltSite::with_copy(&input, copy, Generator::Ai(writer.model().to_owned()))
                    }
                    None => BuiltSite::from_template(&input),
                };
                (
                    Build {
                        agent_id,
                        revision,
                        site,
                    },
                    written.attempts,
                )
            });
        }
        let mut builds = Vec::new();
        let mut usage = Vec::new();
        while let Some(joined) = tasks.join_next().await {
            // A panicking build loses only that agent's site this time; its job is acknowledged
            // and the flag stays set, so the next edit or the start-up sweep rebuilds it.
            let Ok((build, attempts)) = joined else {
                tracing::error!("a site build panicked");
                continue;
            };
            let workspace_id = workspace_of.get(&build.agent_id).copied();
            usage.extend(attempts.into_iter().filter_map(|a| {
                Some(AiUsage {
                    workspace_id: workspace_id?,
                    agent_id: build.agent_id,
                    model: a.model,
                    input_tokens: a.input_tokens,
                    output_tokens: a.output_tokens,
                    latency_ms: a.latency_ms,
                    error: a.error.map(|e| e.as_str()),
                })
            }));
            builds.push(build);
        }
        // Publish in a fixed order whatever order the builds finished in.
        builds.sort_by_key(|b| b.agent_id);
        (builds, usage)
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
