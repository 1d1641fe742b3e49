//! [`Table`]: the handle every crate uses. It checks each request the way DynamoDB would
//! (so both adapters refuse the same things), signs and verifies cursors, supplies "now" for
//! TTL, and hands the request to the adapter behind [`Backend`].

use std::collections::HashSet;
use std::sync::Arc;

use async_trait::async_trait;
use fanorder_platform::Clock;
use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::cursor::{CursorCodec, Position};
use crate::eval::{self, MAX_ITEM_BYTES};
use crate::model::{
    Capacity, Change, CmpOp, Cond, Delete, Item, Key, Page, Put, Query, SortKey, StoreError,
    StoreResult, TxOp, Update, Value,
};
use crate::schema::TableSchema;

/// The most operations DynamoDB accepts in one transaction.
pub const MAX_TRANSACTION_OPS: usize = 100;
/// The largest page a query may ask for.
pub const MAX_PAGE: usize = 1000;
/// The longest partition key value DynamoDB accepts, in bytes.
pub const MAX_PK_BYTES: usize = 2048;
/// The longest sort key (and index key) value DynamoDB accepts, in bytes.
pub const MAX_SK_BYTES: usize = 1024;

/// What an adapter implements. Requests arrive already validated and with numbers normalised;
/// `now` (epoch seconds) decides which items have expired: those are invisible to reads and
/// count as absent for conditions and updates.
#[async_trait]
pub trait Backend: Send + Sync + 'static {
    /// The visible item with this key.
    async fn get(&self, key: &Key, now: i64) -> StoreResult<Option<Item>>;
    /// Writes the item if the condition holds.
    async fn put(&self, put: Put, now: i64) -> StoreResult<()>;
    /// Deletes the item if the condition holds; returns the visible item it removed.
    async fn delete(&self, delete: Delete, now: i64) -> StoreResult<Option<Item>>;
    /// Applies the changes if the condition holds; returns the item afterwards.
    async fn update(&self, update: Update, now: i64) -> StoreResult<Item>;
    /// All operations or none; a failed condition cancels with every failing position.
    async fn transact(&self, ops: Vec<TxOp>, now: i64) -> StoreResult<()>;
    /// Up to `fetch` visible items of the query, starting after `after`.
    async fn query(
        &self,
        query: &Query,
        after: Option<Position>,
        fetch: usize,
        now: i64,
    ) -> StoreResult<Vec<Item>>;
    /// Answers when the store is reachable.
    async fn ping(&self) -> StoreResult<()>;
    /// Capacity units consumed since start (zero for stores that do not meter).
    fn consumed(&self) -> Capacity;
    /// A short name for logs: `sqlite` or `dynamodb`.
    fn name(&self) -> &'static str;
}

/// The one table, as the feature crates see it.
#[derive(Clone)]
pub struct Table {
    backend: Arc<dyn Backend>,
    schema: &'static TableSchema,
    cursors: CursorCodec,
    clock: Clock,
}

impl std::fmt::Debug for Table {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Table")
            .field("backend", &self.backend.name())
            .finish_non_exhaustive()
    }
}

impl Table {
    /// A table over an adapter, signing cursors with `cursor_key` and reading time from `clock`.
    pub fn new(backend: Arc<dyn Backend>, cursor_key: &[u8], clock: Clock) -> Self {
        Self {
            backend,
            schema: TableSchema::load(),
            cursors: CursorCodec::new(cursor_key),
            clock,
        }
    }

