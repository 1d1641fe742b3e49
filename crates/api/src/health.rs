//! Liveness and readiness.

use std::time::Duration;

use axum::extract::State;
use fanorder_platform::{ApiError, Json};
use fanorder_store::Table;
use serde::Serialize;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::AppState;

/// How long readiness waits for the store before calling it unavailable.
const READY_TIMEOUT: Duration = Duration::from_secs(2);

/// `GET /healthz` and `GET /readyz`.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(healthz))
        .routes(routes!(readyz))
}

/// The health answer.
#[derive(Debug, Serialize, ToSchema)]
pub struct Health {
    /// `ok` (liveness) or `ready` (readiness).
    pub status: String,
    /// The store that answered (readiness only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub store: Option<String>,
}

/// Liveness: 200 while the process runs.
#[utoipa::path(get, path = "/healthz", tag = "health", responses((status = 200, description = "Alive", body = Health)))]
async fn healthz() -> Json<Health> {
    Json(Health {
        status: "ok".to_owned(),
        store: None,
    })
}

/// Readiness: 200 when the store answers, 503 problem+json when it does not.
#[utoipa::path(get, path = "/readyz", tag = "health", responses((status = 200, description = "Ready", body = Health)))]
async fn readyz(State(table): State<Table>) -> Result<Json<Health>, ApiError> {
    let store = table.backend_name();
    match tokio::time::timeout(READY_TIMEOUT, table.ping()).await {
        Ok(Ok(())) => Ok(Json(Health {
            status: "ready".to_owned(),
            store: Some(store.to_owned()),
        })),
        Ok(Err(err)) => Err(ApiError::Unavailable {
            detail: format!("the {store} store is not answering: {err}"),
            retry_after: Some(Duration::from_secs(5)),
        }),
        Err(_) => Err(ApiError::Unavailable {
            detail: format!("the {store} store did not answer within {READY_TIMEOUT:?}"),
            retry_after: Some(Duration::from_secs(5)),
        }),
    }
}
