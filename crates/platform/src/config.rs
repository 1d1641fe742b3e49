//! Typed configuration: `FANORDER_*` environment variables over an optional TOML file (named by
//! `FANORDER_CONFIG`) over development defaults. A missing or bad value stops start-up with a
//! message naming the variable; the binary exits with code 2.

use std::fmt;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::time::Duration;

use base64::Engine;
use base64::engine::general_purpose::STANDARD as BASE64;
use figment::Figment;
use figment::providers::{Env, Format, Serialized, Toml};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// The prefix of every environment variable we read.
pub const ENV_PREFIX: &str = "FANORDER_";

/// The settings a secrets document may carry (see [`Config::load_with_secrets`]).
pub const SECRET_KEYS: [&str; 5] = [
    "secret_key",
    "jwt_keys",
    "jwt_signing_kid",
    "fb_app_secret",
    "fb_verify_token",
];

/// Where the process runs: development allows generated secrets, production demands them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Environment {
    /// Local work: missing secrets are generated once into the data directory, with a warning.
    #[default]
    Development,
    /// A real deployment: every secret must be configured.
    Production,
}

/// How log lines are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    /// Human-friendly, coloured when on a terminal.
    Pretty,
    /// One JSON object per line, for log pipelines and CloudWatch.
    Json,
}

/// Which store backs the table: `sqlite:<path>` (embedded) or `dynamodb:<table>`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StoreUrl {
    /// The embedded SQLite adapter with its database file.
    Sqlite(PathBuf),
    /// The DynamoDB adapter with the table name (endpoint and credentials from the AWS variables).
    Dynamodb(String),
}

/// A store URL that is not one of the two accepted forms.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("expected `sqlite:<path>` or `dynamodb:<table>`, got `{0}`")]
pub struct InvalidStoreUrl(String);

impl FromStr for StoreUrl {
    type Err = InvalidStoreUrl;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let bad = || InvalidStoreUrl(s.to_owned());
        match s.split_once(':') {
            Some(("sqlite", path)) if !path.trim().is_empty() => {
                Ok(Self::Sqlite(PathBuf::from(path)))
            }
            Some(("dynamodb", table)) if valid_table_name(table) => {
                Ok(Self::Dynamodb(table.to_owned()))
            }
            _ => Err(bad()),
        }
    }
}

/// DynamoDB's rule for table names: 3 to 255 of `[A-Za-z0-9_.-]`.
fn valid_table_name(name: &str) -> bool {
    (3..=255).contains(&name.len())
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b'.'))
}

impl fmt::Display for StoreUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Sqlite(path) => write!(f, "sqlite:{}", path.display()),
            Self::Dynamodb(table) => write!(f, "dynamodb:{table}"),
        }
    }
}

impl Serialize for StoreUrl {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for StoreUrl {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        String::deserialize(d)?
            .parse()
            .map_err(serde::de::Error::custom)
    }
}

/// A secret value: never printed by `Debug`, compared in constant time by those who use it.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(Vec<u8>);

impl Secret {
    /// Wraps raw secret bytes.
    pub fn new(bytes: Vec<u8>) -> Self {
        Self(bytes)
    }

    /// The secret bytes, for the one place that needs them (a MAC key, a cipher key).
    pub fn expose(&self) -> &[u8] {
        &self.0
    }

    /// A fresh random secret of `len` bytes.
    pub fn random(len: usize) -> Self {
        let mut bytes = vec![0u8; len];
        rand::fill(bytes.as_mut_slice());
        Self(bytes)
    }

    /// Base64 text of the secret, for writing the development secrets file.
    pub fn to_base64(&self) -> String {
        BASE64.encode(&self.0)
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(<redacted>)")
    }
}

/// A base64 secret of at least 32 bytes (a 256-bit key).
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct KeyMaterial(pub Secret);

impl<'de> Deserialize<'de> for KeyMaterial {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text = String::deserialize(d)?;
        let bytes = BASE64.decode(text.trim()).map_err(|_| {
            serde::de::Error::custom("must be base64 (e.g. from `openssl rand -base64 32`)")
        })?;
        if bytes.len() < 32 {
            return Err(serde::de::Error::custom("must decode to at least 32 bytes"));
        }
        Ok(Self(Secret(bytes)))
    }
}

