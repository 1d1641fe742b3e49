//! The menus crate's items in the one table. Keys are built here and nowhere else, each next to
//! the access pattern it serves.
//!
//! Two counters keep references whole without read-then-write: a category counts the items and
//! combos in it (`entries`), and an item counts the combos that use it (`combo_refs`). Both are
//! moved in the same transaction as the entry that references them, with a condition that the
//! referenced item exists, so a category can only be deleted empty and an item only when no
//! combo uses it. Like `stock`, counters are plain number attributes that edits never rewrite
//! and that do not bump `version`: an order taking stock, or a combo being added, never makes an
//! admin's concurrent menu edit fail.

use fanorder_platform::{ApiError, FieldError, Page, TenantId};
use fanorder_store::{
    Change, CmpOp, Cond, Delete, Item, Key, Put, Query, StoreError, Table, TxFailure, TxOp, Update,
    Value, from_item, n, to_item,
};
use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::model::{
    Category, CategoryId, Combo, ComboId, ItemId, Location, LocationId, Menu, MenuItem,
};

/// The sort-key prefix of every menu entry: the published menu is one Query on it.
const MENU_PREFIX: &str = "MENU#";
const CATEGORY_PREFIX: &str = "MENU#CAT#";
const ITEM_PREFIX: &str = "MENU#ITEM#";
const COMBO_PREFIX: &str = "MENU#COMBO#";
const LOCATION_PREFIX: &str = "LOC#";

/// The stock attribute of an item: a plain number, absent when stock is not counted.
const STOCK: &str = "stock";
/// How many items and combos a category holds.
const ENTRIES: &str = "entries";
/// How many combos use an item.
const COMBO_REFS: &str = "combo_refs";

/// Category, `T#<tenant>` / `MENU#CAT#<id>`: read by id; listed by a Query on `MENU#CAT#`; read
/// with the whole menu by a Query on `MENU#`.
pub fn category_key(tenant: &TenantId, id: &CategoryId) -> Key {
    Key::new(tenant.partition(), format!("{CATEGORY_PREFIX}{id}"))
}

/// Menu item, `T#<tenant>` / `MENU#ITEM#<id>`: read by id (pricing an order line, taking
/// stock); listed by a Query on `MENU#ITEM#`; read with the whole menu by a Query on `MENU#`.
pub fn item_key(tenant: &TenantId, id: &ItemId) -> Key {
    Key::new(tenant.partition(), format!("{ITEM_PREFIX}{id}"))
}

/// Combo, `T#<tenant>` / `MENU#COMBO#<id>`: read by id; listed by a Query on `MENU#COMBO#`;
/// read with the whole menu by a Query on `MENU#`.
pub fn combo_key(tenant: &TenantId, id: &ComboId) -> Key {
    Key::new(tenant.partition(), format!("{COMBO_PREFIX}{id}"))
}

/// Location, `T#<tenant>` / `LOC#<id>`: read by id; every location of a tenant is a Query on
/// `LOC#`.
pub fn location_key(tenant: &TenantId, id: &LocationId) -> Key {
    Key::new(tenant.partition(), format!("{LOCATION_PREFIX}{id}"))
}

fn entity<T: Serialize>(table: &Table, key: &Key, value: &T) -> Result<Item, ApiError> {
    Ok(to_item(table.schema(), key, value)?)
}

fn read<T: DeserializeOwned>(item: Option<Item>) -> Result<Option<T>, ApiError> {
    Ok(item.map(from_item).transpose()?)
}

async fn get<T: DeserializeOwned>(table: &Table, key: &Key) -> Result<Option<T>, ApiError> {
    read(table.get(key).await?)
}

async fn page<T: DeserializeOwned>(
    table: &Table,
    query: &Query,
    cursor: Option<&str>,
) -> Result<Page<T>, ApiError> {
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

/// Every item of a query, reading page after page.
async fn all(table: &Table, query: &Query) -> Result<Vec<Item>, ApiError> {
    let mut items = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let page = table.query(query, cursor.as_deref()).await?;
        items.extend(page.items);
        match page.next_cursor {
            Some(next) => cursor = Some(next),
            None => return Ok(items),
        }
    }
}

/// The changes that make a stored entity equal `value`, leaving `keep` (counters, stock)
/// untouched and removing each of `optional` that `value` does not have.
fn replace<T: Serialize>(
    table: &Table,
    key: &Key,
    value: &T,
    keep: &[&str],
    optional: &[&str],
) -> Result<Vec<Change>, ApiError> {
    let mut item = entity(table, key, value)?;
    item.remove(&table.schema().partition_key.name);
    item.remove(&table.schema().sort_key.name);
    let mut changes: Vec<Change> = optional
        .iter()
        .filter(|name| !item.contains_key(**name) && !keep.contains(name))
        .map(|name| Change::Remove((*name).to_owned()))
        .collect();
    changes.extend(
        item.into_inner()
            .into_iter()
            .filter(|(name, _)| !keep.contains(&name.as_str()))
            .map(|(name, value)| Change::Set(name, value)),
    );
    Ok(changes)
}

