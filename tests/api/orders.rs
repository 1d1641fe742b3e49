//! Orders end to end: priced by the server, idempotent placement, stock, every role's moves,
//! races, payments and their replays, queues, and events that match their schemas.

use fanorder_blackbox::{Account, Restaurant, TestApp, unique};
use reqwest::Method;
use serde_json::{Value, json};

crate::on_both_stores!(orders:
    an_order_is_priced_by_the_server_from_the_menu,
    the_same_idempotency_key_returns_the_same_order,
    stock_runs_out_with_a_409_naming_the_item_and_cancelling_gives_it_back,
    bad_lines_are_refused_naming_the_line,
    the_kitchen_moves_a_delivery_through_every_status,
    a_pickup_is_picked_up_not_delivered,
    each_role_may_make_only_its_moves,
    a_stale_version_is_a_409,
    twenty_concurrent_moves_one_wins,
    a_customer_cancels_only_their_own_unpaid_order,
    a_payment_pays_once_however_often_it_is_replayed,
    a_wrong_amount_is_refused_and_recorded,
    queues_are_oldest_first_and_a_customers_orders_newest_first,
    cash_orders_go_straight_to_the_kitchen,
    every_event_matches_its_schema,
);

/// A restaurant with one of each staff role, a customer and a menu.
pub struct Kitchen {
    pub r: Restaurant,
    pub cook: Account,
    pub packer: Account,
    pub driver: Account,
    pub customer: Account,
    /// Pad thai: 120.00 with a required size (regular +0, large +20.00) and up to 2 extras (+10.00 each).
    pub pad_thai: Value,
    /// Coke: 30.00, no modifiers.
    pub coke: Value,
}

impl Kitchen {
    pub async fn open(app: &TestApp) -> Kitchen {
        let r = app.signup().await;
        let cook = app.add_staff(&r, "cook").await;
        let packer = app.add_staff(&r, "packer").await;
        let driver = app.add_staff(&r, "driver").await;
        let customer = app.register_customer(&r).await;
        let pad_thai = item(app, &r, json!({
            "name": "Pad thai", "price": 12000,
            "modifier_groups": [
                {"name": "Size", "min": 1, "max": 1, "options": [{"name": "Regular", "price_delta": 0}, {"name": "Large", "price_delta": 2000}]},
                {"name": "Extras", "min": 0, "max": 2, "options": [{"name": "Egg", "price_delta": 1000}, {"name": "Shrimp", "price_delta": 1000}, {"name": "Tofu", "price_delta": 1000}]}
            ],
            "keywords": {"en": ["pad thai"], "th": ["ผัดไทย"]}
        }))
        .await;
        let coke = item(app, &r, json!({"name": "Coke", "price": 3000})).await;
        Kitchen {
            r,
            cook,
            packer,
            driver,
            customer,
            pad_thai,
            coke,
        }
    }

    pub fn option(&self, group: usize, option: usize) -> String {
        self.pad_thai["modifier_groups"][group]["options"][option]["id"]
            .as_str()
            .unwrap()
            .to_owned()
    }

    pub fn id(item: &Value) -> String {
        item["id"].as_str().unwrap().to_owned()
    }

    /// A delivery of one regular pad thai, as the customer.
    pub async fn order(&self, app: &TestApp) -> Value {
        let body = json!({
            "fulfillment": "delivery", "address": {"line1": "12 Sukhumvit"},
            "lines": [{"item_id": Self::id(&self.pad_thai), "quantity": 1, "modifiers": [self.option(0, 0)]}]
        });
        app.call(
            Method::POST,
            "/v1/orders",
            Some(&self.customer.access),
            Some(body),
        )
        .await
        .expect(201)
        .clone()
    }
}

pub async fn item(app: &TestApp, r: &Restaurant, body: Value) -> Value {
    app.call(
        Method::POST,
        "/v1/menu/items",
        Some(&r.admin.access),
        Some(body),
    )
    .await
    .expect(201)
    .clone()
}

pub async fn step(app: &TestApp, token: &str, order: &Value, to: &str) -> Value {
    let path = format!("/v1/orders/{}/transitions", order["id"].as_str().unwrap());
    let body = json!({"to": to, "version": order["version"]});
    app.call(Method::POST, &path, Some(token), Some(body))
        .await
        .expect(200)
        .clone()
}

