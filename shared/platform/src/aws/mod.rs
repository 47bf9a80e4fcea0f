//! The functions' AWS client: a SigV4-signed JSON POST over one HTTPS connection pool, for the
//! two AWS calls a function makes ([`sqs::SqsClient::send_message_batch`] and
//! [`bedrock::Converse`]).
//!
//! Why not the AWS SDK: its runtime (orchestrator, endpoint resolver, retry and identity
//! machinery, per-operation serialisers) made every function that publishes a job 10.2-10.5 MB
//! on arm64, against the 8 MB budget of issue 15; these two calls need a signature, a JSON body
//! and an error mapping. The SDK stays where it is worth its size: the local stack's queue
//! set-up and polling, `redrive`, and the tests, which receive with it what this client sent.
//!
//! What it does not do, on purpose:
//! - retry an answer: a refused or throttled publish stays in the outbox for the relay, and the
//!   site writer falls back to its template; both handle failure one level up. Only a request
//!   that got no answer at all (a pooled connection closed while the process was frozen) is
//!   sent once more, within the call's timeout;
//! - look credentials up anywhere but the environment: Lambda hands a function its region and
//!   its role's credentials in `AWS_REGION`, `AWS_ACCESS_KEY_ID`, `AWS_SECRET_ACCESS_KEY` and
//!   `AWS_SESSION_TOKEN`, valid for the life of the execution environment. Elsewhere, export
//!   the same variables (for example `aws configure export-credentials --format env`).

pub mod bedrock;
pub mod sigv4;
pub mod sqs;

use crate::config;
use domain::secret::Secret;
use http_body_util::{BodyExt, Full};
use hyper::body::Bytes;
use hyper::{HeaderMap, Method, Request, StatusCode, Uri};
use hyper_rustls::HttpsConnector;
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;
use std::sync::Arc;
use std::time::Duration;

/// How long to wait for a TCP connection to an AWS endpoint.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(3);

/// An access key, its secret and, for a role's temporary credentials, the session token.
#[derive(Debug, Clone)]
pub struct Credentials {
    pub access_key_id: String,
    pub secret_access_key: Secret,
    pub session_token: Option<Secret>,
}

impl Credentials {
    pub fn new(
        access_key_id: impl Into<String>,
        secret_access_key: impl Into<String>,
        session_token: Option<String>,
    ) -> Self {
        Self {
            access_key_id: access_key_id.into(),
            secret_access_key: Secret::new(secret_access_key),
            session_token: session_token.map(Secret::new),
        }
    }
}

/// Why an AWS call failed. The messages name the service, the status and AWS's error code,
/// never a request body.
#[derive(Debug, thiserror::Error)]
pub enum AwsError {
    #[error("{0} is not set")]
    NotConfigured(&'static str),
    #[error("TLS set-up failed: {0}")]
    Tls(String),
    #[error("the endpoint {endpoint} is not a URL: {reason}")]
    Endpoint { endpoint: String, reason: String },
    #[error("{service}: no answer within {}s", timeout.as_secs_f64())]
    Timeout {
        service: &'static str,
        timeout: Duration,
    },
    #[error("{service}: the request failed")]
    Transport {
        service: &'static str,
        #[source]
        source: Box<dyn std::error::Error + Send + Sync>,
    },
    #[error("{service} answered {status}: {code}: {message}")]
    Service {
        service: &'static str,
        status: u16,
        /// AWS's error code (`QueueDoesNotExist`, `ThrottlingException`), or the status' reason.
        code: String,
        message: String,
    },
    #[error("{service}: the answer is not what the API documents: {reason}")]
    Answer {
        service: &'static str,
        reason: String,
    },
}

impl AwsError {
    /// The service throttled the call: HTTP 429, or a throttling code (Bedrock's
    /// `ThrottlingException`, SQS's `RequestThrottled`).
    pub fn is_throttling(&self) -> bool {
        matches!(self, Self::Service { status, code, .. }
            if *status == 429 || code.contains("Throttl"))
    }
}

/// A 2xx answer's body.
#[derive(Debug)]
pub struct Answer {
    pub body: Bytes,
}

/// One POST: the signing name, where to, and what.
#[derive(Debug, Clone, Copy)]
pub struct Call<'a> {
    /// The SigV4 signing name (`sqs`, `bedrock`); also names the service in errors.
    pub service: &'static str,
    /// Scheme and authority, for example `https://sqs.eu-west-1.amazonaws.com`.
    pub endpoint: &'a str,
    /// The path, already percent-encoded (see [`path_segment`]).
    pub path: &'a str,
    pub content_type: &'static str,
    /// `X-Amz-Target`, for the JSON 1.0 protocol (SQS).
    pub target: Option<&'static str>,
    pub body: &'a [u8],
    pub timeout: Duration,
}

