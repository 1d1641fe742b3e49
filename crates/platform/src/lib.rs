//! Shared building blocks of fanorder: ids, money, the clock, configuration, telemetry, and the
//! one API error type with its JSON extractor.
#![forbid(unsafe_code)]

pub mod address;
pub mod auth;
pub mod clock;
pub mod config;
pub mod error;
pub mod id;
pub mod json;
pub mod limits;
pub mod money;
pub mod page;
pub mod password;
pub mod secrets;
pub mod telemetry;
pub mod tenancy;
pub mod text;
pub mod web;

pub use auth::{Auth, Caller, Require, Role};
pub use clock::Clock;
pub use config::{Config, ConfigError, Secret, StoreUrl};
pub use error::{ApiError, FieldError};
pub use id::TenantId;
pub use json::Json;
pub use limits::{ClientAddr, LoginLimits};
pub use money::{Currency, Money};
pub use page::{Page, PageParams};
pub use password::{Password, Passwords};
pub use secrets::Secrets;
pub use text::{Email, Fields, Slug};