pub async fn pay(
    app: &TestApp,
    r: &Restaurant,
    order: &Value,
    amount: i64,
    payment_id: &str,
) -> fanorder_blackbox::Reply {
    let body = serde_json::to_vec(&json!({
        "payment_id": payment_id, "order_id": order["id"], "tenant_id": r.id,
        "amount": amount, "currency": order["currency"], "status": "approved"
    }))
    .unwrap();
    let signature = app.mock_payments().sign(&body);
    let response = app
        .http
        .post(app.url("/v1/payments/mock/webhook"))
        .header("content-type", "application/json")
        .header("x-mock-signature", signature)
        .body(body)
        .send()
        .await
        .unwrap();
    let status = response.status().as_u16();
    let headers = response.headers().clone();
    let text = response.text().await.unwrap();
    fanorder_blackbox::Reply {
        status,
        headers,
        body: serde_json::from_str(&text).unwrap_or(Value::Null),
        text,
    }
}

async fn an_order_is_priced_by_the_server_from_the_menu(app: TestApp) {
    let k = Kitchen::open(&app).await;
    let body = json!({
        "fulfillment": "delivery", "address": {"line1": "12 Sukhumvit", "city": "Bangkok"}, "phone": "+66 81 234 5678",
        "note": "no peanuts",
        "lines": [
            {"item_id": Kitchen::id(&k.pad_thai), "quantity": 2, "modifiers": [k.option(0, 1), k.option(1, 0), k.option(1, 1)], "unit_price": 1},
            {"item_id": Kitchen::id(&k.coke), "quantity": 3, "price": 0}
        ],
        "total": 5
    });
    let order = app
        .call(
            Method::POST,
            "/v1/orders",
            Some(&k.customer.access),
            Some(body),
        )
        .await;
    let order = order.expect(201);
    // (120 + 20 + 10 + 10) * 2 + 30 * 3 = 320 + 90 = 410.00
    assert_eq!(order["lines"][0]["unit_price"], 16000);
    assert_eq!(order["lines"][0]["line_total"], 32000);
    assert_eq!(order["lines"][0]["modifiers"].as_array().unwrap().len(), 3);
    assert_eq!(order["lines"][1]["line_total"], 9000);
    assert_eq!(order["subtotal"], 41000);
    assert_eq!(order["total"], 41000);
    assert_eq!(order["currency"], "THB");
    assert_eq!(order["status"], "PENDING_PAYMENT");
    assert_eq!(order["version"], 1);
    assert_eq!(order["number"], 1);
    assert_eq!(order["customer_id"], k.customer.id);
    // A later price change never changes a placed order.
    app.call(
        Method::PATCH,
        &format!("/v1/menu/items/{}", Kitchen::id(&k.coke)),
        Some(&k.r.admin.access),
        Some(json!({"price": 9900})),
    )
    .await
    .expect(200);
    let again = app
        .call(
            Method::GET,
            &format!("/v1/orders/{}", order["id"].as_str().unwrap()),
            Some(&k.customer.access),
            None,
        )
        .await;
    assert_eq!(again.expect(200)["total"], 41000);
    let second = k.order(&app).await;
    assert_eq!(second["number"], 2, "numbers count up per day");
}

async fn the_same_idempotency_key_returns_the_same_order(app: TestApp) {
    let k = Kitchen::open(&app).await;
    let body = json!({"fulfillment": "pickup", "lines": [{"item_id": Kitchen::id(&k.coke), "quantity": 1}]});
    let key = format!("key-{}", unique());
    let send = |body: Value| {
        let request = app
            .http
            .post(app.url("/v1/orders"))
            .bearer_auth(&k.customer.access)
            .header("idempotency-key", key.clone())
            .json(&body);
        async move { request.send().await.unwrap() }
    };
    let first = send(body.clone()).await;
    assert_eq!(first.status(), 201);
    let first: Value = first.json().await.unwrap();
    let second = send(body.clone()).await;
    assert_eq!(second.status(), 201);
    assert_eq!(second.headers()["idempotent-replayed"], "true");
    let second: Value = second.json().await.unwrap();
    assert_eq!(first["id"], second["id"]);
    let mut other = body;
    other["lines"][0]["quantity"] = json!(2);
    let conflict = send(other).await;
    assert_eq!(conflict.status(), 409);
    let problem: Value = conflict.json().await.unwrap();
    assert_eq!(problem["code"], "idempotency_key_reused");
    let mine = app
        .call(Method::GET, "/v1/me/orders", Some(&k.customer.access), None)
        .await;
    assert_eq!(
        mine.expect(200)["items"].as_array().unwrap().len(),
        1,
        "one order, not two"
    );
}

