//! The orders crate's routes: placing, the staff queues, a customer's own orders, one order and
//! its history, moves, and the payment providers' webhook.

use axum::body::Bytes;
use axum::extract::{FromRef, Path, Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use fanorder_events::Outbox;
use fanorder_menus::model::{ComboId, ItemId, LocationId, OptionId};
use fanorder_platform::address::Address;
use fanorder_platform::auth::{AnyRole, Auth, CustomerOnly, CustomerOrAdmin, Require, Staff};
use fanorder_platform::error::ProblemSchema;
use fanorder_platform::text::{phone, text};
use fanorder_platform::{ApiError, Clock, Fields, Json, Page, PageParams, Role};
use fanorder_store::Table;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::model::{Fulfillment, HistoryEntry, Mover, OrderView, PaymentMethod, Status};
use crate::payments::Payments;
use crate::pricing::{MAX_LINES, MAX_QUANTITY, Wanted};
use crate::service::{self, Ctx, IdempotencyKey, Move, NewOrder, PaymentOutcome, Placed, Placer};
use crate::store;

/// The routes, for any application state that holds what they need.
pub fn router<S>() -> OpenApiRouter<S>
where
    S: Clone + Send + Sync + 'static,
    Table: FromRef<S>,
    Auth: FromRef<S>,
    Clock: FromRef<S>,
    Outbox: FromRef<S>,
    Payments: FromRef<S>,
{
    OpenApiRouter::new()
        .routes(routes!(place_order, list_orders))
        .routes(routes!(my_orders))
        .routes(routes!(get_order))
        .routes(routes!(order_history))
        .routes(routes!(move_order))
        .routes(routes!(payment_webhook))
        .routes(routes!(order_receipt))
        .routes(routes!(sales_report))
}

fn ctx(table: Table, outbox: Outbox, clock: Clock) -> Ctx {
    Ctx {
        table,
        outbox,
        clock,
    }
}

/// One line of a new order: an item with options, or a combo with choices. Prices are never
/// taken from the client.
#[derive(Debug, Deserialize, ToSchema)]
pub struct LineRequest {
    /// A menu item (or give `combo_id`).
    #[schema(value_type = Option<String>)]
    pub item_id: Option<String>,
    /// A combo (or give `item_id`).
    #[schema(value_type = Option<String>)]
    pub combo_id: Option<String>,
    /// 1 to 99.
    #[schema(value_type = i64, required = true, minimum = 1, maximum = 99)]
    pub quantity: Option<i64>,
    /// Chosen modifier option ids.
    #[schema(max_items = 20)]
    pub modifiers: Option<Vec<String>>,
    /// For combos: one item id per choice component, in order.
    #[schema(max_items = 10)]
    pub choices: Option<Vec<String>>,
}

/// A new order.
#[derive(Debug, Deserialize, ToSchema)]
#[schema(example = json!({
    "fulfillment": "delivery",
    "address": {"line1": "12 Sukhumvit Soi 11", "city": "Bangkok"},
    "phone": "+66 81 234 5678",
    "note": "no peanuts",
    "lines": [{"item_id": "01J8Z3K4M5N6P7Q8R9S0T1V2W3", "quantity": 2, "modifiers": []}]
}))]
pub struct PlaceRequest {
    /// The branch; optional when the restaurant has one.
    #[schema(value_type = Option<String>)]
    pub location_id: Option<String>,
    /// `delivery` or `pickup`.
    #[schema(value_type = String, required = true)]
    pub fulfillment: Option<String>,
    /// Where to deliver (required for delivery).
    pub address: Option<Address>,
    /// A phone for the driver.
    pub phone: Option<String>,
    /// A note for the kitchen, up to 500 characters.
    #[schema(max_length = 500, pattern = "\\S")]
    pub note: Option<String>,
    /// `online` (default: waits for payment) or `cash` (straight to the kitchen, payment due).
    pub payment_method: Option<String>,
    /// 1 to 50 lines.
    #[schema(value_type = Vec<LineRequest>, required = true, min_items = 1, max_items = 50)]
    pub lines: Option<Vec<LineRequest>>,
}

