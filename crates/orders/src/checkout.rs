//! The mock payment provider's checkout: the page its payment links open (`GET /pay/mock`),
//! where whoever holds the link pays or declines (`POST /pay/mock`). No money moves: the form
//! builds the notification the mock provider would send, signs it with the mock's key and hands
//! it to the payment webhook's own code ([`service::receive_payment`]), so the order moves, and
//! replays and refusals are answered, exactly as for a notification arriving at
//! `POST /v1/payments/mock/webhook`. Served only while the mock is the provider customers pay
//! with; a page for people, outside the REST contract (like the dashboard).

use std::borrow::Cow;
use std::collections::HashMap;

use axum::Router;
use axum::body::Bytes;
use axum::extract::{FromRef, RawQuery, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use fanorder_events::Outbox;
use fanorder_platform::{ApiError, Clock, Money, TenantId};
use fanorder_store::Table;
use html_escape::{encode_double_quoted_attribute as attr, encode_text as esc};
use sha2::{Digest, Sha256};

use crate::model::{Order, OrderId, PaymentStatus, Status};
use crate::payments::{Notification, Payments, Provider};
use crate::service::{self, Ctx, PaymentOutcome};
use crate::store;

/// Where the mock's payment links point (see `MockProvider::checkout_url`).
pub const PATH: &str = "/pay/mock";

/// `GET` and `POST /pay/mock`, for any application state that holds what they need.
pub fn routes<S>() -> Router<S>
where
    S: Clone + Send + Sync + 'static,
    Table: FromRef<S>,
    Clock: FromRef<S>,
    Outbox: FromRef<S>,
    Payments: FromRef<S>,
{
    Router::new().route(PATH, get(show).post(submit))
}

/// What a payment link names: the restaurant, its order, and what to charge.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Link {
    tenant: TenantId,
    order: OrderId,
    amount: i64,
    currency: String,
}

impl Link {
    /// Reads the link's fields from a query string or a form body; the field that is missing or
    /// malformed is the error.
    fn read(fields: &HashMap<Cow<'_, str>, Cow<'_, str>>) -> Result<Self, &'static str> {
        let field = |name: &'static str| fields.get(name).map(|v| v.trim()).ok_or(name);
        Ok(Self {
            tenant: field("tenant")?.parse().map_err(|_| "tenant")?,
            order: field("order")?.parse().map_err(|_| "order")?,
            amount: field("amount")?.parse().map_err(|_| "amount")?,
            currency: Some(field("currency")?)
                .filter(|c| c.len() == 3 && c.bytes().all(|b| b.is_ascii_uppercase()))
                .ok_or("currency")?
                .to_owned(),
        })
    }

    /// The link as a query string (the "try again" link).
    fn query(&self) -> String {
        url::form_urlencoded::Serializer::new(String::new())
            .append_pair("tenant", &self.tenant.to_string())
            .append_pair("order", &self.order.to_string())
            .append_pair("amount", &self.amount.to_string())
            .append_pair("currency", &self.currency)
            .finish()
    }

    /// What the link charges, as people write it.
    fn amount(&self) -> String {
        match self.currency.parse() {
            Ok(currency) => Money::new(self.amount, currency).to_string(),
            Err(_) => format!("{} {}", self.amount, self.currency),
        }
    }

    /// The mock's payment id for one decision on this link: the same submission twice is one
    /// payment (the replay changes nothing); a decline and a later payment are two.
    fn payment_id(&self, approved: bool) -> String {
        let digest = Sha256::digest(format!(
            "{}\n{}\n{}\n{}\n{approved}",
            self.tenant, self.order, self.amount, self.currency
        ));
        let hex: String = digest[..12].iter().map(|b| format!("{b:02x}")).collect();
        format!("mock_{hex}")
    }
}

/// The fields of a query string or form body (the first of each name counts).
fn fields(encoded: &[u8]) -> HashMap<Cow<'_, str>, Cow<'_, str>> {
    let mut fields = HashMap::new();
    for (name, value) in url::form_urlencoded::parse(encoded) {
        fields.entry(name).or_insert(value);
    }
    fields
}

/// The page for a request that cannot be served, or 404 exactly like an unknown path when the
/// mock is not the provider customers pay with.
fn not_served(method: &str) -> Response {
    ApiError::NoRoute(format!("{method} {PATH}")).into_response()
}

fn broken_link(field: &str) -> Response {
    page(
        StatusCode::BAD_REQUEST,
        "This payment link is broken",
        &format!(
            "<p>Its <code>{}</code> is missing or not valid. Open the link the restaurant sent \
             you again, or ask the restaurant for a new one.</p>",
            esc(field)
        ),
    )
}

