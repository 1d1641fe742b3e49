//! Orders and their rules: the status machine (one table of moves and who may make them), lines
//! as sold, and the views the API returns. No I/O.

use fanorder_menus::model::{ChosenModifier, ComboId, ItemId, LocationId};
use fanorder_platform::address::Address;
use fanorder_platform::{Currency, Role, ulid_id};
use jiff::Timestamp;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

ulid_id!(
    /// An order.
    OrderId,
    "order id"
);

/// Where an order is in its life.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, ToSchema,
)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
// Named apart from the staff crate's `Status` (active, deactivated): under one name the
// contract kept only one of the two, and said orders were `active` or `deactivated`.
#[schema(as = OrderStatus)]
pub enum Status {
    /// Placed, waiting for an online payment.
    PendingPayment,
    /// Paid (or taken as cash): waiting for the kitchen.
    Paid,
    /// Being cooked.
    InKitchen,
    /// Cooked and packed, waiting for the driver or the customer.
    Ready,
    /// On its way.
    OutForDelivery,
    /// Delivered (final).
    Delivered,
    /// Collected by the customer (final).
    PickedUp,
    /// Cancelled (final).
    Cancelled,
}

impl Status {
    /// Every status.
    pub const ALL: [Status; 8] = [
        Status::PendingPayment,
        Status::Paid,
        Status::InKitchen,
        Status::Ready,
        Status::OutForDelivery,
        Status::Delivered,
        Status::PickedUp,
        Status::Cancelled,
    ];

    /// The name used in the API, keys and events (`IN_KITCHEN`).
    pub fn as_str(self) -> &'static str {
        match self {
            Status::PendingPayment => "PENDING_PAYMENT",
            Status::Paid => "PAID",
            Status::InKitchen => "IN_KITCHEN",
            Status::Ready => "READY",
            Status::OutForDelivery => "OUT_FOR_DELIVERY",
            Status::Delivered => "DELIVERED",
            Status::PickedUp => "PICKED_UP",
            Status::Cancelled => "CANCELLED",
        }
    }

    /// True once nothing can happen to the order any more.
    pub fn is_final(self) -> bool {
        matches!(
            self,
            Status::Delivered | Status::PickedUp | Status::Cancelled
        )
    }
}

impl std::str::FromStr for Status {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Status::ALL.into_iter().find(|st| st.as_str() == s).ok_or_else(|| {
            "must be one of PENDING_PAYMENT, PAID, IN_KITCHEN, READY, OUT_FOR_DELIVERY, DELIVERED, PICKED_UP, CANCELLED"
                .to_owned()
        })
    }
}

impl std::fmt::Display for Status {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// How the order reaches the customer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum Fulfillment {
    /// A driver brings it.
    Delivery,
    /// The customer collects it.
    Pickup,
}

/// Who moves an order: a role, or the payment provider.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Mover {
    /// A staff member or customer in this role.
    Role(Role),
    /// The payment provider's notification.
    System,
}

impl Mover {
    /// The name recorded in history and events (`cook`, `system`).
    pub fn as_str(self) -> &'static str {
        match self {
            Mover::Role(role) => role.as_str(),
            Mover::System => "system",
        }
    }
}

/// What the state machine says about a requested move.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// The mover may make it.
    Allowed,
    /// Somebody may make this move, but not this mover (403).
    WrongRole,
    /// Nobody may make this move from this status (409 `illegal_transition`).
    Illegal,
}

const ADMIN: Mover = Mover::Role(Role::Admin);
const COOK: Mover = Mover::Role(Role::Cook);
const PACKER: Mover = Mover::Role(Role::Packer);
const DRIVER: Mover = Mover::Role(Role::Driver);
const CUSTOMER: Mover = Mover::Role(Role::Customer);

/// The one table of moves: for each (from, to), who may make it. Pickup orders go
/// `READY -> PICKED_UP`, delivery orders `READY -> OUT_FOR_DELIVERY -> DELIVERED`. A customer
/// may cancel their own order while it waits for payment; admins may make every move.
pub fn movers(from: Status, to: Status, fulfillment: Fulfillment) -> &'static [Mover] {
    use Status::*;
    match (from, to, fulfillment) {
        (PendingPayment, Paid, _) => &[ADMIN, Mover::System],
        (Paid, InKitchen, _) | (InKitchen, Ready, _) => &[COOK, ADMIN],
        (Ready, OutForDelivery, Fulfillment::Delivery) | (Ready, PickedUp, Fulfillment::Pickup) => {
            &[PACKER, ADMIN]
        }
        (OutForDelivery, Delivered, Fulfillment::Delivery) => &[DRIVER, ADMIN],
        (PendingPayment, Cancelled, _) => &[CUSTOMER, ADMIN],
        (Paid, Cancelled, _) | (InKitchen, Cancelled, _) => &[ADMIN],
        _ => &[],
    }
}

