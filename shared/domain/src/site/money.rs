//! Prices as people read them: exact amounts, a currency, and the number style of a locale.
//!
//! Prices arrive from PostgreSQL as `numeric(14, 2)` text. They are kept as whole minor units
//! (paise, cents) so formatting never goes through a float: `8500000.00` must print as
//! `₹85,00,000`, not `₹8,499,999.99`.

use serde::{Serialize, Serializer};
use std::fmt;

/// A non-negative decimal amount with two fraction digits, stored as hundredths.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Decimal2(u64);

/// The text was not a non-negative decimal with at most two fraction digits.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("must be a non-negative decimal with at most two fraction digits")]
pub struct InvalidDecimal;

impl Decimal2 {
    pub const fn from_hundredths(hundredths: u64) -> Self {
        Self(hundredths)
    }

    pub const fn hundredths(self) -> u64 {
        self.0
    }

    /// Parses PostgreSQL's `numeric::text` (`8500000.00`, `2.5`, `95`).
    pub fn parse(text: &str) -> Result<Self, InvalidDecimal> {
        let (whole, fraction) = text.trim().split_once('.').unwrap_or((text.trim(), ""));
        let digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
        if !digits(whole) || (!fraction.is_empty() && !digits(fraction)) || fraction.len() > 2 {
            return Err(InvalidDecimal);
        }
        let whole: u64 = whole.parse().map_err(|_| InvalidDecimal)?;
        let fraction: u64 = match fraction.len() {
            0 => 0,
            1 => fraction.parse::<u64>().map_err(|_| InvalidDecimal)? * 10,
            _ => fraction.parse().map_err(|_| InvalidDecimal)?,
        };
        whole
            .checked_mul(100)
            .and_then(|w| w.checked_add(fraction))
            .map(Self)
            .ok_or(InvalidDecimal)
    }

    fn whole(self) -> u64 {
        self.0 / 100
    }

    fn cents(self) -> u64 {
        self.0 % 100
    }
}

/// The shortest exact form: `95`, `2.5`, `8500000.25`. Used in JSON and schema.org values.
impl fmt::Display for Decimal2 {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.cents() {
            0 => write!(f, "{}", self.whole()),
            c if c % 10 == 0 => write!(f, "{}.{}", self.whole(), c / 10),
            c => write!(f, "{}.{c:02}", self.whole()),
        }
    }
}

impl Serialize for Decimal2 {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

/// An ISO 4217 currency code (`INR`), upper-case ASCII letters only.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Currency([u8; 3]);

#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("must be a three-letter ISO 4217 code")]
pub struct InvalidCurrency;

impl Currency {
    pub fn parse(code: &str) -> Result<Self, InvalidCurrency> {
        match code.trim().as_bytes() {
            &[a, b, c] if [a, b, c].iter().all(u8::is_ascii_uppercase) => Ok(Self([a, b, c])),
            _ => Err(InvalidCurrency),
        }
    }

    pub fn as_str(&self) -> &str {
        // The constructor admits only ASCII upper-case letters.
        std::str::from_utf8(&self.0).unwrap_or("XXX")
    }

    /// The sign people expect, where there is one everyone reads the same way.
    fn symbol(&self) -> Option<&'static str> {
        Some(match self.as_str() {
            "INR" => "₹",
            "USD" => "$",
            "EUR" => "€",
            "GBP" => "£",
            "JPY" => "¥",
            _ => return None,
        })
    }
}

impl Serialize for Currency {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

/// How a locale writes numbers. Derived from the workspace's `default_region`, because that is
/// the market whose readers the site is written for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Locale {
    /// en-IN: lakh/crore grouping (`85,00,000`), symbol before the number.
    EnIn,
    /// en-US and other English markets: groups of three with commas, symbol first.
    En,
    /// de-DE style: `1.250.000 €`.
    De,
    /// fr-FR style: narrow no-break spaces between groups, `1 250 000 €`.
    Fr,
}

/// U+202F NARROW NO-BREAK SPACE, CLDR's group separator for French.
const NNBSP: char = '\u{202F}';
/// U+00A0 NO-BREAK SPACE, so a symbol never wraps away from its number.
const NBSP: char = '\u{A0}';

impl Locale {
    /// The locale of a region (ISO 3166-1 alpha-2, any case). Unknown regions read English.
    pub fn for_region(region: &str) -> Self {
        match region.trim().to_ascii_uppercase().as_str() {
            "IN" => Self::EnIn,
            "DE" | "AT" | "NL" | "ES" | "IT" | "PT" => Self::De,
            "FR" | "BE" | "LU" => Self::Fr,
            _ => Self::En,
        }
    }

    /// The BCP 47 tag written into the document.
    pub fn tag(self) -> &'static str {
        match self {
            Self::EnIn => "en-IN",
            Self::En => "en-US",
            Self::De => "de-DE",
            Self::Fr => "fr-FR",
        }
    }

    fn group_separator(self) -> char {
        match self {
            Self::EnIn | Self::En => ',',
            Self::De => '.',
            Self::Fr => NNBSP,
        }
    }

    fn decimal_separator(self) -> char {
        match self {
            Self::EnIn | Self::En => '.',
            Self::De | Self::Fr => ',',
        }
    }

    fn symbol_after(self) -> bool {
        matches!(self, Self::De | Self::Fr)
    }

    /// `whole` with this locale's grouping: Indian grouping is three digits, then twos.
    fn group(self, whole: u64) -> String {
        let digits = whole.to_string();
        let sep = self.group_separator();
        let mut groups: Vec<&str> = Vec::new();
        let mut end = digits.len();
        let mut size = 3;
        while end > size {
            groups.push(&digits[end - size..end]);
            end -= size;
            if self == Self::EnIn {
                size = 2;
            }
        }
        groups.push(&digits[..end]);
        groups.reverse();
        groups.join(&sep.to_string())
    }
}

