//! The orders crate's items in the one table. Keys are built here and nowhere else, each next to
//! the access pattern it serves.

use fanorder_events::{Event, Outbox};
use fanorder_menus::model::{ItemId, LocationId};
use fanorder_platform::{ApiError, Page, TenantId};
use fanorder_store::{
    Change, Cond, Item, Key, Put, Query, SortKey, StoreError, Table, TxOp, Update, Value,
    from_item, n, s, to_item,
};
use jiff::Timestamp;
use serde::{Deserialize, Serialize};

use crate::model::{HistoryEntry, Order, OrderId, Status};

/// Order, `T#<tenant>` / `ORDER#<id>`: read by id. It also sits in the status queue `gsi1`
/// (`T#<tenant>#Q#<status>` / `<entered millis>#<id>`, oldest first), the per-location queue
/// `gsi3` (`T#<tenant>#L#<location>#Q#<status>`), and, for customers, their list `gsi2`
/// (`T#<tenant>#C#<customer>` / `<created millis>#<id>`, newest first).
pub fn order_key(tenant: &TenantId, id: &OrderId) -> Key {
    Key::new(tenant.partition(), format!("ORDER#{id}"))
}

/// History entry, `T#<tenant>` / `ORDER#<id>#H#<version>`: one Query lists an order's moves.
pub fn history_key(tenant: &TenantId, id: &OrderId, version: i64) -> Key {
    Key::new(tenant.partition(), format!("ORDER#{id}#H#{version:06}"))
}

/// Idempotency record, `T#<tenant>` / `IDEM#<account>#<sha256 of the key>`: the order a
/// client's `Idempotency-Key` produced, for 24 hours.
pub fn idempotency_key(tenant: &TenantId, account: &str, key_hash: &str) -> Key {
    Key::new(tenant.partition(), format!("IDEM#{account}#{key_hash}"))
}

/// Payment record, `T#<tenant>` / `PAYMENT#<provider>#<payment id>`: makes each provider
/// notification count once, however often it is replayed.
pub fn payment_key(tenant: &TenantId, provider: &str, payment_id: &str) -> Key {
    Key::new(
        tenant.partition(),
        format!("PAYMENT#{provider}#{payment_id}"),
    )
}

/// Daily order counter, `T#<tenant>` / `COUNTER#ORDERS#<date>`: the next short order number.
pub fn counter_key(tenant: &TenantId, day: &str) -> Key {
    Key::new(tenant.partition(), format!("COUNTER#ORDERS#{day}"))
}

/// The status queue partition.
pub fn queue_partition(tenant: &TenantId, status: Status) -> String {
    format!("{}#Q#{status}", tenant.partition())
}

/// The per-location status queue partition.
pub fn location_queue_partition(
    tenant: &TenantId,
    location: &LocationId,
    status: Status,
) -> String {
    format!("{}#L#{location}#Q#{status}", tenant.partition())
}

/// The customer's orders partition.
pub fn customer_partition(tenant: &TenantId, customer: &str) -> String {
    format!("{}#C#{customer}", tenant.partition())
}

fn sort_time(at: Timestamp, id: &OrderId) -> String {
    // Fixed width, so text order is time order.
    format!("{:015}#{id}", at.as_millisecond())
}

/// The order item with its index keys.
pub fn order_item(table: &Table, tenant: &TenantId, order: &Order) -> Result<Item, ApiError> {
    let mut item = to_item(table.schema(), &order_key(tenant, &order.id), order)?;
    let queue_sort = sort_time(order.status_at, &order.id);
    item.insert("gsi1pk".into(), s(queue_partition(tenant, order.status)));
    item.insert("gsi1sk".into(), s(&queue_sort));
    if let Some(location) = &order.location_id {
        item.insert(
            "gsi3pk".into(),
            s(location_queue_partition(tenant, location, order.status)),
        );
        item.insert("gsi3sk".into(), s(&queue_sort));
    }
    if let Some(customer) = &order.customer_id {
        item.insert("gsi2pk".into(), s(customer_partition(tenant, customer)));
        item.insert("gsi2sk".into(), s(sort_time(order.created_at, &order.id)));
    }
    Ok(item)
}

/// The history entry put.
pub fn history_put(
    table: &Table,
    tenant: &TenantId,
    order: &OrderId,
    entry: &HistoryEntry,
) -> Result<TxOp, ApiError> {
    let item = to_item(
        table.schema(),
        &history_key(tenant, order, entry.version),
        entry,
    )?;
    Ok(TxOp::Put(Put {
        item,
        cond: Some(Cond::NotExists),
    }))
}

