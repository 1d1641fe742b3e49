//! Shared building blocks of fanorder: ids, money, the clock, configuration, telemetry, and the
//! one API error type with its JSON extractor.
#![forbid(unsafe_code)]

pub mod clock;
pub mod config;
pub mod error;
pub mod id;
pub mod json;
pub mod money;
pub mod secrets;
pub mod telemetry;

pub use clock::Clock;
pub use config::{Config, ConfigError, Secret, StoreUrl};
pub use error::{ApiError, FieldError};
pub use id::TenantId;
pub use json::Json;
pub use money::{Currency, Money};
pub use secrets::Secrets;
