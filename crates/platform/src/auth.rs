//! Who is calling: JWT access tokens (HS256 pinned, `kid` for key rotation), roles, and the
//! extractors that give handlers a verified caller. The tenant of every request comes from the
//! verified token, never from the path or body.

use std::collections::HashMap;
use std::marker::PhantomData;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use axum::extract::{FromRef, FromRequestParts};
use http::request::Parts;
use jiff::Timestamp;
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde::{Deserialize, Serialize};

use crate::config::Secret;
use crate::error::ApiError;
use crate::id::{TenantId, new_ulid};

/// How long an access token lives.
pub const ACCESS_TOKEN_TTL: Duration = Duration::from_secs(15 * 60);

/// What a caller may do. Staff roles work the kitchen; customers order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    /// Runs the restaurant: menu, staff, pages, every order move.
    Admin,
    /// Moves paid orders into the kitchen and out as ready.
    Cook,
    /// Hands ready orders to a driver or the customer.
    Packer,
    /// Delivers.
    Driver,
    /// Orders and follows their own orders.
    Customer,
}

impl Role {
    /// Every staff role (everything but customer).
    pub const STAFF: [Role; 4] = [Role::Admin, Role::Cook, Role::Packer, Role::Driver];

    /// True for admin, cook, packer and driver.
    pub fn is_staff(self) -> bool {
        self != Role::Customer
    }

    /// The role's name as written in tokens and JSON.
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Admin => "admin",
            Role::Cook => "cook",
            Role::Packer => "packer",
            Role::Driver => "driver",
            Role::Customer => "customer",
        }
    }
}

impl std::fmt::Display for Role {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl std::str::FromStr for Role {
    type Err = ();

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        [
            Role::Admin,
            Role::Cook,
            Role::Packer,
            Role::Driver,
            Role::Customer,
        ]
        .into_iter()
        .find(|r| r.as_str() == s)
        .ok_or(())
    }
}

/// The claims of an access token.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Claims {
    /// The account: a staff member's or customer's id.
    pub sub: String,
    /// The tenant the account belongs to.
    pub tenant: TenantId,
    /// The account's role when the token was issued.
    pub role: Role,
    /// Who issued it (`fanorder`).
    pub iss: String,
    /// Who it is for (`fanorder-api`).
    pub aud: String,
    /// Expiry, epoch seconds.
    pub exp: i64,
    /// Issued at, epoch seconds.
    pub iat: i64,
    /// The token's own id.
    pub jti: String,
}

/// A verified caller, as handlers see it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Caller {
    /// The caller's tenant; every store call of the request is scoped to it.
    pub tenant: TenantId,
    /// The caller's account id.
    pub account: String,
    /// The caller's role.
    pub role: Role,
}

/// A freshly issued access token.
#[derive(Debug, Clone)]
pub struct AccessToken {
    /// The compact JWT.
    pub token: String,
    /// Seconds until it expires.
    pub expires_in: u64,
}

/// Why a token was refused. The message is safe to show the client.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TokenError {
    /// Expired.
    #[error("the access token has expired")]
    Expired,
    /// Anything else: bad signature, unknown key, wrong algorithm, audience, issuer, shape.
    #[error("the access token is not valid")]
    Invalid,
}

/// The signing and verifying keys: several accepted (by `kid`), one signs.
pub struct TokenKeys {
    signing_kid: String,
    encoding: EncodingKey,
    decoding: HashMap<String, DecodingKey>,
    validation: Validation,
    issuer: String,
    audience: String,
}

impl std::fmt::Debug for TokenKeys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TokenKeys")
            .field("signing_kid", &self.signing_kid)
            .finish_non_exhaustive()
    }
}

impl TokenKeys {
    /// Keys by id; `signing_kid` names the one that signs (it must be among them).
    pub fn new(
        keys: &[(String, Secret)],
        signing_kid: &str,
        issuer: &str,
        audience: &str,
    ) -> Option<Self> {
        let signing = keys.iter().find(|(kid, _)| kid == signing_kid)?;
        let mut validation = Validation::new(Algorithm::HS256);
        validation.set_issuer(&[issuer]);
        validation.set_audience(&[audience]);
        validation.set_required_spec_claims(&["exp", "iss", "aud", "sub"]);
        validation.leeway = 5;
        Some(Self {
            signing_kid: signing_kid.to_owned(),
            encoding: EncodingKey::from_secret(signing.1.expose()),
            decoding: keys
                .iter()
                .map(|(kid, s)| (kid.clone(), DecodingKey::from_secret(s.expose())))
                .collect(),
            validation,
            issuer: issuer.to_owned(),
            audience: audience.to_owned(),
        })
    }