impl Serialize for KeyMaterial {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.0.to_base64())
    }
}

/// JWT signing keys: `kid:base64,kid:base64` (each secret 32+ bytes). Several keys may be
/// listed so tokens signed with an old key stay valid while a new one takes over.
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct JwtKeys(pub Vec<(String, Secret)>);

impl FromStr for JwtKeys {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let mut keys = Vec::new();
        for entry in text.split(',').map(str::trim).filter(|e| !e.is_empty()) {
            let (kid, secret) = entry
                .split_once(':')
                .ok_or("must be a list of `kid:base64-secret` separated by commas")?;
            let kid = kid.trim();
            if kid.is_empty()
                || kid.len() > 64
                || !kid
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
            {
                return Err(format!(
                    "key id `{kid}` must be 1 to 64 of A-Z, a-z, 0-9, - and _"
                ));
            }
            let bytes = BASE64
                .decode(secret.trim())
                .map_err(|_| format!("the secret of key `{kid}` is not base64"))?;
            if bytes.len() < 32 {
                return Err(format!(
                    "the secret of key `{kid}` must decode to at least 32 bytes"
                ));
            }
            if keys.iter().any(|(k, _): &(String, Secret)| k == kid) {
                return Err(format!("key id `{kid}` is listed twice"));
            }
            keys.push((kid.to_owned(), Secret(bytes)));
        }
        if keys.is_empty() {
            return Err("must list at least one `kid:base64-secret`".to_owned());
        }
        Ok(Self(keys))
    }
}

impl<'de> Deserialize<'de> for JwtKeys {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        String::deserialize(d)?
            .parse()
            .map_err(serde::de::Error::custom)
    }
}

impl Serialize for JwtKeys {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let text: Vec<String> = self
            .0
            .iter()
            .map(|(kid, secret)| format!("{kid}:{}", secret.to_base64()))
            .collect();
        s.serialize_str(&text.join(","))
    }
}

/// A duration written the human way: `30s`, `5m`, `1h 30m`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HumanDuration(pub Duration);

impl<'de> Deserialize<'de> for HumanDuration {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text = String::deserialize(d)?;
        humantime::parse_duration(&text).map(Self).map_err(|e| {
            serde::de::Error::custom(format!("must be a duration like `30s` or `5m` ({e})"))
        })
    }
}

impl Serialize for HumanDuration {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(&humantime::format_duration(self.0))
    }
}

