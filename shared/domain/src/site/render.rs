//! The document rendered to one static HTML page.
//!
//! maud escapes every interpolated string, so text from a dashboard or importer (a listing
//! titled `<script>…`) can only ever appear as text. The two places that are not plain text are
//! built here from values that cannot carry markup: the stylesheet (hex colours and validated
//! font names, see [`super::values`]) and the JSON-LD block (JSON with `<`, `>` and `&` escaped
//! as `\u003c`… so no string in it can close the `<script>` element).
//!
//! The page needs no JavaScript: navigation is in-page anchors, the FAQ uses `<details>`, and
//! the layout is responsive CSS (grid + `clamp`). Output is deterministic, like the document.

use super::document::{Cta, Listing, Section, SiteDocument, Theme, VisibleStatus};
use maud::{DOCTYPE, Markup, PreEscaped, html};
use sha2::{Digest, Sha256};

/// Which page renderer a document was rendered with: a digest of this file's source.
///
/// Versions are skipped when the document's hash is unchanged, and the HTML is stored beside
/// the document, so a change to the page (markup, stylesheet) must change the document too or
/// no site would ever get the new page. Deriving it from the source means nobody has to remember
/// to bump it. It is recorded as `site.renderer`.
pub fn renderer_id() -> String {
    let digest = Sha256::digest(include_str!("render.rs").as_bytes());
    format!("maud-{}", hex::encode(&digest[..6]))
}

/// The whole page.
pub fn page(doc: &SiteDocument) -> String {
    let site = &doc.site;
    html! {
        (DOCTYPE)
        html lang=(site.lang) {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                title { (site.meta.title) }
                meta name="description" content=(site.meta.description);
                meta property="og:title" content=(site.meta.title);
                meta property="og:description" content=(site.meta.description);
                meta name="generator" content="Lead Engine";
                style { (PreEscaped(stylesheet(&site.theme))) }
                script type="application/ld+json" { (PreEscaped(jsonld(doc))) }
            }
            body {
                header.site-header {
                    div.wrap {
                        a.brand href="#top" {
                            @if let Some(logo) = &site.brand.logo_url {
                                img src=(logo.as_str()) alt="" width="40" height="40";
                            }
                            span { (site.brand.name) }
                        }
                        nav aria-label="Sections" {
                            ul {
                                @for item in &doc.nav {
                                    li { a href=(item.href) { (item.label) } }
                                }
                            }
                        }
                    }
                }
                main {
                    @for page in &doc.pages {
                        @for section in &page.sections {
                            (render_section(doc, section))
                        }
                    }
                }
                footer.site-footer {
                    div.wrap {
                        p {
                            (site.brand.name)
                            @if let Some(tagline) = &site.brand.tagline { " · " (tagline) }
                        }
                    }
                }
            }
        }
    }
    .into_string()
}

