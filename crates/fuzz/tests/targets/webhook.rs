//! The webhook body parser (`fanorder_messenger::parse`), on arbitrary bytes and on the real
//! fixture bodies mutated field by field and byte by byte. Beyond "no panic", the parse is
//! checked against a small independent reading of the same JSON: it is `Ok` exactly when the
//! body is an object with an `entry` array, keeps every entry that has a usable id and every
//! event object of its `messaging` and `standby` arrays (none lost, none made up), and what it
//! returns is well formed and survives its own JSON round trip.

use fanorder_fuzz::mutate::{self, Bytes};
use fanorder_fuzz::{fuzz, seeds};
use fanorder_messenger::webhook::{AttachmentKind, Event, EventKind, Webhook};
use fanorder_messenger::{ParseError, parse};
use proptest::prelude::*;
use serde_json::Value;

/// What the parse of a body must look like, read straight from its JSON.
#[derive(Debug, PartialEq)]
struct Shape {
    object: String,
    /// Per routable entry: its id, and how many events it has in `messaging` and `standby`.
    entries: Vec<(String, usize, usize)>,
}

/// An id as the parser documents it: a non-empty string, or an integral JSON number as its
/// decimal digits.
fn usable_id(value: &Value) -> Option<String> {
    match value {
        Value::String(s) if !s.is_empty() => Some(s.clone()),
        Value::Number(n) => match (n.as_u64(), n.as_i64(), n.as_f64()) {
            (Some(u), _, _) => Some(u.to_string()),
            (None, Some(i), _) => Some(i.to_string()),
            (None, None, Some(f)) if f.is_finite() && f.fract() == 0.0 => Some(format!("{f:.0}")),
            _ => None,
        },
        _ => None,
    }
}

fn expected(body: &[u8]) -> Option<Shape> {
    let Ok(Value::Object(top)) = serde_json::from_slice::<Value>(body) else {
        return None;
    };
    // A list that should be an array may be one object (or anything else: nothing).
    let list = |value: Option<&Value>| match value {
        Some(Value::Array(values)) => values.clone(),
        Some(one @ Value::Object(_)) => vec![one.clone()],
        _ => vec![],
    };
    let entries = list(top.get("entry"));
    let objects = |value: Option<&Value>| list(value).iter().filter(|v| v.is_object()).count();
    Some(Shape {
        object: top
            .get("object")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_owned(),
        entries: entries
            .iter()
            .filter_map(Value::as_object)
            .filter_map(|e| {
                let id = usable_id(e.get("id")?)?;
                Some((id, objects(e.get("messaging")), objects(e.get("standby"))))
            })
            .collect(),
    })
}

fn shape(hook: &Webhook) -> Shape {
    Shape {
        object: hook.object.clone(),
        entries: hook
            .entries
            .iter()
            .map(|e| {
                let standby = e.events.iter().filter(|ev| ev.standby).count();
                (e.page_id.clone(), e.events.len() - standby, standby)
            })
            .collect(),
    }
}

fn non_empty(id: Option<&String>) -> bool {
    id.is_none_or(|s| !s.is_empty())
}

/// What every parsed event must satisfy.
fn check_event(event: &Event) -> Result<(), TestCaseError> {
    prop_assert!(non_empty(event.sender.as_ref()) && non_empty(event.recipient.as_ref()));
    prop_assert!(non_empty(event.sender_user_ref.as_ref()));
    prop_assert!(event.timestamp_ms.is_none_or(|t| t >= 0), "{event:?}");
    match &event.kind {
        EventKind::Message {
            mid, attachments, ..
        } => {
            prop_assert!(!mid.is_empty());
            for attachment in attachments {
                if let AttachmentKind::Location { lat, long } = attachment.kind {
                    prop_assert!(lat.is_finite() && long.is_finite(), "{attachment:?}");
                }
            }
        }
        EventKind::Unsend { mid } | EventKind::Reaction { mid, .. } => {
            prop_assert!(!mid.is_empty());
        }
        EventKind::Delivery { watermark, .. } => prop_assert!(*watermark >= 0),
        EventKind::Read { watermark, mid } => {
            prop_assert!(watermark.is_some() || mid.is_some());
            prop_assert!(watermark.is_none_or(|w| w >= 0));
        }
        _ => {}
    }
    // The dedupe key is never empty, and the same whichever array the event came in.
    let key = event.dedupe_key();
    prop_assert!(!key.is_empty());
    let mut moved = event.clone();
    moved.standby = !moved.standby;
    prop_assert_eq!(&moved.dedupe_key(), &key);
    if event.standby {
        prop_assert!(!event.wakes_bot());
    }
    Ok(())
}

