//! The pages crate's items in the one table. Keys are built here and nowhere else, each next to
//! the access pattern it serves.

use fanorder_platform::tenancy::{self, Scope};
use fanorder_platform::{ApiError, Page as PageOf, TenantId};
use fanorder_store::{
    Change, Cond, Delete, Item, Key, Put, Query, StoreError, Table, TxOp, Update, Value, from_item,
    n, s, to_item,
};
use jiff::Timestamp;
use serde::{Deserialize, Serialize};
use sha2::Digest as _;

use crate::model::{Conversation, Message, Page};

/// How long an inbound event is remembered for deduplication (Facebook retries for hours).
pub const INBOX_RETENTION: jiff::SignedDuration = jiff::SignedDuration::from_hours(7 * 24);
/// How long conversation messages are kept.
pub const MESSAGE_RETENTION: jiff::SignedDuration = jiff::SignedDuration::from_hours(90 * 24);
/// Partitions of the pending-inbox index: the most any version wrote, and so what the worker
/// reads.
pub const INBOX_SHARDS: u32 = 4;

/// Partitions new pending events are spread over. On DynamoDB one partition of the index takes
/// about a thousand writes a second, so events are spread over [`INBOX_SHARDS`]; the embedded
/// store keeps them in one, since each partition is one more B-tree page that every group
/// commit writes (about 5 µs of CPU an event at the webhook's rates, BENCHMARKS.md). The worker
/// still reads every partition, so events a database kept from before are handled too.
pub fn inbox_shards(table: &Table) -> u32 {
    match table.backend_name() {
        "sqlite" => 1,
        _ => INBOX_SHARDS,
    }
}

/// Page connection, `T#<tenant>` / `PAGE#<page id>`: the page's settings and encrypted token;
/// the pages list is a Query on the `PAGE#` prefix.
pub fn page_key(tenant: &TenantId, page_id: &str) -> Key {
    Key::new(tenant.partition(), format!("PAGE#{page_id}"))
}

/// Page route, `PAGE#<page id>` / `ROUTE`: which tenant a page belongs to (one at a time);
/// every webhook entry finds its tenant here.
pub fn route_key(page_id: &str) -> Key {
    Key::new(format!("PAGE#{page_id}"), "ROUTE")
}

/// Conversation, `T#<tenant>` / `CONV#<page id>#<psid>`: the bot's state with one customer.
/// Listed newest activity first through `gsi2` (`T#<tenant>#CONVS#<page id>` / `<millis>#<psid>`).
pub fn conversation_key(tenant: &TenantId, page_id: &str, psid: &str) -> Key {
    Key::new(tenant.partition(), format!("CONV#{page_id}#{psid}"))
}

/// Conversation message, `T#<tenant>` / `MSG#<page id>#<psid>#<message ulid>`: one Query lists a
/// conversation's messages in time order.
pub fn message_key(tenant: &TenantId, page_id: &str, psid: &str, id: &str) -> Key {
    Key::new(tenant.partition(), format!("MSG#{page_id}#{psid}#{id}"))
}

/// Inbound event, `T#<tenant>` / `INBOX#<page id>#<sent at>#<dedupe digest>`: written once per
/// event (a conditional put), so a webhook Facebook retries is processed once.
///
/// `<sent at>` is the event's own timestamp (milliseconds, 13 digits; zeros when it has none),
/// which every delivery of the event repeats. It puts a page's new events next to each other
/// in key order. Keyed by the dedupe key alone, which for a message is Facebook's message id
/// (about 90 random characters), each new event went to a random leaf of the embedded store's
/// key index, and every group commit rewrote one index page per event (BENCHMARKS.md, "Message
/// ids"). `<dedupe digest>` is the first 128 bits of the dedupe key's SHA-256, in URL-safe
/// base64 (22 characters): the same for the same event, a key of bounded length whatever the
/// payload (message ids are opaque and unbounded), and a smaller index than the ids themselves.
/// The dedupe key as it is stays in the item (`dedupe`).
pub fn inbox_key(tenant: &TenantId, page_id: &str, sent_at_ms: Option<i64>, dedupe: &str) -> Key {
    use base64::Engine as _;
    let sent_at = sent_at_ms.unwrap_or(0).clamp(0, 9_999_999_999_999);
    let digest = sha2::Sha256::digest(dedupe.as_bytes());
    let digest = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(&digest[..16]);
    Key::new(
        tenant.partition(),
        format!("INBOX#{page_id}#{sent_at:013}#{digest}"),
    )
}

