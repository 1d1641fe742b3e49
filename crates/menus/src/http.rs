//! The menus crate's routes: categories, items (with stock), combos and the published menu
//! under `/v1/menu`, and the restaurant's locations under `/v1/locations`. Admins write; any
//! valid token reads the menu (customers too); staff read locations.

use std::collections::{BTreeMap, HashSet};
use std::fmt::Display;

use axum::extract::{FromRef, Path, Query, State};
use axum::http::StatusCode;
use fanorder_platform::auth::{Admin, AnyRole, Auth, Require, Staff};
use fanorder_platform::error::ProblemSchema;
use fanorder_platform::text::{self, phone};
use fanorder_platform::{ApiError, Clock, Fields, Json, Page, PageParams, TenantId};
use fanorder_store::Table;
use jiff::Timestamp;
use jiff::tz::TimeZone;
use serde::{Deserialize, Deserializer};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::model::{
    self, Category, CategoryId, Combo, ComboComponent, ComboId, GroupId, ItemId, Location,
    LocationId, MAX_CHOICE_ITEMS, MAX_COMBO_ITEMS, MAX_COMPONENTS, MAX_GROUPS, MAX_KEYWORDS,
    MAX_LANGUAGES, MAX_OPTIONS, MAX_WINDOWS, MenuItem, ModifierGroup, ModifierOption, OptionId,
    PublishedMenu, Weekday, Window,
};
use crate::store;

/// The routes, for any application state that holds what they need.
pub fn router<S>() -> OpenApiRouter<S>
where
    S: Clone + Send + Sync + 'static,
    Table: FromRef<S>,
    Auth: FromRef<S>,
    Clock: FromRef<S>,
{
    OpenApiRouter::new()
        .routes(routes!(published_menu))
        .routes(routes!(create_category, list_categories))
        .routes(routes!(get_category, patch_category, delete_category))
        .routes(routes!(create_item, list_items))
        .routes(routes!(get_item, patch_item, delete_item))
        .routes(routes!(adjust_stock))
        .routes(routes!(create_combo, list_combos))
        .routes(routes!(get_combo, patch_combo, delete_combo))
        .routes(routes!(create_location, list_locations))
        .routes(routes!(get_location, patch_location, delete_location))
}

// ---------------------------------------------------------------------------------------------
// Shared request pieces

/// Reads a field that may be absent (leave it), `null` (clear it) or a value (set it).
fn nullable<'de, D, T>(d: D) -> Result<Option<Option<T>>, D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de>,
{
    Option::<T>::deserialize(d).map(Some)
}

/// Checks a field that may be absent (`None`), cleared (`Some(None)`) or set. A failure is
/// recorded in `fields` and reads as absent; callers finish with `fields.finish()`.
fn clearable<T, V, E: Display>(
    fields: &mut Fields,
    field: &str,
    value: Option<Option<V>>,
    parse: impl FnOnce(V) -> Result<T, E>,
) -> Option<Option<T>> {
    match value {
        None => None,
        Some(None) => Some(None),
        Some(Some(value)) => fields.check(field, parse(value)).map(Some),
    }
}

/// Checks a field that may be absent; a failure is recorded and reads as absent.
fn settable<T, V, E: Display>(
    fields: &mut Fields,
    field: &str,
    value: Option<V>,
    parse: impl FnOnce(V) -> Result<T, E>,
) -> Option<T> {
    fields.optional(field, value, parse).flatten()
}

fn require<V>(fields: &mut Fields, field: &str, value: &Option<V>) {
    if value.is_none() {
        fields.fail(field, "is required");
    }
}

fn timestamp(value: &str) -> Result<Timestamp, String> {
    value
        .parse::<Timestamp>()
        .map_err(|_| "must be an RFC 3339 timestamp such as 2026-05-01T18:00:00+07:00".to_owned())
}

fn version_conflict(what: &str) -> ApiError {
    ApiError::conflict(
        "version_conflict",
        format!("the {what} changed since you read it"),
    )
}

fn check_version(expected: Option<i64>, current: i64, what: &str) -> Result<(), ApiError> {
    if expected.is_some_and(|v| v != current) {
        return Err(version_conflict(what));
    }
    Ok(())
}

/// A path id: a malformed one cannot name anything, so it is the same 404 as a missing one.
fn path_id<T: std::str::FromStr>(id: &str, what: &'static str) -> Result<T, ApiError> {
    id.parse().map_err(|_| ApiError::NotFound(what))
}

/// A weekly window as sent.
#[derive(Debug, Deserialize, ToSchema)]
#[schema(example = json!({"days": ["fri", "sat"], "from": "22:00", "to": "02:00"}))]
pub struct WindowRequest {
    /// Days the window starts on: `mon`, `tue`, `wed`, `thu`, `fri`, `sat`, `sun`.
    #[schema(value_type = Vec<String>, required = true)]
    pub days: Option<Vec<String>>,
    /// Start, `HH:MM` (00:00 to 23:59).
    #[schema(value_type = String, required = true, example = "22:00")]
    pub from: Option<String>,
    /// End, `HH:MM`; not after `from` means the window ends the next day; `24:00` is midnight.
    #[schema(value_type = String, required = true, example = "02:00")]
    pub to: Option<String>,
}

fn check_windows(fields: &mut Fields, at: &str, list: Vec<WindowRequest>) -> Vec<Window> {
    if list.len() > MAX_WINDOWS {
        fields.fail(at, format!("at most {MAX_WINDOWS} windows"));
        return Vec::new();
    }
    let mut windows = Vec::with_capacity(list.len());
    for (i, window) in list.into_iter().enumerate() {
        let at = format!("{at}[{i}]");
        let days = match window.days {
            None => {
                fields.fail(&format!("{at}.days"), "is required");
                None
            }
            Some(days) => {
                let parsed: Vec<Option<Weekday>> = days
                    .iter()
                    .enumerate()
                    .map(|(k, day)| fields.check(&format!("{at}.days[{k}]"), day.parse()))
                    .collect();
                parsed.into_iter().collect::<Option<Vec<_>>>()
            }
        };
        let from = fields.required(&format!("{at}.from"), window.from, |v| v.parse());
        let to = fields.required(&format!("{at}.to"), window.to, |v| v.parse());
        let (Some(days), Some(from), Some(to)) = (days, from, to) else {
            continue;
        };
        match Window::new(days, from, to) {
            Ok(window) => windows.push(window),
            Err(err) => fields.fail(&format!("{at}.{}", err.field), err.message),
        }
    }
    windows
}

// ---------------------------------------------------------------------------------------------
// Published menu

/// When to judge availability.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct MenuParams {
    /// The instant to show the menu for (RFC 3339), e.g. to preview the dinner menu; default now.
    #[param(value_type = Option<String>, format = DateTime)]
    pub at: Option<String>,
}

