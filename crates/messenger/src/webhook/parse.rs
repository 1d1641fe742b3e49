//! The tolerant parser from raw webhook bytes to [`Webhook`]; the rules are on [`parse`].

use serde_json::{Map, Value};

use super::{Attachment, AttachmentKind, Entry, Event, EventKind, Referral, Webhook};

/// Why a body is not a Messenger webhook.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ParseError {
    /// The body is not JSON.
    #[error("the body is not JSON: {0}")]
    NotJson(String),
    /// The body is JSON but not an object.
    #[error("the body is not a webhook: expected a JSON object")]
    NotAWebhook,
}

/// Parses a webhook body (after its signature was checked). Never panics, whatever the bytes,
/// and logs nothing: the caller decides what to log.
///
/// What is an error, what is skipped and what becomes [`EventKind::Unknown`]:
/// - not JSON, or JSON whose top level is not an object: [`ParseError`] (the webhook answers
///   400: this is not a Messenger webhook at all);
/// - an object without an `entry` array has no entries (test tools send such bodies; Facebook
///   retries and in the end disables a webhook that refuses what it signed, so a signed object
///   is acknowledged and the caller logs that nothing could be routed);
/// - `entry`, `messaging` or `standby` holding one object instead of an array of them: read as
///   that one item;
/// - an entry that is not an object or has no usable `id`: skipped (it cannot be routed);
/// - `changes` arrays and any other unknown entry key: ignored;
/// - an item of `messaging`/`standby` that is not an object: skipped (nothing to keep);
/// - an event with no known key, or whose known key holds something unusable (a `message` with
///   no `mid`, a `delivery` with no `watermark`, a non-object `postback`...): kept as
///   [`EventKind::Unknown`] with the key, so it is still seen, deduplicated and acknowledged;
/// - a field of the wrong type inside a usable event (a numeric `text`, a string `lat`): read
///   as absent.
///
/// Ids may be JSON strings or numbers and always come out as decimal strings. Timestamps may
/// be integers or floats (or numeric strings); a value below 1e11 is taken as seconds and
/// multiplied by 1000 (1e11 ms is March 1973, 1e11 s is the year 5138).
pub fn parse(body: &[u8]) -> Result<Webhook, ParseError> {
    let value: Value =
        serde_json::from_slice(body).map_err(|e| ParseError::NotJson(e.to_string()))?;
    let Value::Object(top) = value else {
        return Err(ParseError::NotAWebhook);
    };
    let object = top
        .get("object")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_owned();
    let entries = items(top.get("entry")).filter_map(entry).collect();
    Ok(Webhook { object, entries })
}

/// The items of a list that should be an array: its elements, the value itself when it is one
/// object, nothing otherwise.
fn items(list: Option<&Value>) -> impl Iterator<Item = &Value> {
    let (many, one) = match list {
        Some(Value::Array(values)) => (values.as_slice(), None),
        Some(value @ Value::Object(_)) => (&[][..], Some(value)),
        _ => (&[][..], None),
    };
    many.iter().chain(one)
}

fn entry(value: &Value) -> Option<Entry> {
    let obj = value.as_object()?;
    let page_id = obj.get("id").and_then(id)?;
    let time_ms = obj.get("time").and_then(timestamp_ms);
    let messaging = events(obj.get("messaging"), false);
    let standby = events(obj.get("standby"), true);
    Some(Entry {
        page_id,
        time_ms,
        events: messaging.chain(standby).collect(),
    })
}

fn events(list: Option<&Value>, standby: bool) -> impl Iterator<Item = Event> + '_ {
    items(list).filter_map(move |v| v.as_object().map(|obj| event(obj, standby)))
}

/// The keys of the event envelope, not of its content.
const ENVELOPE_KEYS: [&str; 3] = ["sender", "recipient", "timestamp"];

fn event(obj: &Map<String, Value>, standby: bool) -> Event {
    let sender = obj.get("sender").and_then(Value::as_object);
    Event {
        sender: sender.and_then(|s| s.get("id")).and_then(id),
        sender_user_ref: sender.and_then(|s| s.get("user_ref")).and_then(id),
        recipient: obj
            .get("recipient")
            .and_then(Value::as_object)
            .and_then(|r| r.get("id"))
            .and_then(id),
        timestamp_ms: obj.get("timestamp").and_then(timestamp_ms),
        standby,
        kind: kind(obj),
    }
}

