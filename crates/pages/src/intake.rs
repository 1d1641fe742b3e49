//! The Messenger webhook: the subscription handshake, and event intake that answers Facebook
//! fast. A POST is checked (signature over the raw bytes, before anything is parsed), read, and
//! each event is stored once (a conditional put on its dedupe key: Facebook retries) under the
//! tenant its page belongs to. The 200 goes out as soon as the events are committed; the bot
//! runs afterwards (the local worker, or the stream processor on AWS).

use std::collections::HashMap;
use std::sync::{Arc, LazyLock};
use std::time::Duration;

use axum::body::Bytes;
use axum::extract::{FromRef, FromRequestParts, Query, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use fanorder_messenger::webhook::{self, Event, EventKind};
use fanorder_platform::error::ProblemSchema;
use fanorder_platform::{ApiError, Clock, TenantId};
use fanorder_store::{StoreError, Table};
use tokio::sync::Notify;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::model::parse_page_id;
use crate::store::{self, Inbound};

/// `fanorder_webhook_events_total` by result, registered on first use (the server installs its
/// recorder before it serves): looking a series up by its labels on every request cost about
/// a microsecond.
struct EventCounters {
    stored: metrics::Counter,
    duplicate: metrics::Counter,
    skipped: metrics::Counter,
}

static EVENTS: LazyLock<EventCounters> = LazyLock::new(|| {
    let result = |result: &'static str| metrics::counter!("fanorder_webhook_events_total", "result" => result);
    EventCounters {
        stored: result("stored"),
        duplicate: result("duplicate"),
        skipped: result("skipped"),
    }
});

/// The most events one POST may carry (Facebook batches up to a few hundred).
pub const MAX_EVENTS: usize = 1000;
/// The largest webhook body accepted.
pub const MAX_BODY: usize = 4 * 1024 * 1024;

/// What the webhook needs: the app secret and verify token, a cache of which active
/// restaurant holds each page, and the worker's wake-up. Shared: each request takes a clone.
#[derive(Clone)]
pub struct Intake(Arc<Parts>);

struct Parts {
    app_secret: Vec<u8>,
    verify_token: String,
    /// Page id to the active restaurant holding it.
    routes: moka::future::Cache<String, Option<TenantId>>,
    pending: bool,
    wake: Arc<Notify>,
}

impl std::fmt::Debug for Intake {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Intake")
            .field("pending", &self.0.pending)
            .finish_non_exhaustive()
    }
}

impl Intake {
    /// The intake with the app secret and verify token; `pending` puts new events in the
    /// pending index for a local worker (off on AWS, where the stream delivers them).
    pub fn new(app_secret: &[u8], verify_token: &str, pending: bool) -> Self {
        let ttl = Duration::from_secs(30);
        Self(Arc::new(Parts {
            app_secret: app_secret.to_vec(),
            verify_token: verify_token.to_owned(),
            routes: moka::future::Cache::builder()
                .max_capacity(100_000)
                .time_to_live(ttl)
                .build(),
            pending,
            wake: Arc::new(Notify::new()),
        }))
    }

    /// What the worker waits on.
    pub fn wake_signal(&self) -> Arc<Notify> {
        self.0.wake.clone()
    }

    /// Forgets a page's route (after it was connected or disconnected here).
    pub async fn forget(&self, page_id: &str) {
        self.0.routes.invalidate(page_id).await;
    }

    /// The restaurant that holds a page, when it is active: one cached answer per page, for
    /// 30 s (a route and a status read on a miss; connecting or disconnecting here forgets it).
    async fn tenant_of(&self, table: &Table, page_id: &str) -> Result<Option<TenantId>, ApiError> {
        self.0
            .routes
            .try_get_with_by_ref(page_id, async {
                let Some(tenant) = store::route(table, page_id).await? else {
                    return Ok(None);
                };
                let active = fanorder_staff::store::tenant(table, &tenant)
                    .await?
                    .is_some_and(|t| t.status == fanorder_staff::Status::Active);
                Ok::<_, ApiError>(active.then_some(tenant))
            })
            .await
            .map_err(|e| ApiError::unavailable(e.to_string()))
    }
}

/// The routes.
pub fn router<S>() -> OpenApiRouter<S>
where
    S: Clone + Send + Sync + 'static,
    Table: FromRef<S>,
    Clock: FromRef<S>,
    Intake: FromRef<S>,
{
    OpenApiRouter::new().routes(routes!(handshake, receive))
}

