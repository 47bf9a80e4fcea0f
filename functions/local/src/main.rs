//! `cargo run -p local` serves the whole stack. Against `DATABASE_URL` (or the private cluster
//! when it is unset), and then exiting:
//! - `cargo run -p local -- migrate` applies migrations and function sources;
//! - `cargo run -p local -- replay [--provider P] [--since TIME]` applies every journaled
//!   delivery that failed to apply (what the `journal_replay` job does, without its backoff) and
//!   prints the summary; the jobs they commit are left to the outbox relay;
//! - `cargo run -p local -- job NAME` runs one scheduled job and prints its JSON summary;
//! - `cargo run -p local -- redrive scoring|sites` moves that queue's dead-letter queue back to
//!   it, through the SQS API (the queue URL from `SCORING_QUEUE_URL` / `SITES_QUEUE_URL`, an
//!   SQS-compatible server from `SQS_ENDPOINT_URL`, AWS region and credentials from `AWS_REGION`,
//!   `AWS_ACCESS_KEY_ID`, `AWS_SECRET_ACCESS_KEY` and `AWS_SESSION_TOKEN`).

use domain::jobs::Queue;
use local::{database, dispatch, routes, schedules, seed, server};
use platform::clock::Clock;
use platform::jobs::Publisher;
use std::net::SocketAddr;
use std::process::ExitCode;
use std::sync::Arc;

/// The local stack's pool: several requests and background jobs at once.
const LOCAL_POOL_SIZE: usize = 8;
const DEFAULT_PORT: u16 = 3000;

#[tokio::main]
async fn main() -> ExitCode {
    platform::telemetry::init_pretty();
    let command = std::env::args().nth(1);
    let result = match command.as_deref() {
        None | Some("serve") => serve().await,
        Some("migrate") => migrate().await,
        Some("replay") => replay(std::env::args().skip(2).collect()).await,
        Some("job") => job(std::env::args().nth(2)).await,
        Some("redrive") => redrive(std::env::args().nth(2)).await,
        Some(other) => Err(format!(
            "unknown command {other:?}; use `serve`, `migrate`, `replay`, `job NAME` or \
             `redrive QUEUE`"
        )),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            tracing::error!("{message}");
            ExitCode::FAILURE
        }
    }
}

/// `redrive QUEUE`: the dead-letter queue of `scoring` or `sites` back to its source queue.
async fn redrive(queue: Option<String>) -> Result<(), String> {
    let queue = queue
        .ok_or("usage: redrive QUEUE (scoring or sites)")?
        .parse::<Queue>()
        .map_err(|e| format!("redrive: the queue {e}"))?;
    let variable = match queue {
        Queue::Scoring => "SCORING_QUEUE_URL",
        Queue::Sites => "SITES_QUEUE_URL",
    };
    let url = platform::config::required(variable).map_err(|e| e.to_string())?;
    let endpoint = platform::config::optional("SQS_ENDPOINT_URL");
    let client = dispatch::sdk_client(endpoint.as_deref());
    let report = platform::jobs::redrive(&client, &url)
        .await
        .map_err(|e| format!("redrive {queue}: {e}"))?;
    #[allow(clippy::print_stdout)]
    {
        println!("{}", serde_json::json!(report));
    }
    Ok(())
}

async fn migrate() -> Result<(), String> {
    let database = database::open().map_err(|e| format!("database: {e}"))?;
    let outcome = run_migrations(&database.url).await;
    stop(&database);
    outcome
}

/// `job NAME`: one scheduled job now, its summary on stdout (for scripts and people alike).
async fn job(name: Option<String>) -> Result<(), String> {
    let names = || scheduled::ScheduledJob::ALL.map(|j| j.name()).join(", ");
    let name = name.ok_or_else(|| format!("usage: job NAME (one of {})", names()))?;
    let job = scheduled::ScheduledJob::parse(&name)
        .map_err(|e| format!("{e}; the jobs are {}", names()))?;
    // Without the served stack's consumers, a relay would only record failed publishes.
    if job == scheduled::ScheduledJob::OutboxRelay {
        return Err(
            "outbox_relay publishes to the stack's consumers: run it with \
                    `POST /local/jobs/outbox_relay` on a running stack"
                .to_owned(),
        );
    }
    let database = database::open().map_err(|e| format!("database: {e}"))?;
    let outcome = run_job(&database, job).await;
    stop(&database);
    let summary = outcome?;
    #[allow(clippy::print_stdout)]
    {
        println!("{summary}");
    }
    Ok(())
}

