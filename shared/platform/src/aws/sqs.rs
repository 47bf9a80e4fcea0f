//! SQS's `SendMessageBatch` in the JSON 1.0 protocol, the one SQS call a function makes.
//! Wire format: SQS API reference, "SendMessageBatch" (request `QueueUrl`, `Entries[{Id,
//! MessageBody}]`; answer `Successful[]` and `Failed[{Id, SenderFault, Code, Message}]`).

use super::{AwsClient, AwsError, Call};
use serde::{Deserialize, Serialize};
use std::time::Duration;

/// A publish happens after the webhook's commit, before its answer; a slow SQS must not hold
/// the answer longer than this (the relay publishes what it missed).
const TIMEOUT: Duration = Duration::from_secs(5);

/// SendMessageBatch takes at most ten entries.
pub const BATCH_LIMIT: usize = 10;

/// One message of a batch: an id unique within the batch, and the body.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Entry {
    #[serde(rename = "Id")]
    pub id: String,
    #[serde(rename = "MessageBody")]
    pub body: String,
}

/// An entry SQS refused, with its reason.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct Failed {
    #[serde(rename = "Id")]
    pub id: String,
    #[serde(rename = "Code")]
    pub code: String,
    #[serde(rename = "Message", default)]
    pub message: Option<String>,
}

/// SQS at `SQS_ENDPOINT_URL` (moto, ElasticMQ locally), or the region's public endpoint.
#[derive(Debug, Clone)]
pub struct SqsClient {
    aws: AwsClient,
    endpoint: Option<String>,
}

impl SqsClient {
    pub fn new(aws: AwsClient, endpoint: Option<String>) -> Self {
        Self { aws, endpoint }
    }

    /// Sends up to [`BATCH_LIMIT`] entries; returns the ones SQS refused. An error means none
    /// was sent (or SQS's answer could not be read).
    pub async fn send_message_batch(
        &self,
        queue_url: &str,
        entries: &[Entry],
    ) -> Result<Vec<Failed>, AwsError> {
        #[derive(Deserialize)]
        struct Answer {
            #[serde(rename = "Failed", default)]
            failed: Vec<Failed>,
        }
        let body = serde_json::json!({"QueueUrl": queue_url, "Entries": entries})
            .to_string()
            .into_bytes();
        let endpoint = match &self.endpoint {
            Some(endpoint) => endpoint.clone(),
            None => format!("https://sqs.{}.amazonaws.com", self.aws.region()?),
        };
        let answer = self
            .aws
            .post(Call {
                service: "sqs",
                endpoint: &endpoint,
                path: "/",
                content_type: "application/x-amz-json-1.0",
                target: Some("AmazonSQS.SendMessageBatch"),
                body: &body,
                timeout: TIMEOUT,
            })
            .await?;
        let answer: Answer =
            serde_json::from_slice(&answer.body).map_err(|e| AwsError::Answer {
                service: "sqs",
                reason: e.to_string(),
            })?;
        Ok(answer.failed)
    }
}