/// Everything the process can be configured with. Field `x` is `FANORDER_X` in the environment
/// and `x = ...` in the file.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default)]
pub struct Config {
    /// `development` (default) or `production`.
    pub env: Environment,
    /// The address `serve` listens on.
    pub addr: SocketAddr,
    /// The store: `sqlite:<path>` or `dynamodb:<table>`.
    pub store: StoreUrl,
    /// Where development secrets and other local state are kept.
    pub data_dir: PathBuf,
    /// `pretty` or `json`; JSON is forced on Lambda.
    pub log_format: Option<LogFormat>,
    /// The log filter, in `tracing` directive syntax (`info,fanorder=debug`).
    pub log: String,
    /// The largest request body accepted, in bytes.
    pub body_limit: usize,
    /// How long a request may take before it is abandoned with 503 `timeout`.
    pub request_timeout: HumanDuration,
    /// The master secret (base64, 32+ bytes) from which cursor-signing and at-rest encryption
    /// keys are derived. Required in production.
    #[serde(skip_serializing)]
    pub secret_key: Option<KeyMaterial>,
    /// JWT keys, `kid:base64,kid:base64`. Required in production.
    #[serde(skip_serializing)]
    pub jwt_keys: Option<JwtKeys>,
    /// Which JWT key signs new tokens (default: the first listed).
    #[serde(deserialize_with = "optional_text")]
    pub jwt_signing_kid: Option<String>,
    /// The `iss` of issued tokens.
    pub jwt_issuer: String,
    /// The `aud` of issued tokens.
    pub jwt_audience: String,
    /// How long an account's status (active, role) is trusted before it is read again: the
    /// longest a deactivated member keeps working with an unexpired access token.
    pub auth_cache_ttl: HumanDuration,
    /// The EventBridge bus events are published to (name or ARN); none: events stay in the
    /// local log only.
    pub event_bus: Option<String>,
    /// The EventBridge `Source` of published events.
    pub event_source: String,
    /// The SNS topic staff notices go to; none: no notices.
    pub sns_topic_arn: Option<String>,
    /// Minutes a paid order may wait for the kitchen before a late notice goes out.
    pub late_after_minutes: u32,
    /// The public base URL of this deployment (payment links, receipts); default
    /// `http://<addr>`.
    pub public_url: Option<String>,
    /// The Facebook app secret that signs webhook deliveries (`X-Hub-Signature-256`).
    /// Required in production.
    #[serde(skip_serializing)]
    #[serde(deserialize_with = "optional_text")]
    pub fb_app_secret: Option<String>,
    /// The token Facebook echoes in the webhook subscription handshake. Required in production.
    #[serde(skip_serializing)]
    #[serde(deserialize_with = "optional_text")]
    pub fb_verify_token: Option<String>,
    /// The Graph API base URL the Send API client calls (a fake one in tests); default
    /// Facebook's, `https://graph.facebook.com/v26.0`.
    pub graph_api_url: Option<String>,
    /// Send API calls per second per page; default 10.
    pub graph_rate_per_page: Option<u32>,
    /// On the embedded store, when a write is done: `full` (fsync'd: survives power loss) or
    /// `normal` (reached the OS: survives a crash of the process). Default `full`.
    pub sqlite_durability: String,
    /// Requests per second one restaurant's tokens may make, on average (0: no limit).
    pub tenant_rate_per_second: u32,
    /// How many of them may come at once.
    pub tenant_rate_burst: u32,
    /// Requests of one restaurant this process works on at the same time; more wait their turn
    /// without using the CPU (0: no limit). Default: 2 per CPU core the process may use.
    pub tenant_concurrency: u32,
    /// Sign-ups, logins, refreshes and customer registrations per minute from one client
    /// address, on average (0: no limit).
    pub public_rate_per_minute: u32,
    /// How many of them may come at once.
    pub public_rate_burst: u32,
}

impl Default for Config {
    fn default() -> Self {
        Self {
            env: Environment::Development,
            addr: SocketAddr::from(([127, 0, 0, 1], 3000)),
            store: StoreUrl::Sqlite(PathBuf::from("fanorder.db")),
            data_dir: PathBuf::from(".fanorder"),
            log_format: None,
            log: "info".to_owned(),
            body_limit: 1024 * 1024,
            request_timeout: HumanDuration(Duration::from_secs(30)),
            secret_key: None,
            jwt_keys: None,
            jwt_signing_kid: None,
            jwt_issuer: "fanorder".to_owned(),
            jwt_audience: "fanorder-api".to_owned(),
            auth_cache_ttl: HumanDuration(Duration::from_secs(30)),
            event_bus: None,
            event_source: "fanorder".to_owned(),
            sns_topic_arn: None,
            late_after_minutes: 10,
            public_url: None,
            fb_app_secret: None,
            fb_verify_token: None,
            graph_api_url: None,
            graph_rate_per_page: None,
            sqlite_durability: "full".to_owned(),
            tenant_rate_per_second: 100,
            tenant_rate_burst: 200,
            tenant_concurrency: turns_per_process(),
            public_rate_per_minute: 60,
            public_rate_burst: 30,
        }
    }
}

/// Two turns per core this process may run on (its CPU affinity): enough to keep a core busy
/// while another request of the restaurant waits on the store, few enough that one restaurant's
/// burst cannot fill the run queue in front of everybody else's (BENCHMARKS.md, the noisy
/// restaurant). 4 on two cores.
fn turns_per_process() -> u32 {
    let cores = std::thread::available_parallelism().map_or(1, std::num::NonZeroUsize::get);
    u32::try_from(cores.saturating_mul(2)).unwrap_or(u32::MAX)
}

/// A text setting that may look like a number or a flag: the environment provider reads a
/// verify token of digits as a number, which is still the text the operator wrote.
fn optional_text<'de, D: Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Scalar {
        Text(String),
        Whole(u64),
        Signed(i64),
        Number(f64),
        Flag(bool),
    }
    Ok(Option::<Scalar>::deserialize(d)?.map(|value| match value {
        Scalar::Text(text) => text,
        Scalar::Whole(n) => n.to_string(),
        Scalar::Signed(n) => n.to_string(),
        Scalar::Number(n) => n.to_string(),
        Scalar::Flag(b) => b.to_string(),
    }))
}

