//! `fanorder-lambda-schedule`: the late-order sweep, invoked every minute by EventBridge
//! Scheduler. It reads the tenant directory and each active tenant's paid queue, and marks each
//! late order in one transaction with its `order.late` outbox event; the stream processor
//! publishes that event (SNS for staff, EventBridge for integrators). So the sweep itself
//! publishes nothing, and a notice exists exactly when the order was marked.

use jiff::SignedDuration;
use serde::Serialize;

use crate::AppState;

/// What a sweep did (the invocation's result, visible in tests and the console).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Swept {
    /// Orders newly noticed as late.
    pub noticed: usize,
}

/// Runs one sweep. The event is not read: EventBridge Scheduler sends none by default, an
/// EventBridge rule sends a "Scheduled Event"; either way "now" is the clock's.
pub async fn handle(
    state: &AppState,
    _event: serde_json::Value,
) -> Result<Swept, lambda_http::Error> {
    let late_after = SignedDuration::from_mins(i64::from(state.config.late_after_minutes));
    let noticed =
        fanorder_orders::late::sweep(&state.table, &state.outbox, late_after, state.clock.now())
            .await
            .map_err(|e| lambda_http::Error::from(e.to_string()))?;
    if noticed > 0 {
        tracing::info!(noticed, "late orders noticed");
    }
    Ok(Swept { noticed })
}

/// Serves invocations until the runtime stops.
pub async fn run(state: AppState) -> Result<(), lambda_http::Error> {
    tracing::info!("fanorder-lambda-schedule ready");
    let state = &state;
    lambda_http::lambda_runtime::run(lambda_http::service_fn(
        move |event: lambda_http::LambdaEvent<serde_json::Value>| async move {
            let swept = handle(state, event.payload).await;
            crate::lambda::emf::flush();
            swept
        },
    ))
    .await
}
