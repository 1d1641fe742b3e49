//! The pages crate's routes: connecting Facebook pages and their bot settings, the staff view of
//! conversations, and handing a conversation to a person and back.

use std::collections::BTreeMap;

use axum::extract::{FromRef, Path, Query, State};
use axum::http::StatusCode;
use fanorder_menus::model::LocationId;
use fanorder_platform::auth::{Admin, Auth, Require, Staff};
use fanorder_platform::error::ProblemSchema;
use fanorder_platform::text::text;
use fanorder_platform::{ApiError, Clock, Fields, Json, Page as PageOf, PageParams};
use fanorder_store::Table;
use serde::Deserialize;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::bot::texts;
use crate::intake::Intake;
use crate::model::{
    BotSettings, ConversationView, Message, Page, PageStatus, PageView, PayWith, parse_page_id,
};
use crate::send::Messenger;
use crate::store;
use crate::token::TokenBox;

/// The routes, for any application state that holds what they need.
pub fn router<S>() -> OpenApiRouter<S>
where
    S: Clone + Send + Sync + 'static,
    Table: FromRef<S>,
    Auth: FromRef<S>,
    Clock: FromRef<S>,
    TokenBox: FromRef<S>,
    Messenger: FromRef<S>,
    Intake: FromRef<S>,
{
    OpenApiRouter::new()
        .routes(routes!(connect_page, list_pages))
        .routes(routes!(get_page, patch_page, disconnect_page))
        .routes(routes!(push_profile))
        .routes(routes!(list_conversations))
        .routes(routes!(list_messages))
        .routes(routes!(handover))
}

/// Connecting a page.
#[derive(Debug, Deserialize, ToSchema)]
#[schema(example = json!({"page_id": "104532198765432", "name": "Pad Thai Palace", "access_token": "EAAB..."}))]
pub struct ConnectRequest {
    /// The Facebook page id.
    #[schema(value_type = String, required = true)]
    pub page_id: Option<String>,
    /// The page's name.
    #[schema(value_type = String, required = true, max_length = 100)]
    pub name: Option<String>,
    /// A page access token with the messaging permissions. Without one the page works offline:
    /// the bot's answers are recorded in the conversation and not sent.
    #[schema(max_length = 1000)]
    pub access_token: Option<String>,
    /// Bot settings (defaults otherwise).
    pub settings: Option<SettingsRequest>,
}

/// Bot settings as sent.
#[derive(Debug, Default, Deserialize, ToSchema)]
pub struct SettingsRequest {
    /// Whether the bot answers.
    pub enabled: Option<bool>,
    /// Starting language: `en`, `es` or `th`.
    pub language: Option<String>,
    /// `online` and/or `cash`, in order.
    pub payment_methods: Option<Vec<PayWith>>,
    /// Offer delivery.
    pub delivery: Option<bool>,
    /// Offer pickup.
    pub pickup: Option<bool>,
    /// The branch orders go to.
    pub default_location_id: Option<String>,
    /// Text overrides: language -> key -> text.
    pub texts: Option<BTreeMap<String, BTreeMap<String, String>>>,
}

fn apply_settings(
    fields: &mut Fields,
    base: BotSettings,
    request: Option<SettingsRequest>,
) -> BotSettings {
    let Some(request) = request else { return base };
    let mut settings = base;
    if let Some(enabled) = request.enabled {
        settings.enabled = enabled;
    }
    if let Some(language) = request.language {
        if texts::LANGUAGES.contains(&language.as_str()) {
            settings.language = language;
        } else {
            fields.fail(
                "settings.language",
                format!("must be one of {}", texts::LANGUAGES.join(", ")),
            );
        }
    }
    if let Some(methods) = request.payment_methods {
        if methods.is_empty() {
            fields.fail("settings.payment_methods", "must offer at least one method");
        } else {
            let mut unique = methods.clone();
            unique.dedup();
            settings.payment_methods = unique;
        }
    }
    if let Some(delivery) = request.delivery {
        settings.delivery = delivery;
    }
    if let Some(pickup) = request.pickup {
        settings.pickup = pickup;
    }
    if !settings.delivery && !settings.pickup {
        fields.fail("settings.pickup", "offer delivery, pickup or both");
    }
    if let Some(location) = request.default_location_id {
        match location.parse::<LocationId>() {
            Ok(id) => settings.default_location_id = Some(id),
            Err(e) => fields.fail("settings.default_location_id", e.to_string()),
        }
    }
    if let Some(overrides) = request.texts {
        for (language, entries) in &overrides {
            if !texts::LANGUAGES.contains(&language.as_str()) {
                fields.fail(
                    &format!("settings.texts.{language}"),
                    format!("language must be one of {}", texts::LANGUAGES.join(", ")),
                );
            }
            for (key, value) in entries {
                if !texts::KEYS.contains(&key.as_str()) {
                    fields.fail(
                        &format!("settings.texts.{language}.{key}"),
                        "is not a bot text key",
                    );
                } else if let Err(e) = text(value, 640) {
                    fields.fail(&format!("settings.texts.{language}.{key}"), e);
                }
            }
        }
        settings.texts = overrides;
    }
    settings
}

