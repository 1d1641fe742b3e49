//! Turning stored Messenger events into bot replies, each exactly as the customer sent them and
//! at most once: the event is claimed in the same transaction that saves the conversation and
//! records the replies; the replies are sent after that commit. A crash before the commit leaves
//! the event pending (it is handled again from scratch; an order it placed is found again by its
//! idempotency key); a crash after it loses at most the sending, never doubles a reply.

use std::sync::Arc;
use std::time::Duration;

use fanorder_events::Outbox;
use fanorder_messenger::send::MessagingType;
use fanorder_messenger::webhook::{AttachmentKind, Event, EventKind};
use fanorder_messenger::{OutgoingMessage, PAGE_INBOX_APP_ID};
use fanorder_orders::Payments;
use fanorder_orders::model::{Channel, Fulfillment, PaymentMethod, Status};
use fanorder_orders::pricing::Wanted;
use fanorder_orders::service::{self, NewOrder, Placer};
use fanorder_platform::{ApiError, Clock, TenantId};
use fanorder_staff::Tenant;
use fanorder_store::{Key, StoreError, Table};
use jiff::Timestamp;
use sha2::{Digest, Sha256};
use tokio::sync::Notify;

use crate::bot::{self, Effect, Input, Shop};
use crate::model::{
    CartLine, Conversation, Delivery, Direction, Handler, Message, MessageId, Page, PayWith,
};
use crate::send::Messenger;
use crate::store::{self, INBOX_SHARDS, Inbound};

/// Everything the bot's work needs; built from the application state.
#[derive(Clone, Debug)]
pub struct BotCtx {
    /// The table.
    pub table: Table,
    /// Now.
    pub clock: Clock,
    /// Where order events go.
    pub outbox: Outbox,
    /// Sending as a page.
    pub messenger: Messenger,
    /// Payment providers (for payment links).
    pub payments: Payments,
    /// The public base URL, for payment links.
    pub base_url: String,
    /// Each restaurant's shop (profile, menu as offered, the reader's catalog) for a few
    /// seconds: building the catalog costs far more than answering one message.
    shops: moka::future::Cache<TenantId, Arc<(Tenant, Shop)>>,
}

/// How long a restaurant's menu is reused by the bot. A menu change or an item selling out
/// reaches the bot within this; an order is priced and checked against the menu as it is
/// anyway, so a stale offer fails clearly, never sells what is gone.
pub const SHOP_TTL: Duration = Duration::from_secs(5);

impl BotCtx {
    /// The context for the bot worker.
    pub fn new(
        table: Table,
        clock: Clock,
        outbox: Outbox,
        messenger: Messenger,
        payments: Payments,
        base_url: String,
    ) -> Self {
        Self {
            table,
            clock,
            outbox,
            messenger,
            payments,
            base_url,
            shops: moka::future::Cache::builder()
                .max_capacity(10_000)
                .time_to_live(SHOP_TTL)
                .build(),
        }
    }

    /// The restaurant and what it offers now (cached for [`SHOP_TTL`]).
    async fn shop(&self, tenant_id: &TenantId) -> Result<Arc<(Tenant, Shop)>, ApiError> {
        self.shops
            .try_get_with(*tenant_id, async {
                let tenant = fanorder_staff::store::tenant(&self.table, tenant_id)
                    .await?
                    .ok_or(ApiError::NotFound("tenant"))?;
                let tz = service::zone(&tenant);
                let menu = fanorder_menus::store::menu(&self.table, tenant_id).await?;
                let shop = Shop::new(
                    tenant.name.clone(),
                    tenant.currency,
                    menu.published(tenant.currency, self.clock.now(), &tz),
                );
                Ok::<_, ApiError>(Arc::new((tenant, shop)))
            })
            .await
            .map_err(|e| ApiError::unavailable(e.to_string()))
    }
}

/// Handles every pending event now; returns how many were handled.
pub async fn drain(ctx: &BotCtx) -> Result<usize, ApiError> {
    let mut handled = 0;
    for shard in 0..INBOX_SHARDS {
        loop {
            let batch = store::pending_inbox(&ctx.table, shard, 50).await?;
            let full = batch.len() == 50;
            for (key, tenant, inbound) in batch {
                match process(ctx, &tenant, &key, &inbound).await {
                    Ok(()) => {
                        handled += 1;
                        metrics::counter!("fanorder_bot_events_total", "result" => "handled")
                            .increment(1);
                    }
                    Err(err) => failed(ctx, &tenant, &key, &inbound, &err).await,
                }
            }
            if !full {
                break;
            }
        }
    }
    Ok(handled)
}

