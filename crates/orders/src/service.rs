//! Placing and moving orders: the rules that the REST routes, the payment webhook and the
//! Messenger bot all go through.

use std::collections::HashMap;

use fanorder_events::{Event, EventType, Outbox};
use fanorder_menus::model::{ComboId, ItemId, LocationId};
use fanorder_platform::address::Address;
use fanorder_platform::{ApiError, Clock, Role, TenantId};
use fanorder_staff::Tenant;
use fanorder_store::{Key, Table, TxOp};
use jiff::tz::TimeZone;
use serde_json::json;

use crate::model::{
    Channel, Fulfillment, HistoryEntry, Mover, Order, OrderId, OrderView, Payment, PaymentMethod,
    PaymentStatus, PlacedBy, Status, Verdict, verdict,
};
use crate::pricing::{self, MenuSnapshot, Wanted};
use crate::store::{self, Idempotency, PlaceError};

/// What the order store needs to work: the table, the outbox and the clock.
#[derive(Clone, Debug)]
pub struct Ctx {
    /// The table.
    pub table: Table,
    /// Where events go.
    pub outbox: Outbox,
    /// Now.
    pub clock: Clock,
}

/// A new order, validated but not yet priced.
#[derive(Debug, Clone)]
pub struct NewOrder {
    /// The branch, if the client chose one.
    pub location_id: Option<LocationId>,
    /// Delivery or pickup.
    pub fulfillment: Fulfillment,
    /// Where to deliver (required for delivery).
    pub address: Option<Address>,
    /// Phone.
    pub phone: Option<String>,
    /// Note for the kitchen.
    pub note: Option<String>,
    /// Online or cash.
    pub payment_method: PaymentMethod,
    /// The lines.
    pub lines: Vec<Wanted>,
    /// Where it came from (Messenger).
    pub channel: Option<Channel>,
}

/// Who is placing the order.
#[derive(Debug, Clone)]
pub struct Placer {
    /// The account (or the channel's customer id for the bot).
    pub account: String,
    /// `customer`, `admin`, or `system` for the bot.
    pub role: String,
    /// The customer account the order belongs to, for "my orders".
    pub customer_id: Option<String>,
}

/// An idempotency key with the hash of the request it came with.
#[derive(Debug, Clone)]
pub struct IdempotencyKey {
    /// SHA-256 of the key, hex.
    pub key_hash: String,
    /// SHA-256 of the request body, hex.
    pub request_hash: String,
}

/// What placing did.
#[derive(Debug)]
pub enum Placed {
    /// A new order.
    New(Order),
    /// The same request came again with the same key: the order it made then.
    Replayed(Order),
}

impl Placed {
    /// The order either way.
    pub fn order(&self) -> &Order {
        match self {
            Placed::New(order) | Placed::Replayed(order) => order,
        }
    }
}

/// The restaurant's time zone (UTC when unknown).
pub fn zone(tenant: &Tenant) -> TimeZone {
    TimeZone::get(&tenant.time_zone).unwrap_or(TimeZone::UTC)
}

async fn load_tenant(ctx: &Ctx, tenant: &TenantId) -> Result<Tenant, ApiError> {
    fanorder_staff::store::tenant(&ctx.table, tenant)
        .await?
        .ok_or(ApiError::NotFound("tenant"))
}

/// Reads what the lines need from the menu (items and combos, and the items combos sell).
async fn snapshot(
    ctx: &Ctx,
    tenant: &TenantId,
    lines: &[Wanted],
) -> Result<MenuSnapshot, ApiError> {
    let mut item_ids: Vec<ItemId> = Vec::new();
    let mut combo_ids: Vec<ComboId> = Vec::new();
    for line in lines {
        match line {
            Wanted::Item { item, .. } => item_ids.push(*item),
            Wanted::Combo { combo, choices, .. } => {
                combo_ids.push(*combo);
                item_ids.extend(choices.iter().copied());
            }
        }
    }
    combo_ids.sort();
    combo_ids.dedup();
    let combos = futures::future::try_join_all(
        combo_ids
            .iter()
            .map(|id| fanorder_menus::store::combo(&ctx.table, tenant, id)),
    )
    .await?;
    let mut snapshot = MenuSnapshot::default();
    for combo in combos.into_iter().flatten() {
        for component in &combo.components {
            if let fanorder_menus::model::ComboComponent::Item { item_id, .. } = component {
                item_ids.push(*item_id);
            }
        }
        snapshot.combos.insert(combo.id, combo);
    }
    item_ids.sort();
    item_ids.dedup();
    let items = futures::future::try_join_all(
        item_ids
            .iter()
            .map(|id| fanorder_menus::store::item(&ctx.table, tenant, id)),
    )
    .await?;
    snapshot.items = items
        .into_iter()
        .flatten()
        .map(|i| (i.id, i))
        .collect::<HashMap<_, _>>();
    Ok(snapshot)
}

