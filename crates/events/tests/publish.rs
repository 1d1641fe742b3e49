//! The relay and the AWS publishers against moto: an EventBridge rule delivers every event to
//! an SQS queue exactly once; SNS subscriptions filtered on `tenant_id` receive only their
//! restaurant's notices; while the bus is unreachable nothing is lost, and everything arrives
//! once it is back.
#![expect(
    clippy::unwrap_used,
    reason = "a test fails loudly on anything unexpected"
)]

use std::collections::HashSet;
use std::sync::Arc;
use std::time::Duration;

use fanorder_events::publish::{EventBridge, Publisher, Sns, aws_config};
use fanorder_events::{Delivery, Event, EventType, Outbox, Relay, outbox};
use fanorder_platform::id::new_ulid;
use fanorder_platform::{Clock, TenantId};
use fanorder_store::Table;
use fanorder_store::testing::{self, StoreKind};

/// True when moto is configured; panics when it is required but missing.
fn moto_available() -> bool {
    if std::env::var_os("AWS_ENDPOINT_URL_EVENTBRIDGE").is_some() {
        return true;
    }
    assert!(
        std::env::var_os("FANORDER_REQUIRE_EMULATORS").is_none(),
        "FANORDER_REQUIRE_EMULATORS is set but AWS_ENDPOINT_URL_EVENTBRIDGE is not: start moto (scripts/test does)"
    );
    eprintln!("skipped: no moto endpoint");
    false
}

async fn queue(sqs: &aws_sdk_sqs::Client, name: &str) -> (String, String) {
    let url = sqs
        .create_queue()
        .queue_name(name)
        .send()
        .await
        .unwrap()
        .queue_url
        .unwrap();
    let attributes = sqs
        .get_queue_attributes()
        .queue_url(&url)
        .attribute_names(aws_sdk_sqs::types::QueueAttributeName::QueueArn)
        .send()
        .await
        .unwrap();
    let arn =
        attributes.attributes.unwrap()[&aws_sdk_sqs::types::QueueAttributeName::QueueArn].clone();
    (url, arn)
}

/// Every message body now in the queue (waits briefly for stragglers).
async fn drain_queue(sqs: &aws_sdk_sqs::Client, url: &str, expect_at_least: usize) -> Vec<String> {
    let mut bodies = Vec::new();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    loop {
        let out = sqs
            .receive_message()
            .queue_url(url)
            .max_number_of_messages(10)
            .wait_time_seconds(1)
            .send()
            .await
            .unwrap();
        let messages = out.messages.unwrap_or_default();
        let empty = messages.is_empty();
        for message in messages {
            bodies.push(message.body.unwrap_or_default());
            sqs.delete_message()
                .queue_url(url)
                .receipt_handle(message.receipt_handle.unwrap())
                .send()
                .await
                .unwrap();
        }
        if (empty && bodies.len() >= expect_at_least) || tokio::time::Instant::now() > deadline {
            return bodies;
        }
    }
}

async fn table() -> (Table, testing::TestTable) {
    let t = testing::table(StoreKind::Sqlite, Clock::system(), &[5; 32], None)
        .await
        .unwrap()
        .unwrap();
    (t.table.clone(), t)
}

async fn write(table: &Table, outbox: &Outbox, events: &[Event]) {
    for chunk in events.chunks(50) {
        let ops = chunk
            .iter()
            .map(|e| outbox.write(table, e).unwrap())
            .collect();
        table.transact(ops).await.unwrap();
    }
    outbox.committed();
}

fn order_event(kind: EventType, tenant: TenantId, n: i64) -> Event {
    let order_id = new_ulid().to_string();
    Event::new(
        kind,
        tenant,
        jiff::Timestamp::now(),
        serde_json::json!({"order_id": order_id, "number": n}),
    )
    .with_sequence(2)
}

