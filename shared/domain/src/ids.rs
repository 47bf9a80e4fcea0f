//! Typed identifiers.
//!
//! Every table keys on a UUID; wrapping each in its own type means a `LeadId` can never be passed
//! where a `WorkspaceId` is expected, and parsing from text is the only way in from the outside.

use serde::{Deserialize, Serialize};
use std::{fmt, str::FromStr};
use uuid::Uuid;

macro_rules! uuid_id {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        #[serde(transparent)]
        pub struct $name(Uuid);

        impl $name {
            pub const fn from_uuid(id: Uuid) -> Self {
                Self(id)
            }

            pub const fn as_uuid(&self) -> Uuid {
                self.0
            }
        }

        impl From<Uuid> for $name {
            fn from(id: Uuid) -> Self {
                Self(id)
            }
        }

        impl From<$name> for Uuid {
            fn from(id: $name) -> Uuid {
                id.0
            }
        }

        impl FromStr for $name {
            type Err = InvalidId;

            fn from_str(s: &str) -> Result<Self, Self::Err> {
                Uuid::parse_str(s.trim()).map(Self).map_err(|_| InvalidId)
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                self.0.fmt(f)
            }
        }
    };
}

/// The text was not a UUID.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("must be a UUID")]
pub struct InvalidId;

uuid_id!(
    /// A tenant.
    WorkspaceId
);
uuid_id!(
    /// A deduplicated person in a workspace.
    LeadId
);
uuid_id!(
    /// A human broker or sales agent (not an AI bot).
    AgentId
);
uuid_id!(
    /// A member of a workspace (a dashboard user).
    MemberId
);
uuid_id!(
    /// A stored message in `conversations`.
    ConversationId
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_parse_from_text_and_print_back() {
        let text = "0191c1a2-7b3c-7d4e-8f50-123456789abc";
        let id: LeadId = text.parse().expect("a valid uuid parses");
        assert_eq!(id.to_string(), text);
    }

    #[test]
    fn non_uuid_text_is_rejected() {
        assert_eq!("lead-1".parse::<WorkspaceId>(), Err(InvalidId));
    }
}
