//! The process's resolved secrets. In production every secret comes from configuration; in
//! development a missing one is generated once into the data directory (with a loud warning), so
//! `fanorder serve` runs with no setup and `fanorder simulate` finds the same values.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use hmac::{Hmac, KeyInit, Mac};
use sha2::Sha256;

use crate::config::{Config, ConfigError, Environment, Secret};

/// The file, inside the data directory, that holds generated development secrets.
pub const DEV_SECRETS_FILE: &str = "dev-secrets.json";

/// Secrets the process runs with.
#[derive(Clone, Debug)]
pub struct Secrets {
    master: Secret,
    /// JWT keys by id; the first signs unless configuration names another.
    pub jwt_keys: Vec<(String, Secret)>,
    /// The id of the key that signs new tokens.
    pub jwt_signing_kid: String,
    /// The Facebook app secret (webhook signatures).
    pub fb_app_secret: Secret,
    /// The webhook verify token.
    pub fb_verify_token: String,
    /// True when any secret was generated for development rather than configured.
    pub generated: bool,
}

impl Secrets {
    /// Secrets from explicit values (tests, Lambda after fetching from Secrets Manager); the
    /// JWT key is derived from the master secret under the id `k0`.
    pub fn new(master: Secret) -> Self {
        let mut secrets = Self {
            master,
            jwt_keys: Vec::new(),
            jwt_signing_kid: "k0".to_owned(),
            fb_app_secret: Secret::new(Vec::new()),
            fb_verify_token: String::new(),
            generated: false,
        };
        secrets.jwt_keys = vec![("k0".to_owned(), Secret::new(secrets.derive("jwt").to_vec()))];
        secrets.fb_app_secret = Secret::new(hex_of(&secrets.derive("fb-app-secret")).into_bytes());
        secrets.fb_verify_token = hex_of(&secrets.derive("fb-verify-token"));
        secrets
    }

    /// Resolves the secrets for `config`: configured values win; in development, missing ones are
    /// read from (or generated into) `<data_dir>/dev-secrets.json`.
    pub fn resolve(config: &Config) -> Result<Self, ConfigError> {
        let production = config.env == Environment::Production;
        let mut generated = false;
        let dev = || DevSecrets::open(&config.data_dir);
        let master = match &config.secret_key {
            Some(key) => key.0.clone(),
            None if production => {
                return Err(ConfigError::new(
                    "FANORDER_SECRET_KEY",
                    "is required in production",
                ));
            }
            None => {
                generated = true;
                dev()?.get_or_create("secret_key", 32)?
            }
        };
        let jwt_keys = match &config.jwt_keys {
            Some(keys) => keys.0.clone(),
            None if production => {
                return Err(ConfigError::new(
                    "FANORDER_JWT_KEYS",
                    "is required in production",
                ));
            }
            None => {
                generated = true;
                vec![("dev".to_owned(), dev()?.get_or_create("jwt_key", 32)?)]
            }
        };
        let jwt_signing_kid = match &config.jwt_signing_kid {
            Some(kid) => kid.clone(),
            None => jwt_keys
                .first()
                .map(|(kid, _)| kid.clone())
                .unwrap_or_default(),
        };
        let fb_app_secret = match config.fb_app_secret.as_deref().filter(|s| !s.is_empty()) {
            Some(secret) => Secret::new(secret.as_bytes().to_vec()),
            None if production => {
                return Err(ConfigError::new(
                    "FANORDER_FB_APP_SECRET",
                    "is required in production",
                ));
            }
            None => {
                generated = true;
                Secret::new(dev()?.get_or_create_text("fb_app_secret")?.into_bytes())
            }
        };
        let fb_verify_token = match config.fb_verify_token.as_deref().filter(|s| !s.is_empty()) {
            Some(token) => token.to_owned(),
            None if production => {
                return Err(ConfigError::new(
                    "FANORDER_FB_VERIFY_TOKEN",
                    "is required in production",
                ));
            }
            None => dev()?.get_or_create_text("fb_verify_token")?,
        };
        Ok(Self {
            master,
            jwt_keys,
            jwt_signing_kid,
            fb_app_secret,
            fb_verify_token,
            generated,
        })
    }

    /// A 256-bit key for one purpose (`cursor`, `page-token`...), derived from the master
    /// secret, so purposes never share a key and one configured secret serves them all.
    pub fn derive(&self, purpose: &str) -> [u8; 32] {
        let mut mac = <Hmac<Sha256> as KeyInit>::new_from_slice(self.master.expose())
            .unwrap_or_else(|_| unreachable!("HMAC takes any key length"));
        mac.update(b"fanorder/");
        mac.update(purpose.as_bytes());
        mac.finalize().into_bytes().into()
    }
}