/// Whether `mover` may move an order of `fulfillment` from `from` to `to`.
pub fn verdict(from: Status, to: Status, fulfillment: Fulfillment, mover: Mover) -> Verdict {
    let allowed = movers(from, to, fulfillment);
    if allowed.is_empty() {
        Verdict::Illegal
    } else if allowed.contains(&mover) {
        Verdict::Allowed
    } else {
        Verdict::WrongRole
    }
}

/// The moves a mover may make from a status: the "next" buttons of a dashboard.
pub fn next_moves(from: Status, fulfillment: Fulfillment, mover: Mover) -> Vec<Status> {
    Status::ALL
        .into_iter()
        .filter(|to| movers(from, *to, fulfillment).contains(&mover))
        .collect()
}

/// One item of a combo, as sold.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct ComboPart {
    /// The menu item.
    #[schema(value_type = String)]
    pub item_id: ItemId,
    /// Its name when sold.
    pub name: String,
    /// How many per combo.
    pub quantity: u32,
}

/// A line as sold: names and prices are copies, so later menu edits never change an order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Line {
    /// The menu item (for item lines).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<String>)]
    pub item_id: Option<ItemId>,
    /// The combo (for combo lines).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<String>)]
    pub combo_id: Option<ComboId>,
    /// The name when sold.
    pub name: String,
    /// How many, 1 to 99.
    pub quantity: u32,
    /// Price of one, modifiers included, in minor units.
    pub unit_price: i64,
    /// The chosen modifiers (item lines).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[schema(value_type = Vec<Object>)]
    pub modifiers: Vec<ChosenModifier>,
    /// What the combo contained (combo lines).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub components: Vec<ComboPart>,
    /// `unit_price * quantity`.
    pub line_total: i64,
}

/// How the order is paid.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum PaymentMethod {
    /// Through the payment provider: the order waits in `PENDING_PAYMENT`.
    Online,
    /// Cash on delivery or at the counter: the order goes to the kitchen at once, payment due.
    Cash,
}

/// Where the payment stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum PaymentStatus {
    /// Waiting for the provider.
    Pending,
    /// Paid.
    Paid,
    /// Cash still to be collected.
    Due,
}

/// The order's payment.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Payment {
    /// Online or cash.
    pub method: PaymentMethod,
    /// Pending, paid or due.
    pub status: PaymentStatus,
    /// The provider that confirmed it (online).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub provider: Option<String>,
    /// The provider's payment id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub payment_id: Option<String>,
}

/// Where an order came from, when not the REST API: the bot replies there at each move.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(tag = "kind", rename_all = "lowercase")]
pub enum Channel {
    /// A Messenger conversation.
    Messenger {
        /// The Facebook page.
        page_id: String,
        /// The customer's page-scoped id.
        psid: String,
    },
}

/// Who placed an order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct PlacedBy {
    /// The account (customer or admin), or the channel's customer id.
    pub account: String,
    /// `customer`, `admin`, or `system` for the bot.
    pub role: String,
}

/// An order as stored and shown.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Order {
    /// Its id.
    pub id: OrderId,
    /// A short number per restaurant and day, for the kitchen and the customer.
    pub number: u32,
    /// Where it is in its life.
    pub status: Status,
    /// Optimistic concurrency: each move needs the version read.
    pub version: i64,
    /// Delivery or pickup.
    pub fulfillment: Fulfillment,
    /// The branch making it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub location_id: Option<LocationId>,
    /// The customer account that placed it (REST customers).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub customer_id: Option<String>,
    /// Who placed it.
    pub placed_by: PlacedBy,
    /// Where it came from (Messenger).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub channel: Option<Channel>,
    /// Where to deliver.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub address: Option<Address>,
    /// A phone for the driver.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub phone: Option<String>,
    /// A note for the kitchen.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
    /// The lines as sold.
    pub lines: Vec<Line>,
    /// Sum of the lines.
    pub subtotal: i64,
    /// What the customer pays.
    pub total: i64,
    /// The restaurant's currency when placed.
    pub currency: Currency,
    /// The payment.
    pub payment: Payment,
    /// Stock taken per item when placed, given back if cancelled.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub stock_taken: Vec<(ItemId, i64)>,
    /// When placed.
    pub created_at: Timestamp,
    /// Last change.
    pub updated_at: Timestamp,
    /// When it entered its current status (queues sort by it).
    pub status_at: Timestamp,
    /// When it was paid.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub paid_at: Option<Timestamp>,
    /// Set once a late notice went out.
    #[serde(default)]
    pub late_noticed: bool,
}

