//! Application state and the Router: every route of every crate, behind one middleware stack.

use std::sync::Arc;

use axum::Router;
use axum::extract::FromRef;
use fanorder_events::publish::Feed;
use fanorder_events::{Delivery, Outbox};
use fanorder_orders::{MockProvider, Payments};
use fanorder_platform::auth::{Auth, TokenKeys};
use fanorder_platform::{ApiError, Clock, Config, LoginLimits, Passwords, Secrets, StoreUrl};
use fanorder_store::dynamodb::Dynamo;
use fanorder_store::sqlite::{Sqlite, SqliteOptions};
use fanorder_store::{StoreResult, Table};

use crate::accounts::StoreAccounts;
use crate::{middleware, openapi};

/// What every handler can reach. Cheap to clone (everything inside is shared); each crate's
/// routes take only the parts they need through `FromRef`.
#[derive(Clone, Debug, FromRef)]
pub struct AppState {
    /// The one table.
    pub table: Table,
    /// The configuration the process started with.
    pub config: Arc<Config>,
    /// The clock (settable in tests).
    pub clock: Clock,
    /// Token keys and the account status check.
    pub auth: Auth,
    /// Password hashing.
    pub passwords: Passwords,
    /// Failed-login budgets.
    pub login_limits: LoginLimits,
    /// Where changes write their events.
    pub outbox: Outbox,
    /// The payment providers.
    pub payments: Payments,
    /// Every delivered event, in process, for live screens.
    pub feed: Feed,
}

impl AppState {
    /// The state over an opened table.
    pub fn new(
        table: Table,
        config: Config,
        secrets: &Secrets,
        clock: Clock,
    ) -> Result<Self, ApiError> {
        let keys = TokenKeys::new(
            &secrets.jwt_keys,
            &secrets.jwt_signing_kid,
            &config.jwt_issuer,
            &config.jwt_audience,
        )
        .ok_or_else(|| ApiError::internal("the JWT signing key is not among the JWT keys"))?;
        let auth = Auth {
            keys: Arc::new(keys),
            status: Arc::new(StoreAccounts::new(table.clone(), config.auth_cache_ttl.0)),
        };
        let mock = MockProvider::new(&secrets.derive("payments/mock"));
        Ok(Self {
            table,
            config: Arc::new(config),
            clock,
            auth,
            passwords: Passwords::for_this_machine()?,
            login_limits: LoginLimits::default(),
            outbox: Outbox::new(Delivery::Poll),
            payments: Payments::new(vec![Arc::new(mock)]),
            feed: Feed::new(1024),
        })
    }
}

/// Opens the store the configuration names, with cursors signed by a key derived from the
/// secrets.
pub async fn open_table(config: &Config, secrets: &Secrets, clock: Clock) -> StoreResult<Table> {
    let backend: Arc<dyn fanorder_store::Backend> = match &config.store {
        StoreUrl::Sqlite(path) => {
            Arc::new(Sqlite::open(path, SqliteOptions::default(), clock.clone()).await?)
        }
        StoreUrl::Dynamodb(table) => Arc::new(Dynamo::connect(table.clone()).await),
    };
    Ok(Table::new(backend, &secrets.derive("cursor"), clock))
}

/// The whole HTTP application.
pub fn build_router(state: AppState) -> Router {
    let limits = middleware::Limits {
        body: state.config.body_limit,
        timeout: state.config.request_timeout.0,
    };
    let (routes, _spec) = openapi::routes().split_for_parts();
    let routes = routes.merge(openapi::document_routes());
    middleware::wrap(routes, limits).with_state(state)
}
