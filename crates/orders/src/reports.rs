//! Sales reports, kept up to date from the events: a publisher on the relay (on AWS, the stream
//! processor) folds every paid, cancelled and ready order into counters per local day, per day
//! and item, and per day and location. A report is then a Query over a date range, never a
//! Scan. Each event is folded exactly once: a marker item keyed by the event id is written in the
//! same transaction as the counters, so an event delivered twice counts once.
//!
//! What is counted, on the local day the order was paid (cash: placed):
//! - `order.paid`: an order, its total as revenue, each line's quantity and total per item;
//! - `order.cancelled` of an order that was paid: a cancellation, and its revenue and
//!   quantities taken back;
//! - `order.status_changed` to `READY`: the seconds from paid to ready (preparation time,
//!   as the customer waits it).

use std::collections::BTreeMap;

use async_trait::async_trait;
use fanorder_events::publish::Publisher;
use fanorder_events::{Event, EventType};
use fanorder_platform::{ApiError, Currency, TenantId};
use fanorder_store::{Change, Cond, Put, Query, SortKey, StoreError, Table, TxOp, Update, Value};
use jiff::Timestamp;
use jiff::civil::Date;
use serde::Serialize;
use utoipa::ToSchema;

use crate::model::{Order, Status};
use crate::{service, store};

/// How long the marker of a folded event is kept (longer than any redelivery).
const SEEN_FOR: jiff::SignedDuration = jiff::SignedDuration::from_hours(40 * 24);
/// The longest range one report covers.
pub const MAX_DAYS: i64 = 366;

/// Marker of a folded event, `T#<tenant>` / `REPORT#SEEN#<event id>` (TTL 40 days).
fn seen_key(tenant: &TenantId, event: &str) -> fanorder_store::Key {
    fanorder_store::Key::new(tenant.partition(), format!("REPORT#SEEN#{event}"))
}

/// Counters of a day, `T#<tenant>` / `REPORT#DAY#<yyyy-mm-dd>`: a range of days is one Query.
fn day_key(tenant: &TenantId, day: Date) -> fanorder_store::Key {
    fanorder_store::Key::new(tenant.partition(), format!("REPORT#DAY#{day}"))
}

/// Counters of an item on a day, `T#<tenant>` / `REPORT#ITEM#<yyyy-mm-dd>#<item or combo id>`.
fn item_key(tenant: &TenantId, day: Date, id: &str) -> fanorder_store::Key {
    fanorder_store::Key::new(tenant.partition(), format!("REPORT#ITEM#{day}#{id}"))
}

/// Counters of a location on a day, `T#<tenant>` / `REPORT#LOC#<yyyy-mm-dd>#<location id>`.
fn location_key(tenant: &TenantId, day: Date, id: &str) -> fanorder_store::Key {
    fanorder_store::Key::new(tenant.partition(), format!("REPORT#LOC#{day}#{id}"))
}

/// The report publisher.
#[derive(Clone, Debug)]
pub struct SalesLedger {
    table: Table,
}

impl SalesLedger {
    /// A ledger writing into `table`.
    pub fn new(table: Table) -> Self {
        Self { table }
    }

