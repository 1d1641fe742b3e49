//! The middleware every request passes through, as one layer: each tower layer costs a clone
//! of the layers below it and a boxed future per request, and the ten separate layers this
//! replaces were a fifth of the webhook intake's cost (BENCHMARKS.md). In order: a request id,
//! a trace span, metrics, the problem+json shape for errors from lower down, panic capture, a
//! time limit, the per-address limit of the public routes, the restaurant's turn (bulkhead), a
//! body-size limit, and the request's tenant slot (`fanorder_platform::tenancy`). Unknown paths
//! and methods answer 404/405 as problem+json.

use std::panic::AssertUnwindSafe;
use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::Router;
use axum::body::Body;
use axum::extract::{DefaultBodyLimit, MatchedPath, Request, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use fanorder_platform::ApiError;
use fanorder_platform::error::problem_response;
use futures::FutureExt;
use http_body_util::BodyExt;
use tracing::Instrument;

/// The header carrying the request id, in and out.
pub const REQUEST_ID: &str = "x-request-id";

/// Size, time and rate limits.
#[derive(Debug, Clone)]
pub struct Limits {
    /// Budget per client address for the public routes that create or open sessions (sign-up,
    /// login, refresh, customer registration); none: unlimited.
    pub public_rate: Option<fanorder_platform::limits::RateLimiter>,
    /// The largest body accepted, in bytes.
    pub body: usize,
    /// The largest body accepted under `/webhooks/` (Facebook batches up to 1000 events).
    pub webhook_body: usize,
    /// How long a request may take.
    pub timeout: Duration,
    /// Each restaurant's turns (the bulkhead) and the keys that tell whose a bearer token is;
    /// none: unlimited.
    pub tenant_turns: Option<(
        fanorder_platform::limits::Bulkhead,
        Arc<fanorder_platform::auth::TokenKeys>,
    )>,
}

/// Wraps the routes in the standard stack.
pub fn wrap<S: Clone + Send + Sync + 'static>(routes: Router<S>, limits: Limits) -> Router<S> {
    // The layer is cloned for every request: one shared reference, not the limiters' maps.
    let limits = Arc::new(limits);
    routes
        .fallback(no_route)
        .method_not_allowed_fallback(method_not_allowed)
        // Our own limit below replaces axum's default 2 MB extractor limit.
        .layer(DefaultBodyLimit::disable())
        .layer(middleware::from_fn_with_state(limits, stack))
}

/// The whole stack around one request.
async fn stack(State(limits): State<Arc<Limits>>, mut request: Request, next: Next) -> Response {
    let started = Instant::now();
    let request_id = match request.headers().get(REQUEST_ID) {
        Some(id) => id.clone(),
        None => {
            let id = new_request_id();
            request.headers_mut().insert(REQUEST_ID, id.clone());
            id
        }
    };
    let method = request.method().clone();
    // The matched route template, not the raw path: ids in paths would explode cardinality.
    let route = request.extensions().get::<MatchedPath>().cloned();
    let route = route.as_ref().map_or("unmatched", MatchedPath::as_str);
    let span = make_span(&method, route, &request_id);
    let response = guarded(&limits, request, next)
        .instrument(span.clone())
        .await;
    let mut response = problemify(response).await;
    let latency = started.elapsed();
    span.in_scope(|| on_response(&response, latency));
    crate::metrics::record(&method, route, response.status(), latency);
    response
        .headers_mut()
        .entry(REQUEST_ID)
        .or_insert(request_id);
    response
}