fn unknown_order() -> Response {
    page(
        StatusCode::NOT_FOUND,
        "Unknown order",
        "<p>This restaurant has no order with this link's id; nothing was paid. Open the link \
         the restaurant sent you again, or ask the restaurant for a new one.</p>",
    )
}

/// A failure that is not the link's (the store not answering, a concurrent delivery of the same
/// payment): said plainly, with the details only in the log.
fn failed(err: &ApiError) -> Response {
    tracing::warn!(error = %err, code = err.code(), "mock checkout failed");
    page(
        err.status(),
        "Please try again",
        "<p>The payment could not be completed just now; nothing was paid twice. Try again in \
         a moment.</p>",
    )
}

/// The restaurant's name and the order, read under the link's restaurant only: another
/// restaurant's order is unknown here.
async fn find(table: &Table, link: &Link) -> Result<Option<(String, Order)>, ApiError> {
    let Some(order) = store::order(table, &link.tenant, &link.order).await? else {
        return Ok(None);
    };
    let restaurant = fanorder_staff::store::tenant(table, &link.tenant)
        .await?
        .map_or_else(|| "The restaurant".to_owned(), |t| t.name);
    Ok(Some((restaurant, order)))
}

fn details(restaurant: &str, order: &Order, amount: &str) -> String {
    format!(
        "<dl><dt>Restaurant</dt><dd>{}</dd><dt>Order</dt><dd>#{}</dd><dt>Amount</dt><dd>{}</dd></dl>",
        esc(restaurant),
        order.number,
        esc(amount)
    )
}

/// `GET /pay/mock?tenant=..&order=..&amount=..&currency=..`: the order and what the link
/// charges, with Pay and Decline.
async fn show(
    State(table): State<Table>,
    State(payments): State<Payments>,
    RawQuery(query): RawQuery,
) -> Response {
    if payments.mock_checkout().is_none() {
        return not_served("GET");
    }
    let query = query.unwrap_or_default();
    let link = match Link::read(&fields(query.as_bytes())) {
        Ok(link) => link,
        Err(field) => return broken_link(field),
    };
    record_span(&link);
    let (restaurant, order) = match find(&table, &link).await {
        Ok(Some(found)) => found,
        Ok(None) => return unknown_order(),
        Err(err) => return failed(&err),
    };
    let details = details(&restaurant, &order, &link.amount());
    if order.status != Status::PendingPayment {
        let (title, what) = match (order.status, order.payment.status) {
            (Status::Cancelled, _) => ("This order was cancelled", "It cannot be paid."),
            (_, PaymentStatus::Paid) => ("This order is paid", "Nothing more to pay."),
            _ => (
                "This order is not waiting for payment",
                "Nothing to pay here.",
            ),
        };
        return page(StatusCode::OK, title, &format!("{details}<p>{what}</p>"));
    }
    let hidden = [
        ("tenant", link.tenant.to_string()),
        ("order", link.order.to_string()),
        ("amount", link.amount.to_string()),
        ("currency", link.currency.clone()),
    ]
    .iter()
    .map(|(name, value)| {
        format!(
            r#"<input type="hidden" name="{name}" value="{}">"#,
            attr(value)
        )
    })
    .collect::<String>();
    page(
        StatusCode::OK,
        &format!("Pay {restaurant}"),
        &format!(
            r#"{details}<form method="post">{hidden}<button name="decision" value="pay">Pay {}</button> <button name="decision" value="decline" class="decline">Decline</button></form>"#,
            esc(&link.amount())
        ),
    )
}

