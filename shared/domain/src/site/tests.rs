//! Specifications of the site document and its page.

use super::money::{Currency, Decimal2, Locale};
use super::values::SiteSlug;
use super::*;
use chrono::TimeZone;

fn listing(n: u128, title: &str, status: ListingStatus, price: &str) -> ListingInput {
    ListingInput {
        id: Uuid::from_u128(n),
        title: title.to_owned(),
        status,
        price: Some(Decimal2::parse(price).expect("price")),
        currency: Some(Currency::parse("INR").expect("currency")),
        bedrooms: Some(2),
        bathrooms: Decimal2::parse("2.0").ok(),
        area_sqm: Decimal2::parse("95.00").ok(),
        address: Some("Baner, Pune".to_owned()),
        photos: vec![
            "https://img.example.com/1.jpg".to_owned(),
            "javascript:alert(1)".to_owned(),
        ],
        url: None,
        listed_at: Utc
            .timestamp_opt(1_700_000_000 + i64::try_from(n).unwrap_or(0), 0)
            .single()
            .expect("time"),
    }
}

fn demo_input() -> SiteInput {
    SiteInput {
        agent: AgentProfile {
            id: AgentId::from_uuid(Uuid::from_u128(0xa001)),
            name: "Asha Verma".to_owned(),
            email: Email::parse("asha@demo.test").ok(),
            phone: PhoneNumber::parse_e164("+919800000001").ok(),
        },
        config: SiteConfig {
            slug: SiteSlug::parse("asha-verma").expect("slug"),
            bio: Some("Helping families find homes in Pune since 2012.".to_owned()),
            languages: vec!["en".into(), "hi".into(), "mr".into()],
            areas: vec!["Baner".into(), "Aundh".into(), "Kothrud".into()],
            theme: ThemeConfig::from_json(&serde_json::json!({"primary": "#0f766e"})),
            branding: BrandingConfig::from_json(&serde_json::json!({"logo_url": null})),
            cta: CtaConfig::from_json(
                &serde_json::json!({"label": "Book a visit", "action": "whatsapp"}),
            ),
        },
        listings: vec![
            listing(
                1,
                "2 BHK with balcony, Baner",
                ListingStatus::Active,
                "8500000.00",
            ),
            listing(
                2,
                "3 BHK near Aundh IT park",
                ListingStatus::UnderOffer,
                "14200000",
            ),
            listing(3, "Sold flat in Kothrud", ListingStatus::Sold, "3900000"),
            listing(4, "Draft villa", ListingStatus::Draft, "50000000"),
            listing(5, "Withdrawn plot", ListingStatus::Withdrawn, "100"),
            listing(6, "Rented studio", ListingStatus::Rented, "100"),
        ],
        locale: Locale::EnIn,
    }
}

#[test]
fn the_same_input_builds_the_same_bytes_and_hash() {
    let first = BuiltSite::from_template(&demo_input());
    let second = BuiltSite::from_template(&demo_input());
    assert_eq!(first.json, second.json);
    assert_eq!(first.html, second.html);
    assert_eq!(first.content_sha256, second.content_sha256);
    let expected: [u8; 32] = Sha256::digest(first.json.as_bytes()).into();
    assert_eq!(
        first.content_sha256, expected,
        "the hash is of the JSON bytes"
    );
}

#[test]
fn listing_order_in_the_input_does_not_change_the_document() {
    let mut reversed = demo_input();
    reversed.listings.reverse();
    assert_eq!(
        BuiltSite::from_template(&reversed).content_sha256,
        BuiltSite::from_template(&demo_input()).content_sha256
    );
}

#[test]
fn a_visible_change_changes_the_hash() {
    let mut edited = demo_input();
    edited.listings[0].title = "2 BHK with a bigger balcony, Baner".to_owned();
    assert_ne!(
        BuiltSite::from_template(&edited).content_sha256,
        BuiltSite::from_template(&demo_input()).content_sha256
    );
}

