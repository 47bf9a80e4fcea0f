//! The shape of a workspace API key, checked before anything costs a database round trip.
//!
//! Keys are issued as `le_` followed by letters, digits, `_` or `-` (`le_live_…`, `le_test_…`),
//! 16 to 128 characters in all. A bearer token of any other shape cannot be a key, so a flood
//! of junk `Authorization` headers is refused in the function without touching PostgreSQL; a
//! token of the right shape is looked up (by its SHA-256) as before.

/// Every key starts with this.
pub const PREFIX: &str = "le_";
/// The shortest key, prefix included.
pub const MIN_CHARS: usize = 16;
/// The longest key, prefix included.
pub const MAX_CHARS: usize = 128;

/// Whether `token` has the shape of an API key (it may still be unknown or revoked).
pub fn is_well_formed(token: &str) -> bool {
    (MIN_CHARS..=MAX_CHARS).contains(&token.len())
        && token.starts_with(PREFIX)
        && token
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_as_issued_have_the_shape() {
        for key in [
            "le_local_demo_key_change_me",
            "le_test_0123456789abcdef0123456789abcdef",
            "le_live-AbC_123456789",
        ] {
            assert!(is_well_formed(key), "{key}");
        }
    }

    #[test]
    fn tokens_of_another_shape_are_not_keys() {
        let too_long = format!("le_{}", "a".repeat(MAX_CHARS));
        for (token, why) in [
            ("", "empty"),
            ("le_short", "shorter than 16 characters"),
            ("sk_live_0123456789abcdef", "another prefix"),
            ("LE_live_0123456789abcdef", "the prefix in another case"),
            ("le_live_0123456789 abcdef", "a space"),
            ("le_live_0123456789abcdéf", "a non-ASCII letter"),
            (too_long.as_str(), "longer than 128 characters"),
        ] {
            assert!(!is_well_formed(token), "{why}: {token:?}");
        }
    }
}
