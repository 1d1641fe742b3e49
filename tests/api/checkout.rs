//! The mock payment provider's checkout page (`/pay/mock`), where the bot's payment links lead:
//! paying and declining move the order as the provider's signed notification does, replays
//! change nothing, and a wrong amount, an unknown order or another restaurant's order gets a
//! clear page, never a 500. "My order" gives the link again while the order waits for payment.

use fanorder_blackbox::{Act, Restaurant, TestApp, said};
use fanorder_orders::OrderId;
use fanorder_platform::TenantId;
use reqwest::Method;
use serde_json::{Value, json};

use crate::orders::Kitchen;

crate::on_both_stores!(checkout:
    the_page_shows_the_order_and_paying_pays_it_once,
    declining_leaves_the_order_waiting_and_it_can_be_paid_after,
    a_link_cannot_pay_another_restaurants_order,
    a_wrong_amount_is_refused_with_a_page_and_recorded,
    an_unknown_order_or_a_broken_link_gets_a_clear_page,
    my_order_gives_the_payment_link_again_until_the_order_is_paid,
);

/// A page of the checkout: status, content type and HTML.
struct Page {
    status: u16,
    content_type: String,
    policy: String,
    html: String,
}

impl Page {
    /// Asserts the status and that it is an HTML page, and returns its text.
    fn expect(&self, status: u16) -> &str {
        assert_eq!(self.status, status, "{}", self.html);
        assert_eq!(
            self.content_type, "text/html; charset=utf-8",
            "{}",
            self.html
        );
        assert!(
            self.policy.contains("default-src 'none'"),
            "{}",
            self.policy
        );
        &self.html
    }
}

async fn page(response: reqwest::Response) -> Page {
    let header = |name: &str| {
        response
            .headers()
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_owned()
    };
    let (content_type, policy) = (header("content-type"), header("content-security-policy"));
    Page {
        status: response.status().as_u16(),
        content_type,
        policy,
        html: response.text().await.unwrap(),
    }
}

/// The query string of the link the bot sends for an order (the app's own checkout link).
fn link(app: &TestApp, tenant: &str, order: &Value) -> String {
    let url = app
        .state
        .payments
        .checkout()
        .expect("a checkout provider")
        .checkout_url(
            "http://shop.example",
            &tenant.parse::<TenantId>().unwrap(),
            &order["id"].as_str().unwrap().parse::<OrderId>().unwrap(),
            order["total"].as_i64().unwrap(),
            order["currency"].as_str().unwrap(),
        );
    let (path, query) = url.split_once('?').unwrap();
    assert_eq!(path, "http://shop.example/pay/mock");
    query.to_owned()
}

async fn open(app: &TestApp, query: &str) -> Page {
    page(app.get(&format!("/pay/mock?{query}")).await).await
}

/// Submits the page's form: the link's fields and the decision.
async fn submit(app: &TestApp, query: &str, decision: &str) -> Page {
    let body = format!("{query}&decision={decision}");
    let response = app
        .http
        .post(app.url("/pay/mock"))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(body)
        .send()
        .await
        .unwrap();
    page(response).await
}

async fn order_now(app: &TestApp, k: &Kitchen, order: &Value) -> Value {
    let path = format!("/v1/orders/{}", order["id"].as_str().unwrap());
    app.call(Method::GET, &path, Some(&k.r.admin.access), None)
        .await
        .expect(200)
        .clone()
}

