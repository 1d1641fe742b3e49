//! The Messenger webhook and the bot over HTTP: the handshake, signatures, every real payload,
//! dedupe, routing to the one restaurant that holds a page, whole orders by conversation in
//! English, Spanish and Thai, status messages after each move, handover, and sending through a
//! fake Graph API with Facebook's own error shapes.

use std::time::Duration;

use fanorder_blackbox::{Act, Restaurant, TestApp, button, eventually, page_token, said, secrets};
use fanorder_events::publish::Publisher;
use fanorder_messenger::testing::{FakeGraph, Reply as GraphReply};
use fanorder_platform::TenantId;
use reqwest::Method;
use serde_json::{Value, json};

crate::on_both_stores!(messenger:
    the_handshake_echoes_the_challenge_only_for_the_verify_token,
    unsigned_forged_or_broken_webhooks_are_refused_and_store_nothing,
    webhooks_take_bodies_up_to_4_mib,
    every_real_payload_is_accepted_raw_and_routed,
    every_collected_payload_is_accepted_and_handled_once,
    a_replayed_delivery_is_handled_once,
    webhook_events_are_counted_by_result,
    a_message_id_of_any_length_is_stored_once,
    an_event_too_large_to_store_is_skipped_and_the_rest_of_its_body_kept,
    events_reach_only_the_restaurant_that_holds_the_page,
    a_deactivated_restaurant_gets_no_events,
    pages_belong_to_one_restaurant_and_keep_their_token_secret,
    an_order_in_english_reaches_the_kitchen_and_the_customer_hears_each_move,
    an_order_in_spanish_by_free_text,
    an_order_in_thai_by_free_text,
    a_whole_order_typed_in_words_with_a_question_a_removal_and_a_note,
    text_the_bot_does_not_understand_gets_help_never_an_order,
    talking_to_a_person_silences_the_bot_until_it_is_released,
    a_page_with_a_token_sends_through_the_graph_api,
    a_refused_token_marks_the_page_and_the_message_failed,
    updates_after_a_day_carry_the_post_purchase_tag,
    an_event_that_always_fails_is_set_aside_and_blocks_nobody,
    a_redelivered_order_event_does_not_message_the_customer_twice,
);

/// A menu: pad thai with a required size and optional extras, fried rice with a required
/// protein, a coke; keywords in Thai and Spanish.
async fn seed_menu(app: &TestApp, r: &Restaurant) {
    let admin = Some(r.admin.access.as_str());
    for item in [
        json!({"name": "Pad thai", "price": 12000,
        "keywords": {"th": ["ผัดไทย"], "es": ["fideos pad thai"]},
        "modifier_groups": [
            {"name": "Size", "min": 1, "max": 1, "options": [{"name": "Regular", "price_delta": 0}, {"name": "Large", "price_delta": 2000}]},
            {"name": "Extras", "min": 0, "max": 2, "options": [{"name": "Shrimp", "price_delta": 3000}, {"name": "Extra egg", "price_delta": 1000}]}
        ]}),
        json!({"name": "Khao pad", "price": 10000,
            "keywords": {"en": ["fried rice"], "th": ["ข้าวผัด"], "es": ["arroz frito"]},
            "modifier_groups": [{"name": "Protein", "min": 1, "max": 1, "options": [
                {"name": "Chicken", "price_delta": 0}, {"name": "Pork", "price_delta": 0}]}]}),
        json!({"name": "Coke", "price": 3000, "keywords": {"th": ["โค้ก"], "es": ["coca"]}}),
    ] {
        app.call(Method::POST, "/v1/menu/items", admin, Some(item))
            .await
            .expect(201);
    }
}

fn text(t: &str) -> Act {
    Act::Text(t.to_owned())
}

fn tap(payload: &str) -> Act {
    Act::Postback(payload.to_owned())
}

/// A restaurant with the menu and an offline page; returns the page id.
async fn restaurant_with_page(app: &TestApp) -> (Restaurant, String) {
    let r = app.signup().await;
    seed_menu(app, &r).await;
    let page = app.connect_page(&r, None, json!({})).await;
    (r, page)
}

/// A text message event of `psid` to `page`, as a whole webhook body.
fn text_body(page: &str, psid: &str, words: &str) -> Vec<u8> {
    fanorder_api::simulate::payload(page, psid, &text(words), 1_764_000_000_000)
        .to_string()
        .into_bytes()
}

async fn the_handshake_echoes_the_challenge_only_for_the_verify_token(app: TestApp) {
    let token = secrets().fb_verify_token;
    let ok = app
        .get(&format!(
            "/webhooks/messenger?hub.mode=subscribe&hub.verify_token={token}&hub.challenge=1158201444"
        ))
        .await;
    assert_eq!(ok.status(), 200);
    assert_eq!(ok.text().await.unwrap(), "1158201444");
    for query in [
        "hub.mode=subscribe&hub.verify_token=wrong&hub.challenge=1".to_owned(),
        format!("hub.mode=unsubscribe&hub.verify_token={token}&hub.challenge=1"),
        "hub.challenge=1".to_owned(),
    ] {
        let refused = app.get(&format!("/webhooks/messenger?{query}")).await;
        fanorder_blackbox::expect_problem(refused, 403, "forbidden").await;
    }
}

