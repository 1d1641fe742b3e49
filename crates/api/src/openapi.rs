//! The OpenAPI document, generated from the same route declarations the Router is built from
//! (utoipa), so the two cannot drift. `openapi.yaml` at the repository root is this document;
//! a test fails when it is stale (`fanorder openapi > openapi.yaml` refreshes it).

use axum::Router;
use axum::http::header;
use axum::response::IntoResponse;
use axum::routing::get;
use fanorder_platform::error::ProblemSchema;
use utoipa::OpenApi;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::openapi::{Content, Ref, RefOr, ResponseBuilder};
use utoipa_axum::router::OpenApiRouter;

use crate::{AppState, health};

#[derive(OpenApi)]
#[openapi(
    info(
        title = "fanorder",
        version = "1.0.0",
        description = "The REST API of fanorder: restaurants that sell through their Facebook pages. \
            Every list is paginated with `limit` and an opaque `cursor`; every error is \
            `application/problem+json` with a stable `code`. The tenant of a request is the one in \
            its bearer token; another tenant's resources answer 404 exactly like missing ones."
    ),
    components(schemas(ProblemSchema)),
    tags(
        (name = "health", description = "Liveness and readiness"),
        (name = "tenants", description = "Restaurants: signup and profile"),
        (name = "auth", description = "Login sessions"),
        (name = "staff", description = "Staff members and roles"),
        (name = "customers", description = "Customers and the caller's own profile"),
        (name = "menu", description = "The menu: categories, items with modifiers, combos, stock, and the published menu"),
        (name = "locations", description = "The restaurant's branches and their opening hours"),
        (name = "orders", description = "Placing orders, queues, moves and history"),
        (name = "payments", description = "Payment provider notifications"),
        (name = "events", description = "The restaurant's event log, and the live stream of it"),
        (name = "reports", description = "Sales reports kept up to date from the events"),
        (name = "pages", description = "Facebook pages, the bot's settings, conversations and handover"),
        (name = "messenger", description = "The Messenger webhook Facebook calls"),
    )
)]
struct ApiDoc;

/// Every documented route, with its documentation.
pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::with_openapi(ApiDoc::openapi())
        .merge(health::router())
        .merge(fanorder_staff::router())
        .merge(fanorder_users::router())
        .merge(fanorder_menus::router())
        .merge(fanorder_orders::router())
        .merge(fanorder_events::http::router())
        .merge(fanorder_pages::router())
}

/// The problem responses any operation may give besides its own, as reusable components:
/// what the middleware and extractors produce for bad input, missing or insufficient
/// credentials, overload and failures.
const PROBLEMS: [(&str, &str, &str); 9] = [
    (
        "400",
        "BadRequest",
        "The request cannot be read (`malformed_json`, `invalid_cursor`, `bad_request`)",
    ),
    (
        "401",
        "Unauthenticated",
        "No valid bearer token (`unauthenticated`); see WWW-Authenticate",
    ),
    (
        "403",
        "Forbidden",
        "The caller's role may not do this (`forbidden`)",
    ),
    (
        "413",
        "PayloadTooLarge",
        "The body is too large (`payload_too_large`)",
    ),
    (
        "415",
        "UnsupportedMediaType",
        "The body is not JSON (`unsupported_media_type`)",
    ),
    (
        "422",
        "ValidationFailed",
        "Invalid fields (`validation_failed`), listed in `errors`",
    ),
    (
        "429",
        "RateLimited",
        "Too many requests (`rate_limited`); see Retry-After",
    ),
    ("500", "Internal", "Unexpected failure (`internal`)"),
    (
        "503",
        "Unavailable",
        "A dependency is unavailable or the request took too long (`unavailable`, `timeout`)",
    ),
];

/// The finished document: routes, the bearer scheme, and the problem responses every
/// operation can give.
pub fn spec() -> utoipa::openapi::OpenApi {
    let (_, mut api) = routes().split_for_parts();
    let components = api.components.get_or_insert_with(Default::default);
    components.add_security_scheme(
        "bearer",
        SecurityScheme::Http(
            HttpBuilder::new()
                .scheme(HttpAuthScheme::Bearer)
                .bearer_format("JWT")
                .build(),
        ),
    );
    for (_, name, description) in PROBLEMS {
        let response = ResponseBuilder::new()
            .description(description)
            .content(
                "application/problem+json",
                Content::new(Some(Ref::from_schema_name("Problem"))),
            )
            .build();
        components
            .responses
            .insert(name.to_owned(), RefOr::T(response));
    }
    for item in api.paths.paths.values_mut() {
        let operations = [
            &mut item.get,
            &mut item.post,
            &mut item.put,
            &mut item.patch,
            &mut item.delete,
        ];
        for operation in operations.into_iter().flatten() {
            add_problem_responses(operation);
        }
    }
    api
}

fn add_problem_responses(operation: &mut utoipa::openapi::path::Operation) {
    let secured = operation.security.as_ref().is_some_and(|s| !s.is_empty());
    let has_body = operation.request_body.is_some();
    let has_params = operation.parameters.as_ref().is_some_and(|p| !p.is_empty());
    for (code, name, _) in PROBLEMS {
        let applies = match code {
            "400" | "422" => has_body || has_params,
            "413" | "415" => has_body,
            "401" | "403" => secured,
            _ => true,
        };
        if applies {
            let reference = RefOr::Ref(Ref::new(format!("#/components/responses/{name}")));
            operation
                .responses
                .responses
                .entry(code.to_owned())
                .or_insert(reference);
        }
    }
}

/// The document as YAML (what `openapi.yaml` holds).
pub fn yaml() -> String {
    spec()
        .to_yaml()
        .unwrap_or_else(|e| format!("# cannot render the OpenAPI document: {e}\n"))
}

/// `GET /openapi.yaml` and `GET /openapi.json`: the contract, served by the API itself.
pub fn document_routes() -> Router<AppState> {
    Router::new()
        .route(
            "/openapi.yaml",
            get(|| async {
                ([(header::CONTENT_TYPE, "application/yaml")], yaml()).into_response()
            }),
        )
        .route(
            "/openapi.json",
            get(|| async { axum::Json(spec()).into_response() }),
        )
}