async fn stock_runs_out_with_a_409_naming_the_item_and_cancelling_gives_it_back(app: TestApp) {
    let k = Kitchen::open(&app).await;
    let soup = item(
        &app,
        &k.r,
        json!({"name": "Tom yum", "price": 9000, "stock": 3}),
    )
    .await;
    let order = |quantity: i64| json!({"fulfillment": "pickup", "lines": [{"item_id": Kitchen::id(&soup), "quantity": quantity}, {"item_id": Kitchen::id(&k.coke), "quantity": 1}]});
    let two = app
        .call(
            Method::POST,
            "/v1/orders",
            Some(&k.customer.access),
            Some(order(2)),
        )
        .await
        .expect(201)
        .clone();
    let refused = app
        .call(
            Method::POST,
            "/v1/orders",
            Some(&k.customer.access),
            Some(order(2)),
        )
        .await;
    refused.assert_problem(409, "insufficient_stock");
    assert!(refused.body["detail"].as_str().unwrap().contains("Tom yum"));
    let left = app
        .call(
            Method::GET,
            &format!("/v1/menu/items/{}", Kitchen::id(&soup)),
            Some(&k.r.admin.access),
            None,
        )
        .await;
    assert_eq!(
        left.expect(200)["stock"],
        1,
        "the refused order took nothing"
    );
    app.call(
        Method::POST,
        "/v1/orders",
        Some(&k.customer.access),
        Some(order(1)),
    )
    .await
    .expect(201);
    let zero = app
        .call(
            Method::GET,
            &format!("/v1/menu/items/{}", Kitchen::id(&soup)),
            Some(&k.r.admin.access),
            None,
        )
        .await;
    assert_eq!(zero.expect(200)["stock"], 0);
    // Cancelling gives the stock back.
    step(&app, &k.customer.access, &two, "CANCELLED").await;
    let back = app
        .call(
            Method::GET,
            &format!("/v1/menu/items/{}", Kitchen::id(&soup)),
            Some(&k.r.admin.access),
            None,
        )
        .await;
    assert_eq!(back.expect(200)["stock"], 2);
}

