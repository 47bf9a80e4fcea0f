//! Job dispatch in the local stack.
//!
//! By default jobs go from the outbox straight to the consumers in this process: the publisher's
//! in-process sink hands each published job to the dispatcher, which runs the same consumer code
//! Lambda runs, usually within milliseconds of the producer's commit. A failed job is retried
//! after a pause, like an SQS message whose visibility timeout ends, and given up after
//! [`MAX_RECEIVES`] attempts, like a redrive to a dead-letter queue.
//!
//! With `SQS_ENDPOINT_URL` set (moto, ElasticMQ, LocalStack), the stack creates its queues and
//! dead-letter queues there if they are missing, publishes through them and polls them into the
//! same consumers, as Lambda's event source mapping would.

use aws_sdk_sqs::config::{BehaviorVersion, Region};
use domain::jobs::{Job, Queue};
use platform::aws::sqs::SqsClient;
use platform::aws::{AwsClient, Credentials};
use platform::jobs::{
    Consumer, InProcessDelivery, JobSink, LocalSqsError, Publisher, QueueUrls, RelaySettings,
    SqsSink, UndecodableJob, ensure_queues, poll_once, run_decoded,
};
use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::mpsc;

/// Attempts before a job is given up (the template's `maxReceiveCount`).
pub const MAX_RECEIVES: u32 = 5;
/// Pause before a failed job is tried again.
const RETRY_AFTER: Duration = Duration::from_secs(2);
/// Prefix of the queue names the stack creates on an SQS-compatible server.
const QUEUE_PREFIX: &str = "lead-engine-local";

/// The consumer of each queue.
#[derive(Clone, Default)]
pub struct Consumers {
    by_queue: HashMap<Queue, Arc<dyn Consumer>>,
}

impl std::fmt::Debug for Consumers {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Consumers")
            .field("queues", &self.by_queue.keys().collect::<Vec<_>>())
            .finish()
    }
}

impl Consumers {
    pub fn new() -> Self {
        Self::default()
    }

    /// Registers the consumer of `queue`: one line per consumer function.
    pub fn with(mut self, queue: Queue, consumer: Arc<dyn Consumer>) -> Self {
        self.by_queue.insert(queue, consumer);
        self
    }

    pub fn get(&self, queue: Queue) -> Option<&Arc<dyn Consumer>> {
        self.by_queue.get(&queue)
    }
}

/// How often the local stack relays outbox rows that no producer publishes.
pub const TRIGGER_RELAY_EVERY: Duration = Duration::from_secs(1);

/// Relays trigger-written outbox rows (site rebuilds from dashboard and import edits) within
/// [`TRIGGER_RELAY_EVERY`]. No producer publishes those rows after commit; in AWS the minutely
/// `outbox_relay` job takes them (without its grace period, see `needs_relay`), locally a
/// developer should see an edit on the site within a couple of seconds. Rows their producer
/// publishes are still left alone for the grace period, as in AWS.
pub fn start_trigger_relay(publisher: Publisher) {
    tokio::spawn(async move {
        let mut ticker = tokio::time::interval(TRIGGER_RELAY_EVERY);
        ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            ticker.tick().await;
            match publisher.relay(RelaySettings::default()).await {
                Ok(report) if report.claimed > 0 => {
                    tracing::debug!(
                        claimed = report.claimed,
                        published = report.published,
                        "relayed outbox rows"
                    );
                }
                Ok(_) => {}
                Err(err) => {
                    tracing::warn!(error = %platform::problem::error_chain(&err), "local outbox relay failed");
                }
            }
        }
    });
}

/// Starts in-process dispatch and returns the sink producers publish to.
pub fn start_in_process(consumers: Consumers) -> JobSink {
    let (sender, receiver) = mpsc::unbounded_channel();
    tokio::spawn(dispatch_loop(receiver, sender.clone(), consumers));
    JobSink::InProcess(sender)
}