/// A configuration value that stops start-up: which variable, and what is wrong with it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("configuration error: {variable}: {message}")]
pub struct ConfigError {
    /// The variable (or file key) at fault, e.g. `FANORDER_STORE`.
    pub variable: String,
    /// What is wrong and what would be accepted.
    pub message: String,
}

impl ConfigError {
    /// An error about one variable.
    pub fn new(variable: impl Into<String>, message: impl Into<String>) -> Self {
        Self {
            variable: variable.into(),
            message: message.into(),
        }
    }
}

impl Config {
    /// Loads from the process environment and the file `FANORDER_CONFIG` names, if any.
    pub fn load() -> Result<Self, ConfigError> {
        Self::load_with_secrets(serde_json::Map::new())
    }

    /// Like [`Config::load`], with a document of secret settings (`secret_key`, `jwt_keys`,
    /// `jwt_signing_kid`, `fb_app_secret`, `fb_verify_token`; on Lambda the JSON of the Secrets
    /// Manager secret) between the file and the environment. Other keys are ignored.
    pub fn load_with_secrets(
        secrets: serde_json::Map<String, serde_json::Value>,
    ) -> Result<Self, ConfigError> {
        let secrets: serde_json::Map<String, serde_json::Value> = secrets
            .into_iter()
            .filter(|(key, _)| SECRET_KEYS.contains(&key.as_str()))
            .collect();
        let mut figment = Figment::from(Serialized::defaults(Config::default()));
        if let Ok(path) = std::env::var("FANORDER_CONFIG") {
            let path = Path::new(&path);
            if !path.is_file() {
                return Err(ConfigError::new(
                    "FANORDER_CONFIG",
                    format!("no such file: {}", path.display()),
                ));
            }
            figment = figment.merge(Toml::file(path));
        }
        let config: Config = figment
            .merge(Serialized::defaults(secrets))
            .merge(Env::prefixed(ENV_PREFIX).ignore(&["CONFIG"]))
            .extract()
            .map_err(describe)?;
        config.check()?;
        Ok(config)
    }

    /// Rules that span fields or depend on the environment.
    fn check(&self) -> Result<(), ConfigError> {
        if !matches!(self.sqlite_durability.as_str(), "full" | "normal") {
            return Err(ConfigError::new(
                "FANORDER_SQLITE_DURABILITY",
                "must be full (fsync each commit: survives power loss) or normal (survives a crash of the process)",
            ));
        }
        if self.body_limit < 1024 {
            return Err(ConfigError::new(
                "FANORDER_BODY_LIMIT",
                "must be at least 1024 bytes",
            ));
        }
        if self.auth_cache_ttl.0 > Duration::from_secs(60) {
            return Err(ConfigError::new(
                "FANORDER_AUTH_CACHE_TTL",
                "must be at most 60s: a deactivated account must be locked out within a minute",
            ));
        }
        if !(1..=24 * 60).contains(&self.late_after_minutes) {
            return Err(ConfigError::new(
                "FANORDER_LATE_AFTER_MINUTES",
                "must be 1 to 1440",
            ));
        }
        if self.request_timeout.0.is_zero() {
            return Err(ConfigError::new(
                "FANORDER_REQUEST_TIMEOUT",
                "must be longer than zero",
            ));
        }
        if self.env == Environment::Production && self.secret_key.is_none() {
            return Err(ConfigError::new(
                "FANORDER_SECRET_KEY",
                "is required in production (base64 of 32 random bytes, e.g. `openssl rand -base64 32`)",
            ));
        }
        if self.env == Environment::Production && self.jwt_keys.is_none() {
            return Err(ConfigError::new(
                "FANORDER_JWT_KEYS",
                "is required in production (`kid:base64-secret`, e.g. `k1:$(openssl rand -base64 32)`)",
            ));
        }
        if let (Some(kid), Some(keys)) = (&self.jwt_signing_kid, &self.jwt_keys)
            && !keys.0.iter().any(|(k, _)| k == kid)
        {
            return Err(ConfigError::new(
                "FANORDER_JWT_SIGNING_KID",
                format!("`{kid}` is not among FANORDER_JWT_KEYS"),
            ));
        }
        if self.env == Environment::Production
            && self.fb_app_secret.as_deref().is_none_or(str::is_empty)
        {
            return Err(ConfigError::new(
                "FANORDER_FB_APP_SECRET",
                "is required in production (the Facebook app's secret)",
            ));
        }
        if self.env == Environment::Production
            && self.fb_verify_token.as_deref().is_none_or(str::is_empty)
        {
            return Err(ConfigError::new(
                "FANORDER_FB_VERIFY_TOKEN",
                "is required in production (any long random string, also entered in the Facebook app)",
            ));
        }
        if let Some(url) = &self.public_url
            && !(url.starts_with("http://") || url.starts_with("https://"))
        {
            return Err(ConfigError::new(
                "FANORDER_PUBLIC_URL",
                "must be an http(s) URL such as https://orders.example.com",
            ));
        }
        Ok(())
    }