fn version_is(version: i64) -> Cond {
    Cond::Exists.and(Cond::eq("version", n(version)))
}

fn version_conflict(what: &str) -> ApiError {
    ApiError::conflict(
        "version_conflict",
        format!("the {what} changed since you read it; read it again and retry"),
    )
}

fn number(item: &Item, name: &str) -> Option<i64> {
    match item.get(name) {
        Some(Value::N(text)) => text.parse().ok(),
        _ => None,
    }
}

/// Moves a category's entry count, only if the category exists.
fn count_entry(tenant: &TenantId, category: &CategoryId, delta: i64) -> TxOp {
    TxOp::Update(Update {
        key: category_key(tenant, category),
        changes: vec![Change::Add(ENTRIES.into(), delta)],
        cond: Some(Cond::Exists),
    })
}

/// Moves an item's combo count, only if the item exists.
fn count_combo_ref(tenant: &TenantId, item: &ItemId, delta: i64) -> TxOp {
    TxOp::Update(Update {
        key: item_key(tenant, item),
        changes: vec![Change::Add(COMBO_REFS.into(), delta)],
        cond: Some(Cond::Exists),
    })
}

/// The category count moves for an entry going from `before` to `after`, with the position of
/// the one that adds to `after` (whose failure means "no such category").
fn category_moves(
    tenant: &TenantId,
    before: Option<CategoryId>,
    after: Option<CategoryId>,
) -> Vec<TxOp> {
    if before == after {
        return Vec::new();
    }
    let mut ops = Vec::new();
    if let Some(new) = after {
        ops.push(count_entry(tenant, &new, 1));
    }
    if let Some(old) = before {
        ops.push(count_entry(tenant, &old, -1));
    }
    ops
}

fn no_such_category() -> ApiError {
    ApiError::invalid("category_id", "no such category")
}

fn failed_at(failures: &[TxFailure], index: usize) -> Option<&TxFailure> {
    failures.iter().find(|f| f.index == index)
}

// ---------------------------------------------------------------------------------------------
// Categories

/// Stores a new category (with no entries).
pub async fn create_category(
    table: &Table,
    tenant: &TenantId,
    category: &Category,
) -> Result<(), ApiError> {
    let mut item = entity(table, &category_key(tenant, &category.id), category)?;
    item.insert(ENTRIES.into(), n(0));
    table
        .put(Put {
            item,
            cond: Some(Cond::NotExists),
        })
        .await?;
    Ok(())
}

/// A category, if it exists in this tenant.
pub async fn category(
    table: &Table,
    tenant: &TenantId,
    id: &CategoryId,
) -> Result<Option<Category>, ApiError> {
    get(table, &category_key(tenant, id)).await
}

/// One page of a tenant's categories, in id (creation) order.
pub async fn list_categories(
    table: &Table,
    tenant: &TenantId,
    cursor: Option<&str>,
    limit: usize,
) -> Result<Page<Category>, ApiError> {
    let query = Query::table(tenant.partition())
        .begins_with(CATEGORY_PREFIX)
        .limit(limit);
    page(table, &query, cursor).await
}

/// Saves a category edit made from `expected_version`; returns the category as stored.
pub async fn update_category(
    table: &Table,
    tenant: &TenantId,
    after: &Category,
    expected_version: i64,
) -> Result<Category, ApiError> {
    let key = category_key(tenant, &after.id);
    let changes = replace(table, &key, after, &[ENTRIES], &[])?;
    let update = Update {
        key,
        changes,
        cond: Some(version_is(expected_version)),
    };
    match table.update(update).await {
        Ok(item) => Ok(from_item(item)?),
        Err(StoreError::ConditionFailed { current: None }) => Err(ApiError::NotFound("category")),
        Err(StoreError::ConditionFailed { .. }) => Err(version_conflict("category")),
        Err(err) => Err(err.into()),
    }
}

/// Deletes a category, only while no item or combo is in it (409 `category_not_empty`).
pub async fn delete_category(
    table: &Table,
    tenant: &TenantId,
    id: &CategoryId,
) -> Result<(), ApiError> {
    let delete = Delete {
        key: category_key(tenant, id),
        cond: Some(Cond::eq(ENTRIES, n(0))),
    };
    match table.delete(delete).await {
        Ok(_) => Ok(()),
        Err(StoreError::ConditionFailed { current: None }) => Err(ApiError::NotFound("category")),
        Err(StoreError::ConditionFailed {
            current: Some(current),
        }) => {
            let entries = number(&current, ENTRIES).unwrap_or_default();
            Err(ApiError::conflict(
                "category_not_empty",
                format!(
                    "the category still holds {entries} item(s) or combo(s); move or delete them first"
                ),
            ))
        }
        Err(err) => Err(err.into()),
    }
}