/// A price with its display forms, as it appears in the document.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Price {
    pub amount: Decimal2,
    pub currency: Currency,
    /// The full amount in the locale's style: `₹85,00,000`, `$1,250,000`, `1.250.000 €`.
    pub formatted: String,
    /// The short form Indian buyers read (`₹85 L`, `₹1.42 Cr`); only for INR in en-IN.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub compact: Option<String>,
}

impl Price {
    pub fn new(amount: Decimal2, currency: Currency, locale: Locale) -> Self {
        Self {
            amount,
            currency,
            formatted: format_price(amount, currency, locale),
            compact: compact_inr(amount, currency, locale),
        }
    }
}

/// Formats an amount: fraction digits only when the amount has any.
pub fn format_price(amount: Decimal2, currency: Currency, locale: Locale) -> String {
    let mut number = locale.group(amount.whole());
    if amount.cents() != 0 {
        number.push(locale.decimal_separator());
        number.push_str(&format!("{:02}", amount.cents()));
    }
    match (currency.symbol(), locale.symbol_after()) {
        (Some(symbol), false) => format!("{symbol}{number}"),
        (Some(symbol), true) => format!("{number}{NBSP}{symbol}"),
        (None, false) => format!("{}{NBSP}{number}", currency.as_str()),
        (None, true) => format!("{number}{NBSP}{}", currency.as_str()),
    }
}

/// 1 lakh = 1,00,000 and 1 crore = 1,00,00,000 rupees.
const LAKH: u64 = 100_000;
const CRORE: u64 = 10_000_000;

fn compact_inr(amount: Decimal2, currency: Currency, locale: Locale) -> Option<String> {
    if currency.as_str() != "INR" || locale != Locale::EnIn {
        return None;
    }
    let rupees = amount.whole();
    let (unit, name) = match rupees {
        r if r >= CRORE => (CRORE, "Cr"),
        r if r >= LAKH => (LAKH, "L"),
        _ => return None,
    };
    // Hundredths of the unit, rounded half up: 1,42,50,000 is 1.43 Cr.
    let hundredths = (rupees * 100 + unit / 2) / unit;
    Some(format!("₹{} {name}", Decimal2::from_hundredths(hundredths)))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn price(amount: &str, currency: &str, locale: Locale) -> Price {
        Price::new(
            Decimal2::parse(amount).expect("amount"),
            Currency::parse(currency).expect("currency"),
            locale,
        )
    }

    #[test]
    fn rupees_in_india_use_lakh_and_crore_grouping() {
        let cases = [
            ("950.00", "₹950", None),
            ("8500000.00", "₹85,00,000", Some("₹85 L")),
            ("14200000", "₹1,42,00,000", Some("₹1.42 Cr")),
            ("14250000", "₹1,42,50,000", Some("₹1.43 Cr")),
            ("250000000", "₹25,00,00,000", Some("₹25 Cr")),
            ("100000.50", "₹1,00,000.50", Some("₹1 L")),
        ];
        for (amount, formatted, compact) in cases {
            let p = price(amount, "INR", Locale::EnIn);
            assert_eq!(p.formatted, formatted, "{amount}");
            assert_eq!(p.compact.as_deref(), compact, "{amount}");
        }
    }

    #[test]
    fn dollars_and_euros_use_their_locales_style() {
        let cases = [
            ("1250000", "USD", Locale::En, "$1,250,000"),
            ("999.99", "USD", Locale::En, "$999.99"),
            ("1250000", "EUR", Locale::En, "€1,250,000"),
            ("1250000.5", "EUR", Locale::De, "1.250.000,50\u{A0}€"),
            (
                "1250000",
                "EUR",
                Locale::Fr,
                "1\u{202F}250\u{202F}000\u{A0}€",
            ),
            ("1250000", "AED", Locale::En, "AED\u{A0}1,250,000"),
            ("8500000", "INR", Locale::En, "₹8,500,000"),
        ];
        for (amount, currency, locale, want) in cases {
            let p = price(amount, currency, locale);
            assert_eq!(p.formatted, want, "{amount} {currency} {locale:?}");
            assert_eq!(p.compact, None, "only INR in en-IN has a compact form");
        }
    }

    #[test]
    fn decimals_parse_postgres_numeric_text_exactly() {
        assert_eq!(
            Decimal2::parse("8500000.00").map(|d| d.to_string()),
            Ok("8500000".into())
        );
        assert_eq!(
            Decimal2::parse("2.5").map(|d| d.to_string()),
            Ok("2.5".into())
        );
        assert_eq!(
            Decimal2::parse("0.05").map(|d| d.to_string()),
            Ok("0.05".into())
        );
        for bad in [
            "",
            "-1",
            "1.234",
            "1e5",
            "abc",
            ".5",
            "99999999999999999999",
        ] {
            assert_eq!(Decimal2::parse(bad), Err(InvalidDecimal), "{bad:?}");
        }
    }

    #[test]
    fn regions_choose_their_locale() {
        assert_eq!(Locale::for_region("in"), Locale::EnIn);
        assert_eq!(Locale::for_region("US"), Locale::En);
        assert_eq!(Locale::for_region("DE"), Locale::De);
        assert_eq!(Locale::for_region("FR"), Locale::Fr);
        assert_eq!(Locale::for_region("??"), Locale::En);
    }
}
