//! The contract and the router agree: openapi.yaml is exactly the document generated from the
//! route declarations, and every operation in it is served.

use std::path::PathBuf;

use axum::body::Body;
use fanorder_api::{AppState, build_router, openapi};
use fanorder_platform::{Clock, Config, Secret, Secrets};
use fanorder_store::testing::{self, StoreKind};
use tower::ServiceExt;

fn committed() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../openapi.yaml")
}

#[test]
fn openapi_yaml_is_the_document_the_code_generates() {
    let generated = format!("{}\n", openapi::yaml().trim_end());
    if std::env::var_os("UPDATE_OPENAPI").is_some() {
        std::fs::write(committed(), &generated).unwrap();
    }
    let on_disk = std::fs::read_to_string(committed()).unwrap_or_default();
    assert!(
        on_disk == generated,
        "openapi.yaml is stale: run `cargo run --bin fanorder -- openapi > openapi.yaml` \
         (or `UPDATE_OPENAPI=1 cargo test -p fanorder-api --test openapi`) and commit it"
    );
}

/// The whole router over a fresh embedded table (kept alive by the returned handle).
async fn router() -> (axum::Router, testing::TestTable) {
    let secrets = Secrets::new(Secret::new(vec![1; 32]));
    let table = testing::table(StoreKind::Sqlite, Clock::system(), &[1; 32], None)
        .await
        .expect("open the store")
        .expect("SQLite is always available");
    let state = AppState::new(
        table.table.clone(),
        Config::default(),
        &secrets,
        Clock::system(),
    )
    .expect("state");
    (build_router(state), table)
}

#[tokio::test]
async fn every_documented_operation_is_routed() {
    let (app, _table) = router().await;
    let spec = serde_json::to_value(openapi::spec()).unwrap();
    let mut count = 0;
    for (template, item) in spec["paths"].as_object().unwrap() {
        // Fill path parameters with a well-formed id; the route must exist whatever the answer.
        let path = template
            .split('/')
            .map(|seg| {
                if seg.starts_with('{') {
                    "01J8Z3K4M5N6P7Q8R9S0T1V2W3"
                } else {
                    seg
                }
            })
            .collect::<Vec<_>>()
            .join("/");
        for method in item.as_object().unwrap().keys() {
            let request = http::Request::builder()
                .method(method.to_uppercase().as_str())
                .uri(&path)
                .header("content-type", "application/json")
                .body(Body::from("{}"))
                .unwrap();
            let response = app.clone().oneshot(request).await.unwrap();
            let status = response.status().as_u16();
            let body = axum::body::to_bytes(response.into_body(), 1 << 20)
                .await
                .unwrap();
            let text = String::from_utf8_lossy(&body);
            assert!(
                !text.contains("\"code\":\"no_route\""),
                "{method} {path}: no route"
            );
            assert_ne!(status, 405, "{method} {path}: method not routed");
            count += 1;
        }
    }
    assert!(count >= 38, "only {count} operations documented");
}

/// Pages for people (the dashboard, the mock payment provider's checkout) are served but are
/// not REST operations: the contract leaves them out, so clients and schemathesis never see them.
#[tokio::test]
async fn pages_for_people_are_routed_but_not_in_the_contract() {
    let (app, _table) = router().await;
    let spec = serde_json::to_value(openapi::spec()).unwrap();
    let paths = spec["paths"].as_object().unwrap();
    for path in ["/dashboard", "/pay/mock"] {
        assert!(!paths.contains_key(path), "{path} is in openapi.yaml");
        let request = http::Request::get(path).body(Body::empty()).unwrap();
        let response = app.clone().oneshot(request).await.unwrap();
        let content_type = response.headers()["content-type"].to_str().unwrap();
        assert!(
            content_type.starts_with("text/html"),
            "{path}: {content_type}"
        );
    }
}

