//! Agent microsites: the input a build reads, the versions it writes, the page a visitor gets.
//!
//! - [`load_inputs`] reads a batch's agents, configs, regions and visible listings in one
//!   statement ([`load.sql`](sites/load.sql)), i.e. one snapshot, with the `site_revision` the
//!   build is of.
//! - [`publish`] writes a batch's built sites in one call of `site_publish`
//!   ([`publish.sql`](sites/publish.sql)): gapless versions under the config row's lock, no
//!   version for an unchanged document, and the rebuild flag cleared only when the input did not
//!   change during the build.
//! - [`live_html`] is the newest version's page for a slug (`GET /sites/{site_slug}`).
//!
//! The producers are database triggers (the SQL sources in `sites/`): dashboards and importers
//! write `agent_configs`, `property_listings` and `agents` directly, so only the database sees
//! every change. They write at most one pending `site_rebuild` outbox row per agent.

use crate::StoreError;
use chrono::{DateTime, Utc};
use domain::email::Email;
use domain::ids::{AgentId, WorkspaceId};
use domain::phone::PhoneNumber;
use domain::site::money::{Currency, Decimal2, Locale};
use domain::site::values::SiteSlug;
use domain::site::{
    AgentProfile, BrandingConfig, BuiltSite, CtaConfig, ListingInput, ListingStatus, SiteConfig,
    SiteInput, ThemeConfig,
};
use serde::Deserialize;
use tokio_postgres::GenericClient;
use tokio_postgres::types::Type;
use uuid::Uuid;

/// What a build found for one agent.
#[derive(Debug, Clone, PartialEq)]
pub enum Loaded {
    /// Everything a site is built from, and the config's `site_revision` at that moment.
    Ready {
        input: Box<SiteInput>,
        revision: i64,
    },
    /// The agent exists but has no site config: nothing to build.
    NoConfig,
    /// The live version was built from the current input (a duplicate job): nothing to build.
    UpToDate,
}

/// One listing as load.sql writes it into its JSON array.
#[derive(Debug, Deserialize)]
struct ListingRow {
    id: Uuid,
    title: String,
    status: String,
    price: Option<String>,
    currency: Option<String>,
    bedrooms: Option<u16>,
    bathrooms: Option<String>,
    area_sqm: Option<String>,
    address: Option<String>,
    photos: serde_json::Value,
    url: Option<String>,
    listed_at: DateTime<Utc>,
}

fn decode(context: &'static str, problem: impl Into<String>) -> StoreError {
    StoreError::Decode {
        context,
        source: problem.into().into(),
    }
}

fn decimal(context: &'static str, text: Option<String>) -> Result<Option<Decimal2>, StoreError> {
    text.map(|t| Decimal2::parse(&t).map_err(|e| decode(context, e.to_string())))
        .transpose()
}

impl ListingRow {
    fn into_input(self) -> Result<ListingInput, StoreError> {
        let status = ListingStatus::parse(&self.status)
            .ok_or_else(|| decode("property_listings.status", "unknown status"))?;
        // Photos are strings or {"url": …} objects, as importers wrote them.
        let photos = match self.photos {
            serde_json::Value::Array(items) => items
                .into_iter()
                .filter_map(|p| match p {
                    serde_json::Value::String(url) => Some(url),
                    serde_json::Value::Object(mut o) => match o.remove("url") {
                        Some(serde_json::Value::String(url)) => Some(url),
                        _ => None,
                    },
                    _ => None,
                })
                .collect(),
            _ => Vec::new(),
        };
        Ok(ListingInput {
            id: self.id,
            title: self.title,
            status,
            price: decimal("property_listings.price", self.price)?,
            currency: self
                .currency
                .map(|c| {
                    Currency::parse(&c)
                        .map_err(|e| decode("property_listings.currency", e.to_string()))
                })
                .transpose()?,
            bedrooms: self.bedrooms,
            bathrooms: decimal("property_listings.bathrooms", self.bathrooms)?,
            area_sqm: decimal("property_listings.area_sqm", self.area_sqm)?,
            address: self.address.filter(|a| !a.trim().is_empty()),
            photos,
            url: self.url,
            listed_at: self.listed_at,
        })
    }
}