fn parse_line(fields: &mut Fields, at: usize, line: LineRequest) -> Option<Wanted> {
    let quantity = fields.required(&format!("lines[{at}].quantity"), line.quantity, |q| {
        u32::try_from(q)
            .ok()
            .filter(|q| (1..=MAX_QUANTITY).contains(q))
            .ok_or_else(|| format!("must be 1 to {MAX_QUANTITY}"))
    });
    let ids = |fields: &mut Fields,
               name: &str,
               list: Option<Vec<String>>,
               max: usize|
     -> Option<Vec<String>> {
        let list = list.unwrap_or_default();
        if list.len() > max {
            fields.fail(&format!("lines[{at}].{name}"), format!("at most {max}"));
            return None;
        }
        Some(list)
    };
    let modifiers = ids(fields, "modifiers", line.modifiers, 20);
    let choices = ids(fields, "choices", line.choices, 10);
    let parse_all = |fields: &mut Fields, name: &str, list: Vec<String>| -> Option<Vec<String>> {
        if list.iter().all(|id| id.len() == 26) {
            Some(list)
        } else {
            fields.fail(&format!("lines[{at}].{name}"), "must be ids");
            None
        }
    };
    let modifiers = modifiers.and_then(|m| parse_all(fields, "modifiers", m));
    let choices = choices.and_then(|c| parse_all(fields, "choices", c));
    match (line.item_id, line.combo_id) {
        (Some(item), None) => {
            let item = fields.check(&format!("lines[{at}].item_id"), item.parse::<ItemId>());
            let options: Option<Vec<OptionId>> = modifiers.and_then(|m| {
                fields.check(
                    &format!("lines[{at}].modifiers"),
                    m.iter().map(|id| id.parse()).collect::<Result<Vec<_>, _>>(),
                )
            });
            Some(Wanted::Item {
                item: item?,
                quantity: quantity?,
                options: options?,
            })
        }
        (None, Some(combo)) => {
            let combo = fields.check(&format!("lines[{at}].combo_id"), combo.parse::<ComboId>());
            let choices: Option<Vec<ItemId>> = choices.and_then(|c| {
                fields.check(
                    &format!("lines[{at}].choices"),
                    c.iter().map(|id| id.parse()).collect::<Result<Vec<_>, _>>(),
                )
            });
            Some(Wanted::Combo {
                combo: combo?,
                quantity: quantity?,
                choices: choices?,
            })
        }
        _ => {
            fields.fail(
                &format!("lines[{at}]"),
                "needs exactly one of item_id and combo_id",
            );
            None
        }
    }
}

/// Validates a new order's fields, all at once.
pub fn parse_new_order(body: PlaceRequest) -> Result<NewOrder, ApiError> {
    let mut fields = Fields::new();
    let fulfillment = fields.required("fulfillment", body.fulfillment, |v| match v.as_str() {
        "delivery" => Ok(Fulfillment::Delivery),
        "pickup" => Ok(Fulfillment::Pickup),
        _ => Err("must be delivery or pickup"),
    });
    let location_id = fields.optional("location_id", body.location_id, |v| v.parse::<LocationId>());
    let payment_method = fields.optional("payment_method", body.payment_method, |v| {
        match v.as_str() {
            "online" => Ok(PaymentMethod::Online),
            "cash" => Ok(PaymentMethod::Cash),
            _ => Err("must be online or cash"),
        }
    });
    let address = match body.address {
        Some(address) => match address.checked("address") {
            Ok(address) => Some(Some(address)),
            Err((field, message)) => {
                fields.fail(&field, message);
                None
            }
        },
        None => Some(None),
    };
    let phone = fields.optional("phone", body.phone, |v| phone(&v));
    let note = fields.optional("note", body.note, |v| text(&v, 500));
    let lines = match body.lines {
        None => {
            fields.fail("lines", "is required");
            None
        }
        Some(lines) if lines.is_empty() || lines.len() > MAX_LINES => {
            fields.fail("lines", format!("must have 1 to {MAX_LINES} lines"));
            None
        }
        Some(lines) => {
            let parsed: Vec<Option<Wanted>> = lines
                .into_iter()
                .enumerate()
                .map(|(i, l)| parse_line(&mut fields, i, l))
                .collect();
            parsed.into_iter().collect::<Option<Vec<_>>>()
        }
    };
    if fulfillment == Some(Fulfillment::Delivery) && matches!(address, Some(None)) {
        fields.fail("address", "is required for delivery");
    }
    let (
        Some(fulfillment),
        Some(location_id),
        Some(payment_method),
        Some(address),
        Some(phone),
        Some(note),
        Some(lines),
    ) = (
        fulfillment,
        location_id,
        payment_method,
        address,
        phone,
        note,
        lines,
    )
    else {
        return Err(fields.into_error());
    };
    fields.finish()?;
    Ok(NewOrder {
        location_id,
        fulfillment,
        address,
        phone,
        note,
        payment_method: payment_method.unwrap_or(PaymentMethod::Online),
        lines,
        channel: None,
    })
}

