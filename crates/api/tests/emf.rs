//! The Lambda functions' metrics in CloudWatch embedded metric format (its own process: the
//! collector becomes the global recorder).

use fanorder_api::lambda::emf;

#[test]
fn an_invocations_metrics_become_emf_documents_with_the_functions_dimension() {
    let collector = emf::install("fanorder-lambda-http").expect("the first recorder");
    metrics::counter!("fanorder_http_requests_total", "method" => "GET", "route" => "/v1/menu", "status" => "200").increment(3);
    metrics::histogram!("fanorder_http_request_duration_seconds", "method" => "GET", "route" => "/v1/menu").record(0.004);
    let mut out = Vec::new();
    emf::flush_to(collector, &mut out);
    let documents: Vec<serde_json::Value> = String::from_utf8(out)
        .unwrap()
        .lines()
        .map(|line| serde_json::from_str(line).unwrap())
        .collect();
    let counter = documents
        .iter()
        .find(|d| d.get("fanorder_http_requests_total").is_some())
        .expect("the request counter");
    assert_eq!(counter["fanorder_http_requests_total"], 3);
    assert_eq!(counter["function"], "fanorder-lambda-http");
    assert_eq!(counter["route"], "/v1/menu");
    let directive = &counter["_aws"]["CloudWatchMetrics"][0];
    assert_eq!(directive["Namespace"], emf::NAMESPACE);
    let dimensions = directive["Dimensions"][0].as_array().unwrap();
    for name in ["function", "method", "route", "status"] {
        assert!(dimensions.contains(&serde_json::json!(name)), "{name}");
    }
    let histogram = documents
        .iter()
        .find(|d| d.get("fanorder_http_request_duration_seconds").is_some())
        .expect("the latency histogram");
    assert_eq!(
        histogram["fanorder_http_request_duration_seconds"],
        serde_json::json!([0.004])
    );
    // Installing again (a second boot in one process) keeps the same collector.
    assert!(emf::install("other").is_some_and(|c| std::ptr::eq(c, collector)));
}