async fn unsigned_forged_or_broken_webhooks_are_refused_and_store_nothing(app: TestApp) {
    let (r, page) = restaurant_with_page(&app).await;
    let body = text_body(&page, "5001", "2 pad thai");
    let forged = fanorder_messenger::sign(b"not-the-app-secret", &body);
    let sha1 = "sha1=0123456789abcdef0123456789abcdef01234567";
    let right = fanorder_messenger::sign(secrets().fb_app_secret.expose(), &body);
    let mut tampered = body.clone();
    tampered.extend_from_slice(b" ");
    for (body, signature) in [
        (&body, None),
        (&body, Some(forged.as_str())),
        (&body, Some(sha1)),
        (&body, Some("sha256=")),
        (&tampered, Some(right.as_str())),
    ] {
        app.webhook_signed(body, signature)
            .await
            .assert_problem(401, "unauthenticated");
    }
    app.webhook(b"this is not json")
        .await
        .assert_problem(400, "not_a_webhook");
    app.webhook(b"[1, 2, 3]")
        .await
        .assert_problem(400, "not_a_webhook");
    // A signed object with no `entry` (a test tool's body: an `event` array holding this
    // page's event) is acknowledged, as Facebook would need, and nothing is routed or stored.
    let no_entry = format!(
        r#"{{"object":"page","event":[{{"id":"{page}","messaging":[{{"sender":{{"id":"5001"}},"recipient":{{"id":"{page}"}},"message":{{"mid":"m_no_entry","text":"2 pad thai"}}}}]}}]}}"#
    );
    assert_eq!(app.webhook(no_entry.as_bytes()).await.status, 200);
    assert!(app.inbox_drained().await);
    assert!(app.conversation(&r, &page, "5001").await.is_empty());
    let conversations = app
        .call(
            Method::GET,
            &format!("/v1/pages/{page}/conversations"),
            Some(&r.admin.access),
            None,
        )
        .await;
    assert_eq!(conversations.expect(200)["items"], json!([]));
}

async fn webhooks_take_bodies_up_to_4_mib(app: TestApp) {
    let (r, page) = restaurant_with_page(&app).await;
    // Two MiB of an unknown field: over the API's 1 MiB, within the webhook's 4 MiB.
    let mut body = fanorder_api::simulate::payload(&page, "5002", &text("hi"), 1_764_000_000_000);
    body["padding"] = json!("x".repeat(2 * 1024 * 1024));
    app.webhook(body.to_string().as_bytes()).await.expect(200);
    body["padding"] = json!("x".repeat(5 * 1024 * 1024));
    app.webhook(body.to_string().as_bytes())
        .await
        .assert_problem(413, "payload_too_large");
    assert!(app.inbox_drained().await);
    assert_eq!(
        app.conversation(&r, &page, "5002").await.len(),
        2,
        "hi, and the greeting"
    );
}

fn fixtures() -> Vec<(String, Vec<u8>)> {
    fixtures_in("messenger", 50)
}

/// The `.json` bodies of `tests/fixtures/<folder>` (at least `at_least` of them), by name.
fn fixtures_in(folder: &str, at_least: usize) -> Vec<(String, Vec<u8>)> {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("fixtures")
        .join(folder);
    let mut found: Vec<(String, Vec<u8>)> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|entry| entry.unwrap().path())
        .filter(|path| {
            path.extension().is_some_and(|e| e == "json")
                && path.file_name().is_some_and(|n| n != "signatures.json")
        })
        .map(|path| {
            (
                path.file_name().unwrap().to_string_lossy().into_owned(),
                std::fs::read(&path).unwrap(),
            )
        })
        .collect();
    found.sort();
    assert!(
        found.len() >= at_least,
        "fixtures missing in {}",
        dir.display()
    );
    found
}

/// The fixture with every page id replaced by `page` (entries and recipients), so its events
/// reach a restaurant; `None` for a body with no entry list to aim.
fn retarget(body: &[u8], page: &str) -> Option<Vec<u8>> {
    let mut json: Value = serde_json::from_slice(body).ok()?;
    let entries = json.get_mut("entry")?.as_array_mut()?;
    let original = entries.first()?.get("id").cloned()?;
    for entry in entries.iter_mut().filter_map(Value::as_object_mut) {
        entry.insert("id".to_owned(), json!(page));
        for list in ["messaging", "standby"] {
            let events = entry.get_mut(list).and_then(Value::as_array_mut);
            for event in events
                .into_iter()
                .flatten()
                .filter_map(Value::as_object_mut)
            {
                for side in ["recipient", "sender"] {
                    if let Some(id) = event.get_mut(side).and_then(|s| s.get_mut("id"))
                        && *id == original
                    {
                        *id = json!(page);
                    }
                }
            }
        }
    }
    Some(json.to_string().into_bytes())
}

async fn every_real_payload_is_accepted_raw_and_routed(app: TestApp) {
    let (r, page) = restaurant_with_page(&app).await;
    for (name, bytes) in fixtures() {
        // As Facebook sent it: pages no restaurant holds are skipped, still 200.
        let reply = app.webhook(&bytes).await;
        assert_eq!(reply.status, 200, "{name}: {}", reply.text);
        // And aimed at our page, so the events are stored and handled by the bot.
        if let Some(ours) = retarget(&bytes, &page) {
            let reply = app.webhook(&ours).await;
            assert_eq!(reply.status, 200, "{name} (retargeted): {}", reply.text);
        }
    }
    assert!(app.inbox_drained().await, "the bot left events pending");
    let conversations = app
        .call(
            Method::GET,
            &format!("/v1/pages/{page}/conversations?limit=100"),
            Some(&r.admin.access),
            None,
        )
        .await;
    let conversations = conversations.expect(200)["items"]
        .as_array()
        .unwrap()
        .clone();
    assert!(
        conversations.len() >= 5,
        "the fixtures' customers talk to our page: {conversations:?}"
    );
    for conversation in &conversations {
        let psid = conversation["psid"].as_str().unwrap();
        let path = format!("/v1/pages/{page}/conversations/{psid}/messages");
        app.call(Method::GET, &path, Some(&r.admin.access), None)
            .await
            .expect(200);
    }
}

