//! `fanorder-lambda-http`: the one Router behind API Gateway (HTTP API, payload format 2.0).
//! The api function serves every route; the webhook function (`FANORDER_LAMBDA_ROUTES=webhook`)
//! only Facebook's and the payment providers' webhooks (and health), so its platform role that
//! reads page routes is never reachable through a staff route.

use std::net::{IpAddr, SocketAddr};

use axum::Router;
use axum::extract::{ConnectInfo, Request};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use fanorder_platform::{ApiError, ConfigError};
use lambda_http::RequestExt;
use lambda_http::request::RequestContext;

use crate::lambda::{Boot, ROUTES_VAR};
use crate::{AppState, build_router};

/// Which routes the function serves.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Routes {
    /// Everything (the api function).
    Api,
    /// The webhooks and health only (the webhook function).
    Webhook,
}

impl Routes {
    /// From `FANORDER_LAMBDA_ROUTES` (`api` when unset).
    pub fn from_env() -> Result<Self, ConfigError> {
        match std::env::var(ROUTES_VAR).as_deref() {
            Err(_) | Ok("api") => Ok(Self::Api),
            Ok("webhook") => Ok(Self::Webhook),
            Ok(other) => Err(ConfigError::new(
                ROUTES_VAR,
                format!("must be `api` or `webhook`, got `{other}`"),
            )),
        }
    }
}

/// True for the paths the webhook function answers.
pub fn is_webhook_path(path: &str) -> bool {
    let payment = path
        .strip_prefix("/v1/payments/")
        .and_then(|rest| rest.strip_suffix("/webhook"))
        .is_some_and(|provider| !provider.is_empty() && !provider.contains('/'));
    payment || matches!(path, "/webhooks/messenger" | "/healthz" | "/readyz")
}

async fn webhooks_only(request: Request, next: Next) -> Response {
    if is_webhook_path(request.uri().path()) {
        next.run(request).await
    } else {
        ApiError::NoRoute(format!("{} {}", request.method(), request.uri().path())).into_response()
    }
}

/// API Gateway's view of the caller's address, as the `ConnectInfo` the login limits read
/// (there is no socket on Lambda).
async fn source_ip(mut request: Request, next: Next) -> Response {
    let ip = match request.request_context_ref() {
        Some(RequestContext::ApiGatewayV2(context)) => context
            .http
            .source_ip
            .as_deref()
            .and_then(|ip| ip.parse::<IpAddr>().ok()),
        _ => None,
    };
    if let Some(ip) = ip {
        request
            .extensions_mut()
            .insert(ConnectInfo(SocketAddr::new(ip, 0)));
    }
    next.run(request).await
}

/// The application for the given routes.
pub fn app(state: AppState, routes: Routes) -> Router {
    let router = build_router(state);
    let router = match routes {
        Routes::Api => router,
        Routes::Webhook => router.layer(middleware::from_fn(webhooks_only)),
    };
    router
        .layer(middleware::from_fn(source_ip))
        .layer(middleware::from_fn(crate::lambda::emf::flush_after))
}

/// Serves invocations until the runtime stops.
pub async fn run(boot: Boot, routes: Routes) -> Result<(), lambda_http::Error> {
    tracing::info!(?routes, "fanorder-lambda-http ready");
    lambda_http::run(app(boot.state, routes)).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_webhook_function_answers_webhooks_and_health_only() {
        for path in [
            "/webhooks/messenger",
            "/v1/payments/mock/webhook",
            "/healthz",
            "/readyz",
        ] {
            assert!(is_webhook_path(path), "{path}");
        }
        for path in [
            "/v1/orders",
            "/v1/payments//webhook",
            "/v1/payments/a/b/webhook",
            "/webhooks/messenger/x",
            "/v1/tenants",
            "/",
        ] {
            assert!(!is_webhook_path(path), "{path}");
        }
    }
}
