//! The one error type of the API, rendered as `application/problem+json` (RFC 9457) with a
//! stable machine-readable `code`. Every handler returns `Result<_, ApiError>`.

use std::time::Duration;

use axum::response::{IntoResponse, Response};
use http::{HeaderValue, StatusCode, Uri, header};
use problem_details::ProblemDetails;
use serde::Serialize;

/// The media type of every error body.
pub const PROBLEM_JSON: &str = "application/problem+json";

/// The problem+json body, as documented in openapi.yaml.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
#[schema(as = Problem)]
pub struct ProblemSchema {
    /// A URI reference naming the problem type: `/problems/<code>`.
    #[serde(rename = "type")]
    pub kind: String,
    /// The HTTP status phrase.
    pub title: String,
    /// The HTTP status code.
    pub status: u16,
    /// What went wrong, for people.
    pub detail: String,
    /// A stable machine-readable code, e.g. `validation_failed`, `version_conflict`.
    pub code: String,
    /// For `validation_failed`: every failing field.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub errors: Option<Vec<FieldError>>,
}

/// One field that failed validation: where it is (`owner.email`, `lines[2].quantity`) and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct FieldError {
    /// The path of the field in the request body or query, dotted, with `[i]` for list entries.
    pub field: String,
    /// What is wrong with it, in words a developer can act on.
    pub message: String,
}

impl FieldError {
    /// A failing field with its message.
    pub fn new(field: impl Into<String>, message: impl Into<String>) -> Self {
        Self {
            field: field.into(),
            message: message.into(),
        }
    }
}

