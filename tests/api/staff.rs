//! Staff management by admins: add, list, read, change, deactivate; roles and the last admin.

use std::time::Duration;

use fanorder_blackbox::{TestApp, eventually, unique};
use reqwest::Method;
use serde_json::json;

crate::on_both_stores!(staff:
    an_admin_adds_lists_reads_and_changes_staff,
    a_staff_email_is_unique_in_a_restaurant_only,
    a_deactivated_member_is_locked_out,
    the_last_admin_cannot_be_removed_or_demoted,
    a_stale_version_is_a_409,
    a_role_change_reaches_the_token,
    the_staff_list_pages_with_a_cursor_bound_to_the_restaurant,
    bad_staff_input_is_refused_field_by_field,
);

async fn an_admin_adds_lists_reads_and_changes_staff(app: TestApp) {
    let r = app.signup().await;
    let cook = app.add_staff(&r, "cook").await;
    let packer = app.add_staff(&r, "packer").await;
    let driver = app.add_staff(&r, "driver").await;
    let list = app
        .call(Method::GET, "/v1/staff", Some(&r.admin.access), None)
        .await;
    let items = list.expect(200)["items"].as_array().unwrap().clone();
    let ids: Vec<&str> = items.iter().map(|i| i["id"].as_str().unwrap()).collect();
    assert_eq!(
        ids,
        [
            r.admin.id.as_str(),
            cook.id.as_str(),
            packer.id.as_str(),
            driver.id.as_str()
        ]
    );
    assert!(items.iter().all(|i| i.get("password_hash").is_none()));
    let one = app
        .call(
            Method::GET,
            &format!("/v1/staff/{}", cook.id),
            Some(&r.admin.access),
            None,
        )
        .await;
    let one = one.expect(200);
    assert_eq!(one["role"], "cook");
    assert_eq!(one["status"], "active");
    assert_eq!(one["version"], 1);
    let changed = app
        .call(
            Method::PATCH,
            &format!("/v1/staff/{}", cook.id),
            Some(&r.admin.access),
            Some(json!({"name": "Head cook", "version": 1})),
        )
        .await;
    let changed = changed.expect(200);
    assert_eq!(changed["name"], "Head cook");
    assert_eq!(changed["version"], 2);
    let missing = format!("/v1/staff/{}", fanorder_platform::id::new_ulid());
    app.call(Method::GET, &missing, Some(&r.admin.access), None)
        .await
        .assert_problem(404, "not_found");
    app.call(
        Method::GET,
        "/v1/staff/not-an-id",
        Some(&r.admin.access),
        None,
    )
    .await
    .assert_problem(404, "not_found");
    app.call(Method::DELETE, &missing, Some(&r.admin.access), None)
        .await
        .assert_problem(404, "not_found");
}

async fn a_staff_email_is_unique_in_a_restaurant_only(app: TestApp) {
    let r = app.signup().await;
    let email = format!("dup-{}@example.com", unique());
    let body = json!({"email": email, "name": "A", "role": "cook", "password": "password-123"});
    app.call(
        Method::POST,
        "/v1/staff",
        Some(&r.admin.access),
        Some(body.clone()),
    )
    .await
    .expect(201);
    let mut upper = body.clone();
    upper["email"] = json!(email.to_uppercase());
    app.call(
        Method::POST,
        "/v1/staff",
        Some(&r.admin.access),
        Some(upper),
    )
    .await
    .assert_problem(409, "email_taken");
    let other = app.signup().await;
    app.call(
        Method::POST,
        "/v1/staff",
        Some(&other.admin.access),
        Some(body),
    )
    .await
    .expect(201);
    let list = app
        .call(Method::GET, "/v1/staff", Some(&r.admin.access), None)
        .await;
    assert_eq!(
        list.expect(200)["items"].as_array().unwrap().len(),
        2,
        "the refused add left nothing behind"
    );
}

