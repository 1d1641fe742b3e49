//! Health, readiness, and the shape of errors no route produces.

use fanorder_blackbox::{TestApp, expect_problem};

crate::on_both_stores!(health:
    liveness_answers_ok,
    readiness_checks_the_store,
    an_unknown_route_is_a_404_problem,
    a_wrong_method_is_a_405_problem_with_allow,
    a_body_over_the_limit_is_a_413_problem,
    every_response_carries_a_request_id,
    metrics_count_requests_by_route_template_without_ids,
);

async fn liveness_answers_ok(app: TestApp) {
    let response = app.get("/healthz").await;
    assert_eq!(response.status(), 200);
    let body: serde_json::Value = response.json().await.unwrap();
    assert_eq!(body["status"], "ok");
}

async fn readiness_checks_the_store(app: TestApp) {
    let response = app.get("/readyz").await;
    assert_eq!(response.status(), 200);
    let body: serde_json::Value = response.json().await.unwrap();
    assert_eq!(body["status"], "ready");
    assert_eq!(body["store"], app.state.table.backend_name());
}

async fn an_unknown_route_is_a_404_problem(app: TestApp) {
    let body = expect_problem(app.get("/no/such/thing").await, 404, "no_route").await;
    assert!(body["detail"].as_str().unwrap().contains("/no/such/thing"));
}

async fn a_wrong_method_is_a_405_problem_with_allow(app: TestApp) {
    let response = app.http.delete(app.url("/healthz")).send().await.unwrap();
    let allow = response
        .headers()
        .get("allow")
        .unwrap()
        .to_str()
        .unwrap()
        .to_owned();
    assert!(allow.contains("GET"), "{allow}");
    expect_problem(response, 405, "method_not_allowed").await;
}

async fn a_body_over_the_limit_is_a_413_problem(app: TestApp) {
    let two_mib = vec![b'x'; 2 * 1024 * 1024];
    for path in ["/healthz", "/no/such/route", "/v1/anything"] {
        let response = app
            .http
            .post(app.url(path))
            .header("content-type", "application/json")
            .body(two_mib.clone())
            .send()
            .await
            .unwrap();
        expect_problem(response, 413, "payload_too_large").await;
    }
}

async fn every_response_carries_a_request_id(app: TestApp) {
    let response = app.get("/healthz").await;
    let id = response.headers()["x-request-id"]
        .to_str()
        .unwrap()
        .to_owned();
    assert_eq!(id.len(), 26, "a ULID: {id}");
    let response = app
        .http
        .get(app.url("/nope"))
        .header("x-request-id", "trace-me-123")
        .send()
        .await
        .unwrap();
    assert_eq!(
        response.headers()["x-request-id"],
        "trace-me-123",
        "a caller's id is kept"
    );
}

async fn metrics_count_requests_by_route_template_without_ids(app: TestApp) {
    let r = app.signup().await;
    let missing = format!("/v1/orders/{}", fanorder_platform::id::new_ulid());
    app.call(reqwest::Method::GET, &missing, Some(&r.admin.access), None)
        .await
        .assert_problem(404, "not_found");
    // Any token is a method to HTTP: the ones we do not serve share one label.
    let brew = reqwest::Method::from_bytes(b"BREW").unwrap();
    for _ in 0..2 {
        app.call(brew.clone(), "/v1/menu", None, None).await;
    }
    let text = app.get("/metrics").await.text().await.unwrap();
    assert!(
        text.contains(
            r#"fanorder_http_requests_total{method="GET",route="/v1/orders/{id}",status="404"}"#
        ),
        "{text}"
    );
    assert!(text.contains(r#"method="other""#), "{text}");
    assert!(!text.contains("BREW"), "{text}");
    assert!(
        text.contains("fanorder_http_request_duration_seconds_bucket"),
        "{text}"
    );
    assert!(!text.contains(&r.id), "no tenant ids in metrics");
    assert!(
        !text.contains(&missing[10..]),
        "no ids from paths in metrics"
    );
}
