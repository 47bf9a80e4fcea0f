//! Bootstrap only: config, tracing and the pool once per cold start, then the runtime loop.
//! The database connection starts opening here, on a task (`Db::open_in_background`), so
//! the first request finds it open or part-way there; nothing here waits for it.

use lambda_http::{Error, Request, service_fn};
use platform::clock::Clock;
use platform::config::required_secret;
use stripe::Stripe;

#[tokio::main]
async fn main() -> Result<(), Error> {
    platform::telemetry::init_json();
    let db = platform::config::database_from_env(store::SessionLimits::WEBHOOK)?;
    db.open_in_background();
    let webhook_secret = required_secret("STRIPE_WEBHOOK_SECRET")?;
    let app = Stripe {
        db,
        webhook_secret,
        clock: Clock::System,
    };
    let app = &app;
    lambda_http::run(service_fn(move |request: Request| async move {
        Ok::<_, Error>(app.handle(request).await)
    }))
    .await
}