fn render_section(doc: &SiteDocument, section: &Section) -> Markup {
    match section {
        Section::Hero {
            id,
            headline,
            subheadline,
            cta,
        } => html! {
            section.hero id=(id) {
                div.wrap {
                    h1 { (headline) }
                    p.lead { (subheadline) }
                    (cta_button(cta))
                }
            }
        },
        Section::Stats { id, items } => html! {
            section.stats id=(id) aria-label="At a glance" {
                div.wrap {
                    dl {
                        @for stat in items {
                            div { dt { (stat.label) } dd { (stat.value) } }
                        }
                    }
                }
            }
        },
        Section::About {
            id,
            heading,
            paragraphs,
        } => html! {
            section id=(id) {
                div.wrap {
                    h2 { (heading) }
                    @for p in paragraphs { p { (p) } }
                }
            }
        },
        Section::FocusAreas { id, heading, areas } => html! {
            section id=(id) {
                div.wrap {
                    h2 { (heading) }
                    ul.chips { @for area in areas { li { (area) } } }
                }
            }
        },
        Section::ListingsGrid {
            id,
            heading,
            listing_ids,
            empty_text,
        } => {
            let listings: Vec<&Listing> = listing_ids
                .iter()
                .filter_map(|lid| doc.listings.iter().find(|l| &l.id == lid))
                .collect();
            html! {
                section id=(id) {
                    div.wrap {
                        h2 { (heading) }
                        @if listings.is_empty() {
                            p { (empty_text) }
                        } @else {
                            ul.grid {
                                @for listing in listings { li { (listing_card(listing)) } }
                            }
                        }
                    }
                }
            }
        }
        Section::Faq { id, heading, items } => html! {
            section id=(id) {
                div.wrap {
                    h2 { (heading) }
                    @for item in items {
                        details {
                            summary { (item.question) }
                            p { (item.answer) }
                        }
                    }
                }
            }
        },
        Section::CtaBand { id, text, cta } => html! {
            section.cta-band id=(id) {
                div.wrap {
                    p { (text) }
                    (cta_button(cta))
                }
            }
        },
        Section::Contact { id, heading, text } => {
            let contact = &doc.contact;
            html! {
                section id=(id) {
                    div.wrap {
                        h2 { (heading) }
                        p { (text) }
                        address {
                            ul.contact {
                                @if let Some(url) = &contact.whatsapp_url {
                                    li { a href=(url.as_str()) rel="noopener" { "WhatsApp " (contact.name) } }
                                }
                                @if let Some(phone) = &contact.phone {
                                    li { a href={ "tel:" (phone) } { (phone) } }
                                }
                                @if let Some(email) = &contact.email {
                                    li { a href={ "mailto:" (email) } { (email) } }
                                }
                            }
                        }
                    }
                }
            }
        }
    }
}

fn listing_card(listing: &Listing) -> Markup {
    html! {
        article.card {
            @if let Some(photo) = listing.photos.first() {
                img src=(photo.as_str()) alt=(listing.title) loading="lazy" width="640" height="400";
            }
            div.card-body {
                @if listing.status == VisibleStatus::UnderOffer {
                    p.badge { "Under offer" }
                }
                h3 {
                    @if let Some(url) = &listing.url {
                        a href=(url.as_str()) rel="noopener" { (listing.title) }
                    } @else {
                        (listing.title)
                    }
                }
                @if let Some(price) = &listing.price {
                    p.price {
                        data value=(price.amount) { (price.formatted) }
                        @if let Some(compact) = &price.compact { " " small { "(" (compact) ")" } }
                    }
                }
                ul.facts {
                    @if let Some(b) = listing.bedrooms { li { (b) " bed" } }
                    @if let Some(b) = &listing.bathrooms { li { (b) " bath" } }
                    @if let Some(a) = &listing.area_sqm { li { (a) " m²" } }
                }
                @if let Some(address) = &listing.address { p.address { (address) } }
            }
        }
    }
}

fn cta_button(cta: &Cta) -> Markup {
    html! { a.button href=(cta.href.as_str()) { (cta.label) } }
}

/// The stylesheet with the theme's values. Only [`super::values::Colour`] (hex) and
/// [`super::values::FontFamily`] (letters, digits, spaces, hyphens) are interpolated, which is
/// what makes `PreEscaped` safe here.
fn stylesheet(theme: &Theme) -> String {
    let font = |f: &Option<super::values::FontFamily>| match f {
        Some(name) => format!("\"{}\", system-ui, sans-serif", name.as_str()),
        None => "system-ui, -apple-system, \"Segoe UI\", Roboto, sans-serif".to_owned(),
    };
    format!(
        ":root{{--primary:{};--accent:{};--bg:{};--text:{};--heading-font:{};--body-font:{}}}{}",
        theme.primary.as_str(),
        theme.accent.as_str(),
        theme.background.as_str(),
        theme.text.as_str(),
        font(&theme.heading_font),
        font(&theme.body_font),
        BASE_CSS
    )
}

/// JSON-LD safe inside `<script>`: `<`, `>` and `&` become JSON escapes, which JSON parsers read
/// back as the same characters.
fn jsonld(doc: &SiteDocument) -> String {
    serde_json::to_string(&doc.jsonld)
        .unwrap_or_else(|_| "{}".to_owned())
        .replace('<', "\\u003c")
        .replace('>', "\\u003e")
        .replace('&', "\\u0026")
}