/// An order, if it exists in this tenant.
pub async fn order(
    table: &Table,
    tenant: &TenantId,
    id: &OrderId,
) -> Result<Option<Order>, ApiError> {
    Ok(table
        .get(&order_key(tenant, id))
        .await?
        .map(from_item)
        .transpose()?)
}

/// The next order number of the day (a counter that lives three days).
pub async fn next_number(
    table: &Table,
    tenant: &TenantId,
    day: &str,
    now: Timestamp,
) -> Result<u32, ApiError> {
    let update = Update {
        key: counter_key(tenant, day),
        changes: vec![
            Change::Add("value".into(), 1),
            Change::Set(
                "expires_at".into(),
                n((now + jiff::SignedDuration::from_hours(72)).as_second()),
            ),
        ],
        cond: None,
    };
    let item = table.update(update).await?;
    match item.get("value") {
        Some(Value::N(text)) => text.parse().map_err(ApiError::internal),
        _ => Err(ApiError::internal("order counter has no value")),
    }
}

/// What an idempotency record holds.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Idempotency {
    /// SHA-256 of the request body.
    pub request_hash: String,
    /// The order it made.
    pub order_id: OrderId,
    /// TTL.
    pub expires_at: i64,
}

/// The record of an idempotency key, if any.
pub async fn idempotency(table: &Table, key: &Key) -> Result<Option<Idempotency>, ApiError> {
    Ok(table.get(key).await?.map(from_item).transpose()?)
}

/// Why placing failed in the store.
#[derive(Debug)]
pub enum PlaceError {
    /// The idempotency key was taken by a concurrent request.
    KeyTaken,
    /// Not enough stock of this item.
    OutOfStock(ItemId),
    /// Anything else.
    Api(ApiError),
}

/// Writes a new order with its first history entry, its events, the idempotency record and
/// the stock it takes, all or nothing.
pub async fn place(
    table: &Table,
    outbox: &Outbox,
    tenant: &TenantId,
    order: &Order,
    entry: &HistoryEntry,
    events: &[Event],
    idempotency: Option<(Key, Idempotency)>,
) -> Result<(), PlaceError> {
    let api = PlaceError::Api;
    let mut ops = vec![
        TxOp::Put(Put {
            item: order_item(table, tenant, order).map_err(api)?,
            cond: Some(Cond::NotExists),
        }),
        history_put(table, tenant, &order.id, entry).map_err(api)?,
    ];
    for event in events {
        ops.push(outbox.write(table, event).map_err(api)?);
    }
    let idem_at = idempotency.as_ref().map(|_| ops.len());
    if let Some((key, record)) = &idempotency {
        let item = to_item(table.schema(), key, record).map_err(|e| api(e.into()))?;
        ops.push(TxOp::Put(Put {
            item,
            cond: Some(Cond::NotExists),
        }));
    }
    let stock_at = ops.len();
    for (item, quantity) in &order.stock_taken {
        ops.push(fanorder_menus::store::take_stock(tenant, item, *quantity));
    }
    match table.transact(ops).await {
        Ok(()) => {
            outbox.committed();
            Ok(())
        }
        Err(StoreError::TransactionCanceled { failures }) => {
            if let Some(at) = idem_at
                && failures.iter().any(|f| f.index == at)
            {
                return Err(PlaceError::KeyTaken);
            }
            match failures.iter().find(|f| f.index >= stock_at) {
                Some(f) => Err(PlaceError::OutOfStock(
                    order.stock_taken[f.index - stock_at].0,
                )),
                None => Err(api(ApiError::conflict(
                    "conflict",
                    "the order could not be placed; retry",
                ))),
            }
        }
        Err(err) => Err(api(err.into())),
    }
}

/// What a move writes.
#[derive(Debug)]
pub struct MoveWrite<'a> {
    /// The order as read.
    pub before: &'a Order,
    /// The order after the move.
    pub after: &'a Order,
    /// Its history entry.
    pub entry: &'a HistoryEntry,
    /// Its event.
    pub event: &'a Event,
    /// Anything else in the same transaction (stock given back, a payment record).
    pub extra: Vec<TxOp>,
}

/// Writes a move: the order (only from the version and status read), its history entry, its
/// event, and extra operations (stock given back). A lost race is 409 `version_conflict`.
pub async fn save_move(
    table: &Table,
    outbox: &Outbox,
    tenant: &TenantId,
    change: MoveWrite<'_>,
) -> Result<(), ApiError> {
    let MoveWrite {
        before,
        after,
        entry,
        event,
        extra,
    } = change;
    let cond =
        Cond::eq("version", n(before.version)).and(Cond::eq("status", s(before.status.as_str())));
    let mut ops = vec![
        TxOp::Put(Put {
            item: order_item(table, tenant, after)?,
            cond: Some(cond),
        }),
        history_put(table, tenant, &after.id, entry)?,
        outbox.write(table, event)?,
    ];
    ops.extend(extra);
    match table.transact(ops).await {
        Ok(()) => {
            outbox.committed();
            Ok(())
        }
        Err(StoreError::TransactionCanceled { .. } | StoreError::Contention) => {
            Err(ApiError::conflict(
                "version_conflict",
                "the order changed since you read it; read it again and retry",
            ))
        }
        Err(err) => Err(err.into()),
    }
}

