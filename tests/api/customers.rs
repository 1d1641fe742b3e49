//! Customers: registration, login, the own profile with saved addresses.

use fanorder_blackbox::{TestApp, unique};
use reqwest::Method;
use serde_json::json;

crate::on_both_stores!(customers:
    a_customer_registers_logs_in_and_keeps_a_profile,
    a_customer_email_is_unique_per_restaurant,
    registering_with_an_unknown_restaurant_is_422,
    addresses_are_checked_and_limited,
    staff_can_read_and_rename_themselves,
);

async fn a_customer_registers_logs_in_and_keeps_a_profile(app: TestApp) {
    let r = app.signup().await;
    let customer = app.register_customer(&r).await;
    let claims = app.token_keys().verify(&customer.access).unwrap();
    assert_eq!(claims.role, fanorder_platform::Role::Customer);
    let again = app
        .login(&r.slug, &customer.email, &customer.password)
        .await;
    assert_eq!(again.id, customer.id);
    assert_eq!(again.role, "customer");
    let me = app
        .call(Method::GET, "/v1/me", Some(&customer.access), None)
        .await;
    let me = me.expect(200);
    assert_eq!(me["email"], customer.email);
    assert_eq!(me["role"], "customer");
    assert_eq!(me["addresses"], json!([]));
    let patch = json!({
        "name": "Ana María", "phone": "+51 987 654 321",
        "addresses": [{"label": "home", "line1": "Av. Larco 123", "city": "Lima", "lat": -12.12, "lng": -77.03}],
        "version": 1
    });
    let changed = app
        .call(Method::PATCH, "/v1/me", Some(&customer.access), Some(patch))
        .await;
    let changed = changed.expect(200).clone();
    assert_eq!(changed["name"], "Ana María");
    assert_eq!(changed["addresses"][0]["city"], "Lima");
    assert_eq!(changed["version"], 2);
    let me = app
        .call(Method::GET, "/v1/me", Some(&customer.access), None)
        .await;
    assert_eq!(me.expect(200), &changed);
    app.call(
        Method::PATCH,
        "/v1/me",
        Some(&customer.access),
        Some(json!({"name": "Stale", "version": 1})),
    )
    .await
    .assert_problem(409, "version_conflict");
    let removed = app
        .call(
            Method::PATCH,
            "/v1/me",
            Some(&customer.access),
            Some(json!({"phone": ""})),
        )
        .await;
    assert!(removed.expect(200).get("phone").is_none());
}

async fn a_customer_email_is_unique_per_restaurant(app: TestApp) {
    let r = app.signup().await;
    let body = json!({"tenant": r.slug, "email": format!("c-{}@example.com", unique()), "password": "password-123", "name": "C"});
    app.call(Method::POST, "/v1/customers", None, Some(body.clone()))
        .await
        .expect(201);
    app.call(Method::POST, "/v1/customers", None, Some(body.clone()))
        .await
        .assert_problem(409, "email_taken");
    let other = app.signup().await;
    let mut elsewhere = body;
    elsewhere["tenant"] = json!(other.slug);
    app.call(Method::POST, "/v1/customers", None, Some(elsewhere))
        .await
        .expect(201);
}

async fn registering_with_an_unknown_restaurant_is_422(app: TestApp) {
    let body = json!({"tenant": format!("ghost-{}", unique()), "email": "c@example.com", "password": "password-123", "name": "C"});
    let reply = app
        .call(Method::POST, "/v1/customers", None, Some(body))
        .await;
    reply.assert_problem(422, "validation_failed");
    assert_eq!(reply.body["errors"][0]["field"], "tenant");
    let reply = app
        .call(
            Method::POST,
            "/v1/customers",
            None,
            Some(json!({"tenant": "x"})),
        )
        .await;
    let fields: Vec<&str> = reply.body["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["field"].as_str().unwrap())
        .collect();
    assert_eq!(fields, ["tenant", "email", "password", "name"]);
}

async fn addresses_are_checked_and_limited(app: TestApp) {
    let r = app.signup().await;
    let customer = app.register_customer(&r).await;
    let eleven: Vec<_> = (0..11)
        .map(|i| json!({"line1": format!("Street {i}")}))
        .collect();
    app.call(
        Method::PATCH,
        "/v1/me",
        Some(&customer.access),
        Some(json!({"addresses": eleven})),
    )
    .await
    .assert_problem(422, "validation_failed");
    let bad = json!({"addresses": [{"line1": "ok"}, {"line1": "", "lat": 200.0}]});
    let reply = app
        .call(Method::PATCH, "/v1/me", Some(&customer.access), Some(bad))
        .await;
    reply.assert_problem(422, "validation_failed");
    assert_eq!(reply.body["errors"][0]["field"], "addresses[1].line1");
    let me = app
        .call(Method::GET, "/v1/me", Some(&customer.access), None)
        .await;
    assert_eq!(me.expect(200)["version"], 1, "nothing was saved");
}

async fn staff_can_read_and_rename_themselves(app: TestApp) {
    let r = app.signup().await;
    let cook = app.add_staff(&r, "cook").await;
    let me = app
        .call(Method::GET, "/v1/me", Some(&cook.access), None)
        .await;
    assert_eq!(me.expect(200)["role"], "cook");
    let renamed = app
        .call(
            Method::PATCH,
            "/v1/me",
            Some(&cook.access),
            Some(json!({"name": "Chef Malee"})),
        )
        .await;
    assert_eq!(renamed.expect(200)["name"], "Chef Malee");
    app.call(
        Method::PATCH,
        "/v1/me",
        Some(&cook.access),
        Some(json!({"phone": "+66 81 234 5678"})),
    )
    .await
    .assert_problem(422, "validation_failed");
    let new_password = json!({"password": "a-brand-new-password"});
    app.call(
        Method::PATCH,
        "/v1/me",
        Some(&cook.access),
        Some(new_password),
    )
    .await
    .expect(200);
    app.login(&r.slug, &cook.email, "a-brand-new-password")
        .await;
}