async fn a_deactivated_member_is_locked_out(app: TestApp) {
    let r = app.signup().await;
    let cook = app.add_staff(&r, "cook").await;
    app.call(Method::GET, "/v1/me", Some(&cook.access), None)
        .await
        .expect(200);
    app.call(
        Method::DELETE,
        &format!("/v1/staff/{}", cook.id),
        Some(&r.admin.access),
        None,
    )
    .await
    .expect(204);
    // Refresh fails at once, login too; the access token within the status cache time.
    app.call(
        Method::POST,
        "/v1/auth/refresh",
        None,
        Some(json!({"refresh_token": cook.refresh})),
    )
    .await
    .assert_problem(401, "unauthenticated");
    let login = json!({"tenant": r.slug, "email": cook.email, "password": cook.password});
    app.call(Method::POST, "/v1/auth/login", None, Some(login))
        .await
        .assert_problem(401, "unauthenticated");
    let locked = eventually(Duration::from_secs(5), || async {
        app.call(Method::GET, "/v1/me", Some(&cook.access), None)
            .await
            .status
            == 401
    })
    .await;
    assert!(locked, "the deactivated cook's token kept working");
    let member = app
        .call(
            Method::GET,
            &format!("/v1/staff/{}", cook.id),
            Some(&r.admin.access),
            None,
        )
        .await;
    assert_eq!(member.expect(200)["status"], "deactivated");
    // Deactivating again is a no-op.
    app.call(
        Method::DELETE,
        &format!("/v1/staff/{}", cook.id),
        Some(&r.admin.access),
        None,
    )
    .await
    .expect(204);
    // Reactivated, they can log in again.
    app.call(
        Method::PATCH,
        &format!("/v1/staff/{}", cook.id),
        Some(&r.admin.access),
        Some(json!({"status": "active"})),
    )
    .await
    .expect(200);
    app.login(&r.slug, &cook.email, &cook.password).await;
}

async fn the_last_admin_cannot_be_removed_or_demoted(app: TestApp) {
    let r = app.signup().await;
    let me = format!("/v1/staff/{}", r.admin.id);
    app.call(Method::DELETE, &me, Some(&r.admin.access), None)
        .await
        .assert_problem(409, "last_admin");
    app.call(
        Method::PATCH,
        &me,
        Some(&r.admin.access),
        Some(json!({"role": "cook"})),
    )
    .await
    .assert_problem(409, "last_admin");
    app.call(
        Method::PATCH,
        &me,
        Some(&r.admin.access),
        Some(json!({"status": "deactivated"})),
    )
    .await
    .assert_problem(409, "last_admin");
    let still = app
        .call(Method::GET, &me, Some(&r.admin.access), None)
        .await;
    assert_eq!(still.expect(200)["role"], "admin");
    // With a second admin, the first may step down.
    let second = app.add_staff(&r, "admin").await;
    app.call(
        Method::PATCH,
        &me,
        Some(&r.admin.access),
        Some(json!({"role": "cook"})),
    )
    .await
    .expect(200);
    // Now the second is the last one.
    let theirs = format!("/v1/staff/{}", second.id);
    app.call(Method::DELETE, &theirs, Some(&second.access), None)
        .await
        .assert_problem(409, "last_admin");
}

async fn a_stale_version_is_a_409(app: TestApp) {
    let r = app.signup().await;
    let cook = app.add_staff(&r, "cook").await;
    let path = format!("/v1/staff/{}", cook.id);
    app.call(
        Method::PATCH,
        &path,
        Some(&r.admin.access),
        Some(json!({"name": "One", "version": 1})),
    )
    .await
    .expect(200);
    app.call(
        Method::PATCH,
        &path,
        Some(&r.admin.access),
        Some(json!({"name": "Two", "version": 1})),
    )
    .await
    .assert_problem(409, "version_conflict");
    let now = app
        .call(Method::GET, &path, Some(&r.admin.access), None)
        .await;
    assert_eq!(now.expect(200)["name"], "One");
    app.call(
        Method::PATCH,
        "/v1/tenant",
        Some(&r.admin.access),
        Some(json!({"name": "New name", "version": 1})),
    )
    .await
    .expect(200);
    app.call(
        Method::PATCH,
        "/v1/tenant",
        Some(&r.admin.access),
        Some(json!({"name": "Lost", "version": 1})),
    )
    .await
    .assert_problem(409, "version_conflict");
    let tenant = app
        .call(Method::GET, "/v1/tenant", Some(&r.admin.access), None)
        .await;
    assert_eq!(tenant.expect(200)["name"], "New name");
}

