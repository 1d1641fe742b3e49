//! Telling customers on Messenger when their order moves: a publisher the relay (or the stream
//! processor) hands order events to. Inside the 24-hour window the message is an update; outside
//! it, it carries the POST_PURCHASE_UPDATE tag. A message for one event is recorded and sent at
//! most once (its id comes from the event), so a redelivered event neither shows nor goes out
//! twice.

use async_trait::async_trait;
use fanorder_events::publish::Publisher;
use fanorder_events::{Event, EventType};
use fanorder_messenger::OutgoingMessage;
use fanorder_messenger::send::{MessageTag, MessagingType};
use fanorder_orders::model::{Channel, Fulfillment};
use fanorder_store::{StoreError, Table};

use crate::model::MessageId;
use crate::send::Messenger;
use crate::{bot, store};

/// The order-status publisher.
#[derive(Clone, Debug)]
pub struct Notifier {
    table: Table,
    messenger: Messenger,
}

impl Notifier {
    /// A notifier sending through `messenger`.
    pub fn new(table: Table, messenger: Messenger) -> Self {
        Self { table, messenger }
    }

    async fn notify(&self, event: &Event) -> Result<(), fanorder_platform::ApiError> {
        let Some(order_id) = event
            .data
            .get("order_id")
            .and_then(|v| v.as_str())
            .and_then(|v| v.parse().ok())
        else {
            return Ok(());
        };
        let tenant = event.tenant_id;
        let Some(order) = fanorder_orders::store::order(&self.table, &tenant, &order_id).await?
        else {
            return Ok(());
        };
        let Some(Channel::Messenger { page_id, psid }) = &order.channel else {
            return Ok(());
        };
        if event.kind() == Some(EventType::OrderPaid)
            && order.payment.method == fanorder_orders::model::PaymentMethod::Cash
        {
            // A cash order is "paid" (in the kitchen queue) when it is placed; the bot's
            // confirmation already said so.
            return Ok(());
        }
        let Some(page) = store::page(&self.table, &tenant, page_id).await? else {
            return Ok(());
        };
        let Some(conversation) = store::conversation(&self.table, &tenant, page_id, psid).await?
        else {
            return Ok(());
        };
        let to = event
            .data
            .get("to")
            .and_then(|v| v.as_str())
            .unwrap_or_default();
        let reason = event.data.get("reason").and_then(|v| v.as_str());
        let Some(text) = bot::status_text(
            &conversation.language,
            &page.settings,
            to,
            order.number,
            order.fulfillment == Fulfillment::Pickup,
            reason,
        ) else {
            return Ok(());
        };
        let outbound = self.messenger.prepare(
            &page,
            vec![OutgoingMessage::text(&text)],
            Some(MessageId::from_ulid(event.event_id.ulid())),
        );
        let ops = outbound
            .iter()
            .map(|o| store::first_message_put(&self.table, &tenant, page_id, psid, &o.record))
            .collect::<Result<Vec<_>, _>>()?;
        match self.table.transact(ops).await {
            Ok(()) => {}
            // Recorded by an earlier delivery of this event: the relay delivers again what it
            // had not marked delivered when the process stopped. That delivery sent it (or died
            // sending it); sending again could only tell the customer twice.
            Err(StoreError::TransactionCanceled { .. }) => return Ok(()),
            Err(err) => return Err(err.into()),
        }
        let now = self.messenger_clock_now(event);
        let kind = if conversation.in_window(now) {
            MessagingType::Update
        } else {
            MessagingType::Tag(MessageTag::PostPurchaseUpdate)
        };
        self.messenger
            .send(&self.table, &tenant, &page, psid, outbound, kind)
            .await
    }

    fn messenger_clock_now(&self, event: &Event) -> jiff::Timestamp {
        // The event's own time decides the window: it is when the customer was told.
        event.occurred_at
    }
}

#[async_trait]
impl Publisher for Notifier {
    fn name(&self) -> &'static str {
        "messenger"
    }

    fn wants(&self, event: &Event) -> bool {
        matches!(
            event.kind(),
            Some(EventType::OrderPaid | EventType::OrderStatusChanged | EventType::OrderCancelled)
        )
    }

    async fn publish(&self, events: &[&Event]) -> Vec<bool> {
        fanorder_events::publish::one_by_one(events, "order status message not sent yet", |event| {
            self.notify(event)
        })
        .await
    }
}
