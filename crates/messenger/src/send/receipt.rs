//! The receipt template: an order summary with exact prices.
//!
//! Prices come in as integer minor units with the currency's exponent (1250 with exponent 2 is
//! 12.50) and go out as JSON numbers written from the exact decimal, never from float
//! arithmetic: `12.5`, `19.99`, `1500` for 1500 JPY.

use serde_json::{Map, Value, json};
use url::Url;

/// The most elements (line items) a receipt may list.
pub const RECEIPT_ELEMENTS_MAX: usize = 100;

/// The largest currency exponent ISO 4217 uses (4, for CLF and UYW).
pub const EXPONENT_MAX: u32 = 4;

/// The currency of a receipt: an ISO 4217 code and how many decimals its minor unit has.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReceiptCurrency {
    code: String,
    exponent: u32,
}

/// A currency code that is not three letters, or an exponent above 4.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("a receipt currency is a three-letter ISO 4217 code with an exponent of 0 to 4")]
pub struct InvalidReceiptCurrency;

impl ReceiptCurrency {
    /// `code` (`USD`, `thb`: upper-cased) with `exponent` decimals (2 for USD, 0 for JPY).
    pub fn new(code: &str, exponent: u32) -> Result<Self, InvalidReceiptCurrency> {
        if code.len() != 3 || !code.bytes().all(|b| b.is_ascii_alphabetic()) {
            return Err(InvalidReceiptCurrency);
        }
        if exponent > EXPONENT_MAX {
            return Err(InvalidReceiptCurrency);
        }
        Ok(Self {
            code: code.to_ascii_uppercase(),
            exponent,
        })
    }

    /// The three-letter code.
    pub fn code(&self) -> &str {
        &self.code
    }

    /// The number of decimals of the minor unit.
    pub fn exponent(&self) -> u32 {
        self.exponent
    }
}

/// The exact decimal text of `minor` units with `exponent` decimals: `decimal(1250, 2)` is
/// `"12.50"`, `decimal(-5, 2)` is `"-0.05"`, `decimal(1500, 0)` is `"1500"`.
pub fn decimal(minor: i64, exponent: u32) -> String {
    let sign = if minor < 0 { "-" } else { "" };
    let digits = minor.unsigned_abs().to_string();
    if exponent == 0 {
        return format!("{sign}{digits}");
    }
    let exponent = exponent as usize;
    let padded = format!("{digits:0>width$}", width = exponent + 1);
    let (whole, fraction) = padded.split_at(padded.len() - exponent);
    format!("{sign}{whole}.{fraction}")
}

/// The amount as a JSON number. Whole currencies stay integers; otherwise the exact decimal
/// text is read as the nearest double, which serializes back to the same shortest decimal for
/// every amount of at most 15 significant digits (below 10^13 minor units at exponent 2: more
/// than any receipt holds).
pub fn amount_json(minor: i64, exponent: u32) -> Value {
    if exponent == 0 {
        return json!(minor);
    }
    match decimal(minor, exponent).parse::<f64>() {
        Ok(value) => json!(value),
        Err(_) => json!(minor),
    }
}

/// A line of the receipt.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReceiptElement {
    title: String,
    subtitle: Option<String>,
    quantity: Option<u32>,
    price_minor: i64,
    image_url: Option<Url>,
}

impl ReceiptElement {
    /// A line with its title and (line) price in minor units.
    pub fn new(title: &str, price_minor: i64) -> Self {
        Self {
            title: title.to_owned(),
            subtitle: None,
            quantity: None,
            price_minor,
            image_url: None,
        }
    }

    /// A subtitle (the chosen options, say).
    pub fn subtitle(mut self, subtitle: &str) -> Self {
        self.subtitle = Some(subtitle.to_owned());
        self
    }

    /// How many.
    pub fn quantity(mut self, quantity: u32) -> Self {
        self.quantity = Some(quantity);
        self
    }

    /// A picture of the item.
    pub fn image_url(mut self, url: Url) -> Self {
        self.image_url = Some(url);
        self
    }

    fn to_json(&self, currency: &ReceiptCurrency) -> Value {
        let mut obj = Map::new();
        obj.insert("title".into(), json!(self.title));
        if let Some(subtitle) = &self.subtitle {
            obj.insert("subtitle".into(), json!(subtitle));
        }
        if let Some(quantity) = self.quantity {
            obj.insert("quantity".into(), json!(quantity));
        }
        obj.insert(
            "price".into(),
            amount_json(self.price_minor, currency.exponent),
        );
        obj.insert("currency".into(), json!(currency.code));
        if let Some(url) = &self.image_url {
            obj.insert("image_url".into(), json!(url.as_str()));
        }
        Value::Object(obj)
    }
}

/// The totals of a receipt, in minor units.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ReceiptSummary {
    /// Before shipping and tax.
    pub subtotal: Option<i64>,
    /// Delivery fee.
    pub shipping_cost: Option<i64>,
    /// Tax.
    pub total_tax: Option<i64>,
    /// What the customer pays.
    pub total_cost: i64,
}