async fn run_job(
    database: &database::LocalDatabase,
    job: scheduled::ScheduledJob,
) -> Result<serde_json::Value, String> {
    run_migrations(database.owner_url()).await?;
    let db = store::Db::new(&store::PoolSettings {
        url: database.functions_url(),
        max_size: 1,
        root_cert_path: platform::config::optional("PGSSLROOTCERT"),
    })
    .map_err(|e| format!("DATABASE_URL: {e}"))?;
    let jobs = scheduled::Jobs {
        publisher: Publisher::new(db.clone(), platform::jobs::JobSink::Disabled),
        db,
        relay: platform::jobs::RelaySettings::default(),
        clock: Clock::System,
    };
    jobs.run(job)
        .await
        .map_err(|e| format!("{}: {}", job.name(), platform::problem::error_chain(&e)))
}

/// Deliveries one `replay` command applies at most.
const REPLAY_LIMIT: i64 = 10_000;

async fn replay(args: Vec<String>) -> Result<(), String> {
    let filter = replay_filter(&args)?;
    let database = database::open().map_err(|e| format!("database: {e}"))?;
    let outcome = replay_on(&database, &filter).await;
    stop(&database);
    outcome
}

async fn replay_on(
    database: &database::LocalDatabase,
    filter: &store::journal::ReplayFilter,
) -> Result<(), String> {
    run_migrations(database.owner_url()).await?;
    let db = store::Db::new(&store::PoolSettings {
        url: database.functions_url(),
        max_size: 2,
        root_cert_path: platform::config::optional("PGSSLROOTCERT"),
    })
    .map_err(|e| format!("DATABASE_URL: {e}"))?;
    let report = store::journal::replay(&db, chrono::Utc::now(), REPLAY_LIMIT, filter)
        .await
        .map_err(|e| format!("replay: {}", platform::problem::error_chain(&e)))?;
    // The summary is the command's output, not a log line.
    #[allow(clippy::print_stdout)]
    {
        println!(
            "{}",
            serde_json::to_string_pretty(&report).unwrap_or_default()
        );
    }
    Ok(())
}

/// `--provider web_agent|whatsapp|stripe` and `--since <RFC 3339 time>`.
fn replay_filter(args: &[String]) -> Result<store::journal::ReplayFilter, String> {
    let mut filter = store::journal::ReplayFilter {
        ignore_backoff: true,
        ..Default::default()
    };
    let mut args = args.iter();
    while let Some(flag) = args.next() {
        let value = args.next().ok_or_else(|| format!("{flag} needs a value"))?;
        match flag.as_str() {
            "--provider" => {
                let provider = value
                    .parse::<store::journal::Provider>()
                    .map_err(|e| format!("--provider: {value:?} {e}"))?;
                filter.provider = Some(provider);
            }
            "--since" => {
                let since = chrono::DateTime::parse_from_rfc3339(value)
                    .map_err(|e| format!("--since: {value:?} is not an RFC 3339 time ({e})"))?;
                filter.since = Some(since.with_timezone(&chrono::Utc));
            }
            other => return Err(format!("replay: unknown option {other:?}")),
        }
    }
    Ok(filter)
}

async fn run_migrations(url: &str) -> Result<(), String> {
    let root_cert = platform::config::optional("PGSSLROOTCERT");
    let report = store::migrate::run(url, root_cert.as_deref())
        .await
        .map_err(|e| format!("migrations: {}", platform::problem::error_chain(&e)))?;
    if report.applied.is_empty() {
        tracing::info!("migrations: schema is up to date");
    } else {
        tracing::info!(applied = ?report.applied, "migrations applied");
    }
    Ok(())
}

async fn serve() -> Result<(), String> {
    let port = platform::config::parsed_or("PORT", DEFAULT_PORT).map_err(|e| e.to_string())?;
    let database = database::open().map_err(|e| format!("database: {e}"))?;
    let outcome = serve_on(&database, port).await;
    stop(&database);
    outcome
}

