//! Passwords: the policy (8 to 128 characters) and argon2id hashing with the OWASP parameters
//! (19 MiB, t=2, p=1). Hashing is CPU-heavy, so it runs on the blocking pool behind a semaphore
//! sized to the cores: a login flood waits its turn instead of starving other requests.

use std::fmt;
use std::sync::Arc;

use argon2::{Algorithm, Argon2, Params, PasswordHasher, PasswordVerifier, Version};
use tokio::sync::Semaphore;

use crate::error::ApiError;

/// Fewest characters a password may have.
pub const MIN_PASSWORD_CHARS: usize = 8;
/// Most characters a password may have.
pub const MAX_PASSWORD_CHARS: usize = 128;

/// A password that meets the policy. Never printed.
#[derive(Clone)]
pub struct Password(String);

impl Password {
    /// Checks the policy.
    pub fn parse(text: &str) -> Result<Self, String> {
        let chars = text.chars().count();
        if chars < MIN_PASSWORD_CHARS {
            return Err(format!("must be at least {MIN_PASSWORD_CHARS} characters"));
        }
        if chars > MAX_PASSWORD_CHARS {
            return Err(format!("must be at most {MAX_PASSWORD_CHARS} characters"));
        }
        Ok(Self(text.to_owned()))
    }
}

impl fmt::Debug for Password {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Password(<redacted>)")
    }
}

fn argon2() -> Argon2<'static> {
    // The OWASP recommendation; Params::new only fails for out-of-range values.
    let params = Params::new(19 * 1024, 2, 1, None).unwrap_or_default();
    Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
}

/// The hasher: shared, cheap to clone.
#[derive(Clone)]
pub struct Passwords {
    permits: Arc<Semaphore>,
    /// A hash of a random password, verified against when an account does not exist, so an
    /// unknown email takes as long as a wrong password.
    dummy: Arc<str>,
}

impl fmt::Debug for Passwords {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Passwords")
            .field("permits", &self.permits.available_permits())
            .finish()
    }
}

impl Passwords {
    /// A hasher running at most `concurrency` hashes at once (use the number of cores).
    pub fn new(concurrency: usize) -> Result<Self, ApiError> {
        let random = crate::config::Secret::random(24).to_base64();
        let dummy = argon2()
            .hash_password(random.as_bytes())
            .map_err(|e| ApiError::internal(e.to_string()))?;
        Ok(Self {
            permits: Arc::new(Semaphore::new(concurrency.max(1))),
            dummy: dummy.to_string().into(),
        })
    }

    /// A hasher sized to this machine's cores.
    pub fn for_this_machine() -> Result<Self, ApiError> {
        Self::new(std::thread::available_parallelism().map_or(2, usize::from))
    }

    async fn blocking<T: Send + 'static>(
        &self,
        work: impl FnOnce() -> T + Send + 'static,
    ) -> Result<T, ApiError> {
        let _permit = self.permits.acquire().await.map_err(ApiError::internal)?;
        tokio::task::spawn_blocking(work)
            .await
            .map_err(ApiError::internal)
    }

    /// The PHC string of a password (`$argon2id$v=19$m=19456,t=2,p=1$...`).
    pub async fn hash(&self, password: &Password) -> Result<String, ApiError> {
        let text = password.0.clone();
        self.blocking(move || {
            argon2()
                .hash_password(text.as_bytes())
                .map(|h| h.to_string())
        })
        .await?
        .map_err(|e| ApiError::internal(e.to_string()))
    }

    /// True when the password matches the stored hash. With no hash (unknown account) it still
    /// does the same work and answers false.
    pub async fn verify(&self, password: &str, stored: Option<&str>) -> Result<bool, ApiError> {
        let known = stored.is_some();
        let hash = stored.map_or_else(|| self.dummy.to_string(), str::to_owned);
        let text = password.to_owned();
        let matches = self
            .blocking(move || {
                argon2()
                    .verify_password(text.as_bytes(), hash.as_str())
                    .is_ok()
            })
            .await?;
        Ok(known && matches)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_policy_counts_characters() {
        assert!(Password::parse("1234567").is_err());
        assert!(Password::parse("12345678").is_ok());
        assert!(
            Password::parse("ñññññññ").is_err(),
            "7 characters even if 14 bytes"
        );
        assert!(Password::parse(&"x".repeat(128)).is_ok());
        assert!(Password::parse(&"x".repeat(129)).is_err());
        assert_eq!(
            format!("{:?}", Password::parse("hunter2hunter2").unwrap()),
            "Password(<redacted>)"
        );
    }

    #[tokio::test]
    async fn hashes_verify_and_use_argon2id_with_owasp_parameters() {
        let passwords = Passwords::new(2).unwrap();
        let password = Password::parse("correct horse").unwrap();
        let hash = passwords.hash(&password).await.unwrap();
        assert!(
            hash.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"),
            "{hash}"
        );
        assert!(
            passwords
                .verify("correct horse", Some(&hash))
                .await
                .unwrap()
        );
        assert!(!passwords.verify("wrong horse", Some(&hash)).await.unwrap());
        assert!(
            !passwords.verify("correct horse", None).await.unwrap(),
            "no account, no match"
        );
        assert!(
            !passwords
                .verify("x", Some("not a phc string"))
                .await
                .unwrap()
        );
        assert_ne!(hash, passwords.hash(&password).await.unwrap(), "salted");
    }
}
