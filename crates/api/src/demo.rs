//! `fanorder demo`: seeds a demo restaurant through the API itself (in process, no network), so
//! every rule the API enforces applies: a restaurant, one staff member per role, a menu with
//! modifiers and a combo in English, Thai and Spanish, a location, and a Facebook page without a
//! token (the bot works offline: its answers are recorded in the conversation).

use axum::body::Body;
use http::{Method, Request, StatusCode};
use serde_json::{Value, json};
use tower::ServiceExt;

use crate::cli::say;
use crate::{AppState, build_router};

/// The demo's slug, page and logins.
pub const SLUG: &str = "demo-thai";
/// The demo page id (offline: no token).
pub const PAGE_ID: &str = "100000000000001";
/// Every demo account's password.
pub const PASSWORD: &str = "demo-password";

struct Api {
    router: axum::Router,
}

impl Api {
    async fn call(
        &self,
        method: Method,
        path: &str,
        token: Option<&str>,
        body: Value,
    ) -> anyhow::Result<(StatusCode, Value)> {
        let mut request = Request::builder()
            .method(method)
            .uri(path)
            .header("content-type", "application/json");
        if let Some(token) = token {
            request = request.header("authorization", format!("Bearer {token}"));
        }
        let response = self
            .router
            .clone()
            .oneshot(request.body(Body::from(body.to_string()))?)
            .await?;
        let status = response.status();
        let bytes = axum::body::to_bytes(response.into_body(), 1 << 20).await?;
        Ok((
            status,
            serde_json::from_slice(&bytes).unwrap_or(Value::Null),
        ))
    }

    async fn ok(
        &self,
        method: Method,
        path: &str,
        token: &str,
        body: Value,
    ) -> anyhow::Result<Value> {
        let (status, body) = self.call(method, path, Some(token), body).await?;
        anyhow::ensure!(status.is_success(), "{path}: {status} {body}");
        Ok(body)
    }
}

fn id(value: &Value) -> String {
    value["id"].as_str().unwrap_or_default().to_owned()
}

