//! What one order's life costs on DynamoDB: read and write capacity units per request, measured
//! with DynamoDB's own consumed-capacity reports (on DynamoDB Local), with the outbox in stream
//! delivery as on AWS.
//!
//!     scripts/emulators   # in another shell, then export what it prints
//!     cargo bench -p fanorder-api --bench order_cost
#![expect(clippy::unwrap_used, reason = "a benchmark stops at the first failure")]
#![expect(clippy::print_stdout, reason = "a benchmark prints its table")]

use std::net::SocketAddr;

use fanorder_api::{AppState, build_router};
use fanorder_events::Delivery;
use fanorder_platform::{Clock, Config, Secret, Secrets};
use fanorder_store::testing::{self, StoreKind};
use fanorder_store::{Capacity, Table};
use serde_json::{Value, json};

struct Client {
    http: reqwest::Client,
    base: String,
}

impl Client {
    async fn call(
        &self,
        method: reqwest::Method,
        path: &str,
        token: Option<&str>,
        body: Option<Value>,
    ) -> Value {
        let mut request = self.http.request(method, format!("{}{path}", self.base));
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        if let Some(body) = body {
            request = request.json(&body);
        }
        let response = request.send().await.unwrap();
        assert!(
            response.status().is_success(),
            "{path}: {}",
            response.status()
        );
        response.json().await.unwrap_or(Value::Null)
    }
}

fn delta(before: Capacity, after: Capacity) -> (f64, f64) {
    (after.read - before.read, after.write - before.write)
}

fn main() {
    if std::env::var_os("AWS_ENDPOINT_URL_DYNAMODB").is_none() {
        println!(
            "set AWS_ENDPOINT_URL_DYNAMODB (scripts/emulators starts DynamoDB Local) to measure capacity units"
        );
        return;
    }
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async {
        let secrets = Secrets::new(Secret::new(vec![4; 32]));
        let test = testing::table(StoreKind::Dynamodb, Clock::system(), &secrets.derive("cursor"), None).await.unwrap().unwrap();
        let table: Table = test.table.clone();
        let state = AppState::with_delivery(table.clone(), Config::default(), &secrets, Clock::system(), Delivery::Stream).unwrap();
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let app = build_router(state.clone()).into_make_service_with_connect_info::<SocketAddr>();
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        let client = Client { http: reqwest::Client::new(), base: format!("http://{addr}") };
        use reqwest::Method;

        let signup = client
            .call(Method::POST, "/v1/tenants", None, Some(json!({
                "name": "Cost", "slug": format!("cost-{}", fanorder_platform::id::new_ulid().to_string().to_lowercase()),
                "currency": "THB", "time_zone": "Asia/Bangkok",
                "owner": {"email": "owner@cost.example", "password": "owner-password", "name": "Owner"}
            })))
            .await;
        let admin = signup["access_token"].as_str().unwrap().to_owned();
        let slug = signup["tenant"]["slug"].as_str().unwrap().to_owned();
        let tenant_id = signup["tenant"]["id"].as_str().unwrap().to_owned();
        let mut tokens = std::collections::HashMap::new();
        for role in ["cook", "packer", "driver"] {
            let email = format!("{role}@cost.example");
            client.call(Method::POST, "/v1/staff", Some(&admin), Some(json!({"email": email, "name": role, "role": role, "password": "staff-password"}))).await;
            let login = client.call(Method::POST, "/v1/auth/login", None, Some(json!({"tenant": slug, "email": email, "password": "staff-password"}))).await;
            tokens.insert(role, login["access_token"].as_str().unwrap().to_owned());
        }
        let customer = client
            .call(Method::POST, "/v1/customers", None, Some(json!({"tenant": slug, "email": "c@cost.example", "password": "customer-pass", "name": "C"})))
            .await;
        let customer = customer["access_token"].as_str().unwrap().to_owned();
        let item = client
            .call(Method::POST, "/v1/menu/items", Some(&admin), Some(json!({
                "name": "Pad thai", "price": 12000,
                "modifier_groups": [{"name": "Size", "min": 1, "max": 1, "options": [{"name": "Regular", "price_delta": 0}, {"name": "Large", "price_delta": 2000}]}]
            })))
            .await;
        let option = item["modifier_groups"][0]["options"][1]["id"].as_str().unwrap().to_owned();
        // Warm the per-account status caches, as a running service has them.
        for token in [&admin, &customer, &tokens["cook"], &tokens["packer"], &tokens["driver"]] {
            client.call(Method::GET, "/v1/me", Some(token), None).await;
        }

        let mut rows = Vec::new();
        let before = table.consumed();
        let order = client
            .call(Method::POST, "/v1/orders", Some(&customer), Some(json!({
                "fulfillment": "delivery", "address": {"line1": "12 Sukhumvit"},
                "lines": [{"item_id": item["id"], "quantity": 2, "modifiers": [option]}]
            })))
            .await;
        rows.push(("place (customer)", delta(before, table.consumed())));
        let id = order["id"].as_str().unwrap().to_owned();

        let mock = fanorder_orders::MockProvider::new(&secrets.derive("payments/mock"));
        let body = serde_json::to_vec(&json!({"payment_id": "cost-1", "order_id": id, "tenant_id": tenant_id, "amount": order["total"], "currency": "THB", "status": "approved"})).unwrap();
        let before = table.consumed();
        let response = client
            .http
            .post(format!("{}/v1/payments/mock/webhook", client.base))
            .header("content-type", "application/json")
            .header("x-mock-signature", mock.sign(&body))
            .body(body)
            .send()
            .await
            .unwrap();
        assert!(response.status().is_success());
        rows.push(("pay (provider webhook)", delta(before, table.consumed())));

        let mut version = 2;
        for (to, role) in [("IN_KITCHEN", "cook"), ("READY", "cook"), ("OUT_FOR_DELIVERY", "packer"), ("DELIVERED", "driver")] {
            let before = table.consumed();
            let moved = client
                .call(Method::POST, &format!("/v1/orders/{id}/transitions"), Some(&tokens[role]), Some(json!({"to": to, "version": version})))
                .await;
            version = moved["version"].as_i64().unwrap();
            rows.push((to, delta(before, table.consumed())));
        }
        let before = table.consumed();
        client.call(Method::GET, "/v1/orders?status=PAID", Some(&tokens["cook"]), None).await;
        rows.push(("read the PAID queue (cook)", delta(before, table.consumed())));

        println!("| step | RCU | WCU |");
        println!("|---|---:|---:|");
        let (mut r, mut w) = (0.0, 0.0);
        for (name, (read, write)) in &rows[..6] {
            println!("| {name} | {read:.1} | {write:.1} |");
            r += read;
            w += write;
        }
        println!("| **one order's life** | **{r:.1}** | **{w:.1}** |");
        let (read, write) = rows[6].1;
        println!("| {} | {read:.1} | {write:.1} |", rows[6].0);
        let order_bytes = serde_json::to_vec(&order).unwrap().len();
        println!("\n(order item about {order_bytes} bytes as JSON)");
    });
}
