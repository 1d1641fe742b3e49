//! The staff crate's items in the one table. Keys are built here and nowhere else, each next to
//! the access pattern it serves.

use fanorder_platform::tenancy::{self, Scope};
use fanorder_platform::{ApiError, Email, Page, Role, Slug, TenantId};
use fanorder_store::{
    Change, Check, CmpOp, Cond, Item, Key, Put, Query, StoreError, Table, TxOp, Update, from_item,
    n, s, to_item,
};
use jiff::Timestamp;
use serde::{Deserialize, Serialize};

use crate::model::{Member, SessionId, StaffId, Status, Tenant};

/// The partition of platform-wide items that list tenants for operators.
const DIRECTORY_PK: &str = "PLATFORM";

/// Tenant profile, `T#<tenant>` / `PROFILE`: read for the tenant's settings and (cached) on
/// every request for its status; also holds the count of active admins.
pub fn profile_key(tenant: &TenantId) -> Key {
    Key::new(tenant.partition(), "PROFILE")
}

/// Slug guard, `SLUG#<slug>` / `SLUG`: makes slugs unique across the platform and finds the
/// tenant at login and customer registration.
pub fn slug_key(slug: &Slug) -> Key {
    Key::new(format!("SLUG#{slug}"), "SLUG")
}

/// Directory entry, `PLATFORM` / `TENANT#<tenant>`: operators list every tenant with one Query.
pub fn directory_key(tenant: &TenantId) -> Key {
    Key::new(DIRECTORY_PK, format!("TENANT#{tenant}"))
}

/// Staff member, `T#<tenant>` / `STAFF#<id>`: the staff list is a Query on the `STAFF#` prefix.
pub fn member_key(tenant: &TenantId, id: &StaffId) -> Key {
    Key::new(tenant.partition(), format!("STAFF#{id}"))
}

/// Staff email guard, `T#<tenant>` / `EMAIL#staff#<email>`: one member per email in a tenant;
/// login finds the member by it.
pub fn email_key(tenant: &TenantId, email: &Email) -> Key {
    Key::new(tenant.partition(), format!("EMAIL#staff#{email}"))
}

/// Login session, `T#<tenant>` / `SESSION#<id>`: the current refresh token of one login, with a
/// TTL so abandoned sessions disappear.
pub fn session_key(tenant: &TenantId, id: &SessionId) -> Key {
    Key::new(tenant.partition(), format!("SESSION#{id}"))
}

fn stored(err: StoreError) -> ApiError {
    ApiError::from(err)
}

fn item<T: Serialize>(table: &Table, key: &Key, value: &T) -> Result<Item, ApiError> {
    to_item(table.schema(), key, value).map_err(stored)
}

fn guard(key: &Key, attr: &str, value: &str, table: &Table) -> Result<TxOp, ApiError> {
    let mut item = item(table, key, &serde_json::json!({}))?;
    item.insert(attr.to_owned(), s(value));
    Ok(TxOp::Put(Put {
        item,
        cond: Some(Cond::NotExists),
    }))
}

/// A directory entry for operators.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct DirectoryEntry {
    /// Tenant id.
    pub id: TenantId,
    /// Slug.
    pub slug: Slug,
    /// Name.
    pub name: String,
    /// Status.
    pub status: Status,
    /// Signup time.
    pub created_at: Timestamp,
}

/// A session as stored.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Session {
    /// The session id.
    pub id: SessionId,
    /// The account (staff or customer id).
    pub account: String,
    /// The account's role at login.
    pub role: Role,
    /// How many times the refresh token was rotated.
    pub generation: i64,
    /// SHA-256 of the current refresh token's secret.
    pub secret_hash: String,
    /// Set when the session was logged out or a reused token revoked it.
    pub revoked: bool,
    /// TTL: when the session lapses unless refreshed.
    pub expires_at: i64,
    /// When the login happened.
    pub created_at: Timestamp,
}

