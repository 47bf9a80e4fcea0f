//! Webhook signature verification: Meta's `X-Hub-Signature-256` and Stripe's `Stripe-Signature`.
//!
//! Both providers sign the request body with HMAC-SHA256 and a shared secret. Public code behind
//! the products this engine replaces accepted webhooks with no check at all, so anyone who knew
//! the URL could create leads or mark invoices paid. The rules here (docs/architecture.md §5, §7.2):
//!
//! - **Raw bytes.** The MAC is computed over the body exactly as received. Parsing and
//!   re-serialising JSON changes whitespace, key order and escapes, so verification happens before
//!   any parsing, on the same bytes the provider signed (after undoing API Gateway's base64, which
//!   is the caller's job).
//! - **Constant time.** The comparison goes through [`Mac::verify_slice`] (the `subtle` crate
//!   underneath), so response timing does not reveal how many leading bytes of a guess were right.
//! - **Distinct failures, one answer.** Each way a check can fail has its own
//!   [`SignatureError`] variant so logs say *why*; upstream every variant is a 401, except
//!   [`SignatureError::EmptySecret`], which is a deployment mistake (see its doc).
//! - **Nothing secret in errors.** Variants carry no secret, header value or body byte, so an
//!   error can be logged as it is.
//! - **Hex case.** Both providers send lowercase hex. Uppercase (or mixed) hex is accepted: it
//!   encodes the same 32 bytes, the comparison is on those bytes, and refusing it would buy no
//!   security. A signature that is not exactly 64 hex digits is [`SignatureError::BadHex`].
//!
//! Stripe specifics: the signed payload is `"{t}." + body`, the key is the whole `whsec_…` string
//! (not base64-decoded), any `v1` may match (during secret rotation Stripe signs with both the old
//! and the new secret), `v0` and unknown schemes are ignored, and a valid signature whose `t` is
//! more than [`STRIPE_TOLERANCE_SECS`] away from now is refused as a replay. The signature is
//! checked before the timestamp, so [`SignatureError::TimestampOutsideTolerance`] is only reported
//! for a genuine but stale (or clock-skewed) delivery, which is worth telling apart in logs.
//!
//! [`sign_meta`] and [`sign_stripe`] produce header values for tests and for the local stack's demo
//! tooling; the verifiers share their MAC code, and the tests pin both against published or
//! independently computed vectors.

use hmac::{
    Hmac, Mac,
    digest::{Key, KeyInit},
};
use sha2::{Digest, Sha256};

use crate::secret::Secret;

/// Header that carries Meta's signature (`sha256=<hex>`).
pub const META_SIGNATURE_HEADER: &str = "X-Hub-Signature-256";

/// Header that carries Stripe's signature (`t=<unix>,v1=<hex>[,v1=<hex>…]`).
pub const STRIPE_SIGNATURE_HEADER: &str = "Stripe-Signature";

/// How far a Stripe signature's timestamp may be from now, either way: Stripe's own default.
pub const STRIPE_TOLERANCE_SECS: i64 = 300;

const META_PREFIX: &str = "sha256=";

/// Length in bytes of an HMAC-SHA256 tag (64 hex digits).
const TAG_LEN: usize = 32;

type HmacSha256 = Hmac<Sha256>;

/// Why a webhook signature was refused. No variant carries the secret, the header or the body.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum SignatureError {
    /// The signature header is absent or blank.
    #[error("the signature header is missing")]
    MissingHeader,
    /// Meta: the header does not start with `sha256=`.
    #[error("the signature header does not start with `sha256=`")]
    WrongPrefix,
    /// Stripe: the header is not a comma-separated `key=value` list with exactly one integer `t`.
    #[error("the signature header is malformed")]
    MalformedHeader,
    /// Stripe: the header has a timestamp but no `v1` signature (for example `v0` only).
    #[error("the signature header carries no v1 signature")]
    NoV1Signature,
    /// The signature is not 64 hexadecimal digits (for Stripe: none of the `v1` values is).
    #[error("the signature is not 64 hexadecimal digits")]
    BadHex,
    /// The signature is well formed but was not made with this secret over these bytes.
    #[error("the signature does not match the body")]
    Mismatch,
    /// Stripe: the signature is valid but its timestamp is too far from now (a replay, or a clock
    /// that is badly off). `age_secs` is `now − t`: positive in the past, negative in the future.
    #[error("the signature timestamp is {age_secs}s from now, beyond the tolerance")]
    TimestampOutsideTolerance { age_secs: i64 },
    /// The configured secret is empty. Everyone can compute an HMAC with an empty key, so
    /// accepting signatures made with it would accept forgeries. This is a configuration error on
    /// our side, not a bad request; it refuses every request until the secret is set.
    #[error("the webhook secret is not configured")]
    EmptySecret,
}

