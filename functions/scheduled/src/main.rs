//! Bootstrap only: config, tracing and the pool once per cold start, then the runtime loop.

use lambda_runtime::{Error, LambdaEvent, service_fn};
use platform::clock::Clock;
use platform::jobs::{JobSink, Publisher, RelaySettings, SqsSink};
use scheduled::{Jobs, ScheduledInput};

#[tokio::main]
async fn main() -> Result<(), Error> {
    platform::telemetry::init_json();
    let db = platform::config::database_from_env(store::SessionLimits::SCHEDULED)?;
    db.open_in_background();
    let sink = JobSink::Sqs(SqsSink::from_env()?);
    let jobs = Jobs {
        publisher: Publisher::new(db.clone(), sink),
        db,
        relay: RelaySettings::default(),
        clock: Clock::System,
    };
    let jobs = &jobs;
    lambda_runtime::run(service_fn(
        move |event: LambdaEvent<ScheduledInput>| async move {
            jobs.handle(event.payload).await.map_err(Error::from)
        },
    ))
    .await
}