// ---------------------------------------------------------------------------------------------
// Items

/// Stores a new item, counting it in its category (422 on `category_id` when there is no such
/// category).
pub async fn create_item(
    table: &Table,
    tenant: &TenantId,
    item: &MenuItem,
) -> Result<(), ApiError> {
    let mut stored = entity(table, &item_key(tenant, &item.id), item)?;
    stored.insert(COMBO_REFS.into(), n(0));
    let put = Put {
        item: stored,
        cond: Some(Cond::NotExists),
    };
    let Some(category) = item.category_id else {
        return Ok(table.put(put).await?);
    };
    let ops = vec![TxOp::Put(put), count_entry(tenant, &category, 1)];
    match table.transact(ops).await {
        Ok(()) => Ok(()),
        Err(StoreError::TransactionCanceled { failures }) if failed_at(&failures, 1).is_some() => {
            Err(no_such_category())
        }
        Err(err) => Err(err.into()),
    }
}

/// An item, if it exists in this tenant.
pub async fn item(
    table: &Table,
    tenant: &TenantId,
    id: &ItemId,
) -> Result<Option<MenuItem>, ApiError> {
    get(table, &item_key(tenant, id)).await
}

/// One page of a tenant's items, in id (creation) order.
pub async fn list_items(
    table: &Table,
    tenant: &TenantId,
    cursor: Option<&str>,
    limit: usize,
) -> Result<Page<MenuItem>, ApiError> {
    let query = Query::table(tenant.partition())
        .begins_with(ITEM_PREFIX)
        .limit(limit);
    page(table, &query, cursor).await
}

/// The optional attributes of an item, removed when an edit clears them.
const ITEM_OPTIONAL: [&str; 5] = [
    "description",
    "category_id",
    "photo_url",
    "snoozed_until",
    STOCK,
];

/// Saves an item edit made from `before`; returns the item as stored. `stock` is written only
/// when `set_stock` (the edit names it), so an edit never undoes stock taken by orders meanwhile.
pub async fn update_item(
    table: &Table,
    tenant: &TenantId,
    before: &MenuItem,
    after: &MenuItem,
    set_stock: bool,
) -> Result<MenuItem, ApiError> {
    let key = item_key(tenant, &after.id);
    let keep: &[&str] = if set_stock {
        &[COMBO_REFS]
    } else {
        &[COMBO_REFS, STOCK]
    };
    let changes = replace(table, &key, after, keep, &ITEM_OPTIONAL)?;
    let update = Update {
        key: key.clone(),
        changes,
        cond: Some(version_is(before.version)),
    };
    let moves = category_moves(tenant, before.category_id, after.category_id);
    if moves.is_empty() {
        return match table.update(update).await {
            Ok(stored) => Ok(from_item(stored)?),
            Err(StoreError::ConditionFailed { current: None }) => {
                Err(ApiError::NotFound("menu item"))
            }
            Err(StoreError::ConditionFailed { .. }) => Err(version_conflict("menu item")),
            Err(err) => Err(err.into()),
        };
    }
    let adds_to_new = after.category_id.is_some();
    let mut ops = vec![TxOp::Update(update)];
    ops.extend(moves);
    match table.transact(ops).await {
        Ok(()) => {}
        Err(StoreError::TransactionCanceled { failures }) => {
            return Err(match failed_at(&failures, 0) {
                Some(TxFailure { current: None, .. }) => ApiError::NotFound("menu item"),
                Some(_) => version_conflict("menu item"),
                None if adds_to_new && failed_at(&failures, 1).is_some() => no_such_category(),
                None => version_conflict("menu item"),
            });
        }
        Err(err) => return Err(err.into()),
    }
    get(table, &key)
        .await?
        .ok_or(ApiError::NotFound("menu item"))
}

/// Deletes an item read at `item.version`, uncounting it from its category. Refused with 409
/// `item_in_combo` while a combo uses it.
pub async fn delete_item(
    table: &Table,
    tenant: &TenantId,
    item: &MenuItem,
) -> Result<(), ApiError> {
    let delete = Delete {
        key: item_key(tenant, &item.id),
        cond: Some(version_is(item.version).and(Cond::eq(COMBO_REFS, n(0)))),
    };
    let why = |current: Option<&Item>| match current {
        None => ApiError::NotFound("menu item"),
        Some(current) if number(current, "version") != Some(item.version) => {
            version_conflict("menu item")
        }
        Some(current) => ApiError::conflict(
            "item_in_combo",
            format!(
                "{} combo(s) use this item; remove it from them first",
                number(current, COMBO_REFS).unwrap_or_default()
            ),
        ),
    };
    let Some(category) = item.category_id else {
        return match table.delete(delete).await {
            Ok(_) => Ok(()),
            Err(StoreError::ConditionFailed { current }) => Err(why(current.as_deref())),
            Err(err) => Err(err.into()),
        };
    };
    let ops = vec![TxOp::Delete(delete), count_entry(tenant, &category, -1)];
    match table.transact(ops).await {
        Ok(()) => Ok(()),
        Err(StoreError::TransactionCanceled { failures }) => Err(match failed_at(&failures, 0) {
            Some(failure) => why(failure.current.as_ref()),
            None => version_conflict("menu item"),
        }),
        Err(err) => Err(err.into()),
    }
}

