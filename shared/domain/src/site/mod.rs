//! Agent microsites: the typed site document, the writers that produce it and the HTML page.
//!
//! The flow is pure: [`SiteInput`] (agent, config and listings as the store read them) goes
//! through a writer to a [`SiteDocument`], which is serialised to canonical JSON (hashed with
//! SHA-256 so an unchanged rebuild writes no new version) and rendered to one static page.
//!
//! Facts (listings, prices, phone, areas) always come from the input. A writer supplies only the
//! copy ([`SiteCopy`]): the template writer here, deterministically, and an AI writer outside
//! this crate, whose output is checked by [`SiteCopy::validate`] before it is used.
//!
//! Modules:
//! - [`ai`]: the AI writer's prompt and the checks its answer must pass (no I/O here).
//! - [`money`]: exact decimal amounts, currencies and locale-aware price formatting.
//! - [`values`]: URLs, colours, fonts and slugs that can only hold safe forms.
//! - [`document`]: the document types, serialised to `agent_site_documents.document`.
//! - [`template`]: the deterministic writer and the assembly of copy + facts into a document.
//! - [`render`]: the static HTML page (maud; escaped by construction, no JavaScript).

pub mod ai;
pub mod document;
pub mod money;
pub mod render;
pub mod template;
pub mod values;

pub use document::SiteDocument;

use crate::email::Email;
use crate::ids::AgentId;
use crate::phone::PhoneNumber;
use crate::validation::ValidationErrors;
use chrono::{DateTime, Utc};
use document::FaqItem;
use money::{Currency, Decimal2, Locale};
use serde::Deserialize;
use sha2::{Digest, Sha256};
use uuid::Uuid;
use values::{Colour, FontFamily, SafeUrl, SiteSlug};

/// Everything a site is built from, as read in one snapshot.
#[derive(Debug, Clone, PartialEq)]
pub struct SiteInput {
    pub agent: AgentProfile,
    pub config: SiteConfig,
    pub listings: Vec<ListingInput>,
    /// The workspace's market (from `default_region`); prices are written in its style.
    pub locale: Locale,
}

#[derive(Debug, Clone, PartialEq)]
pub struct AgentProfile {
    pub id: AgentId,
    pub name: String,
    pub email: Option<Email>,
    pub phone: Option<PhoneNumber>,
}

/// `agent_configs`, with its JSONB columns parsed.
#[derive(Debug, Clone, PartialEq)]
pub struct SiteConfig {
    pub slug: SiteSlug,
    pub bio: Option<String>,
    /// ISO 639-1 codes (`en`, `hi`).
    pub languages: Vec<String>,
    pub areas: Vec<String>,
    pub theme: ThemeConfig,
    pub branding: BrandingConfig,
    pub cta: CtaConfig,
}

/// `agent_configs.theme`. Unknown keys are ignored and unsafe values dropped (see [`values`]),
/// so a typo in a dashboard falls back to the default theme instead of failing the build.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ThemeConfig {
    pub primary: Option<Colour>,
    pub accent: Option<Colour>,
    pub background: Option<Colour>,
    pub text: Option<Colour>,
    pub heading_font: Option<FontFamily>,
    pub body_font: Option<FontFamily>,
}

/// `agent_configs.branding`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct BrandingConfig {
    pub name: Option<String>,
    pub tagline: Option<String>,
    pub logo_url: Option<SafeUrl>,
}

/// `agent_configs.cta`: `{"label": "Book a visit", "action": "whatsapp"|"call"|"email"|"url",
/// "url": "https://…"}`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CtaConfig {
    pub label: Option<String>,
    pub action: CtaAction,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum CtaAction {
    /// Click-to-chat on the agent's WhatsApp number (the default: it is how Indian buyers reach
    /// brokers).
    #[default]
    WhatsApp,
    Call,
    Email,
    Url(SafeUrl),
}

