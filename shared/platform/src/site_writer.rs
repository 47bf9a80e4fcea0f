//! The AI site writer: Amazon Bedrock's Converse API behind `domain::site::ai`'s checks.
//!
//! Used when `SITE_WRITER_MODEL` names a Bedrock model; `BEDROCK_ENDPOINT_URL` points it at
//! another endpoint (a mock server in tests, anything Converse-compatible locally). It only ever
//! returns copy: the consumer assembles it with the facts from the database.
//!
//! Failure policy, so a site is always built:
//! - an answer that fails the checks is sent back with the errors (a corrective prompt), up to
//!   [`MAX_ATTEMPTS`] attempts in all;
//! - a timeout ([`DEFAULT_TIMEOUT`] per attempt), throttling or any service error ends the
//!   attempts at once: retrying a throttled or slow model inside one SQS delivery only makes
//!   the delivery time out;
//! - either way the caller falls back to the template writer.
//!
//! Every attempt is reported as an [`Attempt`] (tokens, latency, error class) for
//! `ai_usage_logs`. The SDK's own retries are off so that an attempt here is one request there.

use aws_sdk_bedrockruntime::Client;
use aws_sdk_bedrockruntime::config::retry::RetryConfig;
use aws_sdk_bedrockruntime::types::{
    ContentBlock, ConversationRole, InferenceConfiguration, Message, SystemContentBlock,
};
use domain::site::ai::{MAX_ATTEMPTS, SYSTEM_PROMPT, corrective_prompt, parse_answer, prompt};
use domain::site::{SiteCopy, SiteInput, template};
use std::time::{Duration, Instant};

/// How long one Converse call may take before the template is used instead.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(20);
/// Enough for the longest copy the limits allow, with room for JSON punctuation.
const MAX_OUTPUT_TOKENS: i32 = 1500;
/// Low, so the copy stays close to the facts; not zero, so it reads like a person wrote it.
const TEMPERATURE: f32 = 0.4;

domain::text_enum! {
    /// Why an attempt did not produce usable copy (`ai_usage_logs.error`).
    AttemptError, UnknownAttemptError {
        Timeout => "timeout",
        Throttled => "throttled",
        InvalidOutput => "invalid_output",
        ServiceError => "service_error",
    }
}

/// One Converse call, as `ai_usage_logs` records it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Attempt {
    pub model: String,
    pub input_tokens: i32,
    pub output_tokens: i32,
    pub latency_ms: i32,
    /// `None` = the answer was used.
    pub error: Option<AttemptError>,
}

/// What the writer produced: copy to use, or `None` for the template; and every attempt.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Written {
    pub copy: Option<SiteCopy>,
    pub attempts: Vec<Attempt>,
}

/// The writer; built once per cold start (the client holds its connection pool).
#[derive(Debug, Clone)]
pub struct AiWriter {
    client: Client,
    model: String,
    timeout: Duration,
}

impl AiWriter {
    pub fn new(client: Client, model: impl Into<String>, timeout: Duration) -> Self {
        Self {
            client,
            model: model.into(),
            timeout,
        }
    }

    /// The writer `SITE_WRITER_MODEL` asks for, or `None` (template only) when it is unset or
    /// empty (template.yaml's default).
    pub async fn from_env() -> Option<Self> {
        let model = crate::config::optional("SITE_WRITER_MODEL")?;
        // Region and credentials as Lambda sets them, without aws-config's provider chain
        // (see `jobs::publish::lambda_environment`).
        let environment = crate::jobs::publish::lambda_environment();
        let mut builder = aws_sdk_bedrockruntime::Config::builder()
            .behavior_version(aws_sdk_bedrockruntime::config::BehaviorVersion::latest())
            .http_client(crate::jobs::publish::https_client())
            .region(environment.region)
            .retry_config(RetryConfig::disabled());
        if let Some(credentials) = environment.credentials {
            builder = builder.credentials_provider(credentials);
        }
        if let Some(endpoint) = crate::config::optional("BEDROCK_ENDPOINT_URL") {
            builder = builder.endpoint_url(endpoint);
        }
        Some(Self::new(
            Client::from_conf(builder.build()),
            model,
            DEFAULT_TIMEOUT,
        ))
    }

