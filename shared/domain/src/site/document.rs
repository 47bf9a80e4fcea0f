//! The site document: what `agent_site_documents.document` holds and what the page is rendered
//! from.
//!
//! Every part is a typed struct (no `serde_json::Value` maps), so serialising the same document
//! always gives the same bytes: field order is declaration order, not hash or insertion order.
//! The JSON uses camelCase keys, including the section types (`focusAreas`, `listingsGrid`,
//! `ctaBand`) that dashboards and static hosts read.

use super::money::{Currency, Decimal2, Price};
use super::values::{Colour, FontFamily, SafeUrl, SiteSlug};
use serde::{Serialize, Serializer};

/// The document layout this build writes; a reader that sees a newer one knows to refuse it.
pub const SCHEMA_VERSION: u32 = 1;

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SiteDocument {
    pub schema_version: u32,
    pub site: Site,
    /// Generated from the sections and kept (AuroApp generated nav items, then dropped them).
    pub nav: Vec<NavItem>,
    pub pages: Vec<Page>,
    /// Only listings a buyer can still act on: `active` and `under_offer`.
    pub listings: Vec<Listing>,
    pub contact: Contact,
    /// schema.org `RealEstateAgent`, embedded in the page for search engines.
    pub jsonld: JsonLd,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Site {
    pub slug: SiteSlug,
    /// The language of the copy (`en`).
    pub lang: String,
    /// The number style prices are written in (`en-IN`).
    pub locale: String,
    /// The page renderer ([`super::render::renderer_id`]), so a new page design makes a new
    /// version when a site is next rebuilt.
    pub renderer: String,
    pub brand: Brand,
    pub theme: Theme,
    pub meta: Meta,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Brand {
    pub name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tagline: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub logo_url: Option<SafeUrl>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Theme {
    pub primary: Colour,
    pub accent: Colour,
    pub background: Colour,
    pub text: Colour,
    /// `None` = the platform's system font stack.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub heading_font: Option<FontFamily>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub body_font: Option<FontFamily>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Meta {
    pub title: String,
    pub description: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct NavItem {
    pub label: String,
    /// An in-page anchor (`#listings`).
    pub href: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Page {
    pub slug: String,
    pub title: String,
    pub sections: Vec<Section>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(
    tag = "type",
    rename_all = "camelCase",
    rename_all_fields = "camelCase"
)]
pub enum Section {
    Hero {
        id: String,
        headline: String,
        subheadline: String,
        cta: Cta,
    },
    Stats {
        id: String,
        items: Vec<Stat>,
    },
    About {
        id: String,
        heading: String,
        paragraphs: Vec<String>,
    },
    FocusAreas {
        id: String,
        heading: String,
        areas: Vec<String>,
    },
    ListingsGrid {
        id: String,
        heading: String,
        /// Ids into [`SiteDocument::listings`], in display order.
        listing_ids: Vec<String>,
        empty_text: String,
    },
    Faq {
        id: String,
        heading: String,
        items: Vec<FaqItem>,
    },
    CtaBand {
        id: String,
        text: String,
        cta: Cta,
    },
    Contact {
        id: String,
        heading: String,
        text: String,
    },
}

impl Section {
    pub fn id(&self) -> &str {
        match self {
            Self::Hero { id, .. }
            | Self::Stats { id, .. }
            | Self::About { id, .. }
            | Self::FocusAreas { id, .. }
            | Self::ListingsGrid { id, .. }
            | Self::Faq { id, .. }
            | Self::CtaBand { id, .. }
            | Self::Contact { id, .. } => id,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Stat {
    pub value: String,
    pub label: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct FaqItem {
    pub question: String,
    pub answer: String,
}

/// A call to action: a label and where it goes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Cta {
    pub label: String,
    pub href: Href,
}

/// A link target built only from safe parts: an http(s) URL, `tel:` with digits, `mailto:` with
/// a parsed address, or an in-page anchor. Never a `javascript:` URL from a config.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Href(String);

impl Href {
    pub fn url(url: &SafeUrl) -> Self {
        Self(url.as_str().to_owned())
    }

    pub fn tel(e164: &str) -> Self {
        let digits: String = e164.chars().filter(char::is_ascii_digit).collect();
        Self(format!("tel:+{digits}"))
    }

    pub fn mailto(email: &crate::email::Email) -> Self {
        Self(format!("mailto:{}", email.as_str()))
    }

    /// An anchor on this page; the id is one this crate chose.
    pub(crate) fn anchor(id: &str) -> Self {
        Self(format!("#{id}"))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl Serialize for Href {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.0)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum VisibleStatus {
    Active,
    UnderOffer,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Listing {
    pub id: String,
    pub title: String,
    pub status: VisibleStatus,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub price: Option<Price>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub bedrooms: Option<u16>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub bathrooms: Option<Decimal2>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub area_sqm: Option<Decimal2>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub address: Option<String>,
    pub photos: Vec<SafeUrl>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub url: Option<SafeUrl>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Contact {
    pub name: String,
    /// E.164; the agent publishes it on their own site.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub phone: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub whatsapp_url: Option<SafeUrl>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
    pub cta: Cta,
}

/// schema.org `RealEstateAgent` (<https://schema.org/RealEstateAgent>).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct JsonLd {
    #[serde(rename = "@context")]
    pub context: &'static str,
    #[serde(rename = "@type")]
    pub kind: &'static str,
    pub name: String,
    pub description: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub telephone: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub logo: Option<SafeUrl>,
    pub area_served: Vec<Place>,
    pub knows_language: Vec<String>,
    pub makes_offer: Vec<Offer>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Place {
    #[serde(rename = "@type")]
    pub kind: &'static str,
    pub name: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Offer {
    #[serde(rename = "@type")]
    pub kind: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub price: Option<Decimal2>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub price_currency: Option<Currency>,
    /// `InStock` for active listings, `LimitedAvailability` for those under offer.
    pub availability: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub url: Option<SafeUrl>,
    pub item_offered: Residence,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Residence {
    #[serde(rename = "@type")]
    pub kind: &'static str,
    pub name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub address: Option<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub image: Vec<SafeUrl>,
}