/// A verified `Stripe-Signature`: the signing time the caller may want to journal.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StripeSignature {
    /// The header's `t`, in Unix seconds.
    pub timestamp: i64,
}

/// Verifies Meta's `X-Hub-Signature-256: sha256=<hex>` over the exact raw body with the app secret.
///
/// # Errors
/// [`SignatureError::EmptySecret`], [`MissingHeader`](SignatureError::MissingHeader),
/// [`WrongPrefix`](SignatureError::WrongPrefix), [`BadHex`](SignatureError::BadHex) or
/// [`Mismatch`](SignatureError::Mismatch); the caller answers 401 to all but the first.
pub fn verify_meta(
    raw_body: &[u8],
    header: Option<&str>,
    app_secret: &Secret,
) -> Result<(), SignatureError> {
    let key = non_empty_key(app_secret)?;
    let header = present(header)?;
    let hex_tag = header
        .strip_prefix(META_PREFIX)
        .ok_or(SignatureError::WrongPrefix)?;
    let tag = decode_tag(hex_tag).ok_or(SignatureError::BadHex)?;

    let mut mac = keyed_mac(key);
    mac.update(raw_body);
    mac.verify_slice(&tag).map_err(|_| SignatureError::Mismatch)
}

/// Verifies `Stripe-Signature: t=<unix>,v1=<hex>[,v1=<hex>…]` over `"{t}." + raw body`, then that
/// `|now_unix − t| ≤ tolerance_secs` (pass [`STRIPE_TOLERANCE_SECS`] in production).
///
/// # Errors
/// [`SignatureError::EmptySecret`], [`MissingHeader`](SignatureError::MissingHeader),
/// [`MalformedHeader`](SignatureError::MalformedHeader),
/// [`NoV1Signature`](SignatureError::NoV1Signature), [`BadHex`](SignatureError::BadHex) (no `v1`
/// is 64 hex digits), [`Mismatch`](SignatureError::Mismatch) (no `v1` matches), or, for a genuine
/// signature only, [`TimestampOutsideTolerance`](SignatureError::TimestampOutsideTolerance).
pub fn verify_stripe(
    raw_body: &[u8],
    header: Option<&str>,
    secret: &Secret,
    now_unix: i64,
    tolerance_secs: i64,
) -> Result<StripeSignature, SignatureError> {
    let key = non_empty_key(secret)?;
    let parsed = parse_stripe_header(present(header)?)?;
    if parsed.v1.is_empty() {
        return Err(SignatureError::NoV1Signature);
    }

    // The body is hashed once; each candidate gets a copy of that state for its constant-time
    // comparison.
    let mac = stripe_mac(key, parsed.timestamp, raw_body);
    let mut any_well_formed = false;
    let mut matched = false;
    for candidate in parsed.v1 {
        let Some(tag) = decode_tag(candidate) else {
            continue;
        };
        any_well_formed = true;
        if mac.clone().verify_slice(&tag).is_ok() {
            matched = true;
            break;
        }
    }
    if !matched {
        return Err(if any_well_formed {
            SignatureError::Mismatch
        } else {
            SignatureError::BadHex
        });
    }

    let age_secs = now_unix.saturating_sub(parsed.timestamp);
    let tolerance = u64::try_from(tolerance_secs).unwrap_or(0);
    if now_unix.abs_diff(parsed.timestamp) > tolerance {
        return Err(SignatureError::TimestampOutsideTolerance { age_secs });
    }
    Ok(StripeSignature {
        timestamp: parsed.timestamp,
    })
}

/// The `X-Hub-Signature-256` value Meta would send for `raw_body`: `sha256=<lowercase hex>`.
pub fn sign_meta(raw_body: &[u8], secret: &Secret) -> String {
    let mut mac = keyed_mac(secret.expose().as_bytes());
    mac.update(raw_body);
    format!("{META_PREFIX}{}", hex::encode(mac.finalize().into_bytes()))
}

/// The `Stripe-Signature` value Stripe would send for `raw_body` signed at `t`: `t=<t>,v1=<hex>`.
pub fn sign_stripe(raw_body: &[u8], secret: &Secret, t: i64) -> String {
    let mac = stripe_mac(secret.expose().as_bytes(), t, raw_body);
    format!("t={t},v1={}", hex::encode(mac.finalize().into_bytes()))
}

struct StripeHeader<'a> {
    timestamp: i64,
    v1: Vec<&'a str>,
}