/// The client. Cheap to clone; built once per cold start without I/O (the first call connects).
#[derive(Clone)]
pub struct AwsClient {
    /// Boxed: hyper's client keeps its settings inline (hundreds of bytes).
    http: Arc<Client<HttpsConnector<HttpConnector>, Full<Bytes>>>,
    region: Option<String>,
    credentials: Option<Arc<Credentials>>,
}

impl std::fmt::Debug for AwsClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AwsClient")
            .field("region", &self.region)
            .field("credentials", &self.credentials.is_some())
            .finish_non_exhaustive()
    }
}

impl AwsClient {
    /// Fails only if rustls refuses its own default TLS versions with ring (it does not).
    pub fn new(region: Option<String>, credentials: Option<Credentials>) -> Result<Self, AwsError> {
        Ok(Self {
            http: Arc::new(https_client()?),
            region,
            credentials: credentials.map(Arc::new),
        })
    }

    /// Region and credentials as Lambda sets them: `AWS_REGION` (or `AWS_DEFAULT_REGION`),
    /// `AWS_ACCESS_KEY_ID`, `AWS_SECRET_ACCESS_KEY`, `AWS_SESSION_TOKEN`. Missing values fail
    /// the calls, not the cold start.
    pub fn from_env() -> Result<Self, AwsError> {
        let (region, credentials) = environment();
        Self::new(region, credentials)
    }

    pub fn region(&self) -> Result<&str, AwsError> {
        self.region
            .as_deref()
            .ok_or(AwsError::NotConfigured("AWS_REGION"))
    }

    /// Signs and sends one POST; a non-2xx answer is [`AwsError::Service`] with AWS's error code.
    pub async fn post(&self, call: Call<'_>) -> Result<Answer, AwsError> {
        let credentials = self
            .credentials
            .as_deref()
            .ok_or(AwsError::NotConfigured("AWS_ACCESS_KEY_ID"))?;
        let region = self.region()?;
        let url = format!("{}{}", call.endpoint.trim_end_matches('/'), call.path);
        let uri: Uri = url
            .parse()
            .map_err(|e: http::uri::InvalidUri| AwsError::Endpoint {
                endpoint: call.endpoint.to_owned(),
                reason: e.to_string(),
            })?;
        let Some(host) = uri.authority().map(|a| a.as_str().to_owned()) else {
            return Err(AwsError::Endpoint {
                endpoint: call.endpoint.to_owned(),
                reason: "no host".to_owned(),
            });
        };
        let mut signed_headers = vec![("content-type", call.content_type), ("host", &host)];
        if let Some(target) = call.target {
            signed_headers.push(("x-amz-target", target));
        }
        let signature = sigv4::sign(
            &sigv4::Signable {
                method: "POST",
                path: uri.path(),
                headers: &signed_headers,
                body: call.body,
            },
            credentials,
            &sigv4::Scope {
                region,
                service: call.service,
                time: chrono::Utc::now(),
            },
        );
        let body = Bytes::copy_from_slice(call.body);
        let request = || {
            let mut builder = Request::builder().method(Method::POST).uri(uri.clone());
            for (name, value) in signed_headers
                .iter()
                .map(|(n, v)| (*n, *v))
                .chain(signature.iter().map(|(n, v)| (*n, v.as_str())))
            {
                builder = builder.header(name, value);
            }
            builder
                .body(Full::new(body.clone()))
                .map_err(|e| AwsError::Endpoint {
                    endpoint: call.endpoint.to_owned(),
                    reason: e.to_string(),
                })
        };
        let first = request()?;

        let exchange = async {
            // A pooled connection the peer closed while Lambda had the process frozen fails
            // before any answer; the request is sent once more on a new connection. Both calls
            // are safe to repeat (a job's consumer is idempotent; Converse only reads).
            let response = match self.http.request(first).await {
                Ok(response) => response,
                Err(error) => {
                    tracing::debug!(service = call.service, %error, "AWS request failed before an answer; trying once more");
                    self.http
                        .request(request()?)
                        .await
                        .map_err(|e| transport(call, e))?
                }
            };
            let (parts, body) = response.into_parts();
            let body = body
                .collect()
                .await
                .map_err(|e| transport(call, e))?
                .to_bytes();
            Ok::<_, AwsError>((parts.status, parts.headers, body))
        };
        let (status, headers, body) = tokio::time::timeout(call.timeout, exchange)
            .await
            .map_err(|_| AwsError::Timeout {
                service: call.service,
                timeout: call.timeout,
            })??;
        if status.is_success() {
            Ok(Answer { body })
        } else {
            Err(service_error(call.service, status, &headers, &body))
        }
    }
}

