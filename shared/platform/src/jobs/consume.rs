//! Consuming: the SQS batch runner ([`run_batch`]) and the [`Consumer`] trait every consumer's
//! use case implements. Each record is decoded on its own, jobs about the same subject are
//! processed once per batch, and exactly the records that failed are reported back
//! (`ReportBatchItemFailures`), so the queue retries only those and its redrive policy parks
//! poison messages in the dead-letter queue.

use aws_lambda_events::event::sqs::{BatchItemFailure, SqsBatchResponse, SqsEvent};
use domain::jobs::{Job, JobDecodeError, Subject};
use std::collections::HashMap;
use std::future::Future;

/// Why a record carries no job this build can run.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum UndecodableJob {
    #[error("the record has no body")]
    NoBody,
    #[error(transparent)]
    Decode(#[from] JobDecodeError),
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
            .ok_or(UndecodableJob::NoBody)
            .and_then(|body| Job::from_body(body).map_err(UndecodableJob::from));
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
    I: IntoIterator<Item = (String, Result<Job, UndecodableJob>)>,
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