/// Parses `body` and checks the result against [`expected`].
fn check(body: &[u8]) -> Result<(), TestCaseError> {
    let parsed = parse(body);
    let Some(want) = expected(body) else {
        prop_assert!(parsed.is_err(), "not a webhook, yet parsed: {parsed:?}");
        if serde_json::from_slice::<Value>(body).is_ok() {
            prop_assert_eq!(parsed, Err(ParseError::NotAWebhook));
        }
        return Ok(());
    };
    let hook = match parsed {
        Ok(hook) => hook,
        Err(e) => return Err(TestCaseError::fail(format!("a webhook refused: {e}"))),
    };
    prop_assert_eq!(shape(&hook), want);
    for entry in &hook.entries {
        prop_assert!(!entry.page_id.is_empty());
        prop_assert!(entry.time_ms.is_none_or(|t| t >= 0));
        // `messaging` events first, then the `standby` ones.
        prop_assert!(
            entry
                .events
                .windows(2)
                .all(|w| w[0].standby <= w[1].standby)
        );
        for event in &entry.events {
            check_event(event)?;
        }
    }
    let json = serde_json::to_vec(&hook).map_err(|e| TestCaseError::fail(e.to_string()))?;
    let back: Webhook =
        serde_json::from_slice(&json).map_err(|e| TestCaseError::fail(e.to_string()))?;
    prop_assert_eq!(
        &back,
        &hook,
        "the parsed webhook does not survive a JSON round trip"
    );
    prop_assert_eq!(parse(body), Ok(hook), "two parses of one body differ");
    Ok(())
}

#[derive(Debug, Clone)]
enum Case {
    /// Any bytes at all.
    Bytes(Bytes),
    /// A fixture body with JSON and byte edits.
    Mutated(Bytes),
}

fn cases() -> impl Strategy<Value = Case> {
    let seeds: Vec<Vec<u8>> = seeds::webhook_bodies()
        .into_iter()
        .map(|f| f.body)
        .collect();
    prop_oneof![
        1 => prop::collection::vec(any::<u8>(), 0..2048).prop_map(|b| Case::Bytes(Bytes(b))),
        6 => mutate::mutated_json(seeds).prop_map(Case::Mutated),
    ]
}

#[test]
fn fuzz_webhook_parser() {
    fuzz("webhook", 200, cases(), |case| match case {
        Case::Bytes(Bytes(body)) | Case::Mutated(Bytes(body)) => check(&body),
    });
}

#[test]
fn every_fixture_parses_the_same_compact_pretty_and_as_sent() {
    for fixture in seeds::webhook_bodies() {
        let hook = parse(&fixture.body).unwrap_or_else(|e| panic!("{}: {e}", fixture.name));
        assert!(!hook.entries.is_empty(), "{}", fixture.name);
        check(&fixture.body).unwrap_or_else(|e| panic!("{}: {e}", fixture.name));
        let value: Value = serde_json::from_slice(&fixture.body).expect("JSON");
        for body in [
            serde_json::to_vec(&value).expect("JSON"),
            serde_json::to_vec_pretty(&value).expect("JSON"),
        ] {
            assert_eq!(parse(&body).as_ref(), Ok(&hook), "{}", fixture.name);
        }
    }
}

#[test]
fn bodies_at_the_size_limit_parse_in_bounded_time() {
    // The intake refuses bodies over 4 MiB and more than 1000 events after parsing; the parse
    // itself must stay fast on the worst shapes: 300 000 tiny events, nesting far deeper
    // than serde_json's limit, one 4 MB string.
    let many = format!(
        r#"{{"object":"page","entry":[{{"id":"1","messaging":[{}{{}}]}}]}}"#,
        "{},".repeat(300_000)
    );
    let deep = format!("{}{}", "[".repeat(2_000_000), "]".repeat(2_000_000));
    let long = format!(
        r#"{{"object":"page","entry":[{{"id":"1","messaging":[{{"message":{{"mid":"m","text":"{}"}}}}]}}]}}"#,
        "a".repeat(4_000_000)
    );
    for body in [many, deep, long] {
        let started = std::time::Instant::now();
        let parsed = parse(body.as_bytes());
        let took = started.elapsed();
        assert!(took < std::time::Duration::from_secs(5), "{took:?}");
        match expected(body.as_bytes()) {
            Some(want) => assert_eq!(shape(&parsed.expect("a webhook")), want),
            None => assert!(parsed.is_err()),
        }
    }
}