fn sha256_hex(bytes: &[u8]) -> String {
    Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// The `Idempotency-Key` header, checked, with the hash of the request it came with.
fn idempotency(
    headers: &HeaderMap,
    body: &serde_json::Value,
) -> Result<Option<IdempotencyKey>, ApiError> {
    let Some(value) = headers.get("idempotency-key") else {
        return Ok(None);
    };
    let key = value
        .to_str()
        .ok()
        .filter(|k| (1..=255).contains(&k.len()))
        .ok_or_else(|| {
            ApiError::bad_request(
                "bad_idempotency_key",
                "Idempotency-Key must be 1 to 255 visible ASCII characters",
            )
        })?;
    // serde_json's maps are ordered, so the same request always hashes the same.
    let canonical = serde_json::to_vec(body).map_err(ApiError::internal)?;
    Ok(Some(IdempotencyKey {
        key_hash: sha256_hex(key.as_bytes()),
        request_hash: sha256_hex(&canonical),
    }))
}

/// Places an order. The server prices every line from the menu; prices sent by the client are
/// ignored. With an `Idempotency-Key`, the same key and body return the same order, and the
/// same key with another body is 409.
#[utoipa::path(
    post, path = "/v1/orders", tag = "orders", security(("bearer" = [])),
    params(("Idempotency-Key" = Option<String>, Header, description = "Makes retries safe: 1 to 255 characters")),
    request_body = PlaceRequest,
    responses(
        (status = 201, description = "Placed (or the same request replayed)", body = OrderView),
        (status = 409, description = "`insufficient_stock` (names the item) or `idempotency_key_reused`", body = ProblemSchema, content_type = "application/problem+json"),
    )
)]
async fn place_order(
    State(table): State<Table>,
    State(outbox): State<Outbox>,
    State(clock): State<Clock>,
    caller: Require<CustomerOrAdmin>,
    headers: HeaderMap,
    Json(body): Json<serde_json::Value>,
) -> Result<Response, ApiError> {
    let idem = idempotency(&headers, &body)?;
    let request: PlaceRequest = fanorder_platform::json::from_value(body)?;
    let new = parse_new_order(request)?;
    let placer = Placer {
        account: caller.account.clone(),
        role: caller.role.as_str().to_owned(),
        customer_id: (caller.role == Role::Customer).then(|| caller.account.clone()),
    };
    let placed = service::place(
        &ctx(table, outbox, clock),
        &caller.tenant,
        &placer,
        new,
        idem,
    )
    .await?;
    let replayed = matches!(placed, Placed::Replayed(_));
    let mut response = (StatusCode::CREATED, Json(OrderView::from(placed.order()))).into_response();
    if replayed {
        response
            .headers_mut()
            .insert("idempotent-replayed", HeaderValue::from_static("true"));
    }
    Ok(response)
}

/// The queue query.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct QueueParams {
    /// The queue: a status such as `PAID`.
    #[param(value_type = Status, required = true)]
    pub status: Option<String>,
    /// Only this branch's orders.
    pub location_id: Option<String>,
    /// Items per page, 1 to 100 (default 50).
    #[param(minimum = 1, maximum = 100)]
    pub limit: Option<usize>,
    /// The `next_cursor` of the previous page.
    #[param(max_length = 2048)]
    pub cursor: Option<String>,
}

