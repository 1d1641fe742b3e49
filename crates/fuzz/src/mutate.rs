//! Structure-aware mutations. A seed is parsed as JSON and edited node by node (fields deleted,
//! retyped, grafted elsewhere, repeated, buried deep, duplicated as raw text, numbers too big
//! for any integer type, huge strings), rendered compact or pretty, and then edited as bytes
//! (truncated at any offset, bits flipped, invalid UTF-8 spliced in). Edits are plain values
//! that name their target by index, so proptest shrinks a finding to the few edits that matter.

use std::fmt;

use proptest::prelude::*;
use proptest::sample::Index;
use serde_json::{Map, Value};

/// The largest document a JSON edit may produce (the webhook refuses bodies over 4 MiB).
pub const MAX_DOCUMENT: usize = 4 * 1024 * 1024;

/// Bytes that print as (lossy) text in a finding.
#[derive(Clone, PartialEq, Eq)]
pub struct Bytes(pub Vec<u8>);

impl fmt::Debug for Bytes {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        const SHOWN: usize = 4096;
        let shown = &self.0[..self.0.len().min(SHOWN)];
        write!(
            f,
            "{} bytes: {:?}{}",
            self.0.len(),
            String::from_utf8_lossy(shown),
            if self.0.len() > SHOWN { "..." } else { "" }
        )
    }
}

/// A value to put into a document.
#[derive(Debug, Clone)]
pub enum Weird {
    /// Any JSON value.
    Json(Value),
    /// Raw text where a value goes: numbers no integer type holds, lone surrogates, invalid
    /// UTF-8, nesting deeper than any parser allows, broken JSON.
    Raw(Vec<u8>),
    /// A string of `count` copies of one character.
    Long(char, usize),
}

/// One edit of a JSON document, at the node with this index in pre-order (the root is 0).
#[derive(Debug, Clone)]
pub enum JsonEdit {
    /// Remove the node from its object or array.
    Delete(Index),
    /// Put another value (often of another type) in its place.
    Replace(Index, Weird),
    /// Copy the subtree at `from` over the node at `to` (a message where an entry goes...).
    Graft {
        /// The subtree copied.
        from: Index,
        /// The node replaced.
        to: Index,
    },
    /// Repeat an array element (or a value, made an array) this many times.
    Repeat(Index, usize),
    /// Bury the node this many arrays or objects deep.
    Nest(Index, usize, bool),
    /// Add a member to an object (written a second time when the key is already there) or an
    /// element to an array.
    Add(Index, String, Weird),
}

/// One edit of bytes, at an offset picked by index.
#[derive(Debug, Clone)]
pub enum ByteEdit {
    /// Cut everything from the offset on.
    Truncate(Index),
    /// Flip one bit.
    FlipBit(Index, u8),
    /// Insert bytes.
    Insert(Index, Vec<u8>),
    /// Remove up to this many bytes.
    Remove(Index, usize),
    /// Repeat the bytes from the offset (up to `len`) `times` times.
    Repeat(Index, usize, usize),
}

/// Keys of the Messenger webhook format (and a few neighbours), so edits hit what the parser
/// looks for.
pub const WEBHOOK_KEYS: &[&str] = &[
    "object",
    "entry",
    "id",
    "time",
    "messaging",
    "standby",
    "changes",
    "sender",
    "recipient",
    "timestamp",
    "user_ref",
    "message",
    "mid",
    "text",
    "quick_reply",
    "payload",
    "attachments",
    "type",
    "url",
    "title",
    "coordinates",
    "lat",
    "long",
    "sticker_id",
    "is_echo",
    "is_deleted",
    "app_id",
    "metadata",
    "reply_to",
    "message_edit",
    "num_edit",
    "postback",
    "referral",
    "ref",
    "source",
    "delivery",
    "mids",
    "watermark",
    "read",
    "reaction",
    "action",
    "emoji",
    "optin",
    "policy-enforcement",
    "policy_enforcement",
    "reason",
    "app_roles",
    "pass_thread_control",
    "take_thread_control",
    "request_thread_control",
    "new_owner_app_id",
    "previous_owner_app_id",
    "requested_owner_app_id",
    "game_play",
    "nlp",
    "",
];