/// The 572 bodies of `tests/fixtures/messenger-more` (SOURCES.md there says where each comes
/// from: the test suites of 33 Messenger libraries, negative tests included), aimed at our page:
/// every one is acknowledged, the bot handles them, and sending them all again changes no
/// conversation.
async fn every_collected_payload_is_accepted_and_handled_once(app: TestApp) {
    let (r, page) = restaurant_with_page(&app).await;
    let bodies: Vec<(String, Vec<u8>)> = fixtures_in("messenger-more", 500)
        .into_iter()
        .map(|(name, bytes)| {
            let ours = retarget(&bytes, &page).unwrap_or(bytes);
            (name, ours)
        })
        .collect();
    for (name, body) in &bodies {
        let reply = app.webhook(body).await;
        assert_eq!(reply.status, 200, "{name}: {}", reply.text);
    }
    assert!(app.inbox_drained().await, "the bot left events pending");
    let first = messages_by_customer(&app, &r, &page).await;
    assert!(first.len() >= 20, "few conversations: {}", first.len());
    for (name, body) in &bodies {
        let reply = app.webhook(body).await;
        assert_eq!(reply.status, 200, "{name} again: {}", reply.text);
    }
    assert!(app.inbox_drained().await, "the bot left events pending");
    assert_eq!(
        messages_by_customer(&app, &r, &page).await,
        first,
        "a redelivered event was handled again"
    );
}

/// Every conversation of the page, every page of the list, with its messages.
async fn messages_by_customer(
    app: &TestApp,
    r: &Restaurant,
    page: &str,
) -> std::collections::BTreeMap<String, Vec<Value>> {
    let mut all = std::collections::BTreeMap::new();
    let mut cursor: Option<String> = None;
    loop {
        let path = match &cursor {
            Some(c) => format!("/v1/pages/{page}/conversations?limit=100&cursor={c}"),
            None => format!("/v1/pages/{page}/conversations?limit=100"),
        };
        let list = app
            .call(Method::GET, &path, Some(&r.admin.access), None)
            .await;
        let list = list.expect(200).clone();
        for conversation in list["items"].as_array().unwrap() {
            let psid = conversation["psid"].as_str().unwrap().to_owned();
            let path = format!("/v1/pages/{page}/conversations/{psid}/messages?limit=100");
            let messages = app
                .call(Method::GET, &path, Some(&r.admin.access), None)
                .await;
            let items = messages.expect(200)["items"].as_array().unwrap().clone();
            all.insert(psid, items);
        }
        match list["next_cursor"].as_str() {
            Some(next) => cursor = Some(next.to_owned()),
            None => return all,
        }
    }
}

async fn a_replayed_delivery_is_handled_once(app: TestApp) {
    let (r, page) = restaurant_with_page(&app).await;
    let body = fanorder_api::simulate::payload(&page, "5003", &text("2 coke"), 1_764_000_000_000)
        .to_string()
        .into_bytes();
    app.webhook(&body).await.expect(200);
    app.webhook(&body).await.expect(200);
    assert!(app.inbox_drained().await);
    app.webhook(&body).await.expect(200);
    assert!(app.inbox_drained().await);
    let messages = app.conversation(&r, &page, "5003").await;
    one_exchange(&messages);
    let conversation = app
        .call(
            Method::GET,
            &format!("/v1/pages/{page}/conversations"),
            Some(&r.admin.access),
            None,
        )
        .await;
    assert_eq!(
        conversation.expect(200)["items"][0]["cart"][0]["quantity"],
        2,
        "two cokes, not four"
    );
}

/// `fanorder_webhook_events_total` counts each event by what became of it: stored, a
/// duplicate, or skipped (no restaurant holds its page). Other tests post webhooks in the same
/// process, so each count grows by at least what this one sent.
async fn webhook_events_are_counted_by_result(app: TestApp) {
    let (_r, page) = restaurant_with_page(&app).await;
    let counts = || async {
        let text = app.get("/metrics").await.text().await.unwrap();
        ["stored", "duplicate", "skipped"].map(|result| {
            let series = format!("fanorder_webhook_events_total{{result=\"{result}\"}} ");
            text.lines()
                .find_map(|line| line.strip_prefix(&series))
                .map_or(0.0, |n| n.parse::<f64>().unwrap())
        })
    };
    let before = counts().await;
    let body = |page: &str| {
        fanorder_api::simulate::payload(page, "5005", &text("2 coke"), 1_764_000_000_000)
            .to_string()
            .into_bytes()
    };
    let delivery = body(&page);
    app.webhook(&delivery).await.expect(200);
    app.webhook(&delivery).await.expect(200);
    app.webhook(&body("123456789012345")).await.expect(200);
    let after = counts().await;
    for (i, result) in ["stored", "duplicate", "skipped"].iter().enumerate() {
        assert!(
            after[i] >= before[i] + 1.0,
            "{result}: {before:?} then {after:?}"
        );
    }
}

/// The customer said one thing, and the bot answered it once.
fn one_exchange(messages: &[Value]) {
    for direction in ["in", "out"] {
        let count = messages
            .iter()
            .filter(|m| m["direction"] == direction)
            .count();
        assert_eq!(count, 1, "{direction}: {messages:?}");
    }
}

/// Message ids are opaque strings of Facebook's choosing (today about 90 characters): one far
/// longer than any key the store takes is still stored, once, and answered.
async fn a_message_id_of_any_length_is_stored_once(app: TestApp) {
    let (r, page) = restaurant_with_page(&app).await;
    let mut body =
        fanorder_api::simulate::payload(&page, "5004", &text("2 coke"), 1_764_000_000_000);
    body["entry"][0]["messaging"][0]["message"]["mid"] = json!(format!("m_{}", "x".repeat(3000)));
    let body = body.to_string().into_bytes();
    app.webhook(&body).await.expect(200);
    app.webhook(&body).await.expect(200);
    assert!(app.inbox_drained().await);
    let messages = app.conversation(&r, &page, "5004").await;
    one_exchange(&messages);
}

