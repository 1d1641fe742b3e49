//! What the staff dashboard stands on: the live stream with catch-up, printable receipts, sales
//! reports kept from the events, and the page itself.

use std::time::Duration;

use fanorder_blackbox::{Restaurant, TestApp, eventually};
use reqwest::Method;
use serde_json::{Value, json};

crate::on_both_stores!(dashboard:
    the_stream_pushes_the_restaurants_order_changes_and_catches_up,
    the_stream_is_for_staff_and_checks_its_cursor,
    receipts_print_for_staff_and_the_owner_only,
    sales_reports_follow_the_events,
    an_event_folded_twice_counts_once,
    bad_report_ranges_are_refused,
    the_dashboard_page_is_served_with_a_strict_policy,
);

async fn menu_item(app: &TestApp, r: &Restaurant, name: &str, price: i64) -> String {
    app.call(
        Method::POST,
        "/v1/menu/items",
        Some(&r.admin.access),
        Some(json!({"name": name, "price": price})),
    )
    .await
    .expect(201)["id"]
        .as_str()
        .unwrap()
        .to_owned()
}

/// A cash pickup order placed by the admin: it goes straight to the kitchen (PAID).
async fn cash_order(app: &TestApp, r: &Restaurant, lines: Value) -> Value {
    app.call(
        Method::POST,
        "/v1/orders",
        Some(&r.admin.access),
        Some(json!({"fulfillment": "pickup", "payment_method": "cash", "phone": "+66 81 234 5678", "lines": lines})),
    )
    .await
    .expect(201)
    .clone()
}

/// Reads server-sent events from a response until `want` of them have come or `within` passed;
/// returns `(id, event type, data)` of each.
async fn read_events(
    mut response: reqwest::Response,
    want: usize,
    within: Duration,
) -> Vec<(String, String, Value)> {
    let mut buffer = String::new();
    let mut events = Vec::new();
    let deadline = tokio::time::Instant::now() + within;
    while events.len() < want {
        let Ok(Ok(Some(chunk))) = tokio::time::timeout_at(deadline, response.chunk()).await else {
            break;
        };
        buffer.push_str(&String::from_utf8_lossy(&chunk));
        while let Some(end) = buffer.find("\n\n") {
            let frame = buffer[..end].to_owned();
            buffer.drain(..end + 2);
            let (mut id, mut kind, mut data) = (String::new(), String::new(), String::new());
            for line in frame.lines() {
                if let Some(v) = line.strip_prefix("id:") {
                    id = v.trim().to_owned();
                } else if let Some(v) = line.strip_prefix("event:") {
                    kind = v.trim().to_owned();
                } else if let Some(v) = line.strip_prefix("data:") {
                    data.push_str(v.trim_start());
                }
            }
            if !kind.is_empty() {
                events.push((id, kind, serde_json::from_str(&data).unwrap_or(Value::Null)));
            }
        }
    }
    events
}

async fn open_stream(app: &TestApp, token: &str, last: Option<&str>) -> reqwest::Response {
    let mut request = app.http.get(app.url("/v1/stream")).bearer_auth(token);
    if let Some(last) = last {
        request = request.header("last-event-id", last);
    }
    let response = request.send().await.unwrap();
    if response.status() != 200 {
        panic!("{}: {}", response.status(), response.text().await.unwrap());
    }
    assert!(
        response.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/event-stream")
    );
    response
}

async fn the_stream_pushes_the_restaurants_order_changes_and_catches_up(app: TestApp) {
    let a = app.signup().await;
    let b = app.signup().await;
    let a_cook = app.add_staff(&a, "cook").await;
    let b_cook = app.add_staff(&b, "cook").await;
    let rice = menu_item(&app, &a, "Rice", 5000).await;
    let a_stream = open_stream(&app, &a_cook.access, None).await;
    let b_stream = open_stream(&app, &b_cook.access, None).await;

    let order = cash_order(&app, &a, json!([{"item_id": rice, "quantity": 2}])).await;
    let events = read_events(a_stream, 2, Duration::from_secs(10)).await;
    let kinds: Vec<&str> = events.iter().map(|(_, k, _)| k.as_str()).collect();
    assert_eq!(kinds, ["order.placed", "order.paid"], "{events:?}");
    assert_eq!(events[1].2["data"]["order_id"], order["id"]);
    assert_eq!(events[1].2["tenant_id"], a.id.as_str());
    // B's cook hears nothing of A's restaurant.
    let leaked = read_events(b_stream, 1, Duration::from_millis(800)).await;
    assert!(leaked.is_empty(), "{leaked:?}");

    // The cook's screen loses the network; the order moves meanwhile; on reconnect with the
    // last id it sees the move (and may see the earlier ones again: ids tell).
    let last = events[1].0.clone();
    let moved = crate::orders::step(&app, &a.admin.access, &order, "IN_KITCHEN").await;
    assert_eq!(moved["status"], "IN_KITCHEN");
    let again = open_stream(&app, &a_cook.access, Some(&last)).await;
    let caught = read_events(again, 3, Duration::from_secs(5)).await;
    assert!(
        caught
            .iter()
            .any(|(_, kind, data)| kind == "order.status_changed"
                && data["data"]["to"] == "IN_KITCHEN"),
        "{caught:?}"
    );
    let mut ids: Vec<&str> = caught.iter().map(|(id, _, _)| id.as_str()).collect();
    ids.dedup();
    assert_eq!(ids.len(), caught.len(), "no id twice in one stream");
}

