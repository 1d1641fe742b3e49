//! Payments behind a port: a provider verifies and reads its own signed notifications. The
//! `mock` provider ships: HMAC-SHA256 over the raw body in `X-Mock-Signature: sha256=<hex>`.

use std::collections::HashMap;
use std::sync::Arc;

use axum::http::HeaderMap;
use fanorder_platform::{ApiError, Fields, TenantId};
use hmac::{Hmac, KeyInit, Mac};
use serde::Deserialize;
use sha2::Sha256;
use utoipa::ToSchema;

use crate::model::OrderId;

/// A payment notification, verified and read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Notification {
    /// The provider's payment id (each counts once).
    pub payment_id: String,
    /// The order paid.
    pub order_id: OrderId,
    /// The restaurant.
    pub tenant_id: TenantId,
    /// The amount, minor units.
    pub amount: i64,
    /// The currency code.
    pub currency: String,
    /// True when the payment went through.
    pub approved: bool,
}

/// A payment provider.
pub trait Provider: Send + Sync + 'static {
    /// Its name in the webhook path (`/v1/payments/<name>/webhook`).
    fn name(&self) -> &'static str;
    /// Checks the signature over the raw body, then reads the notification. A bad or missing
    /// signature is 401; nothing is read before the signature checks out.
    fn verify(&self, headers: &HeaderMap, body: &[u8]) -> Result<Notification, ApiError>;
    /// Where a customer pays an order (the bot sends this link).
    fn checkout_url(
        &self,
        base_url: &str,
        tenant: &TenantId,
        order: &OrderId,
        amount: i64,
        currency: &str,
    ) -> String;
    /// The mock provider itself, whose checkout page this server serves (`/pay/mock`); real
    /// providers host their own.
    fn as_mock(&self) -> Option<&MockProvider> {
        None
    }
}

/// The providers this deployment accepts, and the one customers are sent to pay with.
#[derive(Clone, Default)]
pub struct Payments {
    providers: HashMap<&'static str, Arc<dyn Provider>>,
    checkout: Option<Arc<dyn Provider>>,
}

impl std::fmt::Debug for Payments {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Payments")
            .field("providers", &self.providers.keys().collect::<Vec<_>>())
            .finish()
    }
}

impl Payments {
    /// The registry with these providers; customers pay with the first.
    pub fn new(providers: Vec<Arc<dyn Provider>>) -> Self {
        Self {
            checkout: providers.first().cloned(),
            providers: providers.into_iter().map(|p| (p.name(), p)).collect(),
        }
    }

    /// The provider with this name.
    pub fn get(&self, name: &str) -> Option<&Arc<dyn Provider>> {
        self.providers.get(name)
    }

    /// The same providers, with none that customers are sent to: the mock checkout lets
    /// whoever holds a link mark the order paid, so production serves no checkout until a real
    /// provider is configured (notifications are still verified).
    pub fn without_checkout(mut self) -> Self {
        self.checkout = None;
        self
    }

    /// The provider customers pay with: the bot's payment links are its checkout.
    pub fn checkout(&self) -> Option<&Arc<dyn Provider>> {
        self.checkout.as_ref()
    }

    /// The mock provider, when it is the one customers pay with (then `/pay/mock` is served).
    pub fn mock_checkout(&self) -> Option<&MockProvider> {
        self.checkout.as_deref().and_then(Provider::as_mock)
    }
}

/// The mock provider's signature header.
pub const MOCK_SIGNATURE: &str = "x-mock-signature";

/// A provider for development and tests, signed like real ones.
pub struct MockProvider {
    key: Vec<u8>,
}

impl MockProvider {
    /// A mock provider with its signing key.
    pub fn new(key: &[u8]) -> Self {
        Self { key: key.to_vec() }
    }

    fn mac(&self) -> Hmac<Sha256> {
        <Hmac<Sha256> as KeyInit>::new_from_slice(&self.key)
            .unwrap_or_else(|_| unreachable!("HMAC takes any key length"))
    }

    /// The header value that signs `body` (what the provider, or a test, sends).
    pub fn sign(&self, body: &[u8]) -> String {
        let mut mac = self.mac();
        mac.update(body);
        let digest = mac.finalize().into_bytes();
        format!(
            "sha256={}",
            digest
                .iter()
                .map(|b| format!("{b:02x}"))
                .collect::<String>()
        )
    }