fn transport(call: Call<'_>, error: impl std::error::Error + Send + Sync + 'static) -> AwsError {
    AwsError::Transport {
        service: call.service,
        source: Box::new(error),
    }
}

/// Region and credentials as Lambda sets them: `AWS_REGION` (or `AWS_DEFAULT_REGION`), and
/// `AWS_ACCESS_KEY_ID` with `AWS_SECRET_ACCESS_KEY` (and `AWS_SESSION_TOKEN` when present).
pub fn environment() -> (Option<String>, Option<Credentials>) {
    let region = config::optional("AWS_REGION").or_else(|| config::optional("AWS_DEFAULT_REGION"));
    let credentials = config::optional("AWS_ACCESS_KEY_ID")
        .zip(config::optional("AWS_SECRET_ACCESS_KEY"))
        .map(|(key, secret)| Credentials::new(key, secret, config::optional("AWS_SESSION_TOKEN")));
    (region, credentials)
}

/// AWS's error shapes for the JSON protocols: the code in `x-amzn-ErrorType` (REST JSON,
/// `ThrottlingException:http://…`) or the body's `__type` (JSON 1.0,
/// `com.amazonaws.sqs#QueueDoesNotExist`), the message in `message` or `Message`.
fn service_error(
    service: &'static str,
    status: StatusCode,
    headers: &HeaderMap,
    body: &[u8],
) -> AwsError {
    #[derive(serde::Deserialize, Default)]
    struct ErrorBody {
        #[serde(rename = "__type")]
        kind: Option<String>,
        #[serde(alias = "Message")]
        message: Option<String>,
    }
    let parsed: ErrorBody = serde_json::from_slice(body).unwrap_or_default();
    let code = headers
        .get("x-amzn-errortype")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned)
        .or(parsed.kind)
        .map(|raw| {
            let code = raw.split(':').next().unwrap_or_default();
            code.rsplit('#').next().unwrap_or(code).to_owned()
        })
        .filter(|code| !code.is_empty())
        .unwrap_or_else(|| status.canonical_reason().unwrap_or("error").to_owned());
    AwsError::Service {
        service,
        status: status.as_u16(),
        code,
        message: parsed.message.unwrap_or_default(),
    }
}

/// A path segment percent-encoded for the wire (a Bedrock model id holds `:`).
pub fn path_segment(segment: &str) -> String {
    sigv4::uri_encode(segment)
}