impl ReceiptSummary {
    /// A summary with only the total.
    pub fn total(total_cost: i64) -> Self {
        Self {
            subtotal: None,
            shipping_cost: None,
            total_tax: None,
            total_cost,
        }
    }

    fn to_json(self, exponent: u32) -> Value {
        let mut obj = Map::new();
        for (name, value) in [
            ("subtotal", self.subtotal),
            ("shipping_cost", self.shipping_cost),
            ("total_tax", self.total_tax),
            ("total_cost", Some(self.total_cost)),
        ] {
            if let Some(value) = value {
                obj.insert(name.into(), amount_json(value, exponent));
            }
        }
        Value::Object(obj)
    }
}

/// The delivery address shown on a receipt (Facebook wants every field but `street_2`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReceiptAddress {
    /// First address line.
    pub street_1: String,
    /// Second address line.
    pub street_2: Option<String>,
    /// City.
    pub city: String,
    /// Postal code.
    pub postal_code: String,
    /// State or province.
    pub state: String,
    /// Country (two-letter code or name).
    pub country: String,
}

/// An order receipt.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReceiptTemplate {
    recipient_name: String,
    order_number: String,
    currency: ReceiptCurrency,
    payment_method: String,
    merchant_name: Option<String>,
    order_url: Option<Url>,
    timestamp: Option<i64>,
    address: Option<ReceiptAddress>,
    elements: Vec<ReceiptElement>,
    adjustments: Vec<(String, i64)>,
    summary: ReceiptSummary,
}

impl ReceiptTemplate {
    /// A receipt with what Facebook requires: who it is for, a unique order number, the
    /// currency, how it was paid ("Cash on delivery", "Visa 1234") and the totals.
    pub fn new(
        recipient_name: &str,
        order_number: &str,
        currency: ReceiptCurrency,
        payment_method: &str,
        summary: ReceiptSummary,
    ) -> Self {
        Self {
            recipient_name: recipient_name.to_owned(),
            order_number: order_number.to_owned(),
            currency,
            payment_method: payment_method.to_owned(),
            merchant_name: None,
            order_url: None,
            timestamp: None,
            address: None,
            elements: Vec::new(),
            adjustments: Vec::new(),
            summary,
        }
    }

    /// Adds a line; a receipt keeps its first 100 lines.
    pub fn element(mut self, element: ReceiptElement) -> Self {
        if self.elements.len() < RECEIPT_ELEMENTS_MAX {
            self.elements.push(element);
        }
        self
    }

    /// The delivery address.
    pub fn address(mut self, address: ReceiptAddress) -> Self {
        self.address = Some(address);
        self
    }

    /// The restaurant's name, shown instead of the page name.
    pub fn merchant_name(mut self, name: &str) -> Self {
        self.merchant_name = Some(name.to_owned());
        self
    }

    /// A link to the order.
    pub fn order_url(mut self, url: Url) -> Self {
        self.order_url = Some(url);
        self
    }

    /// When the order was placed, in seconds since the epoch.
    pub fn timestamp(mut self, seconds: i64) -> Self {
        self.timestamp = Some(seconds);
        self
    }

    /// A discount or surcharge line (negative for a discount), in minor units.
    pub fn adjustment(mut self, name: &str, amount_minor: i64) -> Self {
        self.adjustments.push((name.to_owned(), amount_minor));
        self
    }

