//! What the local stack's SQS mode and the tests need from a real SQS-compatible server and
//! Lambda never does: creating the queues with their dead-letter queues, as template.yaml does
//! in AWS, and polling a queue as Lambda's event source mapping does.

use super::consume::{Consumer, UndecodableJob, run_decoded};
use super::publish::SQS_BATCH_LIMIT;
use domain::jobs::{Job, Queue};
use std::collections::HashMap;

/// A call to the SQS-compatible server failed, or answered without what it must return.
#[derive(Debug, thiserror::Error)]
pub enum LocalSqsError {
    #[error("SQS call failed: {0}")]
    Sdk(String),
    #[error("{0}")]
    Missing(&'static str),
}

impl LocalSqsError {
    /// The SDK error with its cause chain (the SDK's own Display says only "service error").
    fn sdk(error: impl std::error::Error + 'static) -> Self {
        Self::Sdk(crate::problem::error_chain(&error))
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
) -> Result<HashMap<Queue, QueueUrls>, LocalSqsError> {
    use aws_sdk_sqs::types::QueueAttributeName;
    let mut urls = HashMap::new();
    for queue in Queue::ALL {
        let dead_letter_url = client
            .create_queue()
            .queue_name(format!("{name_prefix}-{queue}-dlq"))
            .send()
            .await
            .map_err(LocalSqsError::sdk)?
            .queue_url
            .ok_or(LocalSqsError::Missing("CreateQueue returned no URL"))?;
        let arn = client
            .get_queue_attributes()
            .queue_url(&dead_letter_url)
            .attribute_names(QueueAttributeName::QueueArn)
            .send()
            .await
            .map_err(LocalSqsError::sdk)?
            .attributes
            .and_then(|mut a| a.remove(&QueueAttributeName::QueueArn))
            .ok_or(LocalSqsError::Missing(
                "GetQueueAttributes returned no QueueArn",
            ))?;
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
            .map_err(LocalSqsError::sdk)?
            .queue_url
            .ok_or(LocalSqsError::Missing("CreateQueue returned no URL"))?;
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
) -> Result<usize, LocalSqsError> {
    let received = client
        .receive_message()
        .queue_url(queue_url)
        .max_number_of_messages(SQS_BATCH_LIMIT as i32)
        .wait_time_seconds(wait_seconds)
        .send()
        .await
        .map_err(LocalSqsError::sdk)?;
    let messages = received.messages.unwrap_or_default();
    if messages.is_empty() {
        return Ok(0);
    }
    let records: Vec<(String, Result<Job, UndecodableJob>)> = messages
        .iter()
        .map(|m| {
            let id = m.message_id.clone().unwrap_or_default();
            let job = m
                .body
                .as_deref()
                .ok_or(UndecodableJob::NoBody)
                .and_then(|body| Job::from_body(body).map_err(UndecodableJob::from));
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
                .map_err(LocalSqsError::sdk)?;
            request = request.entries(entry);
        }
        request.send().await.map_err(LocalSqsError::sdk)?;
    }
    Ok(messages.len())
}
