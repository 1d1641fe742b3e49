//! The event envelope: what an integrator receives as EventBridge `Detail`, what GET /v1/events
//! lists, and what the bot reacts to.

use fanorder_platform::{TenantId, ulid_id};
use jiff::Timestamp;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

ulid_id!(
    /// An event's id: the consumer's idempotency key (delivery is at least once).
    EventId,
    "event id"
);

/// Every event type fanorder publishes, with its current version. The JSON Schema of each is
/// `schema/events/<name>.v<version>.json`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum EventType {
    /// A restaurant signed up.
    TenantCreated,
    /// A staff member was added.
    StaffAdded,
    /// An order was placed (priced, waiting for payment or, for cash, in the kitchen queue).
    OrderPlaced,
    /// An order was paid: the kitchen has a new order to make.
    OrderPaid,
    /// An order moved from one status to another.
    OrderStatusChanged,
    /// An order was cancelled.
    OrderCancelled,
    /// A paid order has waited longer than the restaurant's limit to be started.
    OrderLate,
    /// A payment notification was refused (wrong amount, order not payable).
    PaymentRejected,
}

impl EventType {
    /// All types, for schema checks.
    pub const ALL: [EventType; 8] = [
        EventType::TenantCreated,
        EventType::StaffAdded,
        EventType::OrderPlaced,
        EventType::OrderPaid,
        EventType::OrderStatusChanged,
        EventType::OrderCancelled,
        EventType::OrderLate,
        EventType::PaymentRejected,
    ];

    /// The name, used as EventBridge `DetailType` and SNS `type` attribute.
    pub fn name(self) -> &'static str {
        match self {
            EventType::TenantCreated => "tenant.created",
            EventType::StaffAdded => "staff.added",
            EventType::OrderPlaced => "order.placed",
            EventType::OrderPaid => "order.paid",
            EventType::OrderStatusChanged => "order.status_changed",
            EventType::OrderCancelled => "order.cancelled",
            EventType::OrderLate => "order.late",
            EventType::PaymentRejected => "payment.rejected",
        }
    }

    /// The current version of the type's `data` shape.
    pub fn version(self) -> u32 {
        1
    }

    /// True for the events staff are notified of on SNS: a new order to make, a cancelled one,
    /// a late one.
    pub fn is_staff_notice(self) -> bool {
        matches!(
            self,
            EventType::OrderPaid | EventType::OrderCancelled | EventType::OrderLate
        )
    }

    /// The type with this name.
    pub fn from_name(name: &str) -> Option<EventType> {
        Self::ALL.into_iter().find(|t| t.name() == name)
    }
}

/// One event, as every consumer sees it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Event {
    /// Unique id; consumers dedupe on it.
    #[schema(value_type = String)]
    pub event_id: EventId,
    /// The type, e.g. `order.placed`.
    pub event_type: String,
    /// The version of the type's `data` shape.
    pub event_version: u32,
    /// The restaurant.
    #[schema(value_type = String)]
    pub tenant_id: TenantId,
    /// When the change happened.
    #[schema(value_type = String, format = DateTime)]
    pub occurred_at: Timestamp,
    /// For order events: the order's version after the change; orders a consumer's view of one
    /// order even when deliveries arrive out of order.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sequence: Option<i64>,
    /// The type's own data.
    #[schema(value_type = Object)]
    pub data: serde_json::Value,
}

impl Event {
    /// A new event of a type about a tenant, now.
    pub fn new(
        kind: EventType,
        tenant: TenantId,
        occurred_at: Timestamp,
        data: serde_json::Value,
    ) -> Self {
        Self {
            event_id: EventId::new(),
            event_type: kind.name().to_owned(),
            event_version: kind.version(),
            tenant_id: tenant,
            occurred_at,
            sequence: None,
            data,
        }
    }

    /// With a per-order sequence.
    pub fn with_sequence(mut self, sequence: i64) -> Self {
        self.sequence = Some(sequence);
        self
    }

    /// The type, if known.
    pub fn kind(&self) -> Option<EventType> {
        EventType::from_name(&self.event_type)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip_and_notices_are_the_kitchen_ones() {
        for kind in EventType::ALL {
            assert_eq!(EventType::from_name(kind.name()), Some(kind));
        }
        let notices: Vec<_> = EventType::ALL
            .into_iter()
            .filter(|k| k.is_staff_notice())
            .map(EventType::name)
            .collect();
        assert_eq!(notices, ["order.paid", "order.cancelled", "order.late"]);
    }

    #[test]
    fn the_envelope_serialises_flat() {
        let event = Event::new(
            EventType::OrderPlaced,
            TenantId::new(),
            Timestamp::UNIX_EPOCH,
            serde_json::json!({"x": 1}),
        )
        .with_sequence(1);
        let json = serde_json::to_value(&event).unwrap();
        assert_eq!(json["event_type"], "order.placed");
        assert_eq!(json["event_version"], 1);
        assert_eq!(json["sequence"], 1);
        assert_eq!(json["occurred_at"], "1970-01-01T00:00:00Z");
        let back: Event = serde_json::from_value(json).unwrap();
        assert_eq!(back, event);
    }
}