/// Strings that have broken parsers before: empty, numeric, huge-numeric, control characters,
/// right-to-left override, emoji, Thai, JSON-looking.
const TRICKY_STRINGS: &[&str] = &[
    "",
    " ",
    "0",
    "-1",
    "1458692752478",
    " 1458692752478 ",
    "1e400",
    "99999999999999999999999",
    "1.5",
    "page",
    "instagram",
    "PAGE",
    "react",
    "\u{0}",
    "\u{202e}gnp.exe",
    "💥",
    "ข้าวผัด 2",
    "{\"mid\":\"m\"}",
    "null",
    "\\",
    "\"",
];

/// Raw JSON text no `serde_json::Value` can hold.
const RAW_VALUES: &[&str] = &[
    "1e400",
    "-1e400",
    "1.0e-400",
    "-0",
    "-0.0",
    "18446744073709551616",
    "-9223372036854775809",
    "123456789012345678901234567890123456789012345678901234567890",
    "1E11",
    "99999999999.99999",
    "9223372036854775807.5",
    "\"\\ud800\"",
    "\"\\udc00\\ud800\"",
    "\"\\u0000\"",
    "NaN",
    "Infinity",
    "[",
    "}",
    "\"unterminated",
    "01",
    "1.",
    "+1",
    "true false",
];

/// Bytes to splice in: invalid UTF-8, a BOM, NUL, JSON punctuation, characters that change
/// under normalization.
const RAW_BYTES: &[&[u8]] = &[
    b"\xff",
    b"\xfe\xff",
    b"\xc0\x80",
    b"\xed\xa0\x80",
    b"\xf4\x90\x80\x80",
    b"\xe0\xb8",
    b"\xef\xbb\xbf",
    b"\0",
    b"\"",
    b"\\",
    b"{",
    b"}",
    b"[",
    b"]",
    b",",
    b":",
    b"\\u",
    b"\xe2\x80\xae",
    b"\xef\xbc\x92",
    b"\xef\xb7\xba",
    b"\xcc\x81\xcc\x81\xcc\x81",
    b"\xe0\xb9\x92",
];

/// Characters for long strings.
const LONG_CHARS: &[char] = &['a', '0', ' ', 'é', 'ข', '💥', '"', '\\', '\u{0}', '\u{301}'];

fn tricky_string() -> impl Strategy<Value = String> + Clone {
    prop_oneof![
        prop::sample::select(TRICKY_STRINGS).prop_map(str::to_owned),
        prop::sample::select(WEBHOOK_KEYS).prop_map(str::to_owned),
        ".{0,24}",
    ]
}

/// Values to put into a document.
pub fn weird() -> impl Strategy<Value = Weird> + Clone {
    let number = prop_oneof![
        any::<i64>().prop_map(Value::from),
        any::<u64>().prop_map(Value::from),
        prop::sample::select(
            &[
                0i64,
                -1,
                1,
                99_999_999_999,
                100_000_000_000,
                i64::MIN,
                i64::MAX
            ][..]
        )
        .prop_map(Value::from),
        (prop::num::f64::NORMAL | prop::num::f64::SUBNORMAL | prop::num::f64::ZERO)
            .prop_map(Value::from),
    ];
    let json = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        number,
        tricky_string().prop_map(Value::String),
        Just(Value::Array(Vec::new())),
        Just(Value::Object(Map::new())),
        prop::collection::vec(tricky_string().prop_map(Value::String), 1..4).prop_map(Value::Array),
    ];
    let raw = prop_oneof![
        prop::sample::select(RAW_VALUES).prop_map(|s| s.as_bytes().to_vec()),
        prop::sample::select(RAW_BYTES).prop_map(|b| {
            let mut s = b"\"".to_vec();
            s.extend_from_slice(b);
            s.push(b'"');
            s
        }),
        (1usize..200_000, any::<bool>()).prop_map(|(depth, arrays)| {
            let (open, close) = if arrays { ("[", "]") } else { ("{\"a\":", "}") };
            format!("{}1{}", open.repeat(depth), close.repeat(depth)).into_bytes()
        }),
    ];
    prop_oneof![
        8 => json.prop_map(Weird::Json),
        3 => raw.prop_map(Weird::Raw),
        1 => (prop::sample::select(LONG_CHARS), 1usize..(1 << 18))
            .prop_map(|(c, count)| Weird::Long(c, count)),
    ]
}