const BASE_CSS: &str = "\
*{box-sizing:border-box}\
html{scroll-behavior:smooth}\
body{margin:0;font-family:var(--body-font);color:var(--text);background:var(--bg);line-height:1.6}\
h1,h2,h3{font-family:var(--heading-font);line-height:1.2}\
.wrap{max-width:72rem;margin:0 auto;padding:0 1.25rem}\
.site-header{position:sticky;top:0;background:var(--bg);border-bottom:1px solid #e5e7eb;z-index:1}\
.site-header .wrap{display:flex;flex-wrap:wrap;align-items:center;justify-content:space-between;gap:.5rem;padding-block:.75rem}\
.brand{display:flex;align-items:center;gap:.5rem;font-weight:700;color:var(--primary);text-decoration:none;font-size:1.125rem}\
.brand img{border-radius:50%}\
nav ul{display:flex;flex-wrap:wrap;gap:1rem;list-style:none;margin:0;padding:0}\
nav a{color:var(--text);text-decoration:none}\
nav a:hover,nav a:focus{color:var(--primary);text-decoration:underline}\
section{padding:3rem 0}\
.hero{background:var(--primary);color:#fff;padding:clamp(3rem,10vw,6rem) 0}\
.hero h1{font-size:clamp(2rem,5vw,3.25rem);margin:0 0 1rem}\
.hero .lead{font-size:1.25rem;max-width:40rem}\
.button{display:inline-block;background:var(--accent);color:#fff;padding:.75rem 1.5rem;border-radius:.5rem;font-weight:600;text-decoration:none}\
.button:hover,.button:focus{filter:brightness(1.1)}\
.stats{padding:1.5rem 0;background:#f9fafb}\
.stats dl{display:grid;grid-template-columns:repeat(auto-fit,minmax(10rem,1fr));gap:1rem;margin:0}\
.stats dl div{display:flex;flex-direction:column-reverse}\
.stats dd{margin:0;font-size:2rem;font-weight:700;color:var(--primary)}\
.stats dt{color:#4b5563}\
.chips{display:flex;flex-wrap:wrap;gap:.5rem;list-style:none;padding:0}\
.chips li{border:1px solid var(--primary);color:var(--primary);border-radius:999px;padding:.25rem .875rem}\
.grid{display:grid;grid-template-columns:repeat(auto-fill,minmax(16rem,1fr));gap:1.5rem;list-style:none;padding:0}\
.card{border:1px solid #e5e7eb;border-radius:.75rem;overflow:hidden;height:100%;background:#fff}\
.card img{display:block;width:100%;height:auto;aspect-ratio:16/10;object-fit:cover}\
.card-body{padding:1rem 1.25rem}\
.card h3{margin:.25rem 0 .5rem;font-size:1.125rem}\
.card h3 a{color:inherit}\
.badge{display:inline-block;margin:0;background:var(--accent);color:#fff;border-radius:.25rem;padding:0 .5rem;font-size:.875rem}\
.price{font-size:1.25rem;font-weight:700;color:var(--primary);margin:.25rem 0}\
.price data,.price small{white-space:nowrap}\
.price small{font-weight:400;color:#4b5563}\
.facts{display:flex;flex-wrap:wrap;gap:.75rem;list-style:none;padding:0;margin:.25rem 0;color:#4b5563}\
.address{margin:.25rem 0 0;color:#4b5563}\
details{border-bottom:1px solid #e5e7eb;padding:.75rem 0}\
summary{cursor:pointer;font-weight:600}\
.cta-band{background:#f0fdfa;text-align:center}\
.cta-band p{font-size:1.25rem}\
address{font-style:normal}\
.contact{list-style:none;padding:0}\
.contact li{margin:.25rem 0}\
.contact a{color:var(--primary)}\
.site-footer{border-top:1px solid #e5e7eb;color:#4b5563;padding:1.5rem 0}\
@media (prefers-reduced-motion:reduce){html{scroll-behavior:auto}}";
