//! [`text_enum!`](crate::text_enum): the one way this workspace writes an enum that is stored or
//! sent as text.
//!
//! A CHECK list in SQL, a JSON field and a Rust enum must agree on every spelling. Written by hand
//! that is four places per enum (the variants, `as_str`, the parser and serde's renames) that drift
//! apart one edit at a time. The macro writes them from one list of `Variant => "text"` pairs:
//! - `ALL`, every value in the order listed (parity tests walk it against the database);
//! - `as_str`, the stored text, and `Display`, which writes it;
//! - `FromStr`, which accepts exactly that text and nothing else, with an error type of the
//!   caller's naming whose message lists every allowed value (it becomes a 422's message);
//! - serde's `Serialize` and `Deserialize`, using the same text.
//!
//! Leniency (case, a US spelling) is the caller's decision, made before `parse`, so the stored
//! spelling stays one. Extra derives (`PartialOrd`, `Ord`) go in as attributes before the name.
//!
//! A crate that calls it needs `serde` (with `derive`) and `thiserror` among its dependencies.

/// Declares a text-backed enum; see the [module documentation](crate::text_enum).
///
/// ```
/// domain::text_enum! {
///     /// A colour, as stored.
///     Colour, InvalidColour {
///         Red => "red",
///         LightBlue => "light_blue",
///     }
/// }
/// assert_eq!(Colour::LightBlue.as_str(), "light_blue");
/// assert_eq!("red".parse::<Colour>(), Ok(Colour::Red));
/// assert_eq!(
///     "Red".parse::<Colour>().unwrap_err().to_string(),
///     "must be one of: red, light_blue"
/// );
/// assert_eq!(Colour::ALL, [Colour::Red, Colour::LightBlue]);
/// ```
#[macro_export]
macro_rules! text_enum {
    (
        $(#[$meta:meta])*
        $name:ident, $error:ident {
            $($(#[$variant_meta:meta])* $variant:ident => $text:literal),+ $(,)?
        }
    ) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, ::serde::Serialize, ::serde::Deserialize)]
        pub enum $name {
            $($(#[$variant_meta])* #[serde(rename = $text)] $variant),+
        }

        impl $name {
            /// Every value, in the order listed.
            pub const ALL: [$name; $crate::text_enum!(@count $($variant)+)] = [$($name::$variant),+];

            /// The text stored in the database and sent over the wire.
            pub const fn as_str(self) -> &'static str {
                match self {
                    $($name::$variant => $text),+
                }
            }
        }

        impl ::std::fmt::Display for $name {
            fn fmt(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl ::std::str::FromStr for $name {
            type Err = $error;

            fn from_str(text: &str) -> ::std::result::Result<Self, Self::Err> {
                match text {
                    $($text => Ok($name::$variant),)+
                    _ => Err($error),
                }
            }
        }

        #[doc = concat!("The text is not one of the stored values of [`", stringify!($name), "`].")]
        #[derive(Debug, Clone, Copy, PartialEq, Eq, ::thiserror::Error)]
        #[error("must be one of: {}", [$($text),+].join(", "))]
        pub struct $error;
    };
    (@count $($variant:ident)+) => {
        <[()]>::len(&[$($crate::text_enum!(@unit $variant)),+])
    };
    (@unit $variant:ident) => {
        ()
    };
}
