//! The local stack: all of Lead Engine in one process, for development and demos.
//!
//! `cargo run -p local` starts (or reuses) a private PostgreSQL cluster when `DATABASE_URL` is
//! unset, applies migrations, seeds a demo workspace and serves every HTTP route on
//! `127.0.0.1:$PORT`. The handlers are the same code the Lambda functions run; only the
//! transport differs.
//!
//! Modules and what each owns:
//! - [`database`]: where the database comes from (`DATABASE_URL` or the private cluster).
//! - [`seed`]: the idempotent demo workspace (API key, WhatsApp channel, agent, listings).
//! - [`router`]: a small method + path router that hands lambda_http requests to handlers.
//! - [`routes`]: the route table: one line per function.
//! - [`server`]: hyper in front of the router (body limit, query string, path parameters).
//! - [`dispatch`]: outbox jobs to consumers, in-process or through an SQS-compatible server.
//! - [`schedules`]: the scheduled jobs on their intervals.
//! - [`health`]: `GET /health`, a real database round trip.
//! - [`openapi`]: `GET /openapi.json`, the HTTP contract (`openapi.yaml`) as JSON.
//! - [`sites`]: `GET /sites/{site_slug}`, the live version of an agent's microsite.
//! - [`jobs`]: `POST /local/jobs/{name}`, one scheduled job run now (local stack only).

pub mod database;
pub mod dispatch;
pub mod health;
pub mod jobs;
pub mod openapi;
pub mod router;
pub mod routes;
pub mod schedules;
pub mod seed;
pub mod server;
pub mod sites;
