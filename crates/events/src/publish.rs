//! Publishers: where events go after the outbox. EventBridge for integrators, SNS for staff
//! notices, and an in-process feed for live dashboards.

use std::time::Duration;

use async_trait::async_trait;
use aws_config::BehaviorVersion;
use aws_config::timeout::TimeoutConfig;
use aws_sdk_eventbridge::types::PutEventsRequestEntry;
use aws_sdk_sns::types::{MessageAttributeValue, PublishBatchRequestEntry};
use tokio::sync::broadcast;

use crate::model::Event;

/// A destination for events.
#[async_trait]
pub trait Publisher: Send + Sync + 'static {
    /// A short name (`eventbridge`, `sns`, `feed`), recorded on each event it accepted.
    fn name(&self) -> &'static str;
    /// True when this publisher takes the event at all.
    fn wants(&self, event: &Event) -> bool;
    /// Publishes the events; one answer per event, `true` when accepted. Events it did not
    /// accept are offered again later.
    async fn publish(&self, events: &[&Event]) -> Vec<bool>;
}

/// [`Publisher::publish`] for a publisher that handles events one at a time: each event is
/// accepted when `each` succeeds; a failure is logged (`not_yet` says what did not happen) and
/// leaves that event to be offered again, while the others go on.
pub async fn one_by_one<'a, F, Fut, E>(
    events: &[&'a Event],
    not_yet: &str,
    mut each: F,
) -> Vec<bool>
where
    F: FnMut(&'a Event) -> Fut,
    Fut: Future<Output = Result<(), E>>,
    E: std::fmt::Display,
{
    let mut accepted = Vec::with_capacity(events.len());
    for event in events {
        match each(event).await {
            Ok(()) => accepted.push(true),
            Err(err) => {
                tracing::warn!(event_id = %event.event_id, error = %err, "{not_yet}");
                accepted.push(false);
            }
        }
    }
    accepted
}

/// The AWS SDK configuration with timeouts on every call; honours `AWS_ENDPOINT_URL_*`.
pub async fn aws_config() -> aws_config::SdkConfig {
    let timeouts = TimeoutConfig::builder()
        .connect_timeout(Duration::from_secs(3))
        .operation_attempt_timeout(Duration::from_secs(5))
        .operation_timeout(Duration::from_secs(15))
        .build();
    aws_config::defaults(BehaviorVersion::latest())
        .timeout_config(timeouts)
        .load()
        .await
}

/// The most entries PutEvents takes in one call.
pub const EVENTBRIDGE_BATCH: usize = 10;
/// The most bytes one PutEvents call may carry.
pub const EVENTBRIDGE_BATCH_BYTES: usize = 256 * 1024;

/// Publishes every event to an EventBridge bus: `Source` (default `fanorder`), `DetailType` the
/// event type, `Detail` the envelope.
#[derive(Debug, Clone)]
pub struct EventBridge {
    client: aws_sdk_eventbridge::Client,
    bus: String,
    source: String,
}

impl EventBridge {
    /// A publisher to `bus` with `source`.
    pub fn new(
        client: aws_sdk_eventbridge::Client,
        bus: impl Into<String>,
        source: impl Into<String>,
    ) -> Self {
        Self {
            client,
            bus: bus.into(),
            source: source.into(),
        }
    }

    /// A publisher from the standard AWS configuration.
    pub async fn connect(bus: impl Into<String>, source: impl Into<String>) -> Self {
        Self::new(
            aws_sdk_eventbridge::Client::new(&aws_config().await),
            bus,
            source,
        )
    }

    fn entry(&self, event: &Event, detail: String) -> PutEventsRequestEntry {
        PutEventsRequestEntry::builder()
            .source(&self.source)
            .detail_type(&event.event_type)
            .detail(detail)
            .event_bus_name(&self.bus)
            .time(aws_sdk_eventbridge::primitives::DateTime::from_millis(
                event.occurred_at.as_millisecond(),
            ))
            .build()
    }
}

/// Splits events into PutEvents batches: at most 10 entries and 256 KB each.
fn batches(sizes: &[usize]) -> Vec<std::ops::Range<usize>> {
    let mut out = Vec::new();
    let mut start = 0;
    let mut bytes = 0;
    for (i, size) in sizes.iter().enumerate() {
        let full =
            i - start == EVENTBRIDGE_BATCH || (i > start && bytes + size > EVENTBRIDGE_BATCH_BYTES);
        if full {
            out.push(start..i);
            start = i;
            bytes = 0;
        }
        bytes += size;
    }
    if start < sizes.len() {
        out.push(start..sizes.len());
    }
    out
}

#[async_trait]
impl Publisher for EventBridge {
    fn name(&self) -> &'static str {
        "eventbridge"
    }

    fn wants(&self, _event: &Event) -> bool {
        true
    }

    async fn publish(&self, events: &[&Event]) -> Vec<bool> {
        let details: Vec<String> = events
            .iter()
            .map(|e| serde_json::to_string(e).unwrap_or_default())
            .collect();
        // EventBridge counts source, detail type and detail towards the entry size.
        let sizes: Vec<usize> = events
            .iter()
            .zip(&details)
            .map(|(e, d)| d.len() + e.event_type.len() + self.source.len() + 64)
            .collect();
        let mut accepted = vec![false; events.len()];
        for range in batches(&sizes) {
            let entries: Vec<PutEventsRequestEntry> = range
                .clone()
                .map(|i| self.entry(events[i], details[i].clone()))
                .collect();
            match self
                .client
                .put_events()
                .set_entries(Some(entries))
                .send()
                .await
            {
                Ok(out) => {
                    // A 200 may still carry failed entries: only those without an error code count.
                    for (offset, entry) in out.entries().iter().enumerate() {
                        if entry.error_code().is_none() && entry.event_id().is_some() {
                            accepted[range.start + offset] = true;
                        } else {
                            tracing::warn!(code = ?entry.error_code(), message = ?entry.error_message(), "EventBridge refused an event");
                        }
                    }
                }
                Err(err) => {
                    tracing::warn!(error = %aws_sdk_eventbridge::error::DisplayErrorContext(&err), "EventBridge unreachable; events stay in the outbox");
                }
            }
        }
        accepted
    }
}