fn conversations_partition(tenant: &TenantId, page_id: &str) -> String {
    format!("{}#CONVS#{page_id}", tenant.partition())
}

/// The pending-inbox partition of a conversation, of `shards`: all of one conversation's events
/// share a shard, so the worker handles them in order.
pub fn inbox_shard(tenant: &TenantId, page_id: &str, psid: &str, shards: u32) -> u32 {
    if shards <= 1 {
        return 0;
    }
    let text = format!("{tenant}{page_id}{psid}");
    text.bytes().fold(0u32, |acc, b| {
        acc.wrapping_mul(31).wrapping_add(u32::from(b))
    }) % shards
}

/// Connects a page to a tenant: the route (unique across the platform) and the page, together.
pub async fn connect(table: &Table, tenant: &TenantId, page: &Page) -> Result<(), ApiError> {
    let mut route = to_item(
        table.schema(),
        &route_key(&page.page_id),
        &serde_json::json!({}),
    )?;
    route.insert("tenant".into(), s(tenant.to_string()));
    let ops = vec![
        TxOp::Put(Put {
            item: route,
            cond: Some(Cond::NotExists),
        }),
        TxOp::Put(Put {
            item: to_item(table.schema(), &page_key(tenant, &page.page_id), page)?,
            cond: Some(Cond::NotExists),
        }),
    ];
    // The route is a platform item: on AWS this session may write exactly this page's route.
    let scope = Scope::tenant(*tenant).with_page(&page.page_id);
    match tenancy::within(scope, table.transact(ops)).await {
        Ok(()) => Ok(()),
        Err(StoreError::TransactionCanceled { .. }) => Err(ApiError::conflict(
            "page_taken",
            format!(
                "page {} is already connected (to this or another restaurant)",
                page.page_id
            ),
        )),
        Err(err) => Err(err.into()),
    }
}

/// The tenant a page is connected to, if any.
pub async fn route(table: &Table, page_id: &str) -> Result<Option<TenantId>, ApiError> {
    let Some(item) = table.get(&route_key(page_id)).await? else {
        return Ok(None);
    };
    Ok(match item.get("tenant") {
        Some(Value::S(id)) => id.parse().ok(),
        _ => None,
    })
}

/// A page of this tenant.
pub async fn page(
    table: &Table,
    tenant: &TenantId,
    page_id: &str,
) -> Result<Option<Page>, ApiError> {
    Ok(table
        .get(&page_key(tenant, page_id))
        .await?
        .map(from_item)
        .transpose()?)
}

/// One page of a query's items, decoded.
async fn query_page<T: serde::de::DeserializeOwned>(
    table: &Table,
    query: &Query,
    cursor: Option<&str>,
) -> Result<PageOf<T>, ApiError> {
    let found = table.query(query, cursor).await?;
    Ok(PageOf {
        items: found
            .items
            .into_iter()
            .map(from_item)
            .collect::<Result<_, _>>()?,
        next_cursor: found.next_cursor,
    })
}

/// One page of the tenant's pages.
pub async fn pages(
    table: &Table,
    tenant: &TenantId,
    cursor: Option<&str>,
    limit: usize,
) -> Result<PageOf<Page>, ApiError> {
    let query = Query::table(tenant.partition())
        .begins_with("PAGE#")
        .limit(limit);
    query_page(table, &query, cursor).await
}

/// Saves a page change made from the version read.
pub async fn update_page(
    table: &Table,
    tenant: &TenantId,
    after: &Page,
    expected_version: i64,
) -> Result<(), ApiError> {
    let item = to_item(table.schema(), &page_key(tenant, &after.page_id), after)?;
    let put = Put {
        item,
        cond: Some(Cond::eq("version", n(expected_version))),
    };
    match table.put(put).await {
        Ok(()) => Ok(()),
        Err(StoreError::ConditionFailed { current: None }) => Err(ApiError::NotFound("page")),
        Err(StoreError::ConditionFailed { .. }) => Err(ApiError::conflict(
            "version_conflict",
            "the page changed since you read it; read it again and retry",
        )),
        Err(err) => Err(err.into()),
    }
}

