//! Access token verification (`fanorder_platform::auth::TokenKeys::verify`). An issued token
//! verifies to the claims it was issued with, whatever the account name; a changed token is
//! never accepted: characters or bits of a real token edited, a segment edited and re-encoded,
//! a forged header (`alg: none`, another HMAC or an asymmetric `alg` even when signed with the
//! right secret, a missing or unknown `kid`), a token signed with another key, and garbage. A
//! correctly signed token is accepted only with valid claims: expired is `Expired`; another
//! issuer or audience, a missing claim, an unknown role or a bad tenant id is `Invalid`.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;
use fanorder_fuzz::fuzz;
use fanorder_fuzz::mutate::{self, ByteEdit, Bytes};
use fanorder_platform::auth::{ACCESS_TOKEN_TTL, Claims, Role, TokenError, TokenKeys};
use fanorder_platform::{Secret, TenantId};
use jiff::Timestamp;
use jsonwebtoken::{Algorithm, EncodingKey};
use proptest::prelude::*;
use serde_json::{Value, json};

const SIGNING: &[u8] = b"fuzz-jwt-signing-key-0123456789ab";
const OLDER: &[u8] = b"fuzz-jwt-older-key-0123456789abcd";

fn keys() -> TokenKeys {
    TokenKeys::new(
        &[
            ("k1".to_owned(), Secret::new(SIGNING.to_vec())),
            ("k0".to_owned(), Secret::new(OLDER.to_vec())),
        ],
        "k1",
        "fanorder",
        "fanorder-api",
    )
    .expect("k1 is among the keys")
}

/// `header.payload.signature` with the signature of `alg` under `secret` (HMAC algorithms).
fn signed(header: &Value, payload: &Value, secret: &[u8], alg: Algorithm) -> String {
    let message = format!(
        "{}.{}",
        B64.encode(header.to_string()),
        B64.encode(payload.to_string())
    );
    let signature =
        jsonwebtoken::crypto::sign(message.as_bytes(), &EncodingKey::from_secret(secret), alg)
            .expect("HMAC signs with any key");
    format!("{message}.{signature}")
}