/// Sends staff notices (new order to make, cancelled, late) to an SNS topic, with the message
/// attributes `tenant_id` and `type` so each restaurant subscribes to its own.
#[derive(Debug, Clone)]
pub struct Sns {
    client: aws_sdk_sns::Client,
    topic_arn: String,
}

impl Sns {
    /// A publisher to the topic.
    pub fn new(client: aws_sdk_sns::Client, topic_arn: impl Into<String>) -> Self {
        Self {
            client,
            topic_arn: topic_arn.into(),
        }
    }

    /// A publisher from the standard AWS configuration.
    pub async fn connect(topic_arn: impl Into<String>) -> Self {
        Self::new(aws_sdk_sns::Client::new(&aws_config().await), topic_arn)
    }
}

fn attribute(value: &str) -> Option<MessageAttributeValue> {
    MessageAttributeValue::builder()
        .data_type("String")
        .string_value(value)
        .build()
        .ok()
}

#[async_trait]
impl Publisher for Sns {
    fn name(&self) -> &'static str {
        "sns"
    }

    fn wants(&self, event: &Event) -> bool {
        event
            .kind()
            .is_some_and(crate::model::EventType::is_staff_notice)
    }

    async fn publish(&self, events: &[&Event]) -> Vec<bool> {
        let mut accepted = vec![false; events.len()];
        for (chunk_index, chunk) in events.chunks(10).enumerate() {
            let entries: Vec<PublishBatchRequestEntry> = chunk
                .iter()
                .enumerate()
                .filter_map(|(i, event)| {
                    PublishBatchRequestEntry::builder()
                        .id(format!("e{i}"))
                        .message(serde_json::to_string(event).unwrap_or_default())
                        .subject(notice_subject(event))
                        .set_message_attributes(Some(
                            [
                                ("tenant_id", event.tenant_id.to_string()),
                                ("type", event.event_type.clone()),
                            ]
                            .into_iter()
                            .filter_map(|(k, v)| attribute(&v).map(|a| (k.to_owned(), a)))
                            .collect(),
                        ))
                        .build()
                        .ok()
                })
                .collect();
            match self
                .client
                .publish_batch()
                .topic_arn(&self.topic_arn)
                .set_publish_batch_request_entries(Some(entries))
                .send()
                .await
            {
                Ok(out) => {
                    for ok in out.successful() {
                        if let Some(i) = ok
                            .id()
                            .and_then(|id| id.strip_prefix('e'))
                            .and_then(|i| i.parse::<usize>().ok())
                        {
                            accepted[chunk_index * 10 + i] = true;
                        }
                    }
                    for failed in out.failed() {
                        tracing::warn!(code = failed.code(), message = ?failed.message(), "SNS refused a notice");
                    }
                }
                Err(err) => {
                    tracing::warn!(error = %aws_sdk_sns::error::DisplayErrorContext(&err), "SNS unreachable; notices stay in the outbox");
                }
            }
        }
        accepted
    }
}