async fn bad_lines_are_refused_naming_the_line(app: TestApp) {
    let k = Kitchen::open(&app).await;
    let other = app.signup().await;
    let foreign_item = item(&app, &other, json!({"name": "Their dish", "price": 100})).await;
    let foreign_location = app
        .call(
            Method::POST,
            "/v1/locations",
            Some(&other.admin.access),
            Some(json!({"name": "Theirs", "address": "x"})),
        )
        .await
        .expect(201)
        .clone();
    let pad = Kitchen::id(&k.pad_thai);
    let cases: Vec<(Value, &str)> = vec![
        (
            json!({"fulfillment": "pickup", "lines": [{"item_id": fanorder_platform::id::new_ulid().to_string(), "quantity": 1}]}),
            "lines[0].item_id",
        ),
        (
            json!({"fulfillment": "pickup", "lines": [{"item_id": Kitchen::id(&foreign_item), "quantity": 1}]}),
            "lines[0].item_id",
        ),
        (
            json!({"fulfillment": "pickup", "lines": [{"item_id": pad, "quantity": 0, "modifiers": [k.option(0, 0)]}]}),
            "lines[0].quantity",
        ),
        (
            json!({"fulfillment": "pickup", "lines": [{"item_id": pad, "quantity": 100, "modifiers": [k.option(0, 0)]}]}),
            "lines[0].quantity",
        ),
        (
            json!({"fulfillment": "pickup", "lines": [{"item_id": pad, "quantity": 1}]}),
            "lines[0].modifiers",
        ),
        (
            json!({"fulfillment": "pickup", "lines": [{"item_id": pad, "quantity": 1, "modifiers": [k.option(0, 0), k.option(0, 1)]}]}),
            "lines[0].modifiers",
        ),
        (
            json!({"fulfillment": "pickup", "lines": [{"item_id": pad, "quantity": 1, "modifiers": [k.option(0, 0), k.option(1, 0), k.option(1, 1), k.option(1, 2)]}]}),
            "lines[0].modifiers",
        ),
        (
            json!({"fulfillment": "delivery", "lines": [{"item_id": Kitchen::id(&k.coke), "quantity": 1}]}),
            "address",
        ),
        (
            json!({"fulfillment": "drone", "lines": [{"item_id": Kitchen::id(&k.coke), "quantity": 1}]}),
            "fulfillment",
        ),
        (json!({"fulfillment": "pickup", "lines": []}), "lines"),
        (json!({"fulfillment": "pickup"}), "lines"),
        (
            json!({"fulfillment": "pickup", "location_id": foreign_location["id"], "lines": [{"item_id": Kitchen::id(&k.coke), "quantity": 1}]}),
            "location_id",
        ),
        (
            json!({"fulfillment": "pickup", "lines": [{"item_id": Kitchen::id(&k.coke), "combo_id": Kitchen::id(&k.coke), "quantity": 1}]}),
            "lines[0]",
        ),
    ];
    for (body, field) in cases {
        let reply = app
            .call(
                Method::POST,
                "/v1/orders",
                Some(&k.customer.access),
                Some(body.clone()),
            )
            .await;
        reply.assert_problem(422, "validation_failed");
        let fields: Vec<&str> = reply.body["errors"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["field"].as_str().unwrap())
            .collect();
        assert!(
            fields.contains(&field),
            "{body}: expected {field}, got {fields:?}"
        );
    }
    let mine = app
        .call(Method::GET, "/v1/me/orders", Some(&k.customer.access), None)
        .await;
    assert!(
        mine.expect(200)["items"].as_array().unwrap().is_empty(),
        "no refused order was stored"
    );
    // Staff other than admins cannot place orders.
    let body = json!({"fulfillment": "pickup", "lines": [{"item_id": Kitchen::id(&k.coke), "quantity": 1}]});
    app.call(Method::POST, "/v1/orders", Some(&k.cook.access), Some(body))
        .await
        .assert_problem(403, "forbidden");
}

