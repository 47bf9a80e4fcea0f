//! Field-level validation errors.
//!
//! Parsing a request produces either typed domain values or a [`ValidationErrors`] listing *every*
//! bad field, so a caller fixes all of them in one round trip. The HTTP layer renders it as the
//! `errors[]` member of an RFC 9457 problem document.

use serde::Serialize;
use std::fmt;

/// One rejected field: a JSON-pointer-like dotted path (`booking.date`) and a message for people.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FieldError {
    pub field: String,
    pub message: String,
}

impl FieldError {
    pub fn new(field: impl Into<String>, message: impl Into<String>) -> Self {
        Self {
            field: field.into(),
            message: message.into(),
        }
    }
}

/// A non-empty-when-returned list of field errors.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[serde(transparent)]
pub struct ValidationErrors(Vec<FieldError>);

impl ValidationErrors {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn single(field: impl Into<String>, message: impl Into<String>) -> Self {
        Self(vec![FieldError::new(field, message)])
    }

    pub fn push(&mut self, field: impl Into<String>, message: impl Into<String>) {
        self.0.push(FieldError::new(field, message));
    }

    /// Records the error of a fallible field parse and returns its value, if any, so a parser can
    /// keep going and report every bad field at once.
    pub fn check<T, E: fmt::Display>(&mut self, field: &str, result: Result<T, E>) -> Option<T> {
        match result {
            Ok(value) => Some(value),
            Err(err) => {
                self.push(field, err.to_string());
                None
            }
        }
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub fn errors(&self) -> &[FieldError] {
        &self.0
    }

    /// The names of the rejected fields, in order: what a log line or a journal reason may say
    /// (messages can quote what was sent).
    pub fn fields(&self) -> Vec<&str> {
        self.0.iter().map(|error| error.field.as_str()).collect()
    }

    /// `Ok(value)` when nothing was recorded, the errors otherwise.
    pub fn finish<T>(self, value: impl FnOnce() -> T) -> Result<T, Self> {
        if self.0.is_empty() {
            Ok(value())
        } else {
            Err(self)
        }
    }
}

impl fmt::Display for ValidationErrors {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let fields: Vec<&str> = self.0.iter().map(|e| e.field.as_str()).collect();
        write!(f, "invalid fields: {}", fields.join(", "))
    }
}

impl std::error::Error for ValidationErrors {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn check_collects_every_failure_and_keeps_successes() {
        let mut errors = ValidationErrors::new();
        let ok: Option<u8> = errors.check("a", "7".parse::<u8>());
        let bad: Option<u8> = errors.check("b", "x".parse::<u8>());
        assert_eq!(ok, Some(7));
        assert_eq!(bad, None);
        assert_eq!(errors.errors().len(), 1);
        assert_eq!(errors.errors()[0].field, "b");
        assert!(errors.finish(|| ()).is_err());
    }

    #[test]
    fn display_names_fields_but_not_their_values() {
        let errors = ValidationErrors::single("phone", "not a possible number");
        assert_eq!(errors.to_string(), "invalid fields: phone");
    }
}
