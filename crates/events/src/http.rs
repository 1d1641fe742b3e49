//! `GET /v1/events`: the restaurant's event log, oldest first.

use axum::extract::{FromRef, Query, State};
use fanorder_platform::auth::{Admin, Auth, Require};
use fanorder_platform::{ApiError, Json, Page, PageParams};
use fanorder_store::Table;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::model::Event;
use crate::outbox;

/// The routes, for any application state that holds what they need.
pub fn router<S>() -> OpenApiRouter<S>
where
    S: Clone + Send + Sync + 'static,
    Table: FromRef<S>,
    Auth: FromRef<S>,
{
    OpenApiRouter::new().routes(routes!(list_events))
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
