//! Email addresses, trimmed and lower-cased for matching.
//!
//! An email is one of the identities a lead is found by, so `Asha@Example.com ` from a web form
//! and `asha@example.com` from a CRM import must be the same key. Validation is deliberately
//! pragmatic rather than RFC 5322: the goal is to refuse what is clearly not an address (a name,
//! a phone number, `Name <a@b.com>` pasted whole, a missing domain) without refusing a real
//! person's unusual but deliverable address. Whether it exists is for the mail server to say.
//!
//! Lower-casing the local part is technically lossy (RFC 5321 lets a server treat it
//! case-sensitively) but no mainstream provider does, and matching `Asha@` with `asha@` is worth
//! far more to lead dedupe than that theoretical distinction.
//!
//! An email is personal data (docs/architecture.md §7.2): `Debug` never prints it and no error message
//! contains it.

use serde::{Serialize, Serializer};
use std::fmt;

/// The longest address that fits SMTP's forward-path (RFC 5321: 256 octets including `<>`).
pub const MAX_LEN: usize = 254;
/// The longest local part SMTP allows (RFC 5321).
pub const MAX_LOCAL_LEN: usize = 64;
/// The longest domain label DNS allows.
const MAX_LABEL_LEN: usize = 63;

/// A plausible email address, trimmed and lower-cased.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Email(String);

/// Why an email was refused. Messages complete a sentence about the field ("email is empty") and
/// never contain the address.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum EmailError {
    #[error("is empty")]
    Empty,
    #[error("is longer than {MAX_LEN} characters")]
    TooLong,
    /// Also zero-width and other invisible characters, which would make look-alike duplicates.
    #[error("must not contain spaces or control characters")]
    Whitespace,
    #[error("must contain exactly one @")]
    NotOneAt,
    #[error("is missing the part before the @")]
    EmptyLocalPart,
    #[error("has a part before the @ longer than {MAX_LOCAL_LEN} characters")]
    LocalPartTooLong,
    #[error("has characters that are not allowed before the @")]
    InvalidLocalPart,
    #[error("has an invalid domain")]
    InvalidDomain,
}

impl Email {
    /// Trims, lower-cases and validates `raw`.
    pub fn parse(raw: &str) -> Result<Self, EmailError> {
        let trimmed = raw.trim();
        if trimmed.is_empty() {
            return Err(EmailError::Empty);
        }
        // Checked before lower-casing so a huge input is refused before any copy is made.
        if trimmed.len() > MAX_LEN {
            return Err(EmailError::TooLong);
        }
        if trimmed
            .chars()
            .any(|c| c.is_whitespace() || c.is_control() || is_invisible(c))
        {
            return Err(EmailError::Whitespace);
        }

        let email = trimmed.to_lowercase();
        // Some characters grow when lower-cased; the cap is on what is stored.
        if email.len() > MAX_LEN {
            return Err(EmailError::TooLong);
        }

        let (local, domain) = match email.split_once('@') {
            Some((local, domain)) if !domain.contains('@') => (local, domain),
            _ => return Err(EmailError::NotOneAt),
        };
        check_local_part(local)?;
        check_domain(domain)?;
        Ok(Self(email))
    }

    /// The normalised address.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The normalised address, consumed.
    pub fn into_string(self) -> String {
        self.0
    }
}

impl fmt::Display for Email {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl fmt::Debug for Email {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Email([redacted])")
    }
}

impl Serialize for Email {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.0)
    }
}

/// Zero-width and formatting characters that copy-pastes carry: invisible, so two addresses
/// that look the same would become two leads.
fn is_invisible(c: char) -> bool {
    matches!(c, '\u{ad}' | '\u{200b}'..='\u{200f}' | '\u{2060}'..='\u{2064}' | '\u{feff}')
}