#[test]
fn only_active_and_under_offer_listings_are_on_the_site() {
    let built = BuiltSite::from_template(&demo_input());
    let titles: Vec<&str> = built
        .document
        .listings
        .iter()
        .map(|l| l.title.as_str())
        .collect();
    // Newest first.
    assert_eq!(
        titles,
        ["3 BHK near Aundh IT park", "2 BHK with balcony, Baner"]
    );
    for hidden in [
        "Sold flat",
        "Draft villa",
        "Withdrawn plot",
        "Rented studio",
    ] {
        assert!(!built.json.contains(hidden), "{hidden} is in the JSON");
        assert!(!built.html.contains(hidden), "{hidden} is in the HTML");
    }
    assert_eq!(built.document.jsonld.makes_offer.len(), 2);
}

#[test]
fn the_document_has_every_part_the_contract_names() {
    let built = BuiltSite::from_template(&demo_input());
    let json: serde_json::Value = serde_json::from_str(&built.json).expect("json");
    for key in ["site", "nav", "pages", "listings", "contact", "jsonld"] {
        assert!(json.get(key).is_some(), "missing {key}");
    }
    let types: Vec<&str> = json["pages"][0]["sections"]
        .as_array()
        .expect("sections")
        .iter()
        .filter_map(|s| s["type"].as_str())
        .collect();
    assert_eq!(
        types,
        [
            "hero",
            "stats",
            "about",
            "focusAreas",
            "listingsGrid",
            "faq",
            "ctaBand",
            "contact"
        ]
    );
    assert_eq!(json["site"]["theme"]["primary"], "#0f766e");
    assert_eq!(json["listings"][1]["price"]["formatted"], "₹85,00,000");
    assert_eq!(json["listings"][1]["price"]["compact"], "₹85 L");
    assert_eq!(json["listings"][0]["price"]["compact"], "₹1.42 Cr");
    assert_eq!(
        json["listings"][1]["photos"],
        serde_json::json!(["https://img.example.com/1.jpg"]),
        "an unsafe photo URL is dropped"
    );
    assert!(
        json["contact"]["whatsappUrl"]
            .as_str()
            .is_some_and(|u| u.starts_with("https://wa.me/919800000001?text=")),
        "{}",
        json["contact"]
    );
    assert_eq!(json["contact"]["cta"]["label"], "Book a visit");
    assert_eq!(
        json["contact"]["cta"]["href"],
        json["contact"]["whatsappUrl"]
    );
    assert_eq!(json["jsonld"]["@type"], "RealEstateAgent");
    assert_eq!(json["jsonld"]["makesOffer"][0]["@type"], "Offer");
    assert_eq!(json["jsonld"]["makesOffer"][0]["price"], "14200000");
    assert_eq!(json["jsonld"]["makesOffer"][0]["priceCurrency"], "INR");
    assert_eq!(
        json["jsonld"]["makesOffer"][0]["itemOffered"]["@type"],
        "Residence"
    );
    let nav: Vec<&str> = json["nav"]
        .as_array()
        .expect("nav")
        .iter()
        .filter_map(|n| n["href"].as_str())
        .collect();
    assert_eq!(nav, ["#about", "#areas", "#listings", "#faq", "#contact"]);
}

#[test]
fn a_script_in_a_listing_title_is_rendered_as_text() {
    let mut input = demo_input();
    input.listings[0].title = "<script>alert(1)</script>".to_owned();
    input.agent.name = "Asha </script><b>Verma".to_owned();
    let built = BuiltSite::from_template(&input);

    assert!(!built.html.contains("<script>alert(1)"), "{}", built.html);
    assert!(built.html.contains("&lt;script&gt;alert(1)&lt;/script&gt;"));
    assert!(
        !built.html.contains("</script><b>"),
        "JSON-LD must not end early"
    );
    let page = scraper::Html::parse_document(&built.html);
    let scripts: Vec<_> = page
        .select(&scraper::Selector::parse("script").expect("selector"))
        .collect();
    assert_eq!(scripts.len(), 1, "only the JSON-LD block");
    assert_eq!(scripts[0].attr("type"), Some("application/ld+json"));
    let jsonld: serde_json::Value =
        serde_json::from_str(&scripts[0].inner_html()).expect("JSON-LD parses");
    assert_eq!(jsonld["name"], "Asha </script><b>Verma");
}

