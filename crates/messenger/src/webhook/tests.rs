//! The parser against every real payload in the shared fixtures, the dedupe and wake rules, and
//! a property test that nothing makes it panic.

use std::collections::{BTreeMap, HashSet};
use std::path::PathBuf;

use proptest::prelude::*;
use serde_json::{Value, json};

use super::*;
use crate::PAGE_INBOX_APP_ID;

fn fixtures_dir() -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../tests/fixtures/messenger");
    assert!(
        dir.is_dir(),
        "the Messenger fixtures folder {} is missing",
        dir.display()
    );
    dir
}

/// Every fixture body, by file name.
fn fixture_files() -> BTreeMap<String, Vec<u8>> {
    let mut files = BTreeMap::new();
    for entry in std::fs::read_dir(fixtures_dir()).expect("read the fixtures folder") {
        let path = entry.expect("a directory entry").path();
        let name = path
            .file_name()
            .and_then(|n| n.to_str())
            .expect("a file name")
            .to_owned();
        if name.ends_with(".json") && name != "signatures.json" {
            files.insert(name, std::fs::read(&path).expect("read a fixture"));
        }
    }
    assert!(files.len() >= 50, "only {} fixtures found", files.len());
    files
}

fn fixture(name: &str) -> Webhook {
    let body = std::fs::read(fixtures_dir().join(name)).expect("read the fixture");
    parse(&body).unwrap_or_else(|e| panic!("{name}: {e}"))
}

/// The only event of a one-event fixture.
fn only_event(name: &str) -> Event {
    let hook = fixture(name);
    let events: Vec<Event> = hook.entries.into_iter().flat_map(|e| e.events).collect();
    assert_eq!(events.len(), 1, "{name}");
    events.into_iter().next().expect("one event")
}

#[test]
fn every_fixture_parses() {
    for (name, body) in fixture_files() {
        let hook = parse(&body).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert!(
            hook.object == "page" || hook.object == "instagram",
            "{name}"
        );
        assert!(!hook.entries.is_empty(), "{name}");
        for event in hook.entries.iter().flat_map(|e| &e.events) {
            assert!(!event.dedupe_key().is_empty(), "{name}");
        }
    }
}

#[test]
fn every_fixture_parses_to_the_same_events_and_keys_twice() {
    for (name, body) in fixture_files() {
        let first = parse(&body).expect("parses");
        let second = parse(&body).expect("parses");
        assert_eq!(first, second, "{name}");
        let keys = |h: &Webhook| -> Vec<String> {
            h.entries
                .iter()
                .flat_map(|e| &e.events)
                .map(Event::dedupe_key)
                .collect()
        };
        assert_eq!(keys(&first), keys(&second), "{name}");
    }
}

#[test]
fn parsed_events_survive_a_json_round_trip() {
    // The pages crate stores events as JSON and reads them back in its worker.
    for (name, body) in fixture_files() {
        let hook = parse(&body).expect("parses");
        let text = serde_json::to_string(&hook).expect("serializes");
        let back: Webhook = serde_json::from_str(&text).expect("deserializes");
        assert_eq!(back, hook, "{name}");
    }
}

#[test]
fn dedupe_keys_are_the_same_from_version_to_version() {
    // Keys of events without a mid hash the event's serialized form, and they key the stored
    // inbox rows: if a change to the types' serde attributes moved them, a delivery retried
    // across an upgrade would be stored, and answered, twice.
    let body = json!({"object": "page", "entry": [{"id": "100", "time": 1, "messaging": [
        {"sender": {"id": "1"}, "recipient": {"id": "100"}, "timestamp": 1_700_000_000_000_i64,
         "postback": {"title": "Menu", "payload": "MENU"}},
        {"sender": {"id": "1"}, "recipient": {"id": "100"}, "timestamp": 1_700_000_000_001_i64,
         "read": {"watermark": 1_700_000_000_000_i64}},
        {"sender": {"id": "1"}, "recipient": {"id": "100"}, "timestamp": 1_700_000_000_002_i64,
         "pass_thread_control": {"new_owner_app_id": "263902037430900"}}
    ]}]});
    let hook = parse(body.to_string().as_bytes()).unwrap();
    let keys: Vec<String> = hook.entries[0]
        .events
        .iter()
        .map(Event::dedupe_key)
        .collect();
    assert_eq!(
        keys,
        [
            "postback:1:1700000000000:f324017369e46829",
            "read:1:1700000000001:1700000000000:b9b53a6c5d3423e2",
            "pass_thread_control:1:1700000000002:488b6dfb3bd392be",
        ]
    );
}