/// The branch an order belongs to: the one asked for (it must be this restaurant's), else the
/// restaurant's only one; with several, the client must choose.
async fn resolve_location(
    ctx: &Ctx,
    tenant: &TenantId,
    asked: Option<LocationId>,
) -> Result<Option<LocationId>, ApiError> {
    match asked {
        Some(id) => match fanorder_menus::store::location(&ctx.table, tenant, &id).await? {
            Some(location) => Ok(Some(location.id)),
            None => Err(ApiError::invalid("location_id", "no such location")),
        },
        None => {
            let all = fanorder_menus::store::locations(&ctx.table, tenant).await?;
            match all.as_slice() {
                [] => Ok(None),
                [only] => Ok(Some(only.id)),
                _ => Err(ApiError::invalid(
                    "location_id",
                    "this restaurant has several locations: choose one",
                )),
            }
        }
    }
}

fn order_event(kind: EventType, tenant: TenantId, order: &Order, data: serde_json::Value) -> Event {
    Event::new(kind, tenant, order.updated_at, without_nulls(data)).with_sequence(order.version)
}

/// Event data leaves absent values out rather than writing `null` (the schemas say so).
fn without_nulls(mut data: serde_json::Value) -> serde_json::Value {
    if let Some(map) = data.as_object_mut() {
        map.retain(|_, v| !v.is_null());
        for value in map.values_mut() {
            if value.is_object() {
                *value = without_nulls(value.take());
            }
        }
    }
    data
}

