//! Application state and the Router: every route of every crate, behind one middleware stack.

use std::sync::Arc;

use axum::Router;
use fanorder_platform::{Clock, Config, Secrets, StoreUrl};
use fanorder_store::dynamodb::Dynamo;
use fanorder_store::sqlite::{Sqlite, SqliteOptions};
use fanorder_store::{StoreResult, Table};

use crate::{health, middleware};

/// What every handler can reach. Cheap to clone (everything inside is shared).
#[derive(Clone, Debug)]
pub struct AppState {
    /// The one table.
    pub table: Table,
    /// The configuration the process started with.
    pub config: Arc<Config>,
    /// The clock (settable in tests).
    pub clock: Clock,
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
    let routes = Router::new().merge(health::router());
    middleware::wrap(routes, limits).with_state(state)
}