/// Loose shapes of the JSONB columns: every field optional, every value a string.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct RawTheme {
    primary: Option<String>,
    accent: Option<String>,
    background: Option<String>,
    text: Option<String>,
    #[serde(alias = "headingFont", alias = "font_heading")]
    heading_font: Option<String>,
    #[serde(alias = "bodyFont", alias = "font_body", alias = "font")]
    body_font: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct RawBranding {
    name: Option<String>,
    tagline: Option<String>,
    #[serde(alias = "logoUrl")]
    logo_url: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct RawCta {
    label: Option<String>,
    action: Option<String>,
    url: Option<String>,
}

/// Reads a JSONB object leniently: a wrong shape (or a non-string value) reads as "not set".
fn lenient<T: Default + for<'de> Deserialize<'de>>(value: &serde_json::Value) -> T {
    serde_json::from_value(value.clone()).unwrap_or_default()
}

fn non_blank(text: Option<String>) -> Option<String> {
    text.map(|t| t.trim().to_owned()).filter(|t| !t.is_empty())
}

impl ThemeConfig {
    pub fn from_json(value: &serde_json::Value) -> Self {
        let raw: RawTheme = lenient(value);
        let colour = |c: Option<String>| c.as_deref().and_then(Colour::parse);
        let font = |f: Option<String>| f.as_deref().and_then(FontFamily::parse);
        Self {
            primary: colour(raw.primary),
            accent: colour(raw.accent),
            background: colour(raw.background),
            text: colour(raw.text),
            heading_font: font(raw.heading_font),
            body_font: font(raw.body_font),
        }
    }
}

impl BrandingConfig {
    pub fn from_json(value: &serde_json::Value) -> Self {
        let raw: RawBranding = lenient(value);
        Self {
            name: non_blank(raw.name),
            tagline: non_blank(raw.tagline),
            logo_url: raw.logo_url.as_deref().and_then(SafeUrl::parse),
        }
    }
}

impl CtaConfig {
    pub fn from_json(value: &serde_json::Value) -> Self {
        let raw: RawCta = lenient(value);
        let action = match raw.action.as_deref().map(str::trim) {
            Some("call" | "phone") => CtaAction::Call,
            Some("email") => CtaAction::Email,
            Some("url" | "link") => raw
                .url
                .as_deref()
                .and_then(SafeUrl::parse)
                .map_or(CtaAction::WhatsApp, CtaAction::Url),
            _ => CtaAction::WhatsApp,
        };
        Self {
            label: non_blank(raw.label),
            action,
        }
    }
}

/// `property_listings.status`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ListingStatus {
    Draft,
    Active,
    UnderOffer,
    Sold,
    Rented,
    Withdrawn,
}

impl ListingStatus {
    pub fn parse(text: &str) -> Option<Self> {
        Some(match text {
            "draft" => Self::Draft,
            "active" => Self::Active,
            "under_offer" => Self::UnderOffer,
            "sold" => Self::Sold,
            "rented" => Self::Rented,
            "withdrawn" => Self::Withdrawn,
            _ => return None,
        })
    }

    /// Whether a buyer can still act on it, i.e. whether it belongs on the site. The store's
    /// query and the producer trigger use the same two statuses.
    pub fn is_visible(self) -> bool {
        matches!(self, Self::Active | Self::UnderOffer)
    }
}

/// One `property_listings` row.
#[derive(Debug, Clone, PartialEq)]
pub struct ListingInput {
    pub id: Uuid,
    pub title: String,
    pub status: ListingStatus,
    pub price: Option<Decimal2>,
    pub currency: Option<Currency>,
    pub bedrooms: Option<u16>,
    pub bathrooms: Option<Decimal2>,
    pub area_sqm: Option<Decimal2>,
    pub address: Option<String>,
    /// Raw photo URLs; unsafe ones are dropped when the document is written.
    pub photos: Vec<String>,
    pub url: Option<String>,
    /// `created_at`: newest listings are shown first.
    pub listed_at: DateTime<Utc>,
}

/// The copy a writer supplies; everything else in the document is fact from the input.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SiteCopy {
    pub headline: String,
    pub subheadline: String,
    pub about: Vec<String>,
    pub faq: Vec<FaqItem>,
    pub meta_description: String,
}