/// A status queue, oldest first: the kitchen sees `PAID`, the packer `READY`, the driver
/// `OUT_FOR_DELIVERY`.
#[utoipa::path(
    get, path = "/v1/orders", tag = "orders", security(("bearer" = [])),
    params(QueueParams),
    responses((status = 200, description = "One page of the queue", body = Page<OrderView>))
)]
async fn list_orders(
    State(table): State<Table>,
    caller: Require<Staff>,
    Query(params): Query<QueueParams>,
) -> Result<Json<Page<OrderView>>, ApiError> {
    let mut fields = Fields::new();
    let status = fields.required("status", params.status, |v| v.parse::<Status>());
    let location = fields.optional("location_id", params.location_id, |v| {
        v.parse::<LocationId>()
    });
    let page = PageParams {
        limit: params.limit,
        cursor: params.cursor,
    };
    let limit = fields.check("limit", page.limit().map_err(|_| "must be 1 to 100"));
    let (Some(status), Some(location), Some(limit)) = (status, location, limit) else {
        return Err(fields.into_error());
    };
    let found = store::queue(
        &table,
        &caller.tenant,
        status,
        location.as_ref(),
        page.cursor.as_deref(),
        limit,
    )
    .await?;
    Ok(Json(Page {
        items: found.items.iter().map(OrderView::from).collect(),
        next_cursor: found.next_cursor,
    }))
}

/// The caller's own orders, newest first.
#[utoipa::path(
    get, path = "/v1/me/orders", tag = "orders", security(("bearer" = [])),
    params(PageParams),
    responses((status = 200, description = "One page of the caller's orders", body = Page<OrderView>))
)]
async fn my_orders(
    State(table): State<Table>,
    caller: Require<CustomerOnly>,
    Query(page): Query<PageParams>,
) -> Result<Json<Page<OrderView>>, ApiError> {
    let found = store::customer_orders(
        &table,
        &caller.tenant,
        &caller.account,
        page.cursor.as_deref(),
        page.limit()?,
    )
    .await?;
    Ok(Json(Page {
        items: found.items.iter().map(OrderView::from).collect(),
        next_cursor: found.next_cursor,
    }))
}

/// One order (staff: any of the restaurant's; a customer: their own).
#[utoipa::path(
    get, path = "/v1/orders/{id}", tag = "orders", security(("bearer" = [])),
    params(("id" = String, Path, description = "Order id")),
    responses(
        (status = 200, description = "The order", body = OrderView),
        (status = 404, description = "No such order here", body = ProblemSchema, content_type = "application/problem+json"),
    )
)]
async fn get_order(
    State(table): State<Table>,
    State(outbox): State<Outbox>,
    State(clock): State<Clock>,
    caller: Require<AnyRole>,
    Path(id): Path<String>,
) -> Result<Json<OrderView>, ApiError> {
    let order = service::visible_order(
        &ctx(table, outbox, clock),
        &caller.tenant,
        &id,
        caller.role,
        &caller.account,
    )
    .await?;
    Ok(Json(OrderView::from(&order)))
}

/// An order's history.
#[derive(Debug, Serialize, ToSchema)]
pub struct History {
    /// Every move, oldest first.
    pub items: Vec<HistoryEntry>,
}

/// An order's moves, oldest first: who, in which role, when, from, to, why.
#[utoipa::path(
    get, path = "/v1/orders/{id}/history", tag = "orders", security(("bearer" = [])),
    params(("id" = String, Path, description = "Order id")),
    responses(
        (status = 200, description = "The history", body = History),
        (status = 404, description = "No such order here", body = ProblemSchema, content_type = "application/problem+json"),
    )
)]
async fn order_history(
    State(table): State<Table>,
    State(outbox): State<Outbox>,
    State(clock): State<Clock>,
    caller: Require<AnyRole>,
    Path(id): Path<String>,
) -> Result<Json<History>, ApiError> {
    let order = service::visible_order(
        &ctx(table.clone(), outbox, clock),
        &caller.tenant,
        &id,
        caller.role,
        &caller.account,
    )
    .await?;
    Ok(Json(History {
        items: store::history(&table, &caller.tenant, &order.id).await?,
    }))
}

/// A move.
#[derive(Debug, Deserialize, ToSchema)]
#[schema(example = json!({"to": "IN_KITCHEN", "version": 2}))]
pub struct MoveRequest {
    /// The status to move to.
    #[schema(value_type = Status, required = true)]
    pub to: Option<String>,
    /// The version you read.
    #[schema(value_type = i64, required = true)]
    pub version: Option<i64>,
    /// Why (shown in history; useful for cancellations).
    #[schema(max_length = 500, pattern = "\\S")]
    pub reason: Option<String>,
}