/// Adds `delta` (negative to take) to a counted item's stock atomically, never below zero;
/// returns the item afterwards. 409 `insufficient_stock` when too few are left, 409
/// `stock_not_tracked` when the item does not count stock.
pub async fn adjust_stock(
    table: &Table,
    tenant: &TenantId,
    id: &ItemId,
    delta: i64,
) -> Result<MenuItem, ApiError> {
    let op = if delta < 0 {
        take_stock(tenant, id, -delta)
    } else {
        return_stock(tenant, id, delta)
    };
    let TxOp::Update(update) = op else {
        return Err(ApiError::internal("stock moves are updates"));
    };
    match table.update(update).await {
        Ok(stored) => Ok(from_item(stored)?),
        Err(StoreError::ConditionFailed { current: None }) => Err(ApiError::NotFound("menu item")),
        Err(StoreError::ConditionFailed {
            current: Some(current),
        }) => match number(&current, STOCK) {
            None => Err(ApiError::conflict(
                "stock_not_tracked",
                "this item does not count stock; set `stock` on it first",
            )),
            Some(left) => Err(ApiError::conflict(
                "insufficient_stock",
                format!("only {left} left"),
            )),
        },
        Err(err) => Err(err.into()),
    }
}

/// Takes `quantity` from an item's stock inside an order's transaction: ADD `-quantity` to
/// `stock`, on the condition that `stock` exists and is at least `quantity`. Only for items
/// that count stock (`stock` is `Some`); its failure in a cancelled transaction means sold out.
/// It does not change the item's `version`, so a menu edit racing an order never fails on it.
pub fn take_stock(tenant: &TenantId, item: &ItemId, quantity: i64) -> TxOp {
    TxOp::Update(Update {
        key: item_key(tenant, item),
        changes: vec![Change::Add(STOCK.into(), -quantity)],
        cond: Some(Cond::AttrExists(STOCK.into()).and(Cond::Cmp(
            STOCK.into(),
            CmpOp::Ge,
            n(quantity),
        ))),
    })
}

/// Gives `quantity` back to an item's stock (a cancelled order): ADD `+quantity` to `stock`, on
/// the condition that `stock` exists. An item deleted or no longer counting stock since fails
/// the condition (and with it the transaction), so read the item first and leave it out then.
/// Like [`take_stock`], it does not change `version`.
pub fn return_stock(tenant: &TenantId, item: &ItemId, quantity: i64) -> TxOp {
    TxOp::Update(Update {
        key: item_key(tenant, item),
        changes: vec![Change::Add(STOCK.into(), quantity)],
        cond: Some(Cond::AttrExists(STOCK.into())),
    })
}

// ---------------------------------------------------------------------------------------------
// Combos

/// The 422 naming every referenced item that does not exist, from the failed positions of a
/// transaction whose operations `first..` are the reference counts of `refs`.
fn missing_items(
    failures: &[TxFailure],
    first: usize,
    refs: &[(ItemId, String)],
) -> Vec<FieldError> {
    refs.iter()
        .enumerate()
        .filter(|(i, _)| failed_at(failures, first + i).is_some())
        .map(|(_, (_, field))| FieldError::new(field.clone(), "no such item"))
        .collect()
}

/// Stores a new combo: every item it uses must exist in this tenant (422 naming the
/// component), and its category too.
pub async fn create_combo(table: &Table, tenant: &TenantId, combo: &Combo) -> Result<(), ApiError> {
    let refs = combo.references();
    let mut ops = vec![TxOp::Put(Put {
        item: entity(table, &combo_key(tenant, &combo.id), combo)?,
        cond: Some(Cond::NotExists),
    })];
    ops.extend(refs.iter().map(|(id, _)| count_combo_ref(tenant, id, 1)));
    let category_at = ops.len();
    ops.extend(category_moves(tenant, None, combo.category_id));
    match table.transact(ops).await {
        Ok(()) => Ok(()),
        Err(StoreError::TransactionCanceled { failures }) => {
            let mut errors = missing_items(&failures, 1, &refs);
            if failed_at(&failures, category_at).is_some() {
                errors.push(FieldError::new("category_id", "no such category"));
            }
            if errors.is_empty() {
                return Err(ApiError::conflict("conflict", "the combo already exists"));
            }
            Err(ApiError::Validation(errors))
        }
        Err(err) => Err(err.into()),
    }
}

