//! `fanorder-lambda-stream`: the table's stream, filtered by the event source mapping to new
//! `OUTBOX#` and `INBOX#` items (infra/cdk). Outbox events go to the publishers (EventBridge,
//! SNS, customers' Messenger threads), batched; inbound Messenger events run the bot, one at a
//! time and in order.
//!
//! Failures are reported per record (`batchItemFailures`, ReportBatchItemFailures): Lambda
//! checkpoints before the first failed record and sends the rest again. So the processor stops
//! at the first failure and reports it and every record after it: a conversation's messages
//! are never answered out of order, and nothing after a failure is done twice for nothing.
//! Both kinds of work are idempotent (events carry `event_id`; an inbound event is claimed once).

use std::sync::Arc;

use aws_lambda_events::event::dynamodb::{Event, EventRecord};
use aws_lambda_events::event::streams::{DynamoDbBatchItemFailure, DynamoDbEventResponse};
use fanorder_events::publish::Publisher;
use fanorder_events::{Event as DomainEvent, outbox};
use fanorder_pages::BotCtx;
use fanorder_pages::store::Inbound;
use fanorder_platform::{ApiError, TenantId};
use fanorder_store::{Item, Key, Table, from_item};

/// What one record asks for.
#[derive(Debug)]
enum Work {
    /// Publish this event.
    Outbox(Box<DomainEvent>),
    /// Answer this inbound Messenger event.
    Inbox(TenantId, Key, Box<Inbound>),
    /// Nothing (another entity or change; the mapping's filters normally keep these out).
    Skip,
}

/// The stream processor.
#[derive(Clone)]
pub struct Processor {
    table: Table,
    bot: BotCtx,
    publishers: Vec<Arc<dyn Publisher>>,
}

impl std::fmt::Debug for Processor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let names: Vec<_> = self.publishers.iter().map(|p| p.name()).collect();
        f.debug_struct("Processor")
            .field("publishers", &names)
            .finish_non_exhaustive()
    }
}

impl Processor {
    /// A processor answering with `bot` and publishing to `publishers`.
    pub fn new(table: Table, bot: BotCtx, publishers: Vec<Arc<dyn Publisher>>) -> Self {
        Self {
            table,
            bot,
            publishers,
        }
    }

    fn work(&self, record: &EventRecord) -> Result<Work, ApiError> {
        if record.event_name != "INSERT" {
            return Ok(Work::Skip);
        }
        let item: Item = record.change.new_image.clone();
        if item.is_empty() {
            return Err(ApiError::internal(
                "an INSERT record without NewImage: the stream must be NEW_IMAGE",
            ));
        }
        let key = self.table.item_key(&item)?;
        if key.sk.starts_with("OUTBOX#") {
            return Ok(Work::Outbox(Box::new(outbox::event_of(item)?)));
        }
        if key.sk.starts_with("INBOX#") {
            let tenant = key
                .pk
                .strip_prefix("T#")
                .and_then(|t| t.parse::<TenantId>().ok())
                .ok_or_else(|| ApiError::internal("an inbound event outside a tenant"))?;
            let inbound: Inbound = from_item(item)?;
            return Ok(Work::Inbox(tenant, key, Box::new(inbound)));
        }
        Ok(Work::Skip)
    }

    /// Publishes the events to every publisher that wants them; one answer per event.
    async fn publish(&self, events: &[&DomainEvent]) -> Vec<bool> {
        let mut ok = vec![true; events.len()];
        for publisher in &self.publishers {
            let todo: Vec<usize> = (0..events.len())
                .filter(|&i| publisher.wants(events[i]))
                .collect();
            if todo.is_empty() {
                continue;
            }
            let batch: Vec<&DomainEvent> = todo.iter().map(|&i| events[i]).collect();
            let accepted = publisher.publish(&batch).await;
            for (i, accepted) in todo.into_iter().zip(accepted) {
                ok[i] &= accepted;
            }
        }
        ok
    }

    /// Handles a batch; returns the records to retry.
    pub async fn handle(&self, event: Event) -> DynamoDbEventResponse {
        let records = event.records;
        let mut works = Vec::with_capacity(records.len());
        for record in &records {
            works.push(self.work(record).map_err(|err| {
                tracing::error!(event_id = %record.event_id, error = %err, "unreadable stream record");
            }));
        }
        let failed_from = self.run(&works).await;
        let mut response = DynamoDbEventResponse::default();
        if let Some(first) = failed_from {
            for record in &records[first..] {
                let mut failure = DynamoDbBatchItemFailure::default();
                failure.item_identifier = record.change.sequence_number.clone();
                response.batch_item_failures.push(failure);
            }
            tracing::warn!(
                records = records.len(),
                retried = records.len() - first,
                "stream batch partly failed; Lambda retries from the first failure"
            );
        }
        response
    }

    /// Does the work in order; returns the index of the first record that failed.
    async fn run(&self, works: &[Result<Work, ()>]) -> Option<usize> {
        let mut i = 0;
        while i < works.len() {
            match &works[i] {
                Err(()) => return Some(i),
                Ok(Work::Skip) => i += 1,
                Ok(Work::Inbox(tenant, key, inbound)) => {
                    if let Err(err) =
                        fanorder_pages::worker::process(&self.bot, tenant, key, inbound).await
                    {
                        tracing::warn!(tenant_id = %tenant, page_id = %inbound.page_id, error = %err, "inbound event not handled; Lambda retries it");
                        return Some(i);
                    }
                    i += 1;
                }
                Ok(Work::Outbox(_)) => {
                    // Consecutive outbox events go out together (PutEvents takes 10 at a time).
                    let start = i;
                    let mut events = Vec::new();
                    while let Some(Ok(Work::Outbox(event))) = works.get(i) {
                        events.push(event.as_ref());
                        i += 1;
                    }
                    let ok = self.publish(&events).await;
                    if let Some(failed) = ok.iter().position(|ok| !ok) {
                        return Some(start + failed);
                    }
                }
            }
        }
        None
    }
}

/// Serves invocations until the runtime stops.
pub async fn run(processor: Processor) -> Result<(), lambda_http::Error> {
    tracing::info!(?processor, "fanorder-lambda-stream ready");
    let processor = &processor;
    lambda_http::lambda_runtime::run(lambda_http::service_fn(
        move |event: lambda_http::LambdaEvent<Event>| async move {
            let response = processor.handle(event.payload).await;
            crate::lambda::emf::flush();
            Ok::<_, lambda_http::Error>(response)
        },
    ))
    .await
}