    /// Folds one event into the counters (once).
    pub async fn fold(&self, event: &Event) -> Result<(), ApiError> {
        let Some(order_id) = event
            .data
            .get("order_id")
            .and_then(|v| v.as_str())
            .and_then(|v| v.parse().ok())
        else {
            return Ok(());
        };
        let tenant = event.tenant_id;
        let Some(order) = store::order(&self.table, &tenant, &order_id).await? else {
            return Ok(());
        };
        let from = event.data.get("from").and_then(|v| v.as_str());
        let to = event.data.get("to").and_then(|v| v.as_str());
        let sign = match event.kind() {
            Some(EventType::OrderPaid) => Fold::Sale(1),
            Some(EventType::OrderCancelled) if matches!(from, Some("PAID" | "IN_KITCHEN")) => {
                Fold::Sale(-1)
            }
            Some(EventType::OrderStatusChanged) if to == Some(Status::Ready.as_str()) => {
                Fold::Ready(event.occurred_at)
            }
            _ => return Ok(()),
        };
        let Some(profile) = fanorder_staff::store::tenant(&self.table, &tenant).await? else {
            return Ok(());
        };
        let zone = service::zone(&profile);
        let sold_at = sold_at(&order);
        let day = sold_at.to_zoned_datetime(zone).date();
        let changes = changes(&order, sign, sold_at);
        let mut ops = vec![TxOp::Put(Put {
            item: seen_item(&self.table, &tenant, &event.event_id.to_string())?,
            cond: Some(Cond::NotExists),
        })];
        ops.push(update(day_key(&tenant, day), changes.day.clone()));
        if let Some(location) = &order.location_id {
            ops.push(update(
                location_key(&tenant, day, &location.to_string()),
                changes.day,
            ));
        }
        for (id, item_changes) in changes.items {
            ops.push(update(item_key(&tenant, day, &id), item_changes));
        }
        match self.table.transact(ops).await {
            Ok(()) => Ok(()),
            // Folded already: the marker is there.
            Err(StoreError::TransactionCanceled { failures })
                if failures.iter().any(|f| f.index == 0) =>
            {
                Ok(())
            }
            Err(err) => Err(err.into()),
        }
    }
}

fn seen_item(
    table: &Table,
    tenant: &TenantId,
    event: &str,
) -> Result<fanorder_store::Item, ApiError> {
    let mut item = fanorder_store::to_item(
        table.schema(),
        &seen_key(tenant, event),
        &serde_json::json!({}),
    )?;
    item.insert(
        "expires_at".into(),
        fanorder_store::n((Timestamp::now() + SEEN_FOR).as_second()),
    );
    Ok(item)
}

fn update(key: fanorder_store::Key, changes: Vec<Change>) -> TxOp {
    TxOp::Update(Update {
        key,
        changes,
        cond: None,
    })
}

/// When the order counts as sold: paid, or placed for cash.
fn sold_at(order: &Order) -> Timestamp {
    order.paid_at.unwrap_or(order.created_at)
}

enum Fold {
    /// A sale (+1) or a cancelled sale (-1).
    Sale(i64),
    /// Ready at this time.
    Ready(Timestamp),
}

struct Changes {
    day: Vec<Change>,
    items: BTreeMap<String, Vec<Change>>,
}

fn changes(order: &Order, fold: Fold, sold_at: Timestamp) -> Changes {
    let currency = vec![Change::Set(
        "currency".into(),
        Value::S(order.currency.code().to_owned()),
    )];
    match fold {
        Fold::Sale(sign) => {
            let mut day = currency.clone();
            day.push(Change::Add("revenue".into(), sign * order.total));
            if sign > 0 {
                day.push(Change::Add("orders".into(), 1));
            } else {
                day.push(Change::Add("orders".into(), -1));
                day.push(Change::Add("cancelled".into(), 1));
            }
            let mut items: BTreeMap<String, Vec<Change>> = BTreeMap::new();
            for line in &order.lines {
                let id = line
                    .item_id
                    .map(|i| i.to_string())
                    .or_else(|| line.combo_id.map(|c| c.to_string()))
                    .unwrap_or_else(|| line.name.clone());
                let entry = items.entry(id).or_insert_with(|| {
                    let mut changes = currency.clone();
                    changes.push(Change::Set("name".into(), Value::S(line.name.clone())));
                    changes.push(Change::Add("orders".into(), sign));
                    changes
                });
                entry.push(Change::Add(
                    "quantity".into(),
                    sign * i64::from(line.quantity),
                ));
                entry.push(Change::Add("revenue".into(), sign * line.line_total));
            }
            // Two lines of one item in an order: one Add per attribute.
            for changes in items.values_mut() {
                merge_adds(changes);
            }
            Changes { day, items }
        }
        Fold::Ready(ready_at) => {
            let seconds = ready_at.duration_since(sold_at).as_secs().max(0);
            let mut day = currency;
            day.push(Change::Add("prepared".into(), 1));
            day.push(Change::Add("prep_seconds".into(), seconds));
            Changes {
                day,
                items: BTreeMap::new(),
            }
        }
    }
}

