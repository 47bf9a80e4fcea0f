//! Publishing jobs and consuming them.
//!
//! - [`JobSink`] is where published jobs go: SQS (Lambda, or the local stack with
//!   `SQS_ENDPOINT_URL`), an in-process channel (the local stack's default), or nowhere
//!   (`Disabled`: a function that produces no jobs).
//! - [`Publisher`] publishes a producer's outbox rows right after its commit and runs the relay
//!   that re-publishes whatever that missed. A publish failure never fails the request that
//!   already committed: the row stays for the relay.
//! - [`run_batch`] is the SQS consumer runner: each record is decoded on its own, jobs about the
//!   same subject are processed once per batch, and exactly the records that failed are reported
//!   back (`ReportBatchItemFailures`), so the queue retries only those and its redrive policy
//!   parks poison messages in the dead-letter queue.

use crate::config::{self, ConfigError};
use aws_lambda_events::event::sqs::{BatchItemFailure, SqsBatchResponse, SqsEvent};
use domain::jobs::{Job, Queue, Subject};
use std::collections::{BTreeMap, HashMap};
use std::future::Future;
use std::time::Duration;
use store::outbox::{self, OutboxMessage};
use store::{Db, StoreError};
use tokio::sync::mpsc;

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
    pub async fn from_env() -> Result<Self, ConfigError> {
        let mut urls = HashMap::new();
        urls.insert(Queue::Scoring, config::required("SCORING_QUEUE_URL")?);
        urls.insert(Queue::Sites, config::required("SITES_QUEUE_URL")?);
        Ok(Self::new(
            sqs_client(config::optional("SQS_ENDPOINT_URL")).await,
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
    ) -> Vec<(i64, Result<(), String>)> {
        let Some(url) = self.urls.get(&queue) else {
            return messages
                .iter()
                .map(|m| (m.id, Err(format!("no queue URL configured for {queue}"))))
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
    ) -> Vec<(i64, Result<(), String>)> {
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
        let output = match request.send().await {
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
                    Some(message) => Err(message.clone()),
                    None => Ok(()),
                };
                (m.id, outcome)
            })
            .collect()
    }
}

fn fail_all(chunk: &[OutboxMessage], message: &str) -> Vec<(i64, Result<(), String>)> {
    chunk
        .iter()
        .map(|m| (m.id, Err(message.to_owned())))
        .collect()
}

/// An SQS client; `endpoint` points it at an SQS-compatible server (moto, ElasticMQ) locally.
pub async fn sqs_client(endpoint: Option<String>) -> aws_sdk_sqs::Client {
    let shared = aws_config::defaults(aws_config::BehaviorVersion::latest())
        .load()
        .await;
    let mut builder = aws_sdk_sqs::config::Builder::from(&shared);
    if let Some(endpoint) = endpoint {
        builder = builder.endpoint_url(endpoint);
    }
    aws_sdk_sqs::Client::from_conf(builder.build())
}