#[test]
fn the_fixture_events_of_different_files_have_distinct_keys_unless_identical() {
    // Several sources reuse the same example mids (`mid.1457764197618:41d102a3e1ae206a38` is a
    // text, a quick reply, an echo and an edit target); keys differ unless the kind is a
    // message with the same mid, which is the same message.
    let mut seen: BTreeMap<String, (String, EventKind)> = BTreeMap::new();
    for (name, body) in fixture_files() {
        for event in parse(&body)
            .expect("parses")
            .entries
            .iter()
            .flat_map(|e| &e.events)
        {
            let key = event.dedupe_key();
            if let Some((other, kind)) = seen.get(&key) {
                let both_messages = matches!(kind, EventKind::Message { .. })
                    && matches!(event.kind, EventKind::Message { .. });
                assert!(both_messages, "{name} and {other} share key {key}");
            }
            seen.insert(key, (name.clone(), event.kind.clone()));
        }
    }
}

#[test]
fn numeric_ids_are_normalized_to_decimal_strings() {
    let hook = fixture("delivery-restfb-1.json");
    assert_eq!(hook.entries[0].page_id, "12345654332");
    let event = &hook.entries[0].events[0];
    assert_eq!(event.sender.as_deref(), Some("987654321432"));
    assert_eq!(event.recipient.as_deref(), Some("12345654332"));
    // An event without a timestamp.
    assert_eq!(event.timestamp_ms, None);
    assert_eq!(
        event.kind,
        EventKind::Delivery {
            mids: vec!["mid.1458668856218:ed81099e15d3f4f233".into()],
            watermark: 1458668856253
        }
    );
}

#[test]
fn standby_events_are_flagged_and_never_wake_the_bot() {
    let event = only_event("standby-kerox-1.json");
    assert!(event.standby);
    assert!(!event.wakes_bot());
    let EventKind::Message {
        quick_reply_payload,
        is_echo,
        ..
    } = &event.kind
    else {
        panic!("expected a message, got {:?}", event.kind);
    };
    assert_eq!(
        quick_reply_payload.as_deref(),
        Some("DEVELOPER_DEFINED_PAYLOAD")
    );
    assert!(!is_echo);

    let echo = only_event("standby-restfb-1.json");
    assert!(echo.standby);
    assert!(matches!(
        echo.kind,
        EventKind::Message { is_echo: true, .. }
    ));

    // A standby item with nothing but sender and recipient.
    let bare = only_event("standby-bottender-1.json");
    assert!(bare.standby);
    assert_eq!(bare.sender.as_deref(), Some("<USER_ID>"));
    assert_eq!(bare.timestamp_ms, None);
    assert_eq!(bare.kind, EventKind::Unknown { key: String::new() });
}

#[test]
fn seconds_timestamps_are_scaled_to_milliseconds() {
    let hook = fixture("optin-restfb-1.json");
    assert_eq!(hook.entries[0].time_ms, Some(12_341_000));
    let event = &hook.entries[0].events[0];
    assert_eq!(event.timestamp_ms, Some(1_234_567_890_000));
    assert_eq!(
        event.kind,
        EventKind::Optin {
            ref_param: Some("PASS_THROUGH_PARAM".into()),
            user_ref: Some("UNIQUE_REF_PARAM".into())
        }
    );

    let changes = fixture("changes-bottender-1.json");
    assert_eq!(changes.entries[0].time_ms, Some(1_514_862_760_000));
    // `changes` arrays are ignored.
    assert!(changes.entries[0].events.is_empty());
}

