//! Bootstrap only: config, tracing and the pool once per cold start, then the SQS event loop.

use aws_lambda_events::event::sqs::{SqsBatchResponse, SqsEvent};
use lambda_runtime::{Error, LambdaEvent, service_fn};
use platform::jobs::{Consumer, run_batch};
use site_rebuild::SiteRebuild;

#[tokio::main]
async fn main() -> Result<(), Error> {
    platform::telemetry::init_json();
    let db = platform::config::database_from_env(store::SessionLimits::CONSUMER)?;
    db.open_in_background();
    let consumer = SiteRebuild {
        db,
        writer: platform::site_writer::AiWriter::from_env().map(std::sync::Arc::new),
    };
    let consumer = &consumer;
    lambda_runtime::run(service_fn(move |event: LambdaEvent<SqsEvent>| async move {
        Ok::<SqsBatchResponse, Error>(run_batch(event.payload, |jobs| consumer.consume(jobs)).await)
    }))
    .await
}
