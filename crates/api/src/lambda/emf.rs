//! Metrics on Lambda: the numbers of docs/metrics.md in CloudWatch embedded metric format.
//!
//! A Lambda function has no port to scrape, so the same `metrics` calls that feed `/metrics`
//! under `fanorder serve` are recorded here by an EMF collector instead (installed before the
//! router, which then finds the global recorder taken and leaves `/metrics` unavailable). After
//! every invocation the collector writes what it gathered to stdout as JSON documents that
//! CloudWatch Logs turns into metrics: namespace `fanorder`, dimension `function` plus each
//! metric's own labels (method, route, status, result, ...).

use std::sync::OnceLock;

use axum::extract::Request;
use axum::middleware::Next;
use axum::response::Response;
use metrics_cloudwatch_embedded::{Builder, Collector};

/// The CloudWatch namespace of every fanorder metric.
pub const NAMESPACE: &str = "fanorder";

static COLLECTOR: OnceLock<Option<&'static Collector>> = OnceLock::new();

/// Installs the EMF collector as the process's recorder, tagged with the function's name, and
/// returns it. Once per process; `None` when another recorder was installed first.
pub fn install(function: &str) -> Option<&'static Collector> {
    *COLLECTOR.get_or_init(|| {
        let installed = Builder::new()
            .cloudwatch_namespace(NAMESPACE)
            .with_dimension("function", function.to_owned())
            .init();
        installed
            .inspect_err(|err| {
                tracing::warn!(error = %err, "no EMF metrics: another recorder is installed");
            })
            .ok()
    })
}

/// Writes what the invocation recorded to stdout (nothing when [`install`] was not called).
pub fn flush() {
    if let Some(Some(collector)) = COLLECTOR.get() {
        flush_to(collector, std::io::stdout().lock());
    }
}

/// Writes what was recorded since the last flush to `writer`.
pub fn flush_to(collector: &Collector, writer: impl std::io::Write) {
    if let Err(err) = collector.flush(writer) {
        tracing::warn!(error = %err, "EMF metrics not written");
    }
}

/// Middleware of the HTTP function: flushes after each response (one request per invocation).
pub async fn flush_after(request: Request, next: Next) -> Response {
    let response = next.run(request).await;
    flush();
    response
}