/// The writes that create a tenant with its owner, first session and events, all or nothing.
pub async fn create_tenant(
    table: &Table,
    tenant: &Tenant,
    owner: &Member,
    session: &Session,
    events: Vec<TxOp>,
) -> Result<(), ApiError> {
    let mut profile = item(table, &profile_key(&tenant.id), tenant)?;
    profile.insert("admins".into(), n(1));
    let directory = DirectoryEntry {
        id: tenant.id,
        slug: tenant.slug.clone(),
        name: tenant.name.clone(),
        status: tenant.status,
        created_at: tenant.created_at,
    };
    let ops = vec![
        TxOp::Put(Put {
            item: profile,
            cond: Some(Cond::NotExists),
        }),
        guard(
            &slug_key(&tenant.slug),
            "tenant",
            &tenant.id.to_string(),
            table,
        )?,
        TxOp::Put(Put {
            item: item(table, &directory_key(&tenant.id), &directory)?,
            cond: Some(Cond::NotExists),
        }),
        TxOp::Put(Put {
            item: item(table, &member_key(&tenant.id, &owner.id), owner)?,
            cond: Some(Cond::NotExists),
        }),
        guard(
            &email_key(&tenant.id, &owner.email),
            "account",
            &owner.id.to_string(),
            table,
        )?,
        session_put(table, &tenant.id, session)?,
    ];
    let ops = ops.into_iter().chain(events).collect();
    // The one transaction that writes the slug guard and the directory beside the new tenant's
    // items: on AWS its session may claim exactly this slug (docs/tenancy.md).
    let scope = Scope::tenant(tenant.id)
        .with_slug(tenant.slug.to_string())
        .with_directory();
    match tenancy::within(scope, table.transact(ops)).await {
        Ok(()) => Ok(()),
        Err(StoreError::TransactionCanceled { failures })
            if failures.iter().any(|f| f.index == 1) =>
        {
            Err(ApiError::conflict(
                "slug_taken",
                format!("the slug `{}` is taken", tenant.slug),
            ))
        }
        Err(err) => Err(stored(err)),
    }
}

/// The tenant, if it exists.
pub async fn tenant(table: &Table, id: &TenantId) -> Result<Option<Tenant>, ApiError> {
    table
        .get(&profile_key(id))
        .await
        .map_err(stored)?
        .map(from_item)
        .transpose()
        .map_err(stored)
}

/// The tenant owning a slug, if any. A request that looks a restaurant up by its slug (login,
/// customer registration) acts for that restaurant from here on.
pub async fn tenant_by_slug(table: &Table, slug: &Slug) -> Result<Option<Tenant>, ApiError> {
    let Some(guard) = table.get(&slug_key(slug)).await.map_err(stored)? else {
        return Ok(None);
    };
    let Some(fanorder_store::Value::S(id)) = guard.get("tenant") else {
        return Ok(None);
    };
    let Ok(id) = id.parse::<TenantId>() else {
        return Ok(None);
    };
    tenancy::act_for(id)?;
    tenant(table, &id).await
}

/// Saves a profile edit if nobody changed the profile since `expected_version`.
pub async fn update_tenant(
    table: &Table,
    tenant: &Tenant,
    expected_version: i64,
) -> Result<(), ApiError> {
    let changes = vec![
        Change::Set("name".into(), s(&tenant.name)),
        Change::Set("currency".into(), s(tenant.currency.code())),
        Change::Set("time_zone".into(), s(&tenant.time_zone)),
        Change::Set("version".into(), n(tenant.version)),
        Change::Set("updated_at".into(), s(tenant.updated_at.to_string())),
    ];
    let profile = TxOp::Update(Update {
        key: profile_key(&tenant.id),
        changes,
        cond: Some(Cond::Exists.and(Cond::eq("version", n(expected_version)))),
    });
    let directory = TxOp::Update(Update {
        key: directory_key(&tenant.id),
        changes: vec![Change::Set("name".into(), s(&tenant.name))],
        cond: Some(Cond::Exists),
    });
    let scope = Scope::tenant(tenant.id).with_directory();
    match tenancy::within(scope, table.transact(vec![profile, directory])).await {
        Ok(()) => Ok(()),
        Err(StoreError::TransactionCanceled { .. }) => {
            Err(version_conflict("the restaurant profile"))
        }
        Err(err) => Err(stored(err)),
    }
}

/// Activates or deactivates a tenant (operators).
pub async fn set_tenant_status(
    table: &Table,
    id: &TenantId,
    status: Status,
    now: Timestamp,
) -> Result<(), ApiError> {
    let value = s(status_str(status));
    let ops = vec![
        TxOp::Update(Update {
            key: profile_key(id),
            changes: vec![
                Change::Set("status".into(), value.clone()),
                Change::Set("updated_at".into(), s(now.to_string())),
            ],
            cond: Some(Cond::Exists),
        }),
        TxOp::Update(Update {
            key: directory_key(id),
            changes: vec![Change::Set("status".into(), value)],
            cond: Some(Cond::Exists),
        }),
    ];
    table.transact(ops).await.map_err(|e| match e {
        StoreError::TransactionCanceled { .. } => ApiError::NotFound("tenant"),
        other => stored(other),
    })
}