/// A body may be 4 MiB, an item only 400 KB: an event that cannot be stored is skipped (a
/// retry could not store it either), and the body's other events are kept and answered.
async fn an_event_too_large_to_store_is_skipped_and_the_rest_of_its_body_kept(app: TestApp) {
    let (r, page) = restaurant_with_page(&app).await;
    let mut body =
        fanorder_api::simulate::payload(&page, "5005", &text("2 coke"), 1_764_000_000_000);
    let mut huge = body["entry"][0]["messaging"][0].clone();
    huge["sender"]["id"] = json!("5006");
    huge["message"]["mid"] = json!("m_huge");
    huge["message"]["text"] = json!("pad thai ".repeat(60_000));
    body["entry"][0]["messaging"]
        .as_array_mut()
        .unwrap()
        .push(huge);
    let body = body.to_string().into_bytes();
    assert!(body.len() > 500_000 && body.len() < 4 * 1024 * 1024);
    app.webhook(&body).await.expect(200);
    assert!(app.inbox_drained().await);
    one_exchange(&app.conversation(&r, &page, "5005").await);
    assert_eq!(
        app.conversation(&r, &page, "5006").await,
        Vec::<Value>::new()
    );
}

async fn events_reach_only_the_restaurant_that_holds_the_page(app: TestApp) {
    let (a, a_page) = restaurant_with_page(&app).await;
    let (b, b_page) = restaurant_with_page(&app).await;
    let unknown = fanorder_blackbox::page_id();
    let event = |page: &str, psid: &str| {
        json!({"sender": {"id": psid}, "recipient": {"id": page}, "timestamp": 1_764_000_000_000_i64,
            "message": {"mid": format!("m_{psid}"), "text": "hi"}})
    };
    let body = json!({"object": "page", "entry": [
        {"id": a_page, "time": 1_764_000_000_000_i64, "messaging": [event(&a_page, "6001")]},
        {"id": b_page, "time": 1_764_000_000_000_i64, "messaging": [event(&b_page, "6002")]},
        {"id": unknown, "time": 1_764_000_000_000_i64, "messaging": [event(&unknown, "6003")]},
    ]});
    app.webhook(body.to_string().as_bytes()).await.expect(200);
    assert!(app.inbox_drained().await);
    assert_eq!(app.conversation(&a, &a_page, "6001").await.len(), 2);
    assert_eq!(app.conversation(&b, &b_page, "6002").await.len(), 2);
    assert!(app.conversation(&a, &a_page, "6002").await.is_empty());
    assert!(app.conversation(&b, &b_page, "6001").await.is_empty());
    // B cannot look into A's page at all.
    for path in [
        format!("/v1/pages/{a_page}"),
        format!("/v1/pages/{a_page}/conversations"),
        format!("/v1/pages/{a_page}/conversations/6001/messages"),
    ] {
        app.call(Method::GET, &path, Some(&b.admin.access), None)
            .await
            .assert_problem(404, "not_found");
    }
    // A disconnects: the page's events are skipped from then on, and B may connect it.
    app.call(
        Method::DELETE,
        &format!("/v1/pages/{a_page}"),
        Some(&a.admin.access),
        None,
    )
    .await
    .expect(204);
    app.webhook(&text_body(&a_page, "6004", "hi"))
        .await
        .expect(200);
    assert!(app.inbox_drained().await);
    app.call(
        Method::POST,
        "/v1/pages",
        Some(&b.admin.access),
        Some(json!({"page_id": a_page, "name": "Now B's"})),
    )
    .await
    .expect(201);
    assert!(app.conversation(&b, &a_page, "6004").await.is_empty());
    app.webhook(&text_body(&a_page, "6005", "hi"))
        .await
        .expect(200);
    assert!(app.inbox_drained().await);
    assert_eq!(app.conversation(&b, &a_page, "6005").await.len(), 2);
}

async fn a_deactivated_restaurant_gets_no_events(app: TestApp) {
    let (r, page) = restaurant_with_page(&app).await;
    let tenant: TenantId = r.id.parse().unwrap();
    fanorder_staff::store::set_tenant_status(
        &app.state.table,
        &tenant,
        fanorder_staff::Status::Deactivated,
        jiff::Timestamp::now(),
    )
    .await
    .unwrap();
    app.webhook(&text_body(&page, "6101", "hi"))
        .await
        .expect(200);
    assert!(app.inbox_drained().await);
    let stored = fanorder_pages::store::conversation(&app.state.table, &tenant, &page, "6101")
        .await
        .unwrap();
    assert!(stored.is_none(), "{stored:?}");
}