/// The known event keys, in the order they are looked for.
const KNOWN: [&str; 13] = [
    "message",
    "message_edit",
    "postback",
    "referral",
    "delivery",
    "read",
    "reaction",
    "pass_thread_control",
    "take_thread_control",
    "request_thread_control",
    "optin",
    "policy-enforcement",
    "app_roles",
];

fn kind(obj: &Map<String, Value>) -> EventKind {
    // `policy_enforcement` is how some docs spell the hyphenated key Facebook sends.
    let policy = obj
        .get("policy-enforcement")
        .or_else(|| obj.get("policy_enforcement"));
    let found = KNOWN.iter().find_map(|&key| {
        let value = if key == "policy-enforcement" {
            policy
        } else {
            obj.get(key)
        };
        value.map(|v| (key, v))
    });
    let Some((key, value)) = found else {
        // No known key: name the first other key, in sorted order so the name is stable.
        let mut keys: Vec<&String> = obj
            .keys()
            .filter(|k| !ENVELOPE_KEYS.contains(&k.as_str()))
            .collect();
        keys.sort();
        return EventKind::Unknown {
            key: keys.first().map(|k| k.to_string()).unwrap_or_default(),
        };
    };
    let parsed = value.as_object().and_then(|content| match key {
        "message" => message(content),
        "message_edit" => Some(EventKind::MessageEdit {
            mid: content.get("mid").and_then(id)?,
            text: string(content.get("text")),
            num_edit: content.get("num_edit").and_then(integer),
        }),
        "postback" => Some(EventKind::Postback {
            mid: content.get("mid").and_then(id),
            title: string(content.get("title")),
            payload: string(content.get("payload")).unwrap_or_default(),
            referral: content
                .get("referral")
                .and_then(Value::as_object)
                .map(referral),
        }),
        "referral" => Some(EventKind::Referral(referral(content))),
        "delivery" => Some(EventKind::Delivery {
            mids: content
                .get("mids")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
                .filter_map(id)
                .collect(),
            watermark: content.get("watermark").and_then(timestamp_ms)?,
        }),
        "read" => {
            let watermark = content.get("watermark").and_then(timestamp_ms);
            let mid = content.get("mid").and_then(id);
            (watermark.is_some() || mid.is_some()).then_some(EventKind::Read { watermark, mid })
        }
        "reaction" => Some(EventKind::Reaction {
            mid: content.get("mid").and_then(id)?,
            action: string(content.get("action")).unwrap_or_else(|| "react".to_owned()),
            emoji: string(content.get("emoji")),
            reaction: string(content.get("reaction")),
        }),
        "pass_thread_control" => Some(EventKind::PassThreadControl {
            new_owner_app_id: content.get("new_owner_app_id").and_then(id),
            previous_owner_app_id: content.get("previous_owner_app_id").and_then(id),
            metadata: string(content.get("metadata")),
        }),
        "take_thread_control" => Some(EventKind::TakeThreadControl {
            previous_owner_app_id: content.get("previous_owner_app_id").and_then(id),
            new_owner_app_id: content.get("new_owner_app_id").and_then(id),
            metadata: string(content.get("metadata")),
        }),
        "request_thread_control" => Some(EventKind::RequestThreadControl {
            requested_owner_app_id: content.get("requested_owner_app_id").and_then(id),
            metadata: string(content.get("metadata")),
        }),
        "optin" => Some(EventKind::Optin {
            ref_param: string(content.get("ref")),
            user_ref: content.get("user_ref").and_then(id),
        }),
        "policy-enforcement" => Some(EventKind::PolicyEnforcement {
            action: string(content.get("action")),
            reason: string(content.get("reason")),
        }),
        "app_roles" => Some(EventKind::AppRoles {
            roles: content
                .iter()
                .map(|(app, roles)| {
                    let roles = roles
                        .as_array()
                        .into_iter()
                        .flatten()
                        .filter_map(|r| string(Some(r)))
                        .collect();
                    (app.clone(), roles)
                })
                .collect(),
        }),
        _ => None,
    });
    parsed.unwrap_or_else(|| EventKind::Unknown {
        key: key.to_owned(),
    })
}