/// `POST /pay/mock` (a form: the link's fields and `decision`, `pay` or `decline`): the mock's
/// signed notification, handed to the payment webhook's code.
async fn submit(
    State(table): State<Table>,
    State(outbox): State<Outbox>,
    State(clock): State<Clock>,
    State(payments): State<Payments>,
    body: Bytes,
) -> Response {
    let Some(mock) = payments.mock_checkout() else {
        return not_served("POST");
    };
    let form = fields(&body);
    let link = match Link::read(&form) {
        Ok(link) => link,
        Err(field) => return broken_link(field),
    };
    let approved = match form.get("decision").map(|d| d.as_ref()) {
        Some("pay") => true,
        Some("decline") => false,
        _ => return broken_link("decision"),
    };
    record_span(&link);
    let note = Notification {
        payment_id: link.payment_id(approved),
        order_id: link.order,
        tenant_id: link.tenant,
        amount: link.amount,
        currency: link.currency.clone(),
        approved,
    };
    let (headers, body) = mock.deliver(&note);
    let ctx = Ctx {
        table,
        outbox,
        clock,
    };
    let outcome =
        match service::receive_payment(&ctx, &payments, mock.name(), &headers, &body).await {
            Ok((_, outcome)) => outcome,
            Err(ApiError::NotFound(_)) => return unknown_order(),
            Err(err) => return failed(&err),
        };
    let (restaurant, order) = match find(&ctx.table, &link).await {
        Ok(Some(found)) => found,
        Ok(None) => return unknown_order(),
        Err(err) => return failed(&err),
    };
    let details = details(&restaurant, &order, &link.amount());
    let back = "<p>You can close this page and go back to the conversation.</p>";
    match outcome {
        PaymentOutcome::Applied(_) => page(
            StatusCode::OK,
            "Paid",
            &format!("{details}<p>Thank you! The order goes to the kitchen.</p>{back}"),
        ),
        PaymentOutcome::Declined => {
            let again = if order.status == Status::PendingPayment {
                format!(
                    r#"<p>The order still waits for payment. <a href="?{}">Try again</a></p>"#,
                    attr(&link.query())
                )
            } else {
                String::new()
            };
            page(
                StatusCode::OK,
                "Payment declined",
                &format!("{details}<p>Nothing was paid.</p>{again}"),
            )
        }
        PaymentOutcome::AmountMismatch => page(
            StatusCode::CONFLICT,
            "Payment refused",
            &format!(
                "{details}<p>The amount or currency on this link is not the order's, so nothing \
                 was paid. Ask the restaurant for a new link.</p>"
            ),
        ),
        PaymentOutcome::NotPayable => page(
            StatusCode::CONFLICT,
            "Payment refused",
            &format!(
                "{details}<p>This order is not waiting for payment (it is paid already, or \
                 cancelled), so nothing was paid.</p>{back}"
            ),
        ),
    }
}

fn record_span(link: &Link) {
    let span = tracing::Span::current();
    span.record("tenant_id", tracing::field::display(&link.tenant));
    span.record("order_id", tracing::field::display(&link.order));
}

/// No scripts, no external assets, no framing; the form posts only here. The link names the
/// order, so it is not sent on as a referrer, and the page is not cached.
const POLICY: &str = "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

const STYLE: &str = "body{font-family:system-ui,sans-serif;background:#f4f4f5;margin:0;color:#18181b}\
main{max-width:26rem;margin:3rem auto;background:#fff;border-radius:12px;padding:1.5rem 2rem;box-shadow:0 1px 4px #0002}\
.tag{font-size:.8rem;color:#71717a;text-transform:uppercase;letter-spacing:.05em}\
dl{display:grid;grid-template-columns:auto 1fr;gap:.4rem 1rem}dt{color:#71717a}dd{margin:0;font-weight:600}\
button{font-size:1rem;padding:.6rem 1.2rem;border-radius:8px;border:0;background:#16a34a;color:#fff;cursor:pointer}\
button.decline{background:#e4e4e7;color:#18181b}";