/// The request within its time limit, a panic caught as a 500, after the limits.
async fn guarded(limits: &Limits, request: Request, next: Next) -> Response {
    let work = async {
        // (What the limits need is read first: a request's body may not be held by reference
        // across an await.)
        if let Some((rate, addr)) = public_budget(limits, &request)
            && let Err(retry_after) = rate.admit(&addr).await
        {
            return ApiError::RateLimited { retry_after }.into_response();
        }
        let _turn = match turn_of(limits, &request) {
            Some((bulkhead, tenant)) => Some(bulkhead.enter(&tenant).await),
            None => None,
        };
        let request = match limit_body(limits, request).await {
            Ok(request) => request,
            Err(refused) => return refused,
        };
        // The tenant slot is filled once by whatever learns the tenant from a credential (the
        // bearer token's extractor, a refresh token, the slug at login); on AWS it picks the
        // tenant-scoped DynamoDB credentials.
        fanorder_platform::tenancy::request(next.run(request)).await
    };
    match tokio::time::timeout(limits.timeout, AssertUnwindSafe(work).catch_unwind()).await {
        Ok(Ok(response)) => response,
        Ok(Err(panic)) => on_panic(panic),
        // Shaped by `problemify` like every other bodiless error.
        Err(_elapsed) => StatusCode::SERVICE_UNAVAILABLE.into_response(),
    }
}

/// Request ids are ULIDs: sortable, and unique without coordination. An id sent by the client
/// (or API Gateway) is kept and echoed; the trace span takes it when it is short and printable.
fn new_request_id() -> HeaderValue {
    let mut buf = [0u8; fanorder_platform::id::ULID_LEN];
    let id = fanorder_platform::id::new_ulid().array_to_str(&mut buf);
    HeaderValue::from_str(id).unwrap_or_else(|_| unreachable!("a ULID is ASCII"))
}

fn make_span(method: &http::Method, route: &str, request_id: &HeaderValue) -> tracing::Span {
    let request_id = request_id
        .to_str()
        .ok()
        .filter(|v| v.len() <= 64)
        .unwrap_or("-");
    tracing::info_span!(
        "request",
        method = %method,
        route,
        request_id,
        tenant_id = tracing::field::Empty,
        order_id = tracing::field::Empty,
    )
}

fn on_response(response: &Response, latency: Duration) {
    let status = response.status().as_u16();
    let latency_ms = latency.as_secs_f64() * 1000.0;
    if response.status().is_server_error() {
        tracing::warn!(status, latency_ms, "response");
    } else {
        tracing::info!(status, latency_ms, "response");
    }
}

fn on_panic(panic: Box<dyn std::any::Any + Send + 'static>) -> Response {
    let message = panic
        .downcast_ref::<String>()
        .map(String::as_str)
        .or_else(|| panic.downcast_ref::<&str>().copied())
        .unwrap_or("panic");
    ApiError::internal(format!("handler panicked: {message}")).into_response()
}

async fn no_route(request: Request) -> ApiError {
    ApiError::NoRoute(format!("{} {}", request.method(), request.uri().path()))
}

async fn method_not_allowed() -> ApiError {
    ApiError::MethodNotAllowed
}

/// The public routes that create accounts or sessions: what a script from one address would
/// hammer.
const PUBLIC_LIMITED: [&str; 4] = [
    "/v1/tenants",
    "/v1/auth/login",
    "/v1/auth/refresh",
    "/v1/customers",
];

/// The budget a request spends and the key it spends it under: the client address, on the
/// public routes, when they are limited. Once it is spent the answer is 429 with
/// `Retry-After`.
fn public_budget<'a>(
    limits: &'a Limits,
    request: &Request,
) -> Option<(&'a fanorder_platform::limits::RateLimiter, String)> {
    let rate = limits.public_rate.as_ref()?;
    let limited =
        request.method() == http::Method::POST && PUBLIC_LIMITED.contains(&request.uri().path());
    limited.then(|| {
        let addr = fanorder_platform::limits::ClientAddr::of(request.extensions());
        (rate, addr.0)
    })
}

/// The bulkhead and the restaurant whose turn a request waits for, held while it is worked on
/// (the response's headers; a stream's body is not counted). The tenant comes from a bearer
/// token that verifies; requests without one (webhooks, sign-up, login) and forged tokens
/// pass, to be refused or served by what follows. A live stream's request returns at once, so
/// it holds no turn.
fn turn_of<'a>(
    limits: &'a Limits,
    request: &Request,
) -> Option<(&'a fanorder_platform::limits::Bulkhead, String)> {
    let (bulkhead, keys) = limits.tenant_turns.as_ref()?;
    let token = fanorder_platform::auth::bearer_in(request.headers())?;
    let tenant = keys.verify(token).ok()?.tenant;
    Some((bulkhead, tenant.to_string()))
}