/// An order as the API shows it.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct OrderView {
    /// Order id.
    #[schema(value_type = String)]
    pub id: OrderId,
    /// Short number per restaurant and day.
    pub number: u32,
    /// Status.
    pub status: Status,
    /// Pass back with a move.
    pub version: i64,
    /// Delivery or pickup.
    pub fulfillment: Fulfillment,
    /// Branch.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<String>)]
    pub location_id: Option<LocationId>,
    /// The customer account.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub customer_id: Option<String>,
    /// Who placed it.
    pub placed_by: PlacedBy,
    /// Where it came from.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub channel: Option<Channel>,
    /// Delivery address.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub address: Option<Address>,
    /// Phone.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub phone: Option<String>,
    /// Note for the kitchen.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
    /// Lines as sold.
    pub lines: Vec<Line>,
    /// Sum of the lines, minor units.
    pub subtotal: i64,
    /// Total, minor units.
    pub total: i64,
    /// ISO 4217 code.
    #[schema(value_type = String)]
    pub currency: Currency,
    /// Payment.
    pub payment: Payment,
    /// When placed.
    #[schema(value_type = String, format = DateTime)]
    pub created_at: Timestamp,
    /// When it entered its status.
    #[schema(value_type = String, format = DateTime)]
    pub status_at: Timestamp,
    /// When paid.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<String>, format = DateTime)]
    pub paid_at: Option<Timestamp>,
}

impl From<&Order> for OrderView {
    fn from(o: &Order) -> Self {
        Self {
            id: o.id,
            number: o.number,
            status: o.status,
            version: o.version,
            fulfillment: o.fulfillment,
            location_id: o.location_id,
            customer_id: o.customer_id.clone(),
            placed_by: o.placed_by.clone(),
            channel: o.channel.clone(),
            address: o.address.clone(),
            phone: o.phone.clone(),
            note: o.note.clone(),
            lines: o.lines.clone(),
            subtotal: o.subtotal,
            total: o.total,
            currency: o.currency,
            payment: o.payment.clone(),
            created_at: o.created_at,
            status_at: o.status_at,
            paid_at: o.paid_at,
        }
    }
}

