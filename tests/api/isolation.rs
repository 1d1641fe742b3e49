//! Tenant isolation, proven on every route of the contract: with restaurant B's staff and
//! customer tokens, try every operation in the OpenAPI document against restaurant A's
//! resources. Every answer must be 404 (or 403 for a role), never A's data, and A's data must be
//! unchanged afterwards. New routes are picked up from the document by themselves; a route with
//! a path parameter this test has no value for fails the test until one is added below.

use fanorder_blackbox::{Account, Restaurant, TestApp};
use reqwest::Method;
use serde_json::Value;

crate::on_both_stores!(isolation:
    another_restaurant_cannot_read_or_change_anything_on_any_route,
);

/// Restaurant A (the victim) and restaurant B (the caller).
struct World {
    a: Restaurant,
    a_cook: Account,
    a_customer: Account,
    b: Restaurant,
    b_customer: Account,
    a_menu: MenuOfA,
    a_order: String,
    /// A's Facebook page, with a conversation of customer `A_PSID`.
    a_page: String,
}

/// The customer who talked to A's page.
const A_PSID: &str = "8001";

/// Ids of A's menu entries and location.
struct MenuOfA {
    category: String,
    item: String,
    combo: String,
    location: String,
}

impl MenuOfA {
    /// A category, an item in it (counted stock, modifiers), a combo of it, and a location.
    async fn create(app: &TestApp, a: &Restaurant) -> MenuOfA {
        let admin = Some(a.admin.access.as_str());
        let post = |path: &'static str, body: Value| async move {
            let reply = app.call(Method::POST, path, admin, Some(body)).await;
            reply.expect(201)["id"].as_str().unwrap().to_owned()
        };
        let category = post(
            "/v1/menu/categories",
            serde_json::json!({"name": "A's noodles"}),
        )
        .await;
        let item = post(
            "/v1/menu/items",
            serde_json::json!({"name": "A's pad thai", "price": 12000, "stock": 5, "category_id": category,
                "modifier_groups": [{"name": "Size", "min": 1, "max": 1, "options": [{"name": "Large", "price_delta": 2000}]}]}),
        )
        .await;
        let combo = post(
            "/v1/menu/combos",
            serde_json::json!({"name": "A's set", "price": 100, "category_id": category,
                "components": [{"kind": "choice", "name": "Main", "item_ids": [item]}]}),
        )
        .await;
        let location = post(
            "/v1/locations",
            serde_json::json!({"name": "A's branch", "address": "1 A Street"}),
        )
        .await;
        MenuOfA {
            category,
            item,
            combo,
            location,
        }
    }
}

impl World {
    /// A's resource for a path parameter of a route template.
    fn value(&self, template: &str, param: &str) -> Option<String> {
        match (template, param) {
            ("/v1/staff/{id}", "id") => Some(self.a_cook.id.clone()),
            ("/v1/menu/categories/{id}", "id") => Some(self.a_menu.category.clone()),
            ("/v1/menu/items/{id}" | "/v1/menu/items/{id}/stock", "id") => {
                Some(self.a_menu.item.clone())
            }
            ("/v1/menu/combos/{id}", "id") => Some(self.a_menu.combo.clone()),
            ("/v1/locations/{id}", "id") => Some(self.a_menu.location.clone()),
            (
                "/v1/orders/{id}"
                | "/v1/orders/{id}/history"
                | "/v1/orders/{id}/transitions"
                | "/v1/orders/{id}/receipt",
                "id",
            ) => Some(self.a_order.clone()),
            (template, "page_id") if template.starts_with("/v1/pages/") => {
                Some(self.a_page.clone())
            }
            (template, "psid") if template.starts_with("/v1/pages/") => Some(A_PSID.to_owned()),
            _ => None,
        }
    }

    /// Strings that must never appear in an answer to B.
    fn secrets_of_a(&self) -> Vec<&str> {
        vec![
            &self.a.id,
            &self.a.slug,
            &self.a.admin.id,
            &self.a.admin.email,
            &self.a_cook.id,
            &self.a_cook.email,
            &self.a_customer.id,
            &self.a_customer.email,
            &self.a_menu.category,
            &self.a_menu.item,
            &self.a_menu.combo,
            &self.a_menu.location,
            &self.a_order,
            &self.a_page,
            "A's ",
        ]
    }
}

/// Everything A's own accounts can see, to compare before and after.
async fn snapshot(app: &TestApp, world: &World) -> Value {
    let admin = Some(world.a.admin.access.as_str());
    let tenant = app
        .call(Method::GET, "/v1/tenant", admin, None)
        .await
        .expect(200)
        .clone();
    let staff = app
        .call(Method::GET, "/v1/staff?limit=100", admin, None)
        .await
        .expect(200)
        .clone();
    let cook = app
        .call(
            Method::GET,
            &format!("/v1/staff/{}", world.a_cook.id),
            admin,
            None,
        )
        .await
        .expect(200)
        .clone();
    let customer = app
        .call(Method::GET, "/v1/me", Some(&world.a_customer.access), None)
        .await
        .expect(200)
        .clone();
    let mut menu = serde_json::Map::new();
    for path in [
        "/v1/menu".to_owned(),
        "/v1/menu/categories?limit=100".to_owned(),
        "/v1/menu/items?limit=100".to_owned(),
        "/v1/menu/combos?limit=100".to_owned(),
        "/v1/locations?limit=100".to_owned(),
        format!("/v1/menu/categories/{}", world.a_menu.category),
        format!("/v1/menu/items/{}", world.a_menu.item),
        format!("/v1/menu/combos/{}", world.a_menu.combo),
        format!("/v1/locations/{}", world.a_menu.location),
        format!("/v1/orders/{}", world.a_order),
        format!("/v1/orders/{}/history", world.a_order),
        "/v1/orders?status=PENDING_PAYMENT".to_owned(),
        "/v1/events?limit=100".to_owned(),
        "/v1/pages".to_owned(),
        format!("/v1/pages/{}", world.a_page),
        format!("/v1/pages/{}/conversations", world.a_page),
        format!("/v1/pages/{}/conversations/{A_PSID}/messages", world.a_page),
    ] {
        let reply = app.call(Method::GET, &path, admin, None).await;
        menu.insert(path, reply.expect(200).clone());
    }
    serde_json::json!({"tenant": tenant, "staff": staff, "cook": cook, "customer": customer, "menu": menu})
}