/// Length limits of the copy, in characters. They keep the layout intact and bound what an AI
/// writer can put on a broker's page.
pub mod limits {
    pub const HEADLINE: usize = 90;
    pub const SUBHEADLINE: usize = 160;
    pub const ABOUT_PARAGRAPHS: usize = 4;
    pub const ABOUT_PARAGRAPH: usize = 600;
    pub const FAQ_ITEMS: usize = 6;
    pub const FAQ_QUESTION: usize = 120;
    pub const FAQ_ANSWER: usize = 400;
    /// What search engines show of a description.
    pub const META_DESCRIPTION: usize = 160;
}

impl SiteCopy {
    /// Checks the copy against the document's limits, naming every field that breaks one.
    pub fn validate(&self) -> Result<(), ValidationErrors> {
        let mut errors = ValidationErrors::new();
        let mut text = |field: String, value: &str, max: usize| {
            let len = value.trim().chars().count();
            if len == 0 {
                errors.push(field, "is empty");
            } else if len > max {
                errors.push(field, format!("is longer than {max} characters"));
            }
        };
        text("headline".into(), &self.headline, limits::HEADLINE);
        text("subheadline".into(), &self.subheadline, limits::SUBHEADLINE);
        for (i, p) in self.about.iter().enumerate() {
            text(format!("about.{i}"), p, limits::ABOUT_PARAGRAPH);
        }
        for (i, item) in self.faq.iter().enumerate() {
            text(
                format!("faq.{i}.question"),
                &item.question,
                limits::FAQ_QUESTION,
            );
            text(format!("faq.{i}.answer"), &item.answer, limits::FAQ_ANSWER);
        }
        text(
            "metaDescription".into(),
            &self.meta_description,
            limits::META_DESCRIPTION,
        );
        if self.about.is_empty() || self.about.len() > limits::ABOUT_PARAGRAPHS {
            errors.push(
                "about",
                format!("must have 1 to {} paragraphs", limits::ABOUT_PARAGRAPHS),
            );
        }
        if self.faq.len() > limits::FAQ_ITEMS {
            errors.push(
                "faq",
                format!("must have at most {} items", limits::FAQ_ITEMS),
            );
        }
        if errors.is_empty() {
            Ok(())
        } else {
            Err(errors)
        }
    }
}

/// Which writer produced a version (`agent_site_documents.generator`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Generator {
    Template,
    /// The AI writer, with the Bedrock model id that wrote the copy.
    Ai(String),
}

impl Generator {
    pub fn label(&self) -> String {
        match self {
            Self::Template => "template".to_owned(),
            Self::Ai(model) => format!("ai:{model}"),
        }
    }
}

/// A built site: the document, its canonical JSON, the JSON's SHA-256 and the page.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BuiltSite {
    pub document: SiteDocument,
    /// The canonical serialisation; `content_sha256` is over exactly these bytes.
    pub json: String,
    pub content_sha256: [u8; 32],
    pub html: String,
    pub generator: Generator,
}

impl BuiltSite {
    pub fn new(document: SiteDocument, generator: Generator) -> Self {
        // Serialising plain structs of strings and numbers cannot fail; fall back to an empty
        // object rather than panic, which would only show as a hash mismatch.
        let json = serde_json::to_string(&document).unwrap_or_else(|_| "{}".to_owned());
        let content_sha256 = Sha256::digest(json.as_bytes()).into();
        let html = render::page(&document);
        Self {
            document,
            json,
            content_sha256,
            html,
            generator,
        }
    }

    /// The template writer's site: deterministic and always available.
    pub fn from_template(input: &SiteInput) -> Self {
        Self::new(template::write(input), Generator::Template)
    }

    /// A site with a writer's copy over the input's facts. The copy must have passed
    /// [`SiteCopy::validate`].
    pub fn with_copy(input: &SiteInput, copy: SiteCopy, generator: Generator) -> Self {
        Self::new(template::assemble(input, copy), generator)
    }
}

#[cfg(test)]
mod tests;
