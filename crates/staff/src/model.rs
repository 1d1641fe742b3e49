//! Tenants, staff members and sessions: their types and rules, no I/O.

use fanorder_platform::{Currency, Email, Role, Slug, TenantId, ulid_id};
use jiff::Timestamp;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

ulid_id!(
    /// A staff member (or the owner) of a restaurant.
    StaffId,
    "staff id"
);

ulid_id!(
    /// A login session: one chain of rotating refresh tokens.
    SessionId,
    "session id"
);

/// Whether a tenant or account may act.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    /// Works normally.
    Active,
    /// Locked out: tokens stop working, logins fail. Reversible.
    Deactivated,
}

/// A restaurant: the tenant.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Tenant {
    /// Its id; all its items live under `T#<id>`.
    pub id: TenantId,
    /// Unique, URL-friendly name customers and staff log in with.
    pub slug: Slug,
    /// Display name.
    pub name: String,
    /// The currency its menu is priced in.
    pub currency: Currency,
    /// IANA time zone for opening hours and daily order numbers.
    pub time_zone: String,
    /// Active or deactivated by an operator.
    pub status: Status,
    /// Optimistic concurrency for profile edits.
    pub version: i64,
    /// When it signed up.
    pub created_at: Timestamp,
    /// Last profile change.
    pub updated_at: Timestamp,
}

/// A staff member as stored (with the password hash, which never leaves the crate's store).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Member {
    /// Its id.
    pub id: StaffId,
    /// Login email, unique in the tenant.
    pub email: Email,
    /// Display name.
    pub name: String,
    /// Admin, cook, packer or driver.
    pub role: Role,
    /// Active or deactivated.
    pub status: Status,
    /// argon2id PHC string.
    pub password_hash: String,
    /// Optimistic concurrency.
    pub version: i64,
    /// When added.
    pub created_at: Timestamp,
    /// Last change.
    pub updated_at: Timestamp,
}

impl Member {
    /// True when this member counts towards the tenant's active admins.
    pub fn is_active_admin(&self) -> bool {
        self.role == Role::Admin && self.status == Status::Active
    }
}

/// A tenant as the API shows it.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct TenantView {
    /// Tenant id.
    #[schema(value_type = String, example = "01J8Z3K4M5N6P7Q8R9S0T1V2W3")]
    pub id: TenantId,
    /// Unique slug.
    #[schema(value_type = String, example = "pad-thai-palace")]
    pub slug: Slug,
    /// Display name.
    #[schema(example = "Pad Thai Palace")]
    pub name: String,
    /// ISO 4217 currency code.
    #[schema(value_type = String, example = "THB")]
    pub currency: Currency,
    /// IANA time zone.
    #[schema(example = "Asia/Bangkok")]
    pub time_zone: String,
    /// Active or deactivated.
    pub status: Status,
    /// Pass back in PATCH to guard against concurrent edits.
    pub version: i64,
    /// When it signed up.
    #[schema(value_type = String, format = DateTime)]
    pub created_at: Timestamp,
}

impl From<&Tenant> for TenantView {
    fn from(t: &Tenant) -> Self {
        Self {
            id: t.id,
            slug: t.slug.clone(),
            name: t.name.clone(),
            currency: t.currency,
            time_zone: t.time_zone.clone(),
            status: t.status,
            version: t.version,
            created_at: t.created_at,
        }
    }
}

/// A staff member as the API shows it (never the password hash).
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct MemberView {
    /// Member id.
    #[schema(value_type = String, example = "01J8Z3K4M5N6P7Q8R9S0T1V2W3")]
    pub id: StaffId,
    /// Login email.
    #[schema(value_type = String, example = "cook@example.com")]
    pub email: Email,
    /// Display name.
    pub name: String,
    /// Role.
    pub role: Role,
    /// Active or deactivated.
    pub status: Status,
    /// Pass back in PATCH to guard against concurrent edits.
    pub version: i64,
    /// When added.
    #[schema(value_type = String, format = DateTime)]
    pub created_at: Timestamp,
    /// Last change.
    #[schema(value_type = String, format = DateTime)]
    pub updated_at: Timestamp,
}

impl From<&Member> for MemberView {
    fn from(m: &Member) -> Self {
        Self {
            id: m.id,
            email: m.email.clone(),
            name: m.name.clone(),
            role: m.role,
            status: m.status,
            version: m.version,
            created_at: m.created_at,
            updated_at: m.updated_at,
        }
    }
}

/// The account fields every login response carries.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct AccountView {
    /// Account id (staff member or customer).
    pub id: String,
    /// Login email.
    pub email: String,
    /// Display name.
    pub name: String,
    /// Role.
    pub role: Role,
}

/// Tokens handed out by signup, login and refresh.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct Tokens {
    /// JWT for `Authorization: Bearer`, valid for `expires_in` seconds.
    pub access_token: String,
    /// Opaque; exchange it once at `/v1/auth/refresh` for new tokens.
    pub refresh_token: String,
    /// Always `Bearer`.
    pub token_type: String,
    /// Seconds until the access token expires.
    pub expires_in: u64,
}

/// A refresh token's parts: `<tenant>.<session>.<generation>.<secret>`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RefreshToken {
    /// The session's tenant.
    pub tenant: TenantId,
    /// The session.
    pub session: SessionId,
    /// Which rotation of the session this token is.
    pub generation: i64,
    /// 32 random bytes, base64url.
    pub secret: String,
}

impl RefreshToken {
    /// Reads a refresh token; `None` for anything malformed.
    pub fn parse(text: &str) -> Option<Self> {
        let mut parts = text.trim().split('.');
        let tenant = parts.next()?.parse().ok()?;
        let session = parts.next()?.parse().ok()?;
        let generation = parts.next()?.parse().ok().filter(|g: &i64| *g >= 0)?;
        let secret = parts.next()?.to_owned();
        if parts.next().is_some() || secret.len() != 43 {
            return None;
        }
        Some(Self {
            tenant,
            session,
            generation,
            secret,
        })
    }

    /// The token as handed to the client.
    pub fn encode(&self) -> String {
        format!(
            "{}.{}.{}.{}",
            self.tenant, self.session, self.generation, self.secret
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refresh_tokens_round_trip_and_refuse_garbage() {
        let token = RefreshToken {
            tenant: TenantId::new(),
            session: SessionId::new(),
            generation: 3,
            secret: "a".repeat(43),
        };
        assert_eq!(RefreshToken::parse(&token.encode()), Some(token.clone()));
        let text = token.encode();
        for bad in [
            String::new(),
            "x.y.z.w".to_owned(),
            text.replace(".3.", ".-1."),
            format!("{text}.extra"),
            text[..text.len() - 1].to_owned(),
        ] {
            assert_eq!(RefreshToken::parse(&bad), None, "{bad}");
        }
    }
}