/// Edits of a JSON document.
pub fn json_edit() -> impl Strategy<Value = JsonEdit> + Clone {
    prop_oneof![
        3 => any::<Index>().prop_map(JsonEdit::Delete),
        4 => (any::<Index>(), weird()).prop_map(|(at, w)| JsonEdit::Replace(at, w)),
        2 => (any::<Index>(), any::<Index>()).prop_map(|(from, to)| JsonEdit::Graft { from, to }),
        1 => (any::<Index>(), prop_oneof![2usize..5, 5usize..2_000])
            .prop_map(|(at, n)| JsonEdit::Repeat(at, n)),
        1 => (any::<Index>(), 1usize..100, any::<bool>())
            .prop_map(|(at, depth, arrays)| JsonEdit::Nest(at, depth, arrays)),
        2 => (any::<Index>(), prop::sample::select(WEBHOOK_KEYS).prop_map(str::to_owned), weird())
            .prop_map(|(at, key, w)| JsonEdit::Add(at, key, w)),
    ]
}

/// Edits of bytes.
pub fn byte_edit() -> impl Strategy<Value = ByteEdit> + Clone {
    let insert = prop_oneof![
        prop::sample::select(RAW_BYTES).prop_map(<[u8]>::to_vec),
        prop::collection::vec(any::<u8>(), 1..16),
    ];
    prop_oneof![
        2 => any::<Index>().prop_map(ByteEdit::Truncate),
        3 => (any::<Index>(), 0u8..8).prop_map(|(at, bit)| ByteEdit::FlipBit(at, bit)),
        3 => (any::<Index>(), insert).prop_map(|(at, b)| ByteEdit::Insert(at, b)),
        2 => (any::<Index>(), 1usize..64).prop_map(|(at, n)| ByteEdit::Remove(at, n)),
        1 => (any::<Index>(), 1usize..64, 2usize..200)
            .prop_map(|(at, len, times)| ByteEdit::Repeat(at, len, times)),
    ]
}

/// A seed from `seeds` with JSON edits (when it is JSON), rendered compact or pretty, then
/// sometimes byte edits. Most results stay valid JSON so they reach the parser's deeper rules.
pub fn mutated_json(seeds: Vec<Vec<u8>>) -> impl Strategy<Value = Bytes> {
    assert!(!seeds.is_empty(), "no seeds");
    let byte_edits = prop_oneof![
        3 => Just(Vec::new()),
        1 => prop::collection::vec(byte_edit(), 1..4),
    ];
    (
        any::<Index>(),
        prop::collection::vec(json_edit(), 0..6),
        any::<bool>(),
        byte_edits,
    )
        .prop_map(move |(pick, edits, pretty, bytes)| {
            let seed = &seeds[pick.index(seeds.len())];
            let mut out = match serde_json::from_slice::<Value>(seed) {
                Ok(value) => edit_json(value, &edits, pretty),
                Err(_) => seed.clone(),
            };
            edit_bytes(&mut out, &bytes);
            Bytes(out)
        })
}

/// `text` with byte edits, read back as UTF-8 (invalid sequences become U+FFFD).
pub fn edit_text(text: &str, edits: &[ByteEdit]) -> String {
    let mut bytes = text.as_bytes().to_vec();
    edit_bytes(&mut bytes, edits);
    String::from_utf8_lossy(&bytes).into_owned()
}

/// Applies byte edits in order (a repeat that would pass [`MAX_DOCUMENT`] is skipped).
pub fn edit_bytes(bytes: &mut Vec<u8>, edits: &[ByteEdit]) {
    for edit in edits {
        let at = |index: &Index| index.index(bytes.len() + 1);
        match edit {
            ByteEdit::Truncate(i) => bytes.truncate(at(i)),
            ByteEdit::FlipBit(i, bit) => {
                if !bytes.is_empty() {
                    let i = i.index(bytes.len());
                    bytes[i] ^= 1 << bit;
                }
            }
            ByteEdit::Insert(i, b) => {
                let i = at(i);
                bytes.splice(i..i, b.iter().copied());
            }
            ByteEdit::Remove(i, n) => {
                let i = at(i);
                let end = (i + n).min(bytes.len());
                bytes.drain(i..end);
            }
            ByteEdit::Repeat(i, len, times) => {
                let i = at(i);
                let end = (i + len).min(bytes.len());
                let chunk = bytes[i..end].to_vec();
                if bytes.len() + chunk.len() * times <= MAX_DOCUMENT {
                    let copies: Vec<u8> = chunk.repeat(*times);
                    bytes.splice(end..end, copies);
                }
            }
        }
    }
}