/// A combo, if it exists in this tenant.
pub async fn combo(
    table: &Table,
    tenant: &TenantId,
    id: &ComboId,
) -> Result<Option<Combo>, ApiError> {
    get(table, &combo_key(tenant, id)).await
}

/// One page of a tenant's combos, in id (creation) order.
pub async fn list_combos(
    table: &Table,
    tenant: &TenantId,
    cursor: Option<&str>,
    limit: usize,
) -> Result<Page<Combo>, ApiError> {
    let query = Query::table(tenant.partition())
        .begins_with(COMBO_PREFIX)
        .limit(limit);
    page(table, &query, cursor).await
}

/// Saves a combo edit made from `before`: items it starts using must exist (422 naming the
/// component), items it stops using are released.
pub async fn update_combo(
    table: &Table,
    tenant: &TenantId,
    before: &Combo,
    after: &Combo,
) -> Result<(), ApiError> {
    let key = combo_key(tenant, &after.id);
    let old: Vec<ItemId> = before.references().into_iter().map(|(id, _)| id).collect();
    let new_refs = after.references();
    let added: Vec<(ItemId, String)> = new_refs
        .iter()
        .filter(|(id, _)| !old.contains(id))
        .cloned()
        .collect();
    let mut ops = vec![TxOp::Update(Update {
        key,
        changes: replace(
            table,
            &combo_key(tenant, &after.id),
            after,
            &[],
            &["description", "category_id", "snoozed_until"],
        )?,
        cond: Some(version_is(before.version)),
    })];
    ops.extend(added.iter().map(|(id, _)| count_combo_ref(tenant, id, 1)));
    ops.extend(
        old.iter()
            .filter(|id| !new_refs.iter().any(|(new, _)| new == *id))
            .map(|id| count_combo_ref(tenant, id, -1)),
    );
    let category_at = ops.len();
    let adds_to_new = after.category_id.is_some() && before.category_id != after.category_id;
    ops.extend(category_moves(
        tenant,
        before.category_id,
        after.category_id,
    ));
    match table.transact(ops).await {
        Ok(()) => Ok(()),
        Err(StoreError::TransactionCanceled { failures }) => {
            match failed_at(&failures, 0) {
                Some(TxFailure { current: None, .. }) => return Err(ApiError::NotFound("combo")),
                Some(_) => return Err(version_conflict("combo")),
                None => {}
            }
            let mut errors = missing_items(&failures, 1, &added);
            if adds_to_new && failed_at(&failures, category_at).is_some() {
                errors.push(FieldError::new("category_id", "no such category"));
            }
            if errors.is_empty() {
                return Err(version_conflict("combo"));
            }
            Err(ApiError::Validation(errors))
        }
        Err(err) => Err(err.into()),
    }
}

/// Deletes a combo read at `combo.version`, releasing its items and its category.
pub async fn delete_combo(table: &Table, tenant: &TenantId, combo: &Combo) -> Result<(), ApiError> {
    let mut ops = vec![TxOp::Delete(Delete {
        key: combo_key(tenant, &combo.id),
        cond: Some(version_is(combo.version)),
    })];
    ops.extend(
        combo
            .references()
            .iter()
            .map(|(id, _)| count_combo_ref(tenant, id, -1)),
    );
    ops.extend(category_moves(tenant, combo.category_id, None));
    match table.transact(ops).await {
        Ok(()) => Ok(()),
        Err(StoreError::TransactionCanceled { failures }) => Err(match failed_at(&failures, 0) {
            Some(TxFailure { current: None, .. }) => ApiError::NotFound("combo"),
            _ => version_conflict("combo"),
        }),
        Err(err) => Err(err.into()),
    }
}

// ---------------------------------------------------------------------------------------------
// The whole menu

/// Every category, item and combo of a tenant: one Query on `MENU#`, read page after page.
pub async fn menu(table: &Table, tenant: &TenantId) -> Result<Menu, ApiError> {
    let query = Query::table(tenant.partition())
        .begins_with(MENU_PREFIX)
        .limit(fanorder_store::table::MAX_PAGE);
    let mut menu = Menu::default();
    for item in all(table, &query).await? {
        let sk = match item.get(&table.schema().sort_key.name) {
            Some(Value::S(sk)) => sk.clone(),
            _ => continue,
        };
        if sk.starts_with(CATEGORY_PREFIX) {
            menu.categories.push(from_item(item)?);
        } else if sk.starts_with(ITEM_PREFIX) {
            menu.items.push(from_item(item)?);
        } else if sk.starts_with(COMBO_PREFIX) {
            menu.combos.push(from_item(item)?);
        }
    }
    Ok(menu)
}

