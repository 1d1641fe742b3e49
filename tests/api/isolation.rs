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
}

impl World {
    /// A's resource for a path parameter of a route template.
    fn value(&self, template: &str, param: &str) -> Option<String> {
        match (template, param) {
            ("/v1/staff/{id}", "id") => Some(self.a_cook.id.clone()),
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
    serde_json::json!({"tenant": tenant, "staff": staff, "cook": cook, "customer": customer})
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
    let world = World {
        a,
        a_cook,
        a_customer,
        b,
        b_customer,
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
                let reply = app
                    .call(method.clone(), &path, Some(token), body.clone())
                    .await;
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
