//! Phone numbers, normalised to E.164.
//!
//! A lead is "one person per phone per workspace", so the phone number is an identity key: two
//! spellings of the same number must become the same string, and a number that cannot exist must
//! be refused instead of being stored as a lead nobody can reach. The products Lead Engine replaces
//! had three different normalisations and duplicated leads because of it; this module is the only
//! one, and [`PhoneNumber`]'s constructors are the only way to get one.
//!
//! Parsing and validation are Google's libphonenumber rules through the `phonenumber` crate. Its
//! metadata is loaded a calling code at a time ([`metadata`]): a cold start pays for the regions
//! of the numbers it sees, once each, not for all of them.
//!
//! A phone number is personal data (docs/architecture.md §7.2): `Debug` never prints it and no error
//! message contains it, so neither a `tracing` field nor a 422 body can leak one by accident.

mod metadata;

use phonenumber::country::Id as RegionId;
use serde::{Serialize, Serializer};
use std::fmt;

/// Longest raw input accepted. The longest real written forms ("+1 (650) 253-0000" with an
/// international prefix and generous spacing) are far shorter; the cap bounds the work a hostile
/// request can make the parser do.
pub const MAX_INPUT_CHARS: usize = 64;

/// E.164 allows at most 15 digits after the `+`.
const MAX_E164_DIGITS: usize = 15;

/// A valid phone number in E.164 form (`+919876543210`).
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct PhoneNumber(String);

/// Why a phone number was refused. The messages are written to complete a sentence about the
/// field ("phone is empty") and never contain the number.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum PhoneError {
    #[error("is empty")]
    Empty,
    #[error("is longer than {MAX_INPUT_CHARS} characters")]
    TooLong,
    /// Letters, `#`, `;ext=` and the like: accepting them would let the parser read vanity
    /// letters as digits or drop an extension, i.e. silently store a different number.
    #[error("contains characters that are not part of a phone number")]
    InvalidCharacters,
    /// The workspace's `default_region` is not a region libphonenumber knows. This is a
    /// configuration problem rather than the caller's, but it is still reported on the field
    /// because no number can be parsed without it.
    #[error("has an unknown default region")]
    UnknownRegion,
    #[error("is not a possible phone number")]
    NotPossible,
}

impl PhoneNumber {
    /// Parses a number as a person would type it, reading national forms in `default_region`
    /// (an ISO 3166-1 alpha-2 code such as `IN`, any case).
    ///
    /// Accepted: digits, spaces, `+ - ( ) . /` and Unicode spaces and dashes (copy-pasted
    /// numbers carry them). A leading `00` is read as the international prefix in every region,
    /// not only where `00` is the local one (a US visitor writing `0044…` means the UK), but only
    /// after the region's own reading failed, so a valid national reading always wins.
    pub fn parse(raw: &str, default_region: &str) -> Result<Self, PhoneError> {
        let compact = clean(raw)?;
        let region = region(default_region)?;

        parse_valid(Some(region), &compact)
            .or_else(|| {
                international_from_double_zero(&compact)
                    .and_then(|international| parse_valid(None, &international))
            })
            .ok_or(PhoneError::NotPossible)
    }

    /// Parses Meta's WhatsApp `wa_id`: the international number as digits without `+`
    /// (`919876543210`).
    ///
    /// Two known quirks of `wa_id` are undone so that a WhatsApp lead and a web lead of the same
    /// person meet on one E.164 key, each only when the literal reading is not a valid number
    /// (so a valid `wa_id` is never rewritten):
    /// - Mexico: a `wa_id` may still carry the mobile `1` after `52` that Mexico dropped from
    ///   dialling in 2019 (`5215512345678`); the number itself is `+525512345678`.
    /// - Brazil: an account older than Brazil's ninth mobile digit may lack it
    ///   (`551187654321`); the number itself is `+5511987654321`.
    pub fn from_whatsapp_id(wa_id: &str) -> Result<Self, PhoneError> {
        let digits = wa_id.trim();
        if digits.is_empty() {
            return Err(PhoneError::Empty);
        }
        if !digits.bytes().all(|b| b.is_ascii_digit()) {
            return Err(PhoneError::InvalidCharacters);
        }
        if digits.len() > MAX_E164_DIGITS {
            return Err(PhoneError::NotPossible);
        }

        if let Some(number) = parse_valid(None, &format!("+{digits}")) {
            return Ok(number);
        }
        whatsapp_legacy_forms(digits)
            .into_iter()
            .flatten()
            .find_map(|candidate| parse_valid(None, &candidate))
            .ok_or(PhoneError::NotPossible)
    }

