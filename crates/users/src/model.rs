//! Customers: their types and rules, no I/O.

pub use fanorder_platform::address::Address;
use fanorder_platform::{Email, ulid_id};
use fanorder_staff::Status;
use jiff::Timestamp;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

ulid_id!(
    /// A customer of one restaurant.
    CustomerId,
    "customer id"
);

/// The most saved addresses a customer keeps.
pub const MAX_ADDRESSES: usize = 10;

/// A customer as stored (with the password hash, which never leaves the crate's store).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Customer {
    /// Its id.
    pub id: CustomerId,
    /// Login email, unique among the restaurant's customers.
    pub email: Email,
    /// Display name.
    pub name: String,
    /// Phone for the driver.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub phone: Option<String>,
    /// Saved delivery addresses.
    #[serde(default)]
    pub addresses: Vec<Address>,
    /// Active or deactivated.
    pub status: Status,
    /// argon2id PHC string.
    pub password_hash: String,
    /// Optimistic concurrency.
    pub version: i64,
    /// When registered.
    pub created_at: Timestamp,
    /// Last change.
    pub updated_at: Timestamp,
}

/// A customer as the API shows it.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct CustomerView {
    /// Customer id.
    #[schema(value_type = String)]
    pub id: CustomerId,
    /// Login email.
    #[schema(value_type = String)]
    pub email: Email,
    /// Display name.
    pub name: String,
    /// Always `customer`.
    pub role: fanorder_platform::Role,
    /// Phone.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub phone: Option<String>,
    /// Saved addresses.
    pub addresses: Vec<Address>,
    /// Pass back in PATCH to guard against concurrent edits.
    pub version: i64,
    /// When registered.
    #[schema(value_type = String, format = DateTime)]
    pub created_at: Timestamp,
}

impl From<&Customer> for CustomerView {
    fn from(c: &Customer) -> Self {
        Self {
            id: c.id,
            email: c.email.clone(),
            name: c.name.clone(),
            role: fanorder_platform::Role::Customer,
            phone: c.phone.clone(),
            addresses: c.addresses.clone(),
            version: c.version,
            created_at: c.created_at,
        }
    }
}
