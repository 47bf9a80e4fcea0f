//! The local stack's route table: the same routes `template.yaml` gives API Gateway, each handed
//! to the same handler its Lambda function runs. Adding a function is one `.route(…)` line here.

use crate::{health, router::Router};
use http::Method;
use platform::jobs::Publisher;
use store::Db;

/// What the handlers share: built once at start-up.
#[derive(Debug, Clone)]
pub struct App {
    pub db: Db,
    /// Publishes the jobs a handler committed (in-process or SQS, see `dispatch`).
    pub publisher: Publisher,
}

pub fn router(app: App) -> Router {
    let health_app = app.clone();
    Router::new().route(Method::GET, "/health", move |_req| {
        let app = health_app.clone();
        async move { health::handle(&app.db).await }
    })
}