    /// Parses a number already in E.164 form (`+919876543210`), as stored by Lead Engine itself.
    /// No region is involved, so a national form is refused rather than guessed.
    pub fn parse_e164(e164: &str) -> Result<Self, PhoneError> {
        let trimmed = e164.trim();
        let Some(digits) = trimmed.strip_prefix('+') else {
            return Err(if trimmed.is_empty() {
                PhoneError::Empty
            } else {
                PhoneError::NotPossible
            });
        };
        if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
            return Err(PhoneError::InvalidCharacters);
        }
        if digits.len() > MAX_E164_DIGITS {
            return Err(PhoneError::NotPossible);
        }
        parse_valid(None, trimmed).ok_or(PhoneError::NotPossible)
    }

    /// The E.164 string, e.g. `+919876543210`.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The E.164 string; the same as [`PhoneNumber::as_str`], named for call sites that want to
    /// say which form they rely on.
    pub fn e164(&self) -> &str {
        &self.0
    }

    /// The E.164 string, consumed.
    pub fn into_string(self) -> String {
        self.0
    }
}

impl fmt::Display for PhoneNumber {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl fmt::Debug for PhoneNumber {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("PhoneNumber([redacted])")
    }
}

impl Serialize for PhoneNumber {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.0)
    }
}

/// Trims, enforces the length cap and the character set, and compacts the number to its
/// digits, with a `+` when one leads them: `(+91) 98765-43210` → `+919876543210`.
///
/// Compacting loses nothing: with letters and extensions refused, separators carry no meaning
/// for libphonenumber (which strips them itself). It matters for speed: the parser's extension
/// and trailing-character patterns cost about 0.3 ms on a number written with spaces and about a
/// microsecond on bare digits.
fn clean(raw: &str) -> Result<String, PhoneError> {
    let trimmed = raw.trim();
    if trimmed.is_empty() {
        return Err(PhoneError::Empty);
    }
    if trimmed.chars().nth(MAX_INPUT_CHARS).is_some() {
        return Err(PhoneError::TooLong);
    }
    let mut compact = String::with_capacity(MAX_E164_DIGITS + 1);
    for c in trimmed.chars() {
        match c {
            '0'..='9' => compact.push(c),
            // A plus only means "international" before the first digit.
            '+' if compact.bytes().any(|b| b.is_ascii_digit()) => {
                return Err(PhoneError::NotPossible);
            }
            '+' if compact.is_empty() => compact.push('+'),
            '+' | '-' | '(' | ')' | '.' | '/' => {}
            // Hyphen, non-breaking hyphen, figure dash, en and em dash, minus sign.
            '\u{2010}'..='\u{2015}' | '\u{2212}' => {}
            c if c.is_whitespace() => {}
            _ => return Err(PhoneError::InvalidCharacters),
        }
    }
    Ok(compact)
}

/// The region for national forms, with its calling code. Checked against the metadata too: the
/// parser indexes the metadata by region and would panic on a region it has no entry for.
fn region(code: &str) -> Result<(RegionId, u16), PhoneError> {
    let code = code.trim();
    if code.len() != 2 {
        return Err(PhoneError::UnknownRegion);
    }
    let code = code.to_ascii_uppercase();
    let id: RegionId = code.parse().map_err(|_| PhoneError::UnknownRegion)?;
    let calling_code = metadata::calling_code(&code).ok_or(PhoneError::UnknownRegion)?;
    Ok((id, calling_code))
}

/// Parses and keeps the result only when libphonenumber calls it valid (a number that can be
/// assigned, not merely one of a plausible length) and it has no extension, which E.164 cannot
/// carry.
fn parse_valid(region: Option<(RegionId, u16)>, input: &str) -> Option<PhoneNumber> {
    let (number, valid) = metadata::parse(region, input)?;
    if !valid || number.extension().is_some() {
        return None;
    }
    Some(PhoneNumber(e164(&number)))
}

/// `+<calling code><national number>`, the national number with any leading zeros it keeps
/// (Italy's fixed lines). Written here rather than through `phonenumber`'s formatter, which works
/// out the national format's pattern even for E.164 and falls back to its full database.
fn e164(number: &phonenumber::PhoneNumber) -> String {
    format!("+{}{}", number.country().code(), number.national())
}