fn status_str(status: Status) -> &'static str {
    match status {
        Status::Active => "active",
        Status::Deactivated => "deactivated",
    }
}

/// One page of the tenant directory, oldest signup first.
pub async fn list_tenants(
    table: &Table,
    cursor: Option<&str>,
    limit: usize,
) -> Result<Page<DirectoryEntry>, ApiError> {
    let query = Query::table(DIRECTORY_PK)
        .begins_with("TENANT#")
        .limit(limit);
    let page = table.query(&query, cursor).await.map_err(stored)?;
    Ok(Page {
        items: page
            .items
            .into_iter()
            .map(from_item)
            .collect::<Result<_, _>>()
            .map_err(stored)?,
        next_cursor: page.next_cursor,
    })
}

/// Adds a staff member with its events: the email must be free in the tenant and the tenant
/// active.
pub async fn add_member(
    table: &Table,
    tenant: &TenantId,
    member: &Member,
    events: Vec<TxOp>,
) -> Result<(), ApiError> {
    let active = Cond::eq("status", s("active"));
    let profile = if member.is_active_admin() {
        TxOp::Update(Update {
            key: profile_key(tenant),
            changes: vec![Change::Add("admins".into(), 1)],
            cond: Some(active),
        })
    } else {
        TxOp::Check(Check {
            key: profile_key(tenant),
            cond: active,
        })
    };
    let ops = vec![
        profile,
        TxOp::Put(Put {
            item: item(table, &member_key(tenant, &member.id), member)?,
            cond: Some(Cond::NotExists),
        }),
        guard(
            &email_key(tenant, &member.email),
            "account",
            &member.id.to_string(),
            table,
        )?,
    ];
    let ops = ops.into_iter().chain(events).collect();
    match table.transact(ops).await {
        Ok(()) => Ok(()),
        Err(StoreError::TransactionCanceled { failures })
            if failures.iter().any(|f| f.index == 2) =>
        {
            Err(ApiError::conflict(
                "email_taken",
                format!("{} is already a staff member here", member.email),
            ))
        }
        Err(StoreError::TransactionCanceled { .. }) => Err(ApiError::Unauthenticated(
            "the restaurant has been deactivated".into(),
        )),
        Err(err) => Err(stored(err)),
    }
}

/// A staff member, if it exists in this tenant.
pub async fn member(
    table: &Table,
    tenant: &TenantId,
    id: &StaffId,
) -> Result<Option<Member>, ApiError> {
    table
        .get(&member_key(tenant, id))
        .await
        .map_err(stored)?
        .map(from_item)
        .transpose()
        .map_err(stored)
}

/// The staff member with this login email, if any.
pub async fn member_by_email(
    table: &Table,
    tenant: &TenantId,
    email: &Email,
) -> Result<Option<Member>, ApiError> {
    let Some(guard) = table.get(&email_key(tenant, email)).await.map_err(stored)? else {
        return Ok(None);
    };
    let Some(fanorder_store::Value::S(id)) = guard.get("account") else {
        return Ok(None);
    };
    let Ok(id) = id.parse::<StaffId>() else {
        return Ok(None);
    };
    member(table, tenant, &id).await
}

/// One page of a tenant's staff, in id (joining) order.
pub async fn list_members(
    table: &Table,
    tenant: &TenantId,
    cursor: Option<&str>,
    limit: usize,
) -> Result<Page<Member>, ApiError> {
    let query = Query::table(tenant.partition())
        .begins_with("STAFF#")
        .limit(limit);
    let page = table.query(&query, cursor).await.map_err(stored)?;
    Ok(Page {
        items: page
            .items
            .into_iter()
            .map(from_item)
            .collect::<Result<_, _>>()
            .map_err(stored)?,
        next_cursor: page.next_cursor,
    })
}