/// Places an order: prices every line from the menu now, takes stock, numbers it, and writes it
/// with its history and events in one transaction.
pub async fn place(
    ctx: &Ctx,
    tenant_id: &TenantId,
    placer: &Placer,
    new: NewOrder,
    idempotency: Option<IdempotencyKey>,
) -> Result<Placed, ApiError> {
    let idem_key = idempotency
        .as_ref()
        .map(|k| store::idempotency_key(tenant_id, &placer.account, &k.key_hash));
    if let (Some(key), Some(idem)) = (&idem_key, &idempotency)
        && let Some(placed) = replay(ctx, tenant_id, key, idem).await?
    {
        return Ok(placed);
    }
    let tenant = load_tenant(ctx, tenant_id).await?;
    let tz = zone(&tenant);
    let now = ctx.clock.now();
    let location_id = resolve_location(ctx, tenant_id, new.location_id).await?;
    let menu = snapshot(ctx, tenant_id, &new.lines).await?;
    let priced = pricing::price(&new.lines, &menu, now, &tz).map_err(ApiError::Validation)?;
    let day = now.to_zoned_datetime(tz).date().to_string();
    let number = store::next_number(&ctx.table, tenant_id, &day, now).await?;
    let (status, payment) = match new.payment_method {
        PaymentMethod::Online => (
            Status::PendingPayment,
            Payment {
                method: PaymentMethod::Online,
                status: PaymentStatus::Pending,
                provider: None,
                payment_id: None,
            },
        ),
        PaymentMethod::Cash => (
            Status::Paid,
            Payment {
                method: PaymentMethod::Cash,
                status: PaymentStatus::Due,
                provider: None,
                payment_id: None,
            },
        ),
    };
    let order = Order {
        id: OrderId::new(),
        number,
        status,
        version: 1,
        fulfillment: new.fulfillment,
        location_id,
        customer_id: placer.customer_id.clone(),
        placed_by: PlacedBy {
            account: placer.account.clone(),
            role: placer.role.clone(),
        },
        channel: new.channel,
        address: new.address,
        phone: new.phone,
        note: new.note,
        lines: priced.lines,
        subtotal: priced.subtotal,
        total: priced.subtotal,
        currency: tenant.currency,
        payment,
        stock_taken: priced.stock,
        created_at: now,
        updated_at: now,
        status_at: now,
        paid_at: None,
        late_noticed: false,
    };
    let entry = HistoryEntry {
        version: 1,
        from: None,
        to: status,
        at: now,
        by: Some(placer.account.clone()),
        role: placer.role.clone(),
        reason: None,
    };
    let mut events = vec![order_event(
        EventType::OrderPlaced,
        *tenant_id,
        &order,
        json!({"order": OrderView::from(&order)}),
    )];
    if status == Status::Paid {
        events.push(order_event(
            EventType::OrderPaid,
            *tenant_id,
            &order,
            paid_data(&order, None, "system"),
        ));
    }
    let record = match (&idem_key, &idempotency) {
        (Some(key), Some(idem)) => Some((
            key.clone(),
            Idempotency {
                request_hash: idem.request_hash.clone(),
                order_id: order.id,
                expires_at: (now + jiff::SignedDuration::from_hours(24)).as_second(),
            },
        )),
        _ => None,
    };
    match store::place(
        &ctx.table,
        &ctx.outbox,
        tenant_id,
        &order,
        &entry,
        &events,
        record,
    )
    .await
    {
        Ok(()) => {
            tracing::info!(tenant_id = %tenant_id, order_id = %order.id, number = order.number, total = order.total, "order placed");
            Ok(Placed::New(order))
        }
        Err(PlaceError::KeyTaken) => {
            // A concurrent request with the same key won: answer with its order.
            let (Some(key), Some(idem)) = (&idem_key, &idempotency) else {
                return Err(ApiError::conflict(
                    "conflict",
                    "the order could not be placed; retry",
                ));
            };
            replay(ctx, tenant_id, key, idem).await?.ok_or_else(|| {
                ApiError::conflict("conflict", "the order could not be placed; retry")
            })
        }
        Err(PlaceError::OutOfStock(item)) => {
            let name = menu
                .items
                .get(&item)
                .map_or_else(|| item.to_string(), |i| i.name.clone());
            Err(ApiError::conflict(
                "insufficient_stock",
                format!("not enough {name} left"),
            ))
        }
        Err(PlaceError::Api(err)) => Err(err),
    }
}

async fn replay(
    ctx: &Ctx,
    tenant: &TenantId,
    key: &Key,
    idem: &IdempotencyKey,
) -> Result<Option<Placed>, ApiError> {
    let Some(record) = store::idempotency(&ctx.table, key).await? else {
        return Ok(None);
    };
    if record.request_hash != idem.request_hash {
        return Err(ApiError::conflict(
            "idempotency_key_reused",
            "this Idempotency-Key was used with a different request; use a new key for a new order",
        ));
    }
    let order = store::order(&ctx.table, tenant, &record.order_id)
        .await?
        .ok_or(ApiError::NotFound("order"))?;
    Ok(Some(Placed::Replayed(order)))
}

fn paid_data(order: &Order, from: Option<Status>, by_role: &str) -> serde_json::Value {
    json!({
        "order_id": order.id, "number": order.number, "from": from.unwrap_or(Status::PendingPayment), "to": Status::Paid,
        "by": {"role": by_role}, "total": order.total, "currency": order.currency, "payment": order.payment,
        "fulfillment": order.fulfillment, "location_id": order.location_id,
    })
}

/// A requested move.
#[derive(Debug, Clone)]
pub struct Move {
    /// The status to move to.
    pub to: Status,
    /// The version the mover read.
    pub version: i64,
    /// Why (optional; shown in history and the cancellation message).
    pub reason: Option<String>,
}

/// A payment that pays an order, with the record that makes it count once.
#[derive(Debug)]
pub struct PaidVia {
    /// The provider.
    pub provider: String,
    /// The provider's payment id.
    pub payment_id: String,
    /// The put of the payment record, written in the same transaction.
    pub record: TxOp,
}

