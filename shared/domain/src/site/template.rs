//! The template writer, and the assembly every writer's copy goes through.
//!
//! [`copy`] writes plain, factual English copy from the input alone (no network, no clock, no
//! randomness), so the same input always gives the same document. [`assemble`] puts any writer's
//! copy together with the facts: listings, prices, areas, languages, contact links and JSON-LD
//! always come from the input here, never from a writer.

use super::document::{
    Brand, Contact, Cta, FaqItem, Href, JsonLd, Listing, Meta, NavItem, Offer, Page, Place,
    Residence, SCHEMA_VERSION, Section, Site, SiteDocument, Stat, Theme, VisibleStatus,
};
use super::money::Price;
use super::values::{Colour, SafeUrl, whatsapp_link};
use super::{CtaAction, ListingStatus, SiteCopy, SiteInput, limits};

/// The default theme: a calm teal with an amber accent, readable on white (WCAG AA).
const DEFAULT_PRIMARY: &str = "#0f766e";
const DEFAULT_ACCENT: &str = "#b45309";
const DEFAULT_BACKGROUND: &str = "#ffffff";
const DEFAULT_TEXT: &str = "#1f2937";
/// Listings shown on the one page; more would make it a catalogue, not a broker's site.
pub const MAX_LISTINGS: usize = 24;
/// Photos kept per listing.
const MAX_PHOTOS: usize = 6;

/// The template writer: the whole document from the input.
pub fn write(input: &SiteInput) -> SiteDocument {
    assemble(input, copy(input))
}

/// Plain factual copy from the input.
pub fn copy(input: &SiteInput) -> SiteCopy {
    let name = input.agent.name.trim();
    let areas = join_list(&input.config.areas);
    let languages = join_list(&language_names(&input.config.languages));
    let listings = visible(input).count();

    let headline = if areas.is_empty() {
        format!("{name}, your real-estate agent")
    } else {
        format!("Homes in {areas} with {name}")
    };
    let subheadline = match (languages.is_empty(), listings) {
        (true, 0) => "Talk to me about buying, selling or renting.".to_owned(),
        (true, n) => format!("{} available now.", homes(n)),
        (false, 0) => format!("Speaks {languages}."),
        (false, n) => format!("{} available now. Speaks {languages}.", homes(n)),
    };
    let about = paragraphs(input.config.bio.as_deref()).unwrap_or_else(|| {
        vec![if areas.is_empty() {
            format!("{name} helps buyers, sellers and tenants find the right home.")
        } else {
            format!("{name} helps buyers, sellers and tenants in {areas} find the right home.")
        }]
    });

    let mut faq = Vec::new();
    if !areas.is_empty() {
        faq.push(FaqItem {
            question: "Which areas do you cover?".to_owned(),
            answer: format!("I work in {areas}."),
        });
    }
    if !languages.is_empty() {
        faq.push(FaqItem {
            question: "Which languages do you speak?".to_owned(),
            answer: format!("{languages}."),
        });
    }
    faq.push(FaqItem {
        question: "How do I arrange a visit?".to_owned(),
        answer: match input.config.cta.action {
            CtaAction::WhatsApp if input.agent.phone.is_some() => {
                "Send me a message on WhatsApp with the home you like and a time that suits you."
                    .to_owned()
            }
            CtaAction::Email if input.agent.email.is_some() => {
                "Email me with the home you like and a time that suits you.".to_owned()
            }
            _ => "Get in touch using the contact details below and I will arrange it.".to_owned(),
        },
    });

    let meta_description = truncate(
        &format!(
            "{name}, real-estate agent{}. {}. Contact on WhatsApp or phone.",
            if areas.is_empty() {
                String::new()
            } else {
                format!(" in {areas}")
            },
            homes(listings)
        ),
        limits::META_DESCRIPTION,
    );

    SiteCopy {
        headline: truncate(&headline, limits::HEADLINE),
        subheadline: truncate(&subheadline, limits::SUBHEADLINE),
        about,
        faq,
        meta_description,
    }
}

