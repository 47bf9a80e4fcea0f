//! Publishing: where jobs go ([`JobSink`]), publishing a producer's committed outbox rows
//! ([`Publisher::publish_committed`]) and the relay that re-publishes what that missed
//! ([`Publisher::relay`]). A publish failure never fails the request that already committed: the
//! row stays for the relay.

use crate::aws::sqs::{self, Entry, SqsClient};
use crate::aws::{AwsClient, AwsError};
use crate::config;
use domain::jobs::Queue;
use std::collections::{BTreeMap, HashMap};
use std::time::{Duration, Instant};
use store::outbox::{self, OutboxMessage};
use store::{Db, StoreError};
use tokio::sync::mpsc;

/// Why one job could not be published (SQS's per-entry reason, or the sink's); stored in
/// `outbox.last_error` and logged. It names queues and SQS codes, never a job body.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct PublishError(pub String);

/// SendMessageBatch takes at most ten entries.
pub const SQS_BATCH_LIMIT: usize = sqs::BATCH_LIMIT;

/// A job handed to an in-process consumer: the queue and the body, as SQS would carry them.
#[derive(Debug, Clone, PartialEq)]
pub struct InProcessDelivery {
    pub queue: Queue,
    pub message_id: String,
    pub body: String,
}

/// Where published jobs go.
#[derive(Debug, Clone)]
pub enum JobSink {
    Sqs(SqsSink),
    InProcess(mpsc::UnboundedSender<InProcessDelivery>),
    Disabled,
}

/// Amazon SQS (or any SQS-compatible endpoint) with one URL per queue.
#[derive(Debug, Clone)]
pub struct SqsSink {
    client: SqsClient,
    urls: HashMap<Queue, String>,
}

impl SqsSink {
    pub fn new(client: SqsClient, urls: HashMap<Queue, String>) -> Self {
        Self { client, urls }
    }

    /// From `SCORING_QUEUE_URL`, `SITES_QUEUE_URL` and, locally, `SQS_ENDPOINT_URL`.
    pub fn from_env() -> Result<Self, Box<dyn std::error::Error + Send + Sync>> {
        let mut urls = HashMap::new();
        urls.insert(Queue::Scoring, config::required("SCORING_QUEUE_URL")?);
        urls.insert(Queue::Sites, config::required("SITES_QUEUE_URL")?);
        Ok(Self::new(
            sqs_client(config::optional("SQS_ENDPOINT_URL"))?,
            urls,
        ))
    }

    /// Sends messages to one queue in batches of ten; returns each outbox id with its outcome.
    async fn send(
        &self,
        queue: Queue,
        messages: &[OutboxMessage],
    ) -> Vec<(i64, Result<(), PublishError>)> {
        let Some(url) = self.urls.get(&queue) else {
            return messages
                .iter()
                .map(|m| {
                    (
                        m.id,
                        Err(PublishError(format!("no queue URL configured for {queue}"))),
                    )
                })
                .collect();
        };
        let mut outcomes = Vec::with_capacity(messages.len());
        for chunk in messages.chunks(SQS_BATCH_LIMIT) {
            outcomes.extend(self.send_chunk(url, chunk).await);
        }
        outcomes
    }

    async fn send_chunk(
        &self,
        url: &str,
        chunk: &[OutboxMessage],
    ) -> Vec<(i64, Result<(), PublishError>)> {
        let entries: Vec<Entry> = chunk
            .iter()
            .map(|message| Entry {
                id: format!("o{}", message.id),
                body: message.payload.to_string(),
            })
            .collect();
        let started = Instant::now();
        let sent = self.client.send_message_batch(url, &entries).await;
        tracing::debug!(
            entries = chunk.len(),
            elapsed_ms = started.elapsed().as_secs_f64() * 1000.0,
            "sqs send_message_batch"
        );
        let failed: HashMap<String, String> = match sent {
            Ok(failed) => failed
                .into_iter()
                .map(|f| (f.id, f.message.unwrap_or(f.code)))
                .collect(),
            Err(err) => return fail_all(chunk, &crate::problem::error_chain(&err)),
        };
        chunk
            .iter()
            .zip(&entries)
            .map(|(message, entry)| {
                let outcome = match failed.get(&entry.id) {
                    Some(reason) => Err(PublishError(reason.clone())),
                    None => Ok(()),
                };
                (message.id, outcome)
            })
            .collect()
    }
}

fn fail_all(chunk: &[OutboxMessage], message: &str) -> Vec<(i64, Result<(), PublishError>)> {
    chunk
        .iter()
        .map(|m| (m.id, Err(PublishError(message.to_owned()))))
        .collect()
}

/// The functions' SQS client: region and credentials from the variables Lambda sets
/// ([`AwsClient::from_env`]), so nothing is probed at init or on the first call. `endpoint`
/// points it at an SQS-compatible server (moto, ElasticMQ) locally.
pub fn sqs_client(endpoint: Option<String>) -> Result<SqsClient, AwsError> {
    Ok(SqsClient::new(AwsClient::from_env()?, endpoint))
}

