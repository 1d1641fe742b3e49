//! Orders: placed and priced on the server from the menu, moved through the kitchen by a
//! role-guarded state machine, each move written with its history entry and its event in one
//! transaction; payments behind a port; late-order notices.
#![forbid(unsafe_code)]

pub mod checkout;
pub mod http;
pub mod late;
pub mod model;
pub mod payments;
pub mod pricing;
pub mod receipt;
pub mod reports;
pub mod service;
pub mod store;

pub use http::router;
pub use model::{Order, OrderId, Status};
pub use payments::{MockProvider, Payments};
pub use reports::SalesLedger;