fn message(content: &Map<String, Value>) -> Option<EventKind> {
    let mid = content.get("mid").and_then(id)?;
    if content.get("is_deleted").and_then(Value::as_bool) == Some(true) {
        return Some(EventKind::Unsend { mid });
    }
    Some(EventKind::Message {
        mid,
        text: string(content.get("text")),
        quick_reply_payload: content
            .get("quick_reply")
            .and_then(Value::as_object)
            .and_then(|q| string(q.get("payload"))),
        attachments: content
            .get("attachments")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .filter_map(Value::as_object)
            .map(attachment)
            .collect(),
        is_echo: content.get("is_echo").and_then(Value::as_bool) == Some(true),
        app_id: content.get("app_id").and_then(id),
        metadata: string(content.get("metadata")),
        reply_to_mid: content
            .get("reply_to")
            .and_then(Value::as_object)
            .and_then(|r| r.get("mid"))
            .and_then(id),
    })
}

fn attachment(obj: &Map<String, Value>) -> Attachment {
    let payload = obj.get("payload").and_then(Value::as_object);
    let field = |name: &str| payload.and_then(|p| p.get(name));
    let type_name = string(obj.get("type")).unwrap_or_default();
    let kind = match type_name.as_str() {
        "image" => match field("sticker_id").and_then(id) {
            Some(sticker_id) => AttachmentKind::Sticker { sticker_id },
            None => AttachmentKind::Image,
        },
        "audio" => AttachmentKind::Audio,
        "video" => AttachmentKind::Video,
        "file" => AttachmentKind::File,
        "fallback" => AttachmentKind::Fallback,
        "location" => {
            let coordinates = field("coordinates").and_then(Value::as_object);
            let coordinate = |name: &str| {
                coordinates
                    .and_then(|c| c.get(name))
                    .and_then(Value::as_f64)
                    .filter(|v| v.is_finite())
            };
            match (coordinate("lat"), coordinate("long")) {
                (Some(lat), Some(long)) => AttachmentKind::Location { lat, long },
                _ => AttachmentKind::Other(type_name.clone()),
            }
        }
        _ => AttachmentKind::Other(type_name.clone()),
    };
    Attachment {
        kind,
        url: string(field("url")).or_else(|| string(obj.get("url"))),
        title: string(field("title")).or_else(|| string(obj.get("title"))),
    }
}

fn referral(obj: &Map<String, Value>) -> Referral {
    Referral {
        ref_param: string(obj.get("ref")),
        source: string(obj.get("source")),
        kind: string(obj.get("type")),
    }
}

/// A string field; anything else is absent.
fn string(value: Option<&Value>) -> Option<String> {
    value.and_then(Value::as_str).map(str::to_owned)
}

/// An id: a non-empty string as is, or a JSON number as its decimal digits.
fn id(value: &Value) -> Option<String> {
    match value {
        Value::String(s) if !s.is_empty() => Some(s.clone()),
        Value::Number(n) => {
            if let Some(u) = n.as_u64() {
                Some(u.to_string())
            } else if let Some(i) = n.as_i64() {
                Some(i.to_string())
            } else {
                // A float id (`1.2345654332E10` from a JS tool): its integral value, if it has one.
                n.as_f64()
                    .filter(|f| f.is_finite() && f.fract() == 0.0)
                    .map(|f| format!("{f:.0}"))
            }
        }
        _ => None,
    }
}

/// An integer that may come as a JSON integer, an integral float or a numeric string.
fn integer(value: &Value) -> Option<i64> {
    match value {
        Value::Number(n) => n.as_i64().or_else(|| n.as_f64().and_then(float_to_i64)),
        Value::String(s) => s
            .trim()
            .parse::<i64>()
            .ok()
            .or_else(|| s.trim().parse::<f64>().ok().and_then(float_to_i64)),
        _ => None,
    }
}