async fn pages_belong_to_one_restaurant_and_keep_their_token_secret(app: TestApp) {
    let a = app.signup().await;
    let b = app.signup().await;
    let token = &page_token("secret");
    let page = app.connect_page(&a, Some(token), json!({})).await;
    let view = app
        .call(
            Method::GET,
            &format!("/v1/pages/{page}"),
            Some(&a.admin.access),
            None,
        )
        .await;
    let view = view.expect(200).clone();
    assert_eq!(view["has_access_token"], true, "{view}");
    assert!(!view.to_string().contains(token));
    let list = app
        .call(Method::GET, "/v1/pages", Some(&a.admin.access), None)
        .await;
    assert!(!list.text.contains(token));
    // Sealed at rest: the stored item does not hold the token.
    let tenant: TenantId = a.id.parse().unwrap();
    let stored = fanorder_pages::store::page(&app.state.table, &tenant, &page)
        .await
        .unwrap()
        .unwrap();
    assert!(!format!("{stored:?}").contains(token));
    // Taken: another restaurant cannot connect it, even with its own token.
    app.call(
        Method::POST,
        "/v1/pages",
        Some(&b.admin.access),
        Some(json!({"page_id": page, "name": "Mine", "access_token": page_token("other")})),
    )
    .await
    .assert_problem(409, "page_taken");
    // Bad input changes nothing.
    for body in [
        json!({"page_id": "not a page id!", "name": "x"}),
        json!({"page_id": fanorder_blackbox::page_id()}),
        json!({"page_id": fanorder_blackbox::page_id(), "name": "x", "access_token": "has spaces in it"}),
        json!({"page_id": fanorder_blackbox::page_id(), "name": "x", "settings": {"language": "fr"}}),
        json!({"page_id": fanorder_blackbox::page_id(), "name": "x", "settings": {"payment_methods": []}}),
        json!({"page_id": fanorder_blackbox::page_id(), "name": "x", "settings": {"texts": {"en": {"no_such_key": "x"}}}}),
        json!({"page_id": 42, "name": "x"}),
    ] {
        let reply = app
            .call(
                Method::POST,
                "/v1/pages",
                Some(&a.admin.access),
                Some(body.clone()),
            )
            .await;
        assert!(
            reply.status == 422 || reply.status == 400,
            "{body}: {} {}",
            reply.status,
            reply.text
        );
    }
    // Settings change with the version read; a stale version is refused.
    let version = view["version"].as_i64().unwrap();
    let changed = app
        .call(
            Method::PATCH,
            &format!("/v1/pages/{page}"),
            Some(&a.admin.access),
            Some(json!({"version": version, "settings": {"language": "es", "texts": {"es": {"greeting": "¡Bienvenido a {restaurant}!"}}}})),
        )
        .await;
    assert_eq!(changed.expect(200)["settings"]["language"], "es");
    app.call(
        Method::PATCH,
        &format!("/v1/pages/{page}"),
        Some(&a.admin.access),
        Some(json!({"version": version, "name": "stale"})),
    )
    .await
    .assert_problem(409, "version_conflict");
    // Staff other than admins cannot manage pages.
    let cook = app.add_staff(&a, "cook").await;
    app.call(
        Method::GET,
        &format!("/v1/pages/{page}"),
        Some(&cook.access),
        None,
    )
    .await
    .assert_problem(403, "forbidden");
    // The profile push is recorded for an offline page and sent for one with a token; this
    // page has a token that goes nowhere (no Graph API here), so only check the offline one.
    let offline = app.connect_page(&a, None, json!({})).await;
    let pushed = app
        .call(
            Method::POST,
            &format!("/v1/pages/{offline}/messenger-profile"),
            Some(&a.admin.access),
            None,
        )
        .await;
    let pushed = pushed.expect(200);
    assert_eq!(pushed["result"], "recorded");
    assert!(pushed["profile"]["get_started"].is_object(), "{pushed}");
}

/// The customer checks out a cart: pickup, a phone, cash, confirm. Returns the bot's answer to
/// the confirmation.
async fn checkout_for_pickup_with_cash(
    app: &TestApp,
    r: &Restaurant,
    page: &str,
    psid: &str,
) -> Vec<Value> {
    app.customer(r, page, psid, tap("CHECKOUT")).await;
    app.customer(r, page, psid, tap("FUL:pickup")).await;
    app.customer(r, page, psid, text("+66 81 234 5678")).await;
    let confirm = app.customer(r, page, psid, tap("PAY:cash")).await;
    assert!(said(&confirm).contains("CONFIRM"), "{}", said(&confirm));
    app.customer(r, page, psid, tap("CONFIRM")).await
}

async fn kitchen_queue(app: &TestApp, token: &str) -> Vec<Value> {
    app.call(Method::GET, "/v1/orders?status=PAID", Some(token), None)
        .await
        .expect(200)["items"]
        .as_array()
        .unwrap()
        .clone()
}

async fn an_order_in_english_reaches_the_kitchen_and_the_customer_hears_each_move(app: TestApp) {
    let (r, page) = restaurant_with_page(&app).await;
    let psid = "7001";
    let hello = app.customer(&r, &page, psid, text("hi")).await;
    assert!(
        said(&hello).contains("Welcome to Test Kitchen"),
        "{}",
        said(&hello)
    );
    let added = app
        .customer(&r, &page, psid, text("2 large pad thai and a coke"))
        .await;
    let reply = said(&added);
    assert!(reply.contains("Added 2 × Pad thai (Large)"), "{reply}");
    assert!(reply.contains("Added 1 × Coke"), "{reply}");
    // Checkout: delivery or pickup first.
    let asked = app.customer(&r, &page, psid, tap("CHECKOUT")).await;
    assert!(
        said(&asked).contains("Delivery or pickup?"),
        "{}",
        said(&asked)
    );
    let asked = app.customer(&r, &page, psid, tap("FUL:pickup")).await;
    assert!(said(&asked).contains("phone"), "{}", said(&asked));
    let asked = app.customer(&r, &page, psid, text("not a phone")).await;
    assert!(
        said(&asked).contains("doesn't look like a phone"),
        "{}",
        said(&asked)
    );
    let asked = app.customer(&r, &page, psid, text("+66 81 234 5678")).await;
    assert!(
        said(&asked).contains("How would you like to pay?"),
        "{}",
        said(&asked)
    );
    let summary = app.customer(&r, &page, psid, tap("PAY:cash")).await;
    let summary = said(&summary);
    assert!(summary.contains("Total: 310.00 THB"), "{summary}");
    let placed = app.customer(&r, &page, psid, text("yes")).await;
    let placed = said(&placed);
    assert!(placed.contains("[receipt"), "{placed}");
    assert!(placed.contains("going to the kitchen"), "{placed}");

    // The order is in the kitchen queue, with what was said.
    let cook = app.add_staff(&r, "cook").await;
    let queue = kitchen_queue(&app, &cook.access).await;
    assert_eq!(queue.len(), 1, "{queue:?}");
    let order = queue[0].clone();
    assert_eq!(order["total"], 31000);
    assert_eq!(order["channel"]["page_id"], page.as_str());
    assert_eq!(order["payment"]["status"], "due");
    let lines = order["lines"].to_string();
    assert!(lines.contains("Large") && lines.contains("Coke"), "{lines}");

    // The cook moves it; the customer hears it (recorded: the page is offline).
    let moved = crate::orders::step(&app, &cook.access, &order, "IN_KITCHEN").await;
    let told = eventually(Duration::from_secs(10), || async {
        said(&app.conversation(&r, &page, psid).await).contains("is being prepared")
    })
    .await;
    assert!(told, "{}", said(&app.conversation(&r, &page, psid).await));
    crate::orders::step(&app, &cook.access, &moved, "READY").await;
    let told = eventually(Duration::from_secs(10), || async {
        said(&app.conversation(&r, &page, psid).await).contains("is ready for pickup")
    })
    .await;
    assert!(told, "{}", said(&app.conversation(&r, &page, psid).await));
    // Each status message is there once, and nothing claimed a payment for a cash order.
    let all = said(&app.conversation(&r, &page, psid).await);
    assert_eq!(all.matches("is being prepared").count(), 1, "{all}");
    assert!(!all.contains("Payment received"), "{all}");
    // "My order" answers with the order's state.
    let mine = app.customer(&r, &page, psid, tap("MY_ORDER")).await;
    assert!(
        said(&mine).contains(&format!("#{}", order["number"])),
        "{}",
        said(&mine)
    );
}