#[test]
fn float_timestamps_and_numeric_app_ids_are_read() {
    let hook = fixture("echo-bottender-1.json");
    assert_eq!(hook.entries[0].time_ms, Some(1_492_414_608_999));
    let event = &hook.entries[0].events[0];
    assert_eq!(event.timestamp_ms, Some(1_492_414_608_982));
    let EventKind::Message {
        is_echo,
        app_id,
        text,
        ..
    } = &event.kind
    else {
        panic!("expected a message, got {:?}", event.kind);
    };
    assert!(is_echo);
    assert_eq!(app_id.as_deref(), Some("1821152484774199"));
    assert_eq!(text.as_deref(), Some("text"));
    assert!(!event.wakes_bot());
}

#[test]
fn echoes_are_flagged_with_app_and_metadata() {
    let event = only_event("echo-restfb-1.json");
    assert_eq!(event.sender.as_deref(), Some("987654321432"));
    assert_eq!(
        event.kind,
        EventKind::Message {
            mid: "mid.1457764197618:41d102a3e1ae206a38".into(),
            text: Some("hello, world!".into()),
            quick_reply_payload: None,
            attachments: vec![],
            is_echo: true,
            app_id: Some("1517776481860111".into()),
            metadata: Some("DEVELOPER_DEFINED_METADATA_STRING".into()),
            reply_to_mid: None,
        }
    );
    assert_eq!(event.dedupe_key(), "mid.1457764197618:41d102a3e1ae206a38");
    assert!(!event.wakes_bot());
}

#[test]
fn shared_locations_carry_latitude_and_longitude() {
    let event = only_event("location-broid-1.json");
    let EventKind::Message { attachments, .. } = &event.kind else {
        panic!("expected a message, got {:?}", event.kind);
    };
    assert_eq!(
        attachments,
        &vec![Attachment {
            kind: AttachmentKind::Location {
                lat: 45.531449166167,
                long: -93.555047062628
            },
            url: Some("https://l.facebook.com/l.php?u=my-place".into()),
            title: Some("My Place".into()),
        }]
    );

    let event = only_event("location-restfb-1.json");
    let EventKind::Message { attachments, .. } = &event.kind else {
        panic!("expected a message, got {:?}", event.kind);
    };
    assert_eq!(
        attachments[0].kind,
        AttachmentKind::Location {
            lat: 12.34,
            long: 43.21
        }
    );
    assert!(event.wakes_bot());
}

#[test]
fn quick_replies_carry_their_payload_and_wake_the_bot() {
    let event = only_event("quick-reply-restfb-1.json");
    let EventKind::Message {
        text,
        quick_reply_payload,
        ..
    } = &event.kind
    else {
        panic!("expected a message, got {:?}", event.kind);
    };
    assert_eq!(quick_reply_payload.as_deref(), Some("PAYLOAD_QUICK_REPLY"));
    assert_eq!(text.as_deref(), Some("quick reply text"));
    assert_eq!(event.recipient.as_deref(), Some("1234567890321"));
    assert!(event.wakes_bot());

    // A quick reply that also carries an image and NLP entities.
    let event = only_event("quick-reply-kerox-2.json");
    let EventKind::Message {
        quick_reply_payload,
        attachments,
        ..
    } = &event.kind
    else {
        panic!("expected a message, got {:?}", event.kind);
    };
    assert_eq!(
        quick_reply_payload.as_deref(),
        Some("DEVELOPER_DEFINED_PAYLOAD")
    );
    assert_eq!(attachments[0].kind, AttachmentKind::Image);
    assert_eq!(attachments[0].url.as_deref(), Some("IMAGE_URL"));
}

#[test]
fn postbacks_carry_payload_title_and_referral() {
    let event = only_event("postback-broid-1.json");
    assert_eq!(
        event.kind,
        EventKind::Postback {
            mid: None,
            title: Some("postback_title".into()),
            payload: "DEVELOPER_DEFINED_PAYLOAD_FOR_PICKING_GREEN".into(),
            referral: None,
        }
    );
    assert!(event.wakes_bot());

    let event = only_event("postback-restfb-2.json");
    let EventKind::Postback {
        payload, referral, ..
    } = &event.kind
    else {
        panic!("expected a postback, got {:?}", event.kind);
    };
    assert_eq!(payload, "USER_DEFINED_PAYLOAD");
    assert_eq!(
        referral,
        &Some(Referral {
            ref_param: Some("ref_data_in_m_dot_me_param".into()),
            source: Some("SHORTLINK".into()),
            kind: Some("OPEN_THREAD".into()),
        })
    );

    // A postback seen in standby mode has a title but no payload.
    let event = only_event("postback-kerox-1.json");
    let EventKind::Postback { title, payload, .. } = &event.kind else {
        panic!("expected a postback, got {:?}", event.kind);
    };
    assert_eq!(title.as_deref(), Some("TITLE_FOR_THE_CTA"));
    assert_eq!(payload, "");
}

