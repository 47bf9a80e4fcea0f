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
//! `ai_usage_logs`. The client never retries on its own, so an attempt here is one request there.

use crate::aws::bedrock::{Converse, Message, Request, Role};
use crate::aws::{AwsClient, AwsError};
use domain::site::ai::{MAX_ATTEMPTS, SYSTEM_PROMPT, corrective_prompt, parse_answer, prompt};
use domain::site::{SiteCopy, SiteInput, template};
use std::time::{Duration, Instant};

/// How long one Converse call may take before the template is used instead.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(20);
/// Enough for the longest copy the limits allow, with room for JSON punctuation.
const MAX_OUTPUT_TOKENS: i32 = 1500;
/// Low, so the copy stays close to the facts; not zero, so it reads like a person wrote it.
const TEMPERATURE: f64 = 0.4;

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
    converse: Converse,
    model: String,
    timeout: Duration,
}

impl AiWriter {
    pub fn new(converse: Converse, model: impl Into<String>, timeout: Duration) -> Self {
        Self {
            converse,
            model: model.into(),
            timeout,
        }
    }

    /// The writer `SITE_WRITER_MODEL` asks for, or `None` (template only) when it is unset or
    /// empty (template.yaml's default).
    pub fn from_env() -> Option<Self> {
        let model = crate::config::optional("SITE_WRITER_MODEL")?;
        // Region and credentials as Lambda sets them (`aws::AwsClient::from_env`).
        let aws = match AwsClient::from_env() {
            Ok(aws) => aws,
            Err(error) => {
                tracing::error!(%error, "the site writer cannot call Bedrock; using the template");
                return None;
            }
        };
        let converse = Converse::new(aws, crate::config::optional("BEDROCK_ENDPOINT_URL"));
        Some(Self::new(converse, model, DEFAULT_TIMEOUT))
    }

    pub fn model(&self) -> &str {
        &self.model
    }

    /// Asks the model for the site's copy.
    pub async fn write(&self, input: &SiteInput) -> Written {
        let template = template::copy(input);
        let mut messages = vec![Message {
            role: Role::User,
            text: prompt(input),
        }];
        let mut attempts = Vec::new();
        for _ in 0..MAX_ATTEMPTS {
            let started = Instant::now();
            let result = self
                .converse
                .send(Request {
                    model: &self.model,
                    system: SYSTEM_PROMPT,
                    messages: &messages,
                    max_tokens: MAX_OUTPUT_TOKENS,
                    temperature: TEMPERATURE,
                    timeout: self.timeout,
                })
                .await;
            let mut attempt = Attempt {
                model: self.model.clone(),
                input_tokens: 0,
                output_tokens: 0,
                latency_ms: i32::try_from(started.elapsed().as_millis()).unwrap_or(i32::MAX),
                error: None,
            };
            let reply = match result {
                Ok(reply) => reply,
                Err(err) => {
                    let class = match &err {
                        AwsError::Timeout { .. } => AttemptError::Timeout,
                        err if err.is_throttling() => AttemptError::Throttled,
                        _ => AttemptError::ServiceError,
                    };
                    tracing::warn!(model = %self.model, error = class.as_str(),
                        cause = %crate::problem::error_chain(&err), "site writer failed; using the template");
                    attempt.error = Some(class);
                    attempts.push(attempt);
                    break;
                }
            };
            attempt.input_tokens = reply.input_tokens;
            attempt.output_tokens = reply.output_tokens;
            let answer = reply.text;
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
                    messages.push(Message {
                        role: Role::Assistant,
                        text: answer,
                    });
                    messages.push(Message {
                        role: Role::User,
                        text: corrective_prompt(&errors),
                    });
                }
            }
        }
        Written {
            copy: None,
            attempts,
        }
    }
}