async fn the_kitchen_moves_a_delivery_through_every_status(app: TestApp) {
    let k = Kitchen::open(&app).await;
    let order = k.order(&app).await;
    let paid = step(&app, &k.r.admin.access, &order, "PAID").await;
    assert_eq!(paid["payment"]["status"], "paid");
    let cooking = step(&app, &k.cook.access, &paid, "IN_KITCHEN").await;
    let ready = step(&app, &k.cook.access, &cooking, "READY").await;
    let out = step(&app, &k.packer.access, &ready, "OUT_FOR_DELIVERY").await;
    let done = step(&app, &k.driver.access, &out, "DELIVERED").await;
    assert_eq!(done["status"], "DELIVERED");
    assert_eq!(done["version"], 6);
    let history = app
        .call(
            Method::GET,
            &format!("/v1/orders/{}/history", order["id"].as_str().unwrap()),
            Some(&k.customer.access),
            None,
        )
        .await;
    let moves: Vec<(Value, Value, Value)> = history.expect(200)["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| (h["from"].clone(), h["to"].clone(), h["role"].clone()))
        .collect();
    assert_eq!(
        moves,
        vec![
            (Value::Null, json!("PENDING_PAYMENT"), json!("customer")),
            (json!("PENDING_PAYMENT"), json!("PAID"), json!("admin")),
            (json!("PAID"), json!("IN_KITCHEN"), json!("cook")),
            (json!("IN_KITCHEN"), json!("READY"), json!("cook")),
            (json!("READY"), json!("OUT_FOR_DELIVERY"), json!("packer")),
            (
                json!("OUT_FOR_DELIVERY"),
                json!("DELIVERED"),
                json!("driver")
            ),
        ]
    );
}

async fn a_pickup_is_picked_up_not_delivered(app: TestApp) {
    let k = Kitchen::open(&app).await;
    let body = json!({"fulfillment": "pickup", "payment_method": "cash", "lines": [{"item_id": Kitchen::id(&k.coke), "quantity": 1}]});
    let order = app
        .call(
            Method::POST,
            "/v1/orders",
            Some(&k.customer.access),
            Some(body),
        )
        .await
        .expect(201)
        .clone();
    let cooking = step(&app, &k.cook.access, &order, "IN_KITCHEN").await;
    let ready = step(&app, &k.cook.access, &cooking, "READY").await;
    let path = format!("/v1/orders/{}/transitions", ready["id"].as_str().unwrap());
    app.call(
        Method::POST,
        &path,
        Some(&k.packer.access),
        Some(json!({"to": "OUT_FOR_DELIVERY", "version": ready["version"]})),
    )
    .await
    .assert_problem(409, "illegal_transition");
    let picked = step(&app, &k.packer.access, &ready, "PICKED_UP").await;
    assert_eq!(picked["status"], "PICKED_UP");
}

async fn each_role_may_make_only_its_moves(app: TestApp) {
    let k = Kitchen::open(&app).await;
    let order = k.order(&app).await;
    let path = format!("/v1/orders/{}/transitions", order["id"].as_str().unwrap());
    let attempt = |token: &str, to: &str, version: &Value| {
        let body = json!({"to": to, "version": version});
        let token = token.to_owned();
        let path = path.clone();
        let app = &app;
        async move {
            app.call(Method::POST, &path, Some(&token), Some(body))
                .await
        }
    };
    // Waiting for payment: a cook cannot mark it paid; nobody can skip to the kitchen.
    attempt(&k.cook.access, "PAID", &order["version"])
        .await
        .assert_problem(403, "forbidden");
    attempt(&k.r.admin.access, "IN_KITCHEN", &order["version"])
        .await
        .assert_problem(409, "illegal_transition");
    attempt(&k.customer.access, "PAID", &order["version"])
        .await
        .assert_problem(403, "forbidden");
    let paid = step(&app, &k.r.admin.access, &order, "PAID").await;
    attempt(&k.driver.access, "IN_KITCHEN", &paid["version"])
        .await
        .assert_problem(403, "forbidden");
    attempt(&k.packer.access, "IN_KITCHEN", &paid["version"])
        .await
        .assert_problem(403, "forbidden");
    attempt(&k.customer.access, "CANCELLED", &paid["version"])
        .await
        .assert_problem(403, "forbidden");
    let cooking = step(&app, &k.cook.access, &paid, "IN_KITCHEN").await;
    attempt(&k.cook.access, "DELIVERED", &cooking["version"])
        .await
        .assert_problem(409, "illegal_transition");
    let ready = step(&app, &k.cook.access, &cooking, "READY").await;
    attempt(&k.cook.access, "OUT_FOR_DELIVERY", &ready["version"])
        .await
        .assert_problem(403, "forbidden");
    attempt(&k.r.admin.access, "CANCELLED", &ready["version"])
        .await
        .assert_problem(409, "illegal_transition");
    let out = step(&app, &k.packer.access, &ready, "OUT_FOR_DELIVERY").await;
    attempt(&k.cook.access, "DELIVERED", &out["version"])
        .await
        .assert_problem(403, "forbidden");
    attempt(&k.r.admin.access, "NOT_A_STATUS", &out["version"])
        .await
        .assert_problem(422, "validation_failed");
    let now = app
        .call(
            Method::GET,
            &format!("/v1/orders/{}", order["id"].as_str().unwrap()),
            Some(&k.r.admin.access),
            None,
        )
        .await;
    assert_eq!(
        now.expect(200)["status"],
        "OUT_FOR_DELIVERY",
        "refused moves changed nothing"
    );
}

async fn a_stale_version_is_a_409(app: TestApp) {
    let k = Kitchen::open(&app).await;
    let order = k.order(&app).await;
    let paid = step(&app, &k.r.admin.access, &order, "PAID").await;
    let path = format!("/v1/orders/{}/transitions", order["id"].as_str().unwrap());
    let stale = app
        .call(
            Method::POST,
            &path,
            Some(&k.cook.access),
            Some(json!({"to": "IN_KITCHEN", "version": order["version"]})),
        )
        .await;
    stale.assert_problem(409, "version_conflict");
    step(&app, &k.cook.access, &paid, "IN_KITCHEN").await;
}

async fn twenty_concurrent_moves_one_wins(app: TestApp) {
    let k = Kitchen::open(&app).await;
    let order = k.order(&app).await;
    let paid = step(&app, &k.r.admin.access, &order, "PAID").await;
    let path = format!("/v1/orders/{}/transitions", order["id"].as_str().unwrap());
    let body = json!({"to": "IN_KITCHEN", "version": paid["version"]});
    let attempts = (0..20).map(|_| {
        app.call(
            Method::POST,
            &path,
            Some(&k.cook.access),
            Some(body.clone()),
        )
    });
    let replies = futures::future::join_all(attempts).await;
    let wins = replies.iter().filter(|r| r.status == 200).count();
    assert_eq!(
        wins,
        1,
        "{:?}",
        replies.iter().map(|r| r.status).collect::<Vec<_>>()
    );
    for reply in replies.iter().filter(|r| r.status != 200) {
        reply.assert_problem(409, "version_conflict");
    }
    let history = app
        .call(
            Method::GET,
            &format!("/v1/orders/{}/history", order["id"].as_str().unwrap()),
            Some(&k.r.admin.access),
            None,
        )
        .await;
    let into_kitchen = history.expect(200)["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|h| h["to"] == "IN_KITCHEN")
        .count();
    assert_eq!(into_kitchen, 1, "one move in the history");
}

async fn a_customer_cancels_only_their_own_unpaid_order(app: TestApp) {
    let k = Kitchen::open(&app).await;
    let order = k.order(&app).await;
    let other_customer = app.register_customer(&k.r).await;
    let path = format!("/v1/orders/{}", order["id"].as_str().unwrap());
    app.call(Method::GET, &path, Some(&other_customer.access), None)
        .await
        .assert_problem(404, "not_found");
    let cancel =
        json!({"to": "CANCELLED", "version": order["version"], "reason": "changed my mind"});
    app.call(
        Method::POST,
        &format!("{path}/transitions"),
        Some(&other_customer.access),
        Some(cancel.clone()),
    )
    .await
    .assert_problem(404, "not_found");
    let cancelled = app
        .call(
            Method::POST,
            &format!("{path}/transitions"),
            Some(&k.customer.access),
            Some(cancel),
        )
        .await;
    assert_eq!(cancelled.expect(200)["status"], "CANCELLED");
    let history = app
        .call(
            Method::GET,
            &format!("{path}/history"),
            Some(&k.customer.access),
            None,
        )
        .await;
    assert_eq!(history.expect(200)["items"][1]["reason"], "changed my mind");
}

async fn a_payment_pays_once_however_often_it_is_replayed(app: TestApp) {
    let k = Kitchen::open(&app).await;
    let order = k.order(&app).await;
    let amount = order["total"].as_i64().unwrap();
    let payment_id = format!("pay-{}", unique());
    for _ in 0..3 {
        let reply = pay(&app, &k.r, &order, amount, &payment_id).await;
        assert_eq!(reply.expect(200)["result"], "applied");
    }
    let path = format!("/v1/orders/{}", order["id"].as_str().unwrap());
    let paid = app
        .call(Method::GET, &path, Some(&k.customer.access), None)
        .await
        .expect(200)
        .clone();
    assert_eq!(paid["status"], "PAID");
    assert_eq!(paid["version"], 2, "paid exactly once");
    assert_eq!(paid["payment"]["payment_id"], payment_id);
    // Another payment for the same order is refused, not applied twice.
    let second = pay(&app, &k.r, &order, amount, &format!("pay-{}", unique())).await;
    second.assert_problem(409, "order_not_payable");
    // Forged or missing signatures are 401 and change nothing.
    let body = serde_json::to_vec(&json!({"payment_id": "x", "order_id": order["id"], "tenant_id": k.r.id, "amount": amount, "currency": "THB", "status": "approved"})).unwrap();
    let forged = app
        .http
        .post(app.url("/v1/payments/mock/webhook"))
        .header("content-type", "application/json")
        .header("x-mock-signature", "sha256=00")
        .body(body.clone())
        .send()
        .await
        .unwrap();
    assert_eq!(forged.status(), 401);
    let unsigned = app
        .http
        .post(app.url("/v1/payments/mock/webhook"))
        .body(body)
        .send()
        .await
        .unwrap();
    assert_eq!(unsigned.status(), 401);
    let unknown = app
        .http
        .post(app.url("/v1/payments/paypal/webhook"))
        .body("{}")
        .send()
        .await
        .unwrap();
    assert_eq!(unknown.status(), 404);
}

async fn a_wrong_amount_is_refused_and_recorded(app: TestApp) {
    let k = Kitchen::open(&app).await;
    let order = k.order(&app).await;
    let payment_id = format!("pay-{}", unique());
    let wrong = pay(&app, &k.r, &order, 1, &payment_id).await;
    wrong.assert_problem(409, "amount_mismatch");
    // The replay gets the same answer, even with the right amount: the id was used.
    let replay = pay(
        &app,
        &k.r,
        &order,
        order["total"].as_i64().unwrap(),
        &payment_id,
    )
    .await;
    replay.assert_problem(409, "amount_mismatch");
    let path = format!("/v1/orders/{}", order["id"].as_str().unwrap());
    assert_eq!(
        app.call(Method::GET, &path, Some(&k.customer.access), None)
            .await
            .expect(200)["status"],
        "PENDING_PAYMENT"
    );
    let events = app
        .call(
            Method::GET,
            "/v1/events?limit=100",
            Some(&k.r.admin.access),
            None,
        )
        .await;
    let rejected = events.expect(200)["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["event_type"] == "payment.rejected")
        .count();
    assert_eq!(rejected, 1, "recorded once");
}

async fn queues_are_oldest_first_and_a_customers_orders_newest_first(app: TestApp) {
    let k = Kitchen::open(&app).await;
    let mut ids = Vec::new();
    for _ in 0..3 {
        let order = k.order(&app).await;
        step(&app, &k.r.admin.access, &order, "PAID").await;
        ids.push(order["id"].as_str().unwrap().to_owned());
    }
    let queue = app
        .call(
            Method::GET,
            "/v1/orders?status=PAID",
            Some(&k.cook.access),
            None,
        )
        .await;
    let queued: Vec<&str> = queue.expect(200)["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| o["id"].as_str().unwrap())
        .collect();
    assert_eq!(queued, ids, "oldest first");
    let page = app
        .call(
            Method::GET,
            "/v1/orders?status=PAID&limit=2",
            Some(&k.cook.access),
            None,
        )
        .await
        .expect(200)
        .clone();
    let cursor = page["next_cursor"].as_str().unwrap();
    let rest = app
        .call(
            Method::GET,
            &format!("/v1/orders?status=PAID&limit=2&cursor={cursor}"),
            Some(&k.cook.access),
            None,
        )
        .await;
    assert_eq!(rest.expect(200)["items"][0]["id"], ids[2]);
    let mine = app
        .call(Method::GET, "/v1/me/orders", Some(&k.customer.access), None)
        .await;
    let newest: Vec<&str> = mine.expect(200)["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| o["id"].as_str().unwrap())
        .collect();
    let mut reversed = ids.clone();
    reversed.reverse();
    assert_eq!(newest, reversed);
    app.call(
        Method::GET,
        "/v1/orders?status=READY",
        Some(&k.cook.access),
        None,
    )
    .await
    .expect(200);
    app.call(Method::GET, "/v1/orders", Some(&k.cook.access), None)
        .await
        .assert_problem(422, "validation_failed");
    app.call(
        Method::GET,
        "/v1/orders?status=LOST",
        Some(&k.cook.access),
        None,
    )
    .await
    .assert_problem(422, "validation_failed");
    app.call(
        Method::GET,
        "/v1/orders?status=PAID",
        Some(&k.customer.access),
        None,
    )
    .await
    .assert_problem(403, "forbidden");
    // Per location.
    let location = app
        .call(
            Method::POST,
            "/v1/locations",
            Some(&k.r.admin.access),
            Some(json!({"name": "Silom", "address": "1 Silom Rd"})),
        )
        .await
        .expect(201)
        .clone();
    let there = k.order(&app).await;
    assert_eq!(
        there["location_id"], location["id"],
        "the only location is the default"
    );
    step(&app, &k.r.admin.access, &there, "PAID").await;
    let local = app
        .call(
            Method::GET,
            &format!(
                "/v1/orders?status=PAID&location_id={}",
                location["id"].as_str().unwrap()
            ),
            Some(&k.cook.access),
            None,
        )
        .await;
    let local: Vec<&str> = local.expect(200)["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| o["id"].as_str().unwrap())
        .collect();
    assert_eq!(local, [there["id"].as_str().unwrap()]);
}

async fn cash_orders_go_straight_to_the_kitchen(app: TestApp) {
    let k = Kitchen::open(&app).await;
    let body = json!({"fulfillment": "delivery", "payment_method": "cash", "address": {"line1": "x"}, "lines": [{"item_id": Kitchen::id(&k.coke), "quantity": 2}]});
    let order = app
        .call(
            Method::POST,
            "/v1/orders",
            Some(&k.customer.access),
            Some(body),
        )
        .await
        .expect(201)
        .clone();
    assert_eq!(order["status"], "PAID");
    assert_eq!(order["payment"]["method"], "cash");
    assert_eq!(order["payment"]["status"], "due");
    let queue = app
        .call(
            Method::GET,
            "/v1/orders?status=PAID",
            Some(&k.cook.access),
            None,
        )
        .await;
    assert_eq!(queue.expect(200)["items"][0]["id"], order["id"]);
}

async fn every_event_matches_its_schema(app: TestApp) {
    let k = Kitchen::open(&app).await;
    let order = k.order(&app).await;
    let paid = pay(
        &app,
        &k.r,
        &order,
        order["total"].as_i64().unwrap(),
        &format!("p-{}", unique()),
    )
    .await;
    paid.expect(200);
    let now = app
        .call(
            Method::GET,
            &format!("/v1/orders/{}", order["id"].as_str().unwrap()),
            Some(&k.r.admin.access),
            None,
        )
        .await
        .expect(200)
        .clone();
    let cooking = step(&app, &k.cook.access, &now, "IN_KITCHEN").await;
    step(&app, &k.r.admin.access, &cooking, "CANCELLED").await;
    pay(
        &app,
        &k.r,
        &k.order(&app).await,
        1,
        &format!("p-{}", unique()),
    )
    .await
    .assert_problem(409, "amount_mismatch");
    let events = app
        .call(
            Method::GET,
            "/v1/events?limit=100",
            Some(&k.r.admin.access),
            None,
        )
        .await
        .expect(200)
        .clone();
    let events = events["items"].as_array().unwrap();
    let mut types: Vec<&str> = events
        .iter()
        .map(|e| e["event_type"].as_str().unwrap())
        .collect();
    for event in events {
        let event: fanorder_events::Event = serde_json::from_value(event.clone()).unwrap();
        if let Err(errors) = fanorder_events::schema::validate(&event) {
            panic!("{} does not match its schema: {errors:?}", event.event_type);
        }
    }
    types.sort_unstable();
    types.dedup();
    for expected in [
        "tenant.created",
        "staff.added",
        "order.placed",
        "order.paid",
        "order.status_changed",
        "order.cancelled",
        "payment.rejected",
    ] {
        assert!(types.contains(&expected), "no {expected} in {types:?}");
    }
    // Oldest first, one order's events in sequence.
    let sequences: Vec<i64> = events
        .iter()
        .filter(|e| e["data"]["order_id"] == order["id"] || e["data"]["order"]["id"] == order["id"])
        .filter_map(|e| e["sequence"].as_i64())
        .collect();
    assert_eq!(sequences, [1, 2, 3, 4]);
}