#[test]
fn a_user_ref_sender_is_not_a_psid() {
    let event = only_event("postback-restfb-1.json");
    assert_eq!(event.sender, None);
    assert_eq!(event.sender_user_ref.as_deref(), Some("987654321432"));
    let EventKind::Postback {
        payload, referral, ..
    } = &event.kind
    else {
        panic!("expected a postback, got {:?}", event.kind);
    };
    assert_eq!(payload, "hey");
    let referral = referral.as_ref().expect("a referral");
    assert_eq!(referral.ref_param, None);
    assert_eq!(referral.source.as_deref(), Some("CUSTOMER_CHAT_PLUGIN"));
}

#[test]
fn reactions_point_at_the_message_reacted_to() {
    let event = only_event("reaction-restfb-1.json");
    assert_eq!(
        event.kind,
        EventKind::Reaction {
            mid: "original_message_id".into(),
            action: "react".into(),
            emoji: Some("\u{1F622}".into()),
            reaction: Some("sad".into()),
        }
    );
    assert!(
        event
            .dedupe_key()
            .starts_with("reaction:original_message_id:")
    );
    assert!(!event.wakes_bot());

    let event = only_event("reaction-kerox-1.json");
    let EventKind::Reaction { mid, emoji, .. } = &event.kind else {
        panic!("expected a reaction, got {:?}", event.kind);
    };
    assert_eq!(mid, "<MID>");
    assert_eq!(emoji.as_deref(), Some("\u{2764}\u{FE0F}"));
}

#[test]
fn edits_unsends_and_replies_are_told_apart_from_messages() {
    let edit = only_event("message-edit-restfb-1.json");
    assert_eq!(
        edit.kind,
        EventKind::MessageEdit {
            mid: "mid.1457764197618:41d102a3e1ae206a38".into(),
            text: Some("hello, world!".into()),
            num_edit: Some(37),
        }
    );
    assert_eq!(
        edit.dedupe_key(),
        "edit:mid.1457764197618:41d102a3e1ae206a38:37"
    );
    assert!(!edit.wakes_bot());

    let unsend = only_event("unsend-restfb-1.json");
    assert_eq!(
        unsend.kind,
        EventKind::Unsend {
            mid: "message_id".into()
        }
    );
    assert_eq!(unsend.dedupe_key(), "unsend:message_id");
    assert!(!unsend.wakes_bot());

    let reply = only_event("reply-restfb-1.json");
    let EventKind::Message { reply_to_mid, .. } = &reply.kind else {
        panic!("expected a message, got {:?}", reply.kind);
    };
    assert_eq!(
        reply_to_mid.as_deref(),
        Some("very_long_id_representing_the_original_message")
    );
}

#[test]
fn media_stickers_fallbacks_and_other_attachments_are_typed() {
    let kind_of = |name: &str| -> Vec<Attachment> {
        match only_event(name).kind {
            EventKind::Message { attachments, .. } => attachments,
            other => panic!("{name}: expected a message, got {other:?}"),
        }
    };
    assert_eq!(kind_of("image-broid-1.json")[0].kind, AttachmentKind::Image);
    assert_eq!(
        kind_of("audio-bottender-1.json")[0].kind,
        AttachmentKind::Audio
    );
    assert_eq!(
        kind_of("video-bottender-1.json")[0].kind,
        AttachmentKind::Video
    );
    let file = &kind_of("file-bottender-1.json")[0];
    assert_eq!(file.kind, AttachmentKind::File);
    assert_eq!(
        file.url.as_deref(),
        Some("https://example.com/bot/files/file.doc")
    );
    let sticker = &kind_of("sticker-restfb-1.json")[0];
    assert_eq!(
        sticker.kind,
        AttachmentKind::Sticker {
            sticker_id: "369239263222822".into()
        }
    );
    assert!(
        sticker
            .url
            .as_deref()
            .is_some_and(|u| u.starts_with("https://scontent"))
    );
    let fallback = &kind_of("fallback-restfb-1.json")[0];
    assert_eq!(fallback.kind, AttachmentKind::Fallback);
    assert_eq!(fallback.url.as_deref(), Some("https://www.messenger.com/"));
    assert_eq!(fallback.title.as_deref(), Some("Legacy Attachment"));
    assert_eq!(
        kind_of("template-restfb-1.json")[0].kind,
        AttachmentKind::Other("template".into())
    );
    assert_eq!(
        kind_of("instagram-restfb-1.json")[0].kind,
        AttachmentKind::Other("unsupported_type".into())
    );
}