async fn events(app: &TestApp, r: &Restaurant, kind: &str) -> usize {
    app.call(
        Method::GET,
        "/v1/events?limit=100",
        Some(&r.admin.access),
        None,
    )
    .await
    .expect(200)["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["event_type"] == kind)
        .count()
}

async fn the_page_shows_the_order_and_paying_pays_it_once(app: TestApp) {
    let k = Kitchen::open(&app).await;
    let order = k.order(&app).await;
    let query = link(&app, &k.r.id, &order);
    let shown = open(&app, &query).await;
    let html = shown.expect(200);
    assert!(html.contains("Test Kitchen"), "{html}");
    assert!(html.contains(&format!("#{}", order["number"])), "{html}");
    assert!(html.contains("120.00 THB"), "{html}");
    assert!(html.contains(r#"value="pay""#) && html.contains(r#"value="decline""#));
    assert!(!html.contains("<script"), "no script: {html}");

    let paid = submit(&app, &query, "pay").await;
    assert!(paid.expect(200).contains("Paid"), "{}", paid.html);
    let after = order_now(&app, &k, &order).await;
    assert_eq!(after["status"], "PAID");
    assert_eq!(after["version"], 2);
    assert_eq!(after["payment"]["status"], "paid");
    let payment_id = after["payment"]["payment_id"].clone();
    assert!(
        payment_id.as_str().is_some_and(|p| p.starts_with("mock_")),
        "{after}"
    );
    // Pressing Pay again (a reload, a double click) is a replay: the same answer, no change.
    for _ in 0..2 {
        let again = submit(&app, &query, "pay").await;
        assert!(again.expect(200).contains("Paid"), "{}", again.html);
    }
    let after = order_now(&app, &k, &order).await;
    assert_eq!(after["version"], 2, "paid exactly once: {after}");
    assert_eq!(after["payment"]["payment_id"], payment_id);
    assert_eq!(events(&app, &k.r, "order.paid").await, 1);
    assert_eq!(events(&app, &k.r, "payment.rejected").await, 0);
    // The link now says so, with nothing to press.
    let shown = open(&app, &query).await;
    let html = shown.expect(200);
    assert!(html.contains("This order is paid"), "{html}");
    assert!(!html.contains("<form"), "{html}");
}

async fn declining_leaves_the_order_waiting_and_it_can_be_paid_after(app: TestApp) {
    let k = Kitchen::open(&app).await;
    let order = k.order(&app).await;
    let query = link(&app, &k.r.id, &order);
    for _ in 0..2 {
        let declined = submit(&app, &query, "decline").await;
        let html = declined.expect(200);
        assert!(html.contains("Payment declined"), "{html}");
        assert!(html.contains("Try again"), "{html}");
    }
    let after = order_now(&app, &k, &order).await;
    assert_eq!(after["status"], "PENDING_PAYMENT");
    assert_eq!(after["version"], 1);
    // A decline is recorded as the provider's answer, not announced as a refusal.
    assert_eq!(events(&app, &k.r, "payment.rejected").await, 0);
    let paid = submit(&app, &query, "pay").await;
    assert!(paid.expect(200).contains("Paid"), "{}", paid.html);
    assert_eq!(order_now(&app, &k, &order).await["status"], "PAID");
}

async fn a_link_cannot_pay_another_restaurants_order(app: TestApp) {
    let a = Kitchen::open(&app).await;
    let b = Kitchen::open(&app).await;
    let b_order = b.order(&app).await;
    // A's tenant with B's order, amount and currency: B's order is not A's.
    let forged = link(&app, &a.r.id, &b_order);
    let shown = open(&app, &forged).await;
    let html = shown.expect(404);
    assert!(html.contains("Unknown order"), "{html}");
    assert!(!html.contains("value=\"pay\""), "{html}");
    for decision in ["pay", "decline"] {
        let refused = submit(&app, &forged, decision).await;
        assert!(
            refused.expect(404).contains("Unknown order"),
            "{}",
            refused.html
        );
    }
    let untouched = order_now(&app, &b, &b_order).await;
    assert_eq!(untouched["status"], "PENDING_PAYMENT");
    assert_eq!(untouched["version"], 1);
    assert_eq!(events(&app, &a.r, "payment.rejected").await, 0);
    assert_eq!(events(&app, &b.r, "payment.rejected").await, 0);
    // B's own link still pays it.
    let own = submit(&app, &link(&app, &b.r.id, &b_order), "pay").await;
    assert!(own.expect(200).contains("Paid"), "{}", own.html);
    assert_eq!(order_now(&app, &b, &b_order).await["status"], "PAID");
}

async fn a_wrong_amount_is_refused_with_a_page_and_recorded(app: TestApp) {
    let k = Kitchen::open(&app).await;
    let order = k.order(&app).await;
    let query = link(&app, &k.r.id, &order);
    let cheaper = query.replace("amount=12000", "amount=1");
    assert_ne!(cheaper, query);
    for _ in 0..2 {
        let refused = submit(&app, &cheaper, "pay").await;
        let html = refused.expect(409);
        assert!(html.contains("Payment refused"), "{html}");
        assert!(html.contains("not the order"), "{html}");
    }
    let other_currency = query.replace("currency=THB", "currency=USD");
    let refused = submit(&app, &other_currency, "pay").await;
    assert!(refused.expect(409).contains("Payment refused"));
    assert_eq!(
        order_now(&app, &k, &order).await["status"],
        "PENDING_PAYMENT"
    );
    // Recorded and announced once per refused payment, as the webhook does.
    assert_eq!(events(&app, &k.r, "payment.rejected").await, 2);
    let paid = submit(&app, &query, "pay").await;
    assert!(paid.expect(200).contains("Paid"), "{}", paid.html);
}

async fn an_unknown_order_or_a_broken_link_gets_a_clear_page(app: TestApp) {
    let k = Kitchen::open(&app).await;
    let order = k.order(&app).await;
    let query = link(&app, &k.r.id, &order);
    let unknown = query.replace(order["id"].as_str().unwrap(), &OrderId::new().to_string());
    assert!(
        open(&app, &unknown)
            .await
            .expect(404)
            .contains("Unknown order")
    );
    let refused = submit(&app, &unknown, "pay").await;
    assert!(refused.expect(404).contains("Unknown order"));
    let nobody = query.replace(&k.r.id, &TenantId::new().to_string());
    assert!(
        submit(&app, &nobody, "pay")
            .await
            .expect(404)
            .contains("Unknown order")
    );
    // Broken links and forms: 400 pages naming what is wrong, whatever they hold.
    for (broken, field) in [
        (String::new(), "tenant"),
        (query.replace("order=", "order=<b>"), "order"),
        (query.replace("amount=12000", "amount=lots"), "amount"),
        (
            query.replace("currency=THB", "currency=%3Cscript%3E"),
            "currency",
        ),
    ] {
        let shown = open(&app, &broken).await;
        let html = shown.expect(400);
        assert!(html.contains(&format!("<code>{field}</code>")), "{html}");
        assert!(
            !html.contains("<script>") && !html.contains("<b>"),
            "{html}"
        );
        submit(&app, &broken, "pay").await.expect(400);
    }
    let odd = submit(&app, &query, "refund").await;
    assert!(odd.expect(400).contains("<code>decision</code>"));
    assert_eq!(order_now(&app, &k, &order).await["version"], 1);
}

async fn my_order_gives_the_payment_link_again_until_the_order_is_paid(app: TestApp) {
    let r = app.signup().await;
    crate::orders::item(&app, &r, json!({"name": "Coke", "price": 3000})).await;
    let page = app.connect_page(&r, None, json!({})).await;
    let psid = "8101";
    let customer = |act: Act| app.customer(&r, &page, psid, act);
    let tap = |payload: &str| Act::Postback(payload.to_owned());
    let added = customer(Act::Text("2 coke".into())).await;
    assert!(said(&added).contains("Coke"), "{}", said(&added));
    customer(tap("CHECKOUT")).await;
    customer(tap("FUL:pickup")).await;
    customer(Act::Text("+66 81 234 5678".into())).await;
    customer(tap("PAY:online")).await;
    let placed = said(&customer(tap("CONFIRM")).await);
    let at = placed.find("/pay/mock?").expect("a payment link");
    let query: String = placed[at + "/pay/mock?".len()..]
        .chars()
        .take_while(|c| !c.is_whitespace() && *c != ']' && *c != '"')
        .collect();

    let mine = said(&customer(tap("MY_ORDER")).await);
    assert!(!mine.contains("no orders"), "{mine}");
    assert!(mine.contains("Order #1 is waiting for payment"), "{mine}");
    assert!(mine.contains(&format!("/pay/mock?{query}")), "{mine}");

    // The link pays the order; then "My order" says it is paid, with no link.
    let paid = submit(&app, &query, "pay").await;
    assert!(paid.expect(200).contains("Paid"), "{}", paid.html);
    let mine = said(&customer(tap("MY_ORDER")).await);
    assert!(mine.contains("Payment received for order #1"), "{mine}");
    assert!(!mine.contains("/pay/mock"), "{mine}");
}