async fn bus_with_queue(name: &str) -> (EventBridge, aws_sdk_sqs::Client, String) {
    let config = aws_config().await;
    let events = aws_sdk_eventbridge::Client::new(&config);
    let sqs = aws_sdk_sqs::Client::new(&config);
    let bus = format!("bus-{name}");
    events.create_event_bus().name(&bus).send().await.unwrap();
    let (url, arn) = queue(&sqs, &format!("q-{name}")).await;
    events
        .put_rule()
        .name(format!("rule-{name}"))
        .event_bus_name(&bus)
        .event_pattern(r#"{"source": ["fanorder"]}"#)
        .send()
        .await
        .unwrap();
    events
        .put_targets()
        .rule(format!("rule-{name}"))
        .event_bus_name(&bus)
        .targets(
            aws_sdk_eventbridge::types::Target::builder()
                .id("q")
                .arn(arn)
                .build()
                .unwrap(),
        )
        .send()
        .await
        .unwrap();
    (EventBridge::new(events, bus, "fanorder"), sqs, url)
}

fn event_ids(bodies: &[String]) -> Vec<String> {
    bodies
        .iter()
        .map(|b| {
            let value: serde_json::Value = serde_json::from_str(b).unwrap();
            value["detail"]["event_id"].as_str().unwrap().to_owned()
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_eventbridge_rule_receives_every_event_once() {
    if !moto_available() {
        return;
    }
    let name = new_ulid().to_string().to_lowercase();
    let (bridge, sqs, url) = bus_with_queue(&name).await;
    let (table, _keep) = table().await;
    let outbox = Outbox::new(Delivery::Poll);
    let tenant = TenantId::new();
    let events: Vec<Event> = (1..=25)
        .map(|n| order_event(EventType::OrderStatusChanged, tenant, n))
        .collect();
    write(&table, &outbox, &events).await;
    let relay = Relay::new(
        table.clone(),
        vec![Arc::new(bridge) as Arc<dyn Publisher>],
        Clock::system(),
    );
    let pass = relay.drain().await.unwrap();
    assert_eq!(pass.delivered, 25);
    assert_eq!(
        relay.drain().await.unwrap().delivered,
        0,
        "nothing is sent twice"
    );
    let bodies = drain_queue(&sqs, &url, 25).await;
    let ids = event_ids(&bodies);
    let unique: HashSet<_> = ids.iter().collect();
    assert_eq!(ids.len(), 25, "exactly once each");
    assert_eq!(unique.len(), 25);
    let first: serde_json::Value = serde_json::from_str(&bodies[0]).unwrap();
    assert_eq!(first["source"], "fanorder");
    assert_eq!(first["detail-type"], "order.status_changed");
    for id in events.iter().map(|e| e.event_id.to_string()) {
        assert!(unique.contains(&id), "{id} missing");
    }
    // The log keeps every event; none is pending.
    assert!(outbox::pending(&table, 0, 100).await.unwrap().is_empty());
    let log = outbox::list(&table, &tenant, None, 100).await.unwrap();
    assert_eq!(log.items.len(), 25);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sns_subscribers_receive_only_their_restaurants_notices() {
    if !moto_available() {
        return;
    }
    let config = aws_config().await;
    let sns = aws_sdk_sns::Client::new(&config);
    let sqs = aws_sdk_sqs::Client::new(&config);
    let name = new_ulid().to_string().to_lowercase();
    let topic = sns
        .create_topic()
        .name(format!("staff-{name}"))
        .send()
        .await
        .unwrap()
        .topic_arn
        .unwrap();
    let (a, b) = (TenantId::new(), TenantId::new());
    let mut queues = Vec::new();
    for (tenant, label) in [(a, "a"), (b, "b")] {
        let (url, arn) = queue(&sqs, &format!("staff-{label}-{name}")).await;
        sns.subscribe()
            .topic_arn(&topic)
            .protocol("sqs")
            .endpoint(arn)
            .attributes("FilterPolicy", format!(r#"{{"tenant_id": ["{tenant}"]}}"#))
            .attributes("RawMessageDelivery", "true")
            .send()
            .await
            .unwrap();
        queues.push(url);
    }
    let (table, _keep) = table().await;
    let outbox = Outbox::new(Delivery::Poll);
    let events = vec![
        order_event(EventType::OrderPaid, a, 1),
        order_event(EventType::OrderPaid, b, 1),
        order_event(EventType::OrderCancelled, a, 2),
        order_event(EventType::OrderStatusChanged, a, 3), // not a staff notice
        order_event(EventType::OrderLate, b, 4),
    ];
    write(&table, &outbox, &events).await;
    let relay = Relay::new(
        table.clone(),
        vec![Arc::new(Sns::new(sns, topic)) as Arc<dyn Publisher>],
        Clock::system(),
    );
    relay.drain().await.unwrap();
    for (url, tenant, expected) in [(&queues[0], a, 2), (&queues[1], b, 2)] {
        let bodies = drain_queue(&sqs, url, expected).await;
        assert_eq!(bodies.len(), expected, "{bodies:?}");
        for body in bodies {
            let event: Event = serde_json::from_str(&body).unwrap();
            assert_eq!(event.tenant_id, tenant);
            assert!(event.kind().unwrap().is_staff_notice());
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn nothing_is_lost_while_the_bus_is_down() {
    if !moto_available() {
        return;
    }
    let name = new_ulid().to_string().to_lowercase();
    let (bridge, sqs, url) = bus_with_queue(&name).await;
    // The same bus behind an endpoint where nothing listens.
    let down_config = aws_sdk_eventbridge::config::Builder::from(&aws_config().await)
        .endpoint_url("http://127.0.0.1:9")
        .retry_config(aws_sdk_eventbridge::config::retry::RetryConfig::disabled())
        .build();
    let down = EventBridge::new(
        aws_sdk_eventbridge::Client::from_conf(down_config),
        format!("bus-{name}"),
        "fanorder",
    );
    let (table, _keep) = table().await;
    let outbox = Outbox::new(Delivery::Poll);
    let tenant = TenantId::new();
    let events: Vec<Event> = (1..=200)
        .map(|n| order_event(EventType::OrderPlaced, tenant, n))
        .collect();
    write(&table, &outbox, &events).await;
    let broken = Relay::new(
        table.clone(),
        vec![Arc::new(down) as Arc<dyn Publisher>],
        Clock::system(),
    );
    for _ in 0..3 {
        let pass = broken.drain().await.unwrap();
        assert_eq!(pass.delivered, 0);
        assert!(pass.failed > 0);
    }
    let shard_totals: usize = {
        let mut total = 0;
        for shard in 0..outbox::SHARDS {
            total += outbox::pending(&table, shard, 1000).await.unwrap().len();
        }
        total
    };
    assert_eq!(shard_totals, 200, "every event still waits");
    let healed = Relay::new(
        table.clone(),
        vec![Arc::new(bridge) as Arc<dyn Publisher>],
        Clock::system(),
    );
    let pass = healed.drain().await.unwrap();
    assert_eq!(pass.delivered, 200);
    let bodies = drain_queue(&sqs, &url, 200).await;
    let ids: HashSet<_> = event_ids(&bodies).into_iter().collect();
    assert_eq!(bodies.len(), 200, "each once");
    assert_eq!(ids.len(), 200);
}