/// One self-contained page. `body` is HTML whose every value is already escaped.
fn page(status: StatusCode, title: &str, body: &str) -> Response {
    let html = format!(
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width,initial-scale=1\">\
         <meta name=\"robots\" content=\"noindex\"><title>{title} · Mock payment</title>\
         <style>{STYLE}</style></head><body><main><p class=\"tag\">Mock payment provider · no \
         money moves</p><h1>{title}</h1>{body}</main></body></html>",
        title = esc(title),
    );
    let headers =
        fanorder_platform::web::page_headers("text/html; charset=utf-8", "no-store", POLICY);
    (status, headers, html).into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn link() -> Link {
        Link {
            tenant: TenantId::new(),
            order: OrderId::new(),
            amount: 24000,
            currency: "THB".into(),
        }
    }

    #[test]
    fn a_link_reads_back_from_its_query() {
        let link = link();
        assert_eq!(
            Link::read(&fields(link.query().as_bytes())),
            Ok(link.clone())
        );
        let mock = crate::payments::MockProvider::new(&[1; 32]);
        let url = Provider::checkout_url(
            &mock,
            "http://x",
            &link.tenant,
            &link.order,
            link.amount,
            &link.currency,
        );
        let (path, query) = url.split_once('?').unwrap();
        assert_eq!(path, format!("http://x{PATH}"));
        assert_eq!(Link::read(&fields(query.as_bytes())), Ok(link));
    }

    #[test]
    fn a_broken_link_names_its_broken_field() {
        let query = link().query();
        for (from, to, field) in [
            ("tenant=", "tenant=x", "tenant"),
            ("order=", "order=x", "order"),
            ("amount=", "amount=1x", "amount"),
            ("currency=THB", "currency=%3Cb%3E", "currency"),
            ("currency=THB", "", "currency"),
        ] {
            let broken = query.replacen(from, to, 1);
            assert_eq!(
                Link::read(&fields(broken.as_bytes())),
                Err(field),
                "{broken}"
            );
        }
    }

    #[test]
    fn one_decision_on_one_link_is_one_payment() {
        let link = link();
        assert_eq!(link.payment_id(true), link.payment_id(true));
        assert_ne!(link.payment_id(true), link.payment_id(false));
        let dearer = Link {
            amount: 1,
            ..link.clone()
        };
        assert_ne!(link.payment_id(true), dearer.payment_id(true));
        assert!(link.payment_id(true).len() <= 200);
    }

    async fn text(response: Response) -> String {
        let body = axum::body::to_bytes(response.into_body(), 1 << 20)
            .await
            .unwrap();
        String::from_utf8_lossy(&body).into_owned()
    }

    #[tokio::test]
    async fn the_page_escapes_what_it_shows_and_runs_nothing() {
        let response = page(StatusCode::OK, "<script>x</script>", "");
        assert_eq!(
            response.headers()[axum::http::header::CONTENT_SECURITY_POLICY],
            POLICY
        );
        assert!(!POLICY.contains("script-src"), "no script runs");
        let html = text(response).await;
        assert!(html.contains("&lt;script&gt;x"), "{html}");
        assert!(!html.contains("<script"), "{html}");
        let broken = broken_link("<img src=x>");
        assert_eq!(broken.status(), StatusCode::BAD_REQUEST);
        let html = text(broken).await;
        assert!(
            html.contains("&lt;img src=x&gt;") && !html.contains("<img"),
            "{html}"
        );
    }

    /// An application state with just what the routes take.
    #[derive(Clone)]
    struct TestState {
        table: Table,
        clock: Clock,
        outbox: Outbox,
        payments: Payments,
    }

    impl FromRef<TestState> for Table {
        fn from_ref(state: &TestState) -> Self {
            state.table.clone()
        }
    }
    impl FromRef<TestState> for Clock {
        fn from_ref(state: &TestState) -> Self {
            state.clock.clone()
        }
    }
    impl FromRef<TestState> for Outbox {
        fn from_ref(state: &TestState) -> Self {
            state.outbox.clone()
        }
    }
    impl FromRef<TestState> for Payments {
        fn from_ref(state: &TestState) -> Self {
            state.payments.clone()
        }
    }

    /// A provider hosted elsewhere.
    struct Hosted;

    impl Provider for Hosted {
        fn name(&self) -> &'static str {
            "hosted"
        }
        fn verify(&self, _: &axum::http::HeaderMap, _: &[u8]) -> Result<Notification, ApiError> {
            Err(ApiError::Unauthenticated("never".into()))
        }
        fn checkout_url(&self, base: &str, _: &TenantId, _: &OrderId, _: i64, _: &str) -> String {
            format!("{base}/hosted")
        }
    }

    #[tokio::test]
    async fn the_page_is_served_only_while_customers_pay_with_the_mock() {
        use std::sync::Arc;
        use tower::ServiceExt;

        let store = fanorder_store::testing::table(
            fanorder_store::testing::StoreKind::Sqlite,
            Clock::system(),
            &[1; 32],
            None,
        )
        .await
        .unwrap()
        .unwrap();
        let table = store.table.clone();
        let mock: Arc<dyn Provider> = Arc::new(crate::payments::MockProvider::new(&[1; 32]));
        let state = |providers| TestState {
            table: table.clone(),
            clock: Clock::system(),
            outbox: Outbox::new(fanorder_events::Delivery::Poll),
            payments: Payments::new(providers),
        };
        let request = |method: &str| {
            axum::http::Request::builder()
                .method(method)
                .uri(PATH)
                .body(axum::body::Body::from("decision=pay"))
                .unwrap()
        };
        let served = routes().with_state(state(vec![mock.clone()]));
        for method in ["GET", "POST"] {
            let response = served.clone().oneshot(request(method)).await.unwrap();
            assert_eq!(response.status(), StatusCode::BAD_REQUEST, "{method}");
            assert!(text(response).await.contains("This payment link is broken"));
        }
        for providers in [vec![Arc::new(Hosted) as Arc<_>, mock], vec![]] {
            let hidden = routes().with_state(state(providers));
            for method in ["GET", "POST"] {
                let response = hidden.clone().oneshot(request(method)).await.unwrap();
                assert_eq!(response.status(), StatusCode::NOT_FOUND, "{method}");
                assert!(text(response).await.contains(r#""code":"no_route""#));
            }
        }
    }
}
