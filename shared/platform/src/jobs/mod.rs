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
//!
//! Modules: [`publish`] (sinks, the publisher, the relay), [`consume`] (the batch runner and
//! the consumer trait), and, with the `sqs-sdk` feature (the local stack and the tests), which
//! uses the AWS SDK: `local_sqs` (queue creation and polling) and `redrive` (moving a
//! dead-letter queue back to its source).
//! Everything is re-exported here, so callers name `platform::jobs::X`.

pub mod consume;
#[cfg(feature = "sqs-sdk")]
pub mod local_sqs;
pub mod publish;
#[cfg(feature = "sqs-sdk")]
pub mod redrive;

pub use consume::{
    ConsumeFuture, Consumer, Delivery, FnConsumer, JobFailed, UndecodableJob, run_batch,
    run_decoded,
};
#[cfg(feature = "sqs-sdk")]
pub use local_sqs::{LocalSqsError, QueueUrls, ensure_queues, poll_once};
pub use publish::{
    InProcessDelivery, JobSink, PublishError, Publisher, RelayReport, RelaySettings,
    SQS_BATCH_LIMIT, SqsSink, sqs_client,
};
#[cfg(feature = "sqs-sdk")]
pub use redrive::{RedriveError, RedriveReport, dead_letter_queue_url, redrive};
