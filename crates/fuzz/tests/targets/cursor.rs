//! Cursor decoding (`fanorder_store::cursor::CursorCodec`). A cursor made for a query decodes
//! to its position for that query (any keys the table accepts, up to their size limits, any
//! characters); anything else is refused: a real cursor with bits flipped, cut short, extended
//! or re-encoded, a cursor of another tenant's or another query, one signed with another key,
//! the MAC of one cursor on the payload of another, and garbage of any length.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;
use fanorder_fuzz::fuzz;
use fanorder_fuzz::mutate::{self, ByteEdit, Bytes};
use fanorder_store::cursor::{CursorCodec, Position};
use fanorder_store::model::{CmpOp, Key, Query, SortKey, StoreError};
use fanorder_store::table::{MAX_PK_BYTES, MAX_SK_BYTES};
use proptest::prelude::*;

/// Characters for keys: ordinary, escaped by JSON, multi-byte.
const KEY_CHARS: &[char] = &['A', '#', '0', '"', '\\', '\u{1}', '\u{7f}', 'é', 'ข', '💥'];

/// A key value the table accepts: 1 to `max` bytes.
fn key_value(max: usize) -> impl Strategy<Value = String> {
    let filled = (prop::sample::select(KEY_CHARS), any::<bool>()).prop_map(move |(c, full)| {
        let count = if full { max / c.len_utf8() } else { 1 };
        std::iter::repeat_n(c, count.max(1)).collect::<String>()
    });
    prop_oneof![
        4 => "(T|ORDER|MENU#ITEM|STAFF)#[0-9A-Z]{1,26}",
        2 => ".{1,40}",
        1 => "[\\x00-\\x1f\"\\\\]{1,64}",
        2 => filled,
    ]
    .prop_map(move |s| truncate(s, max))
}

/// `s` cut to at most `max` bytes at a character boundary (never empty).
fn truncate(mut s: String, max: usize) -> String {
    while s.len() > max {
        s.pop();
    }
    if s.is_empty() { "x".to_owned() } else { s }
}

fn sort_key() -> impl Strategy<Value = Option<SortKey>> {
    let op = prop::sample::select(&[CmpOp::Eq, CmpOp::Lt, CmpOp::Le, CmpOp::Gt, CmpOp::Ge][..]);
    let value = || "[A-Z#0-9]{1,12}";
    prop_oneof![
        Just(None),
        (op, value()).prop_map(|(op, v)| Some(SortKey::Cmp(op, v))),
        (value(), value()).prop_map(|(a, b)| Some(SortKey::Between(a, b))),
        value().prop_map(|v| Some(SortKey::BeginsWith(v))),
    ]
}

fn query() -> impl Strategy<Value = Query> {
    (
        prop::sample::select(&[None, Some("gsi1"), Some("gsi2")][..]),
        prop_oneof![
            prop::sample::select(&["T#A", "T#B", "T#A#Q#PAID"][..]).prop_map(str::to_owned),
            key_value(MAX_PK_BYTES)
        ],
        sort_key(),
        any::<bool>(),
        1usize..=1000,
    )
        .prop_map(|(index, pk, sk, forward, limit)| Query {
            index: index.map(str::to_owned),
            pk,
            sk,
            forward,
            limit,
        })
}

/// A query and a position it could end a page at (with an index key exactly for index
/// queries, as the table builds them).
fn query_and_position() -> impl Strategy<Value = (Query, Position)> {
    (
        query(),
        key_value(MAX_PK_BYTES),
        key_value(MAX_SK_BYTES),
        key_value(MAX_SK_BYTES),
        key_value(MAX_SK_BYTES),
    )
        .prop_map(|(query, pk, sk, ipk, isk)| {
            let index_key = query.index.is_some().then_some((ipk, isk));
            let position = Position {
                key: Key { pk, sk },
                index_key,
            };
            (query, position)
        })
}

