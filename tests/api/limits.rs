//! Limits that keep one restaurant or one script from crowding out everybody else.

use fanorder_blackbox::TestApp;
use reqwest::Method;
use serde_json::json;

crate::on_both_stores!(limits:
    a_restaurant_over_its_budget_gets_429_and_others_do_not_notice,
    one_address_cannot_sign_up_without_end,
);

async fn a_restaurant_over_its_budget_gets_429_and_others_do_not_notice(app: TestApp) {
    let store = app.store();
    drop(app);
    let Some(app) = TestApp::spawn_with(store, |config| {
        config.tenant_rate_per_second = 2;
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
        config.public_rate_per_minute = 60;
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