#[test]
fn the_page_is_html5_without_parse_errors() {
    for input in [demo_input(), {
        let mut empty = demo_input();
        empty.listings.clear();
        empty.config.areas.clear();
        empty.config.languages.clear();
        empty.config.bio = None;
        empty.agent.phone = None;
        empty
    }] {
        let built = BuiltSite::from_template(&input);
        let page = scraper::Html::parse_document(&built.html);
        assert!(page.errors.is_empty(), "{:?}", page.errors);
        assert!(built.html.starts_with("<!DOCTYPE html>"));
    }
    // The checker is live: a page with a stray end tag does report errors.
    let broken = scraper::Html::parse_document("<!DOCTYPE html><p>a</div>");
    assert!(!broken.errors.is_empty());
}

#[test]
fn the_page_shows_the_agent_listings_and_contact() {
    let built = BuiltSite::from_template(&demo_input());
    let page = scraper::Html::parse_document(&built.html);
    let text = |css: &str| -> Vec<String> {
        page.select(&scraper::Selector::parse(css).expect("selector"))
            .map(|e| e.text().collect::<String>().trim().to_owned())
            .collect()
    };
    assert_eq!(text("title"), ["Asha Verma | Real-estate agent"]);
    assert_eq!(
        text("h1"),
        ["Homes in Baner, Aundh and Kothrud with Asha Verma"]
    );
    assert_eq!(
        text(".card h3"),
        ["3 BHK near Aundh IT park", "2 BHK with balcony, Baner"]
    );
    assert_eq!(text(".price data"), ["₹1,42,00,000", "₹85,00,000"]);
    assert_eq!(text(".badge"), ["Under offer"]);
    assert!(
        page.select(&scraper::Selector::parse("a[href^='https://wa.me/']").expect("s"))
            .count()
            >= 3,
        "hero, band and contact link to WhatsApp"
    );
    assert!(!built.html.contains("javascript:"));
}

#[test]
fn a_cta_cannot_link_to_javascript() {
    let mut input = demo_input();
    input.config.cta =
        CtaConfig::from_json(&serde_json::json!({"action": "url", "url": "javascript:alert(1)"}));
    input.config.theme = ThemeConfig::from_json(
        &serde_json::json!({"primary": "red;}</style><script>x</script>", "font": "a\"b"}),
    );
    let built = BuiltSite::from_template(&input);
    assert!(!built.html.contains("javascript:"));
    assert!(!built.html.contains("<script>x"));
    assert_eq!(built.document.site.theme.primary.as_str(), "#0f766e");
    assert_eq!(built.document.contact.cta.label, "Get in touch");
}

#[test]
fn an_agent_without_a_phone_gets_a_contact_anchor_not_a_dead_link() {
    let mut input = demo_input();
    input.agent.phone = None;
    let built = BuiltSite::from_template(&input);
    assert_eq!(built.document.contact.whatsapp_url, None);
    assert_eq!(built.document.contact.cta.href.as_str(), "#contact");
}

#[test]
fn template_copy_passes_its_own_validation_and_bad_copy_is_named() {
    assert_eq!(template::copy(&demo_input()).validate(), Ok(()));
    let mut copy = template::copy(&demo_input());
    copy.headline = "x".repeat(limits::HEADLINE + 1);
    copy.about.clear();
    let errors = copy.validate().expect_err("too long");
    let text = format!("{errors:?}");
    assert!(
        text.contains("headline") && text.contains("about"),
        "{text}"
    );
}

#[test]
fn the_generator_label_names_the_writer() {
    assert_eq!(Generator::Template.label(), "template");
    assert_eq!(
        Generator::Ai("anthropic.claude-3-haiku".into()).label(),
        "ai:anthropic.claude-3-haiku"
    );
}
