//! Bootstrap only: config, tracing, the pool and the SQS client once per cold start, then the
//! runtime loop. The database connection starts opening here, on a task
//! (`Db::open_in_background`), so the first request finds it open or part-way there; nothing
//! here waits for it.

use domain::jobs::Queue;
use lambda_http::{Error, Request, service_fn};
use platform::config::{optional, required, required_secret};
use platform::jobs::{JobSink, Publisher, SqsSink};
use std::collections::HashMap;
use whatsapp::WhatsApp;

#[tokio::main]
async fn main() -> Result<(), Error> {
    platform::telemetry::init_json();
    let db = platform::config::database_from_env(store::SessionLimits::WEBHOOK)?;
    db.open_in_background();
    let app_secret = required_secret("WHATSAPP_APP_SECRET")?;
    let verify_token = required_secret("WHATSAPP_VERIFY_TOKEN")?;
    // Only the scoring queue: this function produces no other job.
    let scoring_url = required("SCORING_QUEUE_URL")?;
    let sqs = platform::jobs::sqs_client(optional("SQS_ENDPOINT_URL"))?;
    let sink = JobSink::Sqs(SqsSink::new(
        sqs,
        HashMap::from([(Queue::Scoring, scoring_url)]),
    ));
    let app = WhatsApp {
        publisher: Publisher::new(db.clone(), sink),
        db,
        app_secret,
        verify_token,
    };
    let app = &app;
    lambda_http::run(service_fn(move |request: Request| async move {
        Ok::<_, Error>(app.handle(request).await)
    }))
    .await
}