async fn the_stream_is_for_staff_and_checks_its_cursor(app: TestApp) {
    let r = app.signup().await;
    let customer = app.register_customer(&r).await;
    app.call(Method::GET, "/v1/stream", Some(&customer.access), None)
        .await
        .assert_problem(403, "forbidden");
    app.call(Method::GET, "/v1/stream", None, None)
        .await
        .assert_problem(401, "unauthenticated");
    app.call(
        Method::GET,
        "/v1/stream?after=not-an-id",
        Some(&r.admin.access),
        None,
    )
    .await
    .assert_problem(400, "bad_event_id");
}

async fn receipts_print_for_staff_and_the_owner_only(app: TestApp) {
    let a = app.signup().await;
    let b = app.signup().await;
    let noodles = menu_item(&app, &a, "<script>alert(1)</script> noodles", 8000).await;
    let owner = app.register_customer(&a).await;
    let stranger = app.register_customer(&a).await;
    let order = app
        .call(
            Method::POST,
            "/v1/orders",
            Some(&owner.access),
            Some(json!({"fulfillment": "pickup", "note": "no <b>chili</b>", "lines": [{"item_id": noodles, "quantity": 3}]})),
        )
        .await
        .expect(201)
        .clone();
    let path = format!("/v1/orders/{}/receipt", order["id"].as_str().unwrap());
    let cook = app.add_staff(&a, "cook").await;
    for token in [&owner.access, &cook.access, &a.admin.access] {
        let receipt = app.call(Method::GET, &path, Some(token), None).await;
        assert_eq!(receipt.status, 200, "{}", receipt.text);
        assert_eq!(
            receipt.header("content-type"),
            Some("text/html; charset=utf-8")
        );
        assert!(receipt.text.contains(&format!("#{}", order["number"])));
        assert!(receipt.text.contains("3×"));
        assert!(receipt.text.contains("240.00"), "{}", receipt.text);
        assert!(
            !receipt.text.contains("<script>alert"),
            "names are escaped: {}",
            receipt.text
        );
        assert!(receipt.text.contains("&lt;script&gt;"));
        assert!(receipt.text.contains("no &lt;b&gt;chili&lt;/b&gt;"));
    }
    for token in [&stranger.access, &b.admin.access] {
        app.call(Method::GET, &path, Some(token), None)
            .await
            .assert_problem(404, "not_found");
    }
}

async fn report(app: &TestApp, r: &Restaurant, query: &str) -> Value {
    app.call(
        Method::GET,
        &format!("/v1/reports/sales{query}"),
        Some(&r.admin.access),
        None,
    )
    .await
    .expect(200)
    .clone()
}