/// The menu a customer can order from now: available items and combos (not snoozed, not sold
/// out, inside their hours in the restaurant's time zone) grouped by category, in display order.
#[utoipa::path(
    get, path = "/v1/menu", tag = "menu", security(("bearer" = [])),
    params(MenuParams),
    responses((status = 200, description = "The published menu", body = PublishedMenu))
)]
async fn published_menu(
    State(table): State<Table>,
    State(clock): State<Clock>,
    caller: Require<AnyRole>,
    Query(params): Query<MenuParams>,
) -> Result<Json<PublishedMenu>, ApiError> {
    let at = match params.at {
        Some(at) => timestamp(&at).map_err(|message| ApiError::invalid("at", message))?,
        None => clock.now(),
    };
    let tenant = fanorder_staff::store::tenant(&table, &caller.tenant)
        .await?
        .ok_or(ApiError::NotFound("tenant"))?;
    let tz = TimeZone::get(&tenant.time_zone).map_err(ApiError::internal)?;
    let menu = store::menu(&table, &caller.tenant).await?;
    Ok(Json(menu.published(tenant.currency, at, &tz)))
}

// ---------------------------------------------------------------------------------------------
// Categories

/// A new category.
#[derive(Debug, Deserialize, ToSchema)]
#[schema(example = json!({"name": "Noodles", "position": 1}))]
pub struct CategoryRequest {
    /// Display name, 1 to 100 characters.
    #[schema(value_type = String, required = true, max_length = 100)]
    pub name: Option<String>,
    /// Display order, 0 to 1000000 (default 0): lower first, then by name.
    #[schema(minimum = 0, maximum = 1000000)]
    pub position: Option<i64>,
}

/// A change to a category.
#[derive(Debug, Deserialize, ToSchema)]
#[schema(example = json!({"name": "Noodles & rice", "position": 2}))]
pub struct CategoryPatch {
    /// New display name.
    #[schema(max_length = 100, pattern = "\\S")]
    pub name: Option<String>,
    /// New display order.
    #[schema(minimum = 0, maximum = 1000000)]
    pub position: Option<i64>,
    /// The version you read; a different current version is 409 `version_conflict`.
    pub version: Option<i64>,
}

/// Adds a category.
#[utoipa::path(
    post, path = "/v1/menu/categories", tag = "menu", security(("bearer" = [])),
    request_body = CategoryRequest,
    responses((status = 201, description = "Added", body = Category))
)]
async fn create_category(
    State(table): State<Table>,
    State(clock): State<Clock>,
    caller: Require<Admin>,
    Json(body): Json<CategoryRequest>,
) -> Result<(StatusCode, Json<Category>), ApiError> {
    let mut fields = Fields::new();
    let name = fields.required("name", body.name, |v| model::name(&v));
    let position = settable(&mut fields, "position", body.position, model::position);
    let Some(name) = name else {
        return Err(fields.into_error());
    };
    fields.finish()?;
    let now = clock.now();
    let category = Category {
        id: CategoryId::new(),
        name,
        position: position.unwrap_or(0),
        entries: 0,
        version: 1,
        created_at: now,
        updated_at: now,
    };
    store::create_category(&table, &caller.tenant, &category).await?;
    Ok((StatusCode::CREATED, Json(category)))
}

/// The categories, in the order they were added.
#[utoipa::path(
    get, path = "/v1/menu/categories", tag = "menu", security(("bearer" = [])),
    params(PageParams),
    responses((status = 200, description = "One page of categories", body = Page<Category>))
)]
async fn list_categories(
    State(table): State<Table>,
    caller: Require<AnyRole>,
    Query(page): Query<PageParams>,
) -> Result<Json<Page<Category>>, ApiError> {
    let limit = page.limit()?;
    Ok(Json(
        store::list_categories(&table, &caller.tenant, page.cursor.as_deref(), limit).await?,
    ))
}

async fn load_category(table: &Table, tenant: &TenantId, id: &str) -> Result<Category, ApiError> {
    store::category(table, tenant, &path_id(id, "category")?)
        .await?
        .ok_or(ApiError::NotFound("category"))
}

/// One category.
#[utoipa::path(
    get, path = "/v1/menu/categories/{id}", tag = "menu", security(("bearer" = [])),
    params(("id" = String, Path, description = "Category id")),
    responses(
        (status = 200, description = "The category", body = Category),
        (status = 404, description = "No such category here", body = ProblemSchema, content_type = "application/problem+json"),
    )
)]
async fn get_category(
    State(table): State<Table>,
    caller: Require<AnyRole>,
    Path(id): Path<String>,
) -> Result<Json<Category>, ApiError> {
    Ok(Json(load_category(&table, &caller.tenant, &id).await?))
}

/// Renames or moves a category.
#[utoipa::path(
    patch, path = "/v1/menu/categories/{id}", tag = "menu", security(("bearer" = [])),
    params(("id" = String, Path, description = "Category id")),
    request_body = CategoryPatch,
    responses(
        (status = 200, description = "The changed category", body = Category),
        (status = 404, description = "No such category here", body = ProblemSchema, content_type = "application/problem+json"),
        (status = 409, description = "Changed meanwhile (`version_conflict`)", body = ProblemSchema, content_type = "application/problem+json"),
    )
)]
async fn patch_category(
    State(table): State<Table>,
    State(clock): State<Clock>,
    caller: Require<Admin>,
    Path(id): Path<String>,
    Json(body): Json<CategoryPatch>,
) -> Result<Json<Category>, ApiError> {
    let mut fields = Fields::new();
    let name = settable(&mut fields, "name", body.name, |v| model::name(&v));
    let position = settable(&mut fields, "position", body.position, model::position);
    fields.finish()?;
    let before = load_category(&table, &caller.tenant, &id).await?;
    check_version(body.version, before.version, "category")?;
    let after = Category {
        name: name.unwrap_or_else(|| before.name.clone()),
        position: position.unwrap_or(before.position),
        version: before.version + 1,
        updated_at: clock.now(),
        ..before.clone()
    };
    Ok(Json(
        store::update_category(&table, &caller.tenant, &after, before.version).await?,
    ))
}

/// Deletes a category. Refused with 409 `category_not_empty` while items or combos are in it:
/// move or delete them first.
#[utoipa::path(
    delete, path = "/v1/menu/categories/{id}", tag = "menu", security(("bearer" = [])),
    params(("id" = String, Path, description = "Category id")),
    responses(
        (status = 204, description = "Deleted"),
        (status = 404, description = "No such category here", body = ProblemSchema, content_type = "application/problem+json"),
        (status = 409, description = "Items or combos are still in it (`category_not_empty`)", body = ProblemSchema, content_type = "application/problem+json"),
    )
)]
async fn delete_category(
    State(table): State<Table>,
    caller: Require<Admin>,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    store::delete_category(&table, &caller.tenant, &path_id(&id, "category")?).await?;
    Ok(StatusCode::NO_CONTENT)
}

