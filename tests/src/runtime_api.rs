//! A stand-in for the AWS Lambda Runtime API, so a function's real binary can be started as
//! Lambda starts it (`AWS_LAMBDA_RUNTIME_API=127.0.0.1:<port>`) and handed events.
//!
//! It speaks the part of the protocol a function uses
//! (`docs.aws.amazon.com/lambda/latest/dg/runtimes-api.html`):
//! - `GET /2018-06-01/runtime/invocation/next` answers the next event with its request id,
//!   deadline, function ARN and trace id headers, and, once the events are used up, waits as a
//!   frozen Lambda sandbox would;
//! - `POST …/invocation/{id}/response` and `POST …/invocation/{id}/error` are recorded as
//!   [`Outcome`]s, with when they arrived;
//! - `POST /2018-06-01/runtime/init/error` is recorded too.
//!
//! It also records when the first `next` arrived: the end of the function's init phase, which
//! the cold-start bench measures from the moment the process was started.
//!
//! [`lambda_command`] builds the command that starts a workspace binary as Lambda would, and
//! [`sample`] reads an `events/` sample; the runtime test and the cold-start bench share both.

use http_body_util::{BodyExt, Full};
use hyper::body::{Bytes, Incoming};
use hyper::service::service_fn;
use hyper_util::rt::{TokioExecutor, TokioIo};
use serde_json::Value;
use std::collections::VecDeque;
use std::convert::Infallible;
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::net::TcpListener;
use tokio::sync::Notify;

const PREFIX: &str = "/2018-06-01/runtime";

/// What a function reported for one event (or for its init).
#[derive(Debug, Clone, PartialEq)]
pub enum Outcome {
    /// `POST …/invocation/{id}/response`.
    Response {
        request_id: String,
        body: Value,
        at: Instant,
    },
    /// `POST …/invocation/{id}/error`.
    Error {
        request_id: String,
        body: Value,
        at: Instant,
    },
    /// `POST /runtime/init/error`: the function could not start.
    InitError { body: Value, at: Instant },
}

impl Outcome {
    pub fn at(&self) -> Instant {
        match self {
            Outcome::Response { at, .. }
            | Outcome::Error { at, .. }
            | Outcome::InitError { at, .. } => *at,
        }
    }
}

#[derive(Debug, Default)]
struct State {
    events: VecDeque<(String, Value)>,
    /// Events handed out, by request id, and when.
    handed: Vec<(String, Instant)>,
    first_poll: Option<Instant>,
    outcomes: Vec<Outcome>,
}

/// A running stand-in; stops serving when dropped.
#[derive(Debug)]
pub struct RuntimeApi {
    address: String,
    state: Arc<Mutex<State>>,
    changed: Arc<Notify>,
    server: tokio::task::JoinHandle<()>,
}

impl RuntimeApi {
    /// Serves `events`, in order, on a free loopback port.
    pub async fn start(events: Vec<Value>) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0")
            .await
            .expect("a free loopback port");
        let address = listener.local_addr().expect("its address").to_string();
        let state = Arc::new(Mutex::new(State {
            events: events
                .into_iter()
                .enumerate()
                .map(|(i, event)| (format!("00000000-0000-4000-8000-{i:012}"), event))
                .collect(),
            ..State::default()
        }));
        let changed = Arc::new(Notify::new());
        let server = tokio::spawn(serve(listener, state.clone(), changed.clone()));
        Self {
            address,
            state,
            changed,
            server,
        }
    }

    /// What `AWS_LAMBDA_RUNTIME_API` is set to.
    pub fn address(&self) -> &str {
        &self.address
    }

    /// When the function first asked for an event (the end of its init), if it has.
    pub fn first_poll(&self) -> Option<Instant> {
        self.lock().first_poll
    }

    /// When each event was handed out, in order.
    pub fn handed(&self) -> Vec<(String, Instant)> {
        self.lock().handed.clone()
    }

    /// Waits until `count` outcomes were reported (or `timeout` passed) and returns them all.
    pub async fn outcomes(&self, count: usize, timeout: Duration) -> Vec<Outcome> {
        let deadline = tokio::time::Instant::now() + timeout;
        loop {
            let notified = self.changed.notified();
            {
                let state = self.lock();
                if state.outcomes.len() >= count {
                    return state.outcomes.clone();
                }
            }
            if tokio::time::timeout_at(deadline, notified).await.is_err() {
                return self.lock().outcomes.clone();
            }
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }
}

impl Drop for RuntimeApi {
    fn drop(&mut self) {
        self.server.abort();
    }
}

async fn serve(listener: TcpListener, state: Arc<Mutex<State>>, changed: Arc<Notify>) {
    loop {
        let Ok((stream, _)) = listener.accept().await else {
            continue;
        };
        let state = state.clone();
        let changed = changed.clone();
        tokio::spawn(async move {
            let service = service_fn(move |request| {
                let state = state.clone();
                let changed = changed.clone();
                async move { Ok::<_, Infallible>(route(request, &state, &changed).await) }
            });
            let _ = hyper_util::server::conn::auto::Builder::new(TokioExecutor::new())
                .serve_connection(TokioIo::new(stream), service)
                .await;
        });
    }
}