/// The largest oversized body still read to the end before the 413 (see [`limit_body`]).
const DRAIN_CEILING: u64 = 16 * 1024 * 1024;
/// How long draining an oversized body may take.
const DRAIN_TIMEOUT: Duration = Duration::from_secs(5);

/// Refuses bodies over the limit: at once when Content-Length says so, otherwise while reading.
async fn limit_body(limits: &Limits, request: Request) -> Result<Request, Response> {
    let limit = if request.uri().path().starts_with("/webhooks/") {
        limits.webhook_body.max(limits.body)
    } else {
        limits.body
    };
    let declared = request
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if let Some(len) = declared.filter(|len| *len > limit as u64) {
        // Read (and drop) a moderately oversized body before answering: closing the connection
        // with the client still sending makes the kernel reset it, and many clients then lose
        // the 413 and see only "connection reset". Bodies past the ceiling are not worth it.
        if len <= DRAIN_CEILING {
            let drain =
                http_body_util::Limited::new(request.into_body(), DRAIN_CEILING as usize).collect();
            let _ = tokio::time::timeout(DRAIN_TIMEOUT, drain).await;
        }
        let mut response = ApiError::PayloadTooLarge.into_response();
        response
            .headers_mut()
            .insert(header::CONNECTION, HeaderValue::from_static("close"));
        return Err(response);
    }
    Ok(request.map(|body| Body::new(http_body_util::Limited::new(body, limit))))
}