async fn an_order_in_spanish_by_free_text(app: TestApp) {
    let (r, page) = restaurant_with_page(&app).await;
    let psid = "7002";
    let asked = app
        .customer(
            &r,
            &page,
            psid,
            text("hola, quiero dos arroz frito y una coca"),
        )
        .await;
    let reply = said(&asked);
    assert!(
        reply.contains("Agregué 1 × Coke") || reply.contains("elige"),
        "{reply}"
    );
    // The fried rice needs a protein: answered with the quick reply.
    let chicken = button(&asked, "Chicken");
    let added = app.customer(&r, &page, psid, tap(&chicken)).await;
    let reply = said(&added);
    assert!(reply.contains("2 × Khao pad (Chicken)"), "{reply}");
    let placed = checkout_for_pickup_with_cash(&app, &r, &page, psid).await;
    let placed = said(&placed);
    assert!(placed.contains("Gracias"), "{placed}");
    let queue = kitchen_queue(&app, &r.admin.access).await;
    assert_eq!(queue.len(), 1);
    assert_eq!(queue[0]["total"], 2 * 10000 + 3000);
}

async fn an_order_in_thai_by_free_text(app: TestApp) {
    let (r, page) = restaurant_with_page(&app).await;
    let psid = "7003";
    let asked = app
        .customer(&r, &page, psid, text("ผัดไทย 2 ที่ กับ โค้ก 1 ขวด"))
        .await;
    let reply = said(&asked);
    assert!(reply.contains("เลือก"), "asks the size in Thai: {reply}");
    let large = button(&asked, "Large");
    let added = app.customer(&r, &page, psid, tap(&large)).await;
    let reply = said(&added);
    assert!(reply.contains("Pad thai (Large) × 2"), "{reply}");
    let placed = checkout_for_pickup_with_cash(&app, &r, &page, psid).await;
    assert!(said(&placed).contains("ขอบคุณ"), "{}", said(&placed));
    let queue = kitchen_queue(&app, &r.admin.access).await;
    assert_eq!(queue.len(), 1);
    assert_eq!(queue[0]["total"], 2 * 14000 + 3000);
}

/// Nothing tapped: every step typed as a customer would, in Spanish, with a question on the way,
/// a change of mind, and a wish no option says, which reaches the kitchen as the order's note.
async fn a_whole_order_typed_in_words_with_a_question_a_removal_and_a_note(app: TestApp) {
    let (r, page) = restaurant_with_page(&app).await;
    let psid = "7005";
    let say = async |words: &str| said(&app.customer(&r, &page, psid, text(words)).await);
    let added = say("hola, 2 coca sin hielo").await;
    assert!(added.contains("Agregué 2 × Coke (sin hielo)"), "{added}");
    let answer = say("¿tienen arroz frito?").await;
    assert!(answer.contains("En nuestro menú: Khao pad"), "{answer}");
    let removed = say("quita 1 coca").await;
    assert!(removed.contains("Quité 1 × Coke (sin hielo)"), "{removed}");
    let asked = say("eso es todo").await;
    assert!(asked.contains("FUL:pickup"), "{asked}");
    say("recojo").await;
    say("mi número es 987 654 321").await;
    let summary = say("efectivo").await;
    assert!(summary.contains("CONFIRM"), "{summary}");
    let placed = say("confirmar").await;
    assert!(placed.contains("Gracias"), "{placed}");
    let queue = kitchen_queue(&app, &r.admin.access).await;
    assert_eq!(queue.len(), 1);
    assert_eq!(queue[0]["total"], 3000);
    assert_eq!(queue[0]["note"], "1 × Coke: sin hielo");
    let status = say("¿dónde está mi pedido?").await;
    assert!(
        status.contains(&format!("#{}", queue[0]["number"])),
        "{status}"
    );
}

async fn text_the_bot_does_not_understand_gets_help_never_an_order(app: TestApp) {
    let (r, page) = restaurant_with_page(&app).await;
    let psid = "7004";
    for words in [
        "asdkjh qwe",
        "I want a unicorn steak",
        "🍕🍕🍕",
        "CONFIRM",
        "yes",
        "9999 pad thai",
        "",
    ] {
        let answer = app.customer(&r, &page, psid, text(words)).await;
        assert!(!answer.is_empty(), "{words:?} got no answer");
    }
    for payload in [
        "CONFIRM",
        "ADD:not-an-id",
        "WHICH:7",
        "OPT:nothing",
        "PAY:bitcoin",
        "???",
    ] {
        let answer = app.customer(&r, &page, psid, tap(payload)).await;
        assert!(
            !said(&answer).contains("[receipt"),
            "{payload}: {}",
            said(&answer)
        );
    }
    assert!(kitchen_queue(&app, &r.admin.access).await.is_empty());
    let pending = app
        .call(
            Method::GET,
            "/v1/orders?status=PENDING_PAYMENT",
            Some(&r.admin.access),
            None,
        )
        .await;
    assert_eq!(pending.expect(200)["items"], json!([]));
}