    /// Issues an access token for an account.
    pub fn issue(
        &self,
        tenant: TenantId,
        account: &str,
        role: Role,
        now: Timestamp,
    ) -> Result<AccessToken, ApiError> {
        let iat = now.as_second();
        let ttl = ACCESS_TOKEN_TTL.as_secs();
        let claims = Claims {
            sub: account.to_owned(),
            tenant,
            role,
            iss: self.issuer.clone(),
            aud: self.audience.clone(),
            exp: iat + i64::try_from(ttl).unwrap_or(900),
            iat,
            jti: new_ulid().to_string(),
        };
        let mut header = Header::new(Algorithm::HS256);
        header.kid = Some(self.signing_kid.clone());
        let token =
            jsonwebtoken::encode(&header, &claims, &self.encoding).map_err(ApiError::internal)?;
        Ok(AccessToken {
            token,
            expires_in: ttl,
        })
    }

    /// Verifies a token: the algorithm must be HS256, the key known by its `kid`, the signature,
    /// issuer, audience and expiry valid.
    pub fn verify(&self, token: &str) -> Result<Claims, TokenError> {
        let header = jsonwebtoken::decode_header(token).map_err(|_| TokenError::Invalid)?;
        if header.alg != Algorithm::HS256 {
            return Err(TokenError::Invalid);
        }
        let key = header
            .kid
            .as_deref()
            .and_then(|kid| self.decoding.get(kid))
            .ok_or(TokenError::Invalid)?;
        jsonwebtoken::decode::<Claims>(token, key, &self.validation)
            .map(|data| data.claims)
            .map_err(|err| match err.kind() {
                jsonwebtoken::errors::ErrorKind::ExpiredSignature => TokenError::Expired,
                _ => TokenError::Invalid,
            })
    }
}

/// Answers whether an account and its tenant may still act, and in which role. Implemented by
/// the composition root over the store, with a short cache, so a deactivated member or tenant
/// (or a changed role) takes effect within a minute even while an access token lives.
#[async_trait]
pub trait AccountStatus: Send + Sync + 'static {
    /// The account's current role when it and its tenant are active, `None` otherwise; as of
    /// at most a minute ago (answers may be cached).
    async fn current_role(&self, caller: &Caller) -> Result<Option<Role>, ApiError>;
    /// The same, read from the store now (for refresh, where a deactivation must count at once).
    async fn current_role_now(&self, caller: &Caller) -> Result<Option<Role>, ApiError>;
}

/// Everything the auth extractors need; part of the application state.
#[derive(Clone)]
pub struct Auth {
    /// The token keys.
    pub keys: Arc<TokenKeys>,
    /// The account status check.
    pub status: Arc<dyn AccountStatus>,
    /// Each restaurant's request budget (none: unlimited).
    pub tenant_rate: Option<crate::limits::RateLimiter>,
}

impl std::fmt::Debug for Auth {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Auth")
            .field("keys", &self.keys)
            .finish_non_exhaustive()
    }
}

/// A set of roles allowed on a route.
pub trait Roles: Send + Sync + 'static {
    /// The roles.
    const ALLOWED: &'static [Role];
}

/// Only admins.
#[derive(Debug)]
pub struct Admin;
impl Roles for Admin {
    const ALLOWED: &'static [Role] = &[Role::Admin];
}

/// Any staff role.
#[derive(Debug)]
pub struct Staff;
impl Roles for Staff {
    const ALLOWED: &'static [Role] = &Role::STAFF;
}

/// Only customers.
#[derive(Debug)]
pub struct CustomerOnly;
impl Roles for CustomerOnly {
    const ALLOWED: &'static [Role] = &[Role::Customer];
}

/// Customers and admins (placing orders).
#[derive(Debug)]
pub struct CustomerOrAdmin;
impl Roles for CustomerOrAdmin {
    const ALLOWED: &'static [Role] = &[Role::Customer, Role::Admin];
}

/// Anyone with a valid token.
#[derive(Debug)]
pub struct AnyRole;
impl Roles for AnyRole {
    const ALLOWED: &'static [Role] = &[
        Role::Admin,
        Role::Cook,
        Role::Packer,
        Role::Driver,
        Role::Customer,
    ];
}

