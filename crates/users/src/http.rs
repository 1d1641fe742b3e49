//! The users crate's routes: customer registration, login for every kind of account, and the
//! caller's own profile. Login lives here because this is the crate that knows both kinds of
//! account (staff through the staff crate, customers itself).

use axum::extract::{FromRef, State};
use axum::http::StatusCode;
use fanorder_platform::auth::{AnyRole, Auth, Require};
use fanorder_platform::error::ProblemSchema;
use fanorder_platform::password::Password;
use fanorder_platform::text::{phone, text};
use fanorder_platform::{
    ApiError, Caller, ClientAddr, Clock, Email, Fields, Json, LoginLimits, Passwords, Role, Slug,
};
use fanorder_staff::model::{AccountView, MemberView};
use fanorder_staff::{Status, session};
use fanorder_store::Table;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::model::{Address, Customer, CustomerId, CustomerView, MAX_ADDRESSES};
use crate::store;

/// The routes, for any application state that holds what they need.
pub fn router<S>() -> OpenApiRouter<S>
where
    S: Clone + Send + Sync + 'static,
    Table: FromRef<S>,
    Auth: FromRef<S>,
    Passwords: FromRef<S>,
    Clock: FromRef<S>,
    LoginLimits: FromRef<S>,
{
    OpenApiRouter::new()
        .routes(routes!(register))
        .routes(routes!(login))
        .routes(routes!(get_me, patch_me))
}

/// A customer registering with a restaurant.
#[derive(Debug, Deserialize, ToSchema)]
#[schema(example = json!({"tenant": "pad-thai-palace", "email": "ana@example.com", "password": "noodles-please", "name": "Ana", "phone": "+66 81 234 5678"}))]
pub struct RegisterRequest {
    /// The restaurant's slug.
    #[schema(value_type = String, required = true)]
    pub tenant: Option<String>,
    /// Login email.
    #[schema(value_type = String, required = true, format = Email)]
    pub email: Option<String>,
    /// 8 to 128 characters.
    #[schema(value_type = String, required = true, min_length = 8, max_length = 128, format = Password)]
    pub password: Option<String>,
    /// Display name.
    #[schema(value_type = String, required = true, max_length = 100)]
    pub name: Option<String>,
    /// Phone for the driver.
    pub phone: Option<String>,
}

/// Tokens and the account they belong to.
#[derive(Debug, Serialize, ToSchema)]
pub struct LoginResponse {
    /// The account.
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

fn login_response(user: AccountView, tokens: fanorder_staff::Tokens) -> LoginResponse {
    LoginResponse {
        user,
        access_token: tokens.access_token,
        refresh_token: tokens.refresh_token,
        token_type: tokens.token_type,
        expires_in: tokens.expires_in,
    }
}

fn customer_account(customer: &Customer) -> AccountView {
    AccountView {
        id: customer.id.to_string(),
        email: customer.email.to_string(),
        name: customer.name.clone(),
        role: Role::Customer,
    }
}

/// Registers a customer with a restaurant and logs them in.
#[utoipa::path(
    post, path = "/v1/customers", tag = "customers",
    request_body = RegisterRequest,
    responses(
        (status = 201, description = "Registered and logged in", body = LoginResponse),
        (status = 409, description = "The email already has an account here (`email_taken`)", body = ProblemSchema, content_type = "application/problem+json"),
    )
)]
async fn register(
    State(table): State<Table>,
    State(auth): State<Auth>,
    State(passwords): State<Passwords>,
    State(clock): State<Clock>,
    Json(body): Json<RegisterRequest>,
) -> Result<(StatusCode, Json<LoginResponse>), ApiError> {
    let mut fields = Fields::new();
    let slug = fields.required("tenant", body.tenant, |v| v.parse::<Slug>());
    let email = fields.required("email", body.email, |v| v.parse::<Email>());
    let password = fields.required("password", body.password, |v| Password::parse(&v));
    let name = fields.required("name", body.name, |v| text(&v, 100));
    let phone = fields.optional("phone", body.phone, |v| phone(&v));
    let (Some(slug), Some(email), Some(password), Some(name), Some(phone)) =
        (slug, email, password, name, phone)
    else {
        return Err(fields.into_error());
    };
    let tenant = fanorder_staff::store::tenant_by_slug(&table, &slug)
        .await?
        .filter(|t| t.status == Status::Active)
        .ok_or_else(|| ApiError::invalid("tenant", "no such restaurant"))?;
    let now = clock.now();
    let customer = Customer {
        id: CustomerId::new(),
        email,
        name,
        phone,
        addresses: Vec::new(),
        status: Status::Active,
        password_hash: passwords.hash(&password).await?,
        version: 1,
        created_at: now,
        updated_at: now,
    };
    store::register(&table, &tenant.id, &customer).await?;
    let tokens = session::start(
        &table,
        &auth.keys,
        tenant.id,
        &customer.id.to_string(),
        Role::Customer,
        now,
    )
    .await?;
    Ok((
        StatusCode::CREATED,
        Json(login_response(customer_account(&customer), tokens)),
    ))
}