/// Sums repeated `Add`s of one attribute into one (an update may name an attribute once).
fn merge_adds(changes: &mut Vec<Change>) {
    let mut sums: BTreeMap<String, i64> = BTreeMap::new();
    let mut rest = Vec::new();
    for change in changes.drain(..) {
        match change {
            Change::Add(name, n) => *sums.entry(name).or_default() += n,
            other => rest.push(other),
        }
    }
    rest.extend(sums.into_iter().map(|(name, n)| Change::Add(name, n)));
    *changes = rest;
}

#[async_trait]
impl Publisher for SalesLedger {
    fn name(&self) -> &'static str {
        "sales"
    }

    fn wants(&self, event: &Event) -> bool {
        matches!(
            event.kind(),
            Some(EventType::OrderPaid | EventType::OrderStatusChanged | EventType::OrderCancelled)
        )
    }

    async fn publish(&self, events: &[&Event]) -> Vec<bool> {
        fanorder_events::publish::one_by_one(events, "sales report not updated yet", |event| {
            self.fold(event)
        })
        .await
    }
}

/// How a report is grouped.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GroupBy {
    /// One row per local day.
    Day,
    /// One row per item or combo.
    Item,
    /// One row per location.
    Location,
}

impl std::str::FromStr for GroupBy {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "day" => Ok(Self::Day),
            "item" => Ok(Self::Item),
            "location" => Ok(Self::Location),
            _ => Err("must be day, item or location".to_owned()),
        }
    }
}

/// One row of a sales report.
#[derive(Debug, Clone, Default, PartialEq, Serialize, ToSchema)]
pub struct SalesRow {
    /// The day (`yyyy-mm-dd`), item or combo id, or location id.
    pub key: String,
    /// The item's name when sold (item rows).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// Paid orders (cancelled ones taken out).
    pub orders: i64,
    /// Paid orders later cancelled.
    pub cancelled: i64,
    /// Revenue in minor units (cancelled orders taken out).
    pub revenue: i64,
    /// Units sold (item rows).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub quantity: Option<i64>,
    /// Orders that reached READY.
    pub prepared: i64,
    /// Average seconds from paid to ready, over the prepared orders.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub avg_prep_seconds: Option<i64>,
    #[serde(skip)]
    prep_seconds: i64,
}

impl SalesRow {
    fn add(&mut self, other: &SalesRow) {
        self.orders += other.orders;
        self.cancelled += other.cancelled;
        self.revenue += other.revenue;
        self.prepared += other.prepared;
        self.prep_seconds += other.prep_seconds;
        if let Some(q) = other.quantity {
            *self.quantity.get_or_insert(0) += q;
        }
        if self.name.is_none() {
            self.name.clone_from(&other.name);
        }
    }

    fn finish(mut self) -> Self {
        self.avg_prep_seconds = (self.prepared > 0).then(|| self.prep_seconds / self.prepared);
        self
    }
}

/// A sales report.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct SalesReport {
    /// First day, inclusive.
    #[schema(value_type = String, format = Date)]
    pub from: Date,
    /// Last day, inclusive.
    #[schema(value_type = String, format = Date)]
    pub to: Date,
    /// `day`, `item` or `location`.
    pub group_by: String,
    /// The currency of every amount.
    #[schema(value_type = String)]
    pub currency: Currency,
    /// Rows: days in order; items and locations by revenue, highest first.
    pub rows: Vec<SalesRow>,
    /// The whole range.
    pub totals: SalesRow,
}

fn number(item: &fanorder_store::Item, name: &str) -> i64 {
    match item.get(name) {
        Some(Value::N(n)) => n.parse().unwrap_or(0),
        _ => 0,
    }
}

