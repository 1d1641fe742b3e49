//! Signup, login, refresh rotation, logout, and every kind of bad token.

use std::time::Duration;

use base64::Engine;
use fanorder_blackbox::{TestApp, eventually, unique};
use fanorder_platform::auth::TokenKeys;
use fanorder_platform::{Role, Secret, TenantId};
use reqwest::Method;
use serde_json::{Value, json};

crate::on_both_stores!(auth:
    signup_answers_the_restaurant_its_owner_and_working_tokens,
    a_taken_slug_is_409_and_changes_nothing,
    signup_lists_every_bad_field,
    malformed_or_non_json_bodies_are_refused,
    every_wrong_login_answers_the_same_401,
    repeated_failed_logins_are_rate_limited,
    refresh_works_once_and_a_reused_token_revokes_the_session,
    logout_ends_the_session,
    bad_tokens_are_401_with_a_bearer_challenge,
    a_customer_token_on_a_staff_route_is_403,
    a_deactivated_restaurant_is_locked_out,
);

fn signup_body(slug: &str) -> Value {
    json!({
        "name": "Lomo House", "slug": slug, "currency": "PEN", "time_zone": "America/Lima",
        "owner": {"email": format!("{slug}@example.com"), "password": "saltado-123", "name": "Rosa"}
    })
}

async fn signup_answers_the_restaurant_its_owner_and_working_tokens(app: TestApp) {
    let slug = format!("lomo-{}", unique());
    let reply = app
        .call(Method::POST, "/v1/tenants", None, Some(signup_body(&slug)))
        .await;
    let body = reply.expect(201);
    assert_eq!(body["tenant"]["slug"], slug);
    assert_eq!(body["tenant"]["currency"], "PEN");
    assert_eq!(body["tenant"]["time_zone"], "America/Lima");
    assert_eq!(body["tenant"]["status"], "active");
    assert_eq!(body["user"]["role"], "admin");
    assert_eq!(body["user"]["email"], format!("{slug}@example.com"));
    assert_eq!(body["token_type"], "Bearer");
    assert_eq!(body["expires_in"], 900);
    assert!(body.get("password_hash").is_none() && !reply.text.contains("argon2"));
    let access = body["access_token"].as_str().unwrap();
    let claims = app.token_keys().verify(access).unwrap();
    assert_eq!(
        claims.tenant.to_string(),
        body["tenant"]["id"].as_str().unwrap()
    );
    assert_eq!(claims.role, Role::Admin);
    let tenant = app
        .call(Method::GET, "/v1/tenant", Some(access), None)
        .await;
    assert_eq!(tenant.expect(200)["slug"], slug);
    // The owner can log in with the password.
    let login = app
        .login(&slug, &format!("{slug}@example.com"), "saltado-123")
        .await;
    assert_eq!(login.role, "admin");
}

async fn a_taken_slug_is_409_and_changes_nothing(app: TestApp) {
    let first = app.signup().await;
    let mut body = signup_body(&first.slug);
    body["owner"]["email"] = json!(format!("other-{}@example.com", unique()));
    let reply = app
        .call(Method::POST, "/v1/tenants", None, Some(body.clone()))
        .await;
    reply.assert_problem(409, "slug_taken");
    // The loser's owner does not exist anywhere: logging in as them fails.
    let login = app
        .call(Method::POST, "/v1/auth/login", None, Some(json!({"tenant": first.slug, "email": body["owner"]["email"], "password": "saltado-123"})))
        .await;
    login.assert_problem(401, "unauthenticated");
    // The winner is untouched.
    let tenant = app
        .call(Method::GET, "/v1/tenant", Some(&first.admin.access), None)
        .await;
    assert_eq!(tenant.expect(200)["name"], "Test Kitchen");
}