/// Disconnects a page: its route goes too, so another restaurant may connect it.
pub async fn disconnect(table: &Table, tenant: &TenantId, page_id: &str) -> Result<(), ApiError> {
    let ops = vec![
        TxOp::Delete(Delete {
            key: page_key(tenant, page_id),
            cond: Some(Cond::Exists),
        }),
        TxOp::Delete(Delete {
            key: route_key(page_id),
            cond: Some(Cond::eq("tenant", s(tenant.to_string()))),
        }),
    ];
    let scope = Scope::tenant(*tenant).with_page(page_id);
    match tenancy::within(scope, table.transact(ops)).await {
        Ok(()) => Ok(()),
        Err(StoreError::TransactionCanceled { .. }) => Err(ApiError::NotFound("page")),
        Err(err) => Err(err.into()),
    }
}

/// The conversation item with its index keys.
fn conversation_item(
    table: &Table,
    tenant: &TenantId,
    conversation: &Conversation,
) -> Result<Item, ApiError> {
    let key = conversation_key(tenant, &conversation.page_id, &conversation.psid);
    let mut item = to_item(table.schema(), &key, conversation)?;
    item.insert(
        "gsi2pk".into(),
        s(conversations_partition(tenant, &conversation.page_id)),
    );
    item.insert(
        "gsi2sk".into(),
        s(format!(
            "{:015}#{}",
            conversation.updated_at.as_millisecond(),
            conversation.psid
        )),
    );
    Ok(item)
}

/// A conversation, if it exists.
pub async fn conversation(
    table: &Table,
    tenant: &TenantId,
    page_id: &str,
    psid: &str,
) -> Result<Option<Conversation>, ApiError> {
    Ok(table
        .get(&conversation_key(tenant, page_id, psid))
        .await?
        .map(from_item)
        .transpose()?)
}

/// The put that saves a conversation from the version read (0: new).
pub fn conversation_put(
    table: &Table,
    tenant: &TenantId,
    conversation: &Conversation,
    read_version: i64,
) -> Result<TxOp, ApiError> {
    let cond = if read_version == 0 {
        Cond::NotExists
    } else {
        Cond::eq("version", n(read_version))
    };
    Ok(TxOp::Put(Put {
        item: conversation_item(table, tenant, conversation)?,
        cond: Some(cond),
    }))
}

/// One page of a page's conversations, newest activity first.
pub async fn conversations(
    table: &Table,
    tenant: &TenantId,
    page_id: &str,
    cursor: Option<&str>,
    limit: usize,
) -> Result<PageOf<Conversation>, ApiError> {
    let query = Query::index("gsi2", conversations_partition(tenant, page_id))
        .reverse()
        .limit(limit);
    query_page(table, &query, cursor).await
}

/// The put that records a message.
pub fn message_put(
    table: &Table,
    tenant: &TenantId,
    page_id: &str,
    psid: &str,
    message: &Message,
) -> Result<TxOp, ApiError> {
    Ok(TxOp::Put(Put {
        item: message_item(table, tenant, page_id, psid, message)?,
        cond: None,
    }))
}

/// The put that records a message only when none with its id is recorded yet: a message whose
/// id comes from an event is recorded (and sent) once however often the event is delivered.
pub fn first_message_put(
    table: &Table,
    tenant: &TenantId,
    page_id: &str,
    psid: &str,
    message: &Message,
) -> Result<TxOp, ApiError> {
    Ok(TxOp::Put(Put {
        item: message_item(table, tenant, page_id, psid, message)?,
        cond: Some(Cond::NotExists),
    }))
}

fn message_item(
    table: &Table,
    tenant: &TenantId,
    page_id: &str,
    psid: &str,
    message: &Message,
) -> Result<Item, ApiError> {
    let mut item = to_item(
        table.schema(),
        &message_key(tenant, page_id, psid, &message.id.to_string()),
        message,
    )?;
    // Kept for the retention from when it was recorded (its id's time), not from the event's
    // own time: a late or replayed event from long ago must not be born expired.
    let recorded = i64::try_from(message.id.ulid().timestamp_ms())
        .ok()
        .and_then(|ms| Timestamp::from_millisecond(ms).ok())
        .unwrap_or(message.at);
    item.insert(
        "expires_at".into(),
        n((recorded.max(message.at) + MESSAGE_RETENTION).as_second()),
    );
    Ok(item)
}

