//! Events of real orders reach EventBridge (moto) exactly once, even when the bus was
//! unreachable while they were made.

use std::collections::HashSet;
use std::sync::Arc;
use std::time::Duration;

use fanorder_blackbox::{Store, TestApp};
use fanorder_events::Relay;
use fanorder_events::publish::{EventBridge, Publisher, aws_config};
use reqwest::Method;
use serde_json::json;

use crate::orders::{Kitchen, item};

fn moto_available() -> bool {
    if std::env::var_os("AWS_ENDPOINT_URL_EVENTBRIDGE").is_some() {
        return true;
    }
    assert!(
        std::env::var_os("FANORDER_REQUIRE_EMULATORS").is_none(),
        "FANORDER_REQUIRE_EMULATORS is set but moto is not"
    );
    eprintln!("skipped: no moto endpoint");
    false
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_hundred_orders_placed_while_the_bus_is_down_all_arrive_once_it_is_back() {
    if !moto_available() {
        return;
    }
    let config = aws_config().await;
    let events = aws_sdk_eventbridge::Client::new(&config);
    let sqs = aws_sdk_sqs::Client::new(&config);
    let name = fanorder_blackbox::unique();
    let bus = format!("orders-{name}");
    events.create_event_bus().name(&bus).send().await.unwrap();
    let url = sqs
        .create_queue()
        .queue_name(format!("orders-{name}"))
        .send()
        .await
        .unwrap()
        .queue_url
        .unwrap();
    let arn = sqs
        .get_queue_attributes()
        .queue_url(&url)
        .attribute_names(aws_sdk_sqs::types::QueueAttributeName::QueueArn)
        .send()
        .await
        .unwrap()
        .attributes
        .unwrap()[&aws_sdk_sqs::types::QueueAttributeName::QueueArn]
        .clone();
    events
        .put_rule()
        .name(format!("placed-{name}"))
        .event_bus_name(&bus)
        .event_pattern(r#"{"source": ["fanorder"], "detail-type": ["order.placed"]}"#)
        .send()
        .await
        .unwrap();
    events
        .put_targets()
        .rule(format!("placed-{name}"))
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
    // The app's relay publishes to a bus nobody answers for.
    let down = aws_sdk_eventbridge::config::Builder::from(&config)
        .endpoint_url("http://127.0.0.1:9")
        .retry_config(aws_sdk_eventbridge::config::retry::RetryConfig::disabled())
        .build();
    let broken: Arc<dyn Publisher> = Arc::new(EventBridge::new(
        aws_sdk_eventbridge::Client::from_conf(down),
        &bus,
        "fanorder",
    ));
    let app = TestApp::spawn_full(Store::Sqlite, |_| {}, Some(vec![broken]))
        .await
        .unwrap();
    let k = Kitchen::open(&app).await;
    let coke = item(&app, &k.r, json!({"name": "Cola", "price": 2500})).await;
    let mut placed = HashSet::new();
    for _ in 0..200 {
        let body = json!({"fulfillment": "pickup", "lines": [{"item_id": Kitchen::id(&coke), "quantity": 1}]});
        let order = app
            .call(
                Method::POST,
                "/v1/orders",
                Some(&k.customer.access),
                Some(body),
            )
            .await;
        placed.insert(order.expect(201)["id"].as_str().unwrap().to_owned());
    }
    // The bus comes back: a relay with a working publisher delivers what waited.
    let healthy: Arc<dyn Publisher> = Arc::new(EventBridge::new(events, &bus, "fanorder"));
    let relay = Relay::new(
        app.state.table.clone(),
        vec![healthy],
        app.state.clock.clone(),
    );
    let pass = relay.drain().await.unwrap();
    assert!(pass.delivered >= 200, "{pass:?}");
    let mut received = Vec::new();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    while received.len() < 200 && tokio::time::Instant::now() < deadline {
        let out = sqs
            .receive_message()
            .queue_url(&url)
            .max_number_of_messages(10)
            .wait_time_seconds(1)
            .send()
            .await
            .unwrap();
        for message in out.messages.unwrap_or_default() {
            let body: serde_json::Value =
                serde_json::from_str(message.body.as_deref().unwrap()).unwrap();
            received.push((
                body["detail"]["event_id"].as_str().unwrap().to_owned(),
                body["detail"]["data"]["order"]["id"]
                    .as_str()
                    .unwrap()
                    .to_owned(),
            ));
            sqs.delete_message()
                .queue_url(&url)
                .receipt_handle(message.receipt_handle.unwrap())
                .send()
                .await
                .unwrap();
        }
    }
    // Nothing more arrives later.
    let extra = sqs
        .receive_message()
        .queue_url(&url)
        .max_number_of_messages(10)
        .wait_time_seconds(2)
        .send()
        .await
        .unwrap();
    assert!(
        extra.messages.unwrap_or_default().is_empty(),
        "an event arrived twice"
    );
    let event_ids: HashSet<_> = received.iter().map(|(e, _)| e.clone()).collect();
    let order_ids: HashSet<_> = received.iter().map(|(_, o)| o.clone()).collect();
    assert_eq!(received.len(), 200);
    assert_eq!(event_ids.len(), 200);
    assert_eq!(
        order_ids, placed,
        "every order placed while the bus was down arrived"
    );
}
