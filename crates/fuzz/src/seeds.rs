//! The seed corpus: the real Messenger webhook bodies in `tests/fixtures/messenger` (copies of
//! `../shared/fixtures/messenger`; `FANORDER_FUZZ_FIXTURES` points elsewhere), the worked
//! signature examples, and the message texts the bodies carry.

use std::collections::BTreeSet;
use std::path::PathBuf;

use serde_json::Value;

/// Points the seeds at another folder of webhook bodies.
pub const FIXTURES_VAR: &str = "FANORDER_FUZZ_FIXTURES";

/// A webhook body exactly as Facebook (or the tool that recorded it) sent it.
#[derive(Debug, Clone)]
pub struct Fixture {
    /// Its file name.
    pub name: String,
    /// Its raw bytes.
    pub body: Vec<u8>,
}

/// A body with the `X-Hub-Signature-256` value it was sent with.
#[derive(Debug, Clone)]
pub struct Signed {
    /// The raw body.
    pub body: Vec<u8>,
    /// The app secret it was signed with.
    pub app_secret: Vec<u8>,
    /// The header value.
    pub header: String,
}

/// The folder of webhook bodies.
pub fn fixtures_dir() -> PathBuf {
    let dir = std::env::var_os(FIXTURES_VAR).map_or_else(
        || PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../tests/fixtures/messenger"),
        PathBuf::from,
    );
    assert!(dir.is_dir(), "no fixtures folder at {}", dir.display());
    dir
}

/// Every webhook body, sorted by name.
pub fn webhook_bodies() -> Vec<Fixture> {
    let dir = fixtures_dir();
    let mut fixtures: Vec<Fixture> = std::fs::read_dir(&dir)
        .expect("read the fixtures folder")
        .map(|entry| entry.expect("a directory entry").path())
        .filter(|path| path.extension().is_some_and(|e| e == "json"))
        .filter(|path| !path.ends_with("signatures.json"))
        .map(|path| Fixture {
            name: path
                .file_name()
                .and_then(|n| n.to_str())
                .expect("a UTF-8 file name")
                .to_owned(),
            body: std::fs::read(&path).expect("read a fixture"),
        })
        .collect();
    fixtures.sort_by(|a, b| a.name.cmp(&b.name));
    assert!(
        fixtures.len() >= 10,
        "only {} webhook bodies in {}",
        fixtures.len(),
        dir.display()
    );
    fixtures
}

/// Every worked example of `signatures.json`, with its body.
pub fn signed_examples() -> Vec<Signed> {
    let dir = fixtures_dir();
    let list = std::fs::read(dir.join("signatures.json")).expect("read signatures.json");
    let list: Vec<Value> = serde_json::from_slice(&list).expect("signatures.json is a list");
    let field = |example: &Value, name: &str| {
        example
            .get(name)
            .and_then(Value::as_str)
            .unwrap_or_else(|| panic!("a signatures.json example without {name}"))
            .to_owned()
    };
    let examples: Vec<Signed> = list
        .iter()
        .map(|example| Signed {
            body: std::fs::read(dir.join(field(example, "file"))).expect("read a signed body"),
            app_secret: field(example, "app_secret").into_bytes(),
            header: field(example, "x_hub_signature_256"),
        })
        .collect();
    assert!(!examples.is_empty(), "signatures.json has no examples");
    examples
}

/// Every distinct `text` string in the webhook bodies: what customers really typed.
pub fn message_texts() -> Vec<String> {
    fn collect(value: &Value, out: &mut BTreeSet<String>) {
        match value {
            Value::Object(map) => {
                for (key, value) in map {
                    match value {
                        Value::String(text) if key == "text" => {
                            out.insert(text.clone());
                        }
                        _ => collect(value, out),
                    }
                }
            }
            Value::Array(list) => list.iter().for_each(|v| collect(v, out)),
            _ => {}
        }
    }
    let mut texts = BTreeSet::new();
    for fixture in webhook_bodies() {
        if let Ok(value) = serde_json::from_slice::<Value>(&fixture.body) {
            collect(&value, &mut texts);
        }
    }
    texts.into_iter().collect()
}
