//! The staff crate's routes: restaurant signup and profile, staff management, and the refresh
//! and logout halves of login sessions.

use axum::extract::{FromRef, Path, Query, State};
use axum::http::StatusCode;
use fanorder_events::{Event, EventType, Outbox};
use fanorder_platform::auth::{Admin, Auth, Require};
use fanorder_platform::error::ProblemSchema;
use fanorder_platform::password::Password;
use fanorder_platform::text::{self, time_zone};
use fanorder_platform::{
    ApiError, Clock, Currency, Email, Fields, Json, Page, PageParams, Passwords, Role, Slug,
    TenantId,
};
use fanorder_store::Table;
use serde::Deserialize;
use serde_json::json;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::model::{AccountView, Member, MemberView, StaffId, Status, Tenant, TenantView, Tokens};
use crate::session;
use crate::store;

/// The routes, for any application state that holds what they need.
pub fn router<S>() -> OpenApiRouter<S>
where
    S: Clone + Send + Sync + 'static,
    Table: FromRef<S>,
    Auth: FromRef<S>,
    Passwords: FromRef<S>,
    Clock: FromRef<S>,
    Outbox: FromRef<S>,
{
    OpenApiRouter::new()
        .routes(routes!(signup))
        .routes(routes!(get_tenant, patch_tenant))
        .routes(routes!(add_staff, list_staff))
        .routes(routes!(get_staff, patch_staff, deactivate_staff))
        .routes(routes!(refresh))
        .routes(routes!(logout))
}

/// Signing up: a restaurant and its owner.
#[derive(Debug, Deserialize, ToSchema)]
#[schema(example = json!({
    "name": "Pad Thai Palace", "slug": "pad-thai-palace", "currency": "THB", "time_zone": "Asia/Bangkok",
    "owner": {"email": "owner@example.com", "password": "correct horse battery", "name": "Somchai"}
}))]
pub struct SignupRequest {
    /// Display name, 1 to 100 characters.
    #[schema(value_type = String, required = true, max_length = 100)]
    pub name: Option<String>,
    /// Unique slug: 3 to 40 of a-z, 0-9 and `-`.
    #[schema(value_type = String, required = true, pattern = "^[a-z0-9][a-z0-9-]{1,38}[a-z0-9]$")]
    pub slug: Option<String>,
    /// ISO 4217 currency code.
    #[schema(value_type = String, required = true, example = "THB")]
    pub currency: Option<String>,
    /// IANA time zone.
    #[schema(value_type = String, required = true, example = "Asia/Bangkok")]
    pub time_zone: Option<String>,
    /// The owner, who becomes the first admin.
    #[schema(value_type = OwnerRequest, required = true)]
    pub owner: Option<OwnerRequest>,
}

/// The owner of a new restaurant.
#[derive(Debug, Deserialize, ToSchema)]
pub struct OwnerRequest {
    /// Login email.
    #[schema(value_type = String, required = true, format = Email)]
    pub email: Option<String>,
    /// 8 to 128 characters.
    #[schema(value_type = String, required = true, min_length = 8, max_length = 128, format = Password)]
    pub password: Option<String>,
    /// Display name.
    #[schema(value_type = String, required = true, max_length = 100)]
    pub name: Option<String>,
}

/// What signup answers: the restaurant, its owner and the owner's tokens.
#[derive(Debug, serde::Serialize, ToSchema)]
pub struct SignupResponse {
    /// The new restaurant.
    pub tenant: TenantView,
    /// The owner (role admin).
    pub user: AccountView,
    /// Access token (JWT).
    pub access_token: String,
    /// Refresh token (works once).
    pub refresh_token: String,
    /// `Bearer`.
    pub token_type: String,
    /// Seconds the access token lives.
    pub expires_in: u64,
}

fn name(value: String) -> Result<String, String> {
    text::text(&value, 100)
}