// ---------------------------------------------------------------------------------------------
// Items

/// An option of a modifier group as sent.
#[derive(Debug, Deserialize, ToSchema)]
#[schema(example = json!({"name": "Large", "price_delta": 2000}))]
pub struct OptionRequest {
    /// Keep an existing option's id (send it back on edits); absent gets a new id.
    #[schema(value_type = Option<String>)]
    pub id: Option<String>,
    /// Display name, 1 to 100 characters.
    #[schema(value_type = String, required = true)]
    pub name: Option<String>,
    /// Added to the price when chosen, minor units, 0 or more (default 0).
    #[schema(minimum = 0)]
    pub price_delta: Option<i64>,
}

/// A modifier group as sent.
#[derive(Debug, Deserialize, ToSchema)]
#[schema(example = json!({"name": "Size", "min": 1, "max": 1, "options": [{"name": "Regular", "price_delta": 0}, {"name": "Large", "price_delta": 2000}]}))]
pub struct GroupRequest {
    /// Keep an existing group's id; absent gets a new id.
    #[schema(value_type = Option<String>)]
    pub id: Option<String>,
    /// Display name, 1 to 100 characters.
    #[schema(value_type = String, required = true)]
    pub name: Option<String>,
    /// The fewest options to choose; `0 <= min <= max`.
    #[schema(value_type = u32, required = true)]
    pub min: Option<i64>,
    /// The most options to choose; `1 <= max <= options`.
    #[schema(value_type = u32, required = true)]
    pub max: Option<i64>,
    /// 1 to 50 options; option ids are unique within the item.
    #[schema(value_type = Vec<OptionRequest>, required = true)]
    pub options: Option<Vec<OptionRequest>>,
}

fn check_groups(fields: &mut Fields, list: Vec<GroupRequest>) -> Vec<ModifierGroup> {
    if list.len() > MAX_GROUPS {
        fields.fail(
            "modifier_groups",
            format!("at most {MAX_GROUPS} modifier groups"),
        );
        return Vec::new();
    }
    let mut group_ids: HashSet<GroupId> = HashSet::new();
    let mut option_ids: HashSet<OptionId> = HashSet::new();
    let mut groups = Vec::with_capacity(list.len());
    for (i, group) in list.into_iter().enumerate() {
        let at = format!("modifier_groups[{i}]");
        let field = |name: &str| format!("{at}.{name}");
        let id = match settable(fields, &field("id"), group.id, |v| v.parse::<GroupId>()) {
            Some(id) if !group_ids.insert(id) => {
                fields.fail(&field("id"), "is used by another group of this item");
                id
            }
            Some(id) => id,
            None => GroupId::new(),
        };
        let name = fields.required(&field("name"), group.name, |v| model::name(&v));
        let min = fields.required(&field("min"), group.min, model::choice_count);
        let max = fields.required(&field("max"), group.max, model::choice_count);
        let mut options = Vec::new();
        match group.options {
            None => fields.fail(&field("options"), "is required"),
            Some(list) if list.is_empty() || list.len() > MAX_OPTIONS => fields.fail(
                &field("options"),
                format!("must list 1 to {MAX_OPTIONS} options"),
            ),
            Some(list) => {
                for (j, option) in list.into_iter().enumerate() {
                    let at = format!("{at}.options[{j}]");
                    let id_field = format!("{at}.id");
                    let id = match settable(fields, &id_field, option.id, |v| v.parse::<OptionId>())
                    {
                        Some(id) if !option_ids.insert(id) => {
                            fields.fail(&id_field, "is used by another option of this item");
                            id
                        }
                        Some(id) => id,
                        None => OptionId::new(),
                    };
                    let name =
                        fields.required(&format!("{at}.name"), option.name, |v| model::name(&v));
                    let delta = settable(
                        fields,
                        &format!("{at}.price_delta"),
                        option.price_delta,
                        model::price,
                    );
                    options.push(ModifierOption {
                        id,
                        name: name.unwrap_or_default(),
                        price_delta: delta.unwrap_or(0),
                    });
                }
            }
        }
        let (Some(min), Some(max)) = (min, max) else {
            continue;
        };
        if max == 0 {
            fields.fail(&field("max"), "must be at least 1");
        } else if usize::try_from(max).unwrap_or(usize::MAX) > options.len() && !options.is_empty()
        {
            fields.fail(
                &field("max"),
                format!("must be at most the number of options ({})", options.len()),
            );
        }
        if min > max {
            fields.fail(&field("min"), format!("must be at most max ({max})"));
        }
        groups.push(ModifierGroup {
            id,
            name: name.unwrap_or_default(),
            min,
            max,
            options,
        });
    }
    groups
}

fn check_keywords(
    fields: &mut Fields,
    map: BTreeMap<String, Vec<String>>,
) -> BTreeMap<String, Vec<String>> {
    if map.len() > MAX_LANGUAGES {
        fields.fail("keywords", format!("at most {MAX_LANGUAGES} languages"));
        return BTreeMap::new();
    }
    let mut keywords = BTreeMap::new();
    for (language, words) in map {
        let at = format!("keywords.{language}");
        let Some(language) = fields.check(&at, model::language(&language)) else {
            continue;
        };
        if words.len() > MAX_KEYWORDS {
            fields.fail(&at, format!("at most {MAX_KEYWORDS} keywords per language"));
            continue;
        }
        let mut kept: Vec<String> = Vec::with_capacity(words.len());
        for (k, word) in words.iter().enumerate() {
            if let Some(word) = fields.check(&format!("{at}[{k}]"), model::keyword(word))
                && !kept.contains(&word)
            {
                kept.push(word);
            }
        }
        keywords.insert(language, kept);
    }
    keywords
}