/// Logging in.
#[derive(Debug, Deserialize, ToSchema)]
#[schema(example = json!({"tenant": "pad-thai-palace", "email": "owner@example.com", "password": "correct horse battery"}))]
pub struct LoginRequest {
    /// The restaurant's slug.
    #[schema(value_type = String, required = true)]
    pub tenant: Option<String>,
    /// Login email.
    #[schema(value_type = String, required = true)]
    pub email: Option<String>,
    /// Password.
    #[schema(value_type = String, required = true, format = Password)]
    pub password: Option<String>,
}

/// An account that may be logging in.
struct Candidate {
    account: AccountView,
    password_hash: String,
}

fn bad_credentials() -> ApiError {
    ApiError::Unauthenticated("the restaurant, email or password is wrong".into())
}

/// Logs a staff member or customer in. A wrong restaurant, email or password all answer the
/// same 401 after the same work; repeated failures are limited per account and per address.
#[utoipa::path(
    post, path = "/v1/auth/login", tag = "auth",
    request_body = LoginRequest,
    responses(
        (status = 200, description = "Logged in", body = LoginResponse),
        (status = 401, description = "Refused (`unauthenticated`)", body = ProblemSchema, content_type = "application/problem+json"),
    )
)]
async fn login(
    State(table): State<Table>,
    State(auth): State<Auth>,
    State(passwords): State<Passwords>,
    State(clock): State<Clock>,
    State(limits): State<LoginLimits>,
    ClientAddr(address): ClientAddr,
    Json(body): Json<LoginRequest>,
) -> Result<Json<LoginResponse>, ApiError> {
    let mut fields = Fields::new();
    let slug = fields.required("tenant", body.tenant, |v| {
        Ok::<_, String>(v.trim().to_lowercase())
    });
    let email_text = fields.required("email", body.email, |v| {
        Ok::<_, String>(v.trim().to_lowercase())
    });
    let password = fields.required("password", body.password, |v| {
        if v.is_empty() {
            Err("is required".to_owned())
        } else {
            Ok(v)
        }
    });
    let (Some(slug), Some(email_text), Some(password)) = (slug, email_text, password) else {
        return Err(fields.into_error());
    };
    let account_key = format!("{slug}|{email_text}");
    for (limiter, key) in [
        (&limits.by_account, &account_key),
        (&limits.by_address, &address),
    ] {
        if let Err(retry_after) = limiter.check(key) {
            return Err(ApiError::RateLimited { retry_after });
        }
    }
    // Every way of not finding the account ends in the same password check against a dummy
    // hash, so the answer takes as long as a wrong password would.
    let tenant = match slug.parse::<Slug>() {
        Ok(slug) => fanorder_staff::store::tenant_by_slug(&table, &slug)
            .await?
            .filter(|t| t.status == Status::Active),
        Err(_) => None,
    };
    let email = email_text.parse::<Email>().ok();
    let mut candidates = Vec::new();
    if let (Some(tenant), Some(email)) = (&tenant, &email) {
        if let Some(member) =
            fanorder_staff::store::member_by_email(&table, &tenant.id, email).await?
            && member.status == Status::Active
        {
            candidates.push(Candidate {
                account: fanorder_staff::http::account_view(&member),
                password_hash: member.password_hash,
            });
        }
        if let Some(customer) = store::customer_by_email(&table, &tenant.id, email).await?
            && customer.status == Status::Active
        {
            candidates.push(Candidate {
                account: customer_account(&customer),
                password_hash: customer.password_hash,
            });
        }
    }
    let mut matched = None;
    if candidates.is_empty() {
        passwords.verify(&password, None).await?;
    }
    for candidate in candidates {
        if passwords
            .verify(&password, Some(&candidate.password_hash))
            .await?
        {
            matched = Some(candidate.account);
            break;
        }
    }
    let (Some(tenant), Some(account)) = (tenant, matched) else {
        limits.by_account.record_failure(&account_key);
        limits.by_address.record_failure(&address);
        tracing::info!(%address, "failed login");
        return Err(bad_credentials());
    };
    let tokens = session::start(
        &table,
        &auth.keys,
        tenant.id,
        &account.id,
        account.role,
        clock.now(),
    )
    .await?;
    Ok(Json(login_response(account, tokens)))
}