    /// The template `payload` object.
    pub fn to_json(&self) -> Value {
        let exponent = self.currency.exponent;
        let mut obj = Map::new();
        obj.insert("template_type".into(), json!("receipt"));
        obj.insert("recipient_name".into(), json!(self.recipient_name));
        obj.insert("order_number".into(), json!(self.order_number));
        obj.insert("currency".into(), json!(self.currency.code));
        obj.insert("payment_method".into(), json!(self.payment_method));
        if let Some(name) = &self.merchant_name {
            obj.insert("merchant_name".into(), json!(name));
        }
        if let Some(url) = &self.order_url {
            obj.insert("order_url".into(), json!(url.as_str()));
        }
        if let Some(ts) = self.timestamp {
            obj.insert("timestamp".into(), json!(ts.to_string()));
        }
        if let Some(a) = &self.address {
            let mut address = json!({
                "street_1": a.street_1, "city": a.city, "postal_code": a.postal_code,
                "state": a.state, "country": a.country,
            });
            if let (Some(street_2), Value::Object(map)) = (&a.street_2, &mut address) {
                map.insert("street_2".into(), json!(street_2));
            }
            obj.insert("address".into(), address);
        }
        obj.insert("summary".into(), self.summary.to_json(exponent));
        if !self.adjustments.is_empty() {
            let adjustments: Vec<Value> = self
                .adjustments
                .iter()
                .map(|(name, amount)| json!({"name": name, "amount": amount_json(*amount, exponent)}))
                .collect();
            obj.insert("adjustments".into(), Value::Array(adjustments));
        }
        let elements: Vec<Value> = self
            .elements
            .iter()
            .map(|e| e.to_json(&self.currency))
            .collect();
        obj.insert("elements".into(), Value::Array(elements));
        Value::Object(obj)
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;
    use crate::send::OutgoingMessage;

    fn usd() -> ReceiptCurrency {
        ReceiptCurrency::new("usd", 2).expect("USD")
    }

    #[test]
    fn decimals_are_exact() {
        assert_eq!(decimal(1250, 2), "12.50");
        assert_eq!(decimal(5, 2), "0.05");
        assert_eq!(decimal(-5, 2), "-0.05");
        assert_eq!(decimal(0, 2), "0.00");
        assert_eq!(decimal(1500, 0), "1500");
        assert_eq!(decimal(1, 3), "0.001");
        assert_eq!(decimal(i64::MIN, 2), "-92233720368547758.08");
    }

    #[test]
    fn amounts_serialize_as_exact_json_numbers() {
        assert_eq!(amount_json(1250, 2).to_string(), "12.5");
        assert_eq!(amount_json(1999, 2).to_string(), "19.99");
        assert_eq!(amount_json(10, 1).to_string(), "1.0");
        assert_eq!(amount_json(1500, 0).to_string(), "1500");
        assert_eq!(amount_json(12345, 3).to_string(), "12.345");
        assert_eq!(amount_json(-250, 2).to_string(), "-2.5");
        // 0.1 + 0.2 style drift cannot happen: no arithmetic is done on floats.
        assert_eq!(amount_json(30, 2).to_string(), "0.3");
    }

    #[test]
    fn currencies_are_three_letters_with_a_small_exponent() {
        assert_eq!(usd().code(), "USD");
        assert_eq!(usd().exponent(), 2);
        assert!(ReceiptCurrency::new("US", 2).is_err());
        assert!(ReceiptCurrency::new("US1", 2).is_err());
        assert!(ReceiptCurrency::new("ÜSD", 2).is_err());
        assert!(ReceiptCurrency::new("KWD", 3).is_ok());
        assert!(ReceiptCurrency::new("XXX", 5).is_err());
    }

    #[test]
    fn a_receipt_serializes_as_the_send_api_expects() {
        let receipt = ReceiptTemplate::new(
            "Ana Lima",
            "FO-1042",
            usd(),
            "Cash on delivery",
            ReceiptSummary {
                subtotal: Some(2500),
                shipping_cost: Some(250),
                total_tax: None,
                total_cost: 2750,
            },
        )
        .merchant_name("Thai Corner")
        .timestamp(1_700_000_000)
        .address(ReceiptAddress {
            street_1: "1 Main St".into(),
            street_2: None,
            city: "Springfield".into(),
            postal_code: "12345".into(),
            state: "IL".into(),
            country: "US".into(),
        })
        .element(
            ReceiptElement::new("Pad thai", 2500)
                .subtitle("Extra peanuts")
                .quantity(2),
        );
        let message = OutgoingMessage::receipt(receipt).to_json();
        assert_eq!(
            message,
            json!({"attachment": {"type": "template", "payload": {
                "template_type": "receipt",
                "recipient_name": "Ana Lima",
                "order_number": "FO-1042",
                "currency": "USD",
                "payment_method": "Cash on delivery",
                "merchant_name": "Thai Corner",
                "timestamp": "1700000000",
                "address": {"street_1": "1 Main St", "city": "Springfield",
                    "postal_code": "12345", "state": "IL", "country": "US"},
                "summary": {"subtotal": 25.0, "shipping_cost": 2.5, "total_cost": 27.5},
                "elements": [{"title": "Pad thai", "subtitle": "Extra peanuts", "quantity": 2,
                    "price": 25.0, "currency": "USD"}],
            }}})
        );
    }

    #[test]
    fn a_receipt_keeps_100_lines_and_lists_adjustments() {
        let mut receipt = ReceiptTemplate::new("A", "1", usd(), "Cash", ReceiptSummary::total(100))
            .adjustment("Promo", -150);
        for i in 0..120 {
            receipt = receipt.element(ReceiptElement::new(&format!("Item {i}"), 1));
        }
        let json = receipt.to_json();
        assert_eq!(json["elements"].as_array().expect("elements").len(), 100);
        assert_eq!(
            json["adjustments"],
            json!([{"name": "Promo", "amount": -1.5}])
        );
        assert_eq!(json["summary"], json!({"total_cost": 1.0}));
    }

    /// The decimal with trailing fractional zeros (and a bare point) removed.
    fn normalized(text: &str) -> String {
        if text.contains('.') {
            text.trim_end_matches('0').trim_end_matches('.').to_owned()
        } else {
            text.to_owned()
        }
    }

    proptest! {
        #[test]
        fn every_receipt_amount_renders_its_exact_decimal(
            minor in -9_999_999_999_999i64..=9_999_999_999_999,
            exponent in 0u32..=4,
        ) {
            let rendered = amount_json(minor, exponent).to_string();
            prop_assert_eq!(normalized(&rendered), normalized(&decimal(minor, exponent)));
        }
    }
}