/// `0044 20 7946 0958` → `+442079460958`, for regions whose own international prefix is not
/// `00` (the US dials `011`). `000…` is no international prefix anywhere.
fn international_from_double_zero(compact: &str) -> Option<String> {
    let rest = compact.strip_prefix("00")?;
    if rest.is_empty() || rest.starts_with('0') {
        return None;
    }
    Some(format!("+{rest}"))
}

/// The E.164 candidates for the legacy `wa_id` forms described on
/// [`PhoneNumber::from_whatsapp_id`]. `digits` is ASCII digits only.
fn whatsapp_legacy_forms(digits: &str) -> [Option<String>; 2] {
    // Mexico: 52 + 1 + ten-digit number.
    let mexico = digits
        .strip_prefix("521")
        .filter(|national| national.len() == 10)
        .map(|national| format!("+52{national}"));
    // Brazil: 55 + two-digit area code + eight-digit mobile starting 6-9, missing its leading 9.
    let brazil = digits
        .strip_prefix("55")
        .filter(|national| national.len() == 10)
        .filter(|national| matches!(national.as_bytes().get(2), Some(b'6'..=b'9')))
        .map(|national| format!("+55{}9{}", &national[..2], &national[2..]));
    [mexico, brazil]
}

#[cfg(test)]
mod tests {
    use super::*;

    fn e164(raw: &str, region: &str) -> Result<String, PhoneError> {
        PhoneNumber::parse(raw, region).map(PhoneNumber::into_string)
    }

    #[test]
    fn indian_number_written_every_common_way_is_one_e164() {
        #[rustfmt::skip]
        let cases = [
            ("+91 98765 43210",                 "international with spaces"),
            ("098765 43210",                    "national with trunk prefix 0"),
            ("9876543210",                      "bare ten digits"),
            ("0091-98765-43210",                "international prefix 00 with dashes"),
            ("+91-98765-43210",                 "plus with dashes"),
            ("(+91) 98765 43210",               "country code in parentheses"),
            ("919876543210",                    "country code without plus"),
            ("+919876543210",                   "already E.164"),
            ("00919876543210",                  "international prefix 00, no separators"),
            ("+91 (0) 98765 43210",             "trunk prefix in parentheses"),
            ("  +91 98765 43210  ",             "surrounding whitespace"),
            ("+91\u{a0}98765\u{a0}43210",       "non-breaking spaces from a copy-paste"),
            ("+91\u{2013}98765\u{2013}43210",   "en dashes from a copy-paste"),
            ("+91.98765.43210",                 "dots"),
            ("+91/98765/43210",                 "slashes"),
        ];
        for (raw, why) in cases {
            let got = e164(raw, "IN");
            assert_eq!(got, Ok("+919876543210".to_owned()), "case {raw:?}: {why}");
        }
    }

    #[test]
    fn default_region_is_case_insensitive() {
        for region in ["IN", "in", "In", " in "] {
            let got = e164("98765 43210", region);
            assert_eq!(got, Ok("+919876543210".to_owned()), "case {region:?}");
        }
    }

    #[test]
    fn double_zero_international_prefix_works_in_every_region() {
        #[rustfmt::skip]
        let cases = [
            ("0044 20 7946 0958",   "US", "+442079460958", "US dials 011, yet 00 is clear"),
            ("0044 20 7946 0958",   "GB", "+442079460958", "GB's own prefix is 00"),
            ("00 1 650 253 0000",   "US", "+16502530000",  "00 then the NANP country code"),
            ("0034 612 345 678",    "ES", "+34612345678",  "Spain's own prefix is 00"),
            ("0091 98765 43210",    "AE", "+919876543210", "an Indian number typed in Dubai"),
            ("011 44 20 7946 0958", "US", "+442079460958", "the US's own prefix 011"),
        ];
        for (raw, region, want, why) in cases {
            let got = e164(raw, region);
            assert_eq!(got, Ok(want.to_owned()), "case {raw:?} in {region}: {why}");
        }
    }

    #[test]
    fn national_forms_follow_the_default_region() {
        #[rustfmt::skip]
        let cases = [
            ("(650) 253-0000",  "US", "+16502530000"),
            ("650.253.0000",    "US", "+16502530000"),
            ("612 345 678",     "ES", "+34612345678"),
            ("020 7946 0958",   "GB", "+442079460958"),
            ("+44 7911 123456", "IN", "+447911123456"),
        ];
        for (raw, region, want) in cases {
            let got = e164(raw, region);
            assert_eq!(got, Ok(want.to_owned()), "case {raw:?} in {region}");
        }
    }