/// Every counter item whose sort key lies in `[from, to]`, all pages.
async fn counters(
    table: &Table,
    tenant: &TenantId,
    from: String,
    to: String,
) -> Result<Vec<fanorder_store::Item>, ApiError> {
    let mut all = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let query = Query::table(tenant.partition())
            .sort_key(SortKey::Between(from.clone(), to.clone()))
            .limit(1000);
        let page = table.query(&query, cursor.as_deref()).await?;
        all.extend(page.items);
        match page.next_cursor {
            Some(next) => cursor = Some(next),
            None => return Ok(all),
        }
    }
}

/// The report of `[from, to]` grouped as asked.
pub async fn sales(
    table: &Table,
    tenant: &TenantId,
    currency: Currency,
    from: Date,
    to: Date,
    group_by: GroupBy,
) -> Result<SalesReport, ApiError> {
    let (prefix, label) = match group_by {
        GroupBy::Day => ("REPORT#DAY#", "day"),
        GroupBy::Item => ("REPORT#ITEM#", "item"),
        GroupBy::Location => ("REPORT#LOC#", "location"),
    };
    // `~` sorts after every id, so the last day's items are all inside the range.
    let items = counters(
        table,
        tenant,
        format!("{prefix}{from}"),
        format!("{prefix}{to}~"),
    )
    .await?;
    let mut rows: BTreeMap<String, SalesRow> = BTreeMap::new();
    let mut totals = SalesRow {
        key: "total".to_owned(),
        ..SalesRow::default()
    };
    for item in &items {
        let Some(Value::S(sk)) = item.get("sk") else {
            continue;
        };
        let rest = sk.strip_prefix(prefix).unwrap_or(sk);
        let key = match group_by {
            GroupBy::Day => rest.to_owned(),
            GroupBy::Item | GroupBy::Location => {
                rest.split_once('#').map_or(rest, |(_, id)| id).to_owned()
            }
        };
        let row = SalesRow {
            key: key.clone(),
            name: match item.get("name") {
                Some(Value::S(name)) => Some(name.clone()),
                _ => None,
            },
            orders: number(item, "orders"),
            cancelled: number(item, "cancelled"),
            revenue: number(item, "revenue"),
            quantity: (group_by == GroupBy::Item).then(|| number(item, "quantity")),
            prepared: number(item, "prepared"),
            prep_seconds: number(item, "prep_seconds"),
            avg_prep_seconds: None,
        };
        totals.add(&row);
        rows.entry(key.clone())
            .or_insert_with(|| SalesRow {
                key,
                ..SalesRow::default()
            })
            .add(&row);
    }
    let mut rows: Vec<SalesRow> = rows.into_values().map(SalesRow::finish).collect();
    if group_by != GroupBy::Day {
        rows.sort_by(|a, b| b.revenue.cmp(&a.revenue).then(a.key.cmp(&b.key)));
    }
    Ok(SalesReport {
        from,
        to,
        group_by: label.to_owned(),
        currency,
        rows,
        totals: totals.finish(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn repeated_adds_of_one_attribute_are_summed() {
        let mut changes = vec![
            Change::Set("name".into(), Value::S("x".into())),
            Change::Add("quantity".into(), 2),
            Change::Add("revenue".into(), 100),
            Change::Add("quantity".into(), 3),
        ];
        merge_adds(&mut changes);
        assert_eq!(
            changes,
            vec![
                Change::Set("name".into(), Value::S("x".into())),
                Change::Add("quantity".into(), 5),
                Change::Add("revenue".into(), 100),
            ]
        );
    }

    #[test]
    fn group_by_reads_the_three_words_only() {
        assert_eq!("day".parse::<GroupBy>(), Ok(GroupBy::Day));
        assert_eq!("item".parse::<GroupBy>(), Ok(GroupBy::Item));
        assert_eq!("location".parse::<GroupBy>(), Ok(GroupBy::Location));
        assert!("week".parse::<GroupBy>().is_err());
    }

    #[test]
    fn averages_come_from_sums() {
        let row = SalesRow {
            prepared: 3,
            prep_seconds: 900,
            ..SalesRow::default()
        }
        .finish();
        assert_eq!(row.avg_prep_seconds, Some(300));
        assert_eq!(SalesRow::default().finish().avg_prep_seconds, None);
    }
}
