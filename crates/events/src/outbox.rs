//! The outbox: every change writes its event as an item in the same transaction, so no event is
//! lost when a publisher is down and no event exists for a change that failed. Items are kept
//! for [`RETENTION`] and double as the tenant's event log (`GET /v1/events`).
//!
//! Two ways reach the publishers. On one machine (`fanorder serve`) the relay polls a sparse
//! index of pending events (`gsi1`, partition `OUTBOX#PENDING#<shard>`), and takes each event out
//! of it once every publisher has it. On AWS the table's stream delivers new outbox items to the
//! stream processor instead, so events are written without the index keys (no index write cost).

use std::sync::Arc;
use std::time::Duration;

use fanorder_platform::{ApiError, Page, TenantId};
use fanorder_store::{
    Change, Cond, Item, Key, Put, Query, SortKey, Table, TxOp, Update, from_item, s, to_item,
};
use jiff::Timestamp;
use serde::{Deserialize, Serialize};
use tokio::sync::Notify;

use crate::model::{Event, EventId};

/// How long outbox items (the event log) are kept.
pub const RETENTION: Duration = Duration::from_secs(30 * 24 * 3600);

/// The number of partitions of the pending index, so one busy tenant does not make a hot key.
pub const SHARDS: u32 = 4;

/// How events reach the publishers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Delivery {
    /// The relay in this process polls the pending index (`fanorder serve`).
    Poll,
    /// The table's stream feeds a processor (AWS); no pending index.
    Stream,
}

/// Writes events into transactions; shared by every crate that changes something.
#[derive(Debug, Clone)]
pub struct Outbox {
    delivery: Delivery,
    wake: Arc<Notify>,
}

/// Outbox event item, `T#<tenant>` / `OUTBOX#<event id>`: written with the change it announces;
/// read oldest first by `GET /v1/events` and by live dashboards catching up after an event id.
pub fn outbox_key(tenant: &TenantId, event: &EventId) -> Key {
    Key::new(tenant.partition(), format!("OUTBOX#{event}"))
}

/// The pending-index partition of a tenant's events (poll delivery).
pub fn pending_partition(tenant: &TenantId) -> String {
    let hash = tenant.ulid().0.to_le_bytes().iter().fold(0u32, |acc, b| {
        acc.wrapping_mul(31).wrapping_add(u32::from(*b))
    });
    format!("OUTBOX#PENDING#{}", hash % SHARDS)
}

/// The stored form of an outbox event.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct Stored {
    event_id: EventId,
    event_type: String,
    /// The envelope as JSON text: exactly what EventBridge receives as `Detail`.
    detail: String,
    occurred_at: Timestamp,
    expires_at: i64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    gsi1pk: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    gsi1sk: Option<String>,
}

impl Outbox {
    /// An outbox delivering the given way.
    pub fn new(delivery: Delivery) -> Self {
        Self {
            delivery,
            wake: Arc::new(Notify::new()),
        }
    }

    /// How this outbox delivers.
    pub fn delivery(&self) -> Delivery {
        self.delivery
    }

    /// The put that writes the event; add it to the transaction of the change.
    pub fn write(&self, table: &Table, event: &Event) -> Result<TxOp, ApiError> {
        let detail = serde_json::to_string(event).map_err(ApiError::internal)?;
        let pending = self.delivery == Delivery::Poll;
        let stored = Stored {
            event_id: event.event_id,
            event_type: event.event_type.clone(),
            detail,
            occurred_at: event.occurred_at,
            expires_at: (event.occurred_at + RETENTION).as_second(),
            gsi1pk: pending.then(|| pending_partition(&event.tenant_id)),
            gsi1sk: pending.then(|| event.event_id.to_string()),
        };
        let item = to_item(
            table.schema(),
            &outbox_key(&event.tenant_id, &event.event_id),
            &stored,
        )?;
        Ok(TxOp::Put(Put {
            item,
            cond: Some(Cond::NotExists),
        }))
    }

