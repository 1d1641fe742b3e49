//! Domain events: the envelope, the outbox written in the same transaction as each change, the
//! relay that delivers them at least once, and the publishers (EventBridge, SNS, the in-process
//! feed for live screens). Consumers dedupe on `event_id`.
#![forbid(unsafe_code)]

pub mod http;
pub mod model;
pub mod outbox;
pub mod publish;
pub mod relay;
pub mod schema;

pub use model::{Event, EventId, EventType};
pub use outbox::{Delivery, Outbox};
pub use relay::Relay;