/// How often an inbound event is tried before it is set aside (a conflict with a staff handover
/// is worth a retry; an event that fails every time must not block its conversation forever).
pub const MAX_ATTEMPTS: i64 = 5;

async fn failed(ctx: &BotCtx, tenant: &TenantId, key: &Key, inbound: &Inbound, err: &ApiError) {
    let attempts = match store::attempt_failed(&ctx.table, key, &err.to_string()).await {
        Ok(attempts) => attempts,
        Err(store_err) => {
            tracing::warn!(tenant_id = %tenant, page_id = %inbound.page_id, error = %err, store_error = %store_err, "inbound event not handled; will retry");
            return;
        }
    };
    metrics::counter!("fanorder_bot_events_total", "result" => "failed").increment(1);
    if attempts < MAX_ATTEMPTS {
        tracing::warn!(tenant_id = %tenant, page_id = %inbound.page_id, attempts, error = %err, "inbound event not handled; will retry");
        return;
    }
    tracing::error!(tenant_id = %tenant, page_id = %inbound.page_id, attempts, error = %err, "inbound event failed every attempt; set aside");
    metrics::counter!("fanorder_bot_events_total", "result" => "set_aside").increment(1);
    if let Err(store_err) = store::give_up(&ctx.table, key, "failed", ctx.clock.now()).await {
        tracing::warn!(tenant_id = %tenant, error = %store_err, "could not set the event aside");
    }
}

/// Runs until `stop` resolves, handling events as they arrive.
pub async fn run(ctx: BotCtx, wake: Arc<Notify>, stop: impl Future<Output = ()>) {
    tokio::pin!(stop);
    loop {
        if let Err(err) = drain(&ctx).await {
            tracing::warn!(error = %err, "bot worker pass failed");
        }
        tokio::select! {
            () = &mut stop => return,
            () = wake.notified() => {},
            () = tokio::time::sleep(Duration::from_millis(500)) => {},
        }
    }
}

fn input_of(event: &Event) -> Option<Input> {
    match &event.kind {
        EventKind::Message {
            is_echo: false,
            quick_reply_payload: Some(payload),
            ..
        } => Some(Input::Payload(payload.clone())),
        EventKind::Message {
            is_echo: false,
            text,
            attachments,
            ..
        } => {
            if let Some(location) = attachments.iter().find_map(|a| match a.kind {
                AttachmentKind::Location { lat, long } => Some((lat, long)),
                _ => None,
            }) {
                return Some(Input::Location {
                    lat: location.0,
                    long: location.1,
                });
            }
            Some(Input::Text(text.clone().unwrap_or_default()))
        }
        EventKind::Postback { payload, .. } if !payload.is_empty() => {
            Some(Input::Payload(payload.clone()))
        }
        EventKind::Referral(_) => Some(Input::Payload("GET_STARTED".to_owned())),
        EventKind::PassThreadControl { .. } => Some(Input::HandBack),
        _ => None,
    }
}

fn inbound_text(event: &Event) -> (Option<String>, Option<serde_json::Value>) {
    match &event.kind {
        EventKind::Message {
            text,
            quick_reply_payload,
            attachments,
            ..
        } => (
            text.clone(),
            quick_reply_payload
                .as_ref()
                .map(|p| serde_json::json!({"quick_reply": p}))
                .or_else(|| {
                    (!attachments.is_empty())
                        .then(|| serde_json::json!({"attachments": attachments}))
                }),
        ),
        EventKind::Postback { title, payload, .. } => (
            title.clone(),
            Some(serde_json::json!({"postback": payload})),
        ),
        _ => (None, None),
    }
}

fn event_time(event: &Event, fallback: Timestamp) -> Timestamp {
    event
        .timestamp_ms
        .and_then(|ms| Timestamp::from_millisecond(ms).ok())
        .unwrap_or(fallback)
}