// ---------------------------------------------------------------------------------------------
// Locations

/// Stores a new location.
pub async fn create_location(
    table: &Table,
    tenant: &TenantId,
    location: &Location,
) -> Result<(), ApiError> {
    table
        .put(Put {
            item: entity(table, &location_key(tenant, &location.id), location)?,
            cond: Some(Cond::NotExists),
        })
        .await?;
    Ok(())
}

/// A location, if it exists in this tenant.
pub async fn location(
    table: &Table,
    tenant: &TenantId,
    id: &LocationId,
) -> Result<Option<Location>, ApiError> {
    get(table, &location_key(tenant, id)).await
}

fn locations_query(tenant: &TenantId) -> Query {
    Query::table(tenant.partition()).begins_with(LOCATION_PREFIX)
}

/// One page of a tenant's locations, in id (creation) order.
pub async fn list_locations(
    table: &Table,
    tenant: &TenantId,
    cursor: Option<&str>,
    limit: usize,
) -> Result<Page<Location>, ApiError> {
    page(table, &locations_query(tenant).limit(limit), cursor).await
}

/// All of a tenant's locations, in id (creation) order: a Query on `LOC#`, read page after page.
pub async fn locations(table: &Table, tenant: &TenantId) -> Result<Vec<Location>, ApiError> {
    let query = locations_query(tenant).limit(fanorder_store::table::MAX_PAGE);
    Ok(all(table, &query)
        .await?
        .into_iter()
        .map(from_item)
        .collect::<Result<_, _>>()?)
}

/// Saves a location edit made from `expected_version`; returns the location as stored.
pub async fn update_location(
    table: &Table,
    tenant: &TenantId,
    after: &Location,
    expected_version: i64,
) -> Result<Location, ApiError> {
    let key = location_key(tenant, &after.id);
    let changes = replace(table, &key, after, &[], &["phone"])?;
    let update = Update {
        key,
        changes,
        cond: Some(version_is(expected_version)),
    };
    match table.update(update).await {
        Ok(item) => Ok(from_item(item)?),
        Err(StoreError::ConditionFailed { current: None }) => Err(ApiError::NotFound("location")),
        Err(StoreError::ConditionFailed { .. }) => Err(version_conflict("location")),
        Err(err) => Err(err.into()),
    }
}

/// Deletes a location.
pub async fn delete_location(
    table: &Table,
    tenant: &TenantId,
    id: &LocationId,
) -> Result<(), ApiError> {
    let delete = Delete {
        key: location_key(tenant, id),
        cond: Some(Cond::Exists),
    };
    match table.delete(delete).await {
        Ok(_) => Ok(()),
        Err(StoreError::ConditionFailed { .. }) => Err(ApiError::NotFound("location")),
        Err(err) => Err(err.into()),
    }
}

#[cfg(test)]
mod tests {
    use fanorder_platform::Clock;
    use fanorder_store::testing::{self, StoreKind, TestTable};
    use jiff::Timestamp;

    use super::*;
    use crate::model::ComboComponent;

    /// A table on each store available here (DynamoDB only with an endpoint).
    async fn tables() -> Vec<TestTable> {
        let mut tables = Vec::new();
        for kind in [StoreKind::Sqlite, StoreKind::Dynamodb] {
            let shared = (kind == StoreKind::Dynamodb).then_some("fanorder-menus-store");
            if let Some(table) = testing::table(kind, Clock::system(), &[3; 32], shared)
                .await
                .unwrap()
            {
                tables.push(table);
            }
        }
        tables
    }

    fn now() -> Timestamp {
        "2026-01-05T05:00:00Z".parse().unwrap()
    }

    fn new_category() -> Category {
        Category {
            id: CategoryId::new(),
            name: "Noodles".into(),
            position: 0,
            entries: 0,
            version: 1,
            created_at: now(),
            updated_at: now(),
        }
    }

    fn new_item(category: Option<CategoryId>, stock: Option<i64>) -> MenuItem {
        MenuItem {
            id: ItemId::new(),
            name: "Pad thai".into(),
            description: None,
            price: 12000,
            category_id: category,
            photo_url: None,
            keywords: Default::default(),
            modifier_groups: Vec::new(),
            availability: Vec::new(),
            stock,
            snoozed_until: None,
            position: 0,
            version: 1,
            created_at: now(),
            updated_at: now(),
        }
    }