fn float_to_i64(f: f64) -> Option<i64> {
    // i64::MAX as f64 rounds up to 2^63, so the bound is exclusive.
    (f.is_finite() && f >= i64::MIN as f64 && f < i64::MAX as f64).then(|| f.trunc() as i64)
}

/// Timestamps below this are seconds, not milliseconds.
const SECONDS_BELOW: i64 = 100_000_000_000;

/// A timestamp in milliseconds. Negative values are not timestamps and read as absent.
fn timestamp_ms(value: &Value) -> Option<i64> {
    let t = integer(value)?;
    match t {
        t if t < 0 => None,
        t if t < SECONDS_BELOW => Some(t * 1000),
        t => Some(t),
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn ids_normalize_numbers_and_keep_strings() {
        assert_eq!(id(&json!(987654321432u64)), Some("987654321432".into()));
        assert_eq!(id(&json!("USER_ID")), Some("USER_ID".into()));
        assert_eq!(id(&json!(1.2345654332e10)), Some("12345654332".into()));
        assert_eq!(id(&json!(-5)), Some("-5".into()));
        assert_eq!(id(&json!(1.5)), None);
        assert_eq!(id(&json!("")), None);
        assert_eq!(id(&json!(null)), None);
        assert_eq!(id(&json!({"id": 1})), None);
    }

    #[test]
    fn timestamps_scale_seconds_and_accept_floats() {
        assert_eq!(timestamp_ms(&json!(1458692752478i64)), Some(1458692752478));
        assert_eq!(timestamp_ms(&json!(1514862760)), Some(1514862760000));
        assert_eq!(timestamp_ms(&json!(1492414608982.0)), Some(1492414608982));
        assert_eq!(timestamp_ms(&json!(1514862760.5)), Some(1514862760000));
        assert_eq!(timestamp_ms(&json!("1458692752478")), Some(1458692752478));
        assert_eq!(
            timestamp_ms(&json!(99_999_999_999i64)),
            Some(99_999_999_999_000)
        );
        assert_eq!(
            timestamp_ms(&json!(100_000_000_000i64)),
            Some(100_000_000_000)
        );
        assert_eq!(timestamp_ms(&json!(0)), Some(0));
        assert_eq!(timestamp_ms(&json!(-1)), None);
        assert_eq!(timestamp_ms(&json!(1e300)), None);
        assert_eq!(timestamp_ms(&json!(true)), None);
    }

    #[test]
    fn not_json_and_not_a_webhook_are_errors() {
        assert!(matches!(parse(b"not json"), Err(ParseError::NotJson(_))));
        assert!(matches!(parse(b""), Err(ParseError::NotJson(_))));
        for body in [&b"[]"[..], b"null", br#""page""#, b"12"] {
            assert_eq!(parse(body), Err(ParseError::NotAWebhook));
        }
    }

    #[test]
    fn lists_may_be_one_object_or_missing() {
        // No `entry` at all (botman's test bodies carry an `event` array): no entries, no error.
        let hook = parse(br#"{"object":"page","event":[{"messaging":[{"message":{"mid":"m"}}]}]}"#)
            .expect("an object is a webhook");
        assert_eq!(hook.object, "page");
        assert!(hook.entries.is_empty());
        // `entry` and `messaging` holding one object each instead of an array.
        let hook = parse(
            br#"{"object":"page","entry":{"id":"100","time":1,"messaging":{"sender":{"id":"7"},"message":{"mid":"m.1","text":"hi"}},"standby":[{"sender":{"id":"8"},"read":{"watermark":2}}]}}"#,
        )
        .expect("parses");
        assert_eq!(hook.entries.len(), 1);
        let events = &hook.entries[0].events;
        assert_eq!(events.len(), 2);
        assert_eq!(events[0].sender.as_deref(), Some("7"));
        assert!(matches!(&events[0].kind, EventKind::Message { mid, .. } if mid == "m.1"));
        assert!(events[1].standby);
        // A scalar where a list belongs is no list.
        let hook = parse(br#"{"object":"page","entry":7}"#).expect("parses");
        assert!(hook.entries.is_empty());
        let hook =
            parse(br#"{"object":"page","entry":[{"id":"1","messaging":"x"}]}"#).expect("parses");
        assert!(hook.entries[0].events.is_empty());
    }

    #[test]
    fn an_empty_entry_list_is_a_webhook_with_no_entries() {
        let hook = parse(br#"{"object":"page","entry":[]}"#).expect("parses");
        assert_eq!(hook.object, "page");
        assert!(hook.entries.is_empty());
    }

    #[test]
    fn entries_without_a_usable_id_and_non_object_events_are_skipped() {
        let body = json!({"object": "page", "entry": [
            5,
            {"time": 1},
            {"id": null, "messaging": []},
            {"id": "1", "messaging": [3, "x", null, {"sender": {"id": "2"}, "message": {"mid": "m", "text": "hi"}}]}
        ]});
        let hook = parse(body.to_string().as_bytes()).expect("parses");
        assert_eq!(hook.entries.len(), 1);
        assert_eq!(hook.entries[0].page_id, "1");
        assert_eq!(hook.entries[0].events.len(), 1);
    }

    #[test]
    fn unusable_known_events_become_unknown_with_their_key() {
        for (event, key) in [
            (json!({"message": "hello"}), "message"),
            (json!({"message": {"text": "no mid"}}), "message"),
            (json!({"delivery": {"mids": ["m"]}}), "delivery"),
            (json!({"read": {}}), "read"),
            (json!({"reaction": {"action": "react"}}), "reaction"),
            (json!({"postback": "x"}), "postback"),
            (json!({"message_edit": {"text": "x"}}), "message_edit"),
            (json!({"zeta": 1, "alpha": 2}), "alpha"),
            (json!({"sender": {"id": "1"}}), ""),
        ] {
            let body = json!({"entry": [{"id": "1", "messaging": [event]}]});
            let hook = parse(body.to_string().as_bytes()).expect("parses");
            assert_eq!(
                hook.entries[0].events[0].kind,
                EventKind::Unknown { key: key.into() },
                "{body}"
            );
        }
    }

    #[test]
    fn wrongly_typed_fields_read_as_absent() {
        let body = json!({"entry": [{"id": "1", "messaging": [{
            "sender": {"id": true}, "recipient": "page", "timestamp": "soon",
            "message": {"mid": "m1", "text": 5, "quick_reply": {"payload": 7}, "attachments": [
                {"type": "location", "payload": {"coordinates": {"lat": "1", "long": 2}}},
                {"payload": {"url": "u"}},
                "not an object"
            ]}
        }]}]});
        let hook = parse(body.to_string().as_bytes()).expect("parses");
        let event = &hook.entries[0].events[0];
        assert_eq!(event.sender, None);
        assert_eq!(event.recipient, None);
        assert_eq!(event.timestamp_ms, None);
        let EventKind::Message {
            text,
            quick_reply_payload,
            attachments,
            ..
        } = &event.kind
        else {
            panic!("expected a message, got {:?}", event.kind);
        };
        assert_eq!(text, &None);
        assert_eq!(quick_reply_payload, &None);
        assert_eq!(attachments.len(), 2);
        assert_eq!(
            attachments[0].kind,
            AttachmentKind::Other("location".into())
        );
        assert_eq!(attachments[1].kind, AttachmentKind::Other(String::new()));
        assert_eq!(attachments[1].url.as_deref(), Some("u"));
    }

    #[test]
    fn policy_enforcement_accepts_both_spellings() {
        for key in ["policy-enforcement", "policy_enforcement"] {
            let body = json!({"entry": [{"id": "1", "messaging": [{key: {"action": "block"}}]}]});
            let hook = parse(body.to_string().as_bytes()).expect("parses");
            assert_eq!(
                hook.entries[0].events[0].kind,
                EventKind::PolicyEnforcement {
                    action: Some("block".into()),
                    reason: None
                }
            );
        }
    }

    #[test]
    fn deep_nesting_is_an_error_not_a_stack_overflow() {
        let body = format!("{}{}", "[".repeat(100_000), "]".repeat(100_000));
        assert!(matches!(
            parse(body.as_bytes()),
            Err(ParseError::NotJson(_))
        ));
    }
}