/// A new menu item.
#[derive(Debug, Deserialize, ToSchema)]
#[schema(example = json!({
    "name": "Pad thai", "description": "Rice noodles, egg, tofu, peanuts", "price": 12000,
    "photo_url": "https://example.com/pad-thai.jpg",
    "keywords": {"en": ["pad thai"], "th": ["ผัดไทย"], "es": ["fideos"]},
    "modifier_groups": [
        {"name": "Size", "min": 1, "max": 1, "options": [{"name": "Regular", "price_delta": 0}, {"name": "Large", "price_delta": 2000}]},
        {"name": "Extras", "min": 0, "max": 3, "options": [{"name": "Shrimp", "price_delta": 3000}, {"name": "Egg", "price_delta": 1000}]}
    ],
    "availability": [{"days": ["mon", "tue", "wed", "thu", "fri", "sat", "sun"], "from": "11:00", "to": "22:00"}],
    "position": 1
}))]
pub struct ItemRequest {
    /// Display name, 1 to 100 characters.
    #[schema(value_type = String, required = true, max_length = 100)]
    pub name: Option<String>,
    /// Longer text, up to 1000 characters.
    #[schema(max_length = 1000, pattern = "\\S")]
    pub description: Option<String>,
    /// Price in minor units of the restaurant's currency, 0 or more.
    #[schema(value_type = i64, required = true, minimum = 0)]
    pub price: Option<i64>,
    /// The category to list it in.
    pub category_id: Option<String>,
    /// An https URL of its photo.
    pub photo_url: Option<String>,
    /// Words and phrases per language (`en`, `th`, `pt-BR`...) for the bot's free-text matching.
    pub keywords: Option<BTreeMap<String, Vec<String>>>,
    /// Choices to make (size, extras).
    pub modifier_groups: Option<Vec<GroupRequest>>,
    /// When it can be ordered, in the restaurant's time zone; empty or absent means always.
    pub availability: Option<Vec<WindowRequest>>,
    /// How many are left, 0 or more; absent means stock is not counted.
    #[schema(minimum = 0)]
    pub stock: Option<i64>,
    /// Hide it from the menu until this instant (RFC 3339).
    #[schema(format = DateTime)]
    pub snoozed_until: Option<String>,
    /// Display order within its category (default 0).
    #[schema(minimum = 0, maximum = 1000000)]
    pub position: Option<i64>,
}

/// A change to a menu item: only the fields sent change; `null` clears an optional one.
/// `modifier_groups`, `availability` and `keywords` replace the whole list; send groups and
/// options back with their ids to keep them.
#[derive(Debug, Deserialize, ToSchema)]
#[schema(example = json!({"price": 13000, "snoozed_until": null, "stock": 20}))]
pub struct ItemPatch {
    /// New display name.
    #[schema(max_length = 100, pattern = "\\S")]
    pub name: Option<String>,
    /// New description; `null` removes it.
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<String>, max_length = 1000, pattern = "\\S")]
    pub description: Option<Option<String>>,
    /// New price.
    #[schema(minimum = 0)]
    pub price: Option<i64>,
    /// New category; `null` takes it out of its category.
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<String>)]
    pub category_id: Option<Option<String>>,
    /// New photo (https); `null` removes it.
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<String>)]
    pub photo_url: Option<Option<String>>,
    /// New keywords (all languages).
    pub keywords: Option<BTreeMap<String, Vec<String>>>,
    /// New modifier groups (the whole list).
    pub modifier_groups: Option<Vec<GroupRequest>>,
    /// New availability windows (the whole list).
    pub availability: Option<Vec<WindowRequest>>,
    /// Set the stock; `null` stops counting it.
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<i64>, minimum = 0)]
    pub stock: Option<Option<i64>>,
    /// Snooze until this instant; `null` unsnoozes.
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<String>, format = DateTime)]
    pub snoozed_until: Option<Option<String>>,
    /// New display order.
    #[schema(minimum = 0, maximum = 1000000)]
    pub position: Option<i64>,
    /// The version you read; a different current version is 409 `version_conflict`.
    pub version: Option<i64>,
}

impl From<ItemRequest> for ItemPatch {
    fn from(body: ItemRequest) -> Self {
        Self {
            name: body.name,
            description: body.description.map(Some),
            price: body.price,
            category_id: body.category_id.map(Some),
            photo_url: body.photo_url.map(Some),
            keywords: body.keywords,
            modifier_groups: body.modifier_groups,
            availability: body.availability,
            stock: body.stock.map(Some),
            snoozed_until: body.snoozed_until.map(Some),
            position: body.position,
            version: None,
        }
    }
}

/// An item edit, checked: `None` leaves a field as it is.
struct ItemChanges {
    name: Option<String>,
    description: Option<Option<String>>,
    price: Option<i64>,
    category_id: Option<Option<CategoryId>>,
    photo_url: Option<Option<String>>,
    keywords: Option<BTreeMap<String, Vec<String>>>,
    modifier_groups: Option<Vec<ModifierGroup>>,
    availability: Option<Vec<Window>>,
    stock: Option<Option<i64>>,
    snoozed_until: Option<Option<Timestamp>>,
    position: Option<u32>,
}

impl ItemChanges {
    fn check(fields: &mut Fields, body: ItemPatch) -> Self {
        Self {
            name: settable(fields, "name", body.name, |v| model::name(&v)),
            description: clearable(fields, "description", body.description, |v| {
                model::description(&v)
            }),
            price: settable(fields, "price", body.price, model::price),
            category_id: clearable(fields, "category_id", body.category_id, |v| {
                v.parse::<CategoryId>()
                    .map_err(|_| "no such category".to_owned())
            }),
            photo_url: clearable(fields, "photo_url", body.photo_url, |v| {
                model::photo_url(&v)
            }),
            keywords: body.keywords.map(|k| check_keywords(fields, k)),
            modifier_groups: body.modifier_groups.map(|g| check_groups(fields, g)),
            availability: body
                .availability
                .map(|w| check_windows(fields, "availability", w)),
            stock: clearable(fields, "stock", body.stock, model::stock),
            snoozed_until: clearable(fields, "snoozed_until", body.snoozed_until, |v| {
                timestamp(&v)
            }),
            position: settable(fields, "position", body.position, model::position),
        }
    }

    fn apply(self, item: &mut MenuItem) {
        if let Some(name) = self.name {
            item.name = name;
        }
        if let Some(description) = self.description {
            item.description = description;
        }
        if let Some(price) = self.price {
            item.price = price;
        }
        if let Some(category_id) = self.category_id {
            item.category_id = category_id;
        }
        if let Some(photo_url) = self.photo_url {
            item.photo_url = photo_url;
        }
        if let Some(keywords) = self.keywords {
            item.keywords = keywords;
        }
        if let Some(groups) = self.modifier_groups {
            item.modifier_groups = groups;
        }
        if let Some(availability) = self.availability {
            item.availability = availability;
        }
        if let Some(stock) = self.stock {
            item.stock = stock;
        }
        if let Some(snoozed_until) = self.snoozed_until {
            item.snoozed_until = snoozed_until;
        }
        if let Some(position) = self.position {
            item.position = position;
        }
    }
}

/// Adds a menu item. Modifier groups and options get ids.
#[utoipa::path(
    post, path = "/v1/menu/items", tag = "menu", security(("bearer" = [])),
    request_body = ItemRequest,
    responses((status = 201, description = "Added", body = MenuItem))
)]
async fn create_item(
    State(table): State<Table>,
    State(clock): State<Clock>,
    caller: Require<Admin>,
    Json(body): Json<ItemRequest>,
) -> Result<(StatusCode, Json<MenuItem>), ApiError> {
    let mut fields = Fields::new();
    require(&mut fields, "name", &body.name);
    require(&mut fields, "price", &body.price);
    let changes = ItemChanges::check(&mut fields, body.into());
    fields.finish()?;
    let now = clock.now();
    let mut item = MenuItem {
        id: ItemId::new(),
        name: String::new(),
        description: None,
        price: 0,
        category_id: None,
        photo_url: None,
        keywords: BTreeMap::new(),
        modifier_groups: Vec::new(),
        availability: Vec::new(),
        stock: None,
        snoozed_until: None,
        position: 0,
        version: 1,
        created_at: now,
        updated_at: now,
    };
    changes.apply(&mut item);
    store::create_item(&table, &caller.tenant, &item).await?;
    Ok((StatusCode::CREATED, Json(item)))
}