/// RFC 5322 "specials" appear in a local part only inside quotes, which no lead form produces;
/// seeing one almost always means a display name or a list was pasted (`Asha <a@b.com>`,
/// `a@b.com, c@d.com`).
fn check_local_part(local: &str) -> Result<(), EmailError> {
    if local.is_empty() {
        return Err(EmailError::EmptyLocalPart);
    }
    if local.len() > MAX_LOCAL_LEN {
        return Err(EmailError::LocalPartTooLong);
    }
    const SPECIALS: &[char] = &['"', '(', ')', ',', ':', ';', '<', '>', '[', '\\', ']'];
    if local.contains(SPECIALS) {
        return Err(EmailError::InvalidLocalPart);
    }
    Ok(())
}

/// A host name of at least two labels: letters (any script, for internationalised domains),
/// digits and inner hyphens, no empty label, and a top-level label that is not all digits (which
/// would be an IP address, never a lead's mailbox).
fn check_domain(domain: &str) -> Result<(), EmailError> {
    let mut labels = 0;
    let mut last = "";
    for label in domain.split('.') {
        let valid = !label.is_empty()
            && label.len() <= MAX_LABEL_LEN
            && !label.starts_with('-')
            && !label.ends_with('-')
            && label.chars().all(|c| c.is_alphanumeric() || c == '-');
        if !valid {
            return Err(EmailError::InvalidDomain);
        }
        labels += 1;
        last = label;
    }
    if labels < 2 || last.chars().all(|c| c.is_ascii_digit()) {
        return Err(EmailError::InvalidDomain);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn addresses_are_trimmed_and_lower_cased_for_matching() {
        #[rustfmt::skip]
        let cases = [
            ("asha@example.com",     "asha@example.com",     "already normal"),
            ("Asha@Example.COM",     "asha@example.com",     "mixed case"),
            ("  asha@example.com\n", "asha@example.com",     "surrounding whitespace"),
            ("A.Rao+leads@x.co.in",  "a.rao+leads@x.co.in",  "plus tag and subdomains"),
            ("o'brien@example.ie",   "o'brien@example.ie",   "apostrophe"),
            ("u_n-1@my-domain.io",   "u_n-1@my-domain.io",   "underscore and hyphens"),
            ("José@Ejemplo.es",      "josé@ejemplo.es",      "non-ASCII local part"),
            ("info@münchen.de",      "info@münchen.de",      "internationalised domain"),
            ("x@xn--mnchen-3ya.de",  "x@xn--mnchen-3ya.de",  "punycode domain"),
            ("a@b.co",               "a@b.co",               "shortest plausible"),
        ];
        for (raw, want, why) in cases {
            let got = Email::parse(raw).map(Email::into_string);
            assert_eq!(got, Ok(want.to_owned()), "case {raw:?}: {why}");
        }
    }

    #[test]
    fn things_that_are_not_addresses_are_refused() {
        use EmailError::{
            Empty, EmptyLocalPart, InvalidDomain as Domain, InvalidLocalPart as Local, NotOneAt,
            Whitespace,
        };
        #[rustfmt::skip]
        let cases = [
            ("",                         Empty,          "empty"),
            ("   \t",                    Empty,          "blank"),
            ("asha",                     NotOneAt,       "no @"),
            ("9876543210",               NotOneAt,       "a phone number"),
            ("asha@@example.com",        NotOneAt,       "two @ in a row"),
            ("a@b@example.com",          NotOneAt,       "two @"),
            ("@example.com",             EmptyLocalPart, "no local part"),
            ("asha@",                    Domain,         "no domain"),
            ("asha@example",             Domain,         "domain without a dot"),
            ("asha@example.",            Domain,         "trailing dot"),
            ("asha@.example.com",        Domain,         "leading dot"),
            ("asha@example..com",        Domain,         "empty label"),
            ("asha@-example.com",        Domain,         "label starts with a hyphen"),
            ("asha@example-.com",        Domain,         "label ends with a hyphen"),
            ("asha@exa_mple.com",        Domain,         "underscore in the domain"),
            ("asha@example.com>",        Domain,         "pasted bracket"),
            ("asha@192.168.0.1",         Domain,         "an IP address"),
            ("asha@[192.168.0.1]",       Domain,         "an IP literal"),
            ("asha@exa😀mple.com",       Domain,         "emoji in the domain"),
            ("<asha@example.com>",       Local,          "angle brackets"),
            ("asha,ravi@example.com",    Local,          "a list"),
            ("\"asha\"@example.com",     Local,          "quoted local part"),
            ("Asha <asha@example.com>",  Whitespace,     "display name pasted"),
            ("asha rao@example.com",     Whitespace,     "inner space"),
            ("asha@exam ple.com",        Whitespace,     "space in the domain"),
            ("asha\u{0}@example.com",    Whitespace,     "NUL"),
            ("asha\u{7f}@example.com",   Whitespace,     "DEL"),
            ("asha@example.com\u{85}x",  Whitespace,     "next-line control"),
            ("asha\u{200b}@example.com", Whitespace,     "zero-width space"),
            ("\u{feff}asha@example.com", Whitespace,     "byte-order mark"),
        ];
        for (raw, want, why) in cases {
            assert_eq!(Email::parse(raw), Err(want), "case {raw:?}: {why}");
        }
    }

    #[test]
    fn length_limits_follow_smtp() {
        use EmailError::{InvalidDomain, LocalPartTooLong, TooLong};

        let label = "d".repeat(MAX_LABEL_LEN);
        let local = "l".repeat(MAX_LOCAL_LEN);
        // Labels of 60 characters joined by dots, cut to make an address of a given length.
        let long_domain = vec!["d".repeat(60); 5].join(".");
        let address_of = |total: usize| format!("a@{}.com", &long_domain[..total - 6]);

        #[rustfmt::skip]
        let cases = [
            (format!("{local}@{label}.com"),  None,                   "local part at 64"),
            (format!("{local}l@{label}.com"), Some(LocalPartTooLong), "local part at 65"),
            (format!("a@{label}d.com"),       Some(InvalidDomain),    "label at 64"),
            (address_of(MAX_LEN),             None,                   "254 in total"),
            (address_of(MAX_LEN + 1),         Some(TooLong),          "255 in total"),
            ("a".repeat(1 << 20),             Some(TooLong),          "a megabyte"),
        ];
        for (raw, want, why) in cases {
            let got = Email::parse(&raw).err();
            assert_eq!(got, want, "case {why} ({} bytes)", raw.len());
        }
    }

    #[test]
    fn the_same_person_typed_twice_is_equal() {
        let from_form = Email::parse(" Asha@Example.com");
        let from_import = Email::parse("asha@example.COM ");
        assert_eq!(from_form, from_import);
    }

    #[test]
    fn debug_hides_the_address_and_display_shows_it() {
        let email = Email::parse("asha@example.com").unwrap();
        assert_eq!(format!("{email:?}"), "Email([redacted])");
        assert!(!format!("{:?}", Some(&email)).contains("asha"));
        assert_eq!(email.to_string(), "asha@example.com");
        assert_eq!(email.as_str(), "asha@example.com");
    }

    #[test]
    fn serializes_as_the_normalised_string() {
        let email = Email::parse("Asha@Example.com").unwrap();
        let json = serde_json::to_string(&email).unwrap();
        assert_eq!(json, "\"asha@example.com\"");
    }

    #[test]
    fn error_messages_never_contain_the_address() {
        for raw in [
            "asha",
            "asha@example",
            "Asha <asha@example.com>",
            "@asha",
            "<asha@x.com>",
        ] {
            let message = Email::parse(raw).unwrap_err().to_string();
            assert!(!message.contains("asha"), "case {raw:?}: {message:?}");
        }
    }

    #[test]
    fn error_messages_complete_a_sentence_about_the_field() {
        #[rustfmt::skip]
        let cases = [
            (EmailError::Empty,            "is empty"),
            (EmailError::TooLong,          "is longer than 254 characters"),
            (EmailError::Whitespace,       "must not contain spaces or control characters"),
            (EmailError::NotOneAt,         "must contain exactly one @"),
            (EmailError::EmptyLocalPart,   "is missing the part before the @"),
            (EmailError::LocalPartTooLong, "has a part before the @ longer than 64 characters"),
            (EmailError::InvalidLocalPart, "has characters that are not allowed before the @"),
            (EmailError::InvalidDomain,    "has an invalid domain"),
        ];
        for (err, want) in cases {
            assert_eq!(err.to_string(), want, "case {err:?}");
        }
    }
}