/// The caller's own profile: a customer's or a staff member's.
#[derive(Debug, Serialize, ToSchema)]
#[serde(untagged)]
pub enum Me {
    /// A customer.
    Customer(CustomerView),
    /// A staff member.
    Staff(MemberView),
}

async fn load_customer(table: &Table, caller: &Caller) -> Result<Customer, ApiError> {
    let id: CustomerId = caller
        .account
        .parse()
        .map_err(|_| ApiError::NotFound("account"))?;
    store::customer(table, &caller.tenant, &id)
        .await?
        .ok_or(ApiError::NotFound("account"))
}

async fn load_member(table: &Table, caller: &Caller) -> Result<fanorder_staff::Member, ApiError> {
    let id: fanorder_staff::StaffId = caller
        .account
        .parse()
        .map_err(|_| ApiError::NotFound("account"))?;
    fanorder_staff::store::member(table, &caller.tenant, &id)
        .await?
        .ok_or(ApiError::NotFound("account"))
}

/// The caller's profile.
#[utoipa::path(
    get, path = "/v1/me", tag = "customers", security(("bearer" = [])),
    responses((status = 200, description = "The caller's profile", body = Me))
)]
async fn get_me(
    State(table): State<Table>,
    caller: Require<AnyRole>,
) -> Result<Json<Me>, ApiError> {
    if caller.role == Role::Customer {
        Ok(Json(Me::Customer(CustomerView::from(
            &load_customer(&table, &caller).await?,
        ))))
    } else {
        Ok(Json(Me::Staff(MemberView::from(
            &load_member(&table, &caller).await?,
        ))))
    }
}

/// A change to the caller's own profile.
#[derive(Debug, Deserialize, ToSchema)]
#[schema(example = json!({"name": "Ana María", "phone": "+51 987 654 321", "addresses": [{"label": "home", "line1": "Av. Larco 123", "city": "Lima"}]}))]
pub struct MePatch {
    /// New display name.
    #[schema(max_length = 100, pattern = "\\S")]
    pub name: Option<String>,
    /// New phone (customers); an empty string removes it.
    pub phone: Option<String>,
    /// The full list of saved addresses (customers), at most 10; replaces the old list.
    #[schema(max_items = 10)]
    pub addresses: Option<Vec<Address>>,
    /// A new password.
    #[schema(min_length = 8, max_length = 128, format = Password)]
    pub password: Option<String>,
    /// The version you read; a different current version is 409 `version_conflict`.
    pub version: Option<i64>,
}