/// The menu items, in the order they were added (for the admin screen; the customer menu is
/// `GET /v1/menu`).
#[utoipa::path(
    get, path = "/v1/menu/items", tag = "menu", security(("bearer" = [])),
    params(PageParams),
    responses((status = 200, description = "One page of items", body = Page<MenuItem>))
)]
async fn list_items(
    State(table): State<Table>,
    caller: Require<AnyRole>,
    Query(page): Query<PageParams>,
) -> Result<Json<Page<MenuItem>>, ApiError> {
    let limit = page.limit()?;
    Ok(Json(
        store::list_items(&table, &caller.tenant, page.cursor.as_deref(), limit).await?,
    ))
}

async fn load_item(table: &Table, tenant: &TenantId, id: &str) -> Result<MenuItem, ApiError> {
    store::item(table, tenant, &path_id(id, "menu item")?)
        .await?
        .ok_or(ApiError::NotFound("menu item"))
}

/// One menu item.
#[utoipa::path(
    get, path = "/v1/menu/items/{id}", tag = "menu", security(("bearer" = [])),
    params(("id" = String, Path, description = "Item id")),
    responses(
        (status = 200, description = "The item", body = MenuItem),
        (status = 404, description = "No such item here", body = ProblemSchema, content_type = "application/problem+json"),
    )
)]
async fn get_item(
    State(table): State<Table>,
    caller: Require<AnyRole>,
    Path(id): Path<String>,
) -> Result<Json<MenuItem>, ApiError> {
    Ok(Json(load_item(&table, &caller.tenant, &id).await?))
}

/// Changes a menu item: price, modifiers, hours, stock, snooze... Only the fields sent change.
#[utoipa::path(
    patch, path = "/v1/menu/items/{id}", tag = "menu", security(("bearer" = [])),
    params(("id" = String, Path, description = "Item id")),
    request_body = ItemPatch,
    responses(
        (status = 200, description = "The changed item", body = MenuItem),
        (status = 404, description = "No such item here", body = ProblemSchema, content_type = "application/problem+json"),
        (status = 409, description = "Changed meanwhile (`version_conflict`)", body = ProblemSchema, content_type = "application/problem+json"),
    )
)]
async fn patch_item(
    State(table): State<Table>,
    State(clock): State<Clock>,
    caller: Require<Admin>,
    Path(id): Path<String>,
    Json(body): Json<ItemPatch>,
) -> Result<Json<MenuItem>, ApiError> {
    let expected = body.version;
    let mut fields = Fields::new();
    let changes = ItemChanges::check(&mut fields, body);
    fields.finish()?;
    let before = load_item(&table, &caller.tenant, &id).await?;
    check_version(expected, before.version, "menu item")?;
    let set_stock = changes.stock.is_some();
    let mut after = before.clone();
    changes.apply(&mut after);
    after.version = before.version + 1;
    after.updated_at = clock.now();
    Ok(Json(
        store::update_item(&table, &caller.tenant, &before, &after, set_stock).await?,
    ))
}

/// Deletes a menu item. Refused with 409 `item_in_combo` while a combo uses it.
#[utoipa::path(
    delete, path = "/v1/menu/items/{id}", tag = "menu", security(("bearer" = [])),
    params(("id" = String, Path, description = "Item id")),
    responses(
        (status = 204, description = "Deleted"),
        (status = 404, description = "No such item here", body = ProblemSchema, content_type = "application/problem+json"),
        (status = 409, description = "A combo uses it (`item_in_combo`), or it changed meanwhile (`version_conflict`)", body = ProblemSchema, content_type = "application/problem+json"),
    )
)]
async fn delete_item(
    State(table): State<Table>,
    caller: Require<Admin>,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    let item = load_item(&table, &caller.tenant, &id).await?;
    store::delete_item(&table, &caller.tenant, &item).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// A stock movement.
#[derive(Debug, Deserialize, ToSchema)]
#[schema(example = json!({"delta": -1}))]
pub struct StockRequest {
    /// Added to the stock: negative takes (never below zero), positive restocks; -1000000 to
    /// 1000000, not 0.
    #[schema(value_type = i64, required = true, minimum = -1000000, maximum = 1000000)]
    pub delta: Option<i64>,
}

/// Moves a counted item's stock atomically (the kitchen screen: "3 more", "one spoiled").
/// Never goes below zero. The item's `version` does not change.
#[utoipa::path(
    post, path = "/v1/menu/items/{id}/stock", tag = "menu", security(("bearer" = [])),
    params(("id" = String, Path, description = "Item id")),
    request_body = StockRequest,
    responses(
        (status = 200, description = "The item with its new stock", body = MenuItem),
        (status = 404, description = "No such item here", body = ProblemSchema, content_type = "application/problem+json"),
        (status = 409, description = "Too few left (`insufficient_stock`) or stock not counted (`stock_not_tracked`)", body = ProblemSchema, content_type = "application/problem+json"),
    )
)]
async fn adjust_stock(
    State(table): State<Table>,
    caller: Require<Staff>,
    Path(id): Path<String>,
    Json(body): Json<StockRequest>,
) -> Result<Json<MenuItem>, ApiError> {
    let mut fields = Fields::new();
    let delta = fields.required("delta", body.delta, |d| {
        if d != 0 && d.abs() <= 1_000_000 {
            Ok(d)
        } else {
            Err("must be from -1000000 to 1000000 and not 0")
        }
    });
    let Some(delta) = delta else {
        return Err(fields.into_error());
    };
    let id = path_id(&id, "menu item")?;
    Ok(Json(
        store::adjust_stock(&table, &caller.tenant, &id, delta).await?,
    ))
}

// ---------------------------------------------------------------------------------------------
// Combos

/// A combo component as sent: `{"kind": "item", "item_id", "quantity"}` or
/// `{"kind": "choice", "name", "item_ids", "quantity"}`.
#[derive(Debug, Deserialize, ToSchema)]
#[schema(example = json!({"kind": "choice", "name": "Drink", "item_ids": ["01J8Z3K4M5N6P7Q8R9S0T1V2W4", "01J8Z3K4M5N6P7Q8R9S0T1V2W5"], "quantity": 1}))]
pub struct ComponentRequest {
    /// `item` (always this item) or `choice` (the customer picks one of `item_ids`).
    #[schema(value_type = String, required = true, example = "item")]
    pub kind: Option<String>,
    /// For `item`: the item.
    pub item_id: Option<String>,
    /// For `choice`: what the choice is called, e.g. `Drink`.
    pub name: Option<String>,
    /// For `choice`: 1 to 20 items to pick from.
    pub item_ids: Option<Vec<String>>,
    /// How many per combo, 1 to 99 (default 1).
    #[schema(minimum = 1, maximum = 99)]
    pub quantity: Option<i64>,
}