    #[test]
    fn impossible_or_malformed_numbers_are_refused_not_guessed() {
        use PhoneError::{InvalidCharacters as Chars, NotPossible};
        #[rustfmt::skip]
        let cases = [
            ("12345",                  NotPossible, "too short"),
            ("+91 98765 4321",         NotPossible, "one digit short for India"),
            ("98765 4321",             NotPossible, "nine national digits"),
            ("+91 98765 43210 1234",   NotPossible, "too many digits"),
            ("98765+43210",            NotPossible, "a plus inside the number"),
            ("+91 00000 00000",        NotPossible, "all zeros"),
            ("5555555555",             NotPossible, "an unassigned Indian range"),
            ("0000 98765 43210",       NotPossible, "000 is no international prefix"),
            ("+999 1234 5678",         NotPossible, "no such country code"),
            ("+",                      NotPossible, "only a plus"),
            ("()-./",                  NotPossible, "only separators"),
            ("call me 9876543210",     Chars,       "surrounding words"),
            ("98765abc43210",          Chars,       "letters (vanity digits)"),
            ("+91 98765 43210 x12",    Chars,       "an extension"),
            ("+1 650 253 0000;ext=12", Chars,       "an RFC 3966 extension"),
            ("tel:+919876543210",      Chars,       "a tel: URI"),
            ("९८७६५४३२१०",             Chars,       "Devanagari digits"),
            ("📞 9876543210",          Chars,       "an emoji"),
            ("9876543210#",            Chars,       "a hash"),
        ];
        for (raw, want, why) in cases {
            assert_eq!(e164(raw, "IN"), Err(want), "case {raw:?}: {why}");
        }
    }

    #[test]
    fn empty_or_whitespace_is_its_own_error() {
        for raw in ["", " ", "\t\n", "\u{a0}"] {
            assert_eq!(e164(raw, "IN"), Err(PhoneError::Empty), "case {raw:?}");
        }
    }

    #[test]
    fn input_over_the_cap_is_refused_before_parsing() {
        let at_cap = format!("+91 98765 43210{}0", " ".repeat(MAX_INPUT_CHARS - 16));
        assert_eq!(at_cap.chars().count(), MAX_INPUT_CHARS);
        assert_eq!(
            e164(&at_cap, "IN"),
            Err(PhoneError::NotPossible),
            "64 characters are parsed (and this one has a digit too many)"
        );

        let over = "9".repeat(MAX_INPUT_CHARS + 1);
        assert_eq!(e164(&over, "IN"), Err(PhoneError::TooLong));
        let huge = "9".repeat(1 << 20);
        assert_eq!(e164(&huge, "IN"), Err(PhoneError::TooLong));
    }

    #[test]
    fn unknown_default_region_is_its_own_error() {
        for region in ["", "XX", "ZZ", "IND", "001", "I", "🇮🇳", "i\u{130}"] {
            let got = e164("+91 98765 43210", region);
            assert_eq!(got, Err(PhoneError::UnknownRegion), "case {region:?}");
        }
    }

    #[test]
    fn whatsapp_ids_are_international_digits_without_plus() {
        #[rustfmt::skip]
        let cases = [
            ("16505551234",   "+16505551234",   "US"),
            ("919876543210",  "+919876543210",  "India"),
            ("447911123456",  "+447911123456",  "UK"),
            ("34612345678",   "+34612345678",   "Spain"),
            ("525512345678",  "+525512345678",  "Mexico, current form"),
            ("5215512345678", "+525512345678",  "Mexico, legacy mobile 1"),
            ("5511987654321", "+5511987654321", "Brazil, current form"),
            ("551187654321",  "+5511987654321", "Brazil, legacy form without the ninth digit"),
            ("551127654321",  "+551127654321",  "Brazil, a landline gets no ninth digit"),
        ];
        for (wa_id, want, why) in cases {
            let got = PhoneNumber::from_whatsapp_id(wa_id).map(PhoneNumber::into_string);
            assert_eq!(got, Ok(want.to_owned()), "case {wa_id:?}: {why}");
        }
    }

    #[test]
    fn whatsapp_id_and_web_form_of_the_same_person_are_equal() {
        let from_whatsapp = PhoneNumber::from_whatsapp_id("919876543210");
        let from_web = PhoneNumber::parse("098765 43210", "IN");
        assert_eq!(from_whatsapp, from_web);
    }