    /// The log format to use: JSON on Lambda or when asked, pretty otherwise.
    pub fn effective_log_format(&self) -> LogFormat {
        if crate::telemetry::on_lambda() {
            return LogFormat::Json;
        }
        self.log_format.unwrap_or(LogFormat::Pretty)
    }
}

/// Turns figment's error into one that names the variable the way the operator wrote it.
fn describe(err: figment::Error) -> ConfigError {
    let key = err.path.join(".");
    let from_file = err
        .metadata
        .as_ref()
        .and_then(|m| m.source.as_ref())
        .and_then(|s| s.file_path())
        .map(|p| p.display().to_string());
    let variable = match from_file {
        Some(file) => format!("`{key}` in {file}"),
        None => format!("{ENV_PREFIX}{}", key.to_ascii_uppercase()),
    };
    let message = match &err.kind {
        figment::error::Kind::Message(m) => m.clone(),
        other => other.to_string(),
    };
    ConfigError { variable, message }
}

#[cfg(test)]
#[expect(
    clippy::result_large_err,
    reason = "figment's Jail closures return figment::Error"
)]
mod tests {
    use super::*;
    use figment::Jail;

    fn load_err(jail: &mut Jail, var: &str, value: &str) -> ConfigError {
        jail.set_env(var, value);
        let err = Config::load().expect_err("should be refused");
        jail.clear_env();
        err
    }

    #[test]
    fn defaults_need_no_configuration() {
        Jail::expect_with(|_jail| {
            let config = Config::load().unwrap();
            assert_eq!(config.env, Environment::Development);
            assert_eq!(config.addr.to_string(), "127.0.0.1:3000");
            assert_eq!(config.store, StoreUrl::Sqlite("fanorder.db".into()));
            assert_eq!(config.body_limit, 1024 * 1024);
            assert_eq!(config.request_timeout.0, Duration::from_secs(30));
            Ok(())
        });
    }

    #[test]
    fn text_settings_that_look_like_numbers_stay_text_and_numbers_are_numbers() {
        Jail::expect_with(|jail| {
            jail.set_env("FANORDER_GRAPH_RATE_PER_PAGE", "1000");
            jail.set_env("FANORDER_FB_VERIFY_TOKEN", "20250101");
            jail.set_env("FANORDER_FB_APP_SECRET", "true");
            let config = Config::load().unwrap();
            assert_eq!(config.graph_rate_per_page, Some(1000));
            assert_eq!(config.fb_verify_token.as_deref(), Some("20250101"));
            assert_eq!(config.fb_app_secret.as_deref(), Some("true"));
            Ok(())
        });
    }

    #[test]
    fn environment_variables_set_each_field() {
        Jail::expect_with(|jail| {
            jail.set_env("FANORDER_ADDR", "0.0.0.0:8080");
            jail.set_env("FANORDER_STORE", "dynamodb:orders-prod");
            jail.set_env("FANORDER_BODY_LIMIT", "2048");
            jail.set_env("FANORDER_REQUEST_TIMEOUT", "5s");
            jail.set_env("FANORDER_GRAPH_RATE_PER_PAGE", "250");
            jail.set_env("FANORDER_LOG_FORMAT", "json");
            jail.set_env("FANORDER_SECRET_KEY", Secret::random(32).to_base64());
            let config = Config::load().unwrap();
            assert_eq!(config.addr.port(), 8080);
            assert_eq!(config.store, StoreUrl::Dynamodb("orders-prod".into()));
            assert_eq!(config.body_limit, 2048);
            assert_eq!(config.request_timeout.0, Duration::from_secs(5));
            assert_eq!(config.graph_rate_per_page, Some(250));
            assert_eq!(config.log_format, Some(LogFormat::Json));
            assert_eq!(config.secret_key.unwrap().0.expose().len(), 32);
            Ok(())
        });
    }