async fn talking_to_a_person_silences_the_bot_until_it_is_released(app: TestApp) {
    let (r, page) = restaurant_with_page(&app).await;
    let psid = "7005";
    let handed = app.customer(&r, &page, psid, tap("HUMAN")).await;
    assert!(said(&handed).contains("person"), "{}", said(&handed));
    let quiet = app.customer(&r, &page, psid, text("2 coke please")).await;
    assert!(quiet.is_empty(), "the bot spoke: {}", said(&quiet));
    let path = format!("/v1/pages/{page}/conversations/{psid}/handover");
    let cook = app.add_staff(&r, "cook").await;
    for bad in [json!({"action": "steal"}), json!({})] {
        app.call(Method::POST, &path, Some(&cook.access), Some(bad))
            .await
            .assert_problem(422, "validation_failed");
    }
    let released = app
        .call(
            Method::POST,
            &path,
            Some(&cook.access),
            Some(json!({"action": "release"})),
        )
        .await;
    assert_eq!(released.expect(200)["handler"], "bot");
    let back = app.customer(&r, &page, psid, text("2 coke please")).await;
    assert!(said(&back).contains("Added 2 × Coke"), "{}", said(&back));
    let taken = app
        .call(
            Method::POST,
            &path,
            Some(&cook.access),
            Some(json!({"action": "take"})),
        )
        .await;
    assert_eq!(taken.expect(200)["handler"], "human");
    let quiet = app.customer(&r, &page, psid, text("hello?")).await;
    assert!(quiet.is_empty(), "the bot spoke: {}", said(&quiet));
    // Handover of a customer nobody talked to is 404.
    app.call(
        Method::POST,
        &format!("/v1/pages/{page}/conversations/123/handover"),
        Some(&cook.access),
        Some(json!({"action": "take"})),
    )
    .await
    .assert_problem(404, "not_found");
}

/// An app whose Send API client talks to `graph`.
async fn app_with_graph(store: fanorder_blackbox::Store, graph: &FakeGraph) -> Option<TestApp> {
    let url = graph.base_url();
    TestApp::spawn_with(store, move |config| {
        config.graph_api_url = Some(url);
    })
    .await
}

async fn a_page_with_a_token_sends_through_the_graph_api(app: TestApp) {
    let graph = FakeGraph::start().await.unwrap();
    let store = app.store();
    drop(app);
    let Some(app) = app_with_graph(store, &graph).await else {
        return;
    };
    graph.set_user_profile("7101", "Malee", "S.");
    let r = app.signup().await;
    seed_menu(&app, &r).await;
    let token = &page_token("graph");
    let page = app.connect_page(&r, Some(token), json!({})).await;
    let answer = app.customer(&r, &page, "7101", text("hi")).await;
    assert_eq!(answer.len(), 1, "{answer:?}");
    // Recorded first, then sent: the record gains Facebook's message id.
    let sent = eventually(Duration::from_secs(10), || async {
        app.conversation(&r, &page, "7101").await.iter().any(|m| {
            m["direction"] == "out"
                && m["delivery"] == "sent"
                && m["mid"].as_str().is_some_and(|mid| mid.starts_with("m_"))
        })
    })
    .await;
    assert!(sent, "{:?}", app.conversation(&r, &page, "7101").await);
    let sent: Vec<_> = graph
        .requests()
        .into_iter()
        .filter(|r| r.path.ends_with("/messages"))
        .collect();
    assert_eq!(sent.len(), 1, "{sent:?}");
    assert!(sent[0].used_token(token));
    assert_eq!(sent[0].recipient(), Some("7101"));
    assert_eq!(sent[0].body["messaging_type"], "RESPONSE");
    assert!(
        sent[0].text().unwrap().contains("Hi Malee!"),
        "{:?}",
        sent[0].text()
    );
    // A rate limit is retried; the customer still gets the answer.
    graph.script(GraphReply::rate_limited_613());
    let answer = app.customer(&r, &page, "7101", text("menu")).await;
    let delivered = eventually(Duration::from_secs(10), || async {
        app.conversation(&r, &page, "7101")
            .await
            .iter()
            .filter(|m| m["direction"] == "out")
            .all(|m| m["delivery"] == "sent")
    })
    .await;
    assert!(delivered, "{answer:?}");
    // Handover passes thread control to the page inbox.
    app.customer(&r, &page, "7101", tap("HUMAN")).await;
    assert!(
        graph
            .requests()
            .iter()
            .any(|r| r.path.ends_with("/pass_thread_control") && r.recipient() == Some("7101")),
        "{:?}",
        graph.requests()
    );
    // The profile push goes to Facebook.
    let pushed = app
        .call(
            Method::POST,
            &format!("/v1/pages/{page}/messenger-profile"),
            Some(&r.admin.access),
            None,
        )
        .await;
    assert_eq!(pushed.expect(200)["result"], "sent");
    assert!(
        graph
            .requests()
            .iter()
            .any(|r| r.path.ends_with("/messenger_profile"))
    );
}

