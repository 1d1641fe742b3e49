//! Login sessions: an access token (JWT, 15 minutes) and a refresh token that works once. Each
//! refresh rotates the session to a new token; presenting an older token again means it was
//! stolen or replayed, and revokes the whole session.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use fanorder_platform::auth::{Auth, Caller, TokenKeys};
use fanorder_platform::tenancy;
use fanorder_platform::{ApiError, Role, Secret, TenantId};
use fanorder_store::Table;
use jiff::{SignedDuration, Timestamp};
use sha2::{Digest, Sha256};

use crate::model::{RefreshToken, SessionId, Tokens};
use crate::store::{self, Session};

/// How long a session lasts without being refreshed.
pub const REFRESH_TTL: SignedDuration = SignedDuration::from_hours(30 * 24);

/// A new session and the refresh token that opens it.
#[derive(Debug, Clone)]
pub struct NewSession {
    /// The session to store.
    pub session: Session,
    /// Its first refresh token.
    pub refresh: RefreshToken,
}

fn secret() -> String {
    URL_SAFE_NO_PAD.encode(Secret::random(32).expose())
}

/// The stored form of a refresh secret.
pub fn hash_secret(secret: &str) -> String {
    let digest = Sha256::digest(secret.as_bytes());
    digest.iter().map(|b| format!("{b:02x}")).collect()
}

fn same(a: &str, b: &str) -> bool {
    // Constant time: the comparison must not tell how many characters matched.
    a.len() == b.len()
        && a.bytes()
            .zip(b.bytes())
            .fold(0u8, |acc, (x, y)| acc | (x ^ y))
            == 0
}

/// A fresh session for an account.
pub fn new_session(tenant: TenantId, account: &str, role: Role, now: Timestamp) -> NewSession {
    let id = SessionId::new();
    let refresh = RefreshToken {
        tenant,
        session: id,
        generation: 0,
        secret: secret(),
    };
    let session = Session {
        id,
        account: account.to_owned(),
        role,
        generation: 0,
        secret_hash: hash_secret(&refresh.secret),
        revoked: false,
        expires_at: (now + REFRESH_TTL).as_second(),
        created_at: now,
    };
    NewSession { session, refresh }
}

/// The token pair for an account.
pub fn tokens(
    keys: &TokenKeys,
    tenant: TenantId,
    account: &str,
    role: Role,
    refresh: &RefreshToken,
    now: Timestamp,
) -> Result<Tokens, ApiError> {
    let access = keys.issue(tenant, account, role, now)?;
    Ok(Tokens {
        access_token: access.token,
        refresh_token: refresh.encode(),
        token_type: "Bearer".to_owned(),
        expires_in: access.expires_in,
    })
}

/// Starts a session for an account that just proved who it is; returns its tokens.
pub async fn start(
    table: &Table,
    keys: &TokenKeys,
    tenant: TenantId,
    account: &str,
    role: Role,
    now: Timestamp,
) -> Result<Tokens, ApiError> {
    let new = new_session(tenant, account, role, now);
    store::create_session(table, &tenant, &new.session).await?;
    tokens(keys, tenant, account, role, &new.refresh, now)
}

fn refused() -> ApiError {
    ApiError::Unauthenticated("the refresh token is not valid".into())
}

/// Exchanges a refresh token for new tokens. The account and tenant are checked now, not from
/// a cache, so a deactivated member cannot refresh even once.
pub async fn refresh(
    table: &Table,
    auth: &Auth,
    text: &str,
    now: Timestamp,
) -> Result<(Tokens, Caller), ApiError> {
    let token = RefreshToken::parse(text).ok_or_else(refused)?;
    // The refresh token is the credential: the request acts for its tenant (and no other).
    tenancy::act_for(token.tenant)?;
    let session = store::session(table, &token.tenant, &token.session)
        .await?
        .ok_or_else(refused)?;
    if session.revoked {
        return Err(refused());
    }
    if token.generation < session.generation {
        // An old token came back: whoever holds the session's tokens is not only its owner.
        tracing::warn!(tenant_id = %token.tenant, session = %token.session, "refresh token reused; revoking the session");
        store::revoke_session(table, &token.tenant, &token.session).await?;
        return Err(ApiError::Unauthenticated(
            "this refresh token was already used; the session has been revoked".into(),
        ));
    }
    if token.generation > session.generation
        || !same(&hash_secret(&token.secret), &session.secret_hash)
    {
        return Err(refused());
    }
    let caller = Caller {
        tenant: token.tenant,
        account: session.account.clone(),
        role: session.role,
    };
    // The new access token carries the account's role as it is now (an admin may have changed it).
    let Some(role) = auth.status.current_role_now(&caller).await? else {
        store::revoke_session(table, &token.tenant, &token.session).await?;
        return Err(ApiError::Unauthenticated(
            "the account or restaurant has been deactivated".into(),
        ));
    };
    let caller = Caller { role, ..caller };
    let next = RefreshToken {
        generation: token.generation + 1,
        secret: secret(),
        ..token.clone()
    };
    let expires_at = (now + REFRESH_TTL).as_second();
    let rotated = store::rotate_session(
        table,
        &token.tenant,
        &token.session,
        token.generation,
        &hash_secret(&next.secret),
        expires_at,
    )
    .await?;
    if !rotated {
        // A concurrent refresh with the same token won the race: the token was used twice.
        store::revoke_session(table, &token.tenant, &token.session).await?;
        return Err(ApiError::Unauthenticated(
            "this refresh token was already used; the session has been revoked".into(),
        ));
    }
    let tokens = tokens(
        &auth.keys,
        caller.tenant,
        &caller.account,
        caller.role,
        &next,
        now,
    )?;
    Ok((tokens, caller))
}

/// Ends the session a refresh token belongs to. Idempotent: logging out twice is fine.
pub async fn logout(table: &Table, text: &str) -> Result<(), ApiError> {
    let token = RefreshToken::parse(text).ok_or_else(refused)?;
    tenancy::act_for(token.tenant)?;
    let Some(session) = store::session(table, &token.tenant, &token.session).await? else {
        return Err(refused());
    };
    // Any token this session ever issued may end it; a made-up secret may not.
    let current = token.generation == session.generation
        && same(&hash_secret(&token.secret), &session.secret_hash);
    if !current && token.generation >= session.generation {
        return Err(refused());
    }
    store::revoke_session(table, &token.tenant, &token.session).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_new_session_stores_only_the_hash_of_its_secret() {
        let now = Timestamp::now();
        let new = new_session(TenantId::new(), "acct", Role::Cook, now);
        assert_eq!(new.session.secret_hash, hash_secret(&new.refresh.secret));
        assert_ne!(new.session.secret_hash, new.refresh.secret);
        assert_eq!(new.refresh.secret.len(), 43);
        assert_eq!(new.session.expires_at, (now + REFRESH_TTL).as_second());
        assert!(same("abc", "abc") && !same("abc", "abd") && !same("abc", "ab"));
    }
}