/// Updates what happened to an outbound message.
pub async fn set_delivery(
    table: &Table,
    tenant: &TenantId,
    page_id: &str,
    psid: &str,
    message: &Message,
) -> Result<(), ApiError> {
    let mut changes = vec![Change::Set(
        "delivery".into(),
        fanorder_store::to_value(&message.delivery)?,
    )];
    if let Some(mid) = &message.mid {
        changes.push(Change::Set("mid".into(), s(mid)));
    }
    if let Some(error) = &message.error {
        changes.push(Change::Set("error".into(), s(error)));
    }
    let update = Update {
        key: message_key(tenant, page_id, psid, &message.id.to_string()),
        changes,
        cond: Some(Cond::Exists),
    };
    match table.update(update).await {
        Ok(_) | Err(StoreError::ConditionFailed { .. }) => Ok(()),
        Err(err) => Err(err.into()),
    }
}

/// One page of a conversation's messages, newest first.
pub async fn messages(
    table: &Table,
    tenant: &TenantId,
    page_id: &str,
    psid: &str,
    cursor: Option<&str>,
    limit: usize,
) -> Result<PageOf<Message>, ApiError> {
    let query = Query::table(tenant.partition())
        .begins_with(format!("MSG#{page_id}#{psid}#"))
        .reverse()
        .limit(limit);
    query_page(table, &query, cursor).await
}

/// An inbound event as stored: the raw event, where it came from, and whether it was handled.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Inbound {
    /// The page.
    pub page_id: String,
    /// The customer (absent for events without a sender).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub psid: Option<String>,
    /// The dedupe key.
    pub dedupe: String,
    /// The event as it was read from Facebook's body, as JSON text: one string attribute
    /// rather than a tree of nested attributes, which cost the intake an allocation per field
    /// to build and to store. Items written before as a map are still read.
    #[serde(deserialize_with = "json_text")]
    pub event: String,
    /// Whether it came on the `standby` channel (another app has the thread).
    #[serde(default)]
    pub standby: bool,
    /// When it arrived.
    pub received_at: Timestamp,
}

/// JSON text, stored as a string or (written by earlier versions) as a map.
fn json_text<'de, D: serde::Deserializer<'de>>(deserializer: D) -> Result<String, D::Error> {
    use serde::Deserialize;
    Ok(match serde_json::Value::deserialize(deserializer)? {
        serde_json::Value::String(text) => text,
        tree => tree.to_string(),
    })
}

/// The put that stores an inbound event once (the dedupe), into the pending index when a local
/// worker polls for it.
pub fn inbox_put(
    table: &Table,
    tenant: &TenantId,
    inbound: &Inbound,
    sent_at_ms: Option<i64>,
    pending: bool,
) -> Result<Put, ApiError> {
    let mut item = to_item(
        table.schema(),
        &inbox_key(tenant, &inbound.page_id, sent_at_ms, &inbound.dedupe),
        inbound,
    )?;
    item.insert(
        "expires_at".into(),
        n((inbound.received_at + INBOX_RETENTION).as_second()),
    );
    if pending {
        let shard = inbox_shard(
            tenant,
            &inbound.page_id,
            inbound.psid.as_deref().unwrap_or(""),
            inbox_shards(table),
        );
        item.insert("gsi1pk".into(), s(format!("INBOX#PENDING#{shard}")));
        item.insert(
            "gsi1sk".into(),
            s(format!(
                "{:015}#{}",
                inbound.received_at.as_millisecond(),
                fanorder_platform::id::new_ulid()
            )),
        );
    }
    Ok(Put {
        item,
        cond: Some(Cond::NotExists),
    })
}