fn check_components(fields: &mut Fields, list: Vec<ComponentRequest>) -> Vec<ComboComponent> {
    if list.is_empty() || list.len() > MAX_COMPONENTS {
        fields.fail(
            "components",
            format!("must list 1 to {MAX_COMPONENTS} components"),
        );
        return Vec::new();
    }
    let mut components = Vec::with_capacity(list.len());
    for (i, component) in list.into_iter().enumerate() {
        let at = format!("components[{i}]");
        let field = |name: &str| format!("{at}.{name}");
        let quantity = settable(
            fields,
            &field("quantity"),
            component.quantity,
            model::quantity,
        )
        .unwrap_or(1);
        match component.kind.as_deref() {
            Some("item") => {
                let item_id = fields.required(&field("item_id"), component.item_id, |v| {
                    v.parse::<ItemId>().map_err(|_| "no such item")
                });
                if let Some(item_id) = item_id {
                    components.push(ComboComponent::Item { item_id, quantity });
                }
            }
            Some("choice") => {
                let name = fields.required(&field("name"), component.name, |v| model::name(&v));
                let mut item_ids = Vec::new();
                match component.item_ids {
                    None => fields.fail(&field("item_ids"), "is required"),
                    Some(list) if list.is_empty() || list.len() > MAX_CHOICE_ITEMS => fields.fail(
                        &field("item_ids"),
                        format!("must list 1 to {MAX_CHOICE_ITEMS} items"),
                    ),
                    Some(list) => {
                        for (k, id) in list.iter().enumerate() {
                            let at = format!("{at}.item_ids[{k}]");
                            match id.parse::<ItemId>() {
                                Err(_) => fields.fail(&at, "no such item"),
                                Ok(id) if item_ids.contains(&id) => {
                                    fields.fail(&at, "is listed twice")
                                }
                                Ok(id) => item_ids.push(id),
                            }
                        }
                    }
                }
                if let Some(name) = name {
                    components.push(ComboComponent::Choice {
                        name,
                        item_ids,
                        quantity,
                    });
                }
            }
            Some(_) => fields.fail(&field("kind"), "must be item or choice"),
            None => fields.fail(&field("kind"), "is required"),
        }
    }
    let distinct: HashSet<ItemId> = components
        .iter()
        .flat_map(|c| match c {
            ComboComponent::Item { item_id, .. } => vec![*item_id],
            ComboComponent::Choice { item_ids, .. } => item_ids.clone(),
        })
        .collect();
    if distinct.len() > MAX_COMBO_ITEMS {
        fields.fail(
            "components",
            format!("a combo may use at most {MAX_COMBO_ITEMS} different items"),
        );
    }
    components
}

/// A new combo.
#[derive(Debug, Deserialize, ToSchema)]
#[schema(example = json!({
    "name": "Lunch set", "price": 15900,
    "components": [
        {"kind": "item", "item_id": "01J8Z3K4M5N6P7Q8R9S0T1V2W3", "quantity": 1},
        {"kind": "choice", "name": "Drink", "item_ids": ["01J8Z3K4M5N6P7Q8R9S0T1V2W4", "01J8Z3K4M5N6P7Q8R9S0T1V2W5"], "quantity": 1}
    ],
    "availability": [{"days": ["mon", "tue", "wed", "thu", "fri"], "from": "11:00", "to": "14:30"}]
}))]
pub struct ComboRequest {
    /// Display name, 1 to 100 characters.
    #[schema(value_type = String, required = true, max_length = 100)]
    pub name: Option<String>,
    /// Longer text, up to 1000 characters.
    #[schema(max_length = 1000, pattern = "\\S")]
    pub description: Option<String>,
    /// The combo's price in minor units, 0 or more.
    #[schema(value_type = i64, required = true, minimum = 0)]
    pub price: Option<i64>,
    /// The category to list it in.
    pub category_id: Option<String>,
    /// 1 to 10 components; every item must exist in this restaurant.
    #[schema(value_type = Vec<ComponentRequest>, required = true)]
    pub components: Option<Vec<ComponentRequest>>,
    /// When it can be ordered; empty or absent means always.
    pub availability: Option<Vec<WindowRequest>>,
    /// Hide it until this instant (RFC 3339).
    #[schema(format = DateTime)]
    pub snoozed_until: Option<String>,
    /// Display order within its category (default 0).
    #[schema(minimum = 0, maximum = 1000000)]
    pub position: Option<i64>,
}

/// A change to a combo: only the fields sent change; `null` clears an optional one;
/// `components` and `availability` replace the whole list.
#[derive(Debug, Deserialize, ToSchema)]
#[schema(example = json!({"price": 14900, "snoozed_until": null}))]
pub struct ComboPatch {
    /// New display name.
    #[schema(max_length = 100, pattern = "\\S")]
    pub name: Option<String>,
    /// New description; `null` removes it.
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<String>, max_length = 1000, pattern = "\\S")]
    pub description: Option<Option<String>>,
    /// New price.
    #[schema(minimum = 0)]
    pub price: Option<i64>,
    /// New category; `null` takes it out of its category.
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<String>)]
    pub category_id: Option<Option<String>>,
    /// New components (the whole list).
    pub components: Option<Vec<ComponentRequest>>,
    /// New availability windows (the whole list).
    pub availability: Option<Vec<WindowRequest>>,
    /// Snooze until this instant; `null` unsnoozes.
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<String>, format = DateTime)]
    pub snoozed_until: Option<Option<String>>,
    /// New display order.
    #[schema(minimum = 0, maximum = 1000000)]
    pub position: Option<i64>,
    /// The version you read; a different current version is 409 `version_conflict`.
    pub version: Option<i64>,
}

impl From<ComboRequest> for ComboPatch {
    fn from(body: ComboRequest) -> Self {
        Self {
            name: body.name,
            description: body.description.map(Some),
            price: body.price,
            category_id: body.category_id.map(Some),
            components: body.components,
            availability: body.availability,
            snoozed_until: body.snoozed_until.map(Some),
            position: body.position,
            version: None,
        }
    }
}

/// A combo edit, checked: `None` leaves a field as it is.
struct ComboChanges {
    name: Option<String>,
    description: Option<Option<String>>,
    price: Option<i64>,
    category_id: Option<Option<CategoryId>>,
    components: Option<Vec<ComboComponent>>,
    availability: Option<Vec<Window>>,
    snoozed_until: Option<Option<Timestamp>>,
    position: Option<u32>,
}