#[test]
fn text_keeps_raw_utf8_and_batches_keep_every_entry() {
    let event = only_event("text-restfb-1.json");
    let EventKind::Message { text, .. } = &event.kind else {
        panic!("expected a message, got {:?}", event.kind);
    };
    assert_eq!(text.as_deref(), Some("it is 26°C in here"));

    let hook = fixture("text-bottender-1.json");
    assert_eq!(hook.entries.len(), 2);
    assert_eq!(hook.entries[0].page_id, "1895382890692545");
    assert_eq!(hook.entries[1].page_id, "189538289069256");
    let keys: HashSet<String> = hook
        .entries
        .iter()
        .flat_map(|e| &e.events)
        .map(Event::dedupe_key)
        .collect();
    assert_eq!(keys.len(), 2);
}

#[test]
fn referrals_and_instagram_reads_are_typed() {
    let event = only_event("referral-bottender-1.json");
    assert_eq!(
        event.kind,
        EventKind::Referral(Referral {
            ref_param: Some("bbbb".into()),
            source: Some("CUSTOMER_CHAT_PLUGIN".into()),
            kind: Some("OPEN_THREAD".into()),
        })
    );
    assert!(event.wakes_bot());

    let hook = fixture("instagram-restfb-2.json");
    assert_eq!(hook.object, "instagram");
    let event = &hook.entries[0].events[0];
    assert_eq!(
        event.kind,
        EventKind::Read {
            watermark: None,
            mid: Some("MESSAGE-ID".into())
        }
    );
    assert!(!event.wakes_bot());

    let read = only_event("read-restfb-1.json");
    assert_eq!(
        read.kind,
        EventKind::Read {
            watermark: Some(1458668856253),
            mid: None
        }
    );
}

#[test]
fn handover_events_carry_app_ids_and_wake_the_bot() {
    let pass = only_event("pass-thread-control-restfb-1.json");
    assert_eq!(
        pass.kind,
        EventKind::PassThreadControl {
            new_owner_app_id: Some("NEW_OWNER_APP_ID".into()),
            previous_owner_app_id: None,
            metadata: Some("METADATA".into()),
        }
    );
    assert!(pass.wakes_bot());

    let take = only_event("take-thread-control-restfb-1.json");
    assert_eq!(
        take.kind,
        EventKind::TakeThreadControl {
            previous_owner_app_id: Some("PREVIOUS_OWNER_APP_ID".into()),
            new_owner_app_id: None,
            metadata: Some("METADATA".into()),
        }
    );
    assert!(take.wakes_bot());

    let request = only_event("request-thread-control-bottender-1.json");
    let EventKind::RequestThreadControl {
        requested_owner_app_id,
        ..
    } = &request.kind
    else {
        panic!("expected a request, got {:?}", request.kind);
    };
    assert_eq!(requested_owner_app_id.as_deref(), Some(PAGE_INBOX_APP_ID));
    assert!(request.wakes_bot());
}