fn example_body(spec: &Value, operation: &Value) -> Option<Value> {
    let content = operation.pointer("/requestBody/content/application~1json/schema")?;
    let schema = match content.get("$ref").and_then(Value::as_str) {
        Some(reference) => {
            let name = reference.rsplit('/').next()?;
            spec.pointer(&format!("/components/schemas/{name}"))?
        }
        None => content,
    };
    Some(
        schema
            .get("example")
            .cloned()
            .unwrap_or_else(|| serde_json::json!({})),
    )
}

async fn another_restaurant_cannot_read_or_change_anything_on_any_route(app: TestApp) {
    let a = app.signup().await;
    let a_cook = app.add_staff(&a, "cook").await;
    let a_customer = app.register_customer(&a).await;
    let b = app.signup().await;
    let b_customer = app.register_customer(&b).await;
    let a_menu = MenuOfA::create(&app, &a).await;
    let rice = app
        .call(
            Method::POST,
            "/v1/menu/items",
            Some(&a.admin.access),
            Some(serde_json::json!({"name": "A's rice", "price": 5000})),
        )
        .await
        .expect(201)["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let order =
        serde_json::json!({"fulfillment": "pickup", "lines": [{"item_id": rice, "quantity": 1}]});
    let a_order = app
        .call(
            Method::POST,
            "/v1/orders",
            Some(&a_customer.access),
            Some(order),
        )
        .await
        .expect(201)["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let a_page = app.connect_page(&a, None, serde_json::json!({})).await;
    let hello = fanorder_api::simulate::payload(
        &a_page,
        A_PSID,
        &fanorder_blackbox::Act::Text("A's customer says hi".to_owned()),
        jiff::Timestamp::now().as_millisecond(),
    );
    app.webhook(hello.to_string().as_bytes()).await.expect(200);
    assert!(app.inbox_drained().await);
    let world = World {
        a,
        a_cook,
        a_customer,
        b,
        b_customer,
        a_menu,
        a_order,
        a_page,
    };
    let before = snapshot(&app, &world).await;

    let spec = serde_json::to_value(fanorder_api::openapi::spec()).unwrap();
    let mut tried = 0;
    for (template, item) in spec["paths"].as_object().unwrap() {
        for (method, operation) in item.as_object().unwrap() {
            let Ok(method) = method.to_uppercase().parse::<Method>() else {
                continue;
            };
            let secured = operation
                .get("security")
                .and_then(Value::as_array)
                .is_some_and(|s| !s.is_empty());
            if !secured {
                // Public routes (signup, login, refresh, health) carry no tenant in a token.
                continue;
            }
            let mut path = template.clone();
            let mut targets_a = false;
            for param in operation["parameters"].as_array().into_iter().flatten() {
                if param["in"] != "path" {
                    continue;
                }
                let name = param["name"].as_str().unwrap();
                let value = world.value(template, name).unwrap_or_else(|| {
                    panic!("the isolation test needs a resource of tenant A for `{name}` in {template}: add it to World::value")
                });
                path = path.replace(&format!("{{{name}}}"), &value);
                targets_a = true;
            }
            let body = example_body(&spec, operation);
            for token in [&world.b.admin.access, &world.b_customer.access] {
                let streams = operation
                    .pointer("/responses/200/content/text~1event-stream")
                    .is_some();
                let reply = if streams {
                    app.call_briefly(
                        method.clone(),
                        &path,
                        Some(token),
                        std::time::Duration::from_millis(300),
                    )
                    .await
                } else {
                    app.call(method.clone(), &path, Some(token), body.clone())
                        .await
                };
                tried += 1;
                assert!(
                    reply.status < 500,
                    "{method} {path}: {} {}",
                    reply.status,
                    reply.text
                );
                if targets_a {
                    assert!(
                        reply.status == 404 || reply.status == 403,
                        "{method} {path} with B's token must be 404 or 403, got {}: {}",
                        reply.status,
                        reply.text
                    );
                }
                for secret in world.secrets_of_a() {
                    assert!(
                        !reply.text.contains(secret),
                        "{method} {path} leaked {secret} to B: {}",
                        reply.text
                    );
                }
            }
        }
    }
    assert!(
        tried >= 10,
        "only {tried} attempts: the walk missed the routes"
    );
    let after = snapshot(&app, &world).await;
    assert_eq!(before, after, "B changed A's data");
}
