//! The one `TestApp` of the end-to-end tests: a database of its own, workspace A, every HTTP
//! handler as Lambda runs it over that database, and the jobs they published (in-process, so a
//! test can read them).
//!
//! [`spawn_app`] starts one with the defaults; [`TestApp::builder`] changes what a test needs
//! changed (the plan's conversation limit, the WhatsApp or Stripe credentials, Stripe's clock).
//! Verbs are named after the route they call and act as its caller would:
//! - web agent ([`crate::web_agent`]): `post_web_agent`, `post_web_agent_with_key`,
//!   `post_web_agent_raw`;
//! - WhatsApp ([`crate::whatsapp`]): `post_whatsapp`, `post_whatsapp_bytes`,
//!   `post_whatsapp_with_signature`, `post_whatsapp_fixture`, `verify_whatsapp`;
//! - Stripe ([`crate::stripe`]): `post_stripe_event`, `post_stripe_bytes`,
//!   `post_stripe_with_signature`;
//! - scrape quota ([`crate::scrape_quota`]), each at an instant the test chooses:
//!   `post_scrape_units`, `post_scrape_quota_raw`, `get_scrape_quota`;
//! - any request: [`TestApp::send`] routes it by path as API Gateway would.
//!
//! Arranging and reading helpers live beside the verbs of their route; plain SQL comes from
//! [`Sql`].

use crate::fixtures::{self, Sql, Tenant};
use crate::response::TestResponse;
use chrono::{DateTime, Utc};
use domain::jobs::Job;
use domain::secret::Secret;
use lambda_http::Request;
use platform::clock::Clock;
use platform::jobs::{InProcessDelivery, JobSink, Publisher};
use scrape_quota::ScrapeQuota;
use std::sync::Mutex;
use store::testing::TestDb;
use stripe::Stripe;
use tokio::sync::mpsc;
use uuid::Uuid;
use web_agent::WebAgent;
use whatsapp::WhatsApp;

/// Connections in the test database's pool: enough for the concurrency tests (40 requests at
/// once) to run without queueing for one.
const POOL_SIZE: usize = 40;

/// What a [`TestApp`] is started with; [`Default`] is what most tests want.
#[derive(Debug, Clone)]
pub struct Builder {
    region: &'static str,
    conversation_limit: i32,
    whatsapp_app_secret: String,
    whatsapp_verify_token: String,
    stripe_secret: String,
    stripe_now: i64,
}

impl Default for Builder {
    fn default() -> Self {
        Self {
            region: "IN",
            conversation_limit: 100,
            whatsapp_app_secret: crate::whatsapp::APP_SECRET.to_owned(),
            whatsapp_verify_token: crate::whatsapp::VERIFY_TOKEN.to_owned(),
            stripe_secret: crate::stripe::SECRET.to_owned(),
            stripe_now: crate::stripe::NOW,
        }
    }
}

impl Builder {
    /// Workspace A's plan allows this many conversations a month (default 100).
    pub fn conversation_limit(mut self, limit: i32) -> Self {
        self.conversation_limit = limit;
        self
    }

    /// The WhatsApp app secret and verify token (default: the tests' own).
    pub fn whatsapp_credentials(mut self, app_secret: &str, verify_token: &str) -> Self {
        self.whatsapp_app_secret = app_secret.to_owned();
        self.whatsapp_verify_token = verify_token.to_owned();
        self
    }

    /// The Stripe endpoint secret and the Stripe handler's clock, in Unix seconds (default: the
    /// tests' secret at [`crate::stripe::NOW`]).
    pub fn stripe(mut self, secret: &str, now: i64) -> Self {
        self.stripe_secret = secret.to_owned();
        self.stripe_now = now;
        self
    }

