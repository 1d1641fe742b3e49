//! The composition root of fanorder: builds the application state and the one `Router` from the
//! feature crates, and runs it under `fanorder serve` (or Lambda).
#![forbid(unsafe_code)]

pub mod accounts;
pub mod app;
pub mod cli;
pub mod dashboard;
pub mod demo;
pub mod health;
pub mod lambda;
pub mod metrics;
pub mod middleware;
pub mod openapi;
pub mod simulate;
pub mod workers;

pub use app::{AppState, build_router, open_table};