/// Up to `limit` pending inbound events of a shard, oldest first, with their tenant.
pub async fn pending_inbox(
    table: &Table,
    shard: u32,
    limit: usize,
) -> Result<Vec<(Key, TenantId, Inbound)>, ApiError> {
    let query = Query::index("gsi1", format!("INBOX#PENDING#{shard}")).limit(limit);
    let page = table.query(&query, None).await?;
    let mut found = Vec::with_capacity(page.items.len());
    for item in page.items {
        let key = table.item_key(&item)?;
        let tenant = key.pk.strip_prefix("T#").and_then(|t| t.parse().ok());
        match (tenant, from_item::<Inbound>(item)) {
            (Some(tenant), Ok(inbound)) => found.push((key, tenant, inbound)),
            (_, Err(err)) => {
                // Unreadable (written by a newer or broken version): never block the rest.
                tracing::error!(pk = %key.pk, sk = %key.sk, error = %err, "unreadable inbound event; set aside");
                give_up(table, &key, "unreadable", Timestamp::now()).await?;
            }
            (None, Ok(_)) => {
                tracing::error!(pk = %key.pk, sk = %key.sk, "inbound event outside a tenant; set aside");
                give_up(table, &key, "no tenant", Timestamp::now()).await?;
            }
        }
    }
    Ok(found)
}

/// Counts a failed attempt at an inbound event; returns how many there were so far (0 when the
/// event was handled meanwhile).
pub async fn attempt_failed(table: &Table, key: &Key, error: &str) -> Result<i64, ApiError> {
    let update = Update {
        key: key.clone(),
        changes: vec![
            Change::Add("attempts".into(), 1),
            Change::Set(
                "last_error".into(),
                s(error.chars().take(500).collect::<String>()),
            ),
        ],
        cond: Some(Cond::Exists.and(Cond::AttrNotExists("handled_at".into()))),
    };
    match table.update(update).await {
        Ok(item) => Ok(match item.get("attempts") {
            Some(Value::N(n)) => n.parse().unwrap_or(1),
            _ => 1,
        }),
        Err(StoreError::ConditionFailed { .. }) => Ok(0),
        Err(err) => Err(err.into()),
    }
}

/// Sets an inbound event aside for good: out of the pending index, marked with why. It stays
/// (until its TTL) for an operator to look at.
pub async fn give_up(table: &Table, key: &Key, why: &str, now: Timestamp) -> Result<(), ApiError> {
    let update = Update {
        key: key.clone(),
        changes: vec![
            Change::Set("handled_at".into(), s(now.to_string())),
            Change::Set("gave_up".into(), s(why)),
            Change::Remove("gsi1pk".into()),
            Change::Remove("gsi1sk".into()),
        ],
        cond: Some(Cond::Exists.and(Cond::AttrNotExists("handled_at".into()))),
    };
    match table.update(update).await {
        Ok(_) | Err(StoreError::ConditionFailed { .. }) => Ok(()),
        Err(err) => Err(err.into()),
    }
}

