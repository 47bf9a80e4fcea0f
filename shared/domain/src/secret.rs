//! Secrets that cannot be printed.
//!
//! Webhook secrets and API keys travel through config structs that are logged on startup errors
//! and `Debug`-printed by tracing. Wrapping them makes leaking one a compile-time decision
//! ([`Secret::expose`]) instead of an accident.

use std::fmt;

#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    pub fn new(value: impl Into<String>) -> Self {
        Self(value.into())
    }

    /// The secret's value. Call only where the value is used (HMAC key, comparison), never to log.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret([redacted])")
    }
}

impl fmt::Display for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("[redacted]")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secret_never_prints_its_value() {
        let secret = Secret::new("whsec_abc");
        assert!(!format!("{secret:?}").contains("whsec_abc"));
        assert!(!format!("{secret}").contains("whsec_abc"));
        assert_eq!(secret.expose(), "whsec_abc");
    }
}
