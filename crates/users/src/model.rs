//! Customers: their types and rules, no I/O.

use fanorder_platform::text::text;
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

/// A delivery address as a customer saved it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[schema(example = json!({"label": "home", "line1": "12 Sukhumvit Soi 11", "city": "Bangkok", "postal_code": "10110"}))]
pub struct Address {
    /// A short name: home, work...
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(max_length = 40)]
    pub label: Option<String>,
    /// Street and number.
    #[schema(max_length = 200)]
    pub line1: String,
    /// Building, floor, apartment.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(max_length = 200)]
    pub line2: Option<String>,
    /// City.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(max_length = 100)]
    pub city: Option<String>,
    /// Postal code.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(max_length = 20)]
    pub postal_code: Option<String>,
    /// Directions for the driver.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(max_length = 300)]
    pub notes: Option<String>,
    /// Latitude, -90 to 90.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(minimum = -90, maximum = 90)]
    pub lat: Option<f64>,
    /// Longitude, -180 to 180.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(minimum = -180, maximum = 180)]
    pub lng: Option<f64>,
}

impl Address {
    /// The address with every field checked and trimmed; errors name the field under `at`.
    pub fn checked(self, at: &str) -> Result<Address, (String, String)> {
        let field = |name: &str| format!("{at}.{name}");
        let optional = |name: &str,
                        value: Option<String>,
                        max: usize|
         -> Result<Option<String>, (String, String)> {
            match value {
                None => Ok(None),
                Some(v) if v.trim().is_empty() => Ok(None),
                Some(v) => text(&v, max).map(Some).map_err(|e| (field(name), e)),
            }
        };
        let coordinate = |name: &str, value: Option<f64>, limit: f64| match value {
            Some(v) if !v.is_finite() || v.abs() > limit => {
                Err((field(name), format!("must be between -{limit} and {limit}")))
            }
            other => Ok(other),
        };
        Ok(Address {
            label: optional("label", self.label, 40)?,
            line1: text(&self.line1, 200).map_err(|e| (field("line1"), e))?,
            line2: optional("line2", self.line2, 200)?,
            city: optional("city", self.city, 100)?,
            postal_code: optional("postal_code", self.postal_code, 20)?,
            notes: optional("notes", self.notes, 300)?,
            lat: coordinate("lat", self.lat, 90.0)?,
            lng: coordinate("lng", self.lng, 180.0)?,
        })
    }
}

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

#[cfg(test)]
mod tests {
    use super::*;

    fn address(line1: &str) -> Address {
        Address {
            label: None,
            line1: line1.into(),
            line2: Some("  ".into()),
            city: None,
            postal_code: None,
            notes: None,
            lat: Some(13.7),
            lng: Some(100.5),
        }
    }

    #[test]
    fn addresses_are_trimmed_and_checked_field_by_field() {
        let ok = address("  12 Sukhumvit  ").checked("addresses[0]").unwrap();
        assert_eq!(ok.line1, "12 Sukhumvit");
        assert_eq!(ok.line2, None, "blank optional fields are dropped");
        let err = address("").checked("addresses[1]").unwrap_err();
        assert_eq!(err.0, "addresses[1].line1");
        let far = Address {
            lat: Some(91.0),
            ..address("x")
        };
        assert_eq!(far.checked("a").unwrap_err().0, "a.lat");
        let nan = Address {
            lng: Some(f64::NAN),
            ..address("x")
        };
        assert_eq!(nan.checked("a").unwrap_err().0, "a.lng");
    }
}
