//! Application state and the Router: every route of every crate, behind one middleware stack.

use std::sync::Arc;

use axum::Router;
use axum::extract::FromRef;
use fanorder_events::publish::Feed;
use fanorder_events::{Delivery, Outbox};
use fanorder_messenger::send::{GraphClient, GraphConfig};
use fanorder_orders::{MockProvider, Payments};
use fanorder_pages::{BotCtx, Intake, Messenger, TokenBox};
use fanorder_platform::auth::{Auth, TokenKeys};
use fanorder_platform::{ApiError, Clock, Config, LoginLimits, Passwords, Secrets, StoreUrl};
use fanorder_store::dynamodb::Dynamo;
use fanorder_store::sqlite::{Sqlite, SqliteOptions};
use fanorder_store::{StoreResult, Table};

use crate::accounts::StoreAccounts;
use crate::{middleware, openapi};

/// What every handler can reach: one shared [`Parts`]. axum clones the state for every
/// request, so this is a single reference count rather than the dozens of shared caches and
/// clients inside. Each crate's routes take only the parts they need through `FromRef`.
#[derive(Clone, Debug)]
pub struct AppState(Arc<Parts>);

impl std::ops::Deref for AppState {
    type Target = Parts;

    fn deref(&self) -> &Parts {
        &self.0
    }
}

/// `FromRef` for each part, as `#[derive(FromRef)]` would give a struct of them.
macro_rules! parts_from_state {
    ($($field:ident: $ty:ty),* $(,)?) => {
        $(impl FromRef<AppState> for $ty {
            fn from_ref(state: &AppState) -> Self {
                state.$field.clone()
            }
        })*
    };
}

parts_from_state!(
    table: Table,
    config: Arc<Config>,
    clock: Clock,
    auth: Auth,
    passwords: Passwords,
    login_limits: LoginLimits,
    outbox: Outbox,
    payments: Payments,
    feed: Feed,
    tokens: TokenBox,
    messenger: Messenger,
    intake: Intake,
);

/// The application's shared parts.
#[derive(Clone, Debug)]
pub struct Parts {
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
    /// Page access tokens, encrypted at rest.
    pub tokens: TokenBox,
    /// Sending as a page (Graph API, or recording for offline pages).
    pub messenger: Messenger,
    /// The Messenger webhook's secrets and caches.
    pub intake: Intake,
}

impl AppState {
    /// The state over an opened table, for one process that runs its own workers: events and
    /// inbound messages wait in the pending indexes for them (`fanorder serve`).
    pub fn new(
        table: Table,
        config: Config,
        secrets: &Secrets,
        clock: Clock,
    ) -> Result<Self, ApiError> {
        Self::with_delivery(table, config, secrets, clock, Delivery::Poll)
    }

    /// The state with the given delivery: [`Delivery::Stream`] on Lambda, where the table's
    /// stream hands new outbox and inbox items to the stream processor, so nothing is written
    /// to the pending indexes.
    pub fn with_delivery(
        table: Table,
        config: Config,
        secrets: &Secrets,
        clock: Clock,
        delivery: Delivery,
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
            tenant_rate: rate(config.tenant_rate_per_second, config.tenant_rate_burst)
                .map(|(rate, burst)| fanorder_platform::limits::RateLimiter::new(rate, burst)),
        };
        let mock = MockProvider::new(&secrets.derive("payments/mock"));
        let tokens = TokenBox::new(&secrets.derive("page-token"));
        let graph = GraphConfig::from_lookup(|name| match name {
            fanorder_messenger::send::GRAPH_API_URL_VAR => config.graph_api_url.clone(),
            fanorder_messenger::send::GRAPH_RATE_VAR => {
                config.graph_rate_per_page.map(|r| r.to_string())
            }
            _ => None,
        })
        .map_err(|e| ApiError::internal(e.to_string()))
        .and_then(|c| GraphClient::new(c).map_err(|e| ApiError::internal(e.to_string())))?;
        let messenger = Messenger::new(graph, tokens.clone(), clock.clone());
        let payments = Payments::new(vec![Arc::new(mock)]);
        let payments = if config.env == fanorder_platform::config::Environment::Production {
            payments.without_checkout()
        } else {
            payments
        };
        let intake = Intake::new(
            secrets.fb_app_secret.expose(),
            &secrets.fb_verify_token,
            delivery == Delivery::Poll,
        );
        Ok(Self(Arc::new(Parts {
            table,
            config: Arc::new(config),
            clock,
            auth,
            passwords: Passwords::for_this_machine()?,
            login_limits: LoginLimits::default(),
            outbox: Outbox::new(delivery),
            payments,
            feed: Feed::new(1024),
            tokens,
            messenger,
            intake,
        })))
    }
}

