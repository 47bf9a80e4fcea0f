//! The shape of a workspace API key, checked before anything costs a database round trip.
//!
//! A bearer token is a key only if it is 16 to 128 characters of RFC 6750's `b64token` alphabet
//! (letters, digits and `-._~+/=`). Keys are not required to carry a prefix: workspaces hold keys
//! issued before this service, by dashboards, and by the local stack's `LOCAL_API_KEY`, all of
//! that shape. A token of any other shape cannot be a key, so a flood of junk `Authorization`
//! headers is refused in the function without touching PostgreSQL; a token of the right shape is
//! looked up (by its SHA-256) as before.

/// The shortest key.
pub const MIN_CHARS: usize = 16;
/// The longest key.
pub const MAX_CHARS: usize = 128;

/// Whether `token` has the shape of an API key (it may still be unknown or revoked).
pub fn is_well_formed(token: &str) -> bool {
    (MIN_CHARS..=MAX_CHARS).contains(&token.len())
        && token
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-._~+/=".contains(&b))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_as_issued_have_the_shape() {
        for key in [
            "le_local_demo_key_change_me",
            "le_test_0123456789abcdef0123456789abcdef",
            "acceptance-key-1a2b3c4d",
            "sk.live~AbC+123/456=",
        ] {
            assert!(is_well_formed(key), "{key}");
        }
    }

    #[test]
    fn tokens_of_another_shape_are_not_keys() {
        let too_long = "k".repeat(MAX_CHARS + 1);
        for (token, why) in [
            ("", "empty"),
            ("le_short", "shorter than 16 characters"),
            ("le_live_0123456789 abcdef", "a space"),
            ("le_live_0123456789abcdéf", "a non-ASCII letter"),
            ("le_live_0123456789\"abcdef", "a quote"),
            (too_long.as_str(), "longer than 128 characters"),
        ] {
            assert!(!is_well_formed(token), "{why}: {token:?}");
        }
    }
}