/// Splits `t=…,v1=…,v0=…` into its timestamp and `v1` candidates. Unknown keys (`v0`, and any
/// scheme Stripe adds later) are ignored; an item without `=` or a missing, repeated or
/// non-integer `t` makes the header malformed (two `t`s would make "which was signed?" ambiguous).
fn parse_stripe_header(header: &str) -> Result<StripeHeader<'_>, SignatureError> {
    let mut timestamp = None;
    let mut v1 = Vec::new();
    for item in header.split(',') {
        let (key, value) = item
            .trim()
            .split_once('=')
            .ok_or(SignatureError::MalformedHeader)?;
        match key.trim() {
            "t" => {
                if timestamp.is_some() {
                    return Err(SignatureError::MalformedHeader);
                }
                let t = value
                    .trim()
                    .parse::<i64>()
                    .map_err(|_| SignatureError::MalformedHeader)?;
                timestamp = Some(t);
            }
            "v1" => v1.push(value.trim()),
            _ => {}
        }
    }
    let timestamp = timestamp.ok_or(SignatureError::MalformedHeader)?;
    Ok(StripeHeader { timestamp, v1 })
}

fn stripe_mac(key: &[u8], t: i64, raw_body: &[u8]) -> HmacSha256 {
    let mut mac = keyed_mac(key);
    mac.update(t.to_string().as_bytes());
    mac.update(b".");
    mac.update(raw_body);
    mac
}

fn present(header: Option<&str>) -> Result<&str, SignatureError> {
    header
        .map(str::trim)
        .filter(|value| !value.is_empty())
        .ok_or(SignatureError::MissingHeader)
}

fn non_empty_key(secret: &Secret) -> Result<&[u8], SignatureError> {
    let key = secret.expose().as_bytes();
    if key.is_empty() {
        Err(SignatureError::EmptySecret)
    } else {
        Ok(key)
    }
}

/// Exactly 64 hex digits (either case) → the 32-byte tag; anything else → `None`.
fn decode_tag(hex_tag: &str) -> Option<[u8; TAG_LEN]> {
    let mut tag = [0u8; TAG_LEN];
    hex::decode_to_slice(hex_tag, &mut tag).ok()?;
    Some(tag)
}

