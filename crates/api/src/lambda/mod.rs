//! The three Lambda functions (infra/cdk): `fanorder-lambda-http` (the Router through
//! `lambda_http`, all routes or only the webhooks), `fanorder-lambda-stream` (the table's
//! stream: outbox relay and bot) and `fanorder-lambda-schedule` (the late-order sweep).
//!
//! Cold start does what every invocation needs and nothing more: one AWS configuration load
//! (clients are built from it, without network calls), one `GetSecretValue`, the application
//! state. Tenant sessions are assumed on a tenant's first request, not at start.

pub mod emf;
pub mod http;
pub mod schedule;
pub mod stream;

use std::process::ExitCode;
use std::sync::Arc;

use aws_config::SdkConfig;
use fanorder_events::Delivery;
use fanorder_events::publish::{EventBridge, Publisher, Sns};
use fanorder_platform::config::SECRET_KEYS;
use fanorder_platform::{Clock, Config, ConfigError, Secrets, StoreUrl, telemetry};
use fanorder_store::Table;
use fanorder_store::dynamodb::Dynamo;
use fanorder_store::sessions::{AssumeRoleSessions, Sessions};

use crate::AppState;

/// The Secrets Manager secret (ARN) holding the JSON document of secret settings.
pub const SECRETS_ARN_VAR: &str = "FANORDER_SECRETS_ARN";
/// The tenant access role the API assumes per tenant (API function only).
pub const TENANT_ROLE_VAR: &str = "FANORDER_TENANT_ROLE_ARN";
/// Which routes the HTTP function serves: `api` (default) or `webhook`.
pub const ROUTES_VAR: &str = "FANORDER_LAMBDA_ROUTES";

/// Why a function could not start. Configuration problems exit with code 2 and name what is
/// missing; the rest exit with 1.
#[derive(Debug, thiserror::Error)]
pub enum BootError {
    /// A setting or secret is missing or wrong.
    #[error(transparent)]
    Config(#[from] ConfigError),
    /// Something the function needs did not answer.
    #[error("{0}")]
    Unavailable(String),
}

impl BootError {
    /// The process exit code.
    pub fn exit_code(&self) -> ExitCode {
        match self {
            Self::Config(_) => ExitCode::from(2),
            Self::Unavailable(_) => ExitCode::from(1),
        }
    }
}

/// What a function starts with.
#[derive(Debug, Clone)]
pub struct Boot {
    /// The application state (stream delivery: nothing waits in the pending indexes).
    pub state: AppState,
    /// The AWS configuration every client is built from.
    pub sdk: SdkConfig,
}

fn var(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.trim().is_empty())
}

/// Reads the secrets document: a JSON object in the secret's `SecretString`.
async fn secrets_document(
    sdk: &SdkConfig,
    arn: &str,
) -> Result<serde_json::Map<String, serde_json::Value>, BootError> {
    let client = aws_sdk_secretsmanager::Client::new(sdk);
    let out = client
        .get_secret_value()
        .secret_id(arn)
        .send()
        .await
        .map_err(|e| {
            BootError::Unavailable(format!(
                "cannot read the secret {SECRETS_ARN_VAR}={arn}: {}",
                aws_sdk_secretsmanager::error::DisplayErrorContext(&e)
            ))
        })?;
    let text = out.secret_string().ok_or_else(|| {
        ConfigError::new(
            SECRETS_ARN_VAR,
            "the secret has no SecretString (JSON expected)",
        )
    })?;
    match serde_json::from_str::<serde_json::Value>(text) {
        Ok(serde_json::Value::Object(map)) => Ok(map),
        _ => Err(ConfigError::new(
            SECRETS_ARN_VAR,
            format!(
                "the secret must be a JSON object with {}",
                SECRET_KEYS.join(", ")
            ),
        )
        .into()),
    }
}

/// Names a secret that came (or should have come) from the secrets document by its key there.
fn from_document(err: ConfigError, arn: &str) -> ConfigError {
    let key = err
        .variable
        .strip_prefix(fanorder_platform::config::ENV_PREFIX)
        .map(str::to_ascii_lowercase)
        .filter(|key| SECRET_KEYS.contains(&key.as_str()));
    match key {
        Some(key) => ConfigError::new(
            format!("`{key}` in the secret {SECRETS_ARN_VAR}={arn}"),
            err.message,
        ),
        None => err,
    }
}