fn token_text(value: String) -> Result<String, String> {
    let trimmed = value.trim();
    if trimmed.is_empty() || trimmed.len() > 1000 || trimmed.chars().any(char::is_whitespace) {
        return Err("must be a page access token".to_owned());
    }
    Ok(trimmed.to_owned())
}

/// Connects a Facebook page to the restaurant. A page belongs to one restaurant at a time:
/// connecting a page another restaurant holds is 409 `page_taken`. The access token is
/// write-only and encrypted at rest.
#[utoipa::path(
    post, path = "/v1/pages", tag = "pages", security(("bearer" = [])),
    request_body = ConnectRequest,
    responses(
        (status = 201, description = "Connected", body = PageView),
        (status = 409, description = "`page_taken`", body = ProblemSchema, content_type = "application/problem+json"),
    )
)]
async fn connect_page(
    State(table): State<Table>,
    State(clock): State<Clock>,
    State(tokens): State<TokenBox>,
    State(intake): State<Intake>,
    caller: Require<Admin>,
    Json(body): Json<ConnectRequest>,
) -> Result<(StatusCode, Json<PageView>), ApiError> {
    let mut fields = Fields::new();
    let page_id = fields.required("page_id", body.page_id, |v| parse_page_id(&v));
    let name = fields.required("name", body.name, |v| text(&v, 100));
    let token = fields.optional("access_token", body.access_token, token_text);
    let settings = apply_settings(&mut fields, BotSettings::default(), body.settings);
    let (Some(page_id), Some(name), Some(token)) = (page_id, name, token) else {
        return Err(fields.into_error());
    };
    fields.finish()?;
    let now = clock.now();
    let page = Page {
        page_id,
        name,
        status: PageStatus::Connected,
        token: token.map(|t| tokens.seal(&t)).transpose()?,
        settings,
        version: 1,
        created_at: now,
        updated_at: now,
    };
    store::connect(&table, &caller.tenant, &page).await?;
    intake.forget(&page.page_id).await;
    tracing::info!(tenant_id = %caller.tenant, page_id = %page.page_id, offline = page.token.is_none(), "page connected");
    Ok((StatusCode::CREATED, Json(PageView::from(&page))))
}

/// The restaurant's pages.
#[utoipa::path(
    get, path = "/v1/pages", tag = "pages", security(("bearer" = [])),
    params(PageParams),
    responses((status = 200, description = "One page of pages", body = PageOf<PageView>))
)]
async fn list_pages(
    State(table): State<Table>,
    caller: Require<Admin>,
    Query(page): Query<PageParams>,
) -> Result<Json<PageOf<PageView>>, ApiError> {
    let found = store::pages(
        &table,
        &caller.tenant,
        page.cursor.as_deref(),
        page.limit()?,
    )
    .await?;
    Ok(Json(PageOf {
        items: found.items.iter().map(PageView::from).collect(),
        next_cursor: found.next_cursor,
    }))
}

async fn load(
    table: &Table,
    tenant: &fanorder_platform::TenantId,
    page_id: &str,
) -> Result<Page, ApiError> {
    let id = parse_page_id(page_id).map_err(|_| ApiError::NotFound("page"))?;
    store::page(table, tenant, &id)
        .await?
        .ok_or(ApiError::NotFound("page"))
}

/// One page with its bot settings.
#[utoipa::path(
    get, path = "/v1/pages/{page_id}", tag = "pages", security(("bearer" = [])),
    params(("page_id" = String, Path, description = "Facebook page id")),
    responses(
        (status = 200, description = "The page", body = PageView),
        (status = 404, description = "No such page here", body = ProblemSchema, content_type = "application/problem+json"),
    )
)]
async fn get_page(
    State(table): State<Table>,
    caller: Require<Admin>,
    Path(page_id): Path<String>,
) -> Result<Json<PageView>, ApiError> {
    Ok(Json(PageView::from(
        &load(&table, &caller.tenant, &page_id).await?,
    )))
}