/// The document: the copy plus every fact from the input.
pub fn assemble(input: &SiteInput, copy: SiteCopy) -> SiteDocument {
    let agent = &input.agent;
    let config = &input.config;
    let name = agent.name.trim().to_owned();
    let brand_name = config.branding.name.clone().unwrap_or_else(|| name.clone());

    let whatsapp_url = agent.phone.as_ref().map(|p| {
        whatsapp_link(
            p.e164(),
            &format!("Hi {name}, I found you on your website."),
        )
    });
    let cta_href = match &config.cta.action {
        CtaAction::WhatsApp => whatsapp_url.as_ref().map(Href::url),
        CtaAction::Call => agent.phone.as_ref().map(|p| Href::tel(p.e164())),
        CtaAction::Email => agent.email.as_ref().map(Href::mailto),
        CtaAction::Url(url) => Some(Href::url(url)),
    }
    // No way to act on the configured action (no phone for WhatsApp, say): point at the
    // contact section instead of a dead link.
    .unwrap_or_else(|| Href::anchor("contact"));
    let cta = Cta {
        label: config
            .cta
            .label
            .clone()
            .unwrap_or_else(|| "Get in touch".to_owned()),
        href: cta_href,
    };

    let listings: Vec<Listing> = visible(input)
        .take(MAX_LISTINGS)
        .map(|l| Listing {
            id: l.id.to_string(),
            title: l.title.trim().to_owned(),
            status: if l.status == ListingStatus::UnderOffer {
                VisibleStatus::UnderOffer
            } else {
                VisibleStatus::Active
            },
            price: l
                .price
                .zip(l.currency)
                .map(|(amount, currency)| Price::new(amount, currency, input.locale)),
            bedrooms: l.bedrooms,
            bathrooms: l.bathrooms,
            area_sqm: l.area_sqm,
            address: l.address.as_deref().map(str::trim).map(str::to_owned),
            photos: l
                .photos
                .iter()
                .filter_map(|p| SafeUrl::parse(p))
                .take(MAX_PHOTOS)
                .collect(),
            url: l.url.as_deref().and_then(SafeUrl::parse),
        })
        .collect();

    let active = listings
        .iter()
        .filter(|l| l.status == VisibleStatus::Active)
        .count();
    let under_offer = listings.len() - active;
    let mut stats = vec![Stat {
        value: active.to_string(),
        label: "Homes available".to_owned(),
    }];
    if under_offer > 0 {
        stats.push(Stat {
            value: under_offer.to_string(),
            label: "Under offer".to_owned(),
        });
    }
    if !config.areas.is_empty() {
        stats.push(Stat {
            value: config.areas.len().to_string(),
            label: "Areas covered".to_owned(),
        });
    }
    if !config.languages.is_empty() {
        stats.push(Stat {
            value: config.languages.len().to_string(),
            label: "Languages spoken".to_owned(),
        });
    }

    let mut sections = vec![
        Section::Hero {
            id: "top".to_owned(),
            headline: copy.headline,
            subheadline: copy.subheadline,
            cta: cta.clone(),
        },
        Section::Stats {
            id: "stats".to_owned(),
            items: stats,
        },
        Section::About {
            id: "about".to_owned(),
            heading: format!("About {name}"),
            paragraphs: copy.about,
        },
    ];
    if !config.areas.is_empty() {
        sections.push(Section::FocusAreas {
            id: "areas".to_owned(),
            heading: "Areas I cover".to_owned(),
            areas: config.areas.clone(),
        });
    }
    sections.push(Section::ListingsGrid {
        id: "listings".to_owned(),
        heading: "Homes for sale and rent".to_owned(),
        listing_ids: listings.iter().map(|l| l.id.clone()).collect(),
        empty_text: "New homes are coming soon. Get in touch to hear first.".to_owned(),
    });
    if !copy.faq.is_empty() {
        sections.push(Section::Faq {
            id: "faq".to_owned(),
            heading: "Questions buyers ask".to_owned(),
            items: copy.faq,
        });
    }
    sections.push(Section::CtaBand {
        id: "cta".to_owned(),
        text: "Found a home you like? Let's talk about it.".to_owned(),
        cta: cta.clone(),
    });
    sections.push(Section::Contact {
        id: "contact".to_owned(),
        heading: "Contact".to_owned(),
        text: format!("{name} answers messages on WhatsApp, by phone and by email."),
    });

    let nav = sections
        .iter()
        .filter_map(|s| {
            let label = match s {
                Section::About { .. } => "About",
                Section::FocusAreas { .. } => "Areas",
                Section::ListingsGrid { .. } => "Listings",
                Section::Faq { .. } => "FAQ",
                Section::Contact { .. } => "Contact",
                _ => return None,
            };
            Some(NavItem {
                label: label.to_owned(),
                href: format!("#{}", s.id()),
            })
        })
        .collect();

    let theme = &config.theme;
    let jsonld = JsonLd {
        context: "https://schema.org",
        kind: "RealEstateAgent",
        name: brand_name.clone(),
        description: copy.meta_description.clone(),
        telephone: agent.phone.as_ref().map(|p| p.e164().to_owned()),
        email: agent.email.as_ref().map(|e| e.as_str().to_owned()),
        logo: config.branding.logo_url.clone(),
        area_served: config
            .areas
            .iter()
            .map(|a| Place {
                kind: "Place",
                name: a.clone(),
            })
            .collect(),
        knows_language: config.languages.clone(),
        makes_offer: listings
            .iter()
            .map(|l| Offer {
                kind: "Offer",
                price: l.price.as_ref().map(|p| p.amount),
                price_currency: l.price.as_ref().map(|p| p.currency),
                availability: match l.status {
                    VisibleStatus::Active => "https://schema.org/InStock",
                    VisibleStatus::UnderOffer => "https://schema.org/LimitedAvailability",
                },
                url: l.url.clone(),
                item_offered: Residence {
                    kind: "Residence",
                    name: l.title.clone(),
                    address: l.address.clone(),
                    image: l.photos.iter().take(1).cloned().collect(),
                },
            })
            .collect(),
    };

    SiteDocument {
        schema_version: SCHEMA_VERSION,
        site: Site {
            slug: config.slug.clone(),
            lang: "en".to_owned(),
            locale: input.locale.tag().to_owned(),
            renderer: super::render::renderer_id(),
            brand: Brand {
                name: brand_name.clone(),
                tagline: config.branding.tagline.clone(),
                logo_url: config.branding.logo_url.clone(),
            },
            theme: Theme {
                primary: theme
                    .primary
                    .clone()
                    .unwrap_or_else(|| Colour::known(DEFAULT_PRIMARY)),
                accent: theme
                    .accent
                    .clone()
                    .unwrap_or_else(|| Colour::known(DEFAULT_ACCENT)),
                background: theme
                    .background
                    .clone()
                    .unwrap_or_else(|| Colour::known(DEFAULT_BACKGROUND)),
                text: theme
                    .text
                    .clone()
                    .unwrap_or_else(|| Colour::known(DEFAULT_TEXT)),
                heading_font: theme.heading_font.clone(),
                body_font: theme.body_font.clone(),
            },
            meta: Meta {
                title: truncate(&format!("{brand_name} | Real-estate agent"), 70),
                description: copy.meta_description,
            },
        },
        nav,
        pages: vec![Page {
            slug: "home".to_owned(),
            title: brand_name,
            sections,
        }],
        listings,
        contact: Contact {
            name,
            phone: agent.phone.as_ref().map(|p| p.e164().to_owned()),
            whatsapp_url,
            email: agent.email.as_ref().map(|e| e.as_str().to_owned()),
            cta,
        },
        jsonld,
    }
}