    /// Tells the relay that events were committed, so it delivers them without waiting for its
    /// next poll.
    pub fn committed(&self) {
        self.wake.notify_one();
    }

    /// What the relay waits on.
    pub fn wake_signal(&self) -> Arc<Notify> {
        self.wake.clone()
    }
}

/// Reads the event out of an outbox item (from the table or a stream image).
pub fn event_of(item: Item) -> Result<Event, ApiError> {
    let stored: Stored = from_item(item)?;
    serde_json::from_str(&stored.detail).map_err(ApiError::internal)
}

/// An event waiting in the pending index, with the publishers that already have it.
#[derive(Debug, Clone)]
pub struct Pending {
    /// The outbox item.
    pub key: Key,
    /// The event.
    pub event: Event,
    /// Publishers that accepted it already.
    pub sent: Vec<String>,
}

fn sent_attr(publisher: &str) -> String {
    format!("sent_{publisher}")
}

/// Up to `limit` pending events of one shard, oldest first.
pub async fn pending(table: &Table, shard: u32, limit: usize) -> Result<Vec<Pending>, ApiError> {
    let query = Query::index("gsi1", format!("OUTBOX#PENDING#{shard}")).limit(limit);
    let page = table.query(&query, None).await?;
    let mut found = Vec::with_capacity(page.items.len());
    for item in page.items {
        let key = table.item_key(&item)?;
        let sent = item
            .keys()
            .filter_map(|name| name.strip_prefix("sent_").map(str::to_owned))
            .collect();
        found.push(Pending {
            key,
            event: event_of(item)?,
            sent,
        });
    }
    Ok(found)
}

/// Records that publishers accepted an event; with `done`, takes it out of the pending index.
pub async fn mark_sent(
    table: &Table,
    key: &Key,
    publishers: &[&str],
    done: bool,
    now: Timestamp,
) -> Result<(), ApiError> {
    let mut changes: Vec<Change> = publishers
        .iter()
        .map(|p| Change::Set(sent_attr(p), s(now.to_string())))
        .collect();
    if done {
        changes.push(Change::Remove("gsi1pk".into()));
        changes.push(Change::Remove("gsi1sk".into()));
    }
    if changes.is_empty() {
        return Ok(());
    }
    let update = Update {
        key: key.clone(),
        changes,
        cond: Some(Cond::Exists),
    };
    match table.update(update).await {
        // Expired meanwhile (retention): nothing left to mark.
        Ok(_) | Err(fanorder_store::StoreError::ConditionFailed { .. }) => Ok(()),
        Err(err) => Err(err.into()),
    }
}

/// One page of a tenant's events, oldest first.
pub async fn list(
    table: &Table,
    tenant: &TenantId,
    cursor: Option<&str>,
    limit: usize,
) -> Result<Page<Event>, ApiError> {
    let query = Query::table(tenant.partition())
        .begins_with("OUTBOX#")
        .limit(limit);
    let page = table.query(&query, cursor).await?;
    Ok(Page {
        items: page
            .items
            .into_iter()
            .map(event_of)
            .collect::<Result<_, _>>()?,
        next_cursor: page.next_cursor,
    })
}

/// Up to `limit` of a tenant's events after `after` (exclusive), oldest first: how a live
/// screen catches up after losing the network.
pub async fn since(
    table: &Table,
    tenant: &TenantId,
    after: &EventId,
    limit: usize,
) -> Result<Vec<Event>, ApiError> {
    let query = Query::table(tenant.partition())
        // Ids are 26 characters, so every later id sorts after `<after>0`; `~` sorts after them all.
        .sort_key(SortKey::Between(
            format!("OUTBOX#{after}0"),
            "OUTBOX#~".to_owned(),
        ))
        .limit(limit);
    let page = table.query(&query, None).await?;
    page.items.into_iter().map(event_of).collect()
}