/// A change to a page.
#[derive(Debug, Deserialize, ToSchema)]
#[schema(example = json!({"settings": {"language": "es", "payment_methods": ["cash"], "texts": {"es": {"greeting": "¡Hola! ¿Qué se te antoja hoy?"}}}}))]
pub struct PagePatch {
    /// New name.
    #[schema(max_length = 100, pattern = "\\S")]
    pub name: Option<String>,
    /// A new access token (also clears `needs_token`).
    #[schema(max_length = 1000)]
    pub access_token: Option<String>,
    /// Settings to change (only those sent).
    pub settings: Option<SettingsRequest>,
    /// The version you read.
    pub version: Option<i64>,
}

/// Changes a page's name, token or bot settings.
#[utoipa::path(
    patch, path = "/v1/pages/{page_id}", tag = "pages", security(("bearer" = [])),
    params(("page_id" = String, Path, description = "Facebook page id")),
    request_body = PagePatch,
    responses(
        (status = 200, description = "The changed page", body = PageView),
        (status = 404, description = "No such page here", body = ProblemSchema, content_type = "application/problem+json"),
        (status = 409, description = "`version_conflict`", body = ProblemSchema, content_type = "application/problem+json"),
    )
)]
async fn patch_page(
    State(table): State<Table>,
    State(clock): State<Clock>,
    State(tokens): State<TokenBox>,
    caller: Require<Admin>,
    Path(page_id): Path<String>,
    Json(body): Json<PagePatch>,
) -> Result<Json<PageView>, ApiError> {
    let before = load(&table, &caller.tenant, &page_id).await?;
    let mut fields = Fields::new();
    let name = fields.optional("name", body.name, |v| text(&v, 100));
    let token = fields.optional("access_token", body.access_token, token_text);
    let settings = apply_settings(&mut fields, before.settings.clone(), body.settings);
    let (Some(name), Some(token)) = (name, token) else {
        return Err(fields.into_error());
    };
    fields.finish()?;
    if body.version.is_some_and(|v| v != before.version) {
        return Err(ApiError::conflict(
            "version_conflict",
            "the page changed since you read it",
        ));
    }
    let (token, status) = match token {
        Some(token) => (Some(tokens.seal(&token)?), PageStatus::Connected),
        None => (before.token.clone(), before.status),
    };
    let after = Page {
        name: name.unwrap_or_else(|| before.name.clone()),
        token,
        status,
        settings,
        version: before.version + 1,
        updated_at: clock.now(),
        ..before.clone()
    };
    store::update_page(&table, &caller.tenant, &after, before.version).await?;
    Ok(Json(PageView::from(&after)))
}

/// Disconnects a page: the bot stops, and the page may be connected again (here or elsewhere).
#[utoipa::path(
    delete, path = "/v1/pages/{page_id}", tag = "pages", security(("bearer" = [])),
    params(("page_id" = String, Path, description = "Facebook page id")),
    responses(
        (status = 204, description = "Disconnected"),
        (status = 404, description = "No such page here", body = ProblemSchema, content_type = "application/problem+json"),
    )
)]
async fn disconnect_page(
    State(table): State<Table>,
    State(intake): State<Intake>,
    caller: Require<Admin>,
    Path(page_id): Path<String>,
) -> Result<StatusCode, ApiError> {
    let page = load(&table, &caller.tenant, &page_id).await?;
    store::disconnect(&table, &caller.tenant, &page.page_id).await?;
    intake.forget(&page.page_id).await;
    Ok(StatusCode::NO_CONTENT)
}

/// What pushing the Messenger profile did.
#[derive(Debug, serde::Serialize, ToSchema)]
pub struct ProfilePushed {
    /// `sent` to Facebook, or `recorded` for a page without a token.
    pub result: String,
    /// The profile as pushed.
    #[schema(value_type = Object)]
    pub profile: serde_json::Value,
}

/// Pushes the page's Messenger profile: the Get Started button, the greeting, the persistent
/// menu and the ice breakers, in the page's languages.
#[utoipa::path(
    post, path = "/v1/pages/{page_id}/messenger-profile", tag = "pages", security(("bearer" = [])),
    params(("page_id" = String, Path, description = "Facebook page id")),
    responses(
        (status = 200, description = "Pushed (or recorded offline)", body = ProfilePushed),
        (status = 404, description = "No such page here", body = ProblemSchema, content_type = "application/problem+json"),
    )
)]
async fn push_profile(
    State(table): State<Table>,
    State(messenger): State<Messenger>,
    caller: Require<Admin>,
    Path(page_id): Path<String>,
) -> Result<Json<ProfilePushed>, ApiError> {
    let page = load(&table, &caller.tenant, &page_id).await?;
    let tenant = fanorder_staff::store::tenant(&table, &caller.tenant)
        .await?
        .ok_or(ApiError::NotFound("tenant"))?;
    let (result, profile) = messenger
        .push_profile(&table, &caller.tenant, &page, &tenant.name)
        .await?;
    Ok(Json(ProfilePushed {
        result: result.to_owned(),
        profile,
    }))
}