fn hex_of(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Development secrets persisted as base64 in a JSON file readable only by the owner.
#[derive(Debug)]
pub struct DevSecrets {
    path: PathBuf,
}

impl DevSecrets {
    /// The secrets file inside `data_dir` (created on first write).
    pub fn open(data_dir: &Path) -> Result<Self, ConfigError> {
        Ok(Self {
            path: data_dir.join(DEV_SECRETS_FILE),
        })
    }

    fn read(&self) -> Result<BTreeMap<String, String>, ConfigError> {
        match std::fs::read(&self.path) {
            Ok(bytes) => serde_json::from_slice(&bytes).map_err(|e| {
                ConfigError::new(
                    "FANORDER_DATA_DIR",
                    format!("{} is not valid JSON: {e}", self.path.display()),
                )
            }),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(BTreeMap::new()),
            Err(e) => Err(ConfigError::new(
                "FANORDER_DATA_DIR",
                format!("cannot read {}: {e}", self.path.display()),
            )),
        }
    }

    /// The named secret, generating `len` random bytes the first time.
    pub fn get_or_create(&self, name: &str, len: usize) -> Result<Secret, ConfigError> {
        use base64::Engine;
        let engine = base64::engine::general_purpose::STANDARD;
        let mut all = self.read()?;
        if let Some(value) = all.get(name)
            && let Ok(bytes) = engine.decode(value)
        {
            return Ok(Secret::new(bytes));
        }
        let secret = Secret::random(len);
        all.insert(name.to_owned(), secret.to_base64());
        self.write(&all)?;
        tracing::warn!(
            file = %self.path.display(),
            secret = name,
            "generated a development secret; set FANORDER_ENV=production and configure real secrets for any real use"
        );
        Ok(secret)
    }

    /// The named text value (e.g. the development webhook verify token), generating a random
    /// alphanumeric one the first time.
    pub fn get_or_create_text(&self, name: &str) -> Result<String, ConfigError> {
        let mut all = self.read()?;
        if let Some(value) = all.get(name) {
            return Ok(value.clone());
        }
        let value: String = Secret::random(16)
            .expose()
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect();
        all.insert(name.to_owned(), value.clone());
        self.write(&all)?;
        Ok(value)
    }

    fn write(&self, all: &BTreeMap<String, String>) -> Result<(), ConfigError> {
        let fail = |e: std::io::Error| {
            ConfigError::new(
                "FANORDER_DATA_DIR",
                format!("cannot write {}: {e}", self.path.display()),
            )
        };
        if let Some(dir) = self.path.parent() {
            std::fs::create_dir_all(dir).map_err(fail)?;
        }
        let text = serde_json::to_vec_pretty(all).map_err(|e| fail(std::io::Error::other(e)))?;
        // Write then rename, so a crash never leaves half a file.
        let tmp = self.path.with_extension("json.tmp");
        std::fs::write(&tmp, text).map_err(fail)?;
        restrict(&tmp).map_err(fail)?;
        std::fs::rename(&tmp, &self.path).map_err(fail)
    }
}

#[cfg(unix)]
fn restrict(path: &Path) -> std::io::Result<()> {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600))
}

#[cfg(not(unix))]
fn restrict(_path: &Path) -> std::io::Result<()> {
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn development_secrets_are_generated_once_and_reused() {
        let dir = tempfile::tempdir().unwrap();
        let config = Config {
            data_dir: dir.path().join("data"),
            ..Config::default()
        };
        let first = Secrets::resolve(&config).unwrap();
        assert!(first.generated);
        let second = Secrets::resolve(&config).unwrap();
        assert_eq!(first.derive("cursor"), second.derive("cursor"));
        assert_ne!(
            first.derive("cursor"),
            first.derive("page-token"),
            "purposes get distinct keys"
        );
        let text = std::fs::read_to_string(dir.path().join("data").join(DEV_SECRETS_FILE)).unwrap();
        assert!(text.contains("secret_key"));
        let stored = DevSecrets::open(&config.data_dir).unwrap();
        let token = stored.get_or_create_text("verify_token").unwrap();
        assert_eq!(stored.get_or_create_text("verify_token").unwrap(), token);
    }

    #[test]
    fn configured_secrets_win_and_production_demands_them() {
        let dir = tempfile::tempdir().unwrap();
        let key = crate::config::KeyMaterial(Secret::new(vec![9u8; 32]));
        let jwt = crate::config::JwtKeys(vec![
            ("a".into(), Secret::new(vec![1; 32])),
            ("b".into(), Secret::new(vec![2; 32])),
        ]);
        let config = Config {
            data_dir: dir.path().into(),
            secret_key: Some(key),
            jwt_keys: Some(jwt),
            jwt_signing_kid: Some("b".into()),
            fb_app_secret: Some("app-secret".into()),
            fb_verify_token: Some("verify".into()),
            ..Config::default()
        };
        let secrets = Secrets::resolve(&config).unwrap();
        assert!(!secrets.generated);
        assert_eq!(secrets.fb_app_secret.expose(), b"app-secret");
        assert_eq!(secrets.fb_verify_token, "verify");
        assert_eq!(secrets.jwt_signing_kid, "b");
        assert_eq!(secrets.jwt_keys.len(), 2);
        assert!(!dir.path().join(DEV_SECRETS_FILE).exists());
        let production = Config {
            env: Environment::Production,
            data_dir: dir.path().into(),
            ..Config::default()
        };
        assert_eq!(
            Secrets::resolve(&production).unwrap_err().variable,
            "FANORDER_SECRET_KEY"
        );
    }
}
