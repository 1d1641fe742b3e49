//! Opaque page cursors. A cursor carries the position after which the next page starts, and a
//! MAC over that position *and the query it belongs to*: a cursor from another tenant's query,
//! another index or another sort-key range fails verification and is refused with 400.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;
use hmac::{Hmac, KeyInit, Mac};
use sha2::Sha256;

use crate::model::{CmpOp, Key, Query, SortKey, StoreError};
use crate::table::{MAX_PK_BYTES, MAX_SK_BYTES};

/// Bytes of the MAC kept in the cursor (128 bits).
const TAG_LEN: usize = 16;
/// The longest cursor [`CursorCodec::encode`] can make: the MAC and the JSON of the four key
/// values at their size limits, every byte escaped (`\u001f` is six bytes), in base64.
/// Longer cursors are refused before any work is done on them.
const MAX_CURSOR_LEN: usize = {
    let key_bytes = MAX_PK_BYTES + 3 * MAX_SK_BYTES;
    let json = 6 * key_bytes + 4 * 2 + 3 + 2;
    (TAG_LEN + json).div_ceil(3) * 4
};

/// Where a page ended: the table key of the last item and, for index queries, its index key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Position {
    /// The table key of the last item returned.
    pub key: Key,
    /// The index partition and sort key of the last item, for index queries.
    pub index_key: Option<(String, String)>,
}

/// Signs and verifies cursors with a server secret.
#[derive(Clone)]
pub struct CursorCodec {
    key: Vec<u8>,
}

impl std::fmt::Debug for CursorCodec {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("CursorCodec(<key>)")
    }
}

impl CursorCodec {
    /// A codec keyed with a secret of at least 32 bytes.
    pub fn new(key: &[u8]) -> Self {
        Self { key: key.to_vec() }
    }

    fn mac(&self, query: &Query, payload: &[u8]) -> Hmac<Sha256> {
        // HMAC accepts keys of any length; this cannot fail.
        let mut mac = <Hmac<Sha256> as KeyInit>::new_from_slice(&self.key)
            .unwrap_or_else(|_| unreachable!("HMAC takes any key length"));
        mac.update(b"fanorder-cursor-v1");
        for part in fingerprint(query) {
            mac.update(&(part.len() as u64).to_be_bytes());
            mac.update(part.as_bytes());
        }
        mac.update(payload);
        mac
    }

    /// The cursor for the page after `position` of `query`.
    pub fn encode(&self, query: &Query, position: &Position) -> String {
        let mut fields = vec![position.key.pk.as_str(), position.key.sk.as_str()];
        if let Some((ipk, isk)) = &position.index_key {
            fields.extend([ipk.as_str(), isk.as_str()]);
        }
        let payload = serde_json::to_vec(&fields).unwrap_or_default();
        let tag = self.mac(query, &payload).finalize().into_bytes();
        let mut bytes = Vec::with_capacity(TAG_LEN + payload.len());
        bytes.extend_from_slice(&tag[..TAG_LEN]);
        bytes.extend_from_slice(&payload);
        B64.encode(bytes)
    }

    /// The position a cursor encodes, if it was made by this server for this very query.
    pub fn decode(&self, query: &Query, cursor: &str) -> Result<Position, StoreError> {
        if cursor.is_empty() || cursor.len() > MAX_CURSOR_LEN {
            return Err(StoreError::InvalidCursor);
        }
        let bytes = B64.decode(cursor).map_err(|_| StoreError::InvalidCursor)?;
        if bytes.len() <= TAG_LEN {
            return Err(StoreError::InvalidCursor);
        }
        let (tag, payload) = bytes.split_at(TAG_LEN);
        self.mac(query, payload)
            .verify_truncated_left(tag)
            .map_err(|_| StoreError::InvalidCursor)?;
        let fields: Vec<String> =
            serde_json::from_slice(payload).map_err(|_| StoreError::InvalidCursor)?;
        let mut fields = fields.into_iter();
        let (Some(pk), Some(sk)) = (fields.next(), fields.next()) else {
            return Err(StoreError::InvalidCursor);
        };
        let index_key = match (fields.next(), fields.next()) {
            (Some(ipk), Some(isk)) => Some((ipk, isk)),
            (None, None) => None,
            _ => return Err(StoreError::InvalidCursor),
        };
        if index_key.is_some() != query.index.is_some() || fields.next().is_some() {
            return Err(StoreError::InvalidCursor);
        }
        Ok(Position {
            key: Key { pk, sk },
            index_key,
        })
    }
}