/// Everything that can go wrong in a request, each with its status and stable code.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// 400: the request cannot be read (malformed JSON, bad cursor, bad header).
    #[error("{detail}")]
    BadRequest {
        /// Stable code, e.g. `malformed_json`, `invalid_cursor`.
        code: &'static str,
        /// What was wrong.
        detail: String,
    },
    /// 422: the request was read but some fields are invalid.
    #[error("the request has invalid fields")]
    Validation(Vec<FieldError>),
    /// 401: no credentials, or credentials that do not verify.
    #[error("{0}")]
    Unauthenticated(String),
    /// 403: the caller is known but may not do this.
    #[error("{0}")]
    Forbidden(String),
    /// 404: no such resource for this tenant (another tenant's resource looks exactly like this).
    #[error("{0} not found")]
    NotFound(&'static str),
    /// 404 for a path no route serves.
    #[error("no route for {0}")]
    NoRoute(String),
    /// 405: the path exists but not with this method.
    #[error("method not allowed")]
    MethodNotAllowed,
    /// 409: a uniqueness, version or state conflict.
    #[error("{detail}")]
    Conflict {
        /// Stable code, e.g. `version_conflict`, `slug_taken`.
        code: &'static str,
        /// What conflicted.
        detail: String,
    },
    /// 413: the body is larger than the route accepts.
    #[error("the request body is larger than this route accepts")]
    PayloadTooLarge,
    /// 415: the body is not JSON.
    #[error("expected a JSON body with Content-Type: application/json")]
    UnsupportedMediaType,
    /// 429: too many requests; try again after the given time.
    #[error("too many requests")]
    RateLimited {
        /// When the client may try again.
        retry_after: Duration,
    },
    /// 503: the request took longer than the server allows; it may be retried.
    #[error("the request took too long and was abandoned")]
    Timeout,
    /// 503: a dependency (the store, a queue) is not answering; safe to retry.
    #[error("{detail}")]
    Unavailable {
        /// What is unavailable.
        detail: String,
        /// When to try again, if known.
        retry_after: Option<Duration>,
    },
    /// 500: a bug or an unexpected failure. The source is logged, never sent to the client.
    #[error("internal error")]
    Internal(#[source] Box<dyn std::error::Error + Send + Sync>),
}

impl ApiError {
    /// A 400 with a code and detail.
    pub fn bad_request(code: &'static str, detail: impl Into<String>) -> Self {
        Self::BadRequest {
            code,
            detail: detail.into(),
        }
    }

    /// A 409 with a code and detail.
    pub fn conflict(code: &'static str, detail: impl Into<String>) -> Self {
        Self::Conflict {
            code,
            detail: detail.into(),
        }
    }

    /// A 422 for a single field.
    pub fn invalid(field: impl Into<String>, message: impl Into<String>) -> Self {
        Self::Validation(vec![FieldError::new(field, message)])
    }

    /// A 500 wrapping an unexpected error.
    pub fn internal(source: impl Into<Box<dyn std::error::Error + Send + Sync>>) -> Self {
        Self::Internal(source.into())
    }

    /// A 503 with a detail and no retry hint.
    pub fn unavailable(detail: impl Into<String>) -> Self {
        Self::Unavailable {
            detail: detail.into(),
            retry_after: None,
        }
    }

    /// The HTTP status of this error.
    pub fn status(&self) -> StatusCode {
        match self {
            Self::BadRequest { .. } => StatusCode::BAD_REQUEST,
            Self::Validation(_) => StatusCode::UNPROCESSABLE_ENTITY,
            Self::Unauthenticated(_) => StatusCode::UNAUTHORIZED,
            Self::Forbidden(_) => StatusCode::FORBIDDEN,
            Self::NotFound(_) | Self::NoRoute(_) => StatusCode::NOT_FOUND,
            Self::MethodNotAllowed => StatusCode::METHOD_NOT_ALLOWED,
            Self::Conflict { .. } => StatusCode::CONFLICT,
            Self::PayloadTooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            Self::UnsupportedMediaType => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            Self::RateLimited { .. } => StatusCode::TOO_MANY_REQUESTS,
            Self::Timeout => StatusCode::SERVICE_UNAVAILABLE,
            Self::Unavailable { .. } => StatusCode::SERVICE_UNAVAILABLE,
            Self::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    /// The stable, machine-readable code clients switch on.
    pub fn code(&self) -> &'static str {
        match self {
            Self::BadRequest { code, .. } | Self::Conflict { code, .. } => code,
            Self::Validation(_) => "validation_failed",
            Self::Unauthenticated(_) => "unauthenticated",
            Self::Forbidden(_) => "forbidden",
            Self::NotFound(_) => "not_found",
            Self::NoRoute(_) => "no_route",
            Self::MethodNotAllowed => "method_not_allowed",
            Self::PayloadTooLarge => "payload_too_large",
            Self::UnsupportedMediaType => "unsupported_media_type",
            Self::RateLimited { .. } => "rate_limited",
            Self::Timeout => "timeout",
            Self::Unavailable { .. } => "unavailable",
            Self::Internal(_) => "internal",
        }
    }

    /// The problem body and headers as a response, without logging.
    fn render(&self) -> Response {
        let status = self.status();
        let code = self.code();
        let detail = match self {
            // Never leak internals; the log has them, keyed by the request id.
            Self::Internal(_) => "an unexpected error occurred; it has been logged".to_owned(),
            other => other.to_string(),
        };
        let errors = match self {
            Self::Validation(errors) => errors.clone(),
            _ => Vec::new(),
        };
        problem_response(
            status,
            code,
            detail,
            errors,
            self.retry_after(),
            self.challenge(),
        )
    }

    fn retry_after(&self) -> Option<Duration> {
        match self {
            Self::RateLimited { retry_after } => Some(*retry_after),
            Self::Unavailable { retry_after, .. } => *retry_after,
            _ => None,
        }
    }

    fn challenge(&self) -> Option<&'static str> {
        matches!(self, Self::Unauthenticated(_)).then_some("Bearer")
    }
}

#[derive(Serialize)]
struct Extensions {
    code: &'static str,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    errors: Vec<FieldError>,
}

/// Builds a problem+json response. Used by [`ApiError`] and by the middleware that turns
/// body-less error responses of lower layers (timeouts, limits) into the same shape.
pub fn problem_response(
    status: StatusCode,
    code: &'static str,
    detail: String,
    errors: Vec<FieldError>,
    retry_after: Option<Duration>,
    challenge: Option<&'static str>,
) -> Response {
    let problem = ProblemDetails::from_status_code(status)
        .with_type(problem_type(code))
        .with_detail(detail)
        .with_extensions(Extensions { code, errors });
    let mut response = (status, axum::Json(problem)).into_response();
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(PROBLEM_JSON));
    if let Some(after) = retry_after {
        // Round up: "retry after 0 seconds" would invite a hot loop.
        let secs = after.as_secs() + u64::from(after.subsec_nanos() > 0);
        headers.insert(header::RETRY_AFTER, HeaderValue::from(secs.max(1)));
    }
    if let Some(scheme) = challenge {
        headers.insert(header::WWW_AUTHENTICATE, HeaderValue::from_static(scheme));
    }
    response
}