/// Seeds the demo restaurant (or reports that it exists) and prints how to use it.
pub async fn run(state: AppState) -> anyhow::Result<()> {
    let api = Api {
        router: build_router(state.clone()),
    };
    let owner = format!("owner@{SLUG}.example");
    let (status, signup) = api
        .call(
            Method::POST,
            "/v1/tenants",
            None,
            json!({
                "name": "Demo Thai Kitchen", "slug": SLUG, "currency": "THB", "time_zone": "Asia/Bangkok",
                "owner": {"email": owner, "password": PASSWORD, "name": "Somchai (owner)"}
            }),
        )
        .await?;
    if status == StatusCode::CONFLICT {
        say(&format!("The demo restaurant `{SLUG}` is already here."));
        print_guide(&state);
        return Ok(());
    }
    anyhow::ensure!(status == StatusCode::CREATED, "signup: {status} {signup}");
    let admin = signup["access_token"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    for role in ["cook", "packer", "driver"] {
        api.ok(
            Method::POST,
            "/v1/staff",
            &admin,
            json!({"email": format!("{role}@{SLUG}.example"), "name": format!("Demo {role}"), "role": role, "password": PASSWORD}),
        )
        .await?;
    }
    let location = api.ok(Method::POST, "/v1/locations", &admin, json!({"name": "Sukhumvit", "address": "12 Sukhumvit Soi 11, Bangkok", "phone": "+66 2 123 4567"})).await?;
    let noodles = api
        .ok(
            Method::POST,
            "/v1/menu/categories",
            &admin,
            json!({"name": "Noodles", "position": 1}),
        )
        .await?;
    let rice = api
        .ok(
            Method::POST,
            "/v1/menu/categories",
            &admin,
            json!({"name": "Rice", "position": 2}),
        )
        .await?;
    let drinks = api
        .ok(
            Method::POST,
            "/v1/menu/categories",
            &admin,
            json!({"name": "Drinks", "position": 3}),
        )
        .await?;
    let sets = api
        .ok(
            Method::POST,
            "/v1/menu/categories",
            &admin,
            json!({"name": "Sets", "position": 0}),
        )
        .await?;
    let size = |regular: &str, large: &str| json!({"name": "Size", "min": 1, "max": 1, "options": [{"name": regular, "price_delta": 0}, {"name": large, "price_delta": 2000}]});
    let pad_thai = api
        .ok(Method::POST, "/v1/menu/items", &admin, json!({
            "name": "Pad thai", "description": "Rice noodles, egg, tofu, peanuts", "price": 12000, "category_id": id(&noodles), "position": 1,
            "keywords": {"en": ["pad thai", "phad thai"], "th": ["ผัดไทย"], "es": ["fideos pad thai"]},
            "modifier_groups": [size("Regular", "Large"), {"name": "Extras", "min": 0, "max": 2, "options": [
                {"name": "Shrimp", "price_delta": 3000}, {"name": "Extra egg", "price_delta": 1000}, {"name": "No peanuts", "price_delta": 0}]}]
        }))
        .await?;
    api.ok(Method::POST, "/v1/menu/items", &admin, json!({
        "name": "Tom yum goong", "description": "Hot and sour shrimp soup", "price": 15000, "category_id": id(&noodles), "position": 2,
        "keywords": {"en": ["tom yum", "tom yam"], "th": ["ต้มยำกุ้ง", "ต้มยำ"], "es": ["sopa tom yum"]}, "stock": 20
    })).await?;
    let fried_rice = api
        .ok(Method::POST, "/v1/menu/items", &admin, json!({
            "name": "Khao pad", "description": "Thai fried rice", "price": 10000, "category_id": id(&rice), "position": 1,
            "keywords": {"en": ["fried rice", "khao pad"], "th": ["ข้าวผัด"], "es": ["arroz frito"]},
            "modifier_groups": [{"name": "Protein", "min": 1, "max": 1, "options": [
                {"name": "Chicken", "price_delta": 0}, {"name": "Pork", "price_delta": 0}, {"name": "Shrimp", "price_delta": 2000}]}]
        }))
        .await?;
    let coke = api
        .ok(Method::POST, "/v1/menu/items", &admin, json!({
            "name": "Coke", "price": 3000, "category_id": id(&drinks), "position": 1,
            "keywords": {"en": ["coke", "coca cola", "cola"], "th": ["โค้ก"], "es": ["coca", "gaseosa"]}
        }))
        .await?;
    let tea = api
        .ok(Method::POST, "/v1/menu/items", &admin, json!({
            "name": "Thai iced tea", "price": 4000, "category_id": id(&drinks), "position": 2,
            "keywords": {"en": ["thai tea", "iced tea"], "th": ["ชาไทย", "ชาเย็น"], "es": ["té tailandés"]}
        }))
        .await?;
    api.ok(Method::POST, "/v1/menu/combos", &admin, json!({
        "name": "Lunch set", "description": "Fried rice with a drink", "price": 12000, "category_id": id(&sets),
        "components": [{"kind": "item", "item_id": id(&fried_rice)}, {"kind": "choice", "name": "Drink", "item_ids": [id(&coke), id(&tea)]}]
    })).await?;
    let _ = pad_thai;
    api.ok(Method::POST, "/v1/pages", &admin, json!({
        "page_id": PAGE_ID, "name": "Demo Thai Kitchen",
        "settings": {"language": "en", "payment_methods": ["online", "cash"], "default_location_id": id(&location)}
    })).await?;
    say("Seeded the demo restaurant.");
    print_guide(&state);
    Ok(())
}

fn print_guide(state: &AppState) {
    let base = format!("http://{}", state.config.addr);
    say(&format!(
        "
Restaurant: Demo Thai Kitchen (slug `{SLUG}`), Facebook page {PAGE_ID} (offline: the bot's answers are recorded).
Logins (tenant `{SLUG}`, password `{PASSWORD}`):
  admin   owner@{SLUG}.example
  cook    cook@{SLUG}.example
  packer  packer@{SLUG}.example
  driver  driver@{SLUG}.example

Try it (with `fanorder serve` running):
  fanorder simulate --page {PAGE_ID} --psid 2001 \"hi\"
  fanorder simulate --page {PAGE_ID} --psid 2001 \"2 pad thai large and a coke\"
  fanorder simulate --page {PAGE_ID} --psid 2002 \"ข้าวผัด 2\"
  fanorder simulate --page {PAGE_ID} --psid 2003 \"hola, quiero dos arroz frito\"
  curl -s {base}/v1/auth/login -H 'content-type: application/json' \\
    -d '{{\"tenant\":\"{SLUG}\",\"email\":\"cook@{SLUG}.example\",\"password\":\"{PASSWORD}\"}}'
  then GET {base}/v1/orders?status=PAID with the access token: the kitchen's queue."
    ));
}
