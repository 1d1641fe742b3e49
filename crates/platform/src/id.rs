//! Identifiers: ULIDs wrapped in one newtype per kind of thing, so an order id can never be
//! passed where a tenant id is expected.

use std::fmt;
use std::str::FromStr;
use std::sync::Mutex;

use serde::{Deserializer, Serializer};
use ulid::Generator;

/// A process-wide monotonic generator: ids made in the same millisecond still sort in the
/// order they were made, which keeps outbox and history entries in causal order.
static GENERATOR: Mutex<Option<Generator>> = Mutex::new(None);

/// A fresh ULID, strictly greater than every ULID this process made before it.
pub fn new_ulid() -> Ulid {
    let mut guard = GENERATOR
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner());
    let generator = guard.get_or_insert_with(Generator::new);
    // Overflow needs 2^80 ids in one millisecond; fall back to a plain random ULID then.
    generator.generate().unwrap_or_else(|_| Ulid::generate())
}

/// The error for a string that is not a valid id of the expected kind.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{kind} must be a 26-character ULID")]
pub struct InvalidId {
    /// Which kind of id was expected, e.g. `tenant id`.
    pub kind: &'static str,
}

/// Declares a ULID newtype with parsing, display and serde as its canonical string.
#[macro_export]
macro_rules! ulid_id {
    ($(#[$meta:meta])* $name:ident, $kind:literal) => {
        $(#[$meta])*
        #[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
        pub struct $name($crate::id::Ulid);

        impl $name {
            /// A new, unique id.
            pub fn new() -> Self {
                Self($crate::id::new_ulid())
            }

            /// Wraps an existing ULID.
            pub const fn from_ulid(ulid: $crate::id::Ulid) -> Self {
                Self(ulid)
            }

            /// The ULID inside.
            pub const fn ulid(&self) -> $crate::id::Ulid {
                self.0
            }
        }

        impl Default for $name {
            fn default() -> Self {
                Self::new()
            }
        }

        impl ::std::fmt::Display for $name {
            fn fmt(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
                ::std::fmt::Display::fmt(&self.0, f)
            }
        }

        impl ::std::fmt::Debug for $name {
            fn fmt(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
                write!(f, "{}({})", stringify!($name), self.0)
            }
        }

        impl ::std::str::FromStr for $name {
            type Err = $crate::id::InvalidId;

            fn from_str(s: &str) -> Result<Self, Self::Err> {
                $crate::id::parse_ulid(s, $kind).map(Self)
            }
        }

        impl ::serde::Serialize for $name {
            fn serialize<S: ::serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                $crate::id::serialize_ulid(&self.0, s)
            }
        }

        impl<'de> ::serde::Deserialize<'de> for $name {
            fn deserialize<D: ::serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                $crate::id::deserialize_ulid(d, $kind).map(Self)
            }
        }
    };
}

pub use ulid::{ULID_LEN, Ulid};

/// Parses a canonical ULID string; `kind` names the id in the error.
#[doc(hidden)]
pub fn parse_ulid(s: &str, kind: &'static str) -> Result<Ulid, InvalidId> {
    if s.len() != 26 {
        return Err(InvalidId { kind });
    }
    let ulid = Ulid::from_string(s).map_err(|_| InvalidId { kind })?;
    // Only the canonical (upper-case) spelling is accepted, so one id has one key in the table.
    if ulid.to_string() != s {
        return Err(InvalidId { kind });
    }
    Ok(ulid)
}

#[doc(hidden)]
pub fn serialize_ulid<S: Serializer>(ulid: &Ulid, s: S) -> Result<S::Ok, S::Error> {
    let mut buf = [0u8; ULID_LEN];
    s.serialize_str(ulid.array_to_str(&mut buf))
}

#[doc(hidden)]
pub fn deserialize_ulid<'de, D: Deserializer<'de>>(
    d: D,
    kind: &'static str,
) -> Result<Ulid, D::Error> {
    struct Visitor(&'static str);
    impl serde::de::Visitor<'_> for Visitor {
        type Value = Ulid;
        fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            write!(f, "a {} (26-character ULID)", self.0)
        }
        fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<Ulid, E> {
            parse_ulid(v, self.0).map_err(E::custom)
        }
    }
    d.deserialize_str(Visitor(kind))
}

ulid_id!(
    /// A restaurant (tenant). Every item of a tenant lives under `T#<TenantId>`.
    TenantId,
    "tenant id"
);

impl TenantId {
    /// The partition key value of this tenant's items in the table.
    pub fn partition(&self) -> String {
        format!("T#{}", self.0)
    }
}

/// Parses an id from a path segment or a body field, for callers that hold a `&str`.
pub fn parse<T: FromStr<Err = InvalidId>>(s: &str) -> Result<T, InvalidId> {
    s.parse()
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn ids_made_in_a_row_sort_in_the_order_they_were_made() {
        let ids: Vec<TenantId> = (0..1000).map(|_| TenantId::new()).collect();
        let mut sorted = ids.clone();
        sorted.sort();
        assert_eq!(ids, sorted);
        assert!(ids.windows(2).all(|w| w[0] != w[1]));
    }

    #[test]
    fn only_the_canonical_spelling_parses() {
        let id = TenantId::new();
        let text = id.to_string();
        assert_eq!(text.parse::<TenantId>().unwrap(), id);
        assert!(text.to_lowercase().parse::<TenantId>().is_err());
        assert!("".parse::<TenantId>().is_err());
        assert!("not-a-ulid-at-all-nope-xx".parse::<TenantId>().is_err());
        let err = "x".parse::<TenantId>().unwrap_err();
        assert_eq!(err.to_string(), "tenant id must be a 26-character ULID");
    }

    #[test]
    fn serde_round_trips_as_a_plain_string() {
        let id = TenantId::new();
        let json = serde_json::to_string(&id).unwrap();
        assert_eq!(json, format!("\"{id}\""));
        assert_eq!(serde_json::from_str::<TenantId>(&json).unwrap(), id);
        assert!(serde_json::from_str::<TenantId>("42").is_err());
        assert!(serde_json::from_str::<TenantId>("\"nope\"").is_err());
    }

    #[test]
    fn the_partition_key_is_prefixed() {
        let id = TenantId::new();
        assert_eq!(id.partition(), format!("T#{id}"));
    }

    proptest! {
        #[test]
        fn arbitrary_strings_never_panic_the_parser(s in ".{0,40}") {
            let _ = s.parse::<TenantId>();
        }

        #[test]
        fn every_ulid_round_trips(n in any::<u128>()) {
            let id = TenantId::from_ulid(Ulid(n));
            prop_assert_eq!(id.to_string().parse::<TenantId>().unwrap(), id);
        }
    }
}
