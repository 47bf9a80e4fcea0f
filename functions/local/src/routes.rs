//! The local stack's route table: the same routes `template.yaml` gives API Gateway, each handed
//! to the same handler its Lambda function runs. Adding a function is one `.route(…)` line here.

use crate::{health, openapi, router::Router, sites};
use http::Method;
use platform::clock::Clock;
use platform::jobs::Publisher;
use platform::jobs::RelaySettings;
use scheduled::Jobs;
use scrape_quota::ScrapeQuota;
use std::sync::Arc;
use store::Db;
use stripe::Stripe;
use web_agent::WebAgent;
use whatsapp::WhatsApp;

/// What the handlers share: built once at start-up.
#[derive(Debug, Clone)]
pub struct App {
    pub db: Db,
    /// Publishes the jobs a handler committed (in-process or SQS, see `dispatch`).
    pub publisher: Publisher,
    pub web_agent: Arc<WebAgent>,
    pub whatsapp: Arc<WhatsApp>,
    pub stripe: Arc<Stripe>,
    pub scrape_quota: Arc<ScrapeQuota>,
    /// The scheduled jobs, run on their intervals (`schedules`) and on demand
    /// (`POST /local/jobs/{name}`).
    pub jobs: Arc<Jobs>,
}

impl App {
    /// Every handler over one database and publisher, with the WhatsApp secrets given.
    pub fn new(
        db: Db,
        publisher: Publisher,
        whatsapp_app_secret: domain::secret::Secret,
        whatsapp_verify_token: domain::secret::Secret,
    ) -> Self {
        Self {
            web_agent: Arc::new(WebAgent {
                db: db.clone(),
                publisher: publisher.clone(),
            }),
            whatsapp: Arc::new(WhatsApp {
                db: db.clone(),
                publisher: publisher.clone(),
                app_secret: whatsapp_app_secret,
                verify_token: whatsapp_verify_token,
            }),
            stripe: Arc::new(Stripe {
                db: db.clone(),
                webhook_secret: domain::secret::Secret::new(
                    crate::seed::DEFAULT_STRIPE_WEBHOOK_SECRET,
                ),
                clock: Clock::System,
            }),
            scrape_quota: Arc::new(ScrapeQuota {
                db: db.clone(),
                clock: Clock::System,
            }),
            jobs: Arc::new(Jobs {
                db: db.clone(),
                publisher: publisher.clone(),
                relay: RelaySettings::default(),
                clock: Clock::System,
            }),
            db,
            publisher,
        }
    }
}

impl App {
    /// The Stripe handler with another signing secret (`STRIPE_WEBHOOK_SECRET`, e.g. the one
    /// `stripe listen` prints) instead of the local default.
    #[must_use]
    pub fn with_stripe_webhook_secret(mut self, secret: domain::secret::Secret) -> Self {
        self.stripe = Arc::new(Stripe {
            db: self.db.clone(),
            webhook_secret: secret,
            clock: Clock::System,
        });
        self
    }
}

pub fn router(app: App) -> Router {
    let db = app.db.clone();
    let web = app.web_agent.clone();
    let wa_get = app.whatsapp.clone();
    let wa_post = app.whatsapp.clone();
    let stripe = app.stripe.clone();
    let quota_post = app.scrape_quota.clone();
    let quota_get = app.scrape_quota.clone();
    let sites_db = app.db.clone();
    let jobs = app.jobs.clone();
    Router::new()
        .route(Method::GET, "/health", move |_req| {
            let db = db.clone();
            async move { health::handle(&db).await }
        })
        .route(Method::GET, "/openapi.json", move |req| async move {
            openapi::handle(&platform::http::request_id(&req))
        })
        .route(Method::POST, "/webhooks/web-agent", move |req| {
            let h = web.clone();
            async move { h.handle(req).await }
        })
        .route(Method::GET, "/webhooks/whatsapp", move |req| {
            let h = wa_get.clone();
            async move { h.handle(req).await }
        })
        .route(Method::POST, "/webhooks/whatsapp", move |req| {
            let h = wa_post.clone();
            async move { h.handle(req).await }
        })
        .route(Method::POST, "/webhooks/stripe", move |req| {
            let h = stripe.clone();
            async move { h.handle(req).await }
        })
        .route(
            Method::POST,
            "/agents/{agent_id}/scrape-quota",
            move |req| {
                let h = quota_post.clone();
                async move { h.handle(req).await }
            },
        )
        .route(Method::GET, "/agents/{agent_id}/scrape-quota", move |req| {
            let h = quota_get.clone();
            async move { h.handle(req).await }
        })
        .route(Method::GET, "/sites/{site_slug}", move |req| {
            let db = sites_db.clone();
            async move { sites::handle(&db, req).await }
        })
        .route(Method::POST, "/local/jobs/{name}", move |req| {
            let jobs = jobs.clone();
            async move { crate::jobs::handle(&jobs, req).await }
        })
}