    /// A notification as the mock provider delivers it to the webhook: the JSON body and the
    /// headers that sign it (what its checkout page hands to the webhook's code).
    pub fn deliver(&self, note: &Notification) -> (HeaderMap, Vec<u8>) {
        let body = serde_json::json!({
            "payment_id": note.payment_id,
            "order_id": note.order_id.to_string(),
            "tenant_id": note.tenant_id.to_string(),
            "amount": note.amount,
            "currency": note.currency,
            "status": if note.approved { "approved" } else { "declined" },
        })
        .to_string()
        .into_bytes();
        let mut headers = HeaderMap::new();
        if let Ok(signature) = self.sign(&body).parse() {
            headers.insert(MOCK_SIGNATURE, signature);
        }
        (headers, body)
    }
}

/// The body of a mock notification.
#[derive(Debug, Deserialize, ToSchema)]
#[schema(example = json!({"payment_id": "pay_123", "order_id": "01J8Z3K4M5N6P7Q8R9S0T1V2W3", "tenant_id": "01J8Z3K4M5N6P7Q8R9S0T1V2W4", "amount": 24000, "currency": "THB", "status": "approved"}))]
pub struct MockNotification {
    /// The provider's payment id.
    #[schema(value_type = String, required = true, max_length = 200)]
    pub payment_id: Option<String>,
    /// The order.
    #[schema(value_type = String, required = true)]
    pub order_id: Option<String>,
    /// The restaurant.
    #[schema(value_type = String, required = true)]
    pub tenant_id: Option<String>,
    /// Amount in minor units.
    #[schema(value_type = i64, required = true)]
    pub amount: Option<i64>,
    /// ISO 4217 code.
    #[schema(value_type = String, required = true)]
    pub currency: Option<String>,
    /// `approved` or `declined`.
    #[schema(value_type = String, required = true)]
    pub status: Option<String>,
}

fn hex(text: &str) -> Option<Vec<u8>> {
    if !text.len().is_multiple_of(2) {
        return None;
    }
    (0..text.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&text[i..i + 2], 16).ok())
        .collect()
}