async fn route(
    request: hyper::Request<Incoming>,
    state: &Mutex<State>,
    changed: &Notify,
) -> hyper::Response<Full<Bytes>> {
    let at = Instant::now();
    let lock = || state.lock().unwrap_or_else(|e| e.into_inner());
    let method = request.method().clone();
    let path = request.uri().path().to_owned();
    let Some(rest) = path.strip_prefix(PREFIX) else {
        return status(404);
    };

    if method == hyper::Method::GET && rest == "/invocation/next" {
        let next = {
            let mut state = lock();
            state.first_poll.get_or_insert(at);
            let next = state.events.pop_front();
            if let Some((id, _)) = &next {
                state.handed.push((id.clone(), at));
            }
            next
        };
        let Some((request_id, event)) = next else {
            // No more events: a frozen sandbox never answers.
            std::future::pending::<()>().await;
            return status(500);
        };
        let deadline = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap_or_default()
            + Duration::from_secs(30);
        return hyper::Response::builder()
            .header("content-type", "application/json")
            .header("lambda-runtime-aws-request-id", &request_id)
            .header(
                "lambda-runtime-deadline-ms",
                deadline.as_millis().to_string(),
            )
            .header(
                "lambda-runtime-invoked-function-arn",
                "arn:aws:lambda:us-east-1:000000000000:function:stand-in",
            )
            .header(
                "lambda-runtime-trace-id",
                "Root=1-5759e988-bd862e3fe1be46a994272793;Sampled=1",
            )
            .body(Full::new(Bytes::from(event.to_string())))
            .unwrap_or_else(|_| status(500));
    }

    if method != hyper::Method::POST {
        return status(405);
    }
    let body = request
        .into_body()
        .collect()
        .await
        .map(|collected| collected.to_bytes())
        .unwrap_or_default();
    let body: Value = serde_json::from_slice(&body)
        .unwrap_or_else(|_| Value::String(String::from_utf8_lossy(&body).into_owned()));
    let outcome = if rest == "/init/error" {
        Outcome::InitError { body, at }
    } else if let Some(id) = rest
        .strip_prefix("/invocation/")
        .and_then(|r| r.strip_suffix("/response"))
    {
        Outcome::Response {
            request_id: id.to_owned(),
            body,
            at,
        }
    } else if let Some(id) = rest
        .strip_prefix("/invocation/")
        .and_then(|r| r.strip_suffix("/error"))
    {
        Outcome::Error {
            request_id: id.to_owned(),
            body,
            at,
        }
    } else {
        return status(404);
    };
    lock().outcomes.push(outcome);
    changed.notify_waiters();
    status(202)
}

fn status(code: u16) -> hyper::Response<Full<Bytes>> {
    let mut response = hyper::Response::new(Full::new(Bytes::new()));
    *response.status_mut() = hyper::StatusCode::from_u16(code).unwrap_or_default();
    response
}

/// A sample event from `events/`, as JSON.
pub fn sample(name: &str) -> Value {
    let path = format!("{}/../events/{name}", env!("CARGO_MANIFEST_DIR"));
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{path}: {e}"))
}

/// A workspace binary of the profile the caller was built with: `target/<profile>/<name>`,
/// beside the calling test's or bench's own `deps/` folder.
pub fn workspace_binary(name: &str) -> PathBuf {
    let exe = std::env::current_exe().expect("the caller's path");
    let profile_dir = exe
        .parent()
        .and_then(|deps| deps.parent())
        .expect("target/<profile>/deps/<caller>");
    let path = profile_dir.join(name);
    assert!(
        path.exists(),
        "{} is not built: `cargo build -p {name}` (scripts/test builds every binary; \
         scripts/bench-cold-start the release ones)",
        path.display()
    );
    path
}

/// The command that starts binary `name` as Lambda starts a function: its reserved variables,
/// `AWS_LAMBDA_RUNTIME_API` at `runtime`, static AWS credentials, quiet logs, then `env`.
pub fn lambda_command(name: &str, runtime: &RuntimeApi, env: &[(&str, &str)]) -> Command {
    let mut command = Command::new(workspace_binary(name));
    command
        .env("AWS_LAMBDA_RUNTIME_API", runtime.address())
        .env("AWS_LAMBDA_FUNCTION_NAME", name)
        .env("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST")
        .env("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "256")
        .env("AWS_LAMBDA_LOG_GROUP_NAME", format!("/aws/lambda/{name}"))
        .env("AWS_LAMBDA_LOG_STREAM_NAME", "stand-in")
        .env("AWS_REGION", "us-east-1")
        .env("AWS_ACCESS_KEY_ID", "testing")
        .env("AWS_SECRET_ACCESS_KEY", "testing")
        .env("AWS_SESSION_TOKEN", "testing-session")
        .env("RUST_LOG", "warn")
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    for (key, value) in env {
        command.env(key, value);
    }
    command
}