/// Saves a member change made from `before` (read at `before.version`). Keeps at least one
/// active admin: taking the last one away is 409 `last_admin`.
pub async fn update_member(
    table: &Table,
    tenant: &TenantId,
    before: &Member,
    after: &Member,
) -> Result<(), ApiError> {
    let member = TxOp::Update(Update {
        key: member_key(tenant, &after.id),
        changes: vec![
            Change::Set("name".into(), s(&after.name)),
            Change::Set("role".into(), s(after.role.as_str())),
            Change::Set("status".into(), s(status_str(after.status))),
            Change::Set("password_hash".into(), s(&after.password_hash)),
            Change::Set("version".into(), n(after.version)),
            Change::Set("updated_at".into(), s(after.updated_at.to_string())),
        ],
        cond: Some(Cond::Exists.and(Cond::eq("version", n(before.version)))),
    });
    let delta = i64::from(after.is_active_admin()) - i64::from(before.is_active_admin());
    let mut ops = vec![member];
    if delta != 0 {
        // Losing an admin needs at least two now, so one remains.
        let cond = if delta < 0 {
            Cond::Cmp("admins".into(), CmpOp::Ge, n(2))
        } else {
            Cond::Exists
        };
        ops.push(TxOp::Update(Update {
            key: profile_key(tenant),
            changes: vec![Change::Add("admins".into(), delta)],
            cond: Some(cond),
        }));
    }
    match table.transact(ops).await {
        Ok(()) => Ok(()),
        Err(StoreError::TransactionCanceled { failures }) => {
            if failures.iter().any(|f| f.index == 0) {
                Err(version_conflict("the staff member"))
            } else {
                Err(ApiError::conflict(
                    "last_admin",
                    "the restaurant must keep at least one active admin",
                ))
            }
        }
        Err(err) => Err(stored(err)),
    }
}

fn version_conflict(what: &str) -> ApiError {
    ApiError::conflict(
        "version_conflict",
        format!("{what} changed since you read it; read it again and retry"),
    )
}

fn session_put(table: &Table, tenant: &TenantId, session: &Session) -> Result<TxOp, ApiError> {
    Ok(TxOp::Put(Put {
        item: item(table, &session_key(tenant, &session.id), session)?,
        cond: Some(Cond::NotExists),
    }))
}

/// Stores a new login session.
pub async fn create_session(
    table: &Table,
    tenant: &TenantId,
    session: &Session,
) -> Result<(), ApiError> {
    let TxOp::Put(put) = session_put(table, tenant, session)? else {
        unreachable!("session_put makes a put")
    };
    table.put(put).await.map_err(stored)
}

/// A session, if it exists and has not lapsed.
pub async fn session(
    table: &Table,
    tenant: &TenantId,
    id: &SessionId,
) -> Result<Option<Session>, ApiError> {
    table
        .get(&session_key(tenant, id))
        .await
        .map_err(stored)?
        .map(from_item)
        .transpose()
        .map_err(stored)
}

/// Moves a session to its next refresh token, only from `generation` and only if not revoked.
/// `false` when another refresh got there first (which counts as reuse).
pub async fn rotate_session(
    table: &Table,
    tenant: &TenantId,
    id: &SessionId,
    generation: i64,
    secret_hash: &str,
    expires_at: i64,
) -> Result<bool, ApiError> {
    let update = Update {
        key: session_key(tenant, id),
        changes: vec![
            Change::Set("generation".into(), n(generation + 1)),
            Change::Set("secret_hash".into(), s(secret_hash)),
            Change::Set("expires_at".into(), n(expires_at)),
        ],
        cond: Some(
            Cond::eq("generation", n(generation))
                .and(Cond::eq("revoked", fanorder_store::Value::Bool(false))),
        ),
    };
    match table.update(update).await {
        Ok(_) => Ok(true),
        Err(StoreError::ConditionFailed { .. }) => Ok(false),
        Err(err) => Err(stored(err)),
    }
}

/// Revokes a session: none of its refresh tokens work any more.
pub async fn revoke_session(
    table: &Table,
    tenant: &TenantId,
    id: &SessionId,
) -> Result<(), ApiError> {
    let update = Update {
        key: session_key(tenant, id),
        changes: vec![Change::Set(
            "revoked".into(),
            fanorder_store::Value::Bool(true),
        )],
        cond: Some(Cond::Exists),
    };
    match table.update(update).await {
        Ok(_) | Err(StoreError::ConditionFailed { .. }) => Ok(()),
        Err(err) => Err(stored(err)),
    }
}