async fn dispatch_loop(
    mut receiver: mpsc::UnboundedReceiver<InProcessDelivery>,
    sender: mpsc::UnboundedSender<InProcessDelivery>,
    consumers: Consumers,
) {
    let mut receives: HashMap<String, u32> = HashMap::new();
    while let Some(first) = receiver.recv().await {
        // Everything already waiting joins the batch, as an SQS batch would.
        let mut batch = vec![first];
        while batch.len() < 10
            && let Ok(next) = receiver.try_recv()
        {
            batch.push(next);
        }
        let mut by_queue: HashMap<Queue, Vec<InProcessDelivery>> = HashMap::new();
        for delivery in batch {
            by_queue.entry(delivery.queue).or_default().push(delivery);
        }
        for (queue, deliveries) in by_queue {
            let Some(consumer) = consumers.get(queue) else {
                tracing::warn!(%queue, jobs = deliveries.len(), "no local consumer for this queue; jobs dropped");
                continue;
            };
            let records = deliveries.iter().map(|d| {
                (
                    d.message_id.clone(),
                    Job::from_body(&d.body).map_err(UndecodableJob::from),
                )
            });
            let failed = run_decoded(records, |jobs| consumer.consume(jobs)).await;
            for delivery in deliveries {
                let count = receives.entry(delivery.message_id.clone()).or_insert(0);
                *count += 1;
                if !failed.contains(&delivery.message_id) {
                    receives.remove(&delivery.message_id);
                } else if *count >= MAX_RECEIVES {
                    tracing::error!(message_id = %delivery.message_id, %queue, "job failed {MAX_RECEIVES} times; given up (dead-lettered)");
                    receives.remove(&delivery.message_id);
                } else {
                    let sender = sender.clone();
                    tokio::spawn(async move {
                        tokio::time::sleep(RETRY_AFTER).await;
                        let _ = sender.send(delivery);
                    });
                }
            }
        }
    }
}

/// Creates the queues on the SQS-compatible server at `endpoint`, starts one poller per queue
/// with a consumer, and returns the sink producers publish to: the functions' own SQS client
/// (`platform::aws`), so the local stack publishes exactly as Lambda does.
pub async fn start_sqs(endpoint: &str, consumers: Consumers) -> Result<JobSink, LocalSqsError> {
    let client = sdk_client(Some(endpoint));
    let urls = ensure_queues(&client, QUEUE_PREFIX, MAX_RECEIVES, 30).await?;
    for (queue, QueueUrls { url, .. }) in &urls {
        let Some(consumer) = consumers.get(*queue).cloned() else {
            continue;
        };
        let client = client.clone();
        let url = url.clone();
        tokio::spawn(async move {
            loop {
                if let Err(error) = poll_once(&client, &url, 1, consumer.as_ref()).await {
                    tracing::warn!(%error, "polling the local SQS queue failed; retrying");
                    tokio::time::sleep(Duration::from_secs(2)).await;
                }
            }
        });
    }
    let (region, credentials) = local_identity();
    let aws = AwsClient::new(Some(region), Some(credentials))
        .map_err(|e| LocalSqsError::Sdk(e.to_string()))?;
    let urls = urls.into_iter().map(|(q, u)| (q, u.url)).collect();
    Ok(JobSink::Sqs(SqsSink::new(
        SqsClient::new(aws, Some(endpoint.to_owned())),
        urls,
    )))
}

/// Region and credentials for a local server: the environment's, else harmless defaults, so a
/// developer needs no AWS configuration.
fn local_identity() -> (String, Credentials) {
    let key = platform::config::optional("AWS_ACCESS_KEY_ID").unwrap_or_else(|| "local".into());
    let secret =
        platform::config::optional("AWS_SECRET_ACCESS_KEY").unwrap_or_else(|| "local".into());
    let region = platform::config::optional("AWS_REGION").unwrap_or_else(|| "us-east-1".into());
    let token = platform::config::optional("AWS_SESSION_TOKEN");
    (region, Credentials::new(key, secret, token))
}

/// The SDK's SQS client, for what only the local stack does (queue set-up, polling, `redrive`):
/// at `endpoint` with the local defaults, or at AWS with the environment's region and
/// credentials only (a missing one fails the call, saying so, rather than signing with the
/// local defaults).
pub fn sdk_client(endpoint: Option<&str>) -> aws_sdk_sqs::Client {
    let mut config = aws_sdk_sqs::Config::builder().behavior_version(BehaviorVersion::latest());
    let (region, credentials) = match endpoint {
        Some(endpoint) => {
            config = config.endpoint_url(endpoint);
            let (region, credentials) = local_identity();
            (Some(region), Some(credentials))
        }
        None => platform::aws::environment(),
    };
    if let Some(region) = region {
        config = config.region(Region::new(region));
    }
    if let Some(credentials) = credentials {
        config = config.credentials_provider(aws_sdk_sqs::config::Credentials::new(
            credentials.access_key_id,
            credentials.secret_access_key.expose(),
            credentials.session_token.map(|t| t.expose().to_owned()),
            None,
            "environment",
        ));
    }
    aws_sdk_sqs::Client::from_conf(config.build())
}
