//! Bootstrap only: config, tracing and the pool once per cold start, then the SQS event loop.

use aws_lambda_events::event::sqs::{SqsBatchResponse, SqsEvent};
use lambda_runtime::{Error, LambdaEvent, service_fn};
use platform::clock::Clock;
use platform::jobs::{Consumer, run_batch};
use score_lead::ScoreLead;

#[tokio::main]
async fn main() -> Result<(), Error> {
    platform::telemetry::init_json();
    let db = platform::config::database_from_env(store::SessionLimits::CONSUMER)?;
    db.open_in_background();
    let consumer = ScoreLead {
        db,
        clock: Clock::System,
    };
    let consumer = &consumer;
    lambda_runtime::run(service_fn(move |event: LambdaEvent<SqsEvent>| async move {
        Ok::<SqsBatchResponse, Error>(run_batch(event.payload, |jobs| consumer.consume(jobs)).await)
    }))
    .await
}