/// Signs up a restaurant with its owner as the first admin, and logs the owner in.
#[utoipa::path(
    post, path = "/v1/tenants", tag = "tenants",
    request_body = SignupRequest,
    responses(
        (status = 201, description = "The restaurant exists and its owner is logged in", body = SignupResponse),
        (status = 409, description = "The slug is taken (`slug_taken`)", body = ProblemSchema, content_type = "application/problem+json"),
    )
)]
async fn signup(
    State(table): State<Table>,
    State(auth): State<Auth>,
    State(passwords): State<Passwords>,
    State(clock): State<Clock>,
    State(outbox): State<Outbox>,
    Json(body): Json<SignupRequest>,
) -> Result<(StatusCode, Json<SignupResponse>), ApiError> {
    let mut fields = Fields::new();
    let tenant_name = fields.required("name", body.name, name);
    let slug = fields.required("slug", body.slug, |v| v.parse::<Slug>());
    let currency = fields.required("currency", body.currency, |v| v.parse::<Currency>());
    let zone = fields.required("time_zone", body.time_zone, |v| time_zone(&v));
    let (email, password, owner_name) = match body.owner {
        Some(owner) => (
            fields.required("owner.email", owner.email, |v| v.parse::<Email>()),
            fields.required("owner.password", owner.password, |v| Password::parse(&v)),
            fields.required("owner.name", owner.name, name),
        ),
        None => {
            fields.fail("owner", "is required");
            (None, None, None)
        }
    };
    let (
        Some(tenant_name),
        Some(slug),
        Some(currency),
        Some(zone),
        Some(email),
        Some(password),
        Some(owner_name),
    ) = (
        tenant_name,
        slug,
        currency,
        zone,
        email,
        password,
        owner_name,
    )
    else {
        return Err(fields.into_error());
    };
    let now = clock.now();
    let tenant = Tenant {
        id: TenantId::new(),
        slug,
        name: tenant_name,
        currency,
        time_zone: zone,
        status: Status::Active,
        version: 1,
        created_at: now,
        updated_at: now,
    };
    let owner = Member {
        id: StaffId::new(),
        email,
        name: owner_name,
        role: Role::Admin,
        status: Status::Active,
        password_hash: passwords.hash(&password).await?,
        version: 1,
        created_at: now,
        updated_at: now,
    };
    let new_session = session::new_session(tenant.id, &owner.id.to_string(), Role::Admin, now);
    let events = vec![
        outbox.write(&table, &Event::new(EventType::TenantCreated, tenant.id, now, json!({"tenant": {
            "id": tenant.id, "slug": tenant.slug, "name": tenant.name, "currency": tenant.currency, "time_zone": tenant.time_zone,
        }})))?,
        outbox.write(&table, &staff_added(tenant.id, &owner, now))?,
    ];
    store::create_tenant(&table, &tenant, &owner, &new_session.session, events).await?;
    outbox.committed();
    tracing::info!(tenant_id = %tenant.id, slug = %tenant.slug, "restaurant signed up");
    let tokens = session::tokens(
        &auth.keys,
        tenant.id,
        &owner.id.to_string(),
        Role::Admin,
        &new_session.refresh,
        now,
    )?;
    let response = SignupResponse {
        tenant: TenantView::from(&tenant),
        user: account_view(&owner),
        access_token: tokens.access_token,
        refresh_token: tokens.refresh_token,
        token_type: tokens.token_type,
        expires_in: tokens.expires_in,
    };
    Ok((StatusCode::CREATED, Json(response)))
}

fn staff_added(tenant: TenantId, member: &Member, now: jiff::Timestamp) -> Event {
    let data = json!({"staff": {"id": member.id, "email": member.email, "name": member.name, "role": member.role}});
    Event::new(EventType::StaffAdded, tenant, now, data)
}

/// The account fields of a staff member.
pub fn account_view(member: &Member) -> AccountView {
    AccountView {
        id: member.id.to_string(),
        email: member.email.to_string(),
        name: member.name.clone(),
        role: member.role,
    }
}

async fn load_tenant(table: &Table, id: &TenantId) -> Result<Tenant, ApiError> {
    store::tenant(table, id)
        .await?
        .ok_or(ApiError::NotFound("tenant"))
}

/// The caller's restaurant.
#[utoipa::path(
    get, path = "/v1/tenant", tag = "tenants", security(("bearer" = [])),
    responses((status = 200, description = "The restaurant profile", body = TenantView))
)]
async fn get_tenant(
    State(table): State<Table>,
    caller: Require<Admin>,
) -> Result<Json<TenantView>, ApiError> {
    Ok(Json(TenantView::from(
        &load_tenant(&table, &caller.tenant).await?,
    )))
}