/// The problem `type` URI: a reference relative to the API's base, one per code, documented in
/// docs/errors.md.
fn problem_type(code: &str) -> Uri {
    format!("/problems/{code}")
        .parse()
        .unwrap_or_else(|_| Uri::from_static("about:blank"))
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        match &self {
            Self::Internal(source) => {
                tracing::error!(error = %source, error.debug = ?source, "internal error")
            }
            Self::Unavailable { detail, .. } => tracing::warn!(%detail, "dependency unavailable"),
            _ => tracing::debug!(
                code = self.code(),
                status = self.status().as_u16(),
                "request refused"
            ),
        }
        self.render()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use http_body_util::BodyExt;

    async fn body_json(response: Response) -> serde_json::Value {
        let bytes = response.into_body().collect().await.unwrap().to_bytes();
        serde_json::from_slice(&bytes).unwrap()
    }

    #[tokio::test]
    async fn errors_render_as_problem_json_with_a_stable_code() {
        let response = ApiError::conflict("version_conflict", "order changed").into_response();
        assert_eq!(response.status(), StatusCode::CONFLICT);
        assert_eq!(response.headers()[header::CONTENT_TYPE], PROBLEM_JSON);
        let body = body_json(response).await;
        assert_eq!(body["status"], 409);
        assert_eq!(body["code"], "version_conflict");
        assert_eq!(body["type"], "/problems/version_conflict");
        assert_eq!(body["title"], "Conflict");
        assert_eq!(body["detail"], "order changed");
        assert!(body.get("errors").is_none());
    }

    #[tokio::test]
    async fn validation_lists_every_failing_field() {
        let response = ApiError::Validation(vec![
            FieldError::new("owner.email", "must be an email address"),
            FieldError::new("currency", "must be an ISO 4217 code"),
        ])
        .into_response();
        assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY);
        let body = body_json(response).await;
        assert_eq!(body["code"], "validation_failed");
        assert_eq!(body["errors"][0]["field"], "owner.email");
        assert_eq!(body["errors"][1]["field"], "currency");
    }

    #[tokio::test]
    async fn internal_errors_hide_their_cause() {
        let response = ApiError::internal("db password is hunter2").into_response();
        assert_eq!(response.status(), StatusCode::INTERNAL_SERVER_ERROR);
        let body = body_json(response).await;
        assert!(!body.to_string().contains("hunter2"));
        assert_eq!(body["code"], "internal");
    }

    #[tokio::test]
    async fn rate_limits_and_auth_failures_carry_their_headers() {
        let response = ApiError::RateLimited {
            retry_after: Duration::from_millis(1500),
        }
        .into_response();
        assert_eq!(response.status(), StatusCode::TOO_MANY_REQUESTS);
        assert_eq!(response.headers()[header::RETRY_AFTER], "2");
        let response = ApiError::Unauthenticated("missing bearer token".into()).into_response();
        assert_eq!(response.headers()[header::WWW_AUTHENTICATE], "Bearer");
    }
}
