//! The menu: admins build it (categories, items with modifiers, combos, stock, snooze), every
//! token reads it, and `GET /v1/menu` publishes what can be ordered now, in display order.

use fanorder_blackbox::{Reply, Restaurant, TestApp};
use reqwest::Method;
use serde_json::{Value, json};

crate::on_both_stores!(menus:
    an_admin_builds_a_menu_that_customers_read_in_display_order,
    the_published_menu_hides_snoozed_out_of_hours_and_sold_out_entries,
    customers_read_the_menu_but_only_admins_change_it,
    bad_menu_input_is_refused_naming_every_field,
    a_combo_cannot_use_another_restaurants_items,
    another_restaurants_menu_is_not_found,
    a_stale_version_is_a_409,
    an_edit_keeps_modifier_ids_that_are_sent_back,
    the_item_list_pages_with_a_cursor_bound_to_the_restaurant,
    categories_and_items_in_use_cannot_be_deleted,
    stock_moves_atomically_and_never_below_zero,
);

/// Monday 12:00 in Bangkok (the test restaurants' time zone).
const MONDAY_NOON: &str = "2026-01-05T05:00:00Z";
/// Monday 18:00 in Bangkok.
const MONDAY_EVENING: &str = "2026-01-05T11:00:00Z";

async fn create(app: &TestApp, r: &Restaurant, path: &str, body: Value) -> Value {
    app.call(Method::POST, path, Some(&r.admin.access), Some(body))
        .await
        .expect(201)
        .clone()
}

async fn get(app: &TestApp, token: &str, path: &str) -> Value {
    app.call(Method::GET, path, Some(token), None)
        .await
        .expect(200)
        .clone()
}

fn id(value: &Value) -> String {
    value["id"].as_str().unwrap().to_owned()
}