/// An HMAC-SHA256 keyed with `key`, built without a fallible constructor.
///
/// HMAC (RFC 2104) accepts keys of any length: a key longer than the hash's 64-byte block is
/// replaced by its SHA-256 digest, and the key is then zero-padded to the block. `new_from_slice`
/// does exactly that and can never fail for HMAC, but it still returns a `Result`, which would
/// need an `unwrap`. Doing the two steps here and handing `KeyInit::new` a block-sized key gives
/// the same MAC with no panic path in our code; a test checks it against `new_from_slice` for
/// every key length around the block size.
fn keyed_mac(key: &[u8]) -> HmacSha256 {
    let mut block = Key::<HmacSha256>::default();
    if key.len() <= block.len() {
        block
            .iter_mut()
            .zip(key)
            .for_each(|(slot, byte)| *slot = *byte);
    } else {
        let digest = Sha256::digest(key);
        block
            .iter_mut()
            .zip(digest.iter())
            .for_each(|(slot, byte)| *slot = *byte);
    }
    <HmacSha256 as KeyInit>::new(&block)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::{Path, PathBuf};

    const META_TEXT_FIXTURE: &[u8] = include_bytes!(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../tests/fixtures/whatsapp/meta_message_text.json"
    ));
    const PUBLISHED_META_SECRET: &str = "test_app_secret";
    const PUBLISHED_META_SIGNATURE: &str =
        "sha256=1c041e1c07f50386213ac582d2e17d24d70f1ed42949a6e5a5607057b805b5fc";

    const STRIPE_SECRET: &str = "whsec_test_secret";
    const NOW: i64 = 1_700_000_000;

    fn meta_secret() -> Secret {
        Secret::new(PUBLISHED_META_SECRET)
    }

    fn stripe_secret() -> Secret {
        Secret::new(STRIPE_SECRET)
    }

    /// The repository's copies (tests/fixtures/SOURCES.md), never a path outside the repository.
    fn stripe_fixture_dir() -> PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/fixtures/stripe")
    }

    fn stripe_fixture(name: &str) -> Vec<u8> {
        let path = stripe_fixture_dir().join(name);
        std::fs::read(&path).unwrap_or_else(|e| panic!("read {}: {e}", path.display()))
    }

    fn one_byte_changed(body: &[u8], at: usize) -> Vec<u8> {
        let mut changed = body.to_vec();
        changed[at] ^= 0x01;
        changed
    }

    fn verify_stripe_now(body: &[u8], header: &str) -> Result<StripeSignature, SignatureError> {
        verify_stripe(
            body,
            Some(header),
            &stripe_secret(),
            NOW,
            STRIPE_TOLERANCE_SECS,
        )
    }

    fn v1_of(header: &str) -> &str {
        header
            .split(',')
            .find_map(|item| item.strip_prefix("v1="))
            .expect("signed header has a v1")
    }

    // ---- MAC construction -------------------------------------------------------------------

    #[test]
    fn keyed_mac_equals_the_hmac_crate_for_every_key_length_around_the_block_size() {
        for len in 0..=200usize {
            let key: Vec<u8> = (0..len).map(|i| (i * 7 + 3) as u8).collect();
            let mut ours = keyed_mac(&key);
            ours.update(b"payload");
            let mut reference =
                <HmacSha256 as Mac>::new_from_slice(&key).expect("hmac takes any key");
            reference.update(b"payload");
            assert_eq!(
                ours.finalize().into_bytes(),
                reference.finalize().into_bytes(),
                "key length {len}"
            );
        }
    }

    // ---- Meta ---------------------------------------------------------------------------------

    #[test]
    fn published_meta_test_vector_verifies_over_the_fixture_bytes_as_they_are() {
        // The file ends with a newline, and the published signature covers it.
        assert_eq!(META_TEXT_FIXTURE.last(), Some(&b'\n'));
        assert_eq!(
            verify_meta(
                META_TEXT_FIXTURE,
                Some(PUBLISHED_META_SIGNATURE),
                &meta_secret()
            ),
            Ok(())
        );
    }

    #[test]
    fn sign_meta_reproduces_the_published_test_vector() {
        assert_eq!(
            sign_meta(META_TEXT_FIXTURE, &meta_secret()),
            PUBLISHED_META_SIGNATURE
        );
    }

    #[test]
    fn meta_body_without_its_trailing_newline_no_longer_matches() {
        let trimmed = &META_TEXT_FIXTURE[..META_TEXT_FIXTURE.len() - 1];
        assert_eq!(
            verify_meta(trimmed, Some(PUBLISHED_META_SIGNATURE), &meta_secret()),
            Err(SignatureError::Mismatch)
        );
    }

    #[test]
    fn meta_body_changed_by_one_byte_anywhere_is_a_mismatch() {
        let secret = meta_secret();
        let header = sign_meta(META_TEXT_FIXTURE, &secret);
        for at in [0, META_TEXT_FIXTURE.len() / 2, META_TEXT_FIXTURE.len() - 1] {
            let changed = one_byte_changed(META_TEXT_FIXTURE, at);
            assert_eq!(
                verify_meta(&changed, Some(&header), &secret),
                Err(SignatureError::Mismatch),
                "byte {at} flipped"
            );
        }
    }

    #[test]
    fn meta_signature_made_with_another_secret_is_a_mismatch() {
        let forged = sign_meta(META_TEXT_FIXTURE, &Secret::new("someone_elses_secret"));
        assert_eq!(
            verify_meta(META_TEXT_FIXTURE, Some(&forged), &meta_secret()),
            Err(SignatureError::Mismatch)
        );
    }

    #[test]
    fn meta_header_failures_each_have_their_own_reason() {
        let hex = &PUBLISHED_META_SIGNATURE[META_PREFIX.len()..];
        let sha1 = format!("sha1={hex}");
        let no_prefix = hex.to_string();
        let capital_prefix = format!("SHA256={hex}");
        let short = format!("sha256={}", &hex[..62]);
        let long = format!("sha256={hex}00");
        let not_hex = format!("sha256={}zz", &hex[..62]);
        let cases: [(&str, Option<&str>, SignatureError); 10] = [
            ("absent header", None, SignatureError::MissingHeader),
            ("empty header", Some(""), SignatureError::MissingHeader),
            ("blank header", Some("   "), SignatureError::MissingHeader),
            ("sha1 prefix", Some(&sha1), SignatureError::WrongPrefix),
            (
                "no prefix at all",
                Some(&no_prefix),
                SignatureError::WrongPrefix,
            ),
            (
                "prefix in capitals",
                Some(&capital_prefix),
                SignatureError::WrongPrefix,
            ),
            (
                "prefix with nothing after it",
                Some("sha256="),
                SignatureError::BadHex,
            ),
            ("62 hex digits", Some(&short), SignatureError::BadHex),
            ("66 hex digits", Some(&long), SignatureError::BadHex),
            ("non-hex characters", Some(&not_hex), SignatureError::BadHex),
        ];
        for (case, header, expected) in cases {
            assert_eq!(
                verify_meta(META_TEXT_FIXTURE, header, &meta_secret()),
                Err(expected),
                "{case}"
            );
        }
    }

    #[test]
    fn meta_signature_in_uppercase_hex_is_accepted_because_it_is_the_same_tag() {
        let upper = format!(
            "sha256={}",
            PUBLISHED_META_SIGNATURE[META_PREFIX.len()..].to_ascii_uppercase()
        );
        assert_eq!(
            verify_meta(META_TEXT_FIXTURE, Some(&upper), &meta_secret()),
            Ok(())
        );
    }

    #[test]
    fn meta_header_with_surrounding_whitespace_is_accepted() {
        let padded = format!(" {PUBLISHED_META_SIGNATURE}\t");
        assert_eq!(
            verify_meta(META_TEXT_FIXTURE, Some(&padded), &meta_secret()),
            Ok(())
        );
    }

    #[test]
    fn empty_meta_secret_refuses_even_a_signature_made_with_the_empty_secret() {
        let empty = Secret::new("");
        let header = sign_meta(META_TEXT_FIXTURE, &empty);
        assert_eq!(
            verify_meta(META_TEXT_FIXTURE, Some(&header), &empty),
            Err(SignatureError::EmptySecret)
        );
    }

    #[test]
    fn every_whatsapp_fixture_round_trips_through_sign_meta_and_verify_meta() {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/fixtures/whatsapp");
        let secret = meta_secret();
        let mut checked = 0;
        for entry in std::fs::read_dir(&dir).expect("whatsapp fixtures directory") {
            let path = entry.expect("directory entry").path();
            let body = std::fs::read(&path).expect("fixture bytes");
            let header = sign_meta(&body, &secret);
            assert_eq!(
                verify_meta(&body, Some(&header), &secret),
                Ok(()),
                "{}",
                path.display()
            );
            checked += 1;
        }
        assert!(checked >= 38, "only {checked} whatsapp fixtures found");
    }

    // ---- Stripe -------------------------------------------------------------------------------

    /// A delivery Stripe itself signed, published with its (since revoked) secret by the
    /// stripe-hs library's webhook spec (tests/fixtures/SOURCES.md, `hs_customer.updated.json`).
    /// The header also carries a `v0`, which must be ignored; the signature covers the file
    /// without its final newline.
    const PUBLISHED_STRIPE_SECRET: &str = "whsec_2FZJ5Kqdi6AF8fGCLOCP9lH8Hpw9DW6T";
    const PUBLISHED_STRIPE_T: i64 = 1_608_784_111;
    const PUBLISHED_STRIPE_V1: &str =
        "3cef61e0cf5ad6e9832925080d463dd7396160f8371c430e426242f3f89f4126";
    const PUBLISHED_STRIPE_HEADER: &str = "t=1608784111,\
        v1=3cef61e0cf5ad6e9832925080d463dd7396160f8371c430e426242f3f89f4126,\
        v0=aa179c5358b80a557a960137a85279caa13b06a05390816b533c3c146127bbe0";

    fn published_stripe_body() -> Vec<u8> {
        let mut body = stripe_fixture("hs_customer.updated.json");
        assert_eq!(
            body.pop(),
            Some(b'\n'),
            "the file ends with the newline Stripe did not sign"
        );
        body
    }

    #[test]
    fn published_stripe_test_vector_verifies_at_its_own_timestamp() {
        let secret = Secret::new(PUBLISHED_STRIPE_SECRET);
        let body = published_stripe_body();
        for now in [
            PUBLISHED_STRIPE_T,
            PUBLISHED_STRIPE_T + STRIPE_TOLERANCE_SECS,
            PUBLISHED_STRIPE_T - STRIPE_TOLERANCE_SECS,
        ] {
            assert_eq!(
                verify_stripe(
                    &body,
                    Some(PUBLISHED_STRIPE_HEADER),
                    &secret,
                    now,
                    STRIPE_TOLERANCE_SECS
                ),
                Ok(StripeSignature {
                    timestamp: PUBLISHED_STRIPE_T
                }),
                "now = {now}"
            );
        }
    }

    #[test]
    fn sign_stripe_reproduces_the_published_test_vector() {
        let signed = sign_stripe(
            &published_stripe_body(),
            &Secret::new(PUBLISHED_STRIPE_SECRET),
            PUBLISHED_STRIPE_T,
        );
        assert_eq!(
            signed,
            format!("t={PUBLISHED_STRIPE_T},v1={PUBLISHED_STRIPE_V1}")
        );
    }

    #[test]
    fn published_stripe_test_vector_fails_when_anything_it_covers_changes() {
        let secret = Secret::new(PUBLISHED_STRIPE_SECRET);
        let body = published_stripe_body();
        let verify = |body: &[u8], header: &str, secret: &Secret, now: i64| {
            verify_stripe(body, Some(header), secret, now, STRIPE_TOLERANCE_SECS)
        };
        let with_newline = stripe_fixture("hs_customer.updated.json");
        let next_second = format!("t={},v1={PUBLISHED_STRIPE_V1}", PUBLISHED_STRIPE_T + 1);
        let cases = [
            (
                "the file with its newline",
                with_newline.as_slice(),
                PUBLISHED_STRIPE_HEADER,
                &secret,
                PUBLISHED_STRIPE_T,
                SignatureError::Mismatch,
            ),
            (
                "the secret without its whsec_ prefix",
                body.as_slice(),
                PUBLISHED_STRIPE_HEADER,
                &Secret::new("2FZJ5Kqdi6AF8fGCLOCP9lH8Hpw9DW6T"),
                PUBLISHED_STRIPE_T,
                SignatureError::Mismatch,
            ),
            (
                "t moved by one second",
                body.as_slice(),
                next_second.as_str(),
                &secret,
                PUBLISHED_STRIPE_T,
                SignatureError::Mismatch,
            ),
            (
                "verified a day later (replay)",
                body.as_slice(),
                PUBLISHED_STRIPE_HEADER,
                &secret,
                PUBLISHED_STRIPE_T + 86_400,
                SignatureError::TimestampOutsideTolerance { age_secs: 86_400 },
            ),
            (
                "one second past the tolerance",
                body.as_slice(),
                PUBLISHED_STRIPE_HEADER,
                &secret,
                PUBLISHED_STRIPE_T + STRIPE_TOLERANCE_SECS + 1,
                SignatureError::TimestampOutsideTolerance {
                    age_secs: STRIPE_TOLERANCE_SECS + 1,
                },
            ),
        ];
        for (case, body, header, secret, now, expected) in cases {
            assert_eq!(verify(body, header, secret, now), Err(expected), "{case}");
        }
    }

    #[test]
    fn stripe_signature_matches_an_independently_computed_vector() {
        // Python: hmac.new(b"whsec_test_secret", b"1700000000." + body, sha256).hexdigest()
        let body = stripe_fixture("srm_invoice.paid.json");
        let expected =
            "t=1700000000,v1=48162ef8f531215b961b527fb8f2521228cf74c5d016fc13af8d356786a269f9";
        assert_eq!(sign_stripe(&body, &stripe_secret(), NOW), expected);
        assert_eq!(
            verify_stripe_now(&body, expected),
            Ok(StripeSignature { timestamp: NOW })
        );
    }

    #[test]
    fn every_stripe_fixture_is_signed_and_verified_over_its_exact_bytes() {
        let secret = stripe_secret();
        let mut checked = 0;
        for entry in std::fs::read_dir(stripe_fixture_dir()).expect("stripe fixtures directory") {
            let path = entry.expect("directory entry").path();
            let body = std::fs::read(&path).expect("fixture bytes");
            let name = path.display();
            let header = sign_stripe(&body, &secret, NOW - 10);

            assert_eq!(
                verify_stripe_now(&body, &header),
                Ok(StripeSignature {
                    timestamp: NOW - 10
                }),
                "{name}"
            );
            let last = body.len() - 1;
            assert_eq!(
                verify_stripe_now(&one_byte_changed(&body, last), &header),
                Err(SignatureError::Mismatch),
                "{name}: last byte changed"
            );
            let mut with_newline = body.clone();
            with_newline.push(b'\n');
            assert_eq!(
                verify_stripe_now(&with_newline, &header),
                Err(SignatureError::Mismatch),
                "{name}: newline appended"
            );
            checked += 1;
        }
        assert!(checked >= 22, "only {checked} stripe fixtures found");
    }

    #[test]
    fn stripe_body_changed_by_one_byte_is_a_mismatch() {
        let body = stripe_fixture("srm_checkout.session.completed.json");
        let header = sign_stripe(&body, &stripe_secret(), NOW);
        assert_eq!(
            verify_stripe_now(&one_byte_changed(&body, body.len() / 2), &header),
            Err(SignatureError::Mismatch)
        );
    }

    #[test]
    fn stripe_signature_made_with_another_secret_is_a_mismatch() {
        let body = stripe_fixture("sse_invoice_paid.json");
        let forged = sign_stripe(&body, &Secret::new("whsec_attacker"), NOW);
        assert_eq!(
            verify_stripe_now(&body, &forged),
            Err(SignatureError::Mismatch)
        );
    }

    #[test]
    fn stripe_signature_is_bound_to_its_timestamp() {
        let body = stripe_fixture("sse_invoice_paid.json");
        let signed = sign_stripe(&body, &stripe_secret(), NOW);
        let moved = format!("t={},v1={}", NOW - 1, v1_of(&signed));
        assert_eq!(
            verify_stripe_now(&body, &moved),
            Err(SignatureError::Mismatch)
        );
    }

    #[test]
    fn any_of_several_v1_signatures_may_match_during_secret_rotation() {
        let body = stripe_fixture("sse_subscription_updated.json");
        let old = sign_stripe(&body, &Secret::new("whsec_old"), NOW);
        let current = sign_stripe(&body, &stripe_secret(), NOW);
        let cases = [
            (
                "current first",
                format!("t={NOW},v1={},v1={}", v1_of(&current), v1_of(&old)),
            ),
            (
                "current last",
                format!("t={NOW},v1={},v1={}", v1_of(&old), v1_of(&current)),
            ),
            (
                "current after a non-hex v1",
                format!("t={NOW},v1=not-hex,v1={}", v1_of(&current)),
            ),
        ];
        for (case, header) in cases {
            assert_eq!(
                verify_stripe_now(&body, &header),
                Ok(StripeSignature { timestamp: NOW }),
                "{case}"
            );
        }
        let only_old = format!("t={NOW},v1={},v1={}", v1_of(&old), v1_of(&old));
        assert_eq!(
            verify_stripe_now(&body, &only_old),
            Err(SignatureError::Mismatch)
        );
    }

    #[test]
    fn stripe_v0_and_unknown_schemes_are_ignored() {
        let body = stripe_fixture("srm_invoice.created.json");
        let valid = v1_of(&sign_stripe(&body, &stripe_secret(), NOW)).to_string();
        let with_extras = format!("t={NOW},v0={valid},v1={valid},v9=whatever,scheme=x");
        assert_eq!(
            verify_stripe_now(&body, &with_extras),
            Ok(StripeSignature { timestamp: NOW })
        );
        // A valid tag under v0 is not accepted: v0 is Stripe's legacy test-mode scheme.
        let v0_only = format!("t={NOW},v0={valid}");
        assert_eq!(
            verify_stripe_now(&body, &v0_only),
            Err(SignatureError::NoV1Signature)
        );
    }

    #[test]
    fn stripe_timestamp_must_be_within_the_tolerance_either_way() {
        let body = stripe_fixture("srm_invoice.payment_failed.json");
        let cases = [
            ("signed now", NOW, Ok(StripeSignature { timestamp: NOW })),
            (
                "exactly the tolerance ago",
                NOW - STRIPE_TOLERANCE_SECS,
                Ok(StripeSignature {
                    timestamp: NOW - STRIPE_TOLERANCE_SECS,
                }),
            ),
            (
                "exactly the tolerance ahead",
                NOW + STRIPE_TOLERANCE_SECS,
                Ok(StripeSignature {
                    timestamp: NOW + STRIPE_TOLERANCE_SECS,
                }),
            ),
            (
                "one second too old",
                NOW - STRIPE_TOLERANCE_SECS - 1,
                Err(SignatureError::TimestampOutsideTolerance { age_secs: 301 }),
            ),
            (
                "one second too far in the future",
                NOW + STRIPE_TOLERANCE_SECS + 1,
                Err(SignatureError::TimestampOutsideTolerance { age_secs: -301 }),
            ),
            (
                "a day old (replay)",
                NOW - 86_400,
                Err(SignatureError::TimestampOutsideTolerance { age_secs: 86_400 }),
            ),
        ];
        for (case, t, expected) in cases {
            let header = sign_stripe(&body, &stripe_secret(), t);
            assert_eq!(verify_stripe_now(&body, &header), expected, "{case}");
        }
    }

    #[test]
    fn stripe_extreme_timestamps_are_refused_without_overflow() {
        let body = b"{}";
        for t in [i64::MIN, i64::MAX] {
            let header = sign_stripe(body, &stripe_secret(), t);
            assert!(
                matches!(
                    verify_stripe_now(body, &header),
                    Err(SignatureError::TimestampOutsideTolerance { .. })
                ),
                "t = {t}"
            );
        }
    }

    #[test]
    fn stripe_negative_tolerance_accepts_only_the_exact_second() {
        let body = b"{}";
        let header = sign_stripe(body, &stripe_secret(), NOW);
        assert!(verify_stripe(body, Some(&header), &stripe_secret(), NOW, -5).is_ok());
        assert!(verify_stripe(body, Some(&header), &stripe_secret(), NOW + 1, -5).is_err());
    }

    #[test]
    fn stripe_signature_in_uppercase_hex_is_accepted() {
        let body = stripe_fixture("srm_invoice.finalized.json");
        let header = sign_stripe(&body, &stripe_secret(), NOW);
        let upper = format!("t={NOW},v1={}", v1_of(&header).to_ascii_uppercase());
        assert!(verify_stripe_now(&body, &upper).is_ok());
    }

    #[test]
    fn stripe_header_with_spaces_after_commas_is_accepted() {
        let body = stripe_fixture("srm_invoice.finalized.json");
        let header = sign_stripe(&body, &stripe_secret(), NOW);
        let spaced = format!("t={NOW}, v1={}", v1_of(&header));
        assert!(verify_stripe_now(&body, &spaced).is_ok());
    }

    #[test]
    fn stripe_header_failures_each_have_their_own_reason() {
        let body = b"{\"id\":\"evt_1\"}";
        let valid = sign_stripe(body, &stripe_secret(), NOW);
        let tag = v1_of(&valid).to_string();
        let no_t = format!("v1={tag}");
        let twice_t = format!("t={NOW},t={NOW},v1={tag}");
        let bare_item = format!("t={NOW},v1={tag},garbage");
        let trailing_comma = format!("t={NOW},v1={tag},");
        let short = format!("t={NOW},v1={}", &tag[..62]);
        let cases: [(&str, Option<&str>, SignatureError); 13] = [
            ("absent header", None, SignatureError::MissingHeader),
            ("empty header", Some(""), SignatureError::MissingHeader),
            ("no timestamp", Some(&no_t), SignatureError::MalformedHeader),
            (
                "timestamp twice",
                Some(&twice_t),
                SignatureError::MalformedHeader,
            ),
            (
                "timestamp not a number",
                Some("t=soon,v1=00"),
                SignatureError::MalformedHeader,
            ),
            (
                "item without =",
                Some(&bare_item),
                SignatureError::MalformedHeader,
            ),
            (
                "trailing comma",
                Some(&trailing_comma),
                SignatureError::MalformedHeader,
            ),
            (
                "meta-style header",
                Some("sha256=abcd"),
                SignatureError::MalformedHeader,
            ),
            (
                "timestamp only",
                Some("t=1700000000"),
                SignatureError::NoV1Signature,
            ),
            (
                "v0 only",
                Some("t=1700000000,v0=abcd"),
                SignatureError::NoV1Signature,
            ),
            ("v1 empty", Some("t=1700000000,v1="), SignatureError::BadHex),
            ("v1 too short", Some(&short), SignatureError::BadHex),
            (
                "v1 not hex",
                Some("t=1700000000,v1=xyz"),
                SignatureError::BadHex,
            ),
        ];
        for (case, header, expected) in cases {
            assert_eq!(
                verify_stripe(body, header, &stripe_secret(), NOW, STRIPE_TOLERANCE_SECS),
                Err(expected),
                "{case}"
            );
        }
    }

    #[test]
    fn stripe_signature_is_checked_before_the_timestamp() {
        // A forged header with an old timestamp is reported as a forgery, not as "stale".
        let header = format!("t={},v1={}", NOW - 10_000, "0".repeat(64));
        assert_eq!(
            verify_stripe_now(b"{}", &header),
            Err(SignatureError::Mismatch)
        );
    }

    #[test]
    fn empty_stripe_secret_refuses_every_request() {
        let empty = Secret::new("");
        let header = sign_stripe(b"{}", &empty, NOW);
        assert_eq!(
            verify_stripe(b"{}", Some(&header), &empty, NOW, STRIPE_TOLERANCE_SECS),
            Err(SignatureError::EmptySecret)
        );
    }

    #[test]
    fn errors_never_show_the_secret_header_or_body() {
        let body = b"{\"phone\":\"+14155550829\"}";
        let secret = Secret::new("whsec_very_secret_value");
        let header = sign_stripe(body, &Secret::new("whsec_other"), NOW);
        let error = verify_stripe(body, Some(&header), &secret, NOW, STRIPE_TOLERANCE_SECS)
            .expect_err("wrong secret");
        for shown in [error.to_string(), format!("{error:?}")] {
            assert!(!shown.contains("very_secret"), "{shown}");
            assert!(!shown.contains("14155550829"), "{shown}");
            assert!(!shown.contains(v1_of(&header)), "{shown}");
        }
    }
}