impl JobSink {
    async fn send(&self, messages: &[OutboxMessage]) -> Vec<(i64, Result<(), PublishError>)> {
        match self {
            Self::Disabled => messages
                .iter()
                .map(|m| {
                    (
                        m.id,
                        Err(PublishError("job publishing is disabled".to_owned())),
                    )
                })
                .collect(),
            Self::InProcess(sender) => messages
                .iter()
                .map(|m| {
                    let delivery = InProcessDelivery {
                        queue: m.queue,
                        message_id: format!("o{}", m.id),
                        body: m.payload.to_string(),
                    };
                    let outcome = sender.send(delivery).map_err(|_| {
                        PublishError("the in-process dispatcher has stopped".to_owned())
                    });
                    (m.id, outcome)
                })
                .collect(),
            Self::Sqs(sqs) => {
                let mut by_queue: BTreeMap<Queue, Vec<OutboxMessage>> = BTreeMap::new();
                for message in messages {
                    by_queue
                        .entry(message.queue)
                        .or_default()
                        .push(message.clone());
                }
                let mut outcomes = Vec::with_capacity(messages.len());
                for (queue, batch) in by_queue {
                    outcomes.extend(sqs.send(queue, &batch).await);
                }
                outcomes
            }
        }
    }
}

/// Tuning of one relay run.
#[derive(Debug, Clone, Copy)]
pub struct RelaySettings {
    /// Rows younger than this are left to their producer's own publish.
    pub grace: Duration,
    /// How long a claimed row is reserved for this relay.
    pub lease: Duration,
    /// Rows claimed per round trip.
    pub batch: i64,
    /// Rounds per run, so one invocation stays well inside its timeout.
    pub max_rounds: usize,
    /// Published rows older than this are deleted.
    pub retention: Duration,
}

impl Default for RelaySettings {
    fn default() -> Self {
        Self {
            grace: Duration::from_secs(30),
            lease: Duration::from_secs(60),
            batch: 100,
            max_rounds: 20,
            retention: Duration::from_secs(7 * 24 * 3600),
        }
    }
}

/// What a relay run did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize)]
pub struct RelayReport {
    pub claimed: usize,
    pub published: usize,
    pub failed: usize,
    pub pruned: u64,
}

/// Publishes outbox rows and records the outcome.
#[derive(Debug, Clone)]
pub struct Publisher {
    db: Db,
    sink: JobSink,
}

impl Publisher {
    pub fn new(db: Db, sink: JobSink) -> Self {
        Self { db, sink }
    }

    pub fn sink(&self) -> &JobSink {
        &self.sink
    }

    /// Publishes rows a producer just committed. Never fails: what could not be published or
    /// recorded stays in the outbox for the relay, and the reason is logged.
    pub async fn publish_committed(&self, messages: &[OutboxMessage]) {
        if messages.is_empty() || matches!(self.sink, JobSink::Disabled) {
            return;
        }
        if let Err(err) = self.publish(messages).await {
            tracing::warn!(error = %crate::problem::error_chain(&err), jobs = messages.len(),
                "could not record publish outcome; the relay will publish these jobs");
        }
    }

    /// Publishes, then records the outcome. Its span and the debug line `jobs published` time
    /// the two halves (the SQS call, the outbox update), as the cold-start bench reads them.
    #[tracing::instrument(
        name = "publish_jobs",
        level = "debug",
        skip_all,
        fields(jobs = messages.len())
    )]
    async fn publish(&self, messages: &[OutboxMessage]) -> Result<(usize, usize), StoreError> {
        let started = Instant::now();
        let outcomes = self.sink.send(messages).await;
        let sent = started.elapsed();
        let mut published = Vec::new();
        let mut failed = Vec::new();
        for (id, outcome) in outcomes {
            match outcome {
                Ok(()) => published.push(id),
                Err(error) => {
                    tracing::warn!(outbox_id = id, %error, "job publish failed; left for the relay");
                    failed.push((id, error.0));
                }
            }
        }
        let client = self.db.client().await?;
        outbox::mark_published(&**client, &published).await?;
        outbox::mark_failed(&**client, &failed).await?;
        tracing::debug!(
            published = published.len(),
            failed = failed.len(),
            send_ms = sent.as_secs_f64() * 1000.0,
            record_ms = (started.elapsed() - sent).as_secs_f64() * 1000.0,
            "jobs published"
        );
        Ok((published.len(), failed.len()))
    }

    /// One relay run: claims due rows batch by batch, publishes them and prunes old published
    /// rows.
    pub async fn relay(&self, settings: RelaySettings) -> Result<RelayReport, StoreError> {
        let mut report = RelayReport::default();
        for _ in 0..settings.max_rounds {
            let claimed = {
                let client = self.db.client().await?;
                outbox::claim_due(&**client, settings.batch, settings.grace, settings.lease).await?
            };
            if claimed.is_empty() {
                break;
            }
            report.claimed += claimed.len();
            let (published, failed) = self.publish(&claimed).await?;
            report.published += published;
            report.failed += failed;
            if claimed.len() < usize::try_from(settings.batch).unwrap_or(usize::MAX) {
                break;
            }
        }
        let client = self.db.client().await?;
        report.pruned = outbox::prune_published(&**client, settings.retention, 10_000).await?;
        Ok(report)
    }
}