impl Provider for MockProvider {
    fn name(&self) -> &'static str {
        "mock"
    }

    fn verify(&self, headers: &HeaderMap, body: &[u8]) -> Result<Notification, ApiError> {
        let refused = || ApiError::Unauthenticated("missing or invalid X-Mock-Signature".into());
        let header = headers
            .get(MOCK_SIGNATURE)
            .and_then(|v| v.to_str().ok())
            .ok_or_else(refused)?;
        let digest = header
            .strip_prefix("sha256=")
            .and_then(hex)
            .ok_or_else(refused)?;
        let mut mac = self.mac();
        mac.update(body);
        mac.verify_slice(&digest).map_err(|_| refused())?;
        let note: MockNotification = fanorder_platform::json::parse(body)?;
        let mut fields = Fields::new();
        let payment_id = fields.required("payment_id", note.payment_id, |v| {
            if v.is_empty() || v.len() > 200 {
                Err("must be 1 to 200 characters")
            } else {
                Ok(v)
            }
        });
        let order_id = fields.required("order_id", note.order_id, |v| v.parse::<OrderId>());
        let tenant_id = fields.required("tenant_id", note.tenant_id, |v| v.parse::<TenantId>());
        let amount = fields.required("amount", note.amount, Ok::<_, String>);
        let currency = fields.required("currency", note.currency, Ok::<_, String>);
        let approved = fields.required("status", note.status, |v| match v.as_str() {
            "approved" => Ok(true),
            "declined" => Ok(false),
            _ => Err("must be approved or declined"),
        });
        let (
            Some(payment_id),
            Some(order_id),
            Some(tenant_id),
            Some(amount),
            Some(currency),
            Some(approved),
        ) = (payment_id, order_id, tenant_id, amount, currency, approved)
        else {
            return Err(fields.into_error());
        };
        Ok(Notification {
            payment_id,
            order_id,
            tenant_id,
            amount,
            currency,
            approved,
        })
    }

    fn checkout_url(
        &self,
        base_url: &str,
        tenant: &TenantId,
        order: &OrderId,
        amount: i64,
        currency: &str,
    ) -> String {
        format!(
            "{base_url}/pay/mock?tenant={tenant}&order={order}&amount={amount}&currency={currency}"
        )
    }

    fn as_mock(&self) -> Option<&MockProvider> {
        Some(self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn body(amount: i64) -> Vec<u8> {
        serde_json::to_vec(&serde_json::json!({
            "payment_id": "p1", "order_id": OrderId::new().to_string(), "tenant_id": TenantId::new().to_string(),
            "amount": amount, "currency": "THB", "status": "approved"
        }))
        .unwrap()
    }

    #[test]
    fn a_signed_notification_reads_and_a_forged_one_does_not() {
        let mock = MockProvider::new(&[1; 32]);
        let body = body(100);
        let mut headers = HeaderMap::new();
        headers.insert(MOCK_SIGNATURE, mock.sign(&body).parse().unwrap());
        let note = mock.verify(&headers, &body).unwrap();
        assert_eq!(note.amount, 100);
        assert!(note.approved);
        // Any change to the body breaks the signature.
        let mut tampered = body.clone();
        let at = tampered.iter().position(|b| *b == b'1').unwrap();
        tampered[at] = b'9';
        assert_eq!(
            mock.verify(&headers, &tampered).unwrap_err().code(),
            "unauthenticated"
        );
        // Another key, a missing header, a malformed header.
        let other = MockProvider::new(&[2; 32]);
        assert!(other.verify(&headers, &body).is_err());
        assert!(mock.verify(&HeaderMap::new(), &body).is_err());
        headers.insert(MOCK_SIGNATURE, "sha256=zz".parse().unwrap());
        assert!(mock.verify(&headers, &body).is_err());
    }

    #[test]
    fn what_the_mock_delivers_reads_back_as_the_same_notification() {
        let mock = MockProvider::new(&[1; 32]);
        for approved in [true, false] {
            let note = Notification {
                payment_id: "mock_1".into(),
                order_id: OrderId::new(),
                tenant_id: TenantId::new(),
                amount: 24000,
                currency: "THB".into(),
                approved,
            };
            let (headers, body) = mock.deliver(&note);
            assert_eq!(mock.verify(&headers, &body).unwrap(), note);
            assert!(MockProvider::new(&[2; 32]).verify(&headers, &body).is_err());
        }
    }

    /// A provider hosted elsewhere, for the registry's choice.
    struct Hosted;

    impl Provider for Hosted {
        fn name(&self) -> &'static str {
            "hosted"
        }
        fn verify(&self, _: &HeaderMap, _: &[u8]) -> Result<Notification, ApiError> {
            Err(ApiError::Unauthenticated("never".into()))
        }
        fn checkout_url(&self, base: &str, _: &TenantId, _: &OrderId, _: i64, _: &str) -> String {
            format!("{base}/hosted")
        }
    }

    #[test]
    fn the_mock_checkout_is_there_only_when_customers_pay_with_the_mock() {
        let mock: Arc<dyn Provider> = Arc::new(MockProvider::new(&[1; 32]));
        let hosted: Arc<dyn Provider> = Arc::new(Hosted);
        let only_mock = Payments::new(vec![mock.clone()]);
        assert_eq!(only_mock.checkout().map(|p| p.name()), Some("mock"));
        assert!(only_mock.mock_checkout().is_some());
        // The mock still verifies its notifications, but customers go to the real provider.
        let real_first = Payments::new(vec![hosted, mock.clone()]);
        assert_eq!(real_first.checkout().map(|p| p.name()), Some("hosted"));
        assert!(real_first.get("mock").is_some());
        assert!(real_first.mock_checkout().is_none());
        assert!(Payments::default().mock_checkout().is_none());
        let production = Payments::new(vec![mock]).without_checkout();
        assert!(production.checkout().is_none() && production.mock_checkout().is_none());
        assert!(production.get("mock").is_some());
    }

    #[test]
    fn a_signed_but_invalid_body_is_a_422() {
        let mock = MockProvider::new(&[1; 32]);
        let body = br#"{"payment_id": "", "amount": "x"}"#;
        let mut headers = HeaderMap::new();
        headers.insert(MOCK_SIGNATURE, mock.sign(body).parse().unwrap());
        assert_eq!(
            mock.verify(&headers, body).unwrap_err().code(),
            "validation_failed"
        );
    }
}