/// Handles one stored event: claims it, updates the conversation, runs the bot, records and
/// sends the replies.
pub async fn process(
    ctx: &BotCtx,
    tenant: &TenantId,
    key: &Key,
    inbound: &Inbound,
) -> Result<(), ApiError> {
    let now = ctx.clock.now();
    let event: Event = serde_json::from_str(&inbound.event).map_err(ApiError::internal)?;
    let page = store::page(&ctx.table, tenant, &inbound.page_id).await?;
    let (Some(page), Some(psid)) = (page, inbound.psid.clone()) else {
        // Disconnected page or an event without a customer: nothing to do but remember it.
        return claim_only(ctx, key, now).await;
    };
    let before = store::conversation(&ctx.table, tenant, &page.page_id, &psid).await?;
    let read_version = before.as_ref().map_or(0, |c| c.version);
    let mut conv = before
        .unwrap_or_else(|| Conversation::new(&page.page_id, &psid, &page.settings.language, now));
    let mut records: Vec<Message> = Vec::new();
    let mut effects: Vec<Effect> = Vec::new();
    let at = event_time(&event, now);
    match &event.kind {
        EventKind::Delivery { watermark, .. } => {
            conv.delivered_until = Timestamp::from_millisecond(*watermark)
                .ok()
                .max(conv.delivered_until);
        }
        EventKind::Read {
            watermark: Some(watermark),
            ..
        } => {
            let mark = Timestamp::from_millisecond(*watermark).ok();
            conv.read_until = mark.max(conv.read_until);
            conv.delivered_until = mark.max(conv.delivered_until);
        }
        EventKind::Message {
            is_echo: true,
            text,
            app_id,
            mid,
            ..
        } if app_id.as_deref() == Some(PAGE_INBOX_APP_ID) => {
            // A person wrote from the page inbox: show it in the conversation.
            records.push(Message {
                id: MessageId::new(),
                direction: Direction::Out,
                text: text.clone(),
                payload: None,
                mid: Some(mid.clone()),
                delivery: Delivery::Sent,
                error: None,
                at,
            });
        }
        EventKind::TakeThreadControl { .. } => conv.handler = Handler::Human,
        _ if event.wakes_bot() && !inbound.standby => {
            conv.last_inbound_at = Some(at);
            let (text, payload) = inbound_text(&event);
            let mid = match &event.kind {
                EventKind::Message { mid, .. } => Some(mid.clone()),
                EventKind::Postback { mid, .. } => mid.clone(),
                _ => None,
            };
            if text.is_some() || payload.is_some() {
                records.push(Message {
                    id: MessageId::new(),
                    direction: Direction::In,
                    text,
                    payload,
                    mid,
                    delivery: Delivery::Received,
                    error: None,
                    at,
                });
            }
            if conv.name.is_none() {
                conv.name = ctx.messenger.first_name(&page, &psid).await;
            }
            if let Some(input) = input_of(&event).filter(|_| page.settings.enabled) {
                effects = respond(ctx, tenant, &page, &mut conv, input, &inbound.dedupe).await?;
            }
        }
        _ if inbound.standby => {
            // Another app (the inbox) has the thread: keep the customer's words for staff.
            let (text, payload) = inbound_text(&event);
            if text.is_some() || payload.is_some() {
                records.push(Message {
                    id: MessageId::new(),
                    direction: Direction::In,
                    text,
                    payload,
                    mid: None,
                    delivery: Delivery::Received,
                    error: None,
                    at,
                });
            }
        }
        _ => {}
    }
    let mut messages = Vec::new();
    let mut to_human = false;
    for effect in effects {
        match effect {
            Effect::Say(message) => messages.push(message),
            Effect::PassToHuman => to_human = true,
            Effect::PlaceOrder => {}
        }
    }
    conv.version = read_version + 1;
    conv.updated_at = now;
    metrics::counter!("fanorder_bot_replies_total").increment(messages.len() as u64);
    let outbound = ctx.messenger.prepare(&page, messages, None);
    let mut ops = vec![
        store::claim(key, now),
        store::conversation_put(&ctx.table, tenant, &conv, read_version)?,
    ];
    for record in &records {
        ops.push(store::message_put(
            &ctx.table,
            tenant,
            &page.page_id,
            &psid,
            record,
        )?);
    }
    ops.extend(
        ctx.messenger
            .record_ops(&ctx.table, tenant, &conv, &outbound)?,
    );
    match ctx.table.transact(ops).await {
        Ok(()) => {}
        Err(StoreError::TransactionCanceled { failures })
            if failures.iter().any(|f| f.index == 0) =>
        {
            return Ok(()); // handled already (a concurrent worker, or a retry after a crash)
        }
        Err(StoreError::TransactionCanceled { .. }) => {
            return Err(ApiError::conflict(
                "conflict",
                "the conversation changed meanwhile; handling again",
            ));
        }
        Err(err) => return Err(err.into()),
    }
    if to_human && let Err(err) = ctx.messenger.thread_control(&page, &psid, true).await {
        tracing::warn!(tenant_id = %tenant, page_id = %page.page_id, error = %err, "handover to the inbox failed");
    }
    ctx.messenger
        .send(
            &ctx.table,
            tenant,
            &page,
            &psid,
            outbound,
            MessagingType::Response,
        )
        .await
}