    pub async fn spawn(self) -> TestApp {
        let test_db = TestDb::with_pool_size(POOL_SIZE).await;
        let tenant = {
            let client = test_db.client().await;
            fixtures::tenant_with(&client, self.region, self.conversation_limit).await
        };
        let (sender, published) = mpsc::unbounded_channel();
        let db = test_db.db().clone();
        let publisher = Publisher::new(db.clone(), JobSink::InProcess(sender));
        let stripe_now = DateTime::from_timestamp(self.stripe_now, 0).expect("a valid instant");
        TestApp {
            web_agent: WebAgent {
                publisher: publisher.clone(),
                db: db.clone(),
            },
            whatsapp: WhatsApp {
                publisher,
                db: db.clone(),
                app_secret: Secret::new(self.whatsapp_app_secret),
                verify_token: Secret::new(self.whatsapp_verify_token),
            },
            stripe: Stripe {
                db,
                webhook_secret: Secret::new(self.stripe_secret),
                clock: Clock::Fixed(stripe_now),
            },
            published: Mutex::new(published),
            tenant,
            test_db,
        }
    }
}

/// A [`TestApp`] with the defaults: workspace A in region `IN` on a plan of 100 conversations,
/// the tests' WhatsApp and Stripe credentials.
pub async fn spawn_app() -> TestApp {
    TestApp::builder().spawn().await
}

#[derive(Debug)]
pub struct TestApp {
    pub test_db: TestDb,
    /// Workspace A: its API key, WhatsApp channel and agent.
    pub tenant: Tenant,
    web_agent: WebAgent,
    whatsapp: WhatsApp,
    stripe: Stripe,
    published: Mutex<mpsc::UnboundedReceiver<InProcessDelivery>>,
}

impl TestApp {
    pub fn builder() -> Builder {
        Builder::default()
    }

    /// Another workspace in the same database (region `IN`, 100 conversations), with its own
    /// key, WhatsApp channel and agent.
    pub async fn another_tenant(&self) -> Tenant {
        let client = self.test_db.client().await;
        fixtures::tenant(&client).await
    }

    /// Runs any request through the handler its path belongs to, as API Gateway routes it. The
    /// scrape quota's handler runs on the system clock here; [`TestApp::send_at`] pins it.
    pub async fn send(&self, request: Request) -> TestResponse {
        self.send_with_clock(request, Clock::System).await
    }

    /// [`TestApp::send`] with the scrape quota's clock stopped at `now`.
    pub async fn send_at(&self, request: Request, now: DateTime<Utc>) -> TestResponse {
        self.send_with_clock(request, Clock::Fixed(now)).await
    }

    async fn send_with_clock(&self, request: Request, clock: Clock) -> TestResponse {
        let path = request.uri().path().to_owned();
        // Each handler's future is boxed: one future holding the largest of four would make
        // every verb's future that large (clippy's large_futures, and stack in join_all).
        let response = match path.as_str() {
            crate::web_agent::PATH => Box::pin(self.web_agent.handle(request)).await,
            crate::whatsapp::PATH => Box::pin(self.whatsapp.handle(request)).await,
            crate::stripe::PATH => Box::pin(self.stripe.handle(request)).await,
            _ if path.starts_with("/agents/") && path.ends_with("/scrape-quota") => {
                let handler = ScrapeQuota {
                    db: self.test_db.db().clone(),
                    clock,
                };
                Box::pin(handler.handle(request)).await
            }
            _ => panic!("no handler in the TestApp serves {path}"),
        };
        TestResponse::from_response(response)
    }

    /// The jobs published since the last call, decoded.
    pub fn published_jobs(&self) -> Vec<Job> {
        let mut receiver = self
            .published
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        std::iter::from_fn(|| receiver.try_recv().ok())
            .map(|delivery| Job::from_body(&delivery.body).expect("a published job decodes"))
            .collect()
    }
}

impl Sql for TestApp {
    fn test_db(&self) -> &TestDb {
        &self.test_db
    }

    fn workspace_id(&self) -> Uuid {
        self.tenant.workspace_id
    }
}