    pub fn model(&self) -> &str {
        &self.model
    }

    /// Asks the model for the site's copy.
    pub async fn write(&self, input: &SiteInput) -> Written {
        let template = template::copy(input);
        let mut messages: Vec<Message> = text_message(ConversationRole::User, prompt(input))
            .into_iter()
            .collect();
        let mut attempts = Vec::new();
        for _ in 0..MAX_ATTEMPTS {
            let started = Instant::now();
            let call = self
                .client
                .converse()
                .model_id(&self.model)
                .system(SystemContentBlock::Text(SYSTEM_PROMPT.to_owned()))
                .set_messages(Some(messages.clone()))
                .inference_config(
                    InferenceConfiguration::builder()
                        .max_tokens(MAX_OUTPUT_TOKENS)
                        .temperature(TEMPERATURE)
                        .build(),
                )
                .send();
            let result = tokio::time::timeout(self.timeout, call).await;
            let mut attempt = Attempt {
                model: self.model.clone(),
                input_tokens: 0,
                output_tokens: 0,
                latency_ms: i32::try_from(started.elapsed().as_millis()).unwrap_or(i32::MAX),
                error: None,
            };
            let output = match result {
                Err(_) => {
                    tracing::warn!(model = %self.model, "site writer timed out; using the template");
                    attempt.error = Some(AttemptError::Timeout);
                    attempts.push(attempt);
                    break;
                }
                Ok(Err(err)) => {
                    let throttled = err
                        .as_service_error()
                        .is_some_and(|e| e.is_throttling_exception())
                        || err
                            .raw_response()
                            .is_some_and(|r| r.status().as_u16() == 429);
                    let class = if throttled {
                        AttemptError::Throttled
                    } else {
                        AttemptError::ServiceError
                    };
                    tracing::warn!(model = %self.model, error = class.as_str(),
                        cause = %crate::problem::error_chain(&err), "site writer failed; using the template");
                    attempt.error = Some(class);
                    attempts.push(attempt);
                    break;
                }
                Ok(Ok(output)) => output,
            };
            if let Some(usage) = output.usage() {
                attempt.input_tokens = usage.input_tokens();
                attempt.output_tokens = usage.output_tokens();
            }
            let answer: String = output
                .output()
                .and_then(|o| o.as_message().ok())
                .map(|m| {
                    m.content()
                        .iter()
                        .filter_map(|c| c.as_text().ok())
                        .map(String::as_str)
                        .collect()
                })
                .unwrap_or_default();
            match parse_answer(&answer, &template) {
                Ok(copy) => {
                    attempts.push(attempt);
                    return Written {
                        copy: Some(copy),
                        attempts,
                    };
                }
                Err(errors) => {
                    // Field names only: the messages may quote the model's text.
                    tracing::info!(model = %self.model, fields = ?errors.fields(), "site writer answer refused");
                    attempt.error = Some(AttemptError::InvalidOutput);
                    attempts.push(attempt);
                    messages.extend(text_message(ConversationRole::Assistant, answer));
                    messages.extend(text_message(
                        ConversationRole::User,
                        corrective_prompt(&errors),
                    ));
                }
            }
        }
        Written {
            copy: None,
            attempts,
        }
    }
}

/// A one-text-block message. Role and content are both set, which is all the builder requires,
/// so `None` cannot happen in practice; it would only drop the message.
fn text_message(role: ConversationRole, text: String) -> Option<Message> {
    Message::builder()
        .role(role)
        .content(ContentBlock::Text(text))
        .build()
        .ok()
}