impl ComboChanges {
    fn check(fields: &mut Fields, body: ComboPatch) -> Self {
        Self {
            name: settable(fields, "name", body.name, |v| model::name(&v)),
            description: clearable(fields, "description", body.description, |v| {
                model::description(&v)
            }),
            price: settable(fields, "price", body.price, model::price),
            category_id: clearable(fields, "category_id", body.category_id, |v| {
                v.parse::<CategoryId>()
                    .map_err(|_| "no such category".to_owned())
            }),
            components: body.components.map(|c| check_components(fields, c)),
            availability: body
                .availability
                .map(|w| check_windows(fields, "availability", w)),
            snoozed_until: clearable(fields, "snoozed_until", body.snoozed_until, |v| {
                timestamp(&v)
            }),
            position: settable(fields, "position", body.position, model::position),
        }
    }

    fn apply(self, combo: &mut Combo) {
        if let Some(name) = self.name {
            combo.name = name;
        }
        if let Some(description) = self.description {
            combo.description = description;
        }
        if let Some(price) = self.price {
            combo.price = price;
        }
        if let Some(category_id) = self.category_id {
            combo.category_id = category_id;
        }
        if let Some(components) = self.components {
            combo.components = components;
        }
        if let Some(availability) = self.availability {
            combo.availability = availability;
        }
        if let Some(snoozed_until) = self.snoozed_until {
            combo.snoozed_until = snoozed_until;
        }
        if let Some(position) = self.position {
            combo.position = position;
        }
    }
}

/// Adds a combo. Every item it names must exist in this restaurant (422 naming the component).
#[utoipa::path(
    post, path = "/v1/menu/combos", tag = "menu", security(("bearer" = [])),
    request_body = ComboRequest,
    responses((status = 201, description = "Added", body = Combo))
)]
async fn create_combo(
    State(table): State<Table>,
    State(clock): State<Clock>,
    caller: Require<Admin>,
    Json(body): Json<ComboRequest>,
) -> Result<(StatusCode, Json<Combo>), ApiError> {
    let mut fields = Fields::new();
    require(&mut fields, "name", &body.name);
    require(&mut fields, "price", &body.price);
    require(&mut fields, "components", &body.components);
    let changes = ComboChanges::check(&mut fields, body.into());
    fields.finish()?;
    let now = clock.now();
    let mut combo = Combo {
        id: ComboId::new(),
        name: String::new(),
        description: None,
        price: 0,
        category_id: None,
        components: Vec::new(),
        availability: Vec::new(),
        snoozed_until: None,
        position: 0,
        version: 1,
        created_at: now,
        updated_at: now,
    };
    changes.apply(&mut combo);
    store::create_combo(&table, &caller.tenant, &combo).await?;
    Ok((StatusCode::CREATED, Json(combo)))
}

/// The combos, in the order they were added.
#[utoipa::path(
    get, path = "/v1/menu/combos", tag = "menu", security(("bearer" = [])),
    params(PageParams),
    responses((status = 200, description = "One page of combos", body = Page<Combo>))
)]
async fn list_combos(
    State(table): State<Table>,
    caller: Require<AnyRole>,
    Query(page): Query<PageParams>,
) -> Result<Json<Page<Combo>>, ApiError> {
    let limit = page.limit()?;
    Ok(Json(
        store::list_combos(&table, &caller.tenant, page.cursor.as_deref(), limit).await?,
    ))
}

async fn load_combo(table: &Table, tenant: &TenantId, id: &str) -> Result<Combo, ApiError> {
    store::combo(table, tenant, &path_id(id, "combo")?)
        .await?
        .ok_or(ApiError::NotFound("combo"))
}

/// One combo.
#[utoipa::path(
    get, path = "/v1/menu/combos/{id}", tag = "menu", security(("bearer" = [])),
    params(("id" = String, Path, description = "Combo id")),
    responses(
        (status = 200, description = "The combo", body = Combo),
        (status = 404, description = "No such combo here", body = ProblemSchema, content_type = "application/problem+json"),
    )
)]
async fn get_combo(
    State(table): State<Table>,
    caller: Require<AnyRole>,
    Path(id): Path<String>,
) -> Result<Json<Combo>, ApiError> {
    Ok(Json(load_combo(&table, &caller.tenant, &id).await?))
}

/// Changes a combo. Only the fields sent change.
#[utoipa::path(
    patch, path = "/v1/menu/combos/{id}", tag = "menu", security(("bearer" = [])),
    params(("id" = String, Path, description = "Combo id")),
    request_body = ComboPatch,
    responses(
        (status = 200, description = "The changed combo", body = Combo),
        (status = 404, description = "No such combo here", body = ProblemSchema, content_type = "application/problem+json"),
        (status = 409, description = "Changed meanwhile (`version_conflict`)", body = ProblemSchema, content_type = "application/problem+json"),
    )
)]
async fn patch_combo(
    State(table): State<Table>,
    State(clock): State<Clock>,
    caller: Require<Admin>,
    Path(id): Path<String>,
    Json(body): Json<ComboPatch>,
) -> Result<Json<Combo>, ApiError> {
    let expected = body.version;
    let mut fields = Fields::new();
    let changes = ComboChanges::check(&mut fields, body);
    fields.finish()?;
    let before = load_combo(&table, &caller.tenant, &id).await?;
    check_version(expected, before.version, "combo")?;
    let mut after = before.clone();
    changes.apply(&mut after);
    after.version = before.version + 1;
    after.updated_at = clock.now();
    store::update_combo(&table, &caller.tenant, &before, &after).await?;
    Ok(Json(after))
}

/// Deletes a combo (its items stay).
#[utoipa::path(
    delete, path = "/v1/menu/combos/{id}", tag = "menu", security(("bearer" = [])),
    params(("id" = String, Path, description = "Combo id")),
    responses(
        (status = 204, description = "Deleted"),
        (status = 404, description = "No such combo here", body = ProblemSchema, content_type = "application/problem+json"),
        (status = 409, description = "Changed meanwhile (`version_conflict`)", body = ProblemSchema, content_type = "application/problem+json"),
    )
)]
async fn delete_combo(
    State(table): State<Table>,
    caller: Require<Admin>,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    let combo = load_combo(&table, &caller.tenant, &id).await?;
    store::delete_combo(&table, &caller.tenant, &combo).await?;
    Ok(StatusCode::NO_CONTENT)
}

// ---------------------------------------------------------------------------------------------
// Locations

fn address(value: &str) -> Result<String, String> {
    text::text(value, 300)
}