    fn new_combo(items: &[ItemId]) -> Combo {
        Combo {
            id: ComboId::new(),
            name: "Set".into(),
            description: None,
            price: 100,
            category_id: None,
            components: items
                .iter()
                .map(|id| ComboComponent::Item {
                    item_id: *id,
                    quantity: 1,
                })
                .collect(),
            availability: Vec::new(),
            snoozed_until: None,
            position: 0,
            version: 1,
            created_at: now(),
            updated_at: now(),
        }
    }

    #[tokio::test]
    async fn stock_is_taken_and_returned_inside_transactions_without_touching_the_version() {
        for t in tables().await {
            let table = &t.table;
            let tenant = TenantId::new();
            let counted = new_item(None, Some(2));
            let uncounted = new_item(None, None);
            create_item(table, &tenant, &counted).await.unwrap();
            create_item(table, &tenant, &uncounted).await.unwrap();

            table
                .transact(vec![take_stock(&tenant, &counted.id, 2)])
                .await
                .unwrap();
            let after = item(table, &tenant, &counted.id).await.unwrap().unwrap();
            assert_eq!(after.stock, Some(0));
            assert_eq!(after.version, 1, "stock moves leave the version alone");

            let err = table
                .transact(vec![take_stock(&tenant, &counted.id, 1)])
                .await
                .unwrap_err();
            assert!(
                matches!(err, StoreError::TransactionCanceled { .. }),
                "{err:?}"
            );
            let err = table
                .transact(vec![take_stock(&tenant, &uncounted.id, 1)])
                .await
                .unwrap_err();
            assert!(
                matches!(err, StoreError::TransactionCanceled { .. }),
                "{err:?}"
            );
            let err = table
                .transact(vec![return_stock(&tenant, &uncounted.id, 1)])
                .await
                .unwrap_err();
            assert!(
                matches!(err, StoreError::TransactionCanceled { .. }),
                "{err:?}"
            );
            let missing = ItemId::new();
            assert!(
                table
                    .transact(vec![return_stock(&tenant, &missing, 1)])
                    .await
                    .is_err()
            );
            assert!(
                item(table, &tenant, &missing).await.unwrap().is_none(),
                "no item appeared"
            );

            table
                .transact(vec![return_stock(&tenant, &counted.id, 3)])
                .await
                .unwrap();
            assert_eq!(
                item(table, &tenant, &counted.id)
                    .await
                    .unwrap()
                    .unwrap()
                    .stock,
                Some(3)
            );
            let uncounted_after = item(table, &tenant, &uncounted.id).await.unwrap().unwrap();
            assert_eq!(uncounted_after.stock, None);

            // The kitchen's adjustment says why it refuses.
            let refused = adjust_stock(table, &tenant, &counted.id, -4)
                .await
                .unwrap_err();
            assert_eq!(refused.code(), "insufficient_stock");
            let refused = adjust_stock(table, &tenant, &uncounted.id, 1)
                .await
                .unwrap_err();
            assert_eq!(refused.code(), "stock_not_tracked");
            let refused = adjust_stock(table, &tenant, &missing, 1).await.unwrap_err();
            assert_eq!(refused.code(), "not_found");
            let adjusted = adjust_stock(table, &tenant, &counted.id, -1).await.unwrap();
            assert_eq!(adjusted.stock, Some(2));
        }
    }

    #[tokio::test]
    async fn an_edit_never_undoes_stock_taken_meanwhile() {
        for t in tables().await {
            let table = &t.table;
            let tenant = TenantId::new();
            let before = new_item(None, Some(10));
            create_item(table, &tenant, &before).await.unwrap();
            // An order takes 3 after the admin read the item.
            table
                .transact(vec![take_stock(&tenant, &before.id, 3)])
                .await
                .unwrap();
            let mut after = before.clone();
            after.price = 13000;
            after.description = Some("Now with more peanuts".into());
            after.version = 2;
            let stored = update_item(table, &tenant, &before, &after, false)
                .await
                .unwrap();
            assert_eq!(stored.price, 13000);
            assert_eq!(
                stored.stock,
                Some(7),
                "the edit did not restore the stale 10"
            );
            // Clearing optional fields removes them.
            let mut cleared = stored.clone();
            cleared.description = None;
            cleared.stock = None;
            cleared.version = 3;
            let stored = update_item(table, &tenant, &stored, &cleared, true)
                .await
                .unwrap();
            assert_eq!(stored.description, None);
            assert_eq!(stored.stock, None);
            // A stale version is refused.
            let err = update_item(table, &tenant, &before, &after, false)
                .await
                .unwrap_err();
            assert_eq!(err.code(), "version_conflict");
        }
    }

