//! Prometheus metrics at `GET /metrics`: the `metrics` facade is recorded into one
//! process-wide Prometheus recorder. Every metric is listed in docs/metrics.md. Labels never
//! carry a tenant, an id or a path with ids in it (routes are templates), so the series stay few
//! and nothing about a restaurant leaks.

use std::collections::HashMap;
use std::sync::{LazyLock, OnceLock, PoisonError, RwLock};
use std::time::Duration;

use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use metrics::{Counter, Histogram, Label};
use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};

/// Latency buckets in seconds, from a cache hit to a slow store call.
const LATENCY_BUCKETS: &[f64] = &[
    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
];

/// How often recorded histogram values are folded into their buckets.
const UPKEEP_EVERY: Duration = Duration::from_secs(5);

/// The upkeep thread's name.
const UPKEEP_THREAD: &str = "metrics-upkeep";

static HANDLE: OnceLock<Option<PrometheusHandle>> = OnceLock::new();

/// Installs the process-wide recorder (once; later calls reuse it) and starts its upkeep.
/// `None` when another recorder was installed first (then `/metrics` says so).
///
/// The recorder keeps every histogram value it is given until upkeep folds them into the
/// buckets, and only a scrape ran upkeep before: a server nobody scraped kept eight bytes per
/// request for ever (about 1 MiB a minute at 2,500 requests a second). A thread now does it
/// every [`UPKEEP_EVERY`], scraped or not.
pub fn handle() -> Option<&'static PrometheusHandle> {
    HANDLE
        .get_or_init(|| {
            let handle = PrometheusBuilder::new()
                .set_buckets_for_metric(
                    Matcher::Suffix("duration_seconds".to_owned()),
                    LATENCY_BUCKETS,
                )
                .ok()?
                .install_recorder()
                .ok()?;
            let upkeep = handle.clone();
            let started = std::thread::Builder::new()
                .name(UPKEEP_THREAD.to_owned())
                .spawn(move || {
                    loop {
                        std::thread::sleep(UPKEEP_EVERY);
                        upkeep.run_upkeep();
                    }
                });
            if let Err(err) = started {
                tracing::error!(error = %err, "no metrics upkeep thread: histograms grow until scraped");
            }
            Some(handle)
        })
        .as_ref()
}

/// `GET /metrics`: the text exposition format.
pub async fn render() -> Response {
    match handle() {
        Some(handle) => {
            handle.run_upkeep();
            (
                [(
                    header::CONTENT_TYPE,
                    HeaderValue::from_static("text/plain; version=0.0.4; charset=utf-8"),
                )],
                handle.render(),
            )
                .into_response()
        }
        None => fanorder_platform::ApiError::unavailable("no metrics recorder").into_response(),
    }
}

/// Counts a request by method, route template and status, and records how long it took
/// (called by the middleware for every request).
pub fn record(method: &http::Method, route: &str, status: http::StatusCode, took: Duration) {
    let method = method_label(method);
    let (count, duration) = series(method, route, status);
    count.increment(1);
    duration.record(took.as_secs_f64());
}

/// The series of one route: (method, status, request count, duration).
type RouteSeries = Vec<(&'static str, http::StatusCode, Counter, Histogram)>;

/// Series already registered, by route template. Registering looks the series up by its
/// labels, which hashes and allocates them: about a microsecond and a half per request in the
/// webhook benchmark's profile. Routes, methods and statuses are each a small fixed set, so
/// this stays small.
static SERIES: LazyLock<RwLock<HashMap<String, RouteSeries>>> = LazyLock::new(Default::default);

fn series(method: &'static str, route: &str, status: http::StatusCode) -> (Counter, Histogram) {
    let known = |all: &HashMap<String, RouteSeries>| {
        all.get(route)?
            .iter()
            .find(|(m, s, ..)| *m == method && *s == status)
            .map(|(_, _, count, duration)| (count.clone(), duration.clone()))
    };
    if let Some(found) = known(&SERIES.read().unwrap_or_else(PoisonError::into_inner)) {
        return found;
    }
    let mut all = SERIES.write().unwrap_or_else(PoisonError::into_inner);
    if let Some(found) = known(&all) {
        return found;
    }
    let labels = |with_status: bool| {
        let mut labels = vec![
            Label::from_static_parts("method", method),
            Label::new("route", route.to_owned()),
        ];
        if with_status {
            labels.push(Label::new("status", status.as_str().to_owned()));
        }
        labels
    };
    let count = metrics::counter!("fanorder_http_requests_total", labels(true));
    let duration = metrics::histogram!("fanorder_http_request_duration_seconds", labels(false));
    all.entry(route.to_owned()).or_default().push((
        method,
        status,
        count.clone(),
        duration.clone(),
    ));
    (count, duration)
}

/// The method as a label: one of the usual ones, or `other` (a client may send any token as
/// a method, and each would have been a series of its own).
fn method_label(method: &http::Method) -> &'static str {
    const KNOWN: [&str; 7] = ["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"];
    KNOWN
        .into_iter()
        .find(|known| *known == method.as_str())
        .unwrap_or("other")
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The thread names of this process.
    #[cfg(target_os = "linux")]
    fn threads() -> Vec<String> {
        std::fs::read_dir("/proc/self/task")
            .unwrap()
            .filter_map(|task| std::fs::read_to_string(task.ok()?.path().join("comm")).ok())
            .map(|name| name.trim().to_owned())
            .collect()
    }

    /// How many threads of this process have the upkeep thread's name. A new thread names
    /// itself once it runs (until then it has its parent's name), so this waits a moment for it.
    #[cfg(target_os = "linux")]
    fn upkeep_threads() -> usize {
        let count = || threads().iter().filter(|n| *n == UPKEEP_THREAD).count();
        let deadline = std::time::Instant::now() + Duration::from_secs(5);
        while count() == 0 && std::time::Instant::now() < deadline {
            std::thread::yield_now();
        }
        count()
    }

    #[test]
    fn each_method_route_and_status_counts_in_its_own_series() {
        let handle = handle().unwrap();
        let get = http::Method::GET;
        let ok = http::StatusCode::OK;
        let took = Duration::from_millis(1);
        for _ in 0..3 {
            record(&get, "/test/counted", ok, took);
        }
        record(&http::Method::POST, "/test/counted", ok, took);
        record(&get, "/test/counted", http::StatusCode::NOT_FOUND, took);
        record(&get, "/test/other-route", ok, took);
        let brew = http::Method::from_bytes(b"BREW").unwrap();
        record(&brew, "/test/counted", ok, took);
        let text = handle.render();
        for (series, count) in [
            (r#"method="GET",route="/test/counted",status="200""#, 3),
            (r#"method="POST",route="/test/counted",status="200""#, 1),
            (r#"method="GET",route="/test/counted",status="404""#, 1),
            (r#"method="GET",route="/test/other-route",status="200""#, 1),
            (r#"method="other",route="/test/counted",status="200""#, 1),
        ] {
            let line = format!("fanorder_http_requests_total{{{series}}} {count}");
            assert!(text.lines().any(|l| l == line), "{line} in {text}");
        }
    }

    #[cfg(target_os = "linux")]
    #[test]
    fn histograms_are_kept_small_without_a_scrape() {
        assert!(handle().is_some());
        assert_eq!(upkeep_threads(), 1, "{:?}", threads());
        // A second call reuses the recorder and its one thread.
        handle();
        assert_eq!(upkeep_threads(), 1, "{:?}", threads());
    }
}