/// A new location.
#[derive(Debug, Deserialize, ToSchema)]
#[schema(example = json!({
    "name": "Silom", "address": "123 Silom Rd, Bang Rak, Bangkok 10500", "phone": "+66 2 123 4567",
    "opening_hours": [{"days": ["mon", "tue", "wed", "thu", "fri", "sat", "sun"], "from": "10:00", "to": "22:00"}]
}))]
pub struct LocationRequest {
    /// Display name, 1 to 100 characters.
    #[schema(value_type = String, required = true, max_length = 100)]
    pub name: Option<String>,
    /// Street address, 1 to 300 characters.
    #[schema(value_type = String, required = true, max_length = 300)]
    pub address: Option<String>,
    /// When it is open, in the restaurant's time zone; empty or absent means always.
    pub opening_hours: Option<Vec<WindowRequest>>,
    /// Phone number.
    pub phone: Option<String>,
}

/// A change to a location: only the fields sent change.
#[derive(Debug, Deserialize, ToSchema)]
#[schema(example = json!({"phone": "+66 2 765 4321"}))]
pub struct LocationPatch {
    /// New display name.
    #[schema(max_length = 100, pattern = "\\S")]
    pub name: Option<String>,
    /// New address.
    #[schema(max_length = 300, pattern = "\\S")]
    pub address: Option<String>,
    /// New opening hours (the whole list).
    pub opening_hours: Option<Vec<WindowRequest>>,
    /// New phone; `null` removes it.
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<String>)]
    pub phone: Option<Option<String>>,
    /// The version you read; a different current version is 409 `version_conflict`.
    pub version: Option<i64>,
}

/// A location edit, checked.
struct LocationChanges {
    name: Option<String>,
    address: Option<String>,
    opening_hours: Option<Vec<Window>>,
    phone: Option<Option<String>>,
}

impl LocationChanges {
    fn check(fields: &mut Fields, body: LocationPatch) -> Self {
        Self {
            name: settable(fields, "name", body.name, |v| model::name(&v)),
            address: settable(fields, "address", body.address, |v| address(&v)),
            opening_hours: body
                .opening_hours
                .map(|w| check_windows(fields, "opening_hours", w)),
            phone: clearable(fields, "phone", body.phone, |v| phone(&v)),
        }
    }

    fn apply(self, location: &mut Location) {
        if let Some(name) = self.name {
            location.name = name;
        }
        if let Some(address) = self.address {
            location.address = address;
        }
        if let Some(hours) = self.opening_hours {
            location.opening_hours = hours;
        }
        if let Some(phone) = self.phone {
            location.phone = phone;
        }
    }
}

/// Adds a location.
#[utoipa::path(
    post, path = "/v1/locations", tag = "locations", security(("bearer" = [])),
    request_body = LocationRequest,
    responses((status = 201, description = "Added", body = Location))
)]
async fn create_location(
    State(table): State<Table>,
    State(clock): State<Clock>,
    caller: Require<Admin>,
    Json(body): Json<LocationRequest>,
) -> Result<(StatusCode, Json<Location>), ApiError> {
    let mut fields = Fields::new();
    require(&mut fields, "name", &body.name);
    require(&mut fields, "address", &body.address);
    let changes = LocationChanges::check(
        &mut fields,
        LocationPatch {
            name: body.name,
            address: body.address,
            opening_hours: body.opening_hours,
            phone: body.phone.map(Some),
            version: None,
        },
    );
    fields.finish()?;
    let now = clock.now();
    let mut location = Location {
        id: LocationId::new(),
        name: String::new(),
        address: String::new(),
        opening_hours: Vec::new(),
        phone: None,
        version: 1,
        created_at: now,
        updated_at: now,
    };
    changes.apply(&mut location);
    store::create_location(&table, &caller.tenant, &location).await?;
    Ok((StatusCode::CREATED, Json(location)))
}

/// The locations, in the order they were added.
#[utoipa::path(
    get, path = "/v1/locations", tag = "locations", security(("bearer" = [])),
    params(PageParams),
    responses((status = 200, description = "One page of locations", body = Page<Location>))
)]
async fn list_locations(
    State(table): State<Table>,
    caller: Require<Staff>,
    Query(page): Query<PageParams>,
) -> Result<Json<Page<Location>>, ApiError> {
    let limit = page.limit()?;
    Ok(Json(
        store::list_locations(&table, &caller.tenant, page.cursor.as_deref(), limit).await?,
    ))
}

async fn load_location(table: &Table, tenant: &TenantId, id: &str) -> Result<Location, ApiError> {
    store::location(table, tenant, &path_id(id, "location")?)
        .await?
        .ok_or(ApiError::NotFound("location"))
}

/// One location.
#[utoipa::path(
    get, path = "/v1/locations/{id}", tag = "locations", security(("bearer" = [])),
    params(("id" = String, Path, description = "Location id")),
    responses(
        (status = 200, description = "The location", body = Location),
        (status = 404, description = "No such location here", body = ProblemSchema, content_type = "application/problem+json"),
    )
)]
async fn get_location(
    State(table): State<Table>,
    caller: Require<Staff>,
    Path(id): Path<String>,
) -> Result<Json<Location>, ApiError> {
    Ok(Json(load_location(&table, &caller.tenant, &id).await?))
}

/// Changes a location.
#[utoipa::path(
    patch, path = "/v1/locations/{id}", tag = "locations", security(("bearer" = [])),
    params(("id" = String, Path, description = "Location id")),
    request_body = LocationPatch,
    responses(
        (status = 200, description = "The changed location", body = Location),
        (status = 404, description = "No such location here", body = ProblemSchema, content_type = "application/problem+json"),
        (status = 409, description = "Changed meanwhile (`version_conflict`)", body = ProblemSchema, content_type = "application/problem+json"),
    )
)]
async fn patch_location(
    State(table): State<Table>,
    State(clock): State<Clock>,
    caller: Require<Admin>,
    Path(id): Path<String>,
    Json(body): Json<LocationPatch>,
) -> Result<Json<Location>, ApiError> {
    let expected = body.version;
    let mut fields = Fields::new();
    let changes = LocationChanges::check(&mut fields, body);
    fields.finish()?;
    let before = load_location(&table, &caller.tenant, &id).await?;
    check_version(expected, before.version, "location")?;
    let mut after = before.clone();
    changes.apply(&mut after);
    after.version = before.version + 1;
    after.updated_at = clock.now();
    Ok(Json(
        store::update_location(&table, &caller.tenant, &after, before.version).await?,
    ))
}

/// Deletes a location.
#[utoipa::path(
    delete, path = "/v1/locations/{id}", tag = "locations", security(("bearer" = [])),
    params(("id" = String, Path, description = "Location id")),
    responses(
        (status = 204, description = "Deleted"),
        (status = 404, description = "No such location here", body = ProblemSchema, content_type = "application/problem+json"),
    )
)]
async fn delete_location(
    State(table): State<Table>,
    caller: Require<Admin>,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    store::delete_location(&table, &caller.tenant, &path_id(&id, "location")?).await?;
    Ok(StatusCode::NO_CONTENT)
}