/// Moves an order. Who may make which move is one table (docs/orders.md): a role that may not
/// is 403, a move nobody may make from here is 409 `illegal_transition`, a stale version is 409
/// `version_conflict`.
#[utoipa::path(
    post, path = "/v1/orders/{id}/transitions", tag = "orders", security(("bearer" = [])),
    params(("id" = String, Path, description = "Order id")),
    request_body = MoveRequest,
    responses(
        (status = 200, description = "Moved", body = OrderView),
        (status = 404, description = "No such order here", body = ProblemSchema, content_type = "application/problem+json"),
        (status = 409, description = "`illegal_transition` or `version_conflict`", body = ProblemSchema, content_type = "application/problem+json"),
    )
)]
async fn move_order(
    State(table): State<Table>,
    State(outbox): State<Outbox>,
    State(clock): State<Clock>,
    caller: Require<AnyRole>,
    Path(id): Path<String>,
    Json(body): Json<MoveRequest>,
) -> Result<Json<OrderView>, ApiError> {
    let mut fields = Fields::new();
    let to = fields.required("to", body.to, |v| v.parse::<Status>());
    let version = fields.required("version", body.version, |v| {
        if v >= 1 {
            Ok(v)
        } else {
            Err("must be at least 1")
        }
    });
    let reason = fields.optional("reason", body.reason, |v| text(&v, 500));
    let (Some(to), Some(version), Some(reason)) = (to, version, reason) else {
        return Err(fields.into_error());
    };
    let ctx = ctx(table, outbox, clock);
    let order =
        service::visible_order(&ctx, &caller.tenant, &id, caller.role, &caller.account).await?;
    let moved = service::transition(
        &ctx,
        &caller.tenant,
        &order,
        Mover::Role(caller.role),
        Some(&caller.account),
        &Move {
            to,
            version,
            reason,
        },
        None,
    )
    .await?;
    Ok(Json(OrderView::from(&moved)))
}

/// What the webhook answers the provider.
#[derive(Debug, Serialize, ToSchema)]
pub struct PaymentAnswer {
    /// `applied` or `declined` (refusals are problems).
    pub result: String,
    /// The order.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub order_id: Option<String>,
}

/// A payment provider's signed notification. An approved payment of the right amount makes the
/// order `PAID` exactly once, however often it is replayed; a wrong amount is refused (409
/// `amount_mismatch`) and recorded, and replays get the same answer.
#[utoipa::path(
    post, path = "/v1/payments/{provider}/webhook", tag = "payments",
    params(
        ("provider" = String, Path, description = "The provider: `mock`"),
        ("X-Mock-Signature" = Option<String>, Header, description = "`sha256=<hex HMAC-SHA256 of the raw body>` (mock provider)"),
    ),
    request_body = crate::payments::MockNotification,
    responses(
        (status = 200, description = "Applied, or declined by the provider", body = PaymentAnswer),
        (status = 401, description = "Missing or invalid signature", body = ProblemSchema, content_type = "application/problem+json"),
        (status = 404, description = "Unknown provider or order", body = ProblemSchema, content_type = "application/problem+json"),
        (status = 409, description = "`amount_mismatch` or `order_not_payable` (recorded)", body = ProblemSchema, content_type = "application/problem+json"),
    )
)]
async fn payment_webhook(
    State(table): State<Table>,
    State(outbox): State<Outbox>,
    State(clock): State<Clock>,
    State(payments): State<Payments>,
    Path(provider): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Json<PaymentAnswer>, ApiError> {
    let ctx = ctx(table, outbox, clock);
    let (note, outcome) =
        service::receive_payment(&ctx, &payments, &provider, &headers, &body).await?;
    match outcome {
        PaymentOutcome::Applied(order) => Ok(Json(PaymentAnswer {
            result: "applied".into(),
            order_id: Some(order.to_string()),
        })),
        PaymentOutcome::Declined => Ok(Json(PaymentAnswer {
            result: "declined".into(),
            order_id: Some(note.order_id.to_string()),
        })),
        PaymentOutcome::AmountMismatch => Err(ApiError::conflict(
            "amount_mismatch",
            "the amount or currency is not the order's; recorded and refused",
        )),
        PaymentOutcome::NotPayable => Err(ApiError::conflict(
            "order_not_payable",
            "the order is not waiting for payment; recorded and refused",
        )),
    }
}

/// An order's printable receipt: a self-contained HTML page (staff: any of the restaurant's
/// orders; a customer: their own).
#[utoipa::path(
    get, path = "/v1/orders/{id}/receipt", tag = "orders", security(("bearer" = [])),
    params(("id" = String, Path, description = "Order id")),
    responses(
        (status = 200, description = "The receipt", body = String, content_type = "text/html"),
        (status = 404, description = "No such order here", body = ProblemSchema, content_type = "application/problem+json"),
    )
)]
async fn order_receipt(
    State(table): State<Table>,
    State(outbox): State<Outbox>,
    State(clock): State<Clock>,
    caller: Require<AnyRole>,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let order = service::visible_order(
        &ctx(table.clone(), outbox, clock),
        &caller.tenant,
        &id,
        caller.role,
        &caller.account,
    )
    .await?;
    let restaurant = fanorder_staff::store::tenant(&table, &caller.tenant)
        .await?
        .ok_or(ApiError::NotFound("order"))?;
    let location = match &order.location_id {
        Some(id) => fanorder_menus::store::location(&table, &caller.tenant, id).await?,
        None => None,
    };
    let page = crate::receipt::html(
        &order,
        &restaurant,
        location.as_ref(),
        &service::zone(&restaurant),
    );
    Ok((
        [
            (
                axum::http::header::CONTENT_TYPE,
                HeaderValue::from_static("text/html; charset=utf-8"),
            ),
            (
                axum::http::header::CACHE_CONTROL,
                HeaderValue::from_static("private, no-store"),
            ),
        ],
        page,
    )
        .into_response())
}