/// The update that claims an inbound event for processing, once: it fails when the event was
/// already handled.
pub fn claim(key: &Key, now: Timestamp) -> TxOp {
    TxOp::Update(Update {
        key: key.clone(),
        changes: vec![
            Change::Set("handled_at".into(), s(now.to_string())),
            Change::Remove("gsi1pk".into()),
            Change::Remove("gsi1sk".into()),
        ],
        cond: Some(Cond::Exists.and(Cond::AttrNotExists("handled_at".into()))),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_inbound_event_stored_as_a_map_by_an_earlier_version_is_still_read() {
        #[derive(Serialize)]
        struct Earlier {
            page_id: &'static str,
            dedupe: &'static str,
            event: serde_json::Value,
            received_at: Timestamp,
        }
        let event =
            serde_json::json!({"sender": {"id": "1"}, "message": {"mid": "m.1", "text": "hi"}});
        let earlier = Earlier {
            page_id: "100",
            dedupe: "m.1",
            event: event.clone(),
            received_at: Timestamp::UNIX_EPOCH,
        };
        let schema = fanorder_store::schema::TableSchema::load();
        let key = Key::new("T#1", "INBOX#100#m.1");
        let item = to_item(schema, &key, &earlier).unwrap();
        assert!(matches!(item.get("event"), Some(Value::M(_))));
        let read: Inbound = from_item(item).unwrap();
        let text: serde_json::Value = serde_json::from_str(&read.event).unwrap();
        assert_eq!(text, event);

        let now = to_item(schema, &key, &read).unwrap();
        assert!(
            matches!(now.get("event"), Some(Value::S(_))),
            "written as text"
        );
        let again: Inbound = from_item(now).unwrap();
        assert_eq!(again.event, read.event);
    }

    #[test]
    fn inbox_keys_follow_the_events_time_and_take_dedupe_keys_of_any_length() {
        let tenant: TenantId = "01J00000000000000000000000".parse().unwrap();
        let key = |at, dedupe: &str| inbox_key(&tenant, "100", at, dedupe).sk;
        // Pinned: a stored event's key must not change between versions, or its redelivery
        // would be stored and answered again.
        assert_eq!(
            key(Some(1_764_000_000_000), "m_x"),
            "INBOX#100#1764000000000#bhakkHgRqYmKH63gTbLhvg",
            "the first 128 bits of SHA-256(\"m_x\"), base64url"
        );
        assert!(key(None, "m_x").starts_with("INBOX#100#0000000000000#"));
        assert_eq!(key(Some(-5), "m_x"), key(None, "m_x"));
        assert!(
            key(Some(i64::MAX), "m_x").starts_with("INBOX#100#9999999999999#"),
            "fixed width, so the order stays the time's"
        );
        // Random message ids, in the order they were sent: the keys are in that order.
        let later = key(Some(1_764_000_000_001), "m_AAA");
        assert!(key(Some(1_764_000_000_000), "m_zzz") < later);

        let long = "m_".to_owned() + &"x".repeat(5000);
        let other = "m_".to_owned() + &"x".repeat(4999) + "y";
        assert_ne!(key(Some(1), &long), key(Some(1), &other));
        assert_ne!(key(Some(1), "m_x"), key(Some(1), "m_y"));
        assert_eq!(
            key(Some(1), &long).len(),
            key(Some(1), "m_x").len(),
            "bounded"
        );
    }

    #[test]
    fn conversations_spread_over_the_shards_and_one_shard_is_shard_zero() {
        let tenant: TenantId = "01J00000000000000000000000".parse().unwrap();
        let shard = |psid: u32, shards| inbox_shard(&tenant, "100", &psid.to_string(), shards);
        let used: std::collections::BTreeSet<u32> =
            (0..200).map(|psid| shard(psid, INBOX_SHARDS)).collect();
        assert_eq!(used, (0..INBOX_SHARDS).collect());
        assert!((0..200).all(|psid| shard(psid, 1) == 0));
        assert!(
            (0..200).all(|psid| shard(psid, 0) == 0),
            "no division by zero"
        );
    }

    #[tokio::test]
    async fn the_embedded_store_keeps_new_events_in_one_shard_and_older_shards_are_still_read() {
        use fanorder_store::testing::{StoreKind, table};
        let test = table(
            StoreKind::Sqlite,
            fanorder_platform::Clock::system(),
            &[7; 32],
            None,
        )
        .await
        .unwrap()
        .unwrap();
        let table = &test.table;
        assert_eq!(inbox_shards(table), 1);
        let tenant: TenantId = "01J00000000000000000000000".parse().unwrap();
        let inbound = |psid: u32| Inbound {
            page_id: "100".into(),
            psid: Some(psid.to_string()),
            dedupe: format!("m.{psid}"),
            event: "{}".into(),
            standby: false,
            received_at: Timestamp::now(),
        };
        for psid in 0..20 {
            let put = inbox_put(table, &tenant, &inbound(psid), Some(1), true).unwrap();
            assert_eq!(
                put.item.get("gsi1pk"),
                Some(&Value::S("INBOX#PENDING#0".into()))
            );
            table.put(put).await.unwrap();
        }
        // An event an earlier version left pending in another shard.
        let mut put = inbox_put(table, &tenant, &inbound(99), None, true).unwrap();
        put.item
            .insert("gsi1pk".into(), Value::S("INBOX#PENDING#3".into()));
        table.put(put).await.unwrap();

        let mut found = 0;
        for shard in 0..INBOX_SHARDS {
            found += pending_inbox(table, shard, 100).await.unwrap().len();
        }
        assert_eq!(found, 21, "the worker reads every shard");
        assert_eq!(pending_inbox(table, 3, 100).await.unwrap().len(), 1);
    }
}