/// A forged header.
#[derive(Debug, Clone)]
enum Forged {
    /// `alg: none` (any case), with or without a kid.
    None(&'static str, bool),
    /// Another algorithm, signed with the right secret under that algorithm (HMAC) or under
    /// HS256 (the algorithm-confusion attack).
    OtherAlg(&'static str),
    /// HS256 with an unknown, missing or empty kid, signed with the right secret.
    Kid(Option<&'static str>),
    /// HS256, kid k0, but signed with k1's secret.
    WrongKidSecret,
}

/// A change to the claims of a token signed with the right key.
#[derive(Debug, Clone)]
enum ClaimChange {
    /// Expired this many seconds beyond the leeway.
    Expired(i64),
    Issuer(String),
    Audience(String),
    Remove(&'static str),
    Role(String),
    Tenant(String),
}

#[derive(Debug, Clone)]
enum Case {
    RoundTrip,
    /// Edits of the token text.
    Text(Vec<ByteEdit>),
    /// Edits of one decoded segment, encoded again.
    Segment(usize, Vec<ByteEdit>),
    /// Another token's segment in place of this one's.
    Swap(usize),
    Forged(Forged),
    Claims(ClaimChange),
    /// Issued under the same kid with another secret.
    OtherKey(Bytes),
    Garbage(String),
}

fn case() -> impl Strategy<Value = Case> {
    let edits = prop::collection::vec(mutate::byte_edit(), 1..4);
    let forged = prop_oneof![
        (
            prop::sample::select(&["none", "None", "NONE", "nOnE"][..]),
            any::<bool>()
        )
            .prop_map(|(alg, kid)| Forged::None(alg, kid)),
        prop::sample::select(
            &[
                "HS384", "HS512", "RS256", "ES256", "PS256", "EdDSA", "hs256", "HS256 ", ""
            ][..]
        )
        .prop_map(Forged::OtherAlg),
        prop::sample::select(&[None, Some("k9"), Some(""), Some("K1"), Some("k1 ")][..])
            .prop_map(Forged::Kid),
        Just(Forged::WrongKidSecret),
    ];
    let claims = prop_oneof![
        (1i64..10_000_000).prop_map(ClaimChange::Expired),
        prop_oneof![Just("Fanorder".to_owned()), Just(String::new()), ".{0,12}"]
            .prop_map(ClaimChange::Issuer),
        prop_oneof![
            Just("fanorder-api ".to_owned()),
            Just(String::new()),
            ".{0,12}"
        ]
        .prop_map(ClaimChange::Audience),
        prop::sample::select(&["exp", "iss", "aud", "sub", "tenant", "role"][..])
            .prop_map(ClaimChange::Remove),
        prop_oneof![
            Just("Admin".to_owned()),
            Just("superadmin".to_owned()),
            ".{0,10}"
        ]
        .prop_map(ClaimChange::Role),
        prop_oneof![Just(String::new()), Just("T#A".to_owned()), ".{0,30}"]
            .prop_map(ClaimChange::Tenant),
    ];
    prop_oneof![
        2 => Just(Case::RoundTrip),
        4 => edits.clone().prop_map(Case::Text),
        4 => (0usize..3, edits).prop_map(|(at, e)| Case::Segment(at, e)),
        1 => (0usize..3).prop_map(Case::Swap),
        3 => forged.prop_map(Case::Forged),
        3 => claims.prop_map(Case::Claims),
        1 => prop::collection::vec(any::<u8>(), 0..70)
            .prop_filter("another key", |k| k.as_slice() != SIGNING)
            .prop_map(|k| Case::OtherKey(Bytes(k))),
        1 => prop_oneof![
            ".{0,200}",
            "[A-Za-z0-9_-]{0,80}\\.[A-Za-z0-9_-]{0,300}\\.[A-Za-z0-9_=.+/-]{0,80}",
        ]
        .prop_map(Case::Garbage),
    ]
}

fn role() -> impl Strategy<Value = Role> {
    prop::sample::select(
        Role::STAFF
            .iter()
            .copied()
            .chain([Role::Customer])
            .collect::<Vec<_>>(),
    )
}

fn refused(keys: &TokenKeys, token: &str, why: TokenError) -> Result<(), TestCaseError> {
    prop_assert_eq!(keys.verify(token), Err(why), "token {:?}", token);
    Ok(())
}

#[test]
fn fuzz_jwt_verification() {
    let keys = keys();
    let strategy = (".{0,40}", role(), case());
    fuzz("jwt", 300, strategy, |(account, role, case)| {
        let now = Timestamp::now();
        let tenant = TenantId::new();
        let token = keys
            .issue(tenant, &account, role, now)
            .map_err(|e| TestCaseError::fail(format!("{e:?}")))?
            .token;
        let claims = keys
            .verify(&token)
            .map_err(|e| TestCaseError::fail(format!("a fresh token refused: {e}")))?;
        let parts: Vec<&str> = token.split('.').collect();
        prop_assert_eq!(parts.len(), 3);
        let header: Value = serde_json::from_slice(&B64.decode(parts[0]).unwrap_or_default())
            .map_err(|e| TestCaseError::fail(e.to_string()))?;
        let payload =
            serde_json::to_value(&claims).map_err(|e| TestCaseError::fail(e.to_string()))?;
        match case {
            Case::RoundTrip => {
                let ttl = i64::try_from(ACCESS_TOKEN_TTL.as_secs()).unwrap_or(i64::MAX);
                prop_assert_eq!(
                    (claims.tenant, claims.sub.as_str(), claims.role),
                    (tenant, account.as_str(), role)
                );
                prop_assert_eq!(
                    (claims.iss.as_str(), claims.aud.as_str()),
                    ("fanorder", "fanorder-api")
                );
                prop_assert_eq!(claims.exp - claims.iat, ttl);
            }
            Case::Text(edits) => {
                let edited = mutate::edit_text(&token, &edits);
                if edited != token {
                    refused(&keys, &edited, TokenError::Invalid)?;
                }
            }
            Case::Segment(at, edits) => {
                let mut bytes = B64
                    .decode(parts[at])
                    .map_err(|e| TestCaseError::fail(e.to_string()))?;
                mutate::edit_bytes(&mut bytes, &edits);
                let mut edited: Vec<String> = parts.iter().map(|p| (*p).to_owned()).collect();
                edited[at] = B64.encode(&bytes);
                let edited = edited.join(".");
                if edited != token {
                    refused(&keys, &edited, TokenError::Invalid)?;
                }
            }
            Case::Swap(at) => {
                let other = keys
                    .issue(TenantId::new(), &account, role, now)
                    .map_err(|e| TestCaseError::fail(format!("{e:?}")))?
                    .token;
                let mut swapped: Vec<&str> = parts.clone();
                let other_parts: Vec<&str> = other.split('.').collect();
                swapped[at] = other_parts[at];
                let swapped = swapped.join(".");
                if swapped != token && swapped != other {
                    refused(&keys, &swapped, TokenError::Invalid)?;
                }
            }
            Case::Forged(forged) => {
                let forged = match forged {
                    Forged::None(alg, with_kid) => {
                        let header = if with_kid {
                            json!({"alg": alg, "kid": "k1", "typ": "JWT"})
                        } else {
                            json!({"alg": alg, "typ": "JWT"})
                        };
                        format!(
                            "{}.{}.",
                            B64.encode(header.to_string()),
                            B64.encode(payload.to_string())
                        )
                    }
                    Forged::OtherAlg(alg) => {
                        let header = json!({"alg": alg, "kid": "k1", "typ": "JWT"});
                        let under = match alg {
                            "HS384" => Algorithm::HS384,
                            "HS512" => Algorithm::HS512,
                            _ => Algorithm::HS256,
                        };
                        signed(&header, &payload, SIGNING, under)
                    }
                    Forged::Kid(kid) => {
                        let header = match kid {
                            Some(kid) => json!({"alg": "HS256", "kid": kid, "typ": "JWT"}),
                            None => json!({"alg": "HS256", "typ": "JWT"}),
                        };
                        signed(&header, &payload, SIGNING, Algorithm::HS256)
                    }
                    Forged::WrongKidSecret => {
                        let header = json!({"alg": "HS256", "kid": "k0", "typ": "JWT"});
                        signed(&header, &payload, SIGNING, Algorithm::HS256)
                    }
                };
                refused(&keys, &forged, TokenError::Invalid)?;
            }
            Case::Claims(change) => {
                let mut changed = payload.clone();
                let want = match change {
                    ClaimChange::Expired(by) => {
                        // Issued long enough ago to be past its expiry and the leeway.
                        let age = claims.exp - claims.iat + 5 + by;
                        changed["exp"] = json!(now.as_second() - 5 - by);
                        changed["iat"] = json!(now.as_second() - age);
                        TokenError::Expired
                    }
                    ClaimChange::Issuer(iss) => {
                        prop_assume!(iss != "fanorder");
                        changed["iss"] = json!(iss);
                        TokenError::Invalid
                    }
                    ClaimChange::Audience(aud) => {
                        prop_assume!(aud != "fanorder-api");
                        changed["aud"] = json!(aud);
                        TokenError::Invalid
                    }
                    ClaimChange::Remove(claim) => {
                        if let Some(map) = changed.as_object_mut() {
                            map.remove(claim);
                        }
                        TokenError::Invalid
                    }
                    ClaimChange::Role(name) => {
                        prop_assume!(name.parse::<Role>().is_err());
                        changed["role"] = json!(name);
                        TokenError::Invalid
                    }
                    ClaimChange::Tenant(id) => {
                        prop_assume!(serde_json::from_value::<TenantId>(json!(id)).is_err());
                        changed["tenant"] = json!(id);
                        TokenError::Invalid
                    }
                };
                refused(
                    &keys,
                    &signed(&header, &changed, SIGNING, Algorithm::HS256),
                    want,
                )?;
                // The same claims under the older key still verify, unchanged ones included.
                let mut older = header.clone();
                older["kid"] = json!("k0");
                let fine = signed(&older, &payload, OLDER, Algorithm::HS256);
                prop_assert_eq!(keys.verify(&fine), Ok::<Claims, TokenError>(claims.clone()));
            }
            Case::OtherKey(Bytes(secret)) => {
                let other = TokenKeys::new(
                    &[("k1".to_owned(), Secret::new(secret))],
                    "k1",
                    "fanorder",
                    "fanorder-api",
                )
                .expect("k1 is among the keys");
                let foreign = other
                    .issue(tenant, &account, role, now)
                    .map_err(|e| TestCaseError::fail(format!("{e:?}")))?
                    .token;
                refused(&keys, &foreign, TokenError::Invalid)?;
            }
            Case::Garbage(text) => refused(&keys, &text, TokenError::Invalid)?,
        }
        Ok(())
    });
}