/// A short subject line for a staff notice.
fn notice_subject(event: &Event) -> String {
    let number = event
        .data
        .get("number")
        .and_then(serde_json::Value::as_i64)
        .map(|n| format!(" #{n}"))
        .unwrap_or_default();
    match event.event_type.as_str() {
        "order.paid" => format!("New order{number}"),
        "order.cancelled" => format!("Order{number} cancelled"),
        "order.late" => format!("Order{number} is late"),
        other => other.to_owned(),
    }
}

/// An in-process feed of every event, for live dashboards on `fanorder serve`.
#[derive(Debug, Clone)]
pub struct Feed {
    sender: broadcast::Sender<Event>,
    closing: std::sync::Arc<tokio::sync::watch::Sender<bool>>,
}

impl Feed {
    /// A feed keeping the last `capacity` events for slow listeners.
    pub fn new(capacity: usize) -> Self {
        Self {
            sender: broadcast::channel(capacity.max(1)).0,
            closing: std::sync::Arc::new(tokio::sync::watch::channel(false).0),
        }
    }

    /// Listens to events from now on.
    pub fn subscribe(&self) -> broadcast::Receiver<Event> {
        self.sender.subscribe()
    }

    /// Tells every listener the server is stopping: live streams end (their clients reconnect
    /// to the next process) instead of holding a graceful shutdown open.
    pub fn close(&self) {
        self.closing.send_replace(true);
    }

    /// Resolves once [`Feed::close`] was called.
    pub async fn closed(&self) {
        let mut closing = self.closing.subscribe();
        let _ = closing.wait_for(|closed| *closed).await;
    }
}

#[async_trait]
impl Publisher for Feed {
    fn name(&self) -> &'static str {
        "feed"
    }

    fn wants(&self, _event: &Event) -> bool {
        true
    }

    async fn publish(&self, events: &[&Event]) -> Vec<bool> {
        for event in events {
            // Nobody listening is fine: the outbox is the record; live screens catch up from it.
            let _ = self.sender.send((*event).clone());
        }
        vec![true; events.len()]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn batches_hold_ten_entries_and_256_kb() {
        assert_eq!(batches(&[1; 25]), [0..10, 10..20, 20..25]);
        assert_eq!(batches(&[100 * 1024; 5]), [0..2, 2..4, 4..5]);
        assert_eq!(
            batches(&[300 * 1024, 1]),
            [0..1, 1..2],
            "an oversized entry goes alone"
        );
        assert!(batches(&[]).is_empty());
    }

    #[tokio::test]
    async fn one_by_one_refuses_only_the_events_that_failed() {
        let events: Vec<Event> = (0..3)
            .map(|n| {
                Event::new(
                    crate::EventType::OrderPlaced,
                    fanorder_platform::TenantId::new(),
                    jiff::Timestamp::UNIX_EPOCH,
                    serde_json::json!({"n": n}),
                )
            })
            .collect();
        let refs: Vec<&Event> = events.iter().collect();
        let accepted = one_by_one(&refs, "not yet", |event| async move {
            if event.data["n"] == 1 {
                Err("down")
            } else {
                Ok(())
            }
        })
        .await;
        assert_eq!(accepted, [true, false, true]);
    }
}
