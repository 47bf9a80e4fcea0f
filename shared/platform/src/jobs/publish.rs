//! Publishing: where jobs go ([`JobSink`]), publishing a producer's committed outbox rows
//! ([`Publisher::publish_committed`]) and the relay that re-publishes what that missed
//! ([`Publisher::relay`]). A publish failure never fails the request that already committed: the
//! row stays for the relay.

use crate::config::{self, ConfigError};
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
pub const SQS_BATCH_LIMIT: usize = 10;

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
    client: aws_sdk_sqs::Client,
    urls: HashMap<Queue, String>,
}

impl SqsSink {
    pub fn new(client: aws_sdk_sqs::Client, urls: HashMap<Queue, String>) -> Self {
        Self { client, urls }
    }

    /// From `SCORING_QUEUE_URL`, `SITES_QUEUE_URL` and, locally, `SQS_ENDPOINT_URL`.
    pub fn from_env() -> Result<Self, ConfigError> {
        let mut urls = HashMap::new();
        urls.insert(Queue::Scoring, config::required("SCORING_QUEUE_URL")?);
        urls.insert(Queue::Sites, config::required("SITES_QUEUE_URL")?);
        Ok(Self::new(
            sqs_client(config::optional("SQS_ENDPOINT_URL")),
            urls,
        ))
    }

    pub fn client(&self) -> &aws_sdk_sqs::Client {
        &self.client
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
        let mut request = self.client.send_message_batch().queue_url(url);
        for message in chunk {
            let entry = aws_sdk_sqs::types::SendMessageBatchRequestEntry::builder()
                .id(format!("o{}", message.id))
                .message_body(message.payload.to_string())
                .build();
            match entry {
                Ok(entry) => request = request.entries(entry),
                Err(err) => return fail_all(chunk, &err.to_string()),
            }
        }
        let started = Instant::now();
        let sent = request.send().await;
        tracing::debug!(
            entries = chunk.len(),
            elapsed_ms = started.elapsed().as_secs_f64() * 1000.0,
            "sqs send_message_batch"
        );
        let output = match sent {
            Ok(output) => output,
            Err(err) => {
                let message = crate::problem::error_chain(&err);
                return fail_all(chunk, &message);
            }
        };
        let failed: HashMap<String, String> = output
            .failed()
            .iter()
            .map(|f| {
                let message = f.message().unwrap_or(f.code()).to_owned();
                (f.id().to_owned(), message)
            })
            .collect();
        chunk
            .iter()
            .map(|m| {
                let outcome = match failed.get(&format!("o{}", m.id)) {
                    Some(message) => Err(PublishError(message.clone())),
                    None => Ok(()),
                };
                (m.id, outcome)
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

/// An SQS client built without I/O: region and credentials from the variables Lambda sets
/// ([`lambda_environment`]), so nothing probes profile files, IMDS or the container endpoint,
/// at init or on the first call. `endpoint` points it at an SQS-compatible server (moto,
/// ElasticMQ) locally.
pub fn sqs_client(endpoint: Option<String>) -> aws_sdk_sqs::Client {
    let started = Instant::now();
    let environment = lambda_environment();
    let mut builder = aws_sdk_sqs::Config::builder()
        .behavior_version(aws_sdk_sqs::config::BehaviorVersion::latest())
        .http_client(https_client())
        .region(environment.region);
    if let Some(credentials) = environment.credentials {
        builder = builder.credentials_provider(credentials);
    }
    if let Some(endpoint) = endpoint {
        builder = builder.endpoint_url(endpoint);
    }
    let client = aws_sdk_sqs::Client::from_conf(builder.build());
    tracing::debug!(
        elapsed_ms = started.elapsed().as_secs_f64() * 1000.0,
        "sqs client built"
    );
    client
}

/// The HTTPS client of the SDK clients built here: the SDK's own (hyper, rustls, the system's
/// root certificates) on ring, the crypto provider the database's TLS uses, instead of the
/// SDK's default aws-lc-rs, so a function links one crypto library.
pub(crate) fn https_client() -> aws_sdk_sqs::config::SharedHttpClient {
    use aws_smithy_http_client::tls;
    aws_smithy_http_client::Builder::new()
        .tls_provider(tls::Provider::Rustls(
            tls::rustls_provider::CryptoMode::Ring,
        ))
        .build_https()
}

/// What an AWS SDK client needs from the environment.
#[derive(Debug, Clone)]
pub(crate) struct LambdaEnvironment {
    pub region: Option<aws_sdk_sqs::config::Region>,
    pub credentials: Option<aws_sdk_sqs::config::Credentials>,
}

/// Region and credentials as Lambda hands them to a function: `AWS_REGION` (or
/// `AWS_DEFAULT_REGION`), and the execution role's temporary credentials in
/// `AWS_ACCESS_KEY_ID`, `AWS_SECRET_ACCESS_KEY` and `AWS_SESSION_TOKEN`, which stay valid for
/// the life of the execution environment. This is what `aws-config`'s environment provider
/// reads first; the rest of its chain (profile files, web identity, ECS, IMDS, and the STS
/// client it links) is never needed on Lambda. Outside Lambda, export the same variables (for
/// example with `aws configure export-credentials --format env`). A missing variable makes
/// the SDK call fail, which the relay retries, never the cold start.
pub(crate) fn lambda_environment() -> LambdaEnvironment {
    let region = config::optional("AWS_REGION")
        .or_else(|| config::optional("AWS_DEFAULT_REGION"))
        .map(aws_sdk_sqs::config::Region::new);
    let credentials = match (
        config::optional("AWS_ACCESS_KEY_ID"),
        config::optional("AWS_SECRET_ACCESS_KEY"),
    ) {
        (Some(key), Some(secret)) => Some(aws_sdk_sqs::config::Credentials::new(
            key,
            secret,
            config::optional("AWS_SESSION_TOKEN"),
            None,
            "environment",
        )),
        _ => None,
    };
    LambdaEnvironment {
        region,
        credentials,
    }
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
                    // Boxed: the SDK's future is deep enough to overflow rustc's layout
                    // recursion limit in every caller's async state machine.
                    outcomes.extend(Box::pin(sqs.send(queue, &batch)).await);
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