/// Changes the caller's profile: name and password for everyone; phone and saved addresses
/// for customers.
#[utoipa::path(
    patch, path = "/v1/me", tag = "customers", security(("bearer" = [])),
    request_body = MePatch,
    responses(
        (status = 200, description = "The changed profile", body = Me),
        (status = 409, description = "Changed meanwhile (`version_conflict`)", body = ProblemSchema, content_type = "application/problem+json"),
    )
)]
async fn patch_me(
    State(table): State<Table>,
    State(passwords): State<Passwords>,
    State(clock): State<Clock>,
    caller: Require<AnyRole>,
    Json(body): Json<MePatch>,
) -> Result<Json<Me>, ApiError> {
    let mut fields = Fields::new();
    let name = fields.optional("name", body.name, |v| text(&v, 100));
    let phone = fields.optional("phone", body.phone, |v| {
        if v.trim().is_empty() {
            Ok(None)
        } else {
            phone(&v).map(Some)
        }
    });
    let password = fields.optional("password", body.password, |v| Password::parse(&v));
    let addresses = match body.addresses {
        Some(list) if list.len() > MAX_ADDRESSES => {
            fields.fail("addresses", format!("at most {MAX_ADDRESSES} addresses"));
            None
        }
        Some(list) => {
            let mut checked = Vec::with_capacity(list.len());
            for (i, address) in list.into_iter().enumerate() {
                match address.checked(&format!("addresses[{i}]")) {
                    Ok(address) => checked.push(address),
                    Err((field, message)) => fields.fail(&field, message),
                }
            }
            Some(Some(checked))
        }
        None => Some(None),
    };
    let (Some(name), Some(phone), Some(password), Some(addresses)) =
        (name, phone, password, addresses)
    else {
        return Err(fields.into_error());
    };
    if !fields.is_ok() {
        return Err(fields.into_error());
    }
    let password_hash = match &password {
        Some(password) => Some(passwords.hash(password).await?),
        None => None,
    };
    let now = clock.now();
    if caller.role != Role::Customer {
        if phone.is_some() || addresses.is_some() {
            return Err(ApiError::invalid(
                "phone",
                "staff profiles have no phone or addresses",
            ));
        }
        let before = load_member(&table, &caller).await?;
        if body.version.is_some_and(|v| v != before.version) {
            return Err(ApiError::conflict(
                "version_conflict",
                "your profile changed since you read it",
            ));
        }
        let after = fanorder_staff::Member {
            name: name.unwrap_or_else(|| before.name.clone()),
            password_hash: password_hash.unwrap_or_else(|| before.password_hash.clone()),
            version: before.version + 1,
            updated_at: now,
            ..before.clone()
        };
        fanorder_staff::store::update_member(&table, &caller.tenant, &before, &after).await?;
        return Ok(Json(Me::Staff(MemberView::from(&after))));
    }
    let before = load_customer(&table, &caller).await?;
    if body.version.is_some_and(|v| v != before.version) {
        return Err(ApiError::conflict(
            "version_conflict",
            "your profile changed since you read it",
        ));
    }
    let after = Customer {
        name: name.unwrap_or_else(|| before.name.clone()),
        phone: phone.unwrap_or_else(|| before.phone.clone()),
        addresses: addresses.unwrap_or_else(|| before.addresses.clone()),
        password_hash: password_hash.unwrap_or_else(|| before.password_hash.clone()),
        version: before.version + 1,
        updated_at: now,
        ..before.clone()
    };
    store::update(&table, &caller.tenant, &after, before.version).await?;
    Ok(Json(Me::Customer(CustomerView::from(&after))))
}
