//! AWS Signature Version 4 for a request with no query string, which is every request
//! [`super::AwsClient`] sends (JSON POSTs). Pure: the time is an argument.
//!
//! The steps are AWS's ("Create a signed AWS API request", IAM user guide): a canonical request,
//! a string to sign over its hash, a key derived from the secret for the day, region and
//! service, and the `Authorization` header. Tested against AWS's published test-suite vectors.

use super::Credentials;
use chrono::{DateTime, Utc};
use hmac::{Hmac, Mac};
use sha2::{Digest, Sha256};
use std::fmt::Write as _;

const ALGORITHM: &str = "AWS4-HMAC-SHA256";

/// A request as it is signed.
#[derive(Debug, Clone, Copy)]
pub struct Signable<'a> {
    pub method: &'a str,
    /// The path as it goes on the wire (already percent-encoded), without a query string.
    pub path: &'a str,
    /// Headers to sign besides `x-amz-date` and `x-amz-security-token`, which [`sign`] adds:
    /// at least `host`. Names in lower case.
    pub headers: &'a [(&'a str, &'a str)],
    pub body: &'a [u8],
}

/// Where and when the signature holds.
#[derive(Debug, Clone, Copy)]
pub struct Scope<'a> {
    pub region: &'a str,
    /// The signing name: `sqs`, `bedrock`.
    pub service: &'a str,
    pub time: DateTime<Utc>,
}

/// The headers to add to the request: `x-amz-date`, `x-amz-security-token` when the
/// credentials carry one (Lambda's always do), and `authorization`.
pub fn sign(
    request: &Signable<'_>,
    credentials: &Credentials,
    scope: &Scope<'_>,
) -> Vec<(&'static str, String)> {
    let amz_date = scope.time.format("%Y%m%dT%H%M%SZ").to_string();
    let day = scope.time.format("%Y%m%d").to_string();
    let mut added = vec![("x-amz-date", amz_date.clone())];
    if let Some(token) = &credentials.session_token {
        added.push(("x-amz-security-token", token.expose().to_owned()));
    }

    let mut headers: Vec<(String, String)> = request
        .headers
        .iter()
        .map(|(name, value)| (name.to_ascii_lowercase(), canonical_value(value)))
        .chain(added.iter().map(|(n, v)| ((*n).to_owned(), v.clone())))
        .collect();
    headers.sort();
    let signed_headers = headers
        .iter()
        .map(|(name, _)| name.as_str())
        .collect::<Vec<_>>()
        .join(";");
    let mut canonical = String::with_capacity(256 + request.path.len());
    let _ = write!(
        canonical,
        "{}\n{}\n\n",
        request.method,
        canonical_uri(request.path)
    );
    for (name, value) in &headers {
        let _ = writeln!(canonical, "{name}:{value}");
    }
    let _ = write!(
        canonical,
        "\n{signed_headers}\n{}",
        hex::encode(Sha256::digest(request.body))
    );

    let credential_scope = format!("{day}/{}/{}/aws4_request", scope.region, scope.service);
    let string_to_sign = format!(
        "{ALGORITHM}\n{amz_date}\n{credential_scope}\n{}",
        hex::encode(Sha256::digest(canonical.as_bytes()))
    );
    let key = [
        day.as_bytes(),
        scope.region.as_bytes(),
        scope.service.as_bytes(),
        b"aws4_request",
    ]
    .iter()
    .fold(
        format!("AWS4{}", credentials.secret_access_key.expose()).into_bytes(),
        |key, part| hmac(&key, part),
    );
    let signature = hex::encode(hmac(&key, string_to_sign.as_bytes()));
    added.push((
        "authorization",
        format!(
            "{ALGORITHM} Credential={}/{credential_scope}, SignedHeaders={signed_headers}, Signature={signature}",
            credentials.access_key_id
        ),
    ));
    added
}

fn hmac(key: &[u8], data: &[u8]) -> Vec<u8> {
    // HMAC takes a key of any length; the error case cannot happen.
    let Ok(mut mac) = Hmac::<Sha256>::new_from_slice(key) else {
        return Vec::new();
    };
    mac.update(data);
    mac.finalize().into_bytes().to_vec()
}

/// Every service but S3 signs each path segment encoded twice: the path is sent encoded once,
/// and the canonical form encodes that again (`%3A` in a model id becomes `%253A`).
fn canonical_uri(path: &str) -> String {
    if path.is_empty() {
        return "/".to_owned();
    }
    path.split('/')
        .map(uri_encode)
        .collect::<Vec<_>>()
        .join("/")
}

/// RFC 3986 percent-encoding of everything but the unreserved characters, as SigV4 wants it
/// (upper-case hex). Also how [`super::path_segment`] encodes a segment for the wire.
pub(crate) fn uri_encode(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for byte in text.bytes() {
        if byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'_' | b'.' | b'~') {
            out.push(char::from(byte));
        } else {
            let _ = write!(out, "%{byte:02X}");
        }
    }
    out
}

/// Trimmed, inner runs of spaces collapsed to one.
fn canonical_value(value: &str) -> String {
    value.split_whitespace().collect::<Vec<_>>().join(" ")
}

#[cfg(test)]
mod tests {
    //! Vectors from AWS's Signature Version 4 test suite (region us-east-1, service "service",
    //! 2015-08-30T12:36:00Z; credentials AKIDEXAMPLE unless a test says otherwise).