/// The verified caller of a route that allows the roles `R`: 401 without a valid token (with
/// `WWW-Authenticate: Bearer`), 403 for a valid token of another role, 401 when the account or
/// tenant has been deactivated.
#[derive(Debug)]
pub struct Require<R: Roles>(pub Caller, PhantomData<R>);

impl<R: Roles> Require<R> {
    /// The caller.
    pub fn caller(&self) -> &Caller {
        &self.0
    }
}

impl<R: Roles> std::ops::Deref for Require<R> {
    type Target = Caller;
    fn deref(&self) -> &Caller {
        &self.0
    }
}

/// The bearer token of a request, if it has one.
pub fn bearer(parts: &Parts) -> Option<&str> {
    bearer_in(&parts.headers)
}

/// The bearer token in these headers, if any.
pub fn bearer_in(headers: &http::HeaderMap) -> Option<&str> {
    let value = headers.get(http::header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.split_once(' ')?;
    scheme
        .eq_ignore_ascii_case("bearer")
        .then(|| token.trim())
        .filter(|t| !t.is_empty())
}

impl<S, R> FromRequestParts<S> for Require<R>
where
    S: Send + Sync,
    R: Roles,
    Auth: FromRef<S>,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let auth = Auth::from_ref(state);
        let token = bearer(parts)
            .ok_or_else(|| ApiError::Unauthenticated("a bearer token is required".into()))?;
        let claims = auth
            .keys
            .verify(token)
            .map_err(|e| ApiError::Unauthenticated(e.to_string()))?;
        let caller = Caller {
            tenant: claims.tenant,
            account: claims.sub,
            role: claims.role,
        };
        tracing::Span::current().record("tenant_id", tracing::field::display(&caller.tenant));
        // After the signature check, so nobody can spend another restaurant's budget.
        if let Some(rate) = &auth.tenant_rate
            && let Err(retry_after) = rate.admit(&caller.tenant.to_string()).await
        {
            return Err(ApiError::RateLimited { retry_after });
        }
        // From here on the request acts for the token's tenant (and for no other).
        crate::tenancy::act_for(caller.tenant)?;
        if !R::ALLOWED.contains(&caller.role) {
            return Err(ApiError::Forbidden(format!(
                "the {} role may not do this",
                caller.role
            )));
        }
        match auth.status.current_role(&caller).await? {
            None => {
                return Err(ApiError::Unauthenticated(
                    "the account or restaurant has been deactivated".into(),
                ));
            }
            Some(role) if role != caller.role => {
                return Err(ApiError::Unauthenticated(
                    "your role has changed; refresh your token".into(),
                ));
            }
            Some(_) => {}
        }
        Ok(Require(caller, PhantomData))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use base64::Engine;

    fn keys(kid: &str, secret: u8) -> TokenKeys {
        TokenKeys::new(
            &[(kid.to_owned(), Secret::new(vec![secret; 32]))],
            kid,
            "fanorder",
            "fanorder-api",
        )
        .unwrap()
    }

    fn forge(header: &str, claims: &serde_json::Value) -> String {
        let b64 = base64::engine::general_purpose::URL_SAFE_NO_PAD;
        format!("{}.{}.", b64.encode(header), b64.encode(claims.to_string()))
    }

    #[test]
    fn an_issued_token_verifies_with_its_claims() {
        let keys = keys("k1", 1);
        let tenant = TenantId::new();
        let token = keys
            .issue(tenant, "acct", Role::Cook, Timestamp::now())
            .unwrap();
        assert_eq!(token.expires_in, 900);
        let claims = keys.verify(&token.token).unwrap();
        assert_eq!(claims.tenant, tenant);
        assert_eq!(claims.sub, "acct");
        assert_eq!(claims.role, Role::Cook);
        assert_eq!(claims.exp - claims.iat, 900);
        let header = jsonwebtoken::decode_header(&token.token).unwrap();
        assert_eq!(header.kid.as_deref(), Some("k1"));
    }

    #[test]
    fn rotated_keys_keep_old_tokens_valid_until_the_old_key_is_dropped() {
        let old = keys("k1", 1);
        let token = old
            .issue(TenantId::new(), "a", Role::Admin, Timestamp::now())
            .unwrap()
            .token;
        let both = TokenKeys::new(
            &[
                ("k2".into(), Secret::new(vec![2; 32])),
                ("k1".into(), Secret::new(vec![1; 32])),
            ],
            "k2",
            "fanorder",
            "fanorder-api",
        )
        .unwrap();
        assert!(both.verify(&token).is_ok());
        let new_token = both
            .issue(TenantId::new(), "a", Role::Admin, Timestamp::now())
            .unwrap()
            .token;
        assert_eq!(
            jsonwebtoken::decode_header(&new_token)
                .unwrap()
                .kid
                .as_deref(),
            Some("k2")
        );
        assert_eq!(
            keys("k2", 2).verify(&token),
            Err(TokenError::Invalid),
            "k1 dropped"
        );
        assert!(
            TokenKeys::new(&[("k1".into(), Secret::new(vec![1; 32]))], "k9", "i", "a").is_none()
        );
    }

    #[test]
    fn bad_tokens_are_refused() {
        let keys = keys("k1", 1);
        let now = Timestamp::now();
        let good = keys
            .issue(TenantId::new(), "a", Role::Admin, now)
            .unwrap()
            .token;
        let claims = keys.verify(&good).unwrap();
        let claims_json = serde_json::to_value(&claims).unwrap();

        // alg: none, with or without a kid.
        assert_eq!(
            keys.verify(&forge(r#"{"alg":"none","typ":"JWT"}"#, &claims_json)),
            Err(TokenError::Invalid)
        );
        assert_eq!(
            keys.verify(&forge(r#"{"alg":"none","kid":"k1"}"#, &claims_json)),
            Err(TokenError::Invalid)
        );
        // Another key with the same kid.
        let foreign = self::keys("k1", 9)
            .issue(TenantId::new(), "a", Role::Admin, now)
            .unwrap()
            .token;
        assert_eq!(keys.verify(&foreign), Err(TokenError::Invalid));
        // Expired.
        let old = keys
            .issue(
                TenantId::new(),
                "a",
                Role::Admin,
                now - jiff::SignedDuration::from_hours(1),
            )
            .unwrap()
            .token;
        assert_eq!(keys.verify(&old), Err(TokenError::Expired));
        // Another audience or issuer.
        let other_aud = TokenKeys::new(
            &[("k1".into(), Secret::new(vec![1; 32]))],
            "k1",
            "fanorder",
            "elsewhere",
        )
        .unwrap();
        let token = other_aud
            .issue(TenantId::new(), "a", Role::Admin, now)
            .unwrap()
            .token;
        assert_eq!(keys.verify(&token), Err(TokenError::Invalid));
        let other_iss = TokenKeys::new(
            &[("k1".into(), Secret::new(vec![1; 32]))],
            "k1",
            "evil",
            "fanorder-api",
        )
        .unwrap();
        let token = other_iss
            .issue(TenantId::new(), "a", Role::Admin, now)
            .unwrap()
            .token;
        assert_eq!(keys.verify(&token), Err(TokenError::Invalid));
        // A tampered payload (role raised to admin) with the original signature.
        let cook = keys
            .issue(TenantId::new(), "a", Role::Cook, now)
            .unwrap()
            .token;
        let parts: Vec<&str> = cook.split('.').collect();
        let b64 = base64::engine::general_purpose::URL_SAFE_NO_PAD;
        let mut payload: serde_json::Value =
            serde_json::from_slice(&b64.decode(parts[1]).unwrap()).unwrap();
        payload["role"] = "admin".into();
        let tampered = format!(
            "{}.{}.{}",
            parts[0],
            b64.encode(payload.to_string()),
            parts[2]
        );
        assert_eq!(keys.verify(&tampered), Err(TokenError::Invalid));
        // Garbage.
        for junk in ["", "a.b.c", "not a token", "...."] {
            assert_eq!(keys.verify(junk), Err(TokenError::Invalid));
        }
    }

    #[test]
    fn roles_parse_and_print_the_same() {
        for role in [
            Role::Admin,
            Role::Cook,
            Role::Packer,
            Role::Driver,
            Role::Customer,
        ] {
            assert_eq!(role.as_str().parse::<Role>(), Ok(role));
            assert_eq!(serde_json::to_value(role).unwrap(), role.as_str());
        }
        assert!("chef".parse::<Role>().is_err());
        assert!(Role::Cook.is_staff() && !Role::Customer.is_staff());
    }
}