/// Visible listings, newest first; the id breaks ties so equal timestamps cannot reorder.
fn visible(input: &SiteInput) -> impl Iterator<Item = &super::ListingInput> {
    let mut listings: Vec<_> = input
        .listings
        .iter()
        .filter(|l| l.status.is_visible())
        .collect();
    listings.sort_by(|a, b| b.listed_at.cmp(&a.listed_at).then(a.id.cmp(&b.id)));
    listings.into_iter()
}

fn homes(n: usize) -> String {
    match n {
        0 => "New homes coming soon".to_owned(),
        1 => "1 home".to_owned(),
        n => format!("{n} homes"),
    }
}

/// "A", "A and B", "A, B and C".
fn join_list(items: &[String]) -> String {
    let items: Vec<&str> = items
        .iter()
        .map(|s| s.trim())
        .filter(|s| !s.is_empty())
        .collect();
    match items.as_slice() {
        [] => String::new(),
        [one] => (*one).to_owned(),
        [init @ .., last] => format!("{} and {last}", init.join(", ")),
    }
}

/// Names for the languages Indian and international brokers list most; others show their code.
fn language_names(codes: &[String]) -> Vec<String> {
    codes
        .iter()
        .map(|code| {
            match code.trim().to_ascii_lowercase().as_str() {
                "en" => "English",
                "hi" => "Hindi",
                "mr" => "Marathi",
                "gu" => "Gujarati",
                "ta" => "Tamil",
                "te" => "Telugu",
                "kn" => "Kannada",
                "ml" => "Malayalam",
                "bn" => "Bengali",
                "pa" => "Punjabi",
                "ur" => "Urdu",
                "ar" => "Arabic",
                "es" => "Spanish",
                "fr" => "French",
                "de" => "German",
                other => return other.to_owned(),
            }
            .to_owned()
        })
        .collect()
}

/// Bio text split into paragraphs at blank lines; `None` when there is nothing to say.
fn paragraphs(bio: Option<&str>) -> Option<Vec<String>> {
    let paragraphs: Vec<String> = bio?
        .split("\n\n")
        .map(|p| p.split_whitespace().collect::<Vec<_>>().join(" "))
        .filter(|p| !p.is_empty())
        .take(limits::ABOUT_PARAGRAPHS)
        .map(|p| truncate(&p, limits::ABOUT_PARAGRAPH))
        .collect();
    (!paragraphs.is_empty()).then_some(paragraphs)
}

/// At most `max` characters, cut at a character boundary with an ellipsis.
fn truncate(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        return text.to_owned();
    }
    let mut out: String = text.chars().take(max.saturating_sub(1)).collect();
    out.truncate(out.trim_end().len());
    out.push('…');
    out
}