fn fields(reply: &fanorder_blackbox::Reply) -> Vec<String> {
    reply.body["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["field"].as_str().unwrap().to_owned())
        .collect()
}

async fn signup_lists_every_bad_field(app: TestApp) {
    let reply = app
        .call(Method::POST, "/v1/tenants", None, Some(json!({})))
        .await;
    reply.assert_problem(422, "validation_failed");
    assert_eq!(
        fields(&reply),
        ["name", "slug", "currency", "time_zone", "owner"]
    );
    let bad = json!({
        "name": "", "slug": "Bad Slug", "currency": "EURO", "time_zone": "Mars/Base",
        "owner": {"email": "not-an-email", "password": "short", "name": "Rosa"}
    });
    let reply = app.call(Method::POST, "/v1/tenants", None, Some(bad)).await;
    reply.assert_problem(422, "validation_failed");
    assert_eq!(
        fields(&reply),
        [
            "name",
            "slug",
            "currency",
            "time_zone",
            "owner.email",
            "owner.password"
        ]
    );
    let long_password = json!({
        "name": "X", "slug": format!("x-{}", unique()), "currency": "USD", "time_zone": "UTC",
        "owner": {"email": "a@example.com", "password": "p".repeat(129), "name": "Rosa"}
    });
    let reply = app
        .call(Method::POST, "/v1/tenants", None, Some(long_password))
        .await;
    assert_eq!(fields(&reply), ["owner.password"]);
    let wrong_type = json!({"name": 42});
    let reply = app
        .call(Method::POST, "/v1/tenants", None, Some(wrong_type))
        .await;
    reply.assert_problem(422, "validation_failed");
    assert_eq!(fields(&reply), ["name"]);
}

async fn malformed_or_non_json_bodies_are_refused(app: TestApp) {
    let response = app
        .http
        .post(app.url("/v1/tenants"))
        .header("content-type", "application/json")
        .body("{\"name\": ")
        .send()
        .await
        .unwrap();
    fanorder_blackbox::expect_problem(response, 400, "malformed_json").await;
    let response = app
        .http
        .post(app.url("/v1/tenants"))
        .header("content-type", "text/plain")
        .body("hi")
        .send()
        .await
        .unwrap();
    fanorder_blackbox::expect_problem(response, 415, "unsupported_media_type").await;
    let response = app
        .http
        .post(app.url("/v1/auth/login"))
        .body("{}")
        .send()
        .await
        .unwrap();
    fanorder_blackbox::expect_problem(response, 415, "unsupported_media_type").await;
}

async fn every_wrong_login_answers_the_same_401(app: TestApp) {
    let restaurant = app.signup().await;
    let attempts = [
        json!({"tenant": format!("nobody-{}", unique()), "email": restaurant.admin.email, "password": restaurant.admin.password}),
        json!({"tenant": restaurant.slug, "email": format!("nobody-{}@example.com", unique()), "password": restaurant.admin.password}),
        json!({"tenant": restaurant.slug, "email": restaurant.admin.email, "password": "wrong-password"}),
        json!({"tenant": "NOT A SLUG", "email": "not an email", "password": "x"}),
    ];
    let mut details = Vec::new();
    for attempt in attempts {
        let reply = app
            .call(Method::POST, "/v1/auth/login", None, Some(attempt))
            .await;
        reply.assert_problem(401, "unauthenticated");
        details.push(reply.body["detail"].clone());
    }
    assert!(
        details.windows(2).all(|w| w[0] == w[1]),
        "the same answer every time: {details:?}"
    );
    let missing = app
        .call(
            Method::POST,
            "/v1/auth/login",
            None,
            Some(json!({"tenant": restaurant.slug})),
        )
        .await;
    missing.assert_problem(422, "validation_failed");
    assert_eq!(fields(&missing), ["email", "password"]);
}

async fn repeated_failed_logins_are_rate_limited(app: TestApp) {
    let restaurant = app.signup().await;
    let wrong = json!({"tenant": restaurant.slug, "email": restaurant.admin.email, "password": "wrong-password"});
    for _ in 0..10 {
        app.call(Method::POST, "/v1/auth/login", None, Some(wrong.clone()))
            .await
            .assert_problem(401, "unauthenticated");
    }
    let limited = app
        .call(Method::POST, "/v1/auth/login", None, Some(wrong))
        .await;
    limited.assert_problem(429, "rate_limited");
    let retry: u64 = limited.header("retry-after").unwrap().parse().unwrap();
    assert!(retry > 0 && retry <= 15 * 60);
    // Locked even with the right password, for this account only.
    let right = json!({"tenant": restaurant.slug, "email": restaurant.admin.email, "password": restaurant.admin.password});
    app.call(Method::POST, "/v1/auth/login", None, Some(right))
        .await
        .assert_problem(429, "rate_limited");
    let other = app.signup().await;
    app.login(&other.slug, &other.admin.email, &other.admin.password)
        .await;
}

async fn refresh_works_once_and_a_reused_token_revokes_the_session(app: TestApp) {
    let restaurant = app.signup().await;
    let first = restaurant.admin.refresh.clone();
    let reply = app
        .call(
            Method::POST,
            "/v1/auth/refresh",
            None,
            Some(json!({"refresh_token": first})),
        )
        .await;
    let body = reply.expect(200).clone();
    let second = body["refresh_token"].as_str().unwrap().to_owned();
    assert_ne!(second, first);
    let access = body["access_token"].as_str().unwrap();
    app.call(Method::GET, "/v1/tenant", Some(access), None)
        .await
        .expect(200);
    // The first token again: reuse. The session is revoked, so the second stops working too.
    let reuse = app
        .call(
            Method::POST,
            "/v1/auth/refresh",
            None,
            Some(json!({"refresh_token": first})),
        )
        .await;
    reuse.assert_problem(401, "unauthenticated");
    let after = app
        .call(
            Method::POST,
            "/v1/auth/refresh",
            None,
            Some(json!({"refresh_token": second})),
        )
        .await;
    after.assert_problem(401, "unauthenticated");
    // Another login of the same account is its own session and still works.
    let other = app
        .login(
            &restaurant.slug,
            &restaurant.admin.email,
            &restaurant.admin.password,
        )
        .await;
    app.call(
        Method::POST,
        "/v1/auth/refresh",
        None,
        Some(json!({"refresh_token": other.refresh})),
    )
    .await
    .expect(200);
    // Garbage and forged secrets are refused without revoking anything.
    for junk in [
        json!("nope"),
        json!(""),
        json!(other.refresh.replace('.', "x")),
    ] {
        app.call(
            Method::POST,
            "/v1/auth/refresh",
            None,
            Some(json!({"refresh_token": junk})),
        )
        .await
        .assert_problem(401, "unauthenticated");
    }
    app.call(Method::POST, "/v1/auth/refresh", None, Some(json!({})))
        .await
        .assert_problem(422, "validation_failed");
}

async fn logout_ends_the_session(app: TestApp) {
    let restaurant = app.signup().await;
    let token = json!({"refresh_token": restaurant.admin.refresh});
    app.call(Method::POST, "/v1/auth/logout", None, Some(token.clone()))
        .await
        .expect(204);
    app.call(Method::POST, "/v1/auth/logout", None, Some(token.clone()))
        .await
        .expect(204);
    app.call(Method::POST, "/v1/auth/refresh", None, Some(token))
        .await
        .assert_problem(401, "unauthenticated");
}

fn forge(header: &str, claims: &Value) -> String {
    let b64 = base64::engine::general_purpose::URL_SAFE_NO_PAD;
    format!("{}.{}.", b64.encode(header), b64.encode(claims.to_string()))
}

async fn bad_tokens_are_401_with_a_bearer_challenge(app: TestApp) {
    let restaurant = app.signup().await;
    let tenant: TenantId = restaurant.id.parse().unwrap();
    let now = jiff::Timestamp::now();
    let good = app.token_keys().verify(&restaurant.admin.access).unwrap();
    let claims = serde_json::to_value(&good).unwrap();
    let foreign_key = TokenKeys::new(
        &[("k0".into(), Secret::new(vec![1; 32]))],
        "k0",
        "fanorder",
        "fanorder-api",
    )
    .unwrap();
    let app_keys =
        fanorder_platform::Secrets::new(Secret::new(fanorder_blackbox::MASTER_SECRET.to_vec()))
            .jwt_keys;
    let other_audience = TokenKeys::new(&app_keys, "k0", "fanorder", "someone-else").unwrap();
    let b64 = base64::engine::general_purpose::URL_SAFE_NO_PAD;
    let parts: Vec<&str> = restaurant.admin.access.split('.').collect();
    let mut raised = claims.clone();
    raised["sub"] = json!("someone-else");
    let tampered = format!(
        "{}.{}.{}",
        parts[0],
        b64.encode(raised.to_string()),
        parts[2]
    );
    let tokens = [
        (
            "alg none",
            forge(r#"{"alg":"none","typ":"JWT","kid":"k0"}"#, &claims),
        ),
        (
            "foreign key",
            foreign_key
                .issue(tenant, &restaurant.admin.id, Role::Admin, now)
                .unwrap()
                .token,
        ),
        (
            "expired",
            app.token_keys()
                .issue(
                    tenant,
                    &restaurant.admin.id,
                    Role::Admin,
                    now - jiff::SignedDuration::from_hours(1),
                )
                .unwrap()
                .token,
        ),
        (
            "other audience",
            other_audience
                .issue(tenant, &restaurant.admin.id, Role::Admin, now)
                .unwrap()
                .token,
        ),
        ("tampered payload", tampered),
        ("garbage", "garbage".to_owned()),
    ];
    for (what, token) in tokens {
        let reply = app
            .call(Method::GET, "/v1/tenant", Some(&token), None)
            .await;
        reply.assert_problem(401, "unauthenticated");
        assert_eq!(reply.header("www-authenticate"), Some("Bearer"), "{what}");
    }
    let reply = app.call(Method::GET, "/v1/tenant", None, None).await;
    reply.assert_problem(401, "unauthenticated");
    assert_eq!(reply.header("www-authenticate"), Some("Bearer"));
    let basic = app
        .http
        .get(app.url("/v1/tenant"))
        .basic_auth("a", Some("b"))
        .send()
        .await
        .unwrap();
    assert_eq!(basic.status(), 401);
}

async fn a_customer_token_on_a_staff_route_is_403(app: TestApp) {
    let restaurant = app.signup().await;
    let customer = app.register_customer(&restaurant).await;
    let cook = app.add_staff(&restaurant, "cook").await;
    for token in [&customer.access, &cook.access] {
        app.call(Method::GET, "/v1/staff", Some(token), None)
            .await
            .assert_problem(403, "forbidden");
        app.call(Method::GET, "/v1/tenant", Some(token), None)
            .await
            .assert_problem(403, "forbidden");
    }
    app.call(Method::GET, "/v1/me", Some(&customer.access), None)
        .await
        .expect(200);
}

async fn a_deactivated_restaurant_is_locked_out(app: TestApp) {
    let restaurant = app.signup().await;
    let tenant: TenantId = restaurant.id.parse().unwrap();
    fanorder_staff::store::set_tenant_status(
        &app.state.table,
        &tenant,
        fanorder_staff::Status::Deactivated,
        jiff::Timestamp::now(),
    )
    .await
    .unwrap();
    // Logins and refreshes fail at once; access tokens within the status cache time.
    let login = json!({"tenant": restaurant.slug, "email": restaurant.admin.email, "password": restaurant.admin.password});
    app.call(Method::POST, "/v1/auth/login", None, Some(login.clone()))
        .await
        .assert_problem(401, "unauthenticated");
    app.call(
        Method::POST,
        "/v1/auth/refresh",
        None,
        Some(json!({"refresh_token": restaurant.admin.refresh})),
    )
    .await
    .assert_problem(401, "unauthenticated");
    let locked = eventually(Duration::from_secs(5), || async {
        app.call(
            Method::GET,
            "/v1/tenant",
            Some(&restaurant.admin.access),
            None,
        )
        .await
        .status
            == 401
    })
    .await;
    assert!(locked, "the access token kept working");
    // Reactivated: logins work again.
    fanorder_staff::store::set_tenant_status(
        &app.state.table,
        &tenant,
        fanorder_staff::Status::Active,
        jiff::Timestamp::now(),
    )
    .await
    .unwrap();
    app.call(Method::POST, "/v1/auth/login", None, Some(login))
        .await
        .expect(200);
}
