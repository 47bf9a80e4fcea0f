//! Amazon Bedrock's Converse API (`POST /model/{modelId}/converse`, REST JSON, signing name
//! `bedrock`), text in and text out: what the site writer needs. Wire format: Bedrock API
//! reference, "Converse".

use super::{AwsClient, AwsError, Call, path_segment};
use serde::{Deserialize, Serialize};
use std::time::Duration;

/// Who said a message.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    User,
    Assistant,
}

/// One turn of the conversation: a single text block.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Message {
    pub role: Role,
    pub text: String,
}

/// What one call asks for.
#[derive(Debug, Clone, Copy)]
pub struct Request<'a> {
    pub model: &'a str,
    pub system: &'a str,
    pub messages: &'a [Message],
    pub max_tokens: i32,
    pub temperature: f64,
    pub timeout: Duration,
}

/// The model's text (its text blocks joined) and the tokens billed.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Reply {
    pub text: String,
    pub input_tokens: i32,
    pub output_tokens: i32,
}

/// Bedrock Runtime at `BEDROCK_ENDPOINT_URL` (a mock server in tests), or the region's endpoint.
#[derive(Debug, Clone)]
pub struct Converse {
    aws: AwsClient,
    endpoint: Option<String>,
}

impl Converse {
    pub fn new(aws: AwsClient, endpoint: Option<String>) -> Self {
        Self { aws, endpoint }
    }

    pub async fn send(&self, request: Request<'_>) -> Result<Reply, AwsError> {
        let endpoint = match &self.endpoint {
            Some(endpoint) => endpoint.clone(),
            None => format!(
                "https://bedrock-runtime.{}.amazonaws.com",
                self.aws.region()?
            ),
        };
        let body = wire_request(&request).to_string().into_bytes();
        let answer = self
            .aws
            .post(Call {
                service: "bedrock",
                endpoint: &endpoint,
                path: &format!("/model/{}/converse", path_segment(request.model)),
                content_type: "application/json",
                target: None,
                body: &body,
                timeout: request.timeout,
            })
            .await?;
        read_reply(&answer.body)
    }
}

fn wire_request(request: &Request<'_>) -> serde_json::Value {
    serde_json::json!({
        "system": [{"text": request.system}],
        "messages": request.messages.iter().map(|m| serde_json::json!({
            "role": m.role,
            "content": [{"text": m.text}],
        })).collect::<Vec<_>>(),
        "inferenceConfig": {
            "maxTokens": request.max_tokens,
            "temperature": request.temperature,
        },
    })
}

fn read_reply(body: &[u8]) -> Result<Reply, AwsError> {
    #[derive(Deserialize)]
    struct Answer {
        output: Output,
        #[serde(default)]
        usage: Option<Usage>,
    }
    #[derive(Deserialize)]
    struct Output {
        message: Option<WireMessage>,
    }
    #[derive(Deserialize)]
    struct WireMessage {
        #[serde(default)]
        content: Vec<Block>,
    }
    #[derive(Deserialize)]
    struct Block {
        text: Option<String>,
    }
    #[derive(Deserialize)]
    #[serde(rename_all = "camelCase")]
    struct Usage {
        input_tokens: i32,
        output_tokens: i32,
    }
    let answer: Answer = serde_json::from_slice(body).map_err(|e| AwsError::Answer {
        service: "bedrock",
        reason: e.to_string(),
    })?;
    let text = answer
        .output
        .message
        .map(|m| m.content.into_iter().filter_map(|b| b.text).collect())
        .unwrap_or_default();
    let (input_tokens, output_tokens) = answer
        .usage
        .map_or((0, 0), |u| (u.input_tokens, u.output_tokens));
    Ok(Reply {
        text,
        input_tokens,
        output_tokens,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_request_carries_system_messages_and_inference_settings() {
        let messages = [
            Message {
                role: Role::User,
                text: "Write it".into(),
            },
            Message {
                role: Role::Assistant,
                text: "{}".into(),
            },
        ];
        let wire = wire_request(&Request {
            model: "m",
            system: "You write copy.",
            messages: &messages,
            max_tokens: 1500,
            temperature: 0.4,
            timeout: Duration::from_secs(1),
        });
        assert_eq!(
            wire,
            serde_json::json!({
                "system": [{"text": "You write copy."}],
                "messages": [
                    {"role": "user", "content": [{"text": "Write it"}]},
                    {"role": "assistant", "content": [{"text": "{}"}]}
                ],
                "inferenceConfig": {"maxTokens": 1500, "temperature": 0.4}
            })
        );
    }

    #[test]
    fn a_reply_joins_its_text_blocks_and_reads_the_usage() {
        let reply = read_reply(
            br#"{"output":{"message":{"role":"assistant","content":[{"text":"Hello "},{"text":"there"}]}},
                 "stopReason":"end_turn","usage":{"inputTokens":812,"outputTokens":240,"totalTokens":1052},
                 "metrics":{"latencyMs":950}}"#,
        )
        .expect("reply");
        assert_eq!(
            reply,
            Reply {
                text: "Hello there".into(),
                input_tokens: 812,
                output_tokens: 240,
            }
        );
    }

    #[test]
    fn a_reply_without_output_is_an_answer_error() {
        let err = read_reply(br#"{"usage":{}}"#).expect_err("no output");
        assert!(
            matches!(
                err,
                AwsError::Answer {
                    service: "bedrock",
                    ..
                }
            ),
            "{err}"
        );
    }
}