    use super::*;
    use domain::secret::Secret;

    const TOKEN: &str = "AQoDYXdzEPT//////////wEXAMPLEtc764bNrC9SAPBSM22wDOk4x4HIZ8j4FZTwdQWLWsKWHGBuFqwAeMicRXmxfpSPfIeoIYRqTflfKD8YUuwthAx7mSEI/qkPpKPi/kMcGdQrmGdeehM4IC1NtBmUpp2wUE8phUZampKsburEDy0KPkyQDYwT7WZ0wq5VSXDvp75YU9HFvlRd8Tx6q6fE8YQcHNVXAkiY9q6d+xo0rKwT38xVqr7ZD0u0iPPkUL64lIZbqBAz+scqKmlzm8FDrypNC9Yjc8fPOLn9FX9KSYvKTr4rvx3iSIlTJabIQwj2ICCR/oLxBA==";

    fn credentials(token: Option<&str>) -> Credentials {
        Credentials {
            access_key_id: "AKIDEXAMPLE".to_owned(),
            secret_access_key: Secret::new("wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"),
            session_token: token.map(Secret::new),
        }
    }

    fn scope() -> Scope<'static> {
        Scope {
            region: "us-east-1",
            service: "service",
            time: "2015-08-30T12:36:00Z".parse().expect("time"),
        }
    }

    fn authorization(headers: &[(&str, &str)], body: &[u8], token: Option<&str>) -> String {
        let request = Signable {
            method: "POST",
            path: "/",
            headers,
            body,
        };
        let signed = sign(&request, &credentials(token), &scope());
        signed
            .into_iter()
            .find(|(name, _)| *name == "authorization")
            .map(|(_, value)| value)
            .expect("an authorization header")
    }

    #[test]
    fn post_vanilla() {
        assert_eq!(
            authorization(&[("host", "example.amazonaws.com")], b"", None),
            "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, \
             SignedHeaders=host;x-amz-date, \
             Signature=5da7c1a2acd57cee7505fc6676e4e544621c30862966e37dddb68e92efbe5d6b"
        );
    }

    #[test]
    fn post_with_a_session_token_signs_the_token() {
        assert_eq!(
            authorization(&[("host", "example.amazonaws.com")], b"", Some(TOKEN)),
            "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, \
             SignedHeaders=host;x-amz-date;x-amz-security-token, \
             Signature=85d96828115b5dc0cfc3bd16ad9e210dd772bbebba041836c64533a82be05ead"
        );
    }

    #[test]
    fn post_with_a_body_signs_its_hash_and_content_type() {
        assert_eq!(
            authorization(
                &[
                    ("Content-Type", "application/x-www-form-urlencoded"),
                    ("host", "example.amazonaws.com"),
                ],
                b"Param1=value1",
                None
            ),
            "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, \
             SignedHeaders=content-type;host;x-amz-date, \
             Signature=ff11897932ad3f4e8b18135d722051e5ac45fc38421b1da7b9d196a0fe09473a"
        );
    }

    #[test]
    fn the_date_and_token_headers_are_returned_to_be_sent() {
        let request = Signable {
            method: "POST",
            path: "/",
            headers: &[("host", "example.amazonaws.com")],
            body: b"",
        };
        let signed = sign(&request, &credentials(Some(TOKEN)), &scope());
        let names: Vec<&str> = signed.iter().map(|(name, _)| *name).collect();
        assert_eq!(
            names,
            ["x-amz-date", "x-amz-security-token", "authorization"]
        );
        assert_eq!(signed[0].1, "20150830T123600Z");
        assert_eq!(signed[1].1, TOKEN);
    }

    /// The suite's `double-encode-path` case (the AWS SDKs' signing suite; its own test
    /// credentials), the shape of a Bedrock model id in a path.
    #[test]
    fn a_path_sent_encoded_is_signed_encoded_twice() {
        let request = Signable {
            method: "POST",
            path: "/test/@connections/JBDvjfGEIAMCERw%3D",
            headers: &[("host", "tj9n5r0m12.execute-api.us-east-1.amazonaws.com")],
            body: b"",
        };
        let credentials = Credentials {
            access_key_id: "ANOTREAL".to_owned(),
            secret_access_key: Secret::new("notrealrnrELgWzOk3IfjzDKtFBhDby"),
            session_token: None,
        };
        let signed = sign(&request, &credentials, &scope());
        assert_eq!(
            signed[1].1,
            "AWS4-HMAC-SHA256 Credential=ANOTREAL/20150830/us-east-1/service/aws4_request, \
             SignedHeaders=host;x-amz-date, \
             Signature=57d157672191bac40bae387e48bbe14b15303c001fdbb01f4abf295dccb09705"
        );
    }

    #[test]
    fn path_segments_are_encoded_again_in_the_canonical_form() {
        assert_eq!(
            canonical_uri("/model/anthropic.claude-3-haiku-20240307-v1%3A0/converse"),
            "/model/anthropic.claude-3-haiku-20240307-v1%253A0/converse"
        );
        assert_eq!(canonical_uri("/"), "/");
        assert_eq!(canonical_uri(""), "/");
        assert_eq!(uri_encode("a b:c~d/é"), "a%20b%3Ac~d%2F%C3%A9");
    }
}
