//! The demo workspace the local stack seeds at every start (idempotently): slug `demo`, an API
//! key from `LOCAL_API_KEY`, a WhatsApp channel for `LOCAL_WHATSAPP_PHONE_NUMBER_ID`, one agent
//! with a microsite config, a few listings and the default follow-up rule, and a job for any
//! microsite that still needs building.

use sha2::{Digest, Sha256};
use store::{Db, StoreError};

/// Used when `LOCAL_API_KEY` is unset: a local-only demo value, printed at start-up.
pub const DEFAULT_API_KEY: &str = "le_local_demo_key_change_me";
/// Used when `LOCAL_WHATSAPP_PHONE_NUMBER_ID` is unset: the id in Meta's documentation examples,
/// so the fixtures in `tests/fixtures/whatsapp` map to the demo workspace as they are.
pub const DEFAULT_WHATSAPP_PHONE_NUMBER_ID: &str = "106540352242922";

/// Used when `WHATSAPP_APP_SECRET` is unset: signs the sample in `events/whatsapp-message-post.json`.
pub const DEFAULT_WHATSAPP_APP_SECRET: &str = "local_app_secret";
/// Used when `WHATSAPP_VERIFY_TOKEN` is unset: the token in `events/whatsapp-verify-get.json`.
pub const DEFAULT_WHATSAPP_VERIFY_TOKEN: &str = "local_verify_token";
/// Used when `STRIPE_WEBHOOK_SECRET` is unset: signs the sample in
/// `events/stripe-subscription-updated.json` (at its stated timestamp). Printed at start-up.
pub const DEFAULT_STRIPE_WEBHOOK_SECRET: &str = "whsec_local_dev_secret";

#[derive(Debug, Clone)]
pub struct DemoSettings {
    pub api_key: String,
    pub whatsapp_phone_number_id: String,
    /// Local-only values; the deployed functions require the real ones.
    pub whatsapp_app_secret: domain::secret::Secret,
    pub whatsapp_verify_token: domain::secret::Secret,
    /// `STRIPE_WEBHOOK_SECRET`, e.g. the one `stripe listen` prints; else the local default.
    pub stripe_webhook_secret: Option<domain::secret::Secret>,
}

impl DemoSettings {
    pub fn from_env() -> Self {
        Self {
            api_key: platform::config::optional("LOCAL_API_KEY")
                .unwrap_or_else(|| DEFAULT_API_KEY.to_owned()),
            whatsapp_phone_number_id: platform::config::optional("LOCAL_WHATSAPP_PHONE_NUMBER_ID")
                .unwrap_or_else(|| DEFAULT_WHATSAPP_PHONE_NUMBER_ID.to_owned()),
            whatsapp_app_secret: domain::secret::Secret::new(
                platform::config::optional("WHATSAPP_APP_SECRET")
                    .unwrap_or_else(|| DEFAULT_WHATSAPP_APP_SECRET.to_owned()),
            ),
            whatsapp_verify_token: domain::secret::Secret::new(
                platform::config::optional("WHATSAPP_VERIFY_TOKEN")
                    .unwrap_or_else(|| DEFAULT_WHATSAPP_VERIFY_TOKEN.to_owned()),
            ),
            stripe_webhook_secret: platform::config::optional("STRIPE_WEBHOOK_SECRET")
                .map(domain::secret::Secret::new),
        }
    }
}

pub async fn seed(db: &Db, demo: &DemoSettings) -> Result<(), StoreError> {
    let key_hash = Sha256::digest(demo.api_key.as_bytes()).to_vec();
    let prefix: String = demo.api_key.chars().take(8).collect();
    let client = db.client().await?;
    client
        .execute(
            include_str!("seed.sql"),
            &[&key_hash, &prefix, &demo.whatsapp_phone_number_id],
        )
        .await?;
    // The demo site is built at first start without anyone asking: inserting its config already
    // wrote a job (trigger). This also covers a cluster made before the triggers existed, or a
    // job given up on: any site still flagged gets a (coalesced) job.
    client
        .query_typed(
            "SELECT enqueue_site_rebuilds(array_agg(agent_id), 'local_start')
             FROM agent_configs WHERE needs_site_rebuild",
            &[],
        )
        .await?;
    Ok(())
}