/// A change to the restaurant profile.
#[derive(Debug, Deserialize, ToSchema)]
#[schema(example = json!({"name": "Pad Thai Palace (Silom)", "time_zone": "Asia/Bangkok"}))]
pub struct TenantPatch {
    /// New display name.
    #[schema(max_length = 100, pattern = "\\S")]
    pub name: Option<String>,
    /// New currency (applies to new orders).
    pub currency: Option<String>,
    /// New time zone.
    pub time_zone: Option<String>,
    /// The version you read; a different current version is 409 `version_conflict`.
    pub version: Option<i64>,
}

/// Changes the restaurant profile (the slug never changes).
#[utoipa::path(
    patch, path = "/v1/tenant", tag = "tenants", security(("bearer" = [])),
    request_body = TenantPatch,
    responses(
        (status = 200, description = "The changed profile", body = TenantView),
        (status = 409, description = "Changed meanwhile (`version_conflict`)", body = ProblemSchema, content_type = "application/problem+json"),
    )
)]
async fn patch_tenant(
    State(table): State<Table>,
    State(clock): State<Clock>,
    caller: Require<Admin>,
    Json(body): Json<TenantPatch>,
) -> Result<Json<TenantView>, ApiError> {
    let mut fields = Fields::new();
    let new_name = fields.optional("name", body.name, name);
    let currency = fields.optional("currency", body.currency, |v| v.parse::<Currency>());
    let zone = fields.optional("time_zone", body.time_zone, |v| time_zone(&v));
    let (Some(new_name), Some(currency), Some(zone)) = (new_name, currency, zone) else {
        return Err(fields.into_error());
    };
    let before = load_tenant(&table, &caller.tenant).await?;
    if body.version.is_some_and(|v| v != before.version) {
        return Err(ApiError::conflict(
            "version_conflict",
            "the restaurant profile changed since you read it",
        ));
    }
    let after = Tenant {
        name: new_name.unwrap_or_else(|| before.name.clone()),
        currency: currency.unwrap_or(before.currency),
        time_zone: zone.unwrap_or_else(|| before.time_zone.clone()),
        version: before.version + 1,
        updated_at: clock.now(),
        ..before.clone()
    };
    store::update_tenant(&table, &after, before.version).await?;
    Ok(Json(TenantView::from(&after)))
}

/// A new staff member.
#[derive(Debug, Deserialize, ToSchema)]
#[schema(example = json!({"email": "cook@example.com", "name": "Malee", "role": "cook", "password": "kitchen-password-1"}))]
pub struct NewStaffRequest {
    /// Login email, unique among this restaurant's staff.
    #[schema(value_type = String, required = true, format = Email)]
    pub email: Option<String>,
    /// Display name.
    #[schema(value_type = String, required = true, max_length = 100)]
    pub name: Option<String>,
    /// `admin`, `cook`, `packer` or `driver`.
    #[schema(value_type = String, required = true, example = "cook")]
    pub role: Option<String>,
    /// 8 to 128 characters.
    #[schema(value_type = String, required = true, min_length = 8, max_length = 128, format = Password)]
    pub password: Option<String>,
}

fn staff_role(value: String) -> Result<Role, String> {
    value
        .parse::<Role>()
        .ok()
        .filter(|r| r.is_staff())
        .ok_or_else(|| "must be one of admin, cook, packer, driver".to_owned())
}

/// Adds a staff member.
#[utoipa::path(
    post, path = "/v1/staff", tag = "staff", security(("bearer" = [])),
    request_body = NewStaffRequest,
    responses(
        (status = 201, description = "Added", body = MemberView),
        (status = 409, description = "The email is already a staff member here (`email_taken`)", body = ProblemSchema, content_type = "application/problem+json"),
    )
)]
async fn add_staff(
    State(table): State<Table>,
    State(passwords): State<Passwords>,
    State(clock): State<Clock>,
    State(outbox): State<Outbox>,
    caller: Require<Admin>,
    Json(body): Json<NewStaffRequest>,
) -> Result<(StatusCode, Json<MemberView>), ApiError> {
    let mut fields = Fields::new();
    let email = fields.required("email", body.email, |v| v.parse::<Email>());
    let member_name = fields.required("name", body.name, name);
    let role = fields.required("role", body.role, staff_role);
    let password = fields.required("password", body.password, |v| Password::parse(&v));
    let (Some(email), Some(member_name), Some(role), Some(password)) =
        (email, member_name, role, password)
    else {
        return Err(fields.into_error());
    };
    let now = clock.now();
    let member = Member {
        id: StaffId::new(),
        email,
        name: member_name,
        role,
        status: Status::Active,
        password_hash: passwords.hash(&password).await?,
        version: 1,
        created_at: now,
        updated_at: now,
    };
    let events = vec![outbox.write(&table, &staff_added(caller.tenant, &member, now))?];
    store::add_member(&table, &caller.tenant, &member, events).await?;
    outbox.committed();
    Ok((StatusCode::CREATED, Json(MemberView::from(&member))))
}