/// The failing fields of a 422.
fn failing_fields(reply: &Reply) -> Vec<String> {
    reply.assert_problem(422, "validation_failed");
    reply.body["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["field"].as_str().unwrap().to_owned())
        .collect()
}

fn names(list: &Value) -> Vec<&str> {
    list.as_array()
        .unwrap()
        .iter()
        .map(|v| v["name"].as_str().unwrap())
        .collect()
}

fn pad_thai(category: Option<&str>) -> Value {
    json!({
        "name": "Pad thai", "description": "Rice noodles, egg, tofu, peanuts", "price": 12000,
        "category_id": category, "photo_url": "https://example.com/pad-thai.jpg", "position": 2,
        "keywords": {"en": ["pad thai"], "th": ["ผัดไทย"], "es": ["fideos"]},
        "modifier_groups": [
            {"name": "Size", "min": 1, "max": 1, "options": [
                {"name": "Regular", "price_delta": 0}, {"name": "Large", "price_delta": 2000}]},
            {"name": "Extras", "min": 0, "max": 3, "options": [
                {"name": "Shrimp", "price_delta": 3000}, {"name": "Egg", "price_delta": 1000},
                {"name": "Tofu", "price_delta": 500}, {"name": "Cashews", "price_delta": 800}]}
        ]
    })
}

async fn an_admin_builds_a_menu_that_customers_read_in_display_order(app: TestApp) {
    let r = app.signup().await;
    let customer = app.register_customer(&r).await;
    let drinks = create(
        &app,
        &r,
        "/v1/menu/categories",
        json!({"name": "Drinks", "position": 2}),
    )
    .await;
    let noodles = create(
        &app,
        &r,
        "/v1/menu/categories",
        json!({"name": "Noodles", "position": 1}),
    )
    .await;
    assert_eq!(noodles["version"], 1);
    assert_eq!(noodles["entries"], 0);
    let pad = create(&app, &r, "/v1/menu/items", pad_thai(Some(&id(&noodles)))).await;
    let groups = pad["modifier_groups"].as_array().unwrap();
    assert_eq!(groups.len(), 2);
    assert_eq!(groups[0]["min"], 1);
    assert_eq!(groups[1]["max"], 3);
    let option_ids: Vec<&str> = groups
        .iter()
        .flat_map(|g| g["options"].as_array().unwrap())
        .map(|o| o["id"].as_str().unwrap())
        .collect();
    assert_eq!(option_ids.len(), 6);
    assert!(option_ids.iter().all(|id| id.len() == 26));
    assert!(groups.iter().all(|g| g["id"].as_str().unwrap().len() == 26));
    assert_eq!(pad["keywords"]["th"], json!(["ผัดไทย"]));
    assert!(
        pad.get("stock").is_none(),
        "stock is not counted unless set"
    );
    // Same position: by name.
    let see_ew = create(
        &app,
        &r,
        "/v1/menu/items",
        json!({"name": "Pad see ew", "price": 11000, "position": 2, "category_id": id(&noodles)}),
    )
    .await;
    let boat = create(
        &app,
        &r,
        "/v1/menu/items",
        json!({"name": "Boat noodles", "price": 9000, "position": 1, "category_id": id(&noodles)}),
    )
    .await;
    let cola = create(
        &app,
        &r,
        "/v1/menu/items",
        json!({"name": "Cola", "price": 3000, "category_id": id(&drinks)}),
    )
    .await;
    let tea = create(
        &app,
        &r,
        "/v1/menu/items",
        json!({"name": "Thai tea", "price": 4000, "category_id": id(&drinks)}),
    )
    .await;
    let water = create(
        &app,
        &r,
        "/v1/menu/items",
        json!({"name": "Water", "price": 1000}),
    )
    .await;
    let combo = create(
        &app,
        &r,
        "/v1/menu/combos",
        json!({
            "name": "Lunch set", "price": 15900, "category_id": id(&noodles),
            "components": [
                {"kind": "item", "item_id": id(&pad)},
                {"kind": "choice", "name": "Drink", "item_ids": [id(&cola), id(&tea)], "quantity": 1}
            ]
        }),
    )
    .await;
    assert_eq!(
        combo["components"][0]["quantity"], 1,
        "quantity defaults to 1"
    );
    assert_eq!(combo["components"][1]["kind"], "choice");
    assert_eq!(
        get(
            &app,
            &customer.access,
            &format!("/v1/menu/categories/{}", id(&noodles))
        )
        .await["entries"],
        4
    );

    let menu = get(&app, &customer.access, "/v1/menu").await;
    assert_eq!(menu["currency"], "THB");
    assert_eq!(menu["time_zone"], "Asia/Bangkok");
    assert_eq!(names(&menu["categories"]), ["Noodles", "Drinks"]);
    let noodle_section = &menu["categories"][0];
    assert_eq!(
        names(&noodle_section["items"]),
        ["Boat noodles", "Pad see ew", "Pad thai"]
    );
    assert_eq!(names(&noodle_section["combos"]), ["Lunch set"]);
    assert_eq!(
        noodle_section["combos"][0]["components"][1]["item_ids"],
        json!([id(&cola), id(&tea)])
    );
    assert_eq!(names(&menu["categories"][1]["items"]), ["Cola", "Thai tea"]);
    assert_eq!(names(&menu["items"]), ["Water"]);
    let published_pad = &noodle_section["items"][2];
    assert_eq!(published_pad["price"], 12000);
    assert_eq!(published_pad["modifier_groups"], pad["modifier_groups"]);
    assert_eq!(published_pad["keywords"]["es"], json!(["fideos"]));
    assert_eq!(id(published_pad), id(&pad));
    let _ = (see_ew, boat, water);

    // The lists are there for admin screens, and any token reads them.
    let items = get(&app, &customer.access, "/v1/menu/items").await;
    assert_eq!(items["items"].as_array().unwrap().len(), 6);
    let categories = get(&app, &customer.access, "/v1/menu/categories").await;
    assert_eq!(names(&categories["items"]), ["Drinks", "Noodles"]);
    let combos = get(&app, &customer.access, "/v1/menu/combos").await;
    assert_eq!(names(&combos["items"]), ["Lunch set"]);
    let one = get(
        &app,
        &customer.access,
        &format!("/v1/menu/items/{}", id(&pad)),
    )
    .await;
    assert_eq!(one, pad);
}

async fn the_published_menu_hides_snoozed_out_of_hours_and_sold_out_entries(app: TestApp) {
    let r = app.signup().await;
    let token = r.admin.access.clone();
    let always = create(
        &app,
        &r,
        "/v1/menu/items",
        json!({"name": "Always", "price": 100}),
    )
    .await;
    let dinner = create(
        &app,
        &r,
        "/v1/menu/items",
        json!({"name": "Dinner", "price": 100,
            "availability": [{"days": ["mon", "tue"], "from": "17:00", "to": "22:00"}]}),
    )
    .await;
    let late = create(
        &app,
        &r,
        "/v1/menu/items",
        json!({"name": "Late night", "price": 100,
            "availability": [{"days": ["sun"], "from": "22:00", "to": "13:00"}]}),
    )
    .await;
    let snoozed = create(
        &app,
        &r,
        "/v1/menu/items",
        json!({"name": "Snoozed", "price": 100, "snoozed_until": "2100-01-01T00:00:00Z"}),
    )
    .await;
    let sold_out = create(
        &app,
        &r,
        "/v1/menu/items",
        json!({"name": "Sold out", "price": 100, "stock": 0}),
    )
    .await;
    let counted = create(
        &app,
        &r,
        "/v1/menu/items",
        json!({"name": "Counted", "price": 100, "stock": 5}),
    )
    .await;
    create(
        &app,
        &r,
        "/v1/menu/combos",
        json!({"name": "Set with a sold-out part", "price": 100, "components": [
            {"kind": "item", "item_id": id(&sold_out)}]}),
    )
    .await;
    create(
        &app,
        &r,
        "/v1/menu/combos",
        json!({"name": "Set with a choice", "price": 100, "components": [
            {"kind": "item", "item_id": id(&always)},
            {"kind": "choice", "name": "Side", "item_ids": [id(&sold_out), id(&counted)]}]}),
    )
    .await;
    create(
        &app,
        &r,
        "/v1/menu/combos",
        json!({"name": "Evening set", "price": 100, "components": [{"kind": "item", "item_id": id(&always)}],
            "availability": [{"days": ["mon"], "from": "18:00", "to": "20:00"}]}),
    )
    .await;

    let noon = get(&app, &token, &format!("/v1/menu?at={MONDAY_NOON}")).await;
    // Sunday 22:00 to Monday 13:00 covers Monday noon.
    assert_eq!(names(&noon["items"]), ["Always", "Counted", "Late night"]);
    assert_eq!(names(&noon["combos"]), ["Set with a choice"]);
    assert_eq!(
        noon["combos"][0]["components"][1]["item_ids"],
        json!([id(&counted)]),
        "the sold-out side is not offered"
    );
    assert_eq!(noon["items"][1]["stock"], 5);
    let evening = get(&app, &token, &format!("/v1/menu?at={MONDAY_EVENING}")).await;
    assert_eq!(names(&evening["items"]), ["Always", "Counted", "Dinner"]);
    assert_eq!(
        names(&evening["combos"]),
        ["Evening set", "Set with a choice"]
    );

    // Unsnooze, restock, and snooze another: the menu follows.
    app.call(
        Method::PATCH,
        &format!("/v1/menu/items/{}", id(&snoozed)),
        Some(&token),
        Some(json!({"snoozed_until": null})),
    )
    .await
    .expect(200);
    let restocked = app
        .call(
            Method::POST,
            &format!("/v1/menu/items/{}/stock", id(&sold_out)),
            Some(&token),
            Some(json!({"delta": 2})),
        )
        .await;
    assert_eq!(restocked.expect(200)["stock"], 2);
    let snooze = app
        .call(
            Method::PATCH,
            &format!("/v1/menu/items/{}", id(&late)),
            Some(&token),
            Some(json!({"snoozed_until": "2100-01-01T00:00:00+07:00"})),
        )
        .await;
    assert_eq!(
        snooze.expect(200)["snoozed_until"],
        "2099-12-31T17:00:00Z",
        "stored as an instant"
    );
    let noon = get(&app, &token, &format!("/v1/menu?at={MONDAY_NOON}")).await;
    assert_eq!(
        names(&noon["items"]),
        ["Always", "Counted", "Snoozed", "Sold out"]
    );
    assert_eq!(
        names(&noon["combos"]),
        ["Set with a choice", "Set with a sold-out part"]
    );
    // Without `at` it is now; a bad `at` is named.
    app.call(Method::GET, "/v1/menu", Some(&token), None)
        .await
        .expect(200);
    let reply = app
        .call(Method::GET, "/v1/menu?at=yesterday", Some(&token), None)
        .await;
    assert_eq!(failing_fields(&reply), ["at"]);
    let _ = dinner;
}

async fn customers_read_the_menu_but_only_admins_change_it(app: TestApp) {
    let r = app.signup().await;
    let customer = app.register_customer(&r).await;
    let cook = app.add_staff(&r, "cook").await;
    let category = create(&app, &r, "/v1/menu/categories", json!({"name": "Soups"})).await;
    let item = create(
        &app,
        &r,
        "/v1/menu/items",
        json!({"name": "Tom yum", "price": 15000, "stock": 4}),
    )
    .await;
    let combo = create(
        &app,
        &r,
        "/v1/menu/combos",
        json!({"name": "Soup set", "price": 100, "components": [{"kind": "item", "item_id": id(&item)}]}),
    )
    .await;
    for token in [&customer.access, &cook.access] {
        for path in [
            "/v1/menu".to_owned(),
            "/v1/menu/items".to_owned(),
            "/v1/menu/categories".to_owned(),
            "/v1/menu/combos".to_owned(),
            format!("/v1/menu/items/{}", id(&item)),
            format!("/v1/menu/categories/{}", id(&category)),
            format!("/v1/menu/combos/{}", id(&combo)),
        ] {
            app.call(Method::GET, &path, Some(token), None)
                .await
                .expect(200);
        }
        let writes = [
            (
                Method::POST,
                "/v1/menu/items".to_owned(),
                json!({"name": "X", "price": 1}),
            ),
            (
                Method::POST,
                "/v1/menu/categories".to_owned(),
                json!({"name": "X"}),
            ),
            (
                Method::POST,
                "/v1/menu/combos".to_owned(),
                json!({"name": "X", "price": 1, "components": [{"kind": "item", "item_id": id(&item)}]}),
            ),
            (
                Method::PATCH,
                format!("/v1/menu/items/{}", id(&item)),
                json!({"price": 1}),
            ),
            (
                Method::PATCH,
                format!("/v1/menu/categories/{}", id(&category)),
                json!({"name": "X"}),
            ),
            (
                Method::PATCH,
                format!("/v1/menu/combos/{}", id(&combo)),
                json!({"price": 1}),
            ),
            (
                Method::DELETE,
                format!("/v1/menu/combos/{}", id(&combo)),
                json!({}),
            ),
            (
                Method::DELETE,
                format!("/v1/menu/items/{}", id(&item)),
                json!({}),
            ),
            (
                Method::DELETE,
                format!("/v1/menu/categories/{}", id(&category)),
                json!({}),
            ),
        ];
        for (method, path, body) in writes {
            app.call(method.clone(), &path, Some(token), Some(body))
                .await
                .assert_problem(403, "forbidden");
        }
    }
    // The kitchen may count stock; a customer may not.
    let stock_path = format!("/v1/menu/items/{}/stock", id(&item));
    app.call(
        Method::POST,
        &stock_path,
        Some(&customer.access),
        Some(json!({"delta": -1})),
    )
    .await
    .assert_problem(403, "forbidden");
    let taken = app
        .call(
            Method::POST,
            &stock_path,
            Some(&cook.access),
            Some(json!({"delta": -1})),
        )
        .await;
    assert_eq!(taken.expect(200)["stock"], 3);
    // No token, no menu.
    app.call(Method::GET, "/v1/menu", None, None)
        .await
        .assert_problem(401, "unauthenticated");
    // Nothing changed.
    let after = get(
        &app,
        &customer.access,
        &format!("/v1/menu/items/{}", id(&item)),
    )
    .await;
    assert_eq!(after["price"], 15000);
    assert_eq!(after["version"], 1);
}

async fn bad_menu_input_is_refused_naming_every_field(app: TestApp) {
    let r = app.signup().await;
    let token = r.admin.access.clone();
    let shared = "01J8Z3K4M5N6P7Q8R9S0T1V2W5";
    let reply = app
        .call(
            Method::POST,
            "/v1/menu/items",
            Some(&token),
            Some(json!({
                "name": "Pad thai", "price": -1, "photo_url": "http://example.com/pad.jpg",
                "keywords": {"EN": ["pad thai"], "th": [""]},
                "modifier_groups": [
                    {"name": "Size", "min": 2, "max": 1, "options": [{"id": shared, "name": "Regular"}]},
                    {"name": "Extras", "min": 0, "max": 5, "options": [
                        {"id": shared, "name": "Egg", "price_delta": 1000},
                        {"name": "Shrimp", "price_delta": -5}]}
                ],
                "availability": [
                    {"days": ["mon", "someday"], "from": "25:00", "to": "10:00"},
                    {"days": [], "from": "10:00", "to": "10:00"}
                ],
                "stock": -3, "snoozed_until": "tomorrow", "position": -1
            })),
        )
        .await;
    assert_eq!(
        failing_fields(&reply),
        [
            "price",
            "photo_url",
            "keywords.EN",
            "keywords.th[0]",
            "modifier_groups[0].min",
            "modifier_groups[1].options[0].id",
            "modifier_groups[1].options[1].price_delta",
            "modifier_groups[1].max",
            "availability[0].days[1]",
            "availability[0].from",
            "availability[1].days",
            "stock",
            "snoozed_until",
            "position",
        ]
    );
    let messages = reply.text.clone();
    assert!(messages.contains("must be at most max (1)"), "{messages}");
    assert!(messages.contains("https"), "{messages}");

    // Required fields, all at once.
    let reply = app
        .call(
            Method::POST,
            "/v1/menu/items",
            Some(&token),
            Some(json!({})),
        )
        .await;
    assert_eq!(failing_fields(&reply), ["name", "price"]);
    let reply = app
        .call(
            Method::POST,
            "/v1/menu/items",
            Some(&token),
            Some(json!({"name": "X", "price": 1, "modifier_groups": [{"name": "Size", "options": []}]})),
        )
        .await;
    assert_eq!(
        failing_fields(&reply),
        [
            "modifier_groups[0].min",
            "modifier_groups[0].max",
            "modifier_groups[0].options"
        ]
    );
    // The wrong JSON type is named too.
    let reply = app
        .call(
            Method::POST,
            "/v1/menu/items",
            Some(&token),
            Some(json!({"name": "X", "price": "12.50"})),
        )
        .await;
    assert_eq!(failing_fields(&reply), ["price"]);
    // An unknown category (checked in the store, in the same transaction as the write).
    let reply = app
        .call(
            Method::POST,
            "/v1/menu/items",
            Some(&token),
            Some(json!({"name": "X", "price": 1, "category_id": fanorder_platform::id::new_ulid().to_string()})),
        )
        .await;
    assert_eq!(failing_fields(&reply), ["category_id"]);
    let reply = app
        .call(
            Method::POST,
            "/v1/menu/items",
            Some(&token),
            Some(json!({"name": "X", "price": 1, "category_id": "noodles"})),
        )
        .await;
    assert_eq!(failing_fields(&reply), ["category_id"]);
    // Combos.
    let reply = app
        .call(
            Method::POST,
            "/v1/menu/combos",
            Some(&token),
            Some(json!({"name": "Set", "price": 1, "components": [
                {"kind": "item"},
                {"kind": "choice", "name": "Drink", "item_ids": [shared, shared], "quantity": 0},
                {"kind": "dessert"}
            ]})),
        )
        .await;
    assert_eq!(
        failing_fields(&reply),
        [
            "components[0].item_id",
            "components[1].quantity",
            "components[1].item_ids[1]",
            "components[2].kind"
        ]
    );
    let reply = app
        .call(
            Method::POST,
            "/v1/menu/combos",
            Some(&token),
            Some(json!({"name": "Set", "price": 1, "components": []})),
        )
        .await;
    assert_eq!(failing_fields(&reply), ["components"]);
    // Categories.
    let reply = app
        .call(
            Method::POST,
            "/v1/menu/categories",
            Some(&token),
            Some(json!({"name": " ", "position": 2_000_000})),
        )
        .await;
    assert_eq!(failing_fields(&reply), ["name", "position"]);
    // Stock movements.
    let item = create(
        &app,
        &r,
        "/v1/menu/items",
        json!({"name": "X", "price": 1, "stock": 1}),
    )
    .await;
    let reply = app
        .call(
            Method::POST,
            &format!("/v1/menu/items/{}/stock", id(&item)),
            Some(&token),
            Some(json!({"delta": 0})),
        )
        .await;
    assert_eq!(failing_fields(&reply), ["delta"]);
    // Nothing was stored by the refused requests.
    let items = get(&app, &token, "/v1/menu/items").await;
    assert_eq!(items["items"].as_array().unwrap().len(), 1);
    let combos = get(&app, &token, "/v1/menu/combos").await;
    assert!(combos["items"].as_array().unwrap().is_empty());
}

async fn a_combo_cannot_use_another_restaurants_items(app: TestApp) {
    let a = app.signup().await;
    let b = app.signup().await;
    let ours = create(
        &app,
        &a,
        "/v1/menu/items",
        json!({"name": "Khao pad", "price": 9000}),
    )
    .await;
    let theirs = create(
        &app,
        &b,
        "/v1/menu/items",
        json!({"name": "Secret recipe of B", "price": 9000}),
    )
    .await;
    let reply = app
        .call(
            Method::POST,
            "/v1/menu/combos",
            Some(&a.admin.access),
            Some(json!({"name": "Set", "price": 100, "components": [
                {"kind": "item", "item_id": id(&ours)},
                {"kind": "choice", "name": "Side", "item_ids": [id(&ours), id(&theirs)]},
                {"kind": "item", "item_id": fanorder_platform::id::new_ulid().to_string()}
            ]})),
        )
        .await;
    assert_eq!(
        failing_fields(&reply),
        ["components[1].item_ids[1]", "components[2].item_id"]
    );
    assert!(
        !reply.text.contains("Secret recipe"),
        "nothing of B's item leaks: {}",
        reply.text
    );
    assert_eq!(
        reply.body["errors"][0]["message"], reply.body["errors"][1]["message"],
        "another restaurant's item reads exactly like a missing one"
    );
    // The same through an edit of an existing combo.
    let combo = create(
        &app,
        &a,
        "/v1/menu/combos",
        json!({"name": "Set", "price": 100, "components": [{"kind": "item", "item_id": id(&ours)}]}),
    )
    .await;
    let reply = app
        .call(
            Method::PATCH,
            &format!("/v1/menu/combos/{}", id(&combo)),
            Some(&a.admin.access),
            Some(json!({"components": [{"kind": "choice", "name": "Main", "item_ids": [id(&theirs)]}]})),
        )
        .await;
    assert_eq!(failing_fields(&reply), ["components[0].item_ids[0]"]);
    let unchanged = get(
        &app,
        &a.admin.access,
        &format!("/v1/menu/combos/{}", id(&combo)),
    )
    .await;
    assert_eq!(unchanged, combo);
    // B's item is still deletable: A's refused combos hold no reference to it.
    app.call(
        Method::DELETE,
        &format!("/v1/menu/items/{}", id(&theirs)),
        Some(&b.admin.access),
        None,
    )
    .await
    .expect(204);
}

async fn another_restaurants_menu_is_not_found(app: TestApp) {
    let a = app.signup().await;
    let b = app.signup().await;
    let category = create(&app, &a, "/v1/menu/categories", json!({"name": "Curries"})).await;
    let item = create(
        &app,
        &a,
        "/v1/menu/items",
        json!({"name": "Green curry", "price": 14000, "stock": 3, "category_id": id(&category)}),
    )
    .await;
    let combo = create(
        &app,
        &a,
        "/v1/menu/combos",
        json!({"name": "Curry set", "price": 100, "components": [{"kind": "item", "item_id": id(&item)}]}),
    )
    .await;
    let paths = [
        format!("/v1/menu/categories/{}", id(&category)),
        format!("/v1/menu/items/{}", id(&item)),
        format!("/v1/menu/combos/{}", id(&combo)),
    ];
    for path in &paths {
        for (method, body) in [
            (Method::GET, None),
            (Method::PATCH, Some(json!({"name": "Mine now"}))),
            (Method::DELETE, None),
        ] {
            app.call(method, path, Some(&b.admin.access), body)
                .await
                .assert_problem(404, "not_found");
        }
    }
    app.call(
        Method::POST,
        &format!("/v1/menu/items/{}/stock", id(&item)),
        Some(&b.admin.access),
        Some(json!({"delta": -3})),
    )
    .await
    .assert_problem(404, "not_found");
    // Malformed and missing ids answer the same.
    for path in [
        "/v1/menu/items/not-an-id".to_owned(),
        "/v1/menu/categories/01j8z3k4m5n6p7q8r9s0t1v2w3".to_owned(),
        format!("/v1/menu/combos/{}", fanorder_platform::id::new_ulid()),
    ] {
        app.call(Method::GET, &path, Some(&a.admin.access), None)
            .await
            .assert_problem(404, "not_found");
    }
    // B's menu is empty, and A's is intact.
    let menu = get(&app, &b.admin.access, "/v1/menu").await;
    assert!(menu["categories"].as_array().unwrap().is_empty());
    let still = get(
        &app,
        &a.admin.access,
        &format!("/v1/menu/items/{}", id(&item)),
    )
    .await;
    assert_eq!(still, item);
}

async fn a_stale_version_is_a_409(app: TestApp) {
    let r = app.signup().await;
    let token = r.admin.access.clone();
    let category = create(&app, &r, "/v1/menu/categories", json!({"name": "Rice"})).await;
    let item = create(
        &app,
        &r,
        "/v1/menu/items",
        json!({"name": "Khao man gai", "price": 6000}),
    )
    .await;
    let combo = create(
        &app,
        &r,
        "/v1/menu/combos",
        json!({"name": "Rice set", "price": 100, "components": [{"kind": "item", "item_id": id(&item)}]}),
    )
    .await;
    for (path, change) in [
        (
            format!("/v1/menu/categories/{}", id(&category)),
            json!({"name": "Rice dishes"}),
        ),
        (
            format!("/v1/menu/items/{}", id(&item)),
            json!({"price": 6500}),
        ),
        (
            format!("/v1/menu/combos/{}", id(&combo)),
            json!({"price": 200}),
        ),
    ] {
        let mut with_version = change.clone();
        with_version["version"] = json!(1);
        let changed = app
            .call(
                Method::PATCH,
                &path,
                Some(&token),
                Some(with_version.clone()),
            )
            .await;
        assert_eq!(changed.expect(200)["version"], 2, "{path}");
        app.call(Method::PATCH, &path, Some(&token), Some(with_version))
            .await
            .assert_problem(409, "version_conflict");
        // Without a version the edit applies to whatever is current.
        let again = app
            .call(Method::PATCH, &path, Some(&token), Some(change))
            .await;
        assert_eq!(again.expect(200)["version"], 3, "{path}");
    }
    // A stock move does not change the version, so it never makes an edit stale.
    let counted = create(
        &app,
        &r,
        "/v1/menu/items",
        json!({"name": "Counted", "price": 100, "stock": 5}),
    )
    .await;
    app.call(
        Method::POST,
        &format!("/v1/menu/items/{}/stock", id(&counted)),
        Some(&token),
        Some(json!({"delta": -2})),
    )
    .await
    .expect(200);
    let edited = app
        .call(
            Method::PATCH,
            &format!("/v1/menu/items/{}", id(&counted)),
            Some(&token),
            Some(json!({"name": "Counted dish", "version": 1})),
        )
        .await;
    let edited = edited.expect(200);
    assert_eq!(edited["version"], 2);
    assert_eq!(
        edited["stock"], 3,
        "the edit kept the stock taken meanwhile"
    );
}

async fn an_edit_keeps_modifier_ids_that_are_sent_back(app: TestApp) {
    let r = app.signup().await;
    let token = r.admin.access.clone();
    let item = create(&app, &r, "/v1/menu/items", pad_thai(None)).await;
    let path = format!("/v1/menu/items/{}", id(&item));
    // An edit of other fields leaves the groups exactly as they were.
    let priced = app
        .call(
            Method::PATCH,
            &path,
            Some(&token),
            Some(json!({"price": 12500})),
        )
        .await;
    assert_eq!(
        priced.expect(200)["modifier_groups"],
        item["modifier_groups"]
    );
    // Send the groups back with their ids, rename one option, drop one, add one.
    let mut groups = item["modifier_groups"].clone();
    groups[0]["options"][1]["name"] = json!("Jumbo");
    groups[0]["options"][1]["price_delta"] = json!(2500);
    let extras = groups[1]["options"].as_array_mut().unwrap();
    let dropped = extras.remove(3);
    extras.push(json!({"name": "Crispy pork", "price_delta": 4000}));
    let changed = app
        .call(
            Method::PATCH,
            &path,
            Some(&token),
            Some(json!({"modifier_groups": groups})),
        )
        .await;
    let changed = changed.expect(200).clone();
    let new_groups = changed["modifier_groups"].as_array().unwrap();
    assert_eq!(new_groups[0]["id"], item["modifier_groups"][0]["id"]);
    assert_eq!(new_groups[1]["id"], item["modifier_groups"][1]["id"]);
    assert_eq!(
        new_groups[0]["options"][1]["id"],
        item["modifier_groups"][0]["options"][1]["id"]
    );
    assert_eq!(new_groups[0]["options"][1]["name"], "Jumbo");
    let extra_ids: Vec<&str> = new_groups[1]["options"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| o["id"].as_str().unwrap())
        .collect();
    assert_eq!(extra_ids.len(), 4);
    for k in 0..3 {
        assert_eq!(
            extra_ids[k],
            item["modifier_groups"][1]["options"][k]["id"]
                .as_str()
                .unwrap()
        );
    }
    assert!(!extra_ids.contains(&dropped["id"].as_str().unwrap()));
    assert_eq!(extra_ids[3].len(), 26, "the new option got an id");
    // Reading it back gives the same.
    assert_eq!(get(&app, &token, &path).await, changed);
    // Sending an id twice is refused.
    let mut twice = changed["modifier_groups"].clone();
    twice[1]["options"][0]["id"] = twice[0]["options"][0]["id"].clone();
    let reply = app
        .call(
            Method::PATCH,
            &path,
            Some(&token),
            Some(json!({"modifier_groups": twice})),
        )
        .await;
    assert_eq!(failing_fields(&reply), ["modifier_groups[1].options[0].id"]);
    // Clearing optional fields.
    let cleared = app
        .call(
            Method::PATCH,
            &path,
            Some(&token),
            Some(json!({"description": null, "photo_url": null, "modifier_groups": []})),
        )
        .await;
    let cleared = cleared.expect(200);
    assert!(cleared.get("description").is_none() && cleared.get("photo_url").is_none());
    assert_eq!(cleared["modifier_groups"], json!([]));
    assert_eq!(cleared["name"], "Pad thai");
}

async fn the_item_list_pages_with_a_cursor_bound_to_the_restaurant(app: TestApp) {
    let r = app.signup().await;
    let token = r.admin.access.clone();
    let mut created = Vec::new();
    for n in 0..5 {
        let item = create(
            &app,
            &r,
            "/v1/menu/items",
            json!({"name": format!("Dish {n}"), "price": 100 * n}),
        )
        .await;
        created.push(id(&item));
    }
    let mut seen = Vec::new();
    let mut cursor: Option<String> = None;
    let mut pages = 0;
    loop {
        let path = match &cursor {
            Some(c) => format!("/v1/menu/items?limit=2&cursor={c}"),
            None => "/v1/menu/items?limit=2".to_owned(),
        };
        let body = get(&app, &token, &path).await;
        pages += 1;
        seen.extend(body["items"].as_array().unwrap().iter().map(id));
        match body["next_cursor"].as_str() {
            Some(next) => cursor = Some(next.to_owned()),
            None => break,
        }
    }
    assert_eq!(pages, 3);
    assert_eq!(seen, created, "every item once, in the order added");
    let first = get(&app, &token, "/v1/menu/items?limit=1").await;
    let cursor = first["next_cursor"].as_str().unwrap();
    let other = app.signup().await;
    app.call(
        Method::GET,
        &format!("/v1/menu/items?cursor={cursor}"),
        Some(&other.admin.access),
        None,
    )
    .await
    .assert_problem(400, "invalid_cursor");
    // A cursor of one list does not work on another list of the same restaurant.
    app.call(
        Method::GET,
        &format!("/v1/menu/categories?cursor={cursor}"),
        Some(&token),
        None,
    )
    .await
    .assert_problem(400, "invalid_cursor");
    let reply = app
        .call(Method::GET, "/v1/menu/items?limit=0", Some(&token), None)
        .await;
    assert_eq!(failing_fields(&reply), ["limit"]);
}

async fn categories_and_items_in_use_cannot_be_deleted(app: TestApp) {
    let r = app.signup().await;
    let token = r.admin.access.clone();
    let category = create(&app, &r, "/v1/menu/categories", json!({"name": "Salads"})).await;
    let category_path = format!("/v1/menu/categories/{}", id(&category));
    let salad = create(
        &app,
        &r,
        "/v1/menu/items",
        json!({"name": "Som tam", "price": 7000, "category_id": id(&category)}),
    )
    .await;
    let salad_path = format!("/v1/menu/items/{}", id(&salad));
    let combo = create(
        &app,
        &r,
        "/v1/menu/combos",
        json!({"name": "Salad set", "price": 100, "components": [{"kind": "item", "item_id": id(&salad)}]}),
    )
    .await;
    let combo_path = format!("/v1/menu/combos/{}", id(&combo));

    app.call(Method::DELETE, &category_path, Some(&token), None)
        .await
        .assert_problem(409, "category_not_empty");
    app.call(Method::DELETE, &salad_path, Some(&token), None)
        .await
        .assert_problem(409, "item_in_combo");

    // Take the item out of the category: the category can go.
    let moved = app
        .call(
            Method::PATCH,
            &salad_path,
            Some(&token),
            Some(json!({"category_id": null})),
        )
        .await;
    assert!(moved.expect(200).get("category_id").is_none());
    assert_eq!(get(&app, &token, &category_path).await["entries"], 0);
    app.call(Method::DELETE, &category_path, Some(&token), None)
        .await
        .expect(204);
    app.call(Method::GET, &category_path, Some(&token), None)
        .await
        .assert_problem(404, "not_found");
    app.call(Method::DELETE, &category_path, Some(&token), None)
        .await
        .assert_problem(404, "not_found");
    // Moving an item into a deleted category is refused.
    let reply = app
        .call(
            Method::PATCH,
            &salad_path,
            Some(&token),
            Some(json!({"category_id": id(&category)})),
        )
        .await;
    assert_eq!(failing_fields(&reply), ["category_id"]);

    // Delete the combo, then the item.
    app.call(Method::DELETE, &combo_path, Some(&token), None)
        .await
        .expect(204);
    app.call(Method::DELETE, &salad_path, Some(&token), None)
        .await
        .expect(204);
    app.call(Method::GET, &salad_path, Some(&token), None)
        .await
        .assert_problem(404, "not_found");
    app.call(Method::DELETE, &combo_path, Some(&token), None)
        .await
        .assert_problem(404, "not_found");
    let menu = get(&app, &token, "/v1/menu").await;
    assert_eq!(
        menu,
        json!({"currency": "THB", "time_zone": "Asia/Bangkok", "categories": [], "items": [], "combos": []})
    );
}

async fn stock_moves_atomically_and_never_below_zero(app: TestApp) {
    let r = app.signup().await;
    let token = r.admin.access.clone();
    let cook = app.add_staff(&r, "cook").await;
    let item = create(
        &app,
        &r,
        "/v1/menu/items",
        json!({"name": "Mango sticky rice", "price": 8000, "stock": 3}),
    )
    .await;
    let stock_path = format!("/v1/menu/items/{}/stock", id(&item));
    // Five cooks take one each at once: exactly three succeed.
    let take = || {
        app.call(
            Method::POST,
            &stock_path,
            Some(&cook.access),
            Some(json!({"delta": -1})),
        )
    };
    let (a, b, c, d, e) = tokio::join!(take(), take(), take(), take(), take());
    let replies = [a, b, c, d, e];
    let ok = replies.iter().filter(|r| r.status == 200).count();
    assert_eq!(ok, 3, "{replies:?}");
    for reply in replies.iter().filter(|r| r.status != 200) {
        reply.assert_problem(409, "insufficient_stock");
    }
    let now = get(&app, &token, &format!("/v1/menu/items/{}", id(&item))).await;
    assert_eq!(now["stock"], 0);
    assert_eq!(now["version"], 1);
    let menu = get(&app, &token, "/v1/menu").await;
    assert!(
        menu["items"].as_array().unwrap().is_empty(),
        "sold out is hidden"
    );
    app.call(
        Method::POST,
        &stock_path,
        Some(&token),
        Some(json!({"delta": -1})),
    )
    .await
    .assert_problem(409, "insufficient_stock");
    // Set by PATCH, then stop counting.
    let set = app
        .call(
            Method::PATCH,
            &format!("/v1/menu/items/{}", id(&item)),
            Some(&token),
            Some(json!({"stock": 10})),
        )
        .await;
    assert_eq!(set.expect(200)["stock"], 10);
    let untracked = app
        .call(
            Method::PATCH,
            &format!("/v1/menu/items/{}", id(&item)),
            Some(&token),
            Some(json!({"stock": null})),
        )
        .await;
    assert!(untracked.expect(200).get("stock").is_none());
    app.call(
        Method::POST,
        &stock_path,
        Some(&token),
        Some(json!({"delta": 1})),
    )
    .await
    .assert_problem(409, "stock_not_tracked");
    let menu = get(&app, &token, "/v1/menu").await;
    assert_eq!(names(&menu["items"]), ["Mango sticky rice"]);
}