impl JobSink {
    async fn send(&self, messages: &[OutboxMessage]) -> Vec<(i64, Result<(), String>)> {
        match self {
            Self::Disabled => messages
                .iter()
                .map(|m| (m.id, Err("job publishing is disabled".to_owned())))
                .collect(),
            Self::InProcess(sender) => messages
                .iter()
                .map(|m| {
                    let delivery = InProcessDelivery {
                        queue: m.queue,
                        message_id: format!("o{}", m.id),
                        body: m.payload.to_string(),
                    };
                    let outcome = sender
                        .send(delivery)
                        .map_err(|_| "the in-process dispatcher has stopped".to_owned());
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

    async fn publish(&self, messages: &[OutboxMessage]) -> Result<(usize, usize), StoreError> {
        let outcomes = self.sink.send(messages).await;
        let mut published = Vec::new();
        let mut failed = Vec::new();
        for (id, outcome) in outcomes {
            match outcome {
                Ok(()) => published.push(id),
                Err(error) => {
                    tracing::warn!(outbox_id = id, %error, "job publish failed; left for the relay");
                    failed.push((id, error));
                }
            }
        }
        let client = self.db.client().await?;
        outbox::mark_published(&**client, &published).await?;
        outbox::mark_failed(&**client, &failed).await?;
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

/// One record of a batch, decoded.
#[derive(Debug, Clone, PartialEq)]
pub struct Delivery {
    pub message_id: String,
    pub job: Job,
}

/// Why a job failed; the record is reported to the queue for a retry.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct JobFailed(pub String);

/// Runs one SQS batch through `consume` and reports the records that failed.
///
/// `consume` receives each distinct job once (jobs about the same subject are folded: the first
/// is kept) and returns one outcome per job, in the same order. Records whose body does not
/// decode fail on their own and are logged with their message id (never their body).
pub async fn run_batch<F, Fut>(event: SqsEvent, consume: F) -> SqsBatchResponse
where
    F: FnOnce(Vec<Job>) -> Fut,
    Fut: Future<Output = Vec<Result<(), JobFailed>>>,
{
    let records = event.records.into_iter().map(|record| {
        let message_id = record.message_id.unwrap_or_default();
        let decoded = record
            .body
            .as_deref()
            .ok_or_else(|| "the record has no body".to_owned())
            .and_then(|body| Job::from_body(body).map_err(|e| e.to_string()));
        (message_id, decoded)
    });
    let failed = run_decoded(records, consume).await;
    let mut response = SqsBatchResponse::default();
    response.batch_item_failures = failed
        .into_iter()
        .map(|id| {
            let mut failure = BatchItemFailure::default();
            failure.item_identifier = id;
            failure
        })
        .collect();
    response
}

/// The runner's core, shared by Lambda's event and the local stack's in-process deliveries:
/// returns the ids of the messages that failed.
pub async fn run_decoded<I, F, Fut>(records: I, consume: F) -> Vec<String>
where
    I: IntoIterator<Item = (String, Result<Job, String>)>,
    F: FnOnce(Vec<Job>) -> Fut,
    Fut: Future<Output = Vec<Result<(), JobFailed>>>,
{
    let mut failed = Vec::new();
    let mut jobs: Vec<Job> = Vec::new();
    let mut message_ids: Vec<Vec<String>> = Vec::new();
    let mut index_of: HashMap<Subject, usize> = HashMap::new();
    for (message_id, decoded) in records {
        match decoded {
            Ok(job) => {
                let slot = *index_of.entry(job.subject()).or_insert_with(|| {
                    jobs.push(job.clone());
                    message_ids.push(Vec::new());
                    jobs.len() - 1
                });
                message_ids[slot].push(message_id);
            }
            Err(error) => {
                tracing::error!(message_id = %message_id, %error, "undecodable job; reported as failed");
                failed.push(message_id);
            }
        }
    }
    if jobs.is_empty() {
        return failed;
    }
    let count = jobs.len();
    let kinds: Vec<&'static str> = jobs.iter().map(Job::kind).collect();
    let outcomes = consume(jobs).await;
    for (slot, ids) in message_ids.into_iter().enumerate() {
        match outcomes.get(slot) {
            Some(Ok(())) => {}
            Some(Err(JobFailed(error))) => {
                tracing::warn!(kind = kinds[slot], messages = ?ids, %error, "job failed; will be retried");
                failed.extend(ids);
            }
            None => {
                tracing::error!(
                    expected = count,
                    got = outcomes.len(),
                    "consumer returned too few outcomes"
                );
                failed.extend(ids);
            }
        }
    }
    failed
}

/// Something that processes jobs: score-lead's and site-rebuild's use cases implement it, and the
/// runner, the local dispatcher and the local SQS poller call it.
pub trait Consumer: Send + Sync {
    /// Processes distinct jobs; returns one outcome per job, in order.
    fn consume(&self, jobs: Vec<Job>) -> ConsumeFuture<'_>;
}

/// The future a [`Consumer`] returns.
pub type ConsumeFuture<'a> =
    std::pin::Pin<Box<dyn Future<Output = Vec<Result<(), JobFailed>>> + Send + 'a>>;

/// A [`Consumer`] made from a closure (tests, small adapters).
#[derive(Debug, Clone)]
pub struct FnConsumer<F>(pub F);

impl<F, Fut> Consumer for FnConsumer<F>
where
    F: Fn(Vec<Job>) -> Fut + Send + Sync,
    Fut: Future<Output = Vec<Result<(), JobFailed>>> + Send + 'static,
{
    fn consume(&self, jobs: Vec<Job>) -> ConsumeFuture<'_> {
        Box::pin((self.0)(jobs))
    }
}

/// A queue's URL and its dead-letter queue's URL.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QueueUrls {
    pub url: String,
    pub dead_letter_url: String,
}

/// Creates (if missing) each queue with its dead-letter queue and redrive policy, as
/// template.yaml does in AWS: the local stack's SQS mode and the tests use it.
pub async fn ensure_queues(
    client: &aws_sdk_sqs::Client,
    name_prefix: &str,
    max_receive_count: u32,
    visibility_timeout_secs: u32,
) -> Result<HashMap<Queue, QueueUrls>, String> {
    use aws_sdk_sqs::types::QueueAttributeName;
    let mut urls = HashMap::new();
    for queue in Queue::ALL {
        let dead_letter_url = client
            .create_queue()
            .queue_name(format!("{name_prefix}-{queue}-dlq"))
            .send()
            .await
            .map_err(|e| crate::problem::error_chain(&e))?
            .queue_url
            .ok_or("CreateQueue returned no URL")?;
        let arn = client
            .get_queue_attributes()
            .queue_url(&dead_letter_url)
            .attribute_names(QueueAttributeName::QueueArn)
            .send()
            .await
            .map_err(|e| crate::problem::error_chain(&e))?
            .attributes
            .and_then(|mut a| a.remove(&QueueAttributeName::QueueArn))
            .ok_or("GetQueueAttributes returned no QueueArn")?;
        let redrive = serde_json::json!({
            "deadLetterTargetArn": arn,
            "maxReceiveCount": max_receive_count.to_string(),
        });
        let url = client
            .create_queue()
            .queue_name(format!("{name_prefix}-{queue}"))
            .attributes(QueueAttributeName::RedrivePolicy, redrive.to_string())
            .attributes(
                QueueAttributeName::VisibilityTimeout,
                visibility_timeout_secs.to_string(),
            )
            .send()
            .await
            .map_err(|e| crate::problem::error_chain(&e))?
            .queue_url
            .ok_or("CreateQueue returned no URL")?;
        urls.insert(
            queue,
            QueueUrls {
                url,
                dead_letter_url,
            },
        );
    }
    Ok(urls)
}

/// One poll of a queue, as Lambda's event source mapping does it: receive up to ten messages,
/// run them through `consumer`, delete the ones that succeeded. Failed ones become visible again
/// after the visibility timeout and, past the redrive count, move to the dead-letter queue.
/// Returns how many messages were received.
pub async fn poll_once(
    client: &aws_sdk_sqs::Client,
    queue_url: &str,
    wait_seconds: i32,
    consumer: &dyn Consumer,
) -> Result<usize, String> {
    let received = client
        .receive_message()
        .queue_url(queue_url)
        .max_number_of_messages(SQS_BATCH_LIMIT as i32)
        .wait_time_seconds(wait_seconds)
        .send()
        .await
        .map_err(|e| crate::problem::error_chain(&e))?;
    let messages = received.messages.unwrap_or_default();
    if messages.is_empty() {
        return Ok(0);
    }
    let records: Vec<(String, Result<Job, String>)> = messages
        .iter()
        .map(|m| {
            let id = m.message_id.clone().unwrap_or_default();
            let job = m
                .body
                .as_deref()
                .ok_or_else(|| "the message has no body".to_owned())
                .and_then(|body| Job::from_body(body).map_err(|e| e.to_string()));
            (id, job)
        })
        .collect();
    let failed = run_decoded(records, |jobs| consumer.consume(jobs)).await;
    let done: Vec<_> = messages
        .iter()
        .filter(|m| !failed.iter().any(|f| Some(f) == m.message_id.as_ref()))
        .filter_map(|m| m.receipt_handle.clone())
        .collect();
    if !done.is_empty() {
        let mut request = client.delete_message_batch().queue_url(queue_url);
        for (index, receipt_handle) in done.iter().enumerate() {
            let entry = aws_sdk_sqs::types::DeleteMessageBatchRequestEntry::builder()
                .id(index.to_string())
                .receipt_handle(receipt_handle)
                .build()
                .map_err(|e| e.to_string())?;
            request = request.entries(entry);
        }
        request
            .send()
            .await
            .map_err(|e| crate::problem::error_chain(&e))?;
    }
    Ok(messages.len())
}