async fn sales_reports_follow_the_events(app: TestApp) {
    let r = app.signup().await;
    let rice = menu_item(&app, &r, "Rice", 5000).await;
    let tea = menu_item(&app, &r, "Tea", 2000).await;
    let first = cash_order(
        &app,
        &r,
        json!([{"item_id": rice, "quantity": 2}, {"item_id": tea, "quantity": 1}]),
    )
    .await;
    let second = cash_order(&app, &r, json!([{"item_id": rice, "quantity": 1}])).await;
    let third = cash_order(&app, &r, json!([{"item_id": tea, "quantity": 3}])).await;
    // The first is cooked; the third is cancelled while waiting.
    let cooking = crate::orders::step(&app, &r.admin.access, &first, "IN_KITCHEN").await;
    crate::orders::step(&app, &r.admin.access, &cooking, "READY").await;
    let cancel = format!("/v1/orders/{}/transitions", third["id"].as_str().unwrap());
    app.call(
        Method::POST,
        &cancel,
        Some(&r.admin.access),
        Some(json!({"to": "CANCELLED", "version": third["version"], "reason": "out of tea"})),
    )
    .await
    .expect(200);
    let _ = second;

    let expected_revenue = 12000 + 5000;
    let settled = eventually(Duration::from_secs(10), || async {
        let day = report(&app, &r, "").await;
        day["totals"]["orders"] == 2
            && day["totals"]["cancelled"] == 1
            && day["totals"]["revenue"] == expected_revenue
            && day["totals"]["prepared"] == 1
    })
    .await;
    let day = report(&app, &r, "").await;
    assert!(settled, "{day:#}");
    assert_eq!(day["group_by"], "day");
    assert_eq!(day["currency"], "THB");
    assert_eq!(day["rows"].as_array().unwrap().len(), 1, "{day:#}");
    assert!(day["totals"]["avg_prep_seconds"].as_i64().unwrap() >= 0);

    let items = report(&app, &r, "?group_by=item").await;
    let rows = items["rows"].as_array().unwrap();
    let row = |name: &str| rows.iter().find(|row| row["name"] == name).unwrap().clone();
    assert_eq!(row("Rice")["quantity"], 3);
    assert_eq!(row("Rice")["revenue"], 15000);
    assert_eq!(
        row("Tea")["quantity"],
        1,
        "the cancelled teas are taken back"
    );
    assert_eq!(row("Tea")["revenue"], 2000);
    assert_eq!(rows[0]["name"], "Rice", "highest revenue first");
    assert_eq!(items["totals"]["revenue"], expected_revenue);

    // A range with no sales is empty, not an error.
    let old = report(&app, &r, "?from=2020-01-01&to=2020-01-31").await;
    assert_eq!(old["rows"], json!([]));
    assert_eq!(old["totals"]["orders"], 0);
}

async fn an_event_folded_twice_counts_once(app: TestApp) {
    let r = app.signup().await;
    let rice = menu_item(&app, &r, "Rice", 5000).await;
    cash_order(&app, &r, json!([{"item_id": rice, "quantity": 1}])).await;
    let paid = eventually(Duration::from_secs(10), || async {
        report(&app, &r, "").await["totals"]["orders"] == 1
    })
    .await;
    assert!(paid);
    let events = app
        .call(
            Method::GET,
            "/v1/events?limit=100",
            Some(&r.admin.access),
            None,
        )
        .await
        .expect(200)["items"]
        .clone();
    let paid_event = events
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["event_type"] == "order.paid")
        .unwrap()
        .clone();
    let event: fanorder_events::Event = serde_json::from_value(paid_event).unwrap();
    let ledger = fanorder_orders::SalesLedger::new(app.state.table.clone());
    ledger.fold(&event).await.unwrap();
    ledger.fold(&event).await.unwrap();
    let totals = report(&app, &r, "").await["totals"].clone();
    assert_eq!(totals["orders"], 1, "{totals}");
    assert_eq!(totals["revenue"], 5000, "{totals}");
}

async fn bad_report_ranges_are_refused(app: TestApp) {
    let r = app.signup().await;
    for query in [
        "?from=2026-02-01&to=2026-01-01",
        "?from=yesterday",
        "?to=2026-13-01",
        "?group_by=week",
        "?from=2020-01-01&to=2026-01-01",
    ] {
        app.call(
            Method::GET,
            &format!("/v1/reports/sales{query}"),
            Some(&r.admin.access),
            None,
        )
        .await
        .assert_problem(422, "validation_failed");
    }
    let cook = app.add_staff(&r, "cook").await;
    app.call(Method::GET, "/v1/reports/sales", Some(&cook.access), None)
        .await
        .assert_problem(403, "forbidden");
}

async fn the_dashboard_page_is_served_with_a_strict_policy(app: TestApp) {
    let page = app.get("/dashboard").await;
    assert_eq!(page.status(), 200);
    let policy = page.headers()["content-security-policy"]
        .to_str()
        .unwrap()
        .to_owned();
    assert!(policy.contains("script-src 'self'"), "{policy}");
    let html = page.text().await.unwrap();
    assert!(
        html.contains(r#"content="10""#),
        "the late threshold is filled in"
    );
    for asset in ["/dashboard/app.js", "/dashboard/style.css"] {
        let response = app.get(asset).await;
        assert_eq!(response.status(), 200, "{asset}");
    }
    let root = app.http.get(app.url("/")).send().await.unwrap();
    assert_eq!(root.url().path(), "/dashboard", "/ leads to the dashboard");
}
