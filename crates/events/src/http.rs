//! `GET /v1/events`: the restaurant's event log, oldest first; `GET /v1/stream`: the same
//! events live, as server-sent events, for dashboards.

use std::convert::Infallible;
use std::time::Duration;

use axum::extract::{FromRef, Query, State};
use axum::http::HeaderMap;
use axum::response::sse::{Event as SseEvent, KeepAlive, Sse};
use fanorder_platform::auth::{Admin, Auth, Require, Role, Staff};
use fanorder_platform::{ApiError, Json, Page, PageParams, TenantId};
use fanorder_store::Table;
use futures::Stream;
use serde::Deserialize;
use tokio::sync::broadcast::error::RecvError;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::model::{Event, EventId};
use crate::outbox;
use crate::publish::Feed;

/// How long one stream lasts before the server ends it; the client reconnects at once with its
/// last event id (and a fresh token). Proxies that buffer (API Gateway) turn this into long
/// polling.
pub const STREAM_FOR: Duration = Duration::from_secs(300);
/// How far back before the last seen event a reconnect looks again: events commit in roughly,
/// not strictly, id order, so one committed a moment after a later id is caught too. Clients
/// skip ids they have seen.
pub const CATCH_UP_OVERLAP_MS: u64 = 5_000;
/// The most events one reconnect replays (one store page, less the one that says "more");
/// beyond that the client is told to reload.
pub const CATCH_UP_MAX: usize = 999;

/// The routes, for any application state that holds what they need.
pub fn router<S>() -> OpenApiRouter<S>
where
    S: Clone + Send + Sync + 'static,
    Table: FromRef<S>,
    Auth: FromRef<S>,
    Feed: FromRef<S>,
{
    OpenApiRouter::new()
        .routes(routes!(list_events))
        .routes(routes!(stream))
}

/// The restaurant's events, oldest first: every change announced (kept 30 days). Integrators
/// should subscribe to EventBridge instead of polling; this is for audits and catching up.
#[utoipa::path(
    get, path = "/v1/events", tag = "events", security(("bearer" = [])),
    params(PageParams),
    responses((status = 200, description = "One page of events", body = Page<Event>))
)]
async fn list_events(
    State(table): State<Table>,
    caller: Require<Admin>,
    Query(page): Query<PageParams>,
) -> Result<Json<Page<Event>>, ApiError> {
    Ok(Json(
        outbox::list(
            &table,
            &caller.tenant,
            page.cursor.as_deref(),
            page.limit()?,
        )
        .await?,
    ))
}

/// Where a stream starts.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct StreamQuery {
    /// The last event id seen (the `Last-Event-ID` header wins when both are sent).
    pub after: Option<String>,
}

/// Whether a caller in `role` of `tenant` is shown `event`: staff see their restaurant's order
/// events; admins every event of their restaurant.
fn shown(event: &Event, tenant: &TenantId, role: Role) -> bool {
    event.tenant_id == *tenant && (role == Role::Admin || event.event_type.starts_with("order."))
}

fn sse(event: &Event) -> SseEvent {
    SseEvent::default()
        .id(event.event_id.to_string())
        .event(event.event_type.clone())
        .json_data(event)
        .unwrap_or_else(|_| SseEvent::default().event("resync").data("{}"))
}

/// The restaurant's order changes as server-sent events, live, for dashboards (admins get every
/// event). Each SSE event has the event id as `id`, the type as `event` and the event envelope
/// as `data`. Reconnect with `Last-Event-ID` (or `?after=`) to get what was missed first; an
/// event named `resync` means more was missed than can be replayed: reload the lists. The
/// server ends each stream after 5 minutes; reconnect with a fresh token.
#[utoipa::path(
    get, path = "/v1/stream", tag = "events", security(("bearer" = [])),
    params(StreamQuery, ("Last-Event-ID" = Option<String>, Header, description = "The last event id seen")),
    responses(
        (status = 200, description = "A stream of events", body = String, content_type = "text/event-stream"),
        (status = 400, description = "Not an event id", body = fanorder_platform::error::ProblemSchema, content_type = "application/problem+json"),
    )
)]
async fn stream(
    State(table): State<Table>,
    State(feed): State<Feed>,
    caller: Require<Staff>,
    headers: HeaderMap,
    Query(query): Query<StreamQuery>,
) -> Result<Sse<impl Stream<Item = Result<SseEvent, Infallible>>>, ApiError> {
    let after = headers
        .get("last-event-id")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned)
        .or(query.after)
        .filter(|v| !v.is_empty());
    let after: Option<EventId> = match after {
        Some(id) => Some(id.parse().map_err(|_| {
            ApiError::bad_request("bad_event_id", "Last-Event-ID is not an event id")
        })?),
        None => None,
    };
    let tenant = caller.tenant;
    let role = caller.role;
    // Listen first, then catch up: an event delivered in between comes twice, never zero times.
    let mut live = feed.subscribe();
    let replay = match after {
        Some(after) => {
            let ms = after
                .ulid()
                .timestamp_ms()
                .saturating_sub(CATCH_UP_OVERLAP_MS);
            let from = EventId::from_ulid(fanorder_platform::id::Ulid::from_parts(ms, 0));
            let found = outbox::since(&table, &tenant, &from, CATCH_UP_MAX + 1).await?;
            Some(found)
        }
        None => None,
    };
    let body = async_stream::stream! {
        if let Some(replay) = replay {
            if replay.len() > CATCH_UP_MAX {
                yield Ok(SseEvent::default().event("resync").data("{}"));
            } else {
                for event in replay.iter().filter(|e| shown(e, &tenant, role)) {
                    yield Ok(sse(event));
                }
            }
        }
        let deadline = tokio::time::sleep(STREAM_FOR);
        tokio::pin!(deadline);
        let closed = feed.closed();
        tokio::pin!(closed);
        loop {
            tokio::select! {
                () = &mut deadline => break,
                () = &mut closed => break,
                received = live.recv() => match received {
                    Ok(event) if shown(&event, &tenant, role) => yield Ok(sse(&event)),
                    Ok(_) => {}
                    Err(RecvError::Lagged(_)) => yield Ok(SseEvent::default().event("resync").data("{}")),
                    Err(RecvError::Closed) => break,
                },
            }
        }
    };
    Ok(Sse::new(body).keep_alive(KeepAlive::new().interval(Duration::from_secs(15))))
}
