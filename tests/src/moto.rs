//! moto's server as a real SQS peer for tests.
//!
//! `scripts/test` installs moto into `.tools/venv`; `MOTO_SERVER` may name another executable.
//! A missing moto is a test failure with a message saying how to get it, never a silent skip.

use aws_sdk_sqs::config::{BehaviorVersion, Credentials, Region};
use std::net::TcpListener;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

#[derive(Debug)]
pub struct MotoServer {
    child: Child,
    pub endpoint: String,
}

fn executable() -> PathBuf {
    if let Some(path) = std::env::var_os("MOTO_SERVER") {
        return PathBuf::from(path);
    }
    let venv = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../.tools/venv/bin/moto_server");
    if venv.exists() {
        return venv;
    }
    PathBuf::from("moto_server")
}

impl MotoServer {
    /// Starts a server and waits until it answers.
    pub async fn start() -> Self {
        let port = TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .expect("a free loopback port")
            .port();
        let child = Command::new(executable())
            .args(["-H", "127.0.0.1", "-p", &port.to_string()])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start moto_server (run scripts/test, which installs it, or set MOTO_SERVER)");
        let server = Self {
            child,
            endpoint: format!("http://127.0.0.1:{port}"),
        };
        let deadline = Instant::now() + Duration::from_secs(30);
        while tokio::net::TcpStream::connect(("127.0.0.1", port))
            .await
            .is_err()
        {
            assert!(
                Instant::now() < deadline,
                "moto_server did not start within 30 s"
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        server
    }

    /// The SDK's SQS client for this server with static test credentials: the independent
    /// side of a test (creating queues, receiving what the functions sent).
    pub fn client(&self) -> aws_sdk_sqs::Client {
        client_for(&self.endpoint)
    }

    /// The functions' own SQS client (`platform::aws`) for this server.
    pub fn publisher_client(&self) -> platform::aws::sqs::SqsClient {
        publisher_client_for(&self.endpoint)
    }
}

/// The functions' SQS client for any endpoint (also an unreachable one, to test failures).
pub fn publisher_client_for(endpoint: &str) -> platform::aws::sqs::SqsClient {
    let aws = platform::aws::AwsClient::new(
        Some("us-east-1".to_owned()),
        Some(platform::aws::Credentials::new("testing", "testing", None)),
    )
    .expect("an AWS client");
    platform::aws::sqs::SqsClient::new(aws, Some(endpoint.to_owned()))
}

/// An SQS client for any endpoint (also an unreachable one, to test failures).
pub fn client_for(endpoint: &str) -> aws_sdk_sqs::Client {
    let config = aws_sdk_sqs::Config::builder()
        .behavior_version(BehaviorVersion::latest())
        .region(Region::new("us-east-1"))
        .credentials_provider(Credentials::new("testing", "testing", None, None, "tests"))
        .endpoint_url(endpoint)
        .build();
    aws_sdk_sqs::Client::from_conf(config)
}

impl Drop for MotoServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