/// Everything about a query that a cursor is bound to (the page size is not: clients may
/// change it between pages).
fn fingerprint(query: &Query) -> Vec<String> {
    let op = |op: CmpOp| match op {
        CmpOp::Eq => "eq",
        CmpOp::Lt => "lt",
        CmpOp::Le => "le",
        CmpOp::Gt => "gt",
        CmpOp::Ge => "ge",
    };
    let mut parts = vec![
        query.index.clone().unwrap_or_default(),
        query.pk.clone(),
        if query.forward { "fwd" } else { "rev" }.to_owned(),
    ];
    match &query.sk {
        None => parts.push("all".to_owned()),
        Some(SortKey::Cmp(cmp, value)) => parts.extend([op(*cmp).to_owned(), value.clone()]),
        Some(SortKey::Between(low, high)) => {
            parts.extend(["between".to_owned(), low.clone(), high.clone()])
        }
        Some(SortKey::BeginsWith(prefix)) => {
            parts.extend(["begins_with".to_owned(), prefix.clone()])
        }
    }
    parts
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn codec() -> CursorCodec {
        CursorCodec::new(&[7u8; 32])
    }

    fn position() -> Position {
        Position {
            key: Key::new("T#A", "ORDER#1"),
            index_key: None,
        }
    }

    #[test]
    fn a_cursor_round_trips_for_its_own_query() {
        let query = Query::table("T#A").begins_with("ORDER#");
        let cursor = codec().encode(&query, &position());
        assert_eq!(codec().decode(&query, &cursor).unwrap(), position());
        // The page size is not part of the binding.
        assert!(codec().decode(&query.clone().limit(7), &cursor).is_ok());
    }

    #[test]
    fn a_cursor_is_refused_for_any_other_query() {
        let query = Query::table("T#A").begins_with("ORDER#");
        let cursor = codec().encode(&query, &position());
        for other in [
            Query::table("T#B").begins_with("ORDER#"),
            Query::table("T#A").begins_with("STAFF#"),
            Query::table("T#A"),
            Query::table("T#A").begins_with("ORDER#").reverse(),
            Query::index("gsi1", "T#A").begins_with("ORDER#"),
        ] {
            assert_eq!(
                codec().decode(&other, &cursor),
                Err(StoreError::InvalidCursor),
                "{other:?}"
            );
        }
        let other_key = CursorCodec::new(&[8u8; 32]);
        assert_eq!(
            other_key.decode(&query, &cursor),
            Err(StoreError::InvalidCursor)
        );
    }

    #[test]
    fn index_cursors_carry_the_index_key() {
        let query = Query::index("gsi1", "T#A#Q#PAID");
        let position = Position {
            key: Key::new("T#A", "ORDER#1"),
            index_key: Some(("T#A#Q#PAID".into(), "2026#1".into())),
        };
        let cursor = codec().encode(&query, &position);
        assert_eq!(codec().decode(&query, &cursor).unwrap(), position);
    }

    #[test]
    fn a_cursor_at_the_key_size_limits_round_trips() {
        // Found by the fuzzer: positions with long keys (which the table accepts) made cursors
        // longer than decode allowed, so the next page of such a list could not be read.
        let query = Query::index("gsi1", "T#A");
        for c in ['a', '\u{1}', '"', 'é', '💥'] {
            let fill = |max: usize| c.to_string().repeat(max / c.len_utf8());
            let position = Position {
                key: Key::new(fill(MAX_PK_BYTES), fill(MAX_SK_BYTES)),
                index_key: Some((fill(MAX_SK_BYTES), fill(MAX_SK_BYTES))),
            };
            let cursor = codec().encode(&query, &position);
            assert!(cursor.len() <= MAX_CURSOR_LEN, "{c:?}: {}", cursor.len());
            assert_eq!(codec().decode(&query, &cursor), Ok(position), "{c:?}");
        }
        let too_long = "A".repeat(MAX_CURSOR_LEN + 1);
        assert_eq!(
            codec().decode(&query, &too_long),
            Err(StoreError::InvalidCursor)
        );
    }

    proptest! {
        #[test]
        fn tampering_with_any_byte_is_detected(at in 0usize..64, flip in 1u8..=255) {
            let query = Query::table("T#A");
            let cursor = codec().encode(&query, &position());
            let mut bytes = B64.decode(&cursor).unwrap();
            let at = at % bytes.len();
            bytes[at] ^= flip;
            prop_assert_eq!(codec().decode(&query, &B64.encode(bytes)), Err(StoreError::InvalidCursor));
        }

        #[test]
        fn garbage_is_refused_without_panicking(garbage in ".{0,300}") {
            prop_assert_eq!(codec().decode(&Query::table("T#A"), &garbage), Err(StoreError::InvalidCursor));
        }
    }
}
