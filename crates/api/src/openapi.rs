//! The OpenAPI document, generated from the same route declarations the Router is built from
//! (utoipa), so the two cannot drift. `openapi.yaml` at the repository root is this document;
//! a test fails when it is stale (`fanorder openapi > openapi.yaml` refreshes it).

use axum::Router;
use axum::http::header;
use axum::response::IntoResponse;
use axum::routing::get;
use fanorder_platform::error::ProblemSchema;
use utoipa::OpenApi;
use utoipa::openapi::link::LinkBuilder;
use utoipa::openapi::path::Operation;
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
            add_links(operation);
        }
    }
    api
}

/// A resource that is created, then read, changed and removed by its id: the operations (by
/// `operationId`) and the path parameter that carries the id, which the answers of create, read
/// and update hold in the field of the same meaning.
struct Resource {
    create: &'static str,
    read: &'static str,
    update: Option<&'static str>,
    delete: Option<&'static str>,
    /// Further operations on the one resource (its stock, its history, its moves).
    more: &'static [&'static str],
    param: &'static str,
    field: &'static str,
}

/// The resources whose answers link to the operations on them (OpenAPI links), so that a
/// client, and schemathesis' stateful phase, can walk create -> read -> update -> delete.
const RESOURCES: [Resource; 7] = [
    Resource {
        create: "create_location",
        read: "get_location",
        update: Some("patch_location"),
        delete: Some("delete_location"),
        more: &[],
        param: "id",
        field: "id",
    },
    Resource {
        create: "create_category",
        read: "get_category",
        update: Some("patch_category"),
        delete: Some("delete_category"),
        more: &[],
        param: "id",
        field: "id",
    },
    Resource {
        create: "create_item",
        read: "get_item",
        update: Some("patch_item"),
        delete: Some("delete_item"),
        more: &["adjust_stock"],
        param: "id",
        field: "id",
    },
    Resource {
        create: "create_combo",
        read: "get_combo",
        update: Some("patch_combo"),
        delete: Some("delete_combo"),
        more: &[],
        param: "id",
        field: "id",
    },
    Resource {
        create: "add_staff",
        read: "get_staff",
        update: Some("patch_staff"),
        delete: Some("deactivate_staff"),
        more: &[],
        param: "id",
        field: "id",
    },
    Resource {
        create: "place_order",
        read: "get_order",
        update: Some("move_order"),
        delete: None,
        more: &["order_history", "order_receipt"],
        param: "id",
        field: "id",
    },
    Resource {
        create: "connect_page",
        read: "get_page",
        update: Some("patch_page"),
        delete: Some("disconnect_page"),
        more: &["list_conversations", "push_profile"],
        param: "page_id",
        field: "page_id",
    },
];

/// Operations whose answer holds a refresh token, and the operations that take one.
const SESSION_STARTS: [(&str, &str); 3] =
    [("login", "200"), ("register", "201"), ("signup", "201")];
/// The operations that take the refresh token those answers hold.
const SESSION_USES: [&str; 2] = ["refresh", "logout"];

/// Adds the links from this operation's success answer to the operations on what it returned.
fn add_links(operation: &mut Operation) {
    let Some(id) = operation.operation_id.clone() else {
        return;
    };
    let mut links: Vec<(&str, utoipa::openapi::link::Link)> = Vec::new();
    let mut status = "200";
    for resource in &RESOURCES {
        let targets: Vec<&str> = if id == resource.create {
            status = "201";
            [Some(resource.read), resource.update, resource.delete]
                .into_iter()
                .flatten()
                .chain(resource.more.iter().copied())
                .collect()
        } else if id == resource.read {
            [resource.update, resource.delete]
                .into_iter()
                .flatten()
                .collect()
        } else if Some(id.as_str()) == resource.update {
            [Some(resource.read), resource.delete]
                .into_iter()
                .flatten()
                .collect()
        } else {
            continue;
        };
        let expression = format!("$response.body#/{}", resource.field);
        for target in targets {
            let link = LinkBuilder::new()
                .operation_id(target)
                .parameter(resource.param, expression.clone())
                .build();
            links.push((target, link));
        }
    }
    for (start, code) in SESSION_STARTS {
        if id == start {
            status = code;
            for target in SESSION_USES {
                let link = LinkBuilder::new()
                    .operation_id(target)
                    .request_body(Some(serde_json::json!({
                        "refresh_token": "$response.body#/refresh_token"
                    })))
                    .build();
                links.push((target, link));
            }
        }
    }
    if links.is_empty() {
        return;
    }
    if let Some(RefOr::T(response)) = operation.responses.responses.get_mut(status) {
        for (target, link) in links {
            response.links.insert(target.to_owned(), RefOr::T(link));
        }
    }
}

fn add_problem_responses(operation: &mut Operation) {
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