/// Loads an order the caller may see: staff any order of the tenant, a customer only their own
/// (another's is 404, like a missing one).
pub async fn visible_order(
    ctx: &Ctx,
    tenant: &TenantId,
    id: &str,
    role: Role,
    account: &str,
) -> Result<Order, ApiError> {
    let id: OrderId = id.parse().map_err(|_| ApiError::NotFound("order"))?;
    let order = store::order(&ctx.table, tenant, &id)
        .await?
        .ok_or(ApiError::NotFound("order"))?;
    if role == Role::Customer && order.customer_id.as_deref() != Some(account) {
        return Err(ApiError::NotFound("order"));
    }
    Ok(order)
}

/// Moves an order, as the state machine allows the mover. Writes the order (only from the
/// version and status read), a history entry and an event in one transaction; cancelling gives
/// stock back.
pub async fn transition(
    ctx: &Ctx,
    tenant: &TenantId,
    before: &Order,
    mover: Mover,
    account: Option<&str>,
    wanted: &Move,
    paid_via: Option<PaidVia>,
) -> Result<Order, ApiError> {
    // A stale version first: the order moved on since the caller read it, whatever the move.
    if wanted.version != before.version {
        return Err(ApiError::conflict(
            "version_conflict",
            format!(
                "the order is at version {}, not {}; read it again and retry",
                before.version, wanted.version
            ),
        ));
    }
    match verdict(before.status, wanted.to, before.fulfillment, mover) {
        Verdict::Illegal => {
            return Err(ApiError::conflict(
                "illegal_transition",
                format!("an order cannot go from {} to {}", before.status, wanted.to),
            ));
        }
        Verdict::WrongRole => {
            return Err(ApiError::Forbidden(format!(
                "the {} role may not move an order from {} to {}",
                mover.as_str(),
                before.status,
                wanted.to
            )));
        }
        Verdict::Allowed => {}
    }
    let now = ctx.clock.now();
    let mut after = Order {
        status: wanted.to,
        version: before.version + 1,
        updated_at: now,
        status_at: now,
        ..before.clone()
    };
    let mut extra: Vec<TxOp> = Vec::new();
    let by = json!({"account": account, "role": mover.as_str()});
    let base = json!({
        "order_id": after.id, "number": after.number, "from": before.status, "to": wanted.to, "by": by,
        "fulfillment": after.fulfillment, "location_id": after.location_id,
    });
    let (kind, data) = match wanted.to {
        Status::Paid => {
            after.paid_at = Some(now);
            after.payment.status = PaymentStatus::Paid;
            if mover == Mover::Role(Role::Admin) {
                after.payment.method = PaymentMethod::Cash;
            }
            if let Some(via) = paid_via {
                after.payment.provider = Some(via.provider);
                after.payment.payment_id = Some(via.payment_id);
                extra.push(via.record);
            }
            (
                EventType::OrderPaid,
                paid_data(&after, Some(before.status), mover.as_str()),
            )
        }
        Status::Cancelled => {
            for (item, quantity) in &after.stock_taken {
                if fanorder_menus::store::item(&ctx.table, tenant, item)
                    .await?
                    .is_some_and(|i| i.stock.is_some())
                {
                    extra.push(fanorder_menus::store::return_stock(tenant, item, *quantity));
                }
            }
            let mut data = base;
            if let Some(reason) = &wanted.reason {
                data["reason"] = json!(reason);
            }
            (EventType::OrderCancelled, data)
        }
        _ => (EventType::OrderStatusChanged, base),
    };
    let entry = HistoryEntry {
        version: after.version,
        from: Some(before.status),
        to: wanted.to,
        at: now,
        by: account.map(str::to_owned),
        role: mover.as_str().to_owned(),
        reason: wanted.reason.clone(),
    };
    let event = order_event(kind, *tenant, &after, data);
    let write = store::MoveWrite {
        before,
        after: &after,
        entry: &entry,
        event: &event,
        extra,
    };
    store::save_move(&ctx.table, &ctx.outbox, tenant, write).await?;
    tracing::info!(tenant_id = %tenant, order_id = %after.id, from = %before.status, to = %after.status, by = mover.as_str(), "order moved");
    Ok(after)
}

/// What a payment notification did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PaymentOutcome {
    /// The order is paid (now, or by an earlier delivery of the same notification).
    Applied(OrderId),
    /// The provider says the payment did not go through; the order still waits.
    Declined,
    /// Refused and recorded: the amount or currency is not the order's.
    AmountMismatch,
    /// Refused and recorded: the order was not waiting for payment (paid, cancelled).
    NotPayable,
}