/// The restaurant's staff, in the order they joined.
#[utoipa::path(
    get, path = "/v1/staff", tag = "staff", security(("bearer" = [])),
    params(PageParams),
    responses((status = 200, description = "One page of staff", body = Page<MemberView>))
)]
async fn list_staff(
    State(table): State<Table>,
    caller: Require<Admin>,
    Query(page): Query<PageParams>,
) -> Result<Json<Page<MemberView>>, ApiError> {
    let found = store::list_members(
        &table,
        &caller.tenant,
        page.cursor.as_deref(),
        page.limit()?,
    )
    .await?;
    Ok(Json(Page {
        items: found.items.iter().map(MemberView::from).collect(),
        next_cursor: found.next_cursor,
    }))
}

fn staff_id(id: &str) -> Result<StaffId, ApiError> {
    // A malformed id cannot name anything: the same 404 as a missing one.
    id.parse().map_err(|_| ApiError::NotFound("staff member"))
}

async fn load_member(table: &Table, tenant: &TenantId, id: &str) -> Result<Member, ApiError> {
    store::member(table, tenant, &staff_id(id)?)
        .await?
        .ok_or(ApiError::NotFound("staff member"))
}

/// One staff member.
#[utoipa::path(
    get, path = "/v1/staff/{id}", tag = "staff", security(("bearer" = [])),
    params(("id" = String, Path, description = "Staff member id")),
    responses(
        (status = 200, description = "The member", body = MemberView),
        (status = 404, description = "No such member here", body = ProblemSchema, content_type = "application/problem+json"),
    )
)]
async fn get_staff(
    State(table): State<Table>,
    caller: Require<Admin>,
    Path(id): Path<String>,
) -> Result<Json<MemberView>, ApiError> {
    Ok(Json(MemberView::from(
        &load_member(&table, &caller.tenant, &id).await?,
    )))
}

/// A change to a staff member.
#[derive(Debug, Deserialize, ToSchema)]
#[schema(example = json!({"role": "packer"}))]
pub struct StaffPatch {
    /// New display name.
    #[schema(max_length = 100, pattern = "\\S")]
    pub name: Option<String>,
    /// New role.
    pub role: Option<String>,
    /// `active` or `deactivated`.
    pub status: Option<Status>,
    /// A new password (8 to 128 characters).
    #[schema(min_length = 8, max_length = 128, format = Password)]
    pub password: Option<String>,
    /// The version you read; a different current version is 409 `version_conflict`.
    pub version: Option<i64>,
}

/// Changes a staff member's name, role, status or password. The last active admin cannot be
/// demoted or deactivated (409 `last_admin`).
#[utoipa::path(
    patch, path = "/v1/staff/{id}", tag = "staff", security(("bearer" = [])),
    params(("id" = String, Path, description = "Staff member id")),
    request_body = StaffPatch,
    responses(
        (status = 200, description = "The changed member", body = MemberView),
        (status = 404, description = "No such member here", body = ProblemSchema, content_type = "application/problem+json"),
        (status = 409, description = "`version_conflict` or `last_admin`", body = ProblemSchema, content_type = "application/problem+json"),
    )
)]
async fn patch_staff(
    State(table): State<Table>,
    State(passwords): State<Passwords>,
    State(clock): State<Clock>,
    caller: Require<Admin>,
    Path(id): Path<String>,
    Json(body): Json<StaffPatch>,
) -> Result<Json<MemberView>, ApiError> {
    let mut fields = Fields::new();
    let new_name = fields.optional("name", body.name, name);
    let role = fields.optional("role", body.role, staff_role);
    let password = fields.optional("password", body.password, |v| Password::parse(&v));
    let (Some(new_name), Some(role), Some(password)) = (new_name, role, password) else {
        return Err(fields.into_error());
    };
    let before = load_member(&table, &caller.tenant, &id).await?;
    if body.version.is_some_and(|v| v != before.version) {
        return Err(ApiError::conflict(
            "version_conflict",
            "the staff member changed since you read them",
        ));
    }
    let password_hash = match password {
        Some(password) => passwords.hash(&password).await?,
        None => before.password_hash.clone(),
    };
    let after = Member {
        name: new_name.unwrap_or_else(|| before.name.clone()),
        role: role.unwrap_or(before.role),
        status: body.status.unwrap_or(before.status),
        password_hash,
        version: before.version + 1,
        updated_at: clock.now(),
        ..before.clone()
    };
    store::update_member(&table, &caller.tenant, &before, &after).await?;
    Ok(Json(MemberView::from(&after)))
}