/// Changes the query so that it is another query (not just another page size).
#[derive(Debug, Clone)]
enum Other {
    Tenant(String),
    Index(Option<&'static str>),
    Sort(Option<SortKey>),
    Direction,
}

fn other_query(query: &Query, other: &Other) -> Option<Query> {
    let mut q = query.clone();
    match other {
        Other::Tenant(pk) => q.pk.clone_from(pk),
        Other::Index(index) => q.index = index.map(str::to_owned),
        Other::Sort(sk) => q.sk.clone_from(sk),
        Other::Direction => q.forward = !q.forward,
    }
    let same =
        (&q.index, &q.pk, &q.sk, q.forward) == (&query.index, &query.pk, &query.sk, query.forward);
    (!same).then_some(q)
}

#[derive(Debug, Clone)]
enum Case {
    /// Encode then decode.
    RoundTrip,
    /// Edits of the cursor text.
    Text(Vec<ByteEdit>),
    /// Edits of the decoded bytes, encoded again.
    Decoded(Vec<ByteEdit>),
    /// The cursor presented with another query.
    OtherQuery(Other),
    /// A cursor signed with another key.
    OtherKey(Bytes),
    /// This cursor's MAC on the payload of another position's cursor (or the other way
    /// round).
    Spliced(Position, usize, bool),
    /// Anything.
    Garbage(String),
}

fn case() -> impl Strategy<Value = Case> {
    let edits = prop::collection::vec(mutate::byte_edit(), 1..5);
    let other = prop_oneof![
        prop_oneof![
            prop::sample::select(&["T#A", "T#B", "T#C"][..]).prop_map(str::to_owned),
            key_value(MAX_PK_BYTES)
        ]
        .prop_map(Other::Tenant),
        prop::sample::select(&[None, Some("gsi1"), Some("gsi2")][..]).prop_map(Other::Index),
        sort_key().prop_map(Other::Sort),
        Just(Other::Direction),
    ];
    let position = (key_value(64), key_value(64)).prop_map(|(pk, sk)| Position {
        key: Key { pk, sk },
        index_key: None,
    });
    prop_oneof![
        3 => Just(Case::RoundTrip),
        3 => edits.clone().prop_map(Case::Text),
        3 => edits.prop_map(Case::Decoded),
        2 => other.prop_map(Case::OtherQuery),
        1 => prop::collection::vec(any::<u8>(), 0..70).prop_map(|k| Case::OtherKey(Bytes(k))),
        1 => (position, 1usize..40, any::<bool>()).prop_map(|(p, tag, first)| Case::Spliced(p, tag, first)),
        1 => prop_oneof![".{0,200}", "[A-Za-z0-9_-]{0,3000}"].prop_map(Case::Garbage),
    ]
}

const KEY: [u8; 32] = *b"fuzz-cursor-key-0123456789abcdef";

/// True when HMAC-SHA256 treats the two keys as one (a key shorter than the block is padded
/// with zeros): such a key is not "another key".
fn same_hmac_key(a: &[u8], b: &[u8]) -> bool {
    let pad = |k: &[u8]| {
        let mut padded = k.to_vec();
        padded.resize(64, 0);
        padded
    };
    a.len() <= 64 && b.len() <= 64 && pad(a) == pad(b)
}

fn refused(codec: &CursorCodec, query: &Query, cursor: &str) -> Result<(), TestCaseError> {
    prop_assert_eq!(
        codec.decode(query, cursor),
        Err(StoreError::InvalidCursor),
        "accepted cursor {:?}",
        cursor
    );
    Ok(())
}

#[test]
fn fuzz_cursor_decoding() {
    let strategy = (query_and_position(), case());
    fuzz("cursor", 400, strategy, |((query, position), case)| {
        let codec = CursorCodec::new(&KEY);
        let cursor = codec.encode(&query, &position);
        match case {
            Case::RoundTrip => {
                prop_assert_eq!(codec.decode(&query, &cursor), Ok(position.clone()));
                let resized = query.clone().limit(query.limit % 1000 + 1);
                prop_assert_eq!(codec.decode(&resized, &cursor), Ok(position));
            }
            Case::Text(edits) => {
                let edited = mutate::edit_text(&cursor, &edits);
                if edited != cursor {
                    refused(&codec, &query, &edited)?;
                }
            }
            Case::Decoded(edits) => {
                let mut bytes = B64
                    .decode(&cursor)
                    .map_err(|e| TestCaseError::fail(e.to_string()))?;
                mutate::edit_bytes(&mut bytes, &edits);
                let edited = B64.encode(&bytes);
                if edited != cursor {
                    refused(&codec, &query, &edited)?;
                }
            }
            Case::OtherQuery(other) => {
                if let Some(other) = other_query(&query, &other) {
                    refused(&codec, &other, &cursor)?;
                }
            }
            Case::OtherKey(Bytes(key)) => {
                if !same_hmac_key(&key, &KEY) {
                    refused(&CursorCodec::new(&key), &query, &cursor)?;
                }
            }
            Case::Spliced(mut other, tag, first) => {
                other.index_key.clone_from(&position.index_key);
                let theirs = B64
                    .decode(codec.encode(&query, &other))
                    .map_err(|e| TestCaseError::fail(e.to_string()))?;
                let ours = B64
                    .decode(&cursor)
                    .map_err(|e| TestCaseError::fail(e.to_string()))?;
                let (a, b) = if first {
                    (&ours, &theirs)
                } else {
                    (&theirs, &ours)
                };
                let at = tag.min(a.len());
                let mut spliced = a[..at].to_vec();
                spliced.extend_from_slice(b.get(at..).unwrap_or_default());
                if spliced != *a && spliced != *b {
                    refused(&codec, &query, &B64.encode(&spliced))?;
                }
            }
            Case::Garbage(text) => {
                if text != cursor {
                    refused(&codec, &query, &text)?;
                }
            }
        }
        Ok(())
    });
}
