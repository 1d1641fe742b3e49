//! Locations: the restaurant's branches with address and opening hours. Admins write, staff
//! read, customers do neither.

use fanorder_blackbox::TestApp;
use reqwest::Method;
use serde_json::json;

crate::on_both_stores!(locations:
    an_admin_manages_locations_that_staff_read,
    bad_location_input_is_refused_naming_every_field,
    another_restaurants_locations_are_not_found,
);

async fn an_admin_manages_locations_that_staff_read(app: TestApp) {
    let r = app.signup().await;
    let admin = r.admin.access.clone();
    let driver = app.add_staff(&r, "driver").await;
    let customer = app.register_customer(&r).await;
    let created = app
        .call(
            Method::POST,
            "/v1/locations",
            Some(&admin),
            Some(json!({
                "name": "Silom", "address": "123 Silom Rd, Bangkok", "phone": "+66 2 123 4567",
                "opening_hours": [
                    {"days": ["mon", "tue", "wed", "thu", "fri"], "from": "10:00", "to": "22:00"},
                    {"days": ["sat", "fri"], "from": "18:00", "to": "02:00"}
                ]
            })),
        )
        .await;
    let silom = created.expect(201).clone();
    assert_eq!(silom["version"], 1);
    assert_eq!(
        silom["opening_hours"][1],
        json!({"days": ["fri", "sat"], "from": "18:00", "to": "02:00"}),
        "days are kept in week order"
    );
    let path = format!("/v1/locations/{}", silom["id"].as_str().unwrap());
    app.call(
        Method::POST,
        "/v1/locations",
        Some(&admin),
        Some(json!({"name": "Sukhumvit", "address": "1 Sukhumvit Soi 11"})),
    )
    .await
    .expect(201);

    let list = app
        .call(Method::GET, "/v1/locations", Some(&driver.access), None)
        .await;
    let names: Vec<&str> = list.expect(200)["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["Silom", "Sukhumvit"]);
    let one = app
        .call(Method::GET, &path, Some(&driver.access), None)
        .await;
    assert_eq!(one.expect(200), &silom);
    let page = app
        .call(Method::GET, "/v1/locations?limit=1", Some(&admin), None)
        .await;
    assert!(page.expect(200)["next_cursor"].is_string());

    // Staff other than admins and customers cannot write; customers cannot read.
    app.call(
        Method::PATCH,
        &path,
        Some(&driver.access),
        Some(json!({"name": "Mine"})),
    )
    .await
    .assert_problem(403, "forbidden");
    app.call(Method::DELETE, &path, Some(&driver.access), None)
        .await
        .assert_problem(403, "forbidden");
    for (method, target) in [
        (Method::GET, "/v1/locations".to_owned()),
        (Method::GET, path.clone()),
        (Method::DELETE, path.clone()),
    ] {
        app.call(method, &target, Some(&customer.access), None)
            .await
            .assert_problem(403, "forbidden");
    }

    // Edits: optimistic versions, clearing the phone, replacing the hours.
    let changed = app
        .call(
            Method::PATCH,
            &path,
            Some(&admin),
            Some(json!({"phone": null, "opening_hours": [], "version": 1})),
        )
        .await;
    let changed = changed.expect(200);
    assert!(changed.get("phone").is_none());
    assert_eq!(changed["opening_hours"], json!([]));
    assert_eq!(changed["address"], silom["address"]);
    assert_eq!(changed["version"], 2);
    app.call(
        Method::PATCH,
        &path,
        Some(&admin),
        Some(json!({"name": "Silom branch", "version": 1})),
    )
    .await
    .assert_problem(409, "version_conflict");

    app.call(Method::DELETE, &path, Some(&admin), None)
        .await
        .expect(204);
    app.call(Method::GET, &path, Some(&admin), None)
        .await
        .assert_problem(404, "not_found");
    app.call(Method::DELETE, &path, Some(&admin), None)
        .await
        .assert_problem(404, "not_found");
}

async fn bad_location_input_is_refused_naming_every_field(app: TestApp) {
    let r = app.signup().await;
    let reply = app
        .call(
            Method::POST,
            "/v1/locations",
            Some(&r.admin.access),
            Some(json!({
                "address": "", "phone": "call us",
                "opening_hours": [{"days": ["mon", "funday"], "from": "09:00", "to": "25:00"}, {"from": "9:00"}]
            })),
        )
        .await;
    reply.assert_problem(422, "validation_failed");
    let fields: Vec<&str> = reply.body["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["field"].as_str().unwrap())
        .collect();
    assert_eq!(
        fields,
        [
            "name",
            "address",
            "opening_hours[0].days[1]",
            "opening_hours[0].to",
            "opening_hours[1].days",
            "opening_hours[1].from",
            "opening_hours[1].to",
            "phone",
        ]
    );
    let list = app
        .call(Method::GET, "/v1/locations", Some(&r.admin.access), None)
        .await;
    assert!(list.expect(200)["items"].as_array().unwrap().is_empty());
}

async fn another_restaurants_locations_are_not_found(app: TestApp) {
    let a = app.signup().await;
    let b = app.signup().await;
    let created = app
        .call(
            Method::POST,
            "/v1/locations",
            Some(&a.admin.access),
            Some(json!({"name": "Silom", "address": "123 Silom Rd"})),
        )
        .await;
    let location = created.expect(201).clone();
    let path = format!("/v1/locations/{}", location["id"].as_str().unwrap());
    for (method, body) in [
        (Method::GET, None),
        (Method::PATCH, Some(json!({"name": "Ours"}))),
        (Method::DELETE, None),
    ] {
        app.call(method, &path, Some(&b.admin.access), body)
            .await
            .assert_problem(404, "not_found");
    }
    let list = app
        .call(Method::GET, "/v1/locations", Some(&b.admin.access), None)
        .await;
    assert!(list.expect(200)["items"].as_array().unwrap().is_empty());
    app.call(
        Method::GET,
        "/v1/locations/not-an-id",
        Some(&a.admin.access),
        None,
    )
    .await
    .assert_problem(404, "not_found");
    let still = app
        .call(Method::GET, &path, Some(&a.admin.access), None)
        .await;
    assert_eq!(still.expect(200), &location);
}
