//! The printable receipt of an order: one self-contained HTML page (inline styles, no scripts,
//! no external assets) that prints on an 80 mm receipt printer or A4 alike. Every value from
//! the menu, the customer or the restaurant is escaped.

use std::fmt::Write;

use fanorder_menus::model::Location;
use fanorder_platform::Money;
use fanorder_staff::Tenant;
use html_escape::encode_text as esc;
use jiff::tz::TimeZone;

use crate::model::{Fulfillment, Order, PaymentMethod, PaymentStatus};

/// The receipt page.
pub fn html(
    order: &Order,
    restaurant: &Tenant,
    location: Option<&Location>,
    zone: &TimeZone,
) -> String {
    let money = |minor: i64| Money::new(minor, order.currency).to_string();
    let placed = order
        .created_at
        .to_zoned_datetime(zone.clone())
        .strftime("%Y-%m-%d %H:%M")
        .to_string();
    let mut lines = String::new();
    for line in &order.lines {
        let _ = write!(
            lines,
            "<tr><td class=q>{}×</td><td>{}",
            line.quantity,
            esc(&line.name)
        );
        for modifier in &line.modifiers {
            let _ = write!(
                lines,
                "<div class=m>{}: {}</div>",
                esc(&modifier.group),
                esc(&modifier.name)
            );
        }
        for part in &line.components {
            let _ = write!(
                lines,
                "<div class=m>{}× {}</div>",
                part.quantity,
                esc(&part.name)
            );
        }
        let _ = write!(
            lines,
            "</td><td class=r>{}</td></tr>",
            esc(&money(line.line_total))
        );
    }
    let fulfillment = match (order.fulfillment, &order.address) {
        (Fulfillment::Delivery, Some(address)) => format!("Delivery to {}", esc(&address.line1)),
        (Fulfillment::Delivery, None) => "Delivery".to_owned(),
        (Fulfillment::Pickup, _) => "Pickup".to_owned(),
    };
    let payment = match (order.payment.method, order.payment.status) {
        (PaymentMethod::Cash, PaymentStatus::Due) => "Cash, to be paid",
        (PaymentMethod::Cash, _) => "Cash, paid",
        (PaymentMethod::Online, PaymentStatus::Paid) => "Paid online",
        (PaymentMethod::Online, _) => "Online, not paid yet",
    };
    let branch = location
        .map(|l| format!("<div>{}</div><div>{}</div>", esc(&l.name), esc(&l.address)))
        .unwrap_or_default();
    let phone = order
        .phone
        .as_deref()
        .map(|p| format!("<div>Phone: {}</div>", esc(p)))
        .unwrap_or_default();
    let note = order
        .note
        .as_deref()
        .map(|n| format!("<p class=note>Note: {}</p>", esc(n)))
        .unwrap_or_default();
    format!(
        r#"<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Receipt #{number} · {name}</title>
<style>
body {{ font: 14px/1.4 system-ui, sans-serif; max-width: 80mm; margin: 0 auto; padding: 8px; color: #000; }}
h1 {{ font-size: 18px; margin: 0 0 4px; text-align: center; }}
.head {{ text-align: center; margin-bottom: 8px; }}
.num {{ font-size: 28px; font-weight: 700; text-align: center; margin: 8px 0; }}
table {{ width: 100%; border-collapse: collapse; }}
td {{ vertical-align: top; padding: 2px 0; }}
.q {{ width: 2.5em; }} .r {{ text-align: right; white-space: nowrap; }}
.m {{ font-size: 12px; color: #333; padding-left: 4px; }}
.total td {{ border-top: 1px dashed #000; font-weight: 700; padding-top: 4px; }}
.note {{ border: 1px solid #000; padding: 4px; }}
.foot {{ text-align: center; font-size: 12px; margin-top: 12px; }}
@media print {{ body {{ padding: 0; }} }}
</style></head>
<body>
<div class=head><h1>{name}</h1>{branch}</div>
<div class=num>#{number}</div>
<div>Order {id}</div>
<div>{placed}</div>
<div>{fulfillment}</div>
{phone}
<table>{lines}
<tr class=total><td></td><td>Total</td><td class=r>{total}</td></tr>
</table>
<div>{payment}</div>
{note}
<div class=foot>Thank you!</div>
</body></html>
"#,
        number = order.number,
        name = esc(&restaurant.name),
        id = order.id,
        total = esc(&money(order.total)),
    )
}