#[test]
fn events_without_a_sender_parse() {
    let roles = only_event("app-roles-kerox-1.json");
    assert_eq!(roles.sender, None);
    assert_eq!(roles.recipient.as_deref(), Some("PAGE_ID"));
    assert_eq!(
        roles.kind,
        EventKind::AppRoles {
            roles: BTreeMap::from([("123456789".into(), vec!["automation".into()])])
        }
    );
    assert!(!roles.wakes_bot());

    for name in [
        "policy-enforcement-bottender-1.json",
        "policy-enforcement-restfb-1.json",
    ] {
        let event = only_event(name);
        assert_eq!(event.sender, None, "{name}");
        let EventKind::PolicyEnforcement { action, reason } = &event.kind else {
            panic!("{name}: expected policy enforcement, got {:?}", event.kind);
        };
        assert_eq!(action.as_deref(), Some("block"));
        assert!(
            reason
                .as_deref()
                .is_some_and(|r| r.contains("Platform Policies"))
        );
        assert!(!event.wakes_bot());
    }
}

#[test]
fn unmodelled_events_and_entry_keys_are_tolerated() {
    for (name, key) in [
        ("unknown-event-kerox-1.json", "speech"),
        ("game-play-bottender-1.json", "game_play"),
        ("pre-checkout-kerox-1.json", "pre_checkout"),
        ("account-linking-restfb-1.json", "account_linking"),
    ] {
        let event = only_event(name);
        assert_eq!(event.kind, EventKind::Unknown { key: key.into() }, "{name}");
        assert!(!event.wakes_bot(), "{name}");
    }
    // An entry whose only key is unknown (`other`) has no events.
    let hook = fixture("unknown-event-bottender-1.json");
    assert_eq!(hook.entries.len(), 1);
    assert!(hook.entries[0].events.is_empty());
}

fn event(kind: EventKind, sender: &str, timestamp_ms: Option<i64>) -> Event {
    Event {
        sender: Some(sender.into()),
        sender_user_ref: None,
        recipient: Some("page".into()),
        timestamp_ms,
        standby: false,
        kind,
    }
}

fn delivery(watermark: i64) -> EventKind {
    EventKind::Delivery {
        mids: vec![],
        watermark,
    }
}

fn postback(payload: &str) -> EventKind {
    EventKind::Postback {
        mid: None,
        title: None,
        payload: payload.into(),
        referral: None,
    }
}

#[test]
fn derived_keys_tell_distinct_events_apart() {
    let distinct = [
        event(delivery(1), "a", Some(5)),
        event(delivery(2), "a", Some(5)),
        event(delivery(1), "b", Some(5)),
        event(delivery(1), "a", Some(6)),
        event(
            EventKind::Read {
                watermark: Some(1),
                mid: None,
            },
            "a",
            Some(5),
        ),
        event(postback("MENU"), "a", Some(5)),
        event(postback("CART"), "a", Some(5)),
        // No timestamp: the content still tells them apart.
        event(postback("MENU"), "a", None),
        event(postback("CART"), "a", None),
        event(EventKind::Unknown { key: "x".into() }, "a", None),
        event(EventKind::Unknown { key: "y".into() }, "a", None),
    ];
    let keys: HashSet<String> = distinct.iter().map(Event::dedupe_key).collect();
    assert_eq!(keys.len(), distinct.len(), "{keys:?}");
}

#[test]
fn the_same_event_has_the_same_key_whichever_array_it_came_in() {
    let a = event(postback("MENU"), "a", Some(5));
    let mut b = a.clone();
    b.standby = true;
    assert_eq!(a.dedupe_key(), b.dedupe_key());
    assert!(a.dedupe_key().starts_with("postback:a:5:"));
    assert_eq!(
        event(delivery(7), "a", None)
            .dedupe_key()
            .split(':')
            .take(4)
            .collect::<Vec<_>>(),
        vec!["delivery", "a", "-", "7"]
    );
}

#[test]
fn postbacks_with_a_mid_use_it() {
    let mut e = event(postback("MENU"), "a", Some(5));
    if let EventKind::Postback { mid, .. } = &mut e.kind {
        *mid = Some("m_1".into());
    }
    assert_eq!(e.dedupe_key(), "postback:m_1");
}

