//! Prometheus metrics at `GET /metrics`: the `metrics` facade is recorded into one
//! process-wide Prometheus recorder. Every metric is listed in docs/metrics.md. Labels never
//! carry a tenant, an id or a path with ids in it (routes are templates), so the series stay few
//! and nothing about a restaurant leaks.

use std::sync::OnceLock;
use std::time::Duration;

use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
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
    let route = metrics::SharedString::from(std::sync::Arc::<str>::from(route));
    let status = metrics::SharedString::from(status.as_str().to_owned());
    metrics::counter!("fanorder_http_requests_total", "method" => method.clone(), "route" => route.clone(), "status" => status)
        .increment(1);
    metrics::histogram!("fanorder_http_request_duration_seconds", "method" => method, "route" => route)
        .record(took.as_secs_f64());
}

/// The method as a label, without an allocation for the usual ones.
fn method_label(method: &http::Method) -> metrics::SharedString {
    const KNOWN: [&str; 7] = ["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"];
    match KNOWN.iter().find(|known| **known == method.as_str()) {
        Some(known) => metrics::SharedString::const_str(known),
        None => metrics::SharedString::from(method.as_str().to_owned()),
    }
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