    /// The table's schema.
    pub fn schema(&self) -> &'static TableSchema {
        self.schema
    }

    /// The clock the table reads TTLs against.
    pub fn clock(&self) -> &Clock {
        &self.clock
    }

    /// The adapter's name (`sqlite`, `dynamodb`).
    pub fn backend_name(&self) -> &'static str {
        self.backend.name()
    }

    fn now(&self) -> i64 {
        self.clock.now_epoch_seconds()
    }

    /// Reads one item (strongly consistent).
    pub async fn get(&self, key: &Key) -> StoreResult<Option<Item>> {
        self.check_key(key)?;
        self.backend.get(key, self.now()).await
    }

    /// Writes a whole item, if the condition holds on the item it replaces.
    pub async fn put(&self, mut put: Put) -> StoreResult<()> {
        self.check_put(&mut put)?;
        self.backend.put(put, self.now()).await
    }

    /// Deletes an item, if the condition holds; returns what was deleted.
    pub async fn delete(&self, mut delete: Delete) -> StoreResult<Option<Item>> {
        self.check_delete(&mut delete)?;
        self.backend.delete(delete, self.now()).await
    }

    /// Changes attributes of an item (creating it when absent), if the condition holds.
    pub async fn update(&self, mut update: Update) -> StoreResult<Item> {
        self.check_update(&mut update)?;
        self.backend.update(update, self.now()).await
    }

    /// Applies every operation or none.
    pub async fn transact(&self, mut ops: Vec<TxOp>) -> StoreResult<()> {
        if ops.is_empty() || ops.len() > MAX_TRANSACTION_OPS {
            return Err(StoreError::invalid(format!(
                "a transaction takes 1 to {MAX_TRANSACTION_OPS} operations"
            )));
        }
        let mut seen = HashSet::new();
        for op in &mut ops {
            let key = match op {
                TxOp::Put(put) => {
                    self.check_put(put)?;
                    self.item_key(&put.item)?
                }
                TxOp::Delete(delete) => {
                    self.check_delete(delete)?;
                    delete.key.clone()
                }
                TxOp::Update(update) => {
                    self.check_update(update)?;
                    update.key.clone()
                }
                TxOp::Check(check) => {
                    self.check_key(&check.key)?;
                    self.check_cond(&mut check.cond)?;
                    check.key.clone()
                }
            };
            if !seen.insert(key.clone()) {
                return Err(StoreError::invalid(format!(
                    "two operations on {key} in one transaction"
                )));
            }
        }
        self.backend.transact(ops, self.now()).await
    }

    /// One page of a query. `cursor` is the `next_cursor` of the previous page of this very query.
    pub async fn query(&self, query: &Query, cursor: Option<&str>) -> StoreResult<Page> {
        self.check_query(query)?;
        let after = cursor.map(|c| self.cursors.decode(query, c)).transpose()?;
        let mut items = self
            .backend
            .query(query, after, query.limit + 1, self.now())
            .await?;
        let next_cursor = if items.len() > query.limit {
            items.truncate(query.limit);
            let last = items
                .last()
                .ok_or_else(|| StoreError::invalid("empty page"))?;
            Some(self.cursors.encode(query, &self.position(query, last)?))
        } else {
            None
        };
        Ok(Page { items, next_cursor })
    }

    /// Answers when the store is reachable.
    pub async fn ping(&self) -> StoreResult<()> {
        self.backend.ping().await
    }

    /// Capacity consumed since start (DynamoDB only).
    pub fn consumed(&self) -> Capacity {
        self.backend.consumed()
    }

    fn position(&self, query: &Query, item: &Item) -> StoreResult<Position> {
        let key = self.item_key(item)?;
        let index_key = match &query.index {
            None => None,
            Some(name) => {
                let index = self
                    .schema
                    .index(name)
                    .ok_or_else(|| StoreError::invalid("unknown index"))?;
                Some((
                    string_attr(item, &index.partition_key.name)?,
                    string_attr(item, &index.sort_key.name)?,
                ))
            }
        };
        Ok(Position { key, index_key })
    }

    /// The key of an item from its key attributes.
    pub fn item_key(&self, item: &Item) -> StoreResult<Key> {
        Ok(Key {
            pk: string_attr(item, &self.schema.partition_key.name)?,
            sk: string_attr(item, &self.schema.sort_key.name)?,
        })
    }

    fn check_key(&self, key: &Key) -> StoreResult<()> {
        check_key_value(&self.schema.partition_key.name, &key.pk, MAX_PK_BYTES)?;
        check_key_value(&self.schema.sort_key.name, &key.sk, MAX_SK_BYTES)
    }

    fn check_put(&self, put: &mut Put) -> StoreResult<()> {
        let key = self.item_key(&put.item)?;
        self.check_key(&key)?;
        for (name, value) in put.item.iter_mut() {
            normalize(value)?;
            self.check_index_key(name, value)?;
        }
        if eval::item_size(&put.item) > MAX_ITEM_BYTES {
            return Err(StoreError::ItemTooLarge);
        }
        if let Some(cond) = &mut put.cond {
            self.check_cond(cond)?;
        }
        Ok(())
    }

    fn check_delete(&self, delete: &mut Delete) -> StoreResult<()> {
        self.check_key(&delete.key)?;
        if let Some(cond) = &mut delete.cond {
            self.check_cond(cond)?;
        }
        Ok(())
    }

    fn check_update(&self, update: &mut Update) -> StoreResult<()> {
        self.check_key(&update.key)?;
        if update.changes.is_empty() {
            return Err(StoreError::invalid("an update needs at least one change"));
        }
        let mut touched = HashSet::new();
        for change in &mut update.changes {
            let name = match change {
                Change::Set(name, value) => {
                    normalize(value)?;
                    self.check_index_key(name, value)?;
                    name.clone()
                }
                Change::Remove(name) | Change::Add(name, _) => name.clone(),
            };
            check_attr_name(&name)?;
            if name == self.schema.partition_key.name || name == self.schema.sort_key.name {
                return Err(StoreError::invalid(format!(
                    "cannot update key attribute {name}"
                )));
            }
            if !touched.insert(name.clone()) {
                return Err(StoreError::invalid(format!(
                    "two changes to {name} in one update"
                )));
            }
        }
        if let Some(cond) = &mut update.cond {
            self.check_cond(cond)?;
        }
        Ok(())
    }

    fn check_cond(&self, cond: &mut Cond) -> StoreResult<()> {
        match cond {
            Cond::Exists | Cond::NotExists => Ok(()),
            Cond::AttrExists(name) | Cond::AttrNotExists(name) => check_attr_name(name),
            Cond::BeginsWith(name, _) => check_attr_name(name),
            Cond::Cmp(name, op, value) => {
                check_attr_name(name)?;
                normalize(value)?;
                let ordered = matches!(value, Value::N(_) | Value::S(_) | Value::B(_));
                if *op != CmpOp::Eq && !ordered {
                    return Err(StoreError::invalid(
                        "only numbers, strings and binary values can be ordered",
                    ));
                }
                Ok(())
            }
            Cond::And(all) | Cond::Or(all) => {
                if all.is_empty() {
                    return Err(StoreError::invalid("empty AND/OR condition"));
                }
                all.iter_mut().try_for_each(|c| self.check_cond(c))
            }
            Cond::Not(inner) => self.check_cond(inner),
        }
    }

    fn check_index_key(&self, name: &str, value: &Value) -> StoreResult<()> {
        let is_index_key = self
            .schema
            .global_secondary_indexes
            .iter()
            .any(|i| i.partition_key.name == name || i.sort_key.name == name);
        if !is_index_key {
            return Ok(());
        }
        match value {
            Value::S(text) => check_key_value(name, text, MAX_SK_BYTES),
            _ => Err(StoreError::invalid(format!(
                "index key {name} must be a string"
            ))),
        }
    }

    fn check_query(&self, query: &Query) -> StoreResult<()> {
        if let Some(name) = &query.index
            && self.schema.index(name).is_none()
        {
            return Err(StoreError::invalid(format!("no index named {name}")));
        }
        if !(1..=MAX_PAGE).contains(&query.limit) {
            return Err(StoreError::invalid(format!(
                "page size must be 1 to {MAX_PAGE}"
            )));
        }
        check_key_value("partition key", &query.pk, MAX_PK_BYTES)?;
        match &query.sk {
            Some(SortKey::Between(low, high)) if low.as_bytes() > high.as_bytes() => {
                Err(StoreError::invalid("BETWEEN bounds are reversed"))
            }
            Some(SortKey::Cmp(_, v) | SortKey::BeginsWith(v)) if v.is_empty() => {
                Err(StoreError::invalid("empty sort key value"))
            }
            _ => Ok(()),
        }
    }
}

