//! Restaurants (tenants) and their staff: signup, the restaurant profile, staff members with
//! roles, and login sessions with rotating refresh tokens.
#![forbid(unsafe_code)]

pub mod http;
pub mod model;
pub mod session;
pub mod store;

pub use http::router;
pub use model::{Member, StaffId, Status, Tenant, Tokens};