/// One step of a path from the root to a node.
#[derive(Debug, Clone)]
enum Step {
    Key(String),
    At(usize),
}

/// Every node's path, in pre-order.
fn paths(value: &Value) -> Vec<Vec<Step>> {
    fn walk(value: &Value, path: &mut Vec<Step>, out: &mut Vec<Vec<Step>>) {
        out.push(path.clone());
        match value {
            Value::Object(map) => {
                for (key, child) in map {
                    path.push(Step::Key(key.clone()));
                    walk(child, path, out);
                    path.pop();
                }
            }
            Value::Array(list) => {
                for (i, child) in list.iter().enumerate() {
                    path.push(Step::At(i));
                    walk(child, path, out);
                    path.pop();
                }
            }
            _ => {}
        }
    }
    let mut out = Vec::new();
    walk(value, &mut Vec::new(), &mut out);
    out
}

fn node_mut<'a>(value: &'a mut Value, path: &[Step]) -> Option<&'a mut Value> {
    path.iter().try_fold(value, |node, step| match step {
        Step::Key(key) => node.get_mut(key.as_str()),
        Step::At(i) => node.get_mut(*i),
    })
}

fn node<'a>(value: &'a Value, path: &[Step]) -> Option<&'a Value> {
    path.iter().try_fold(value, |node, step| match step {
        Step::Key(key) => node.get(key.as_str()),
        Step::At(i) => node.get(*i),
    })
}

/// Values that go in as placeholder strings and come out as their raw text after rendering.
#[derive(Default)]
struct Raws(Vec<Vec<u8>>);

impl Raws {
    fn placeholder(&mut self, raw: Vec<u8>) -> String {
        self.0.push(raw);
        format!("\u{0}fuzz-raw-{}\u{0}", self.0.len() - 1)
    }

    fn value(&mut self, weird: &Weird) -> Value {
        match weird {
            Weird::Json(value) => value.clone(),
            Weird::Raw(raw) => Value::String(self.placeholder(raw.clone())),
            Weird::Long(c, count) => {
                let count = (*count).min(MAX_DOCUMENT / c.len_utf8());
                Value::String(std::iter::repeat_n(*c, count).collect())
            }
        }
    }

    /// Swaps each quoted placeholder in `rendered` for its raw text.
    fn restore(&self, mut rendered: Vec<u8>) -> Vec<u8> {
        for (i, raw) in self.0.iter().enumerate() {
            let quoted = format!("\"\\u0000fuzz-raw-{i}\\u0000\"");
            rendered = replace(&rendered, quoted.as_bytes(), raw);
        }
        rendered
    }
}

fn replace(haystack: &[u8], needle: &[u8], with: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(haystack.len());
    let mut i = 0;
    while i < haystack.len() {
        if haystack[i..].starts_with(needle) {
            out.extend_from_slice(with);
            i += needle.len();
        } else {
            out.push(haystack[i]);
            i += 1;
        }
    }
    out
}

/// Applies JSON edits in order (an edit that would make the document larger than
/// [`MAX_DOCUMENT`] is skipped) and renders the result.
pub fn edit_json(mut value: Value, edits: &[JsonEdit], pretty: bool) -> Vec<u8> {
    let mut raws = Raws::default();
    let render = |value: &Value, raws: &Raws| {
        let rendered = if pretty {
            serde_json::to_vec_pretty(value)
        } else {
            serde_json::to_vec(value)
        };
        raws.restore(rendered.unwrap_or_default())
    };
    let mut out = render(&value, &raws);
    for edit in edits {
        let before = value.clone();
        apply(&mut value, edit, &mut raws);
        // Measured with the raw text in place: a repeated placeholder may stand for a lot.
        let rendered = render(&value, &raws);
        if rendered.len() > MAX_DOCUMENT {
            value = before;
        } else {
            out = rendered;
        }
    }
    out
}