/// Conversations of a page, newest activity first.
#[utoipa::path(
    get, path = "/v1/pages/{page_id}/conversations", tag = "pages", security(("bearer" = [])),
    params(("page_id" = String, Path, description = "Facebook page id"), PageParams),
    responses(
        (status = 200, description = "One page of conversations", body = PageOf<ConversationView>),
        (status = 404, description = "No such page here", body = ProblemSchema, content_type = "application/problem+json"),
    )
)]
async fn list_conversations(
    State(table): State<Table>,
    caller: Require<Staff>,
    Path(page_id): Path<String>,
    Query(page): Query<PageParams>,
) -> Result<Json<PageOf<ConversationView>>, ApiError> {
    let found_page = load(&table, &caller.tenant, &page_id).await?;
    let found = store::conversations(
        &table,
        &caller.tenant,
        &found_page.page_id,
        page.cursor.as_deref(),
        page.limit()?,
    )
    .await?;
    Ok(Json(PageOf {
        items: found.items.iter().map(ConversationView::from).collect(),
        next_cursor: found.next_cursor,
    }))
}

/// A conversation's messages, newest first, with what happened to each (sent, delivered, read).
#[utoipa::path(
    get, path = "/v1/pages/{page_id}/conversations/{psid}/messages", tag = "pages", security(("bearer" = [])),
    params(("page_id" = String, Path, description = "Facebook page id"), ("psid" = String, Path, description = "The customer's page-scoped id"), PageParams),
    responses(
        (status = 200, description = "One page of messages", body = PageOf<Message>),
        (status = 404, description = "No such conversation here", body = ProblemSchema, content_type = "application/problem+json"),
    )
)]
async fn list_messages(
    State(table): State<Table>,
    caller: Require<Staff>,
    Path((page_id, psid)): Path<(String, String)>,
    Query(page): Query<PageParams>,
) -> Result<Json<PageOf<Message>>, ApiError> {
    let found_page = load(&table, &caller.tenant, &page_id).await?;
    let psid = parse_page_id(&psid).map_err(|_| ApiError::NotFound("conversation"))?;
    let conversation = store::conversation(&table, &caller.tenant, &found_page.page_id, &psid)
        .await?
        .ok_or(ApiError::NotFound("conversation"))?;
    let mut found = store::messages(
        &table,
        &caller.tenant,
        &found_page.page_id,
        &psid,
        page.cursor.as_deref(),
        page.limit()?,
    )
    .await?;
    for message in &mut found.items {
        crate::bot::delivery_of(message, &conversation);
    }
    Ok(Json(found))
}

/// Taking a conversation from the bot, or giving it back.
#[derive(Debug, Deserialize, ToSchema)]
#[schema(example = json!({"action": "take"}))]
pub struct HandoverRequest {
    /// `take` (a person answers; the bot stays quiet) or `release` (the bot answers again).
    #[schema(value_type = String, required = true)]
    pub action: Option<String>,
}

/// Takes a conversation from the bot for a person in the page inbox, or gives it back.
#[utoipa::path(
    post, path = "/v1/pages/{page_id}/conversations/{psid}/handover", tag = "pages", security(("bearer" = [])),
    params(("page_id" = String, Path, description = "Facebook page id"), ("psid" = String, Path, description = "The customer's page-scoped id")),
    request_body = HandoverRequest,
    responses(
        (status = 200, description = "Who answers now", body = ConversationView),
        (status = 404, description = "No such conversation here", body = ProblemSchema, content_type = "application/problem+json"),
    )
)]
async fn handover(
    State(table): State<Table>,
    State(clock): State<Clock>,
    State(messenger): State<Messenger>,
    caller: Require<Staff>,
    Path((page_id, psid)): Path<(String, String)>,
    Json(body): Json<HandoverRequest>,
) -> Result<Json<ConversationView>, ApiError> {
    let take = match body.action.as_deref() {
        Some("take") => true,
        Some("release") => false,
        _ => return Err(ApiError::invalid("action", "must be take or release")),
    };
    let page = load(&table, &caller.tenant, &page_id).await?;
    let psid = parse_page_id(&psid).map_err(|_| ApiError::NotFound("conversation"))?;
    let conversation = messenger
        .handover(&table, &caller.tenant, &page, &psid, take, clock.now())
        .await?;
    Ok(Json(ConversationView::from(&conversation)))
}