async fn a_role_change_reaches_the_token(app: TestApp) {
    let r = app.signup().await;
    let admin2 = app.add_staff(&r, "admin").await;
    app.call(Method::GET, "/v1/staff", Some(&admin2.access), None)
        .await
        .expect(200);
    app.call(
        Method::PATCH,
        &format!("/v1/staff/{}", admin2.id),
        Some(&r.admin.access),
        Some(json!({"role": "cook"})),
    )
    .await
    .expect(200);
    let demoted = eventually(Duration::from_secs(5), || async {
        app.call(Method::GET, "/v1/staff", Some(&admin2.access), None)
            .await
            .status
            == 401
    })
    .await;
    assert!(demoted, "the demoted admin kept admin powers");
    // Refresh gives a token with the new role.
    let reply = app
        .call(
            Method::POST,
            "/v1/auth/refresh",
            None,
            Some(json!({"refresh_token": admin2.refresh})),
        )
        .await;
    let token = reply.expect(200)["access_token"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_eq!(
        app.token_keys().verify(&token).unwrap().role,
        fanorder_platform::Role::Cook
    );
    app.call(Method::GET, "/v1/staff", Some(&token), None)
        .await
        .assert_problem(403, "forbidden");
}

async fn the_staff_list_pages_with_a_cursor_bound_to_the_restaurant(app: TestApp) {
    let r = app.signup().await;
    for _ in 0..4 {
        app.add_staff(&r, "driver").await;
    }
    let mut seen = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let path = match &cursor {
            Some(c) => format!("/v1/staff?limit=2&cursor={c}"),
            None => "/v1/staff?limit=2".to_owned(),
        };
        let page = app
            .call(Method::GET, &path, Some(&r.admin.access), None)
            .await;
        let body = page.expect(200).clone();
        seen.extend(
            body["items"]
                .as_array()
                .unwrap()
                .iter()
                .map(|i| i["id"].as_str().unwrap().to_owned()),
        );
        match body["next_cursor"].as_str() {
            Some(next) => cursor = Some(next.to_owned()),
            None => break,
        }
    }
    assert_eq!(seen.len(), 5);
    let mut unique_ids = seen.clone();
    unique_ids.dedup();
    assert_eq!(unique_ids.len(), 5);
    // A cursor from this restaurant is refused for another one.
    let first = app
        .call(
            Method::GET,
            "/v1/staff?limit=1",
            Some(&r.admin.access),
            None,
        )
        .await;
    let cursor = first.expect(200)["next_cursor"]
        .as_str()
        .unwrap()
        .to_owned();
    let other = app.signup().await;
    app.call(
        Method::GET,
        &format!("/v1/staff?cursor={cursor}"),
        Some(&other.admin.access),
        None,
    )
    .await
    .assert_problem(400, "invalid_cursor");
    for bad in ["limit=0", "limit=101", "limit=abc", "cursor=garbage"] {
        let reply = app
            .call(
                Method::GET,
                &format!("/v1/staff?{bad}"),
                Some(&r.admin.access),
                None,
            )
            .await;
        assert!(
            reply.status == 400 || reply.status == 422,
            "{bad}: {}",
            reply.text
        );
        assert_eq!(
            reply.header("content-type"),
            Some("application/problem+json")
        );
    }
}

async fn bad_staff_input_is_refused_field_by_field(app: TestApp) {
    let r = app.signup().await;
    let reply = app
        .call(
            Method::POST,
            "/v1/staff",
            Some(&r.admin.access),
            Some(json!({"email": "x", "role": "chef", "password": "short"})),
        )
        .await;
    reply.assert_problem(422, "validation_failed");
    let fields: Vec<&str> = reply.body["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["field"].as_str().unwrap())
        .collect();
    assert_eq!(fields, ["email", "name", "role", "password"]);
    let customer_role = json!({"email": "c@example.com", "name": "C", "role": "customer", "password": "password-1"});
    app.call(
        Method::POST,
        "/v1/staff",
        Some(&r.admin.access),
        Some(customer_role),
    )
    .await
    .assert_problem(422, "validation_failed");
    let list = app
        .call(Method::GET, "/v1/staff", Some(&r.admin.access), None)
        .await;
    assert_eq!(list.expect(200)["items"].as_array().unwrap().len(), 1);
}