fn loaded_from_row(row: &tokio_postgres::Row) -> Result<(AgentId, Loaded), StoreError> {
    let agent_id = AgentId::from_uuid(row.try_get("agent_id")?);
    let Some(slug) = row.try_get::<_, Option<String>>("site_slug")? else {
        return Ok((agent_id, Loaded::NoConfig));
    };
    let slug =
        SiteSlug::parse(&slug).map_err(|e| decode("agent_configs.site_slug", e.to_string()))?;
    if row.try_get::<_, bool>("up_to_date")? {
        return Ok((agent_id, Loaded::UpToDate));
    }
    let listings: serde_json::Value = row.try_get("listings")?;
    let listings: Vec<ListingRow> =
        serde_json::from_value(listings).map_err(|e| decode("property_listings", e.to_string()))?;
    let region: String = row.try_get("default_region")?;
    let input = SiteInput {
        agent: AgentProfile {
            id: agent_id,
            name: row.try_get("name")?,
            // The columns are CHECKed; a value that still fails to parse is left off the site
            // rather than failing the build.
            email: row
                .try_get::<_, Option<String>>("email")?
                .and_then(|e| Email::parse(&e).ok()),
            phone: row
                .try_get::<_, Option<String>>("phone_e164")?
                .and_then(|p| PhoneNumber::parse_e164(&p).ok()),
        },
        config: SiteConfig {
            slug,
            bio: row
                .try_get::<_, Option<String>>("bio")?
                .filter(|b| !b.trim().is_empty()),
            languages: row.try_get("languages")?,
            areas: row.try_get("areas")?,
            theme: ThemeConfig::from_json(&row.try_get("theme")?),
            branding: BrandingConfig::from_json(&row.try_get("branding")?),
            cta: CtaConfig::from_json(&row.try_get("cta")?),
        },
        listings: listings
            .into_iter()
            .map(ListingRow::into_input)
            .collect::<Result<_, _>>()?,
        locale: Locale::for_region(&region),
    };
    Ok((
        agent_id,
        Loaded::Ready {
            input: Box::new(input),
            revision: row.try_get("site_revision")?,
        },
    ))
}

/// Reads what the batch's builds need. Agents that do not exist in the job's workspace are
/// absent from the answer.
pub async fn load_inputs<C: GenericClient>(
    client: &C,
    jobs: &[(WorkspaceId, AgentId)],
) -> Result<Vec<(AgentId, Loaded)>, StoreError> {
    let agents: Vec<Uuid> = jobs.iter().map(|(_, a)| a.as_uuid()).collect();
    let workspaces: Vec<Uuid> = jobs.iter().map(|(w, _)| w.as_uuid()).collect();
    let rows = client
        .query_typed(
            include_str!("sites/load.sql"),
            &[(&agents, Type::UUID_ARRAY), (&workspaces, Type::UUID_ARRAY)],
        )
        .await?;
    rows.iter().map(loaded_from_row).collect()
}

/// A site built from the input of `revision`, ready to publish.
#[derive(Debug, Clone)]
pub struct Build {
    pub agent_id: AgentId,
    pub revision: i64,
    pub site: BuiltSite,
}

/// What publishing did for one agent.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PublishOutcome {
    /// A new version was written.
    Created,
    /// The newest version already has this content; nothing was written.
    Unchanged,
    /// The newest version was built from newer input; this older build was dropped.
    Superseded,
    /// The agent or its config was deleted since the input was read.
    Missing,
}

/// One agent's result: the outcome, the live version after it, and whether another build is
/// still needed (input changed during this one; a job for it is already in the outbox).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Published {
    pub agent_id: AgentId,
    pub outcome: PublishOutcome,
    pub live_version: Option<i32>,
    pub rebuild_pending: bool,
}

/// Writes the batch's builds in one call (one transaction when `client` is not in one).
pub async fn publish<C: GenericClient>(
    client: &C,
    builds: &[Build],
) -> Result<Vec<Published>, StoreError> {
    if builds.is_empty() {
        return Ok(Vec::new());
    }
    let agents: Vec<Uuid> = builds.iter().map(|b| b.agent_id.as_uuid()).collect();
    let revisions: Vec<i64> = builds.iter().map(|b| b.revision).collect();
    let shas: Vec<&[u8]> = builds.iter().map(|b| &b.site.content_sha256[..]).collect();
    // The canonical JSON, parsed once more as jsonb: the column stores the document, the hash
    // is of the exact bytes the domain wrote.
    let documents: Vec<serde_json::Value> = builds
        .iter()
        .map(|b| serde_json::from_str(&b.site.json))
        .collect::<Result<_, _>>()
        .map_err(|e| decode("site document", e.to_string()))?;
    let htmls: Vec<&str> = builds.iter().map(|b| b.site.html.as_str()).collect();
    let generators: Vec<String> = builds.iter().map(|b| b.site.generator.label()).collect();
    let rows = client
        .query_typed(
            "SELECT agent_id, outcome, live_version, rebuild_pending
             FROM site_publish($1, $2, $3, $4, $5, $6)",
            &[
                (&agents, Type::UUID_ARRAY),
                (&revisions, Type::INT8_ARRAY),
                (&shas, Type::BYTEA_ARRAY),
                (&documents, Type::JSONB_ARRAY),
                (&htmls, Type::TEXT_ARRAY),
                (&generators, Type::TEXT_ARRAY),
            ],
        )
        .await?;
    rows.iter()
        .map(|row| {
            let outcome: String = row.try_get("outcome")?;
            Ok(Published {
                agent_id: AgentId::from_uuid(row.try_get("agent_id")?),
                outcome: match outcome.as_str() {
                    "created" => PublishOutcome::Created,
                    "unchanged" => PublishOutcome::Unchanged,
                    "superseded" => PublishOutcome::Superseded,
                    "missing" => PublishOutcome::Missing,
                    other => return Err(decode("site_publish.outcome", other)),
                },
                live_version: row.try_get("live_version")?,
                rebuild_pending: row.try_get("rebuild_pending")?,
            })
        })
        .collect()
}