/// Facebook's subscription check: echoes `hub.challenge` when `hub.verify_token` matches.
#[utoipa::path(
    get, path = "/webhooks/messenger", tag = "messenger",
    params(
        ("hub.mode" = Option<String>, Query, description = "`subscribe`"),
        ("hub.verify_token" = Option<String>, Query, description = "Must equal FANORDER_FB_VERIFY_TOKEN"),
        ("hub.challenge" = Option<String>, Query, description = "Echoed back"),
    ),
    responses(
        (status = 200, description = "The challenge, as text", body = String, content_type = "text/plain"),
        (status = 403, description = "Wrong mode or verify token", body = ProblemSchema, content_type = "application/problem+json"),
    )
)]
async fn handshake(
    State(intake): State<Intake>,
    Query(params): Query<HashMap<String, String>>,
) -> Result<Response, ApiError> {
    let mode = params.get("hub.mode").map(String::as_str);
    let token = params
        .get("hub.verify_token")
        .map(String::as_str)
        .unwrap_or_default();
    let challenge = params.get("hub.challenge").cloned().unwrap_or_default();
    let token_ok = token.len() == intake.0.verify_token.len()
        && token
            .bytes()
            .zip(intake.0.verify_token.bytes())
            .fold(0u8, |acc, (a, b)| acc | (a ^ b))
            == 0;
    if mode != Some("subscribe") || !token_ok || challenge.len() > 1000 {
        return Err(ApiError::Forbidden(
            "the verify token does not match".into(),
        ));
    }
    Ok((
        [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
        challenge,
    )
        .into_response())
}

/// The customer (PSID) of an event: the sender, or for echoes (the page writing) the recipient.
pub fn customer_of(event: &Event) -> Option<String> {
    match &event.kind {
        EventKind::Message { is_echo: true, .. } => event.recipient.clone(),
        _ => event.sender.clone(),
    }
}

/// The `X-Hub-Signature-256` header of a request, alone: the `HeaderMap` extractor clones every
/// header for it, about a microsecond a webhook.
struct HubSignature(Option<HeaderValue>);

impl<S: Send + Sync> FromRequestParts<S> for HubSignature {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(
        parts: &mut axum::http::request::Parts,
        _state: &S,
    ) -> Result<Self, Self::Rejection> {
        Ok(Self(parts.headers.get(webhook::SIGNATURE_HEADER).cloned()))
    }
}

/// Facebook's event delivery. The signature over the raw body is checked before anything is
/// read (401 and nothing stored otherwise); each event is stored once, under the restaurant its
/// page belongs to (unknown pages and deactivated restaurants are logged and skipped); then 200.
#[utoipa::path(
    post, path = "/webhooks/messenger", tag = "messenger",
    params(("X-Hub-Signature-256" = String, Header, description = "`sha256=<hex HMAC-SHA256 of the raw body with the app secret>`")),
    request_body(content = Object, description = "A Messenger Platform webhook body", content_type = "application/json"),
    responses(
        (status = 200, description = "Stored (or duplicates of stored events)", body = String, content_type = "text/plain"),
        (status = 400, description = "Not a webhook body", body = ProblemSchema, content_type = "application/problem+json"),
        (status = 401, description = "Missing or wrong signature", body = ProblemSchema, content_type = "application/problem+json"),
        (status = 413, description = "Too large, or too many events", body = ProblemSchema, content_type = "application/problem+json"),
    )
)]
async fn receive(
    State(table): State<Table>,
    State(clock): State<Clock>,
    State(intake): State<Intake>,
    HubSignature(signature): HubSignature,
    body: Bytes,
) -> Result<Response, ApiError> {
    let signature = signature.as_ref().and_then(|v| v.to_str().ok());
    if !webhook::signature_valid(&intake.0.app_secret, signature, &body) {
        return Err(ApiError::Unauthenticated(
            "missing or invalid X-Hub-Signature-256".into(),
        ));
    }
    let parsed =
        webhook::parse(&body).map_err(|e| ApiError::bad_request("not_a_webhook", e.to_string()))?;
    let total: usize = parsed.entries.iter().map(|e| e.events.len()).sum();
    if total > MAX_EVENTS {
        return Err(ApiError::PayloadTooLarge);
    }
    if parsed.entries.is_empty() {
        tracing::warn!(
            object = %parsed.object,
            bytes = body.len(),
            "signed webhook body with no entry a page id routes; acknowledged, nothing stored"
        );
    }
    let now = clock.now();
    let mut puts = Vec::with_capacity(total);
    for entry in &parsed.entries {
        let Some(tenant) = intake.tenant_of(&table, &entry.page_id).await? else {
            EVENTS.skipped.increment(entry.events.len() as u64);
            tracing::info!(page_id = %entry.page_id, events = entry.events.len(), "webhook for a page no active restaurant holds; skipped");
            continue;
        };
        for event in &entry.events {
            let inbound = Inbound {
                page_id: entry.page_id.clone(),
                // Real PSIDs are digits; an id that could not be one (test payloads carry
                // "<USER_ID>") is kept in the inbox but starts no conversation.
                psid: customer_of(event).filter(|id| parse_page_id(id).is_ok()),
                dedupe: event.dedupe_key(),
                event: serde_json::to_string(event).map_err(ApiError::internal)?,
                standby: event.standby,
                received_at: now,
            };
            puts.push(store::inbox_put(
                &table,
                &tenant,
                &inbound,
                event.timestamp_ms,
                intake.0.pending,
            )?);
        }
    }
    // Concurrent conditional puts: the embedded store commits them together; a duplicate is
    // a failed condition, which is the point.
    let results = futures::future::join_all(puts.into_iter().map(|put| table.put(put))).await;
    let (mut stored, mut duplicates, mut too_large, mut failed) = (0u64, 0u64, 0u64, None);
    for result in results {
        match result {
            Ok(()) => stored += 1,
            Err(StoreError::ConditionFailed { .. }) => duplicates += 1,
            // Facebook would send it again and again: no retry can store it.
            Err(StoreError::ItemTooLarge) => too_large += 1,
            Err(err) => failed = failed.or(Some(err)),
        }
    }
    if too_large > 0 {
        EVENTS.skipped.increment(too_large);
        tracing::warn!(
            events = too_large,
            "webhook events larger than an item can hold; skipped"
        );
    }
    EVENTS.stored.increment(stored);
    EVENTS.duplicate.increment(duplicates);
    if stored > 0 {
        intake.0.wake.notify_one();
    }
    if let Some(err) = failed {
        // Facebook sends the body again; what was stored is then a duplicate.
        return Err(err.into());
    }
    Ok((
        StatusCode::OK,
        [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
        "EVENT_RECEIVED",
    )
        .into_response())
}
