//! Secrets stay secret: every test app's logs and responses are scanned when the app is dropped
//! (tests/capture.rs); this proves the scan sees them.

use fanorder_blackbox::{TestApp, capture};
use reqwest::Method;
use serde_json::json;

crate::on_both_stores!(secrets:
    what_the_app_logs_and_answers_reaches_the_secret_scan,
);

async fn what_the_app_logs_and_answers_reaches_the_secret_scan(app: TestApp) {
    let (logs_before, responses_before) = capture::captured();
    let r = app.signup().await;
    app.call(
        Method::POST,
        "/v1/auth/login",
        None,
        Some(json!({"tenant": r.slug, "email": r.admin.email, "password": "wrong-password-1"})),
    )
    .await
    .assert_problem(401, "unauthenticated");
    let (logs, responses) = capture::captured();
    assert!(logs > logs_before, "no log line was captured");
    assert!(responses > responses_before, "no response was captured");
}
