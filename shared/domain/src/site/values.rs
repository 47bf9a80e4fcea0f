//! The small values a site is made of, each parsed so that only safe forms can exist.
//!
//! `agent_configs.theme`, `branding`, `cta` and listings' `url`/`photos` are edited by dashboards
//! and importers, i.e. by people and code this crate does not control. HTML escaping (maud) stops
//! markup injection, but not a `javascript:` link or a `red;}body{display:none` colour inside a
//! stylesheet. So URLs are http(s) only, colours are hex only and fonts are plain family names;
//! anything else is dropped in favour of the default.

use serde::{Serialize, Serializer};
use std::fmt;

/// An absolute `http`/`https` URL with no whitespace or control characters.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct SafeUrl(String);

impl SafeUrl {
    pub fn parse(raw: &str) -> Option<Self> {
        let raw = raw.trim();
        let lower = raw.to_ascii_lowercase();
        let rest = lower
            .strip_prefix("https://")
            .or_else(|| lower.strip_prefix("http://"))?;
        let host_ok = rest
            .split(['/', '?', '#'])
            .next()
            .is_some_and(|host| !host.is_empty());
        let chars_ok = !raw.chars().any(|c| c.is_whitespace() || c.is_control());
        (host_ok && chars_ok && raw.len() <= 2048).then(|| Self(raw.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl Serialize for SafeUrl {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.0)
    }
}

/// A CSS hex colour (`#0f766e`, `#fff`), lower-cased so equal colours hash equal.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Colour(String);

impl Colour {
    pub fn parse(raw: &str) -> Option<Self> {
        let hex = raw.trim().strip_prefix('#')?;
        (matches!(hex.len(), 3 | 6) && hex.bytes().all(|b| b.is_ascii_hexdigit()))
            .then(|| Self(format!("#{}", hex.to_ascii_lowercase())))
    }

    pub(crate) fn known(hex: &'static str) -> Self {
        Self(hex.to_owned())
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl Serialize for Colour {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.0)
    }
}

/// A font family name (`Inter`, `Noto Sans`): letters, digits, spaces and hyphens only, so it
/// can be quoted into CSS without an escape that could end the string.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct FontFamily(String);

impl FontFamily {
    pub fn parse(raw: &str) -> Option<Self> {
        let name = raw.trim();
        (!name.is_empty()
            && name.len() <= 40
            && name
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == ' ' || c == '-'))
        .then(|| Self(name.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl Serialize for FontFamily {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.0)
    }
}

/// A microsite's public name, as `agent_configs.site_slug` constrains it.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(transparent)]
pub struct SiteSlug(String);

#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("must be 2 to 63 lower-case letters, digits or hyphens, starting with a letter or digit")]
pub struct InvalidSiteSlug;

impl SiteSlug {
    pub fn parse(raw: &str) -> Result<Self, InvalidSiteSlug> {
        let ok = (2..=63).contains(&raw.len())
            && raw
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
            && !raw.starts_with('-');
        ok.then(|| Self(raw.to_owned())).ok_or(InvalidSiteSlug)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for SiteSlug {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// WhatsApp's click-to-chat link (`https://wa.me/<digits>?text=…`) for an E.164 number.
pub fn whatsapp_link(e164: &str, text: &str) -> SafeUrl {
    let digits: String = e164.chars().filter(char::is_ascii_digit).collect();
    SafeUrl(format!(
        "https://wa.me/{digits}?text={}",
        percent_encode(text)
    ))
}

/// Percent-encodes everything but RFC 3986's unreserved characters, which is always safe in a
/// query value.
pub fn percent_encode(text: &str) -> String {
    let mut out = String::with_capacity(text.len() * 3);
    for byte in text.bytes() {
        if byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'.' | b'_' | b'~') {
            out.push(char::from(byte));
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_http_and_https_urls_are_links() {
        for good in [
            "https://example.com/a?b=c",
            "http://x.in",
            "HTTPS://Example.com",
        ] {
            assert!(SafeUrl::parse(good).is_some(), "{good}");
        }
        for bad in [
            "javascript:alert(1)",
            "data:text/html,<b>",
            "//example.com",
            "https://",
            "https://exa mple.com",
            "ftp://example.com",
            "",
        ] {
            assert_eq!(SafeUrl::parse(bad), None, "{bad}");
        }
    }

    #[test]
    fn colours_and_fonts_cannot_break_out_of_css() {
        assert_eq!(
            Colour::parse("#0F766E").map(|c| c.0),
            Some("#0f766e".into())
        );
        assert_eq!(Colour::parse("#abc").map(|c| c.0), Some("#abc".into()));
        for bad in ["red", "#12345", "#0f766e;}body{display:none", "0f766e"] {
            assert_eq!(Colour::parse(bad), None, "{bad}");
        }
        assert!(FontFamily::parse("Noto Sans").is_some());
        assert_eq!(FontFamily::parse("x';}</style>"), None);
    }

    #[test]
    fn a_whatsapp_link_has_only_digits_and_an_encoded_text() {
        assert_eq!(
            whatsapp_link("+919800000001", "Hi Asha & co?").as_str(),
            "https://wa.me/919800000001?text=Hi%20Asha%20%26%20co%3F"
        );
    }

    #[test]
    fn site_slugs_follow_the_column_check() {
        assert!(SiteSlug::parse("asha-verma").is_ok());
        for bad in ["a", "-asha", "Asha", "asha_verma", &"a".repeat(64)] {
            assert_eq!(SiteSlug::parse(bad), Err(InvalidSiteSlug), "{bad}");
        }
    }
}