fn apply(value: &mut Value, edit: &JsonEdit, raws: &mut Raws) {
    let all = paths(value);
    let pick = |index: &Index| all[index.index(all.len())].clone();
    match edit {
        JsonEdit::Delete(at) => {
            let path = pick(at);
            let Some((last, parent)) = path.split_last() else {
                *value = Value::Null;
                return;
            };
            match (node_mut(value, parent), last) {
                (Some(Value::Object(map)), Step::Key(key)) => {
                    map.remove(key);
                }
                (Some(Value::Array(list)), Step::At(i)) if *i < list.len() => {
                    list.remove(*i);
                }
                _ => {}
            }
        }
        JsonEdit::Replace(at, weird) => {
            let new = raws.value(weird);
            if let Some(node) = node_mut(value, &pick(at)) {
                *node = new;
            }
        }
        JsonEdit::Graft { from, to } => {
            let Some(subtree) = node(value, &pick(from)).cloned() else {
                return;
            };
            if let Some(node) = node_mut(value, &pick(to)) {
                *node = subtree;
            }
        }
        JsonEdit::Repeat(at, times) => {
            if let Some(node) = node_mut(value, &pick(at)) {
                *node = match node.take() {
                    Value::Array(list) if !list.is_empty() => {
                        let copies = list.len() * times;
                        Value::Array(list.into_iter().cycle().take(copies).collect())
                    }
                    other => Value::Array(vec![other; *times]),
                };
            }
        }
        JsonEdit::Nest(at, depth, arrays) => {
            if let Some(node) = node_mut(value, &pick(at)) {
                let mut nested = node.take();
                for _ in 0..*depth {
                    nested = if *arrays {
                        Value::Array(vec![nested])
                    } else {
                        Value::Object(Map::from_iter([("a".to_owned(), nested)]))
                    };
                }
                *node = nested;
            }
        }
        JsonEdit::Add(at, key, weird) => {
            let new = raws.value(weird);
            match node_mut(value, &pick(at)) {
                Some(Value::Object(map)) => {
                    if map.contains_key(key) {
                        // A duplicate key: written as raw text, since a map holds each key once.
                        let member = raws
                            .placeholder(format!("{}", Value::String(key.clone())).into_bytes());
                        map.insert(member, new);
                    } else {
                        map.insert(key.clone(), new);
                    }
                }
                Some(Value::Array(list)) => list.push(new),
                Some(other) => *other = Value::Object(Map::from_iter([(key.clone(), new)])),
                None => {}
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use proptest::strategy::ValueTree;
    use proptest::test_runner::TestRunner;

    use super::*;

    /// Applies `edit(index)` at 64 random indexes; the outputs as text.
    fn outputs(value: &Value, edit: impl Fn(Index) -> JsonEdit) -> Vec<String> {
        let mut runner = TestRunner::deterministic();
        (0..64)
            .map(|_| {
                let at = any::<Index>()
                    .new_tree(&mut runner)
                    .expect("an index")
                    .current();
                let out = edit_json(value.clone(), &[edit(at)], false);
                String::from_utf8(out).expect("UTF-8")
            })
            .collect()
    }

    #[test]
    fn a_duplicate_key_is_written_twice() {
        let value = serde_json::json!({"entry": []});
        let add = |at| JsonEdit::Add(at, "entry".to_owned(), Weird::Json(Value::from(5)));
        let outs = outputs(&value, add);
        assert!(
            outs.iter().any(|o| o.matches("\"entry\":").count() == 2),
            "{outs:?}"
        );
        assert!(outs.iter().all(|o| !o.contains("fuzz-raw")), "{outs:?}");
    }

    #[test]
    fn raw_values_replace_their_placeholders() {
        let value = serde_json::json!({"time": 1});
        let replace = |at| JsonEdit::Replace(at, Weird::Raw(b"1e400".to_vec()));
        let outs = outputs(&value, replace);
        assert!(outs.iter().any(|o| o == r#"{"time":1e400}"#), "{outs:?}");
        assert!(outs.iter().all(|o| !o.contains("fuzz-raw")), "{outs:?}");
    }
}