async fn a_refused_token_marks_the_page_and_the_message_failed(app: TestApp) {
    let graph = FakeGraph::start().await.unwrap();
    let store = app.store();
    drop(app);
    let Some(app) = app_with_graph(store, &graph).await else {
        return;
    };
    let r = app.signup().await;
    let page = app
        .connect_page(&r, Some(&page_token("expired")), json!({}))
        .await;
    graph.script_n(3, GraphReply::bad_token());
    let answer = app.customer(&r, &page, "7201", text("hi")).await;
    assert_eq!(answer.len(), 1);
    let failed = eventually(Duration::from_secs(10), || async {
        app.conversation(&r, &page, "7201")
            .await
            .iter()
            .any(|m| m["delivery"] == "failed" && m["error"].is_string())
    })
    .await;
    assert!(failed, "{:?}", app.conversation(&r, &page, "7201").await);
    let view = app
        .call(
            Method::GET,
            &format!("/v1/pages/{page}"),
            Some(&r.admin.access),
            None,
        )
        .await;
    assert_eq!(view.expect(200)["status"], "needs_token");
    // A new token connects it again.
    let fixed = app
        .call(
            Method::PATCH,
            &format!("/v1/pages/{page}"),
            Some(&r.admin.access),
            Some(json!({"access_token": page_token("fresh")})),
        )
        .await;
    assert_eq!(fixed.expect(200)["status"], "connected");
}

/// A restaurant with a page whose customer `psid` ordered 3 cokes for pickup, paying cash, with
/// every message at `at` (ms); the kitchen has taken the order (`IN_KITCHEN`).
/// Returns the restaurant and the page.
async fn pickup_in_the_kitchen(app: &TestApp, psid: &str, at: i64) -> (Restaurant, String) {
    let r = app.signup().await;
    seed_menu(app, &r).await;
    let page = app
        .connect_page(&r, Some(&page_token("kitchen")), json!({}))
        .await;
    for act in [
        text("3 coke"),
        tap("CHECKOUT"),
        tap("FUL:pickup"),
        text("+66 81 234 5678"),
        tap("PAY:cash"),
        tap("CONFIRM"),
    ] {
        app.customer_at(&r, &page, psid, act, at).await;
    }
    let order = kitchen_queue(app, &r.admin.access).await[0].clone();
    crate::orders::step(app, &r.admin.access, &order, "IN_KITCHEN").await;
    (r, page)
}

async fn updates_after_a_day_carry_the_post_purchase_tag(app: TestApp) {
    let graph = FakeGraph::start().await.unwrap();
    let store = app.store();
    drop(app);
    let Some(app) = app_with_graph(store, &graph).await else {
        return;
    };
    // The customer's last message is 25 hours old (a slow kitchen indeed).
    let then = jiff::Timestamp::now().as_millisecond() - 25 * 3600 * 1000;
    pickup_in_the_kitchen(&app, "7301", then).await;
    let tagged = eventually(Duration::from_secs(10), || async {
        graph.requests().iter().any(|r| {
            r.body["messaging_type"] == "MESSAGE_TAG"
                && r.body["tag"] == "POST_PURCHASE_UPDATE"
                && r.text().is_some_and(|t| t.contains("is being prepared"))
        })
    })
    .await;
    assert!(tagged, "{:#?}", graph.requests());
}

async fn an_event_that_always_fails_is_set_aside_and_blocks_nobody(app: TestApp) {
    let (r, page) = restaurant_with_page(&app).await;
    let tenant: TenantId = r.id.parse().unwrap();
    // A conversation item no version of the code can read.
    let key = fanorder_pages::store::conversation_key(&tenant, &page, "7401");
    let item =
        fanorder_store::to_item(app.state.table.schema(), &key, &json!({"broken": true})).unwrap();
    app.state
        .table
        .put(fanorder_store::Put { item, cond: None })
        .await
        .unwrap();
    app.webhook(&text_body(&page, "7401", "2 coke"))
        .await
        .expect(200);
    let answer = app.customer(&r, &page, "7402", text("2 coke")).await;
    assert!(
        said(&answer).contains("Added 2 × Coke"),
        "{}",
        said(&answer)
    );
    assert!(
        app.inbox_drained().await,
        "the failing event was never set aside"
    );
}

/// The relay delivers again what it had not marked delivered when the process died: the
/// customer's update for that event must not go out a second time.
async fn a_redelivered_order_event_does_not_message_the_customer_twice(app: TestApp) {
    let graph = FakeGraph::start().await.unwrap();
    let store = app.store();
    drop(app);
    let Some(app) = app_with_graph(store, &graph).await else {
        return;
    };
    let now = jiff::Timestamp::now().as_millisecond();
    let psid = "7501";
    let (r, page) = pickup_in_the_kitchen(&app, psid, now).await;
    let prepared = |graph: &FakeGraph| {
        graph
            .sent_messages()
            .iter()
            .filter(|m| m.text().is_some_and(|t| t.contains("is being prepared")))
            .count()
    };
    assert!(eventually(Duration::from_secs(10), || async { prepared(&graph) == 1 }).await);
    let events = app
        .call(
            Method::GET,
            "/v1/events?limit=100",
            Some(&r.admin.access),
            None,
        )
        .await;
    let moved: fanorder_events::Event = serde_json::from_value(
        events.expect(200)["items"]
            .as_array()
            .unwrap()
            .iter()
            .find(|e| e["event_type"] == "order.status_changed")
            .unwrap()
            .clone(),
    )
    .unwrap();
    // As the relay does after a restart: the same event, handed to the notifier again.
    let notifier =
        fanorder_pages::Notifier::new(app.state.table.clone(), app.state.messenger.clone());
    assert_eq!(notifier.publish(&[&moved]).await, [true]);
    assert_eq!(prepared(&graph), 1, "{:#?}", graph.sent_messages());
    let updates = app
        .conversation(&r, &page, psid)
        .await
        .into_iter()
        .filter(|m| m["id"] == moved.event_id.to_string())
        .collect::<Vec<_>>();
    assert_eq!(updates.len(), 1, "{updates:?}");
    assert_eq!(updates[0]["delivery"], "sent", "{updates:?}");
}