/// Deactivates a staff member: their tokens stop working within a minute and refresh at once.
/// The last active admin cannot be deactivated (409 `last_admin`).
#[utoipa::path(
    delete, path = "/v1/staff/{id}", tag = "staff", security(("bearer" = [])),
    params(("id" = String, Path, description = "Staff member id")),
    responses(
        (status = 204, description = "Deactivated"),
        (status = 404, description = "No such member here", body = ProblemSchema, content_type = "application/problem+json"),
        (status = 409, description = "`last_admin`", body = ProblemSchema, content_type = "application/problem+json"),
    )
)]
async fn deactivate_staff(
    State(table): State<Table>,
    State(clock): State<Clock>,
    caller: Require<Admin>,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    let before = load_member(&table, &caller.tenant, &id).await?;
    if before.status == Status::Deactivated {
        return Ok(StatusCode::NO_CONTENT);
    }
    let after = Member {
        status: Status::Deactivated,
        version: before.version + 1,
        updated_at: clock.now(),
        ..before.clone()
    };
    store::update_member(&table, &caller.tenant, &before, &after).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// A refresh token, for refresh and logout.
#[derive(Debug, Deserialize, ToSchema)]
#[schema(example = json!({"refresh_token": "01J8Z3K4M5N6P7Q8R9S0T1V2W3.01J8Z3K4M5N6P7Q8R9S0T1V2W4.0.dGhpcyBpcyBub3QgYSByZWFsIHRva2VuLCBqdXN0IGFu"}))]
pub struct RefreshRequest {
    /// The refresh token from login, signup or the previous refresh.
    #[schema(value_type = String, required = true)]
    pub refresh_token: Option<String>,
}

fn refresh_token(body: RefreshRequest) -> Result<String, ApiError> {
    body.refresh_token
        .ok_or_else(|| ApiError::invalid("refresh_token", "is required"))
}

/// Exchanges a refresh token (once) for new tokens. Presenting an already used refresh token
/// revokes its whole session.
#[utoipa::path(
    post, path = "/v1/auth/refresh", tag = "auth",
    request_body = RefreshRequest,
    responses(
        (status = 200, description = "New tokens; the old refresh token no longer works", body = Tokens),
        (status = 401, description = "Refused (`unauthenticated`)", body = ProblemSchema, content_type = "application/problem+json"),
    )
)]
async fn refresh(
    State(table): State<Table>,
    State(auth): State<Auth>,
    State(clock): State<Clock>,
    Json(body): Json<RefreshRequest>,
) -> Result<Json<Tokens>, ApiError> {
    let text = refresh_token(body)?;
    let (tokens, _caller) = session::refresh(&table, &auth, &text, clock.now()).await?;
    Ok(Json(tokens))
}

/// Ends the session of a refresh token.
#[utoipa::path(
    post, path = "/v1/auth/logout", tag = "auth",
    request_body = RefreshRequest,
    responses(
        (status = 204, description = "The session is over"),
        (status = 401, description = "Refused (`unauthenticated`)", body = ProblemSchema, content_type = "application/problem+json"),
    )
)]
async fn logout(
    State(table): State<Table>,
    Json(body): Json<RefreshRequest>,
) -> Result<StatusCode, ApiError> {
    session::logout(&table, &refresh_token(body)?).await?;
    Ok(StatusCode::NO_CONTENT)
}