    #[test]
    fn a_bad_value_names_its_variable() {
        Jail::expect_with(|jail| {
            let err = load_err(jail, "FANORDER_STORE", "postgres://x");
            assert_eq!(err.variable, "FANORDER_STORE");
            assert!(err.message.contains("sqlite:<path>"), "{err}");
            assert!(
                err.to_string()
                    .starts_with("configuration error: FANORDER_STORE:")
            );

            assert_eq!(
                load_err(jail, "FANORDER_ADDR", "localhost").variable,
                "FANORDER_ADDR"
            );
            assert_eq!(
                load_err(jail, "FANORDER_BODY_LIMIT", "lots").variable,
                "FANORDER_BODY_LIMIT"
            );
            assert_eq!(
                load_err(jail, "FANORDER_BODY_LIMIT", "10").variable,
                "FANORDER_BODY_LIMIT"
            );
            assert_eq!(
                load_err(jail, "FANORDER_REQUEST_TIMEOUT", "soon").variable,
                "FANORDER_REQUEST_TIMEOUT"
            );
            assert_eq!(
                load_err(jail, "FANORDER_ENV", "staging").variable,
                "FANORDER_ENV"
            );
            assert_eq!(
                load_err(jail, "FANORDER_SECRET_KEY", "c2hvcnQ=").variable,
                "FANORDER_SECRET_KEY"
            );
            assert_eq!(
                load_err(jail, "FANORDER_STORE", "dynamodb:a").variable,
                "FANORDER_STORE"
            );
            assert_eq!(
                load_err(jail, "FANORDER_SQLITE_DURABILITY", "sometimes").variable,
                "FANORDER_SQLITE_DURABILITY"
            );
            Ok(())
        });
    }

    #[test]
    fn production_requires_the_secret_key() {
        Jail::expect_with(|jail| {
            let err = load_err(jail, "FANORDER_ENV", "production");
            assert_eq!(err.variable, "FANORDER_SECRET_KEY");
            jail.set_env("FANORDER_ENV", "production");
            jail.set_env("FANORDER_SECRET_KEY", Secret::random(32).to_base64());
            assert_eq!(Config::load().unwrap_err().variable, "FANORDER_JWT_KEYS");
            jail.set_env(
                "FANORDER_JWT_KEYS",
                format!("k1:{}", Secret::random(32).to_base64()),
            );
            assert_eq!(
                Config::load().unwrap_err().variable,
                "FANORDER_FB_APP_SECRET"
            );
            jail.set_env("FANORDER_FB_APP_SECRET", "app-secret");
            assert_eq!(
                Config::load().unwrap_err().variable,
                "FANORDER_FB_VERIFY_TOKEN"
            );
            jail.set_env("FANORDER_FB_VERIFY_TOKEN", "verify-me");
            assert_eq!(Config::load().unwrap().env, Environment::Production);
            jail.set_env("FANORDER_JWT_SIGNING_KID", "k2");
            assert_eq!(
                Config::load().unwrap_err().variable,
                "FANORDER_JWT_SIGNING_KID"
            );
            Ok(())
        });
    }