fn outcome_of(record: &store::PaymentRecord) -> PaymentOutcome {
    match record.outcome.as_str() {
        "applied" => PaymentOutcome::Applied(record.order_id),
        "declined" => PaymentOutcome::Declined,
        "amount_mismatch" => PaymentOutcome::AmountMismatch,
        _ => PaymentOutcome::NotPayable,
    }
}

/// Applies a verified payment notification exactly once: a replay answers what the first
/// delivery did and changes nothing.
pub async fn apply_payment(
    ctx: &Ctx,
    provider: &str,
    note: &crate::payments::Notification,
) -> Result<PaymentOutcome, ApiError> {
    let tenant = note.tenant_id;
    let key = store::payment_key(&tenant, provider, &note.payment_id);
    if let Some(record) = store::payment_record(&ctx.table, &key).await? {
        return Ok(outcome_of(&record));
    }
    let order = store::order(&ctx.table, &tenant, &note.order_id)
        .await?
        .ok_or(ApiError::NotFound("order"))?;
    let now = ctx.clock.now();
    let record = |outcome: &str| store::PaymentRecord {
        order_id: order.id,
        outcome: outcome.to_owned(),
        amount: note.amount,
        currency: note.currency.clone(),
        at: now,
    };
    let refusal = if !note.approved {
        Some(("declined", PaymentOutcome::Declined))
    } else if note.amount != order.total || note.currency != order.currency.code() {
        Some(("amount_mismatch", PaymentOutcome::AmountMismatch))
    } else if order.status != Status::PendingPayment {
        Some(("order_not_payable", PaymentOutcome::NotPayable))
    } else {
        None
    };
    if let Some((outcome, result)) = refusal {
        let mut ops = vec![store::payment_put(&ctx.table, &key, &record(outcome))?];
        if outcome != "declined" {
            let event = Event::new(
                EventType::PaymentRejected,
                tenant,
                now,
                json!({"order_id": order.id, "provider": provider, "payment_id": note.payment_id, "reason": outcome,
                       "amount": note.amount, "currency": note.currency}),
            );
            ops.push(ctx.outbox.write(&ctx.table, &event)?);
            tracing::warn!(tenant_id = %tenant, order_id = %order.id, reason = outcome, "payment refused");
        }
        return match ctx.table.transact(ops).await {
            Ok(()) => {
                ctx.outbox.committed();
                Ok(result)
            }
            // The same notification, delivered twice at once: answer what the first recorded.
            Err(fanorder_store::StoreError::TransactionCanceled { .. }) => {
                let record = store::payment_record(&ctx.table, &key)
                    .await?
                    .ok_or_else(|| ApiError::conflict("conflict", "retry"))?;
                Ok(outcome_of(&record))
            }
            Err(err) => Err(err.into()),
        };
    }
    let via = PaidVia {
        provider: provider.to_owned(),
        payment_id: note.payment_id.clone(),
        record: store::payment_put(&ctx.table, &key, &record("applied"))?,
    };
    let wanted = Move {
        to: Status::Paid,
        version: order.version,
        reason: None,
    };
    match transition(
        ctx,
        &tenant,
        &order,
        Mover::System,
        None,
        &wanted,
        Some(via),
    )
    .await
    {
        Ok(paid) => Ok(PaymentOutcome::Applied(paid.id)),
        Err(err) => match store::payment_record(&ctx.table, &key).await? {
            // A concurrent delivery of the same notification applied it.
            Some(record) => Ok(outcome_of(&record)),
            None => Err(err),
        },
    }
}

/// A payment notification as a provider delivers it (`POST /v1/payments/{provider}/webhook`,
/// or the mock's checkout page): the provider checks its signature and reads it, then it is
/// applied exactly once. Returns the notification read and what it did.
pub async fn receive_payment(
    ctx: &Ctx,
    payments: &crate::payments::Payments,
    provider: &str,
    headers: &axum::http::HeaderMap,
    body: &[u8],
) -> Result<(crate::payments::Notification, PaymentOutcome), ApiError> {
    let provider = payments
        .get(provider)
        .ok_or(ApiError::NotFound("payment provider"))?;
    let note = provider.verify(headers, body)?;
    let outcome = apply_payment(ctx, provider.name(), &note).await?;
    Ok((note, outcome))
}