async fn serve_on(database: &database::LocalDatabase, port: u16) -> Result<(), String> {
    run_migrations(database.owner_url()).await?;
    // Handlers, consumers and jobs run as the functions' role, as in production.
    let db = store::Db::new(&store::PoolSettings {
        url: database.functions_url(),
        max_size: platform::config::parsed_or("DATABASE_POOL_SIZE", LOCAL_POOL_SIZE)
            .map_err(|e| e.to_string())?,
        root_cert_path: platform::config::optional("PGSSLROOTCERT"),
    })
    .map_err(|e| format!("DATABASE_URL: {e}"))?;
    let demo = seed::DemoSettings::from_env();
    seed::seed(&db, &demo).await.map_err(|e| {
        format!(
            "seeding the demo workspace: {}",
            platform::problem::error_chain(&e)
        )
    })?;

    let address = SocketAddr::from(([127, 0, 0, 1], port));
    let listener = tokio::net::TcpListener::bind(address)
        .await
        .map_err(|e| format!("listening on {address}: {e} (set PORT to use another port)"))?;
    // Consumers register here, one line each.
    let consumers = dispatch::Consumers::new()
        .with(
            Queue::Scoring,
            Arc::new(score_lead::ScoreLead {
                db: db.clone(),
                clock: Clock::System,
            }),
        )
        .with(
            Queue::Sites,
            Arc::new(site_rebuild::SiteRebuild {
                db: db.clone(),
                writer: platform::site_writer::AiWriter::from_env().map(Arc::new),
            }),
        );
    let sink = match platform::config::optional("SQS_ENDPOINT_URL") {
        Some(endpoint) => dispatch::start_sqs(&endpoint, consumers)
            .await
            .map_err(|e| format!("SQS_ENDPOINT_URL: {e}"))?,
        None => dispatch::start_in_process(consumers),
    };
    let publisher = Publisher::new(db.clone(), sink);
    dispatch::start_trigger_relay(publisher.clone());
    let mut app = routes::App::new(
        db,
        publisher,
        demo.whatsapp_app_secret.clone(),
        demo.whatsapp_verify_token.clone(),
    );
    schedules::start(app.jobs.as_ref().clone());
    if let Some(secret) = &demo.stripe_webhook_secret {
        app = app.with_stripe_webhook_secret(secret.clone());
    }
    let router = routes::router(app);
    announce(address, database, &demo);
    server::serve(listener, router, shutdown_signal())
        .await
        .map_err(|e| format!("server: {e}"))?;
    tracing::info!("shutting down");
    Ok(())
}

/// What a developer needs to start using the stack, printed once.
fn announce(address: SocketAddr, database: &database::LocalDatabase, demo: &seed::DemoSettings) {
    let where_from = match &database.cluster {
        Some((cluster, _)) => format!("private cluster in {}", cluster.data_dir().display()),
        None => "DATABASE_URL".to_owned(),
    };
    // These lines are the stack's user interface, not logs: they go to stdout as they are.
    #[allow(clippy::print_stdout)]
    {
        println!();
        println!("  Lead Engine local stack");
        println!("  URL:       http://{address}  (try GET /health)");
        println!("  Database:  {}  ({where_from})", database.url);
        println!("  Workspace: demo");
        println!("  API key:   {}  (Authorization: Bearer …)", demo.api_key);
        println!(
            "  WhatsApp phone_number_id: {}",
            demo.whatsapp_phone_number_id
        );
        match &demo.stripe_webhook_secret {
            Some(_) => println!("  Stripe webhook secret: from STRIPE_WEBHOOK_SECRET"),
            // The local default is no secret: it is in the source, and printing it is the point.
            None => println!(
                "  Stripe webhook secret: {}  (set STRIPE_WEBHOOK_SECRET to the one `stripe listen` prints)",
                seed::DEFAULT_STRIPE_WEBHOOK_SECRET
            ),
        }
        println!("  Stop with Ctrl-C.");
        println!();
    }
}

fn stop(database: &database::LocalDatabase) {
    if let Some((cluster, running)) = &database.cluster
        && running.started_here
        && let Err(err) = cluster.stop()
    {
        tracing::warn!(error = %err, "could not stop the private PostgreSQL cluster");
    }
}

async fn shutdown_signal() {
    let ctrl_c = tokio::signal::ctrl_c();
    #[cfg(unix)]
    {
        let mut term =
            match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
                Ok(signal) => signal,
                Err(_) => {
                    let _ = ctrl_c.await;
                    return;
                }
            };
        tokio::select! {
            _ = ctrl_c => {}
            _ = term.recv() => {}
        }
    }
    #[cfg(not(unix))]
    let _ = ctrl_c.await;
}