/// Gives every error response that is not already problem+json our problem shape: errors of
/// lower layers (timeouts, limits, carrying no body) and axum's own plain-text rejections
/// (a bad path parameter or query string), so every error a client sees looks the same. A page
/// written for a person (HTML, such as the mock checkout's refusals) stays as it was written.
async fn problemify(response: Response) -> Response {
    let status = response.status();
    let is_shaped = response
        .headers()
        .get(header::CONTENT_TYPE)
        .is_some_and(|v| {
            let v = v.as_bytes();
            v.starts_with(fanorder_platform::error::PROBLEM_JSON.as_bytes())
                || v.starts_with(b"text/html")
        });
    if !(status.is_client_error() || status.is_server_error()) || is_shaped {
        return response;
    }
    let (parts, body) = response.into_parts();
    // A plain-text rejection says what was wrong; keep it as the detail (bounded).
    let text = http_body_util::Limited::new(body, 4096)
        .collect()
        .await
        .map(|collected| {
            String::from_utf8_lossy(&collected.to_bytes())
                .trim()
                .to_owned()
        })
        .unwrap_or_default();
    let (code, fallback) = match status {
        StatusCode::SERVICE_UNAVAILABLE | StatusCode::REQUEST_TIMEOUT => {
            ("timeout", "the request took too long and was abandoned")
        }
        StatusCode::PAYLOAD_TOO_LARGE => (
            "payload_too_large",
            "the request body is larger than this route accepts",
        ),
        StatusCode::NOT_FOUND => ("no_route", "no route for this path"),
        StatusCode::METHOD_NOT_ALLOWED => ("method_not_allowed", "method not allowed"),
        StatusCode::UNSUPPORTED_MEDIA_TYPE => {
            ("unsupported_media_type", "unsupported content type")
        }
        StatusCode::BAD_REQUEST => ("bad_request", "the request could not be read"),
        StatusCode::UNPROCESSABLE_ENTITY => ("validation_failed", "the request has invalid fields"),
        _ if status.is_server_error() => (
            "internal",
            "an unexpected error occurred; it has been logged",
        ),
        _ => ("error", "the request failed"),
    };
    let detail = if text.is_empty() || status.is_server_error() {
        fallback.to_owned()
    } else {
        text
    };
    let mut problem = problem_response(status, code, detail, Vec::new(), None, None);
    // Keep headers the lower layer set (Allow on 405, for instance), but not its body's.
    for (name, value) in &parts.headers {
        if name != header::CONTENT_TYPE && name != header::CONTENT_LENGTH {
            problem
                .headers_mut()
                .entry(name)
                .or_insert_with(|| value.clone());
        }
    }
    problem
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::body::Bytes;
    use axum::routing::{get, post};
    use tower::ServiceExt;

    fn app(timeout: Duration) -> Router {
        let routes = Router::new()
            .route(
                "/echo",
                post(|body: Bytes| async move { body.len().to_string() }),
            )
            .route("/v1/auth/login", post(|| async { "ok" }))
            .route(
                "/webhooks/echo",
                post(|body: Bytes| async move { body.len().to_string() }),
            )
            .route(
                "/slow",
                get(|| async {
                    tokio::time::sleep(Duration::from_secs(5)).await;
                    "done"
                }),
            )
            .route(
                "/refused",
                get(|| async {
                    (
                        StatusCode::CONFLICT,
                        [(header::CONTENT_TYPE, "text/html; charset=utf-8")],
                        "<p>Refused</p>",
                    )
                }),
            )
            .route(
                "/plain",
                get(|| async { (StatusCode::BAD_REQUEST, "bad query") }),
            )
            .route(
                "/panic",
                get(|| async {
                    if true {
                        panic!("boom");
                    }
                    "unreachable"
                }),
            );
        wrap(
            routes,
            Limits {
                public_rate: Some(fanorder_platform::limits::RateLimiter::per_minute(
                    std::num::NonZeroU32::new(60).unwrap(),
                    std::num::NonZeroU32::new(2).unwrap(),
                )),
                body: 1024,
                webhook_body: 2048,
                timeout,
                tenant_turns: None,
            },
        )
    }

    async fn problem(response: Response) -> (StatusCode, serde_json::Value) {
        let status = response.status();
        assert_eq!(
            response.headers()[header::CONTENT_TYPE],
            "application/problem+json"
        );
        let bytes = response.into_body().collect().await.unwrap().to_bytes();
        (status, serde_json::from_slice(&bytes).unwrap())
    }

    #[tokio::test]
    async fn a_body_within_the_limit_is_read() {
        let request = http::Request::post("/echo")
            .body(Body::from(vec![b'x'; 1024]))
            .unwrap();
        let response = app(Duration::from_secs(5)).oneshot(request).await.unwrap();
        assert_eq!(response.status(), StatusCode::OK);
    }

    #[tokio::test]
    async fn public_routes_are_limited_per_address_with_retry_after() {
        let app = app(Duration::from_secs(5));
        let login = || {
            http::Request::post("/v1/auth/login")
                .body(Body::empty())
                .unwrap()
        };
        for _ in 0..2 {
            let ok = app.clone().oneshot(login()).await.unwrap();
            assert_eq!(ok.status(), StatusCode::OK);
        }
        let limited = app.clone().oneshot(login()).await.unwrap();
        assert!(limited.headers().contains_key(header::RETRY_AFTER));
        let (status, body) = problem(limited).await;
        assert_eq!(status, StatusCode::TOO_MANY_REQUESTS);
        assert_eq!(body["code"], "rate_limited");
        // Other routes are not counted.
        let other = http::Request::post("/echo").body(Body::empty()).unwrap();
        assert_eq!(app.oneshot(other).await.unwrap().status(), StatusCode::OK);
    }

    #[tokio::test]
    async fn webhooks_take_their_own_larger_limit() {
        let send = |path: &str, len: usize| {
            http::Request::post(path)
                .header(header::CONTENT_LENGTH, len.to_string())
                .body(Body::from(vec![b'x'; len]))
                .unwrap()
        };
        let app = app(Duration::from_secs(5));
        let within = app
            .clone()
            .oneshot(send("/webhooks/echo", 2048))
            .await
            .unwrap();
        assert_eq!(within.status(), StatusCode::OK);
        let over = app
            .clone()
            .oneshot(send("/webhooks/echo", 2049))
            .await
            .unwrap();
        assert_eq!(over.status(), StatusCode::PAYLOAD_TOO_LARGE);
        let elsewhere = app.oneshot(send("/echo", 2048)).await.unwrap();
        assert_eq!(elsewhere.status(), StatusCode::PAYLOAD_TOO_LARGE);
    }

    #[tokio::test]
    async fn a_declared_oversized_body_is_refused_before_reading() {
        let request = http::Request::post("/echo")
            .header(header::CONTENT_LENGTH, "1025")
            .body(Body::from(vec![b'x'; 1025]))
            .unwrap();
        let (status, body) =
            problem(app(Duration::from_secs(5)).oneshot(request).await.unwrap()).await;
        assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE);
        assert_eq!(body["code"], "payload_too_large");
    }

    #[tokio::test]
    async fn a_streamed_oversized_body_is_refused_while_reading() {
        let chunks = futures::stream::iter(
            (0..4).map(|_| Ok::<_, std::io::Error>(Bytes::from(vec![b'x'; 512]))),
        );
        let request = http::Request::post("/echo")
            .body(Body::from_stream(chunks))
            .unwrap();
        let (status, body) =
            problem(app(Duration::from_secs(5)).oneshot(request).await.unwrap()).await;
        assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE);
        assert_eq!(body["code"], "payload_too_large");
    }

    #[tokio::test]
    async fn a_slow_request_is_abandoned_with_a_problem() {
        let request = http::Request::get("/slow").body(Body::empty()).unwrap();
        let (status, body) = problem(
            app(Duration::from_millis(50))
                .oneshot(request)
                .await
                .unwrap(),
        )
        .await;
        assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
        assert_eq!(body["code"], "timeout");
    }

    #[tokio::test]
    async fn a_panic_is_a_500_problem_without_details() {
        let request = http::Request::get("/panic").body(Body::empty()).unwrap();
        let (status, body) =
            problem(app(Duration::from_secs(5)).oneshot(request).await.unwrap()).await;
        assert_eq!(status, StatusCode::INTERNAL_SERVER_ERROR);
        assert_eq!(body["code"], "internal");
        assert!(!body.to_string().contains("boom"));
    }

    #[tokio::test]
    async fn an_html_page_keeps_its_shape_and_plain_text_becomes_a_problem() {
        let get = |path: &str| http::Request::get(path).body(Body::empty()).unwrap();
        let page = app(Duration::from_secs(5))
            .oneshot(get("/refused"))
            .await
            .unwrap();
        assert_eq!(page.status(), StatusCode::CONFLICT);
        assert_eq!(
            page.headers()[header::CONTENT_TYPE],
            "text/html; charset=utf-8"
        );
        let bytes = page.into_body().collect().await.unwrap().to_bytes();
        assert_eq!(&bytes[..], b"<p>Refused</p>");
        let (status, body) = problem(
            app(Duration::from_secs(5))
                .oneshot(get("/plain"))
                .await
                .unwrap(),
        )
        .await;
        assert_eq!(status, StatusCode::BAD_REQUEST);
        assert_eq!(body["detail"], "bad query");
    }

    #[tokio::test]
    async fn the_request_id_is_made_or_kept_and_echoed() {
        let response = app(Duration::from_secs(5))
            .oneshot(http::Request::get("/nope").body(Body::empty()).unwrap())
            .await
            .unwrap();
        assert_eq!(response.headers()[REQUEST_ID].len(), 26);
        let response = app(Duration::from_secs(5))
            .oneshot(
                http::Request::get("/nope")
                    .header(REQUEST_ID, "abc")
                    .body(Body::empty())
                    .unwrap(),
            )
            .await
            .unwrap();
        assert_eq!(response.headers()[REQUEST_ID], "abc");
    }
}