    #[test]
    fn a_secrets_document_fills_the_secrets_and_the_environment_wins() {
        Jail::expect_with(|jail| {
            jail.set_env("FANORDER_ENV", "production");
            let key = Secret::random(32).to_base64();
            let doc = |extra: serde_json::Value| {
                let mut doc = serde_json::json!({
                    "secret_key": key,
                    "jwt_keys": format!("k1:{}", Secret::random(32).to_base64()),
                    "fb_app_secret": "app-secret",
                    "unrelated": "ignored",
                });
                if let (Some(doc), Some(extra)) = (doc.as_object_mut(), extra.as_object()) {
                    doc.extend(extra.clone());
                }
                doc.as_object().cloned().unwrap_or_default()
            };
            let err = Config::load_with_secrets(doc(serde_json::json!({}))).unwrap_err();
            assert_eq!(err.variable, "FANORDER_FB_VERIFY_TOKEN");
            let config =
                Config::load_with_secrets(doc(serde_json::json!({"fb_verify_token": "v"})))
                    .unwrap();
            assert_eq!(config.fb_app_secret.as_deref(), Some("app-secret"));
            assert_eq!(config.secret_key.unwrap().0.to_base64(), key);
            jail.set_env("FANORDER_FB_APP_SECRET", "from-env");
            let config =
                Config::load_with_secrets(doc(serde_json::json!({"fb_verify_token": "v"})))
                    .unwrap();
            assert_eq!(config.fb_app_secret.as_deref(), Some("from-env"));
            let err = Config::load_with_secrets(doc(
                serde_json::json!({"fb_verify_token": "v", "secret_key": "c2hvcnQ="}),
            ))
            .unwrap_err();
            assert_eq!(err.variable, "FANORDER_SECRET_KEY");
            Ok(())
        });
    }

    #[test]
    fn a_file_sets_values_and_the_environment_wins() {
        Jail::expect_with(|jail| {
            jail.create_file(
                "fanorder.toml",
                "addr = \"127.0.0.1:4000\"\nstore = \"sqlite:/tmp/x.db\"\n",
            )?;
            jail.set_env("FANORDER_CONFIG", "fanorder.toml");
            jail.set_env("FANORDER_ADDR", "127.0.0.1:5000");
            let config = Config::load().unwrap();
            assert_eq!(config.addr.port(), 5000);
            assert_eq!(config.store, StoreUrl::Sqlite("/tmp/x.db".into()));

            jail.create_file("bad.toml", "store = \"nope\"\n")?;
            jail.set_env("FANORDER_CONFIG", "bad.toml");
            let err = Config::load().unwrap_err();
            assert!(
                err.variable.contains("`store` in") && err.variable.contains("bad.toml"),
                "{err}"
            );

            jail.set_env("FANORDER_CONFIG", "missing.toml");
            assert_eq!(Config::load().unwrap_err().variable, "FANORDER_CONFIG");
            Ok(())
        });
    }

    #[test]
    fn jwt_keys_parse_a_list_of_kid_and_secret() {
        let a = Secret::random(32).to_base64();
        let b = Secret::random(48).to_base64();
        let keys: JwtKeys = format!("k1:{a}, k2:{b}").parse().unwrap();
        assert_eq!(keys.0.len(), 2);
        assert_eq!(keys.0[1].0, "k2");
        assert_eq!(keys.0[1].1.expose().len(), 48);
        for bad in [
            "".to_owned(),
            "k1".to_owned(),
            format!("k1:{}", Secret::random(16).to_base64()),
            "k1:not base64!".to_owned(),
            format!("bad kid:{a}"),
            format!("k1:{a},k1:{a}"),
        ] {
            assert!(bad.parse::<JwtKeys>().is_err(), "{bad}");
        }
        assert!(!format!("{keys:?}").contains(&a));
    }

    #[test]
    fn secrets_never_print() {
        let secret = Secret::new(b"hunter2hunter2".to_vec());
        assert_eq!(format!("{secret:?}"), "Secret(<redacted>)");
        let key = KeyMaterial(secret);
        assert!(!format!("{key:?}").contains("hunter2"));
    }

    #[test]
    fn store_urls_parse_both_forms_only() {
        assert_eq!(
            "sqlite:a.db".parse::<StoreUrl>().unwrap(),
            StoreUrl::Sqlite("a.db".into())
        );
        assert_eq!(
            "dynamodb:fanorder".parse::<StoreUrl>().unwrap(),
            StoreUrl::Dynamodb("fanorder".into())
        );
        for bad in [
            "",
            "sqlite:",
            "dynamodb:",
            "dynamodb:x",
            "dynamodb:bad name",
            "mysql:x",
            "fanorder.db",
        ] {
            assert!(bad.parse::<StoreUrl>().is_err(), "{bad}");
        }
        assert_eq!(StoreUrl::Dynamodb("t1x".into()).to_string(), "dynamodb:t1x");
    }
}
