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

/// Every program linked with this crate (`fanorder`, the Lambda functions, the benchmarks and
/// tests) allocates with mimalloc. The request paths allocate many small short-lived values
/// across threads (request parts, JSON trees, store items handed to the writer thread); under
/// glibc's malloc that was a fifth of the webhook intake's CPU (BENCHMARKS.md).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;