#[test]
fn every_secured_operation_documents_401_and_403_and_every_body_422() {
    let spec = serde_json::to_value(openapi::spec()).unwrap();
    for (template, item) in spec["paths"].as_object().unwrap() {
        for (method, operation) in item.as_object().unwrap() {
            let responses = operation["responses"].as_object().unwrap();
            if operation.get("security").is_some() {
                assert!(
                    responses.contains_key("401") && responses.contains_key("403"),
                    "{method} {template}"
                );
            }
            if operation.get("requestBody").is_some() {
                for code in ["400", "413", "415", "422"] {
                    assert!(
                        responses.contains_key(code),
                        "{method} {template} lacks {code}"
                    );
                }
            }
        }
    }
}

/// The links schemathesis' stateful phase follows: each names an operation that exists and only
/// parameters that operation takes, and every resource can be walked from create to delete.
#[test]
fn links_name_real_operations_and_their_parameters() {
    let spec = serde_json::to_value(openapi::spec()).unwrap();
    let mut operations = std::collections::HashMap::new();
    for item in spec["paths"].as_object().unwrap().values() {
        for operation in item.as_object().unwrap().values() {
            operations.insert(
                operation["operationId"].as_str().unwrap().to_owned(),
                operation.clone(),
            );
        }
    }
    let mut links = 0;
    for (from, operation) in &operations {
        for (status, response) in operation["responses"].as_object().unwrap() {
            let Some(declared) = response.get("links").and_then(|l| l.as_object()) else {
                continue;
            };
            assert!(status.starts_with('2'), "{from}: links on {status}");
            for (name, link) in declared {
                let target = link["operationId"].as_str().unwrap();
                let Some(to) = operations.get(target) else {
                    panic!("{from} -> {name}: no operation {target}");
                };
                let taken: Vec<&str> = to["parameters"]
                    .as_array()
                    .map(|p| p.iter().filter_map(|p| p["name"].as_str()).collect())
                    .unwrap_or_default();
                for parameter in link["parameters"].as_object().into_iter().flatten() {
                    assert!(
                        taken.contains(&parameter.0.as_str()),
                        "{from} -> {target}: {target} takes no parameter {}",
                        parameter.0
                    );
                }
                links += 1;
            }
        }
    }
    for (create, read, update, delete) in [
        (
            "create_location",
            "get_location",
            "patch_location",
            "delete_location",
        ),
        (
            "create_category",
            "get_category",
            "patch_category",
            "delete_category",
        ),
        ("create_item", "get_item", "patch_item", "delete_item"),
        ("create_combo", "get_combo", "patch_combo", "delete_combo"),
        ("add_staff", "get_staff", "patch_staff", "deactivate_staff"),
        ("connect_page", "get_page", "patch_page", "disconnect_page"),
    ] {
        let linked = |from: &str, status: &str, to: &str| {
            operations[from]["responses"][status]["links"]
                .as_object()
                .is_some_and(|l| l.values().any(|l| l["operationId"] == to))
        };
        assert!(linked(create, "201", read), "{create} -> {read}");
        assert!(linked(read, "200", update), "{read} -> {update}");
        assert!(linked(update, "200", delete), "{update} -> {delete}");
    }
    assert!(links >= 40, "only {links} links");
}

/// Found by schemathesis: two Rust types named `Status` (an order's and an account's) shared
/// one component name, so the contract said an order's status was `active` or `deactivated`.
#[test]
fn order_and_account_statuses_are_separate_schemas() {
    let spec = serde_json::to_value(openapi::spec()).unwrap();
    let schemas = &spec["components"]["schemas"];
    let enum_of = |object: &str, property: &str| {
        let reference = schemas[object]["properties"][property]["$ref"]
            .as_str()
            .unwrap_or_else(|| panic!("{object}.{property} is not a reference"));
        let name = reference.trim_start_matches("#/components/schemas/");
        schemas[name]["enum"].clone()
    };
    let order = enum_of("OrderView", "status");
    for status in [
        "PENDING_PAYMENT",
        "PAID",
        "IN_KITCHEN",
        "READY",
        "CANCELLED",
    ] {
        assert!(
            order.as_array().unwrap().iter().any(|s| s == status),
            "{order}"
        );
    }
    assert_eq!(
        enum_of("MemberView", "status"),
        serde_json::json!(["active", "deactivated"])
    );
}