/// Loads the configuration (the secrets document under the environment), starts telemetry,
/// opens the table and builds the state.
pub async fn boot() -> Result<Boot, BootError> {
    let sdk = fanorder_events::publish::aws_config().await;
    let config = match var(SECRETS_ARN_VAR) {
        Some(arn) => {
            let document = secrets_document(&sdk, &arn).await?;
            Config::load_with_secrets(document).map_err(|e| from_document(e, &arn))?
        }
        None => Config::load()?,
    };
    telemetry::init(config.effective_log_format(), &config.log);
    let secrets = Secrets::resolve(&config)?;
    let clock = Clock::system();
    let table = open(&config, &secrets, &sdk, clock.clone()).await?;
    let state = AppState::with_delivery(table, config, &secrets, clock, Delivery::Stream)
        .map_err(|e| BootError::Unavailable(e.to_string()))?;
    Ok(Boot { state, sdk })
}

/// The table: DynamoDB through the shared configuration, with tenant sessions when a tenant
/// role is configured; or the embedded store (local runs of the binaries, tests).
async fn open(
    config: &Config,
    secrets: &Secrets,
    sdk: &SdkConfig,
    clock: Clock,
) -> Result<Table, BootError> {
    match &config.store {
        StoreUrl::Dynamodb(name) => {
            let mut dynamo = Dynamo::new(aws_sdk_dynamodb::Client::new(sdk), name.clone());
            if let Some(role) = var(TENANT_ROLE_VAR) {
                dynamo = dynamo.with_sessions(Sessions::new(Arc::new(AssumeRoleSessions::new(
                    sdk.clone(),
                    role,
                ))));
            }
            Ok(Table::new(
                Arc::new(dynamo),
                &secrets.derive("cursor"),
                clock,
            ))
        }
        StoreUrl::Sqlite(_) => crate::open_table(config, secrets, clock)
            .await
            .map_err(|e| BootError::Unavailable(format!("cannot open the store: {e}"))),
    }
}

/// The publishers of the stream processor: customers' Messenger threads and the sales ledger
/// (reports) always; EventBridge and SNS when configured, with clients from the shared
/// configuration. The in-process feed of `fanorder serve` has no place here: each Lambda
/// instance is its own process.
pub fn publishers(boot: &Boot) -> Vec<Arc<dyn Publisher>> {
    let state = &boot.state;
    let mut publishers: Vec<Arc<dyn Publisher>> = vec![
        Arc::new(fanorder_pages::Notifier::new(
            state.table.clone(),
            state.messenger.clone(),
        )),
        Arc::new(fanorder_orders::SalesLedger::new(state.table.clone())),
    ];
    if let Some(bus) = &state.config.event_bus {
        publishers.push(Arc::new(EventBridge::new(
            aws_sdk_eventbridge::Client::new(&boot.sdk),
            bus.clone(),
            state.config.event_source.clone(),
        )));
    }
    if let Some(topic) = &state.config.sns_topic_arn {
        publishers.push(Arc::new(Sns::new(
            aws_sdk_sns::Client::new(&boot.sdk),
            topic.clone(),
        )));
    }
    publishers
}

/// The `main` of every Lambda binary: a runtime, [`boot`], then `run` with what it built. A
/// start-up failure is one clear line on stderr (CloudWatch) and an exit code, never a panic.
pub fn main<F, Fut>(name: &str, run: F) -> ExitCode
where
    F: FnOnce(Boot) -> Fut,
    Fut: Future<Output = Result<(), lambda_http::Error>>,
{
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(err) => {
            eprintln!("{name}: cannot start the async runtime: {err}");
            return ExitCode::from(1);
        }
    };
    runtime.block_on(async {
        // Before boot builds the router, whose Prometheus recorder would otherwise take the slot.
        emf::install(name);
        let boot = match boot().await {
            Ok(boot) => boot,
            Err(err) => {
                eprintln!("{name}: {err}");
                return err.exit_code();
            }
        };
        match run(boot).await {
            Ok(()) => ExitCode::SUCCESS,
            Err(err) => {
                eprintln!("{name}: {err}");
                ExitCode::from(1)
            }
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn missing_secrets_are_named_by_their_key_in_the_document() {
        let err = from_document(
            ConfigError::new("FANORDER_JWT_KEYS", "is required in production"),
            "arn:aws:secretsmanager:x",
        );
        assert_eq!(
            err.variable,
            "`jwt_keys` in the secret FANORDER_SECRETS_ARN=arn:aws:secretsmanager:x"
        );
        let other = from_document(ConfigError::new("FANORDER_STORE", "bad"), "arn");
        assert_eq!(other.variable, "FANORDER_STORE");
    }
}