    #[test]
    fn malformed_whatsapp_ids_are_refused() {
        use PhoneError::{Empty, InvalidCharacters as Chars, NotPossible};
        #[rustfmt::skip]
        let cases = [
            ("",                 Empty,       "empty"),
            ("+919876543210",    Chars,       "a plus is not part of a wa_id"),
            ("91 98765 43210",   Chars,       "spaces"),
            ("9876543210",       NotPossible, "national number without country code"),
            ("1234567890123456", NotPossible, "sixteen digits"),
            ("0919876543210",    NotPossible, "leading zero"),
        ];
        for (wa_id, want, why) in cases {
            let got = PhoneNumber::from_whatsapp_id(wa_id);
            assert_eq!(got, Err(want), "case {wa_id:?}: {why}");
        }
    }

    #[test]
    fn stored_e164_round_trips_and_national_forms_are_refused() {
        use PhoneError::{Empty, InvalidCharacters as Chars, NotPossible};

        let number = PhoneNumber::parse("098765 43210", "IN").unwrap();
        assert_eq!(PhoneNumber::parse_e164(number.as_str()), Ok(number));

        #[rustfmt::skip]
        let cases = [
            ("",                Empty,       "empty"),
            ("9876543210",      NotPossible, "national form: no region to read it in"),
            ("+91 98765 43210", Chars,       "E.164 has no spaces"),
            ("+",               Chars,       "only a plus"),
            ("+9198765",        NotPossible, "too short"),
        ];
        for (raw, want, why) in cases {
            assert_eq!(
                PhoneNumber::parse_e164(raw),
                Err(want),
                "case {raw:?}: {why}"
            );
        }
    }

    #[test]
    fn debug_hides_the_number_and_display_shows_e164() {
        let number = PhoneNumber::parse("+91 98765 43210", "IN").unwrap();
        assert_eq!(format!("{number:?}"), "PhoneNumber([redacted])");
        assert!(!format!("{:?}", Some(&number)).contains("98765"));
        assert_eq!(number.to_string(), "+919876543210");
        assert_eq!(number.e164(), number.as_str());
    }

    #[test]
    fn serializes_as_the_e164_string() {
        let number = PhoneNumber::parse("+91 98765 43210", "IN").unwrap();
        let json = serde_json::to_string(&number).unwrap();
        assert_eq!(json, "\"+919876543210\"");
    }

    #[test]
    fn error_messages_never_contain_the_number() {
        let long = "98765".repeat(20);
        let cases = [
            ("+91 98765 4321", "IN"),
            ("98765abc4321", "IN"),
            ("+91 98765 43210", "XX"),
            (long.as_str(), "IN"),
        ];
        for (raw, region) in cases {
            let message = PhoneNumber::parse(raw, region).unwrap_err().to_string();
            assert!(!message.contains("98765"), "case {raw:?}: {message:?}");
        }
    }

    #[test]
    fn error_messages_complete_a_sentence_about_the_field() {
        use PhoneError::{Empty, InvalidCharacters, NotPossible, TooLong, UnknownRegion};
        #[rustfmt::skip]
        let cases = [
            (Empty,             "is empty"),
            (TooLong,           "is longer than 64 characters"),
            (InvalidCharacters, "contains characters that are not part of a phone number"),
            (UnknownRegion,     "has an unknown default region"),
            (NotPossible,       "is not a possible phone number"),
        ];
        for (err, want) in cases {
            assert_eq!(err.to_string(), want, "case {err:?}");
        }
    }

    /// A deterministic sweep of the input space the character filter lets through: the parser
    /// must answer every one of them with a value, never a panic.
    #[test]
    fn arbitrary_inputs_from_the_accepted_alphabet_never_panic() {
        const ALPHABET: &[u8] = b"0123456789 +-()./00000++99";
        const REGIONS: [&str; 6] = ["IN", "US", "GB", "ES", "BR", "MX"];
        let mut state: u64 = 0x9E37_79B9_7F4A_7C15;
        let mut next = move || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state
        };
        for i in 0..3_000 {
            let len = (next() % 20) as usize;
            let raw: String = (0..len)
                .map(|_| char::from(ALPHABET[(next() % ALPHABET.len() as u64) as usize]))
                .collect();
            let region = REGIONS[i % REGIONS.len()];
            if let Ok(number) = PhoneNumber::parse(&raw, region) {
                assert!(number.as_str().starts_with('+'), "case {raw:?} in {region}");
            }
            let digits: String = raw.chars().filter(char::is_ascii_digit).collect();
            let _ = PhoneNumber::from_whatsapp_id(&digits);
        }
    }
}