/// The range and grouping of a sales report.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct SalesQuery {
    /// First day, `yyyy-mm-dd`, in the restaurant's time zone (default: 29 days before `to`).
    pub from: Option<String>,
    /// Last day, inclusive (default: today).
    pub to: Option<String>,
    /// `day` (default), `item` or `location`.
    pub group_by: Option<String>,
}

/// Sales between two days: paid orders, cancellations, revenue in minor units and the average
/// time from paid to ready, by day, item or location. Kept up to date from the events, so a
/// report reads a few counters, never the orders.
#[utoipa::path(
    get, path = "/v1/reports/sales", tag = "reports", security(("bearer" = [])),
    params(SalesQuery),
    responses(
        (status = 200, description = "The report", body = crate::reports::SalesReport),
        (status = 422, description = "A bad range or grouping", body = ProblemSchema, content_type = "application/problem+json"),
    )
)]
async fn sales_report(
    State(table): State<Table>,
    State(clock): State<Clock>,
    caller: Require<fanorder_platform::auth::Admin>,
    Query(query): Query<SalesQuery>,
) -> Result<Json<crate::reports::SalesReport>, ApiError> {
    let restaurant = fanorder_staff::store::tenant(&table, &caller.tenant)
        .await?
        .ok_or(ApiError::NotFound("tenant"))?;
    let today = clock
        .now()
        .to_zoned_datetime(service::zone(&restaurant))
        .date();
    let mut fields = Fields::new();
    let date = |v: String| {
        v.parse::<jiff::civil::Date>()
            .map_err(|_| "must be a date, yyyy-mm-dd".to_owned())
    };
    let to = fields.optional("to", query.to, date);
    let from = fields.optional("from", query.from, date);
    let group_by = fields.optional("group_by", query.group_by, |v| {
        v.parse::<crate::reports::GroupBy>()
    });
    let (Some(to), Some(from), Some(group_by)) = (to, from, group_by) else {
        return Err(fields.into_error());
    };
    fields.finish()?;
    let to = to.unwrap_or(today);
    let from = match from {
        Some(from) => from,
        None => to
            .checked_sub(jiff::Span::new().days(29))
            .map_err(|_| ApiError::invalid("to", "is out of range"))?,
    };
    if from > to {
        return Err(ApiError::invalid("from", "must not be after to"));
    }
    let days = (to - from).get_days();
    if i64::from(days) >= crate::reports::MAX_DAYS {
        return Err(ApiError::invalid(
            "from",
            format!("a report covers at most {} days", crate::reports::MAX_DAYS),
        ));
    }
    Ok(Json(
        crate::reports::sales(
            &table,
            &caller.tenant,
            restaurant.currency,
            from,
            to,
            group_by.unwrap_or(crate::reports::GroupBy::Day),
        )
        .await?,
    ))
}