#[test]
fn reactions_and_unreactions_of_one_message_differ_from_it_and_each_other() {
    let message = event(
        EventKind::Message {
            mid: "m".into(),
            text: Some("hi".into()),
            quick_reply_payload: None,
            attachments: vec![],
            is_echo: false,
            app_id: None,
            metadata: None,
            reply_to_mid: None,
        },
        "a",
        Some(1),
    );
    let react = |action: &str, ts: i64| {
        event(
            EventKind::Reaction {
                mid: "m".into(),
                action: action.into(),
                emoji: None,
                reaction: Some("love".into()),
            },
            "a",
            Some(ts),
        )
    };
    let keys: HashSet<String> = [
        message.dedupe_key(),
        react("react", 2).dedupe_key(),
        react("unreact", 3).dedupe_key(),
        react("react", 4).dedupe_key(),
    ]
    .into();
    assert_eq!(keys.len(), 4);
    assert_eq!(message.dedupe_key(), "m");
}

#[test]
fn only_customer_actions_wake_the_bot() {
    let wakes = |kind: EventKind| event(kind, "a", Some(1)).wakes_bot();
    let message = |is_echo: bool| EventKind::Message {
        mid: "m".into(),
        text: Some("hi".into()),
        quick_reply_payload: None,
        attachments: vec![],
        is_echo,
        app_id: None,
        metadata: None,
        reply_to_mid: None,
    };
    assert!(wakes(message(false)));
    assert!(!wakes(message(true)));
    assert!(wakes(postback("MENU")));
    assert!(!wakes(delivery(1)));
    assert!(!wakes(EventKind::Unknown { key: "x".into() }));
    assert!(!wakes(EventKind::Optin {
        ref_param: None,
        user_ref: None
    }));
    let mut standby = event(message(false), "a", Some(1));
    standby.standby = true;
    assert!(!standby.wakes_bot());
}

// --- property tests: nothing makes the parser panic ---

fn json_value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(|n| json!(n)),
        any::<u64>().prop_map(|n| json!(n)),
        any::<f64>().prop_map(|f| json!(f)),
        ".{0,12}".prop_map(Value::String),
    ];
    leaf.prop_recursive(4, 48, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
            prop::collection::btree_map(".{0,8}", inner, 0..6)
                .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

/// Keys the parser looks at, so generated bodies reach deep into it.
fn known_key() -> impl Strategy<Value = String> {
    prop::sample::select(vec![
        "sender",
        "recipient",
        "timestamp",
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
        "id",
        "user_ref",
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
        "reply_to",
        "watermark",
        "mids",
        "action",
        "emoji",
        "ref",
        "source",
        "num_edit",
        "metadata",
        "new_owner_app_id",
        "previous_owner_app_id",
        "requested_owner_app_id",
    ])
    .prop_map(str::to_owned)
}

/// JSON shaped like a webhook, with known keys holding arbitrary values at every level.
fn webhook_like() -> impl Strategy<Value = Value> {
    let leafy = prop_oneof![json_value(), known_key().prop_map(Value::String)];
    let nested = leafy.prop_recursive(3, 32, 5, |inner| {
        prop::collection::btree_map(known_key(), inner, 0..5)
            .prop_map(|m| Value::Object(m.into_iter().collect()))
    });
    let event = prop::collection::btree_map(known_key(), nested, 0..5)
        .prop_map(|m| Value::Object(m.into_iter().collect()))
        .boxed();
    let entry = (
        json_value(),
        json_value(),
        prop::collection::vec(event.clone(), 0..4),
        prop::collection::vec(event, 0..3),
    )
        .prop_map(|(id, time, messaging, standby)| {
            json!({"id": id, "time": time, "messaging": messaging, "standby": standby})
        });
    (json_value(), prop::collection::vec(entry, 0..3))
        .prop_map(|(object, entry)| json!({"object": object, "entry": entry}))
}

proptest! {
    #[test]
    fn arbitrary_bytes_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..512)) {
        let _ = parse(&bytes);
    }

    #[test]
    fn arbitrary_json_never_panics(value in json_value()) {
        let body = serde_json::to_vec(&value).expect("serializes");
        let _ = parse(&body);
    }

    #[test]
    fn webhook_shaped_json_parses_and_keys_never_panic(value in webhook_like()) {
        let body = serde_json::to_vec(&value).expect("serializes");
        let hook = parse(&body).expect("an object always parses");
        for event in hook.entries.iter().flat_map(|e| &e.events) {
            prop_assert!(!event.dedupe_key().is_empty());
            let _ = event.wakes_bot();
        }
    }
}