/// The live (newest) version's page for a site slug; `None` for an unknown slug or a site that
/// was never built.
pub async fn live_html<C: GenericClient>(
    client: &C,
    slug: &SiteSlug,
) -> Result<Option<String>, StoreError> {
    let row = client
        .query_typed(
            "SELECT d.html
             FROM agent_configs c
             JOIN agent_site_documents d ON d.agent_id = c.agent_id
             WHERE c.site_slug = $1 AND d.html IS NOT NULL
             ORDER BY d.version DESC
             LIMIT 1",
            &[(&slug.as_str(), Type::TEXT)],
        )
        .await?;
    Ok(row.first().map(|r| r.try_get("html")).transpose()?)
}

/// One AI writer call, for `ai_usage_logs`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AiUsage {
    pub workspace_id: WorkspaceId,
    pub agent_id: AgentId,
    pub model: String,
    pub input_tokens: i32,
    pub output_tokens: i32,
    pub latency_ms: i32,
    /// The error class (`timeout`, `throttled`, `invalid_output`, …); `None` = success.
    pub error: Option<&'static str>,
}

/// The operation name site builds log under.
pub const AI_OPERATION_BUILD_SITE: &str = "build_site";

/// Records a batch's AI writer calls in one statement.
pub async fn log_ai_usage<C: GenericClient>(
    client: &C,
    usage: &[AiUsage],
) -> Result<u64, StoreError> {
    if usage.is_empty() {
        return Ok(0);
    }
    let workspaces: Vec<Uuid> = usage.iter().map(|u| u.workspace_id.as_uuid()).collect();
    let agents: Vec<Uuid> = usage.iter().map(|u| u.agent_id.as_uuid()).collect();
    let models: Vec<&str> = usage.iter().map(|u| u.model.as_str()).collect();
    let inputs: Vec<i32> = usage.iter().map(|u| u.input_tokens.max(0)).collect();
    let outputs: Vec<i32> = usage.iter().map(|u| u.output_tokens.max(0)).collect();
    let latencies: Vec<i32> = usage.iter().map(|u| u.latency_ms.max(0)).collect();
    let errors: Vec<Option<&str>> = usage.iter().map(|u| u.error).collect();
    let rows = client
        .query_typed(
            // One statement writes every attempt, so now() is the same for all of them; each
            // row is a microsecond after the one before, so created_at keeps the attempt order.
            "INSERT INTO ai_usage_logs (workspace_id, agent_id, operation, model, input_tokens,
                                        output_tokens, latency_ms, success, error, created_at)
             SELECT w, a, $8, m, i, o, l, e IS NULL, e, now() + (n - 1) * interval '1 microsecond'
             FROM unnest($1::uuid[], $2::uuid[], $3::text[], $4::int4[], $5::int4[], $6::int4[],
                         $7::text[]) WITH ORDINALITY AS u (w, a, m, i, o, l, e, n)
             RETURNING id",
            &[
                (&workspaces, Type::UUID_ARRAY),
                (&agents, Type::UUID_ARRAY),
                (&models, Type::TEXT_ARRAY),
                (&inputs, Type::INT4_ARRAY),
                (&outputs, Type::INT4_ARRAY),
                (&latencies, Type::INT4_ARRAY),
                (&errors, Type::TEXT_ARRAY),
                (&AI_OPERATION_BUILD_SITE, Type::TEXT),
            ],
        )
        .await?;
    Ok(rows.len() as u64)
}
