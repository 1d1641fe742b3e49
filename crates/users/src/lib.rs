//! Customers of a restaurant: registration, their profile and saved addresses, and login for
//! every kind of account.
#![forbid(unsafe_code)]

pub mod http;
pub mod model;
pub mod store;

pub use http::router;
pub use model::{Customer, CustomerId};