/// One move in an order's history.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct HistoryEntry {
    /// The order's version after the move (1 = placed).
    pub version: i64,
    /// The status before (absent when placed).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub from: Option<Status>,
    /// The status after.
    pub to: Status,
    /// When.
    #[schema(value_type = String, format = DateTime)]
    pub at: Timestamp,
    /// The account that moved it (absent for the payment provider).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub by: Option<String>,
    /// The mover's role, or `system`.
    pub role: String,
    /// Why (cancellations, mostly).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const ROLES: [Mover; 6] = [ADMIN, COOK, PACKER, DRIVER, CUSTOMER, Mover::System];

    #[test]
    fn the_kitchen_path_for_each_role() {
        use Status::*;
        assert_eq!(
            verdict(Paid, InKitchen, Fulfillment::Delivery, COOK),
            Verdict::Allowed
        );
        assert_eq!(
            verdict(InKitchen, Ready, Fulfillment::Delivery, COOK),
            Verdict::Allowed
        );
        assert_eq!(
            verdict(Ready, OutForDelivery, Fulfillment::Delivery, PACKER),
            Verdict::Allowed
        );
        assert_eq!(
            verdict(OutForDelivery, Delivered, Fulfillment::Delivery, DRIVER),
            Verdict::Allowed
        );
        assert_eq!(
            verdict(Ready, PickedUp, Fulfillment::Pickup, PACKER),
            Verdict::Allowed
        );
        assert_eq!(
            verdict(OutForDelivery, Delivered, Fulfillment::Delivery, COOK),
            Verdict::WrongRole,
            "a cook cannot deliver"
        );
        assert_eq!(
            verdict(Paid, InKitchen, Fulfillment::Delivery, DRIVER),
            Verdict::WrongRole
        );
        assert_eq!(
            verdict(Ready, PickedUp, Fulfillment::Delivery, PACKER),
            Verdict::Illegal,
            "delivery orders are not picked up"
        );
        assert_eq!(
            verdict(Ready, OutForDelivery, Fulfillment::Pickup, PACKER),
            Verdict::Illegal
        );
        assert_eq!(
            verdict(Paid, Delivered, Fulfillment::Delivery, ADMIN),
            Verdict::Illegal,
            "no skipping"
        );
        assert_eq!(
            verdict(PendingPayment, Cancelled, Fulfillment::Pickup, CUSTOMER),
            Verdict::Allowed
        );
        assert_eq!(
            verdict(Paid, Cancelled, Fulfillment::Pickup, CUSTOMER),
            Verdict::WrongRole
        );
        assert_eq!(
            verdict(Ready, Cancelled, Fulfillment::Pickup, ADMIN),
            Verdict::Illegal,
            "too late to cancel"
        );
        assert_eq!(
            verdict(PendingPayment, Paid, Fulfillment::Pickup, Mover::System),
            Verdict::Allowed
        );
    }

    #[test]
    fn final_statuses_have_no_way_out() {
        for from in Status::ALL.into_iter().filter(|s| s.is_final()) {
            for to in Status::ALL {
                for f in [Fulfillment::Delivery, Fulfillment::Pickup] {
                    assert!(movers(from, to, f).is_empty(), "{from} -> {to}");
                }
            }
        }
    }

    #[test]
    fn admins_may_make_every_legal_move() {
        for from in Status::ALL {
            for to in Status::ALL {
                for f in [Fulfillment::Delivery, Fulfillment::Pickup] {
                    let allowed = movers(from, to, f);
                    if !allowed.is_empty() && allowed != [ADMIN, Mover::System] {
                        assert!(allowed.contains(&ADMIN), "{from} -> {to}");
                    }
                }
            }
        }
        assert_eq!(
            next_moves(Status::Ready, Fulfillment::Pickup, PACKER),
            [Status::PickedUp]
        );
        assert_eq!(
            next_moves(Status::Paid, Fulfillment::Delivery, COOK),
            [Status::InKitchen]
        );
    }

    /// A model of the order's life: from PENDING_PAYMENT, following only allowed moves, every
    /// reachable path ends in a final status within 5 moves, visits no status twice, and a
    /// delivered order always went through the kitchen.
    fn walk(moves: &[(usize, usize)], fulfillment: Fulfillment) -> Vec<Status> {
        let mut at = Status::PendingPayment;
        let mut path = vec![at];
        for (to, mover) in moves {
            let to = Status::ALL[to % Status::ALL.len()];
            let mover = ROLES[mover % ROLES.len()];
            if verdict(at, to, fulfillment, mover) == Verdict::Allowed {
                at = to;
                path.push(at);
            }
        }
        path
    }

    proptest! {
        #[test]
        fn random_walks_obey_the_model(moves in proptest::collection::vec((0usize..8, 0usize..6), 0..40), pickup in any::<bool>()) {
            let fulfillment = if pickup { Fulfillment::Pickup } else { Fulfillment::Delivery };
            let path = walk(&moves, fulfillment);
            prop_assert!(path.len() <= 6, "{path:?}");
            let mut seen = path.clone();
            seen.sort();
            seen.dedup();
            prop_assert_eq!(seen.len(), path.len(), "a status came back: {:?}", path);
            let last = *path.last().unwrap();
            if last == Status::Delivered {
                prop_assert_eq!(&path[..], &[Status::PendingPayment, Status::Paid, Status::InKitchen, Status::Ready, Status::OutForDelivery, Status::Delivered]);
            }
            if last == Status::PickedUp {
                prop_assert_eq!(&path[..], &[Status::PendingPayment, Status::Paid, Status::InKitchen, Status::Ready, Status::PickedUp]);
                prop_assert_eq!(fulfillment, Fulfillment::Pickup);
            }
            if path.contains(&Status::Cancelled) {
                prop_assert!(!path.contains(&Status::Ready), "cancelled after it was ready: {:?}", path);
            }
        }
    }
}
