//! A delivery address, as a customer saves it and as an order carries it.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::text::text;

/// A delivery address.
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