    #[tokio::test]
    async fn categories_and_items_stay_referenced_while_in_use() {
        for t in tables().await {
            let table = &t.table;
            let tenant = TenantId::new();
            let noodles = new_category();
            let drinks = new_category();
            create_category(table, &tenant, &noodles).await.unwrap();
            create_category(table, &tenant, &drinks).await.unwrap();
            let pad_thai = new_item(Some(noodles.id), None);
            create_item(table, &tenant, &pad_thai).await.unwrap();
            let orphan = new_item(Some(CategoryId::new()), None);
            let err = create_item(table, &tenant, &orphan).await.unwrap_err();
            assert_eq!(err.code(), "validation_failed");
            assert!(item(table, &tenant, &orphan.id).await.unwrap().is_none());

            let err = delete_category(table, &tenant, &noodles.id)
                .await
                .unwrap_err();
            assert_eq!(err.code(), "category_not_empty");
            assert_eq!(
                category(table, &tenant, &noodles.id)
                    .await
                    .unwrap()
                    .unwrap()
                    .entries,
                1
            );

            // Moving the item moves the count.
            let mut moved = pad_thai.clone();
            moved.category_id = Some(drinks.id);
            moved.version = 2;
            let moved = update_item(table, &tenant, &pad_thai, &moved, false)
                .await
                .unwrap();
            delete_category(table, &tenant, &noodles.id).await.unwrap();
            assert_eq!(
                delete_category(table, &tenant, &noodles.id)
                    .await
                    .unwrap_err()
                    .code(),
                "not_found"
            );

            // A combo holds its items.
            let set = new_combo(&[moved.id]);
            create_combo(table, &tenant, &set).await.unwrap();
            let err = delete_item(table, &tenant, &moved).await.unwrap_err();
            assert_eq!(err.code(), "item_in_combo");
            let ghost = ItemId::new();
            match create_combo(table, &tenant, &new_combo(&[moved.id, ghost]))
                .await
                .unwrap_err()
            {
                ApiError::Validation(errors) => {
                    assert_eq!(errors.len(), 1);
                    assert_eq!(errors[0].field, "components[1].item_id");
                }
                other => panic!("{other:?}"),
            }
            assert!(item(table, &tenant, &ghost).await.unwrap().is_none());

            // Swapping the combo to another item releases the first.
            let water = new_item(None, None);
            create_item(table, &tenant, &water).await.unwrap();
            let mut swapped = set.clone();
            swapped.components = new_combo(&[water.id]).components;
            swapped.version = 2;
            update_combo(table, &tenant, &set, &swapped).await.unwrap();
            delete_item(table, &tenant, &moved).await.unwrap();
            assert_eq!(
                delete_category(table, &tenant, &drinks.id)
                    .await
                    .map_err(|e| e.code()),
                Ok(())
            );
            assert_eq!(
                delete_item(table, &tenant, &water)
                    .await
                    .unwrap_err()
                    .code(),
                "item_in_combo"
            );
            delete_combo(table, &tenant, &swapped).await.unwrap();
            delete_item(table, &tenant, &water).await.unwrap();

            let menu = menu(table, &tenant).await.unwrap();
            assert_eq!(menu, Menu::default());
        }
    }

    #[tokio::test]
    async fn the_whole_menu_is_read_across_pages_and_locations_too() {
        for t in tables().await {
            let table = &t.table;
            let tenant = TenantId::new();
            let noodles = new_category();
            create_category(table, &tenant, &noodles).await.unwrap();
            let mut ids = Vec::new();
            for _ in 0..5 {
                let i = new_item(Some(noodles.id), None);
                create_item(table, &tenant, &i).await.unwrap();
                ids.push(i.id);
            }
            create_combo(table, &tenant, &new_combo(&ids[..2]))
                .await
                .unwrap();
            let found = menu(table, &tenant).await.unwrap();
            assert_eq!(found.categories.len(), 1);
            assert_eq!(found.categories[0].entries, 5);
            assert_eq!(found.items.iter().map(|i| i.id).collect::<Vec<_>>(), ids);
            assert_eq!(found.combos.len(), 1);
            // Another tenant sees none of it.
            assert_eq!(
                menu(table, &TenantId::new()).await.unwrap(),
                Menu::default()
            );

            for name in ["Silom", "Sukhumvit"] {
                let location = Location {
                    id: LocationId::new(),
                    name: name.into(),
                    address: "Bangkok".into(),
                    opening_hours: Vec::new(),
                    phone: None,
                    version: 1,
                    created_at: now(),
                    updated_at: now(),
                };
                create_location(table, &tenant, &location).await.unwrap();
            }
            let all = locations(table, &tenant).await.unwrap();
            assert_eq!(
                all.iter().map(|l| l.name.as_str()).collect::<Vec<_>>(),
                ["Silom", "Sukhumvit"]
            );
            let first = list_locations(table, &tenant, None, 1).await.unwrap();
            assert_eq!(first.items.len(), 1);
            let second = list_locations(table, &tenant, first.next_cursor.as_deref(), 1)
                .await
                .unwrap();
            assert_eq!(second.items[0].name, "Sukhumvit");
        }
    }
}
