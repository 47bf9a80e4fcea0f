//! Moving a dead-letter queue's messages back to the queue they came from, once the cause is
//! fixed (`cargo run -p local -- redrive scoring|sites`, README, Operations).
//!
//! The dead-letter queue is found from the source queue's own `RedrivePolicy`, so an operator
//! names only the queue whose jobs failed. Messages move through the plain SQS API (receive,
//! send, then delete what was sent), which every SQS-compatible server has; a message whose send
//! fails stays in the dead-letter queue and becomes visible there again. Consumers are
//! idempotent, so a message moved twice (a crash between send and delete) does no harm.

use super::publish::SQS_BATCH_LIMIT;
use aws_sdk_sqs::types::{
    DeleteMessageBatchRequestEntry, MessageSystemAttributeName, QueueAttributeName,
    SendMessageBatchRequestEntry,
};

/// How long a received message stays invisible in the dead-letter queue while it is moved.
const MOVE_VISIBILITY_SECS: i32 = 60;
/// Empty receives in a row after which the dead-letter queue counts as drained (SQS may answer
/// an empty receive while messages remain; a second look catches that).
const EMPTY_RECEIVES_TO_STOP: usize = 2;

#[derive(Debug, thiserror::Error)]
pub enum RedriveError {
    #[error("SQS call failed: {0}")]
    Sdk(String),
    #[error("the queue has no redrive policy naming a dead-letter queue")]
    NoDeadLetterQueue,
    #[error("the redrive policy is not readable: {0}")]
    UnreadablePolicy(String),
}

impl RedriveError {
    fn sdk(error: impl std::error::Error + 'static) -> Self {
        Self::Sdk(crate::problem::error_chain(&error))
    }
}

/// What a redrive did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize)]
pub struct RedriveReport {
    /// Sent back to the source queue and deleted from the dead-letter queue.
    pub moved: usize,
    /// Could not be sent; still in the dead-letter queue.
    pub failed: usize,
}

/// The URL of `source_url`'s dead-letter queue, from its `RedrivePolicy`.
pub async fn dead_letter_queue_url(
    client: &aws_sdk_sqs::Client,
    source_url: &str,
) -> Result<String, RedriveError> {
    let policy = client
        .get_queue_attributes()
        .queue_url(source_url)
        .attribute_names(QueueAttributeName::RedrivePolicy)
        .send()
        .await
        .map_err(RedriveError::sdk)?
        .attributes
        .and_then(|mut a| a.remove(&QueueAttributeName::RedrivePolicy))
        .ok_or(RedriveError::NoDeadLetterQueue)?;
    let policy: serde_json::Value =
        serde_json::from_str(&policy).map_err(|e| RedriveError::UnreadablePolicy(e.to_string()))?;
    let arn = policy["deadLetterTargetArn"]
        .as_str()
        .ok_or(RedriveError::NoDeadLetterQueue)?;
    // arn:aws:sqs:<region>:<account>:<name>
    let mut parts = arn.rsplitn(2, ':');
    let name = parts.next().filter(|n| !n.is_empty());
    let account = parts.next().and_then(|rest| rest.rsplit(':').next());
    let (Some(name), Some(account)) = (name, account) else {
        return Err(RedriveError::UnreadablePolicy(format!(
            "deadLetterTargetArn {arn:?} is not a queue ARN"
        )));
    };
    client
        .get_queue_url()
        .queue_name(name)
        .queue_owner_aws_account_id(account)
        .send()
        .await
        .map_err(RedriveError::sdk)?
        .queue_url
        .ok_or(RedriveError::NoDeadLetterQueue)
}

/// Moves every message of `source_url`'s dead-letter queue back to `source_url`.
pub async fn redrive(
    client: &aws_sdk_sqs::Client,
    source_url: &str,
) -> Result<RedriveReport, RedriveError> {
    let dead_letter_url = dead_letter_queue_url(client, source_url).await?;
    let mut report = RedriveReport::default();
    let mut empty_receives = 0;
    while empty_receives < EMPTY_RECEIVES_TO_STOP {
        let messages = client
            .receive_message()
            .queue_url(&dead_letter_url)
            .max_number_of_messages(SQS_BATCH_LIMIT as i32)
            .visibility_timeout(MOVE_VISIBILITY_SECS)
            .wait_time_seconds(1)
            .message_attribute_names("All")
            .message_system_attribute_names(MessageSystemAttributeName::All)
            .send()
            .await
            .map_err(RedriveError::sdk)?
            .messages
            .unwrap_or_default();
        if messages.is_empty() {
            empty_receives += 1;
            continue;
        }
        empty_receives = 0;

        let mut send = client.send_message_batch().queue_url(source_url);
        for (index, message) in messages.iter().enumerate() {
            let entry = SendMessageBatchRequestEntry::builder()
                .id(index.to_string())
                .message_body(message.body.clone().unwrap_or_default())
                .set_message_attributes(message.message_attributes.clone())
                .build()
                .map_err(RedriveError::sdk)?;
            send = send.entries(entry);
        }
        let sent = send.send().await.map_err(RedriveError::sdk)?;
        let sent_ids: Vec<usize> = sent
            .successful
            .iter()
            .filter_map(|entry| entry.id.parse().ok())
            .collect();
        report.failed += messages.len() - sent_ids.len();

        let mut delete = client.delete_message_batch().queue_url(&dead_letter_url);
        let mut to_delete = 0;
        for index in &sent_ids {
            if let Some(handle) = messages.get(*index).and_then(|m| m.receipt_handle.clone()) {
                let entry = DeleteMessageBatchRequestEntry::builder()
                    .id(index.to_string())
                    .receipt_handle(handle)
                    .build()
                    .map_err(RedriveError::sdk)?;
                delete = delete.entries(entry);
                to_delete += 1;
            }
        }
        if to_delete > 0 {
            delete.send().await.map_err(RedriveError::sdk)?;
        }
        report.moved += sent_ids.len();
        if sent_ids.is_empty() {
            // Nothing could be sent: stop rather than spin on the same messages.
            break;
        }
    }
    Ok(report)
}