impl AppState {
    /// The same application read through another clock: what a scheduled job sees when it
    /// looks ahead (tests), everything else shared.
    pub fn with_clock(&self, clock: Clock) -> Self {
        let mut parts = Parts::clone(&self.0);
        parts.clock = clock;
        Self(Arc::new(parts))
    }

    /// The public base URL (payment links): configured, or this server's address.
    pub fn base_url(&self) -> String {
        self.config
            .public_url
            .clone()
            .unwrap_or_else(|| format!("http://{}", self.config.addr))
            .trim_end_matches('/')
            .to_owned()
    }

    /// What the bot's work needs.
    pub fn bot(&self) -> BotCtx {
        BotCtx::new(
            self.table.clone(),
            self.clock.clone(),
            self.outbox.clone(),
            self.messenger.clone(),
            self.payments.clone(),
            self.base_url(),
        )
    }
}

/// A rate and a burst, or `None` when the rate is 0 (no limit); the burst is at least 1.
pub fn rate(rate: u32, burst: u32) -> Option<(std::num::NonZeroU32, std::num::NonZeroU32)> {
    let rate = std::num::NonZeroU32::new(rate)?;
    Some((rate, std::num::NonZeroU32::new(burst).unwrap_or(rate)))
}

/// Opens the store the configuration names, with cursors signed by a key derived from the
/// secrets.
pub async fn open_table(config: &Config, secrets: &Secrets, clock: Clock) -> StoreResult<Table> {
    let backend: Arc<dyn fanorder_store::Backend> = match &config.store {
        StoreUrl::Sqlite(path) => {
            let options = SqliteOptions {
                durability: config
                    .sqlite_durability
                    .parse()
                    .map_err(|e: String| fanorder_store::StoreError::invalid(e))?,
                ..SqliteOptions::default()
            };
            Arc::new(Sqlite::open(path, options, clock.clone()).await?)
        }
        StoreUrl::Dynamodb(table) => Arc::new(Dynamo::connect(table.clone()).await),
    };
    Ok(Table::new(backend, &secrets.derive("cursor"), clock))
}

/// The whole HTTP application.
pub fn build_router(state: AppState) -> Router {
    let limits = middleware::Limits {
        public_rate: rate(
            state.config.public_rate_per_minute,
            state.config.public_rate_burst,
        )
        .map(|(rate, burst)| fanorder_platform::limits::RateLimiter::per_minute(rate, burst)),
        body: state.config.body_limit,
        webhook_body: fanorder_pages::intake::MAX_BODY,
        timeout: state.config.request_timeout.0,
        tenant_turns: std::num::NonZeroU32::new(state.config.tenant_concurrency).map(|n| {
            (
                fanorder_platform::limits::Bulkhead::new(n),
                state.auth.keys.clone(),
            )
        }),
    };
    let (routes, _spec) = openapi::routes().split_for_parts();
    let routes = routes
        .merge(openapi::document_routes())
        .merge(crate::dashboard::routes())
        // The mock provider's checkout page: a page for people, not part of the REST contract.
        .merge(fanorder_orders::checkout::routes())
        .route("/metrics", axum::routing::get(crate::metrics::render));
    crate::metrics::handle();
    middleware::wrap(routes, limits).with_state(state)
}
