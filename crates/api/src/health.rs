//! Liveness and readiness.

use std::time::Duration;

use axum::extract::State;
use axum::routing::get;
use axum::{Json, Router};
use fanorder_platform::ApiError;
use serde_json::{Value, json};

use crate::AppState;

/// How long readiness waits for the store before calling it unavailable.
const READY_TIMEOUT: Duration = Duration::from_secs(2);

/// `GET /healthz` and `GET /readyz`.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/healthz", get(healthz))
        .route("/readyz", get(readyz))
}

/// 200 while the process runs.
async fn healthz() -> Json<Value> {
    Json(json!({ "status": "ok" }))
}

/// 200 when the store answers, 503 problem+json when it does not.
async fn readyz(State(state): State<AppState>) -> Result<Json<Value>, ApiError> {
    let store = state.table.backend_name();
    match tokio::time::timeout(READY_TIMEOUT, state.table.ping()).await {
        Ok(Ok(())) => Ok(Json(json!({ "status": "ready", "store": store }))),
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
