//! Limits that keep one restaurant or one script from crowding out everybody else.

use fanorder_blackbox::TestApp;
use reqwest::Method;
use serde_json::{Value, json};

crate::on_both_stores!(limits:
    a_restaurant_over_its_budget_gets_429_and_others_do_not_notice,
    one_address_cannot_sign_up_without_end,
    every_cap_is_a_clear_refusal_naming_what_is_too_big,
);

/// The fields a 422 names.
fn fields(reply: &fanorder_blackbox::Reply) -> Vec<String> {
    reply.body["errors"]
        .as_array()
        .map(|errors| {
            errors
                .iter()
                .filter_map(|e| e["field"].as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default()
}

async fn a_restaurant_over_its_budget_gets_429_and_others_do_not_notice(app: TestApp) {
    let store = app.store();
    drop(app);
    let Some(app) = TestApp::spawn_with(store, |config| {
        config.tenant_rate_per_second = 1;
        config.tenant_rate_burst = 5;
    })
    .await
    else {
        return;
    };
    let noisy = app.signup().await;
    let quiet = app.signup().await;
    let mut limited = None;
    for _ in 0..20 {
        let reply = app
            .call(Method::GET, "/v1/staff", Some(&noisy.admin.access), None)
            .await;
        if reply.status == 429 {
            limited = Some(reply);
            break;
        }
        reply.expect(200);
    }
    let limited = limited.expect("the budget ran out");
    limited.assert_problem(429, "rate_limited");
    let wait: u64 = limited.header("retry-after").unwrap().parse().unwrap();
    assert!((1..=2).contains(&wait), "{wait}");
    // The other restaurant's budget is its own.
    app.call(Method::GET, "/v1/staff", Some(&quiet.admin.access), None)
        .await
        .expect(200);
    // A forged token naming the quiet restaurant spends nothing of its budget: it is refused
    // before counting.
    for _ in 0..10 {
        app.call(Method::GET, "/v1/staff", Some("not-a-token"), None)
            .await
            .assert_problem(401, "unauthenticated");
    }
    app.call(Method::GET, "/v1/staff", Some(&quiet.admin.access), None)
        .await
        .expect(200);
}

async fn one_address_cannot_sign_up_without_end(app: TestApp) {
    let store = app.store();
    drop(app);
    let Some(app) = TestApp::spawn_with(store, |config| {
        // One more signup a minute: the fourth is refused however slowly the store answers
        // the first three (at 60 a minute, a slow run refilled the bucket in between).
        config.public_rate_per_minute = 1;
        config.public_rate_burst = 3;
    })
    .await
    else {
        return;
    };
    for _ in 0..3 {
        app.signup().await;
    }
    let suffix = fanorder_blackbox::unique();
    let refused = app
        .call(
            Method::POST,
            "/v1/tenants",
            None,
            Some(json!({
                "name": "One too many", "slug": format!("r-{suffix}"), "currency": "THB", "time_zone": "Asia/Bangkok",
                "owner": {"email": format!("o-{suffix}@example.com"), "password": "owner-password-1", "name": "O"}
            })),
        )
        .await;
    refused.assert_problem(429, "rate_limited");
    assert!(refused.header("retry-after").is_some());
    // Nothing was created.
    let login = app
        .call(
            Method::POST,
            "/v1/auth/login",
            None,
            Some(json!({"tenant": format!("r-{suffix}"), "email": format!("o-{suffix}@example.com"), "password": "owner-password-1"})),
        )
        .await;
    assert!(login.status == 429 || login.status == 401, "{}", login.text);
}

async fn every_cap_is_a_clear_refusal_naming_what_is_too_big(app: TestApp) {
    let r = app.signup().await;
    let admin = Some(r.admin.access.as_str());
    // A page of a list: at most 100.
    let reply = app
        .call(Method::GET, "/v1/orders?status=PAID&limit=101", admin, None)
        .await;
    reply.assert_problem(422, "validation_failed");
    assert_eq!(fields(&reply), ["limit"]);
    app.call(Method::GET, "/v1/orders?status=PAID&limit=100", admin, None)
        .await
        .expect(200);
    // Strings: a name of 10,000 characters.
    let reply = app
        .call(
            Method::POST,
            "/v1/menu/items",
            admin,
            Some(json!({"name": "x".repeat(10_000), "price": 100})),
        )
        .await;
    reply.assert_problem(422, "validation_failed");
    assert_eq!(fields(&reply), ["name"]);
    // Lines per order: at most 50.
    let coke = app
        .call(
            Method::POST,
            "/v1/menu/items",
            admin,
            Some(json!({"name": "Coke", "price": 3000})),
        )
        .await
        .expect(201)["id"]
        .clone();
    let lines: Vec<Value> = (0..51)
        .map(|_| json!({"item_id": coke, "quantity": 1}))
        .collect();
    let reply = app
        .call(
            Method::POST,
            "/v1/orders",
            admin,
            Some(json!({"fulfillment": "pickup", "lines": lines})),
        )
        .await;
    reply.assert_problem(422, "validation_failed");
    assert_eq!(fields(&reply), ["lines"]);
    // A body over the limit, before it is read in full.
    let reply = app
        .call(
            Method::POST,
            "/v1/menu/items",
            admin,
            Some(json!({"name": "Big", "price": 100, "description": "x".repeat(2 * 1024 * 1024)})),
        )
        .await;
    reply.assert_problem(413, "payload_too_large");
    // Events per webhook POST: at most 1,000.
    let page = fanorder_blackbox::page_id();
    let event = json!({"sender": {"id": "1"}, "recipient": {"id": page}, "timestamp": 1,
        "message": {"mid": "m", "text": "hi"}});
    let body = json!({"object": "page", "entry": [{"id": page, "time": 1,
        "messaging": vec![event; 1001]}]});
    let reply = app.webhook(body.to_string().as_bytes()).await;
    reply.assert_problem(413, "payload_too_large");
    // Nothing of it was stored.
    let items = app.call(Method::GET, "/v1/menu/items", admin, None).await;
    assert_eq!(items.expect(200)["items"].as_array().unwrap().len(), 1);
}