fn check_key_value(name: &str, value: &str, max: usize) -> StoreResult<()> {
    if value.is_empty() {
        return Err(StoreError::invalid(format!("{name} must not be empty")));
    }
    if value.len() > max {
        return Err(StoreError::invalid(format!(
            "{name} longer than {max} bytes"
        )));
    }
    Ok(())
}

fn check_attr_name(name: &str) -> StoreResult<()> {
    if name.is_empty() || name.len() > 255 {
        return Err(StoreError::invalid("attribute names are 1 to 255 bytes"));
    }
    Ok(())
}

fn string_attr(item: &Item, name: &str) -> StoreResult<String> {
    match item.get(name) {
        Some(Value::S(text)) => Ok(text.clone()),
        _ => Err(StoreError::invalid(format!(
            "item has no string attribute {name}"
        ))),
    }
}

/// Puts every number into DynamoDB's canonical form, refusing what DynamoDB refuses.
fn normalize(value: &mut Value) -> StoreResult<()> {
    let bad = |n: &str| StoreError::invalid(format!("{n:?} is not a valid number"));
    match value {
        Value::N(text) if eval::is_canonical_integer(text) => {}
        Value::N(text) => *text = eval::normalize_number(text).ok_or_else(|| bad(text))?,
        Value::Ns(texts) => {
            for text in texts.iter_mut() {
                if !eval::is_canonical_integer(text) {
                    *text = eval::normalize_number(text).ok_or_else(|| bad(text))?;
                }
            }
        }
        Value::M(map) => map.values_mut().try_for_each(normalize)?,
        Value::L(list) => list.iter_mut().try_for_each(normalize)?,
        _ => {}
    }
    Ok(())
}

/// Serialises an entity into an item under `key`. The entity's own fields must not use the
/// key attribute names.
pub fn to_item<T: Serialize>(schema: &TableSchema, key: &Key, entity: &T) -> StoreResult<Item> {
    let mut item: Item = serde_dynamo::to_item(entity)
        .map_err(|e| StoreError::invalid(format!("cannot store entity: {e}")))?;
    for name in [&schema.partition_key.name, &schema.sort_key.name] {
        if item.contains_key(name.as_str()) {
            return Err(StoreError::invalid(format!(
                "entity field {name} clashes with a key attribute"
            )));
        }
    }
    item.insert(schema.partition_key.name.clone(), Value::S(key.pk.clone()));
    item.insert(schema.sort_key.name.clone(), Value::S(key.sk.clone()));
    Ok(item)
}

/// Reads an entity back from an item (key attributes are ignored unless the entity asks for them).
pub fn from_item<T: DeserializeOwned>(item: Item) -> StoreResult<T> {
    serde_dynamo::from_item(item)
        .map_err(|e| StoreError::Unavailable(format!("stored item does not match its type: {e}")))
}

/// Serialises a value (a list, a nested struct) into one attribute value.
pub fn to_value<T: Serialize>(value: &T) -> StoreResult<Value> {
    serde_dynamo::to_attribute_value(value)
        .map_err(|e| StoreError::invalid(format!("cannot store value: {e}")))
}
