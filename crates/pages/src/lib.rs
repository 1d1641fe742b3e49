//! Facebook pages connected to restaurants, the Messenger webhook intake, and the ordering bot.
#![forbid(unsafe_code)]

pub mod bot;
pub mod http;
pub mod intake;
pub mod model;
pub mod notify;
pub mod reader;
pub mod send;
pub mod store;
pub mod token;
pub mod worker;

pub use intake::Intake;
pub use notify::Notifier;
pub use send::Messenger;
pub use token::TokenBox;
pub use worker::BotCtx;

/// The routes of the crate: pages, conversations and the Messenger webhook.
pub fn router<S>() -> utoipa_axum::router::OpenApiRouter<S>
where
    S: Clone + Send + Sync + 'static,
    fanorder_store::Table: axum::extract::FromRef<S>,
    fanorder_platform::auth::Auth: axum::extract::FromRef<S>,
    fanorder_platform::Clock: axum::extract::FromRef<S>,
    TokenBox: axum::extract::FromRef<S>,
    Messenger: axum::extract::FromRef<S>,
    Intake: axum::extract::FromRef<S>,
{
    http::router().merge(intake::router())
}
