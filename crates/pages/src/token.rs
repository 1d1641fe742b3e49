//! Page access tokens are secrets: encrypted at rest with AES-256-GCM under a key derived from
//! `FANORDER_SECRET_KEY`, decrypted only to call the Graph API, never returned or logged.

use aes_gcm::aead::{Aead, KeyInit};
use aes_gcm::{Aes256Gcm, Nonce};
use base64::Engine;
use base64::engine::general_purpose::STANDARD as B64;
use fanorder_platform::{ApiError, Secret};

/// Encrypts and decrypts page tokens.
#[derive(Clone)]
pub struct TokenBox {
    cipher: Aes256Gcm,
}

impl std::fmt::Debug for TokenBox {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("TokenBox(<key>)")
    }
}

const NONCE_LEN: usize = 12;

impl TokenBox {
    /// A box keyed with 32 bytes.
    pub fn new(key: &[u8; 32]) -> Self {
        Self {
            cipher: Aes256Gcm::new(key.into()),
        }
    }

    /// The token, encrypted with a fresh nonce: `base64(nonce || ciphertext)`.
    pub fn seal(&self, token: &str) -> Result<String, ApiError> {
        let nonce_bytes = Secret::random(NONCE_LEN);
        let nonce = Nonce::try_from(nonce_bytes.expose())
            .map_err(|_| ApiError::internal("nonce length"))?;
        let sealed = self
            .cipher
            .encrypt(&nonce, token.as_bytes())
            .map_err(|_| ApiError::internal("cannot encrypt the page token"))?;
        let mut out = nonce_bytes.expose().to_vec();
        out.extend_from_slice(&sealed);
        Ok(B64.encode(out))
    }

    /// The token back, or an error when the text was not sealed with this key.
    pub fn open(&self, sealed: &str) -> Result<String, ApiError> {
        let failed = || {
            ApiError::internal(
                "a stored page token cannot be decrypted (was FANORDER_SECRET_KEY changed?)",
            )
        };
        let bytes = B64.decode(sealed).map_err(|_| failed())?;
        if bytes.len() <= NONCE_LEN {
            return Err(failed());
        }
        let (nonce, data) = bytes.split_at(NONCE_LEN);
        let nonce = Nonce::try_from(nonce).map_err(|_| failed())?;
        let plain = self.cipher.decrypt(&nonce, data).map_err(|_| failed())?;
        String::from_utf8(plain).map_err(|_| failed())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_round_trip_and_never_appear_in_the_sealed_text() {
        let tokens = TokenBox::new(&[3; 32]);
        let sealed = tokens.seal("EAAB-secret-page-token").unwrap();
        assert!(!sealed.contains("secret"));
        assert_ne!(
            sealed,
            tokens.seal("EAAB-secret-page-token").unwrap(),
            "a fresh nonce each time"
        );
        assert_eq!(tokens.open(&sealed).unwrap(), "EAAB-secret-page-token");
        assert!(
            TokenBox::new(&[4; 32]).open(&sealed).is_err(),
            "another key cannot open it"
        );
        assert!(tokens.open("garbage").is_err());
        let mut tampered = B64.decode(&sealed).unwrap();
        let last = tampered.len() - 1;
        tampered[last] ^= 1;
        assert!(tokens.open(&B64.encode(tampered)).is_err());
    }
}