async fn claim_only(ctx: &BotCtx, key: &Key, now: Timestamp) -> Result<(), ApiError> {
    match ctx.table.transact(vec![store::claim(key, now)]).await {
        Ok(()) | Err(StoreError::TransactionCanceled { .. }) => Ok(()),
        Err(err) => Err(err.into()),
    }
}

/// Runs the bot on one input, placing the order when it asks to.
async fn respond(
    ctx: &BotCtx,
    tenant_id: &TenantId,
    page: &Page,
    conv: &mut Conversation,
    input: Input,
    dedupe: &str,
) -> Result<Vec<Effect>, ApiError> {
    let cached = ctx.shop(tenant_id).await?;
    let shop = &cached.1;
    if bot::asks_for_orders(conv, &input, &page.settings) {
        return my_orders(ctx, tenant_id, page, conv).await;
    }
    let mut effects = bot::handle(conv, input, shop, &page.settings);
    if let Some(at) = effects.iter().position(|e| *e == Effect::PlaceOrder) {
        effects.remove(at);
        let placed = place(ctx, tenant_id, page, conv, dedupe).await;
        effects.extend(match placed {
            Ok(order) => {
                let link = pay_link(ctx, tenant_id, &order);
                bot::placed(conv, &order, shop, &page.settings, link)
            }
            Err(err) => bot::failed(conv, &reason(&err), &page.settings),
        });
    }
    Ok(effects)
}

/// Where the customer pays an online order: the checkout of the provider customers pay with.
fn pay_link(ctx: &BotCtx, tenant: &TenantId, order: &fanorder_orders::Order) -> Option<String> {
    if order.payment.method != PaymentMethod::Online {
        return None;
    }
    let provider = ctx.payments.checkout()?;
    Some(provider.checkout_url(
        &ctx.base_url,
        tenant,
        &order.id,
        order.total,
        order.currency.code(),
    ))
}

fn reason(err: &ApiError) -> String {
    match err {
        ApiError::Validation(fields) => fields
            .iter()
            .map(|f| f.message.clone())
            .collect::<Vec<_>>()
            .join("; "),
        other => other.to_string(),
    }
}

/// Places the conversation's cart as an order; the inbound event's dedupe key is the
/// idempotency key, so handling the same event again finds the same order.
async fn place(
    ctx: &BotCtx,
    tenant: &TenantId,
    page: &Page,
    conv: &Conversation,
    dedupe: &str,
) -> Result<fanorder_orders::Order, ApiError> {
    let mut lines = Vec::with_capacity(conv.cart.len());
    fn parse_all<T: std::str::FromStr>(ids: &[String]) -> Result<Vec<T>, ApiError>
    where
        T::Err: std::fmt::Display,
    {
        ids.iter()
            .map(|id| {
                id.parse()
                    .map_err(|e: T::Err| ApiError::invalid("cart", e.to_string()))
            })
            .collect()
    }
    for line in &conv.cart {
        lines.push(if line.combo {
            Wanted::Combo {
                combo: line
                    .id
                    .parse()
                    .map_err(|e| ApiError::invalid("cart", format!("{e}")))?,
                quantity: line.quantity,
                choices: parse_all(&line.choices)?,
            }
        } else {
            Wanted::Item {
                item: line
                    .id
                    .parse()
                    .map_err(|e| ApiError::invalid("cart", format!("{e}")))?,
                quantity: line.quantity,
                options: parse_all(&line.options)?,
            }
        });
    }
    let fulfillment = if conv.fulfillment.as_deref() == Some("delivery") {
        Fulfillment::Delivery
    } else {
        Fulfillment::Pickup
    };
    let new = NewOrder {
        location_id: page.settings.default_location_id,
        fulfillment,
        address: if fulfillment == Fulfillment::Delivery {
            conv.address.clone()
        } else {
            None
        },
        phone: conv.phone.clone(),
        note: kitchen_note(&conv.cart),
        payment_method: match conv.pay_with {
            Some(PayWith::Cash) => PaymentMethod::Cash,
            _ => PaymentMethod::Online,
        },
        lines,
        channel: Some(Channel::Messenger {
            page_id: page.page_id.clone(),
            psid: conv.psid.clone(),
        }),
    };
    let customer = format!("fb:{}:{}", page.page_id, conv.psid);
    let placer = Placer {
        account: customer.clone(),
        role: "customer".to_owned(),
        customer_id: Some(customer),
    };
    let hash = |text: &str| {
        Sha256::digest(text.as_bytes())
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect::<String>()
    };
    let key = service::IdempotencyKey {
        key_hash: hash(dedupe),
        request_hash: hash(&format!("{:?}", conv.cart)),
    };
    let order_ctx = service::Ctx {
        table: ctx.table.clone(),
        outbox: ctx.outbox.clone(),
        clock: ctx.clock.clone(),
    };
    let placed = service::place(&order_ctx, tenant, &placer, new, Some(key)).await?;
    Ok(placed.order().clone())
}