/// One page of a status queue, oldest first (optionally one location's).
pub async fn queue(
    table: &Table,
    tenant: &TenantId,
    status: Status,
    location: Option<&LocationId>,
    cursor: Option<&str>,
    limit: usize,
) -> Result<Page<Order>, ApiError> {
    let query = match location {
        Some(location) => Query::index("gsi3", location_queue_partition(tenant, location, status)),
        None => Query::index("gsi1", queue_partition(tenant, status)),
    }
    .limit(limit);
    orders_page(table, &query, cursor).await
}

/// One page of a customer's orders, newest first.
pub async fn customer_orders(
    table: &Table,
    tenant: &TenantId,
    customer: &str,
    cursor: Option<&str>,
    limit: usize,
) -> Result<Page<Order>, ApiError> {
    let query = Query::index("gsi2", customer_partition(tenant, customer))
        .reverse()
        .limit(limit);
    orders_page(table, &query, cursor).await
}

/// Paid orders that entered the queue before `before`, oldest first (late-order notices).
pub async fn paid_before(
    table: &Table,
    tenant: &TenantId,
    before: Timestamp,
    limit: usize,
) -> Result<Vec<Order>, ApiError> {
    let query = Query::index("gsi1", queue_partition(tenant, Status::Paid))
        .sort_key(SortKey::Cmp(
            fanorder_store::CmpOp::Lt,
            format!("{:015}", before.as_millisecond()),
        ))
        .limit(limit);
    Ok(orders_page(table, &query, None).await?.items)
}

async fn orders_page(
    table: &Table,
    query: &Query,
    cursor: Option<&str>,
) -> Result<Page<Order>, ApiError> {
    let page = table.query(query, cursor).await?;
    Ok(Page {
        items: page
            .items
            .into_iter()
            .map(from_item)
            .collect::<Result<_, _>>()?,
        next_cursor: page.next_cursor,
    })
}

/// An order's moves, oldest first.
pub async fn history(
    table: &Table,
    tenant: &TenantId,
    id: &OrderId,
) -> Result<Vec<HistoryEntry>, ApiError> {
    let query = Query::table(tenant.partition())
        .begins_with(format!("ORDER#{id}#H#"))
        .limit(100);
    let page = table.query(&query, None).await?;
    Ok(page
        .items
        .into_iter()
        .map(from_item)
        .collect::<Result<_, _>>()?)
}

/// Marks a paid order as noticed late, with its event, only while it is still waiting.
pub async fn mark_late(
    table: &Table,
    outbox: &Outbox,
    tenant: &TenantId,
    order: &Order,
    event: &Event,
) -> Result<bool, ApiError> {
    let update = TxOp::Update(Update {
        key: order_key(tenant, &order.id),
        changes: vec![Change::Set("late_noticed".into(), Value::Bool(true))],
        cond: Some(
            Cond::eq("status", s(Status::Paid.as_str()))
                .and(Cond::eq("late_noticed", Value::Bool(false))),
        ),
    });
    match table
        .transact(vec![update, outbox.write(table, event)?])
        .await
    {
        Ok(()) => {
            outbox.committed();
            Ok(true)
        }
        Err(StoreError::TransactionCanceled { .. }) => Ok(false),
        Err(err) => Err(err.into()),
    }
}

/// What a payment record says happened.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct PaymentRecord {
    /// The order.
    pub order_id: OrderId,
    /// `applied`, `declined`, `amount_mismatch` or `order_not_payable`.
    pub outcome: String,
    /// The amount notified.
    pub amount: i64,
    /// The currency notified.
    pub currency: String,
    /// When it arrived.
    pub at: Timestamp,
}

/// The record of a provider payment id, if it was seen before.
pub async fn payment_record(table: &Table, key: &Key) -> Result<Option<PaymentRecord>, ApiError> {
    Ok(table.get(key).await?.map(from_item).transpose()?)
}

/// The put that records a payment notification once.
pub fn payment_put(table: &Table, key: &Key, record: &PaymentRecord) -> Result<TxOp, ApiError> {
    Ok(TxOp::Put(Put {
        item: to_item(table.schema(), key, record)?,
        cond: Some(Cond::NotExists),
    }))
}