/// HTTP/1.1 over rustls on ring with the webpki roots (no file read at start), or plain HTTP
/// for a local endpoint (moto, a mock server).
fn https_client() -> Result<Client<HttpsConnector<HttpConnector>, Full<Bytes>>, AwsError> {
    let mut http = HttpConnector::new();
    http.enforce_http(false);
    http.set_nodelay(true);
    http.set_connect_timeout(Some(CONNECT_TIMEOUT));
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let roots = rustls::RootCertStore {
        roots: webpki_roots::TLS_SERVER_ROOTS.to_vec(),
    };
    let tls = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| AwsError::Tls(e.to_string()))?
        .with_root_certificates(roots)
        .with_no_client_auth();
    let connector = hyper_rustls::HttpsConnectorBuilder::new()
        .with_tls_config(tls)
        .https_or_http()
        .enable_http1()
        .wrap_connector(http);
    Ok(Client::builder(TokioExecutor::new())
        // Shorter than the idle timeouts of AWS's endpoints, so a kept connection is rarely
        // one the other side has already closed.
        .pool_idle_timeout(Duration::from_secs(20))
        .build(connector))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn error(status: u16, headers: &[(&str, &str)], body: &str) -> AwsError {
        let mut map = HeaderMap::new();
        for (name, value) in headers {
            map.insert(
                hyper::header::HeaderName::from_bytes(name.as_bytes()).expect("name"),
                value.parse().expect("value"),
            );
        }
        service_error(
            "test",
            StatusCode::from_u16(status).expect("status"),
            &map,
            body.as_bytes(),
        )
    }

    #[test]
    fn a_json_1_0_error_names_the_code_after_the_namespace() {
        let err = error(
            400,
            &[],
            r#"{"__type":"com.amazonaws.sqs#QueueDoesNotExist","message":"The specified queue does not exist."}"#,
        );
        assert_eq!(
            err.to_string(),
            "test answered 400: QueueDoesNotExist: The specified queue does not exist."
        );
        assert!(!err.is_throttling());
    }

    #[test]
    fn a_rest_json_error_takes_the_code_from_its_header() {
        let err = error(
            429,
            &[(
                "x-amzn-ErrorType",
                "ThrottlingException:http://internal.amazon.com/coral/com.amazon.bedrock/",
            )],
            r#"{"message":"Too many requests, please wait before trying again."}"#,
        );
        assert!(matches!(&err, AwsError::Service { code, .. } if code == "ThrottlingException"));
        assert!(err.is_throttling());
    }

    #[test]
    fn an_answer_without_a_code_is_named_by_its_status() {
        let err = error(503, &[], "<html>bad gateway</html>");
        assert_eq!(err.to_string(), "test answered 503: Service Unavailable: ");
    }

    /// A local HTTP peer: drops the first `drop_first` connections without answering (a
    /// connection closed while the process was frozen), answers the rest with `answer`.
    async fn peer(drop_first: usize, answer: &'static str) -> String {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let address = listener.local_addr().expect("address");
        tokio::spawn(async move {
            let mut accepted = 0;
            while let Ok((mut socket, _)) = listener.accept().await {
                accepted += 1;
                let mut buffer = vec![0; 64 * 1024];
                let _ = socket.read(&mut buffer).await;
                if accepted <= drop_first {
                    continue;
                }
                let response = format!(
                    "HTTP/1.1 200 OK\r\ncontent-type: application/x-amz-json-1.0\r\ncontent-length: {}\r\n\r\n{answer}",
                    answer.len()
                );
                let _ = socket.write_all(response.as_bytes()).await;
            }
        });
        format!("http://{address}")
    }

    fn client() -> AwsClient {
        AwsClient::new(
            Some("us-east-1".into()),
            Some(Credentials::new("a", "b", None)),
        )
        .expect("client")
    }

    fn call(endpoint: &str, timeout: Duration) -> Call<'_> {
        Call {
            service: "sqs",
            endpoint,
            path: "/",
            content_type: "application/x-amz-json-1.0",
            target: Some("AmazonSQS.SendMessageBatch"),
            body: b"{}",
            timeout,
        }
    }

    #[tokio::test]
    async fn a_connection_closed_without_an_answer_is_tried_once_more() {
        let endpoint = peer(1, r#"{"Successful":[],"Failed":[]}"#).await;
        let answer = client()
            .post(call(&endpoint, Duration::from_secs(5)))
            .await
            .expect("the second connection answers");
        assert_eq!(&answer.body[..], br#"{"Successful":[],"Failed":[]}"#);
    }

    #[tokio::test]
    async fn a_peer_that_closes_every_connection_is_a_transport_error() {
        let endpoint = peer(usize::MAX, "").await;
        let err = client()
            .post(call(&endpoint, Duration::from_secs(5)))
            .await
            .expect_err("no answer");
        assert!(
            matches!(err, AwsError::Transport { service: "sqs", .. }),
            "{err}"
        );
    }

    #[tokio::test]
    async fn a_silent_peer_is_a_timeout() {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let endpoint = format!("http://{}", listener.local_addr().expect("address"));
        // Accepts and holds the connection, never answering.
        let _held = tokio::spawn(async move {
            let (socket, _) = listener.accept().await.expect("accept");
            tokio::time::sleep(Duration::from_secs(30)).await;
            drop(socket);
        });
        let err = client()
            .post(call(&endpoint, Duration::from_millis(300)))
            .await
            .expect_err("times out");
        assert!(
            matches!(err, AwsError::Timeout { service: "sqs", .. }),
            "{err}"
        );
    }

    #[tokio::test]
    async fn calls_without_credentials_or_region_fail_with_the_variable_to_set() {
        let call = Call {
            service: "sqs",
            endpoint: "http://127.0.0.1:1",
            path: "/",
            content_type: "application/x-amz-json-1.0",
            target: None,
            body: b"{}",
            timeout: Duration::from_secs(1),
        };
        let no_credentials = AwsClient::new(Some("us-east-1".into()), None).expect("client");
        assert_eq!(
            no_credentials
                .post(call)
                .await
                .expect_err("fails")
                .to_string(),
            "AWS_ACCESS_KEY_ID is not set"
        );
        let no_region =
            AwsClient::new(None, Some(Credentials::new("a", "b", None))).expect("client");
        assert_eq!(
            no_region.post(call).await.expect_err("fails").to_string(),
            "AWS_REGION is not set"
        );
    }
}