/// "My order": the status of the conversation's latest orders.
async fn my_orders(
    ctx: &BotCtx,
    tenant: &TenantId,
    page: &Page,
    conv: &Conversation,
) -> Result<Vec<Effect>, ApiError> {
    let texts = bot::texts::Texts::new(&conv.language, &page.settings.texts);
    let mut lines = Vec::new();
    for id in conv.orders.iter().rev().take(3) {
        let Ok(id) = id.parse() else { continue };
        let Some(order) = fanorder_orders::store::order(&ctx.table, tenant, &id).await? else {
            continue;
        };
        if order.status == Status::PendingPayment {
            // Waiting for an online payment: the link again, so the customer can pay now.
            let link = pay_link(ctx, tenant, &order);
            lines.push(waiting_for_payment(&texts, order.number, link.as_deref()));
        } else if let Some(text) = bot::status_text(
            &conv.language,
            &page.settings,
            order.status.as_str(),
            order.number,
            order.fulfillment == Fulfillment::Pickup,
            None,
        ) {
            lines.push(text);
        }
    }
    let text = if lines.is_empty() {
        texts.get("no_orders", &[])
    } else {
        lines.join("\n")
    };
    Ok(vec![Effect::Say(OutgoingMessage::text(&text))])
}

/// What the customer asked for that no option says, line by line, as the order's note for the
/// kitchen ("1 × Coke: sin hielo"); at most 500 characters, as the API allows.
fn kitchen_note(cart: &[CartLine]) -> Option<String> {
    let notes: Vec<String> = cart
        .iter()
        .filter_map(|l| {
            Some(format!(
                "{} × {}: {}",
                l.quantity,
                l.name,
                l.note.as_deref()?
            ))
        })
        .collect();
    let note = notes.join("; ");
    (!note.is_empty()).then(|| note.chars().take(500).collect())
}

/// "Order #n is waiting for payment", with the link to pay when there is one.
fn waiting_for_payment(texts: &bot::texts::Texts<'_>, number: u32, link: Option<&str>) -> String {
    let number = number.to_string();
    let waiting = texts.get("status_pending_payment", &[("number", &number)]);
    match link {
        Some(link) => format!("{waiting} {}", texts.get("pay_here", &[("link", link)])),
        None => waiting,
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::*;

    #[test]
    fn line_notes_become_the_kitchen_note() {
        let line = |name: &str, quantity, note: Option<&str>| CartLine {
            id: "1".into(),
            combo: false,
            name: name.into(),
            quantity,
            options: vec![],
            option_names: vec![],
            choices: vec![],
            note: note.map(Into::into),
        };
        assert_eq!(kitchen_note(&[line("Coke", 1, None)]), None);
        assert_eq!(
            kitchen_note(&[
                line("Coke", 2, Some("sin hielo")),
                line("Pad thai", 1, None),
                line("Tea", 1, Some("less sugar")),
            ])
            .as_deref(),
            Some("2 × Coke: sin hielo; 1 × Tea: less sugar")
        );
        let long = "x".repeat(400);
        let two = [line("A", 1, Some(&long)), line("B", 1, Some(&long))];
        assert_eq!(kitchen_note(&two).unwrap().chars().count(), 500);
    }

    #[test]
    fn an_order_waiting_for_payment_is_told_with_its_link_in_the_customers_language() {
        let none = BTreeMap::new();
        let text = |language| {
            let texts = bot::texts::Texts::new(language, &none);
            waiting_for_payment(&texts, 7, Some("https://x/pay"))
        };
        assert_eq!(
            text("en"),
            "Order #7 is waiting for payment. Pay here to send it to the kitchen: https://x/pay"
        );
        assert!(text("es").starts_with("El pedido #7 está esperando el pago."));
        assert!(text("es").ends_with(": https://x/pay"));
        assert!(text("th").contains("#7") && text("th").ends_with(": https://x/pay"));
        let texts = bot::texts::Texts::new("en", &none);
        assert_eq!(
            waiting_for_payment(&texts, 7, None),
            "Order #7 is waiting for payment."
        );
    }
}
