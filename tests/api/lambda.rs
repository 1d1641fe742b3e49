//! The Lambda side, as the functions run it: stream delivery with no in-process workers, the
//! stream processor fed real DynamoDB stream records (NEW_IMAGE) of the items the API just
//! wrote, the scheduled sweep fed an EventBridge event, and tenant-scoped DynamoDB sessions
//! checked against a stand-in for the IAM policies of infra/cdk.

use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use aws_lambda_events::event::dynamodb::Event as StreamEvent;
use fanorder_api::lambda::stream::Processor;
use fanorder_blackbox::{Restaurant, Store, TestApp, said};
use fanorder_events::Event;
use fanorder_events::publish::Publisher;
use fanorder_platform::tenancy::Scope;
use fanorder_store::{Item, Query};
use reqwest::Method;
use serde_json::{Value, json};

mod sqlite {
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn the_stream_processor_publishes_new_outbox_events_and_reports_the_failed_ones() {
        super::outbox_relay(super::Store::Sqlite).await;
    }
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn the_stream_processor_answers_an_inbound_message_once() {
        super::inbox(super::Store::Sqlite).await;
    }
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn the_schedule_notices_late_orders_through_the_outbox() {
        super::late_sweep(super::Store::Sqlite).await;
    }
}

mod dynamodb {
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn the_stream_processor_publishes_new_outbox_events_and_reports_the_failed_ones() {
        super::outbox_relay(super::Store::Dynamodb).await;
    }
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn the_stream_processor_answers_an_inbound_message_once() {
        super::inbox(super::Store::Dynamodb).await;
    }
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn the_schedule_notices_late_orders_through_the_outbox() {
        super::late_sweep(super::Store::Dynamodb).await;
    }
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn tenant_sessions_keep_every_request_inside_its_own_tenant() {
        super::tenant_sessions().await;
    }
}

/// The items of a tenant whose sort key starts with `prefix`, oldest first (read acting for
/// that tenant, as the test looks behind the API).
async fn items(app: &TestApp, tenant: &str, prefix: &str) -> Vec<Item> {
    let query = Query::table(format!("T#{tenant}"))
        .begins_with(prefix)
        .limit(100);
    let scope = Scope::tenant(tenant.parse().unwrap());
    let page = fanorder_platform::tenancy::within(scope, app.state.table.query(&query, None));
    page.await.unwrap().items
}

/// A DynamoDB stream event as Lambda delivers it: INSERT records with Keys and NewImage in
/// DynamoDB JSON, one per item, with increasing sequence numbers.
fn stream_event(items: &[Item]) -> (StreamEvent, Vec<String>) {
    let mut sequences = Vec::new();
    let records: Vec<Value> = items
        .iter()
        .enumerate()
        .map(|(i, item)| {
            let sequence = format!("{:021}", 4_000_000_000_000_000_000u64 + i as u64);
            sequences.push(sequence.clone());
            let image = serde_json::to_value(item).unwrap();
            json!({
                "eventID": format!("c4ca4238a0b923820dcc509a6f75849{i}"),
                "eventName": "INSERT",
                "eventVersion": "1.1",
                "eventSource": "aws:dynamodb",
                "awsRegion": "us-east-1",
                "dynamodb": {
                    "ApproximateCreationDateTime": 1_764_000_000,
                    "Keys": {"tenant_id": image["tenant_id"], "sk": image["sk"]},
                    "NewImage": image,
                    "SequenceNumber": sequence,
                    "SizeBytes": 512,
                    "StreamViewType": "NEW_IMAGE"
                },
                "eventSourceARN": "arn:aws:dynamodb:us-east-1:123456789012:table/fanorder/stream/2026-01-01T00:00:00.000"
            })
        })
        .collect();
    let event = serde_json::from_value(json!({ "Records": records })).unwrap();
    (event, sequences)
}

fn failures(response: &impl serde::Serialize) -> Vec<String> {
    let value = serde_json::to_value(response).unwrap();
    value["batchItemFailures"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["itemIdentifier"].as_str().unwrap().to_owned())
        .collect()
}

/// A publisher that records what it accepted and refuses the event types it is told to.
#[derive(Default)]
struct Recording {
    accepted: Mutex<Vec<Event>>,
    refuse: Mutex<Vec<String>>,
}

#[async_trait]
impl Publisher for Recording {
    fn name(&self) -> &'static str {
        "recording"
    }
    fn wants(&self, _event: &Event) -> bool {
        true
    }
    async fn publish(&self, events: &[&Event]) -> Vec<bool> {
        let refuse = self.refuse.lock().unwrap().clone();
        events
            .iter()
            .map(|event| {
                let ok = !refuse.contains(&event.event_type);
                if ok {
                    self.accepted.lock().unwrap().push((*event).clone());
                }
                ok
            })
            .collect()
    }
}

async fn outbox_relay(store: Store) {
    let Some((app, _)) = TestApp::spawn_lambda(store, false).await else {
        return;
    };
    let r = app.signup().await;
    app.add_staff(&r, "cook").await;
    let outbox = items(&app, &r.id, "OUTBOX#").await;
    let types: Vec<String> = outbox
        .iter()
        .map(|i| {
            fanorder_events::outbox::event_of(i.clone())
                .unwrap()
                .event_type
        })
        .collect();
    assert_eq!(types, ["tenant.created", "staff.added", "staff.added"]);
    for item in &outbox {
        assert!(
            !item.contains_key("gsi1pk"),
            "stream delivery writes no pending index"
        );
    }
    let recording = Arc::new(Recording::default());
    let processor = Processor::new(
        app.state.table.clone(),
        app.state.bot(),
        vec![recording.clone()],
    );

    // Everything accepted: no failures, each event published once, in order.
    let (event, _) = stream_event(&outbox);
    assert!(failures(&processor.handle(event).await).is_empty());
    let published: Vec<String> = recording
        .accepted
        .lock()
        .unwrap()
        .iter()
        .map(|e| e.event_type.clone())
        .collect();
    assert_eq!(published, types);

    // The second record is refused: it and everything after it are reported, so Lambda
    // retries from there and nothing is lost.
    recording.accepted.lock().unwrap().clear();
    *recording.refuse.lock().unwrap() = vec!["staff.added".to_owned()];
    let (event, sequences) = stream_event(&outbox);
    assert_eq!(
        failures(&processor.handle(event).await),
        sequences[1..].to_vec()
    );

    // A record of another kind is skipped; an unreadable one is reported.
    recording.refuse.lock().unwrap().clear();
    let profile = app
        .state
        .table
        .get(&fanorder_store::Key::new(format!("T#{}", r.id), "PROFILE"))
        .await
        .unwrap()
        .unwrap();
    let mut broken = outbox[0].clone();
    broken.insert("detail".into(), fanorder_store::s("not json"));
    let (event, sequences) = stream_event(&[profile, outbox[0].clone(), broken]);
    assert_eq!(
        failures(&processor.handle(event).await),
        vec![sequences[2].clone()]
    );
}

async fn inbox(store: Store) {
    let Some((app, _)) = TestApp::spawn_lambda(store, false).await else {
        return;
    };
    let r = app.signup().await;
    let page = app.connect_page(&r, None, json!({})).await;
    let body = fanorder_api::simulate::payload(
        &page,
        "7001",
        &fanorder_blackbox::Act::Text("hi".to_owned()),
        1_764_000_000_000,
    );
    app.webhook(body.to_string().as_bytes()).await.expect(200);
    let inbox = items(&app, &r.id, "INBOX#").await;
    assert_eq!(inbox.len(), 1);
    assert!(!inbox[0].contains_key("gsi1pk"), "no pending index on AWS");
    assert!(
        app.conversation(&r, &page, "7001").await.len() <= 1,
        "nothing answers before the stream processor runs"
    );

    let processor = Processor::new(app.state.table.clone(), app.state.bot(), Vec::new());
    let (event, _) = stream_event(&inbox);
    assert!(failures(&processor.handle(event).await).is_empty());
    let messages = app.conversation(&r, &page, "7001").await;
    let answered = said(&messages);
    assert!(messages.len() >= 2, "the bot answered: {answered}");
    // Lambda may deliver a record again: the event is claimed once, nothing is said twice.
    let (event, _) = stream_event(&inbox);
    assert!(failures(&processor.handle(event).await).is_empty());
    assert_eq!(
        app.conversation(&r, &page, "7001").await.len(),
        messages.len()
    );
    let claimed = items(&app, &r.id, "INBOX#").await;
    assert!(claimed[0].contains_key("handled_at"));
}

async fn late_sweep(store: Store) {
    let Some((app, _)) = TestApp::spawn_lambda(store, false).await else {
        return;
    };
    let r = app.signup().await;
    let admin = Some(r.admin.access.as_str());
    let item = app
        .call(
            Method::POST,
            "/v1/menu/items",
            admin,
            Some(json!({"name": "Coke", "price": 3000})),
        )
        .await;
    let item_id = item.expect(201)["id"].as_str().unwrap().to_owned();
    let order = app
        .call(
            Method::POST,
            "/v1/orders",
            admin,
            Some(json!({"fulfillment": "pickup", "payment_method": "cash",
                "lines": [{"item_id": item_id, "quantity": 1}]})),
        )
        .await;
    assert_eq!(order.expect(201)["status"], "PAID");

    // An EventBridge scheduled event, as a rule delivers it (Scheduler sends `{}` by default).
    let scheduled = json!({
        "version": "0", "id": "53dc4d37-cffa-4f76-80c9-8b7d4a4d2eaa",
        "detail-type": "Scheduled Event", "source": "aws.events",
        "account": "123456789012", "time": "2026-03-10T12:00:00Z", "region": "us-east-1",
        "resources": ["arn:aws:events:us-east-1:123456789012:rule/fanorder-late"], "detail": {}
    });
    let swept = fanorder_api::lambda::schedule::handle(&app.state, scheduled.clone())
        .await
        .unwrap();
    assert_eq!(swept.noticed, 0, "not late yet");
    // The state's clock is the system clock: look from eleven minutes ahead instead.
    let later = app.state.with_clock(fanorder_platform::Clock::manual(
        app.state.clock.now() + jiff::SignedDuration::from_mins(11),
    ));
    let swept = fanorder_api::lambda::schedule::handle(&later, json!({}))
        .await
        .unwrap();
    assert_eq!(swept.noticed, 1);
    let again = fanorder_api::lambda::schedule::handle(&later, scheduled)
        .await
        .unwrap();
    assert_eq!(again.noticed, 0, "one notice per order");
    let late: Vec<Item> = items(&app, &r.id, "OUTBOX#")
        .await
        .into_iter()
        .filter(|i| {
            fanorder_events::outbox::event_of(i.clone())
                .unwrap()
                .event_type
                == "order.late"
        })
        .collect();
    assert_eq!(late.len(), 1);
    assert!(!late[0].contains_key("gsi1pk"), "the stream relays it");
}

/// Everything a restaurant does over the API, as one tenant.
async fn a_restaurant_day(app: &TestApp, r: &Restaurant) {
    let admin = Some(r.admin.access.as_str());
    let cook = app.add_staff(r, "cook").await;
    app.register_customer(r).await;
    let again = app.login(&r.slug, &r.admin.email, &r.admin.password).await;
    let refreshed = app
        .call(
            Method::POST,
            "/v1/auth/refresh",
            None,
            Some(json!({"refresh_token": again.refresh})),
        )
        .await;
    let refresh = refreshed.expect(200)["refresh_token"]
        .as_str()
        .unwrap()
        .to_owned();
    app.call(
        Method::POST,
        "/v1/auth/logout",
        None,
        Some(json!({"refresh_token": refresh})),
    )
    .await
    .expect(204);
    let item = app
        .call(
            Method::POST,
            "/v1/menu/items",
            admin,
            Some(json!({"name": "Pad thai", "price": 12000})),
        )
        .await;
    let item_id = item.expect(201)["id"].as_str().unwrap().to_owned();
    app.call(Method::GET, "/v1/menu", Some(&cook.access), None)
        .await
        .expect(200);
    let order = app
        .call(
            Method::POST,
            "/v1/orders",
            admin,
            Some(json!({"fulfillment": "pickup", "payment_method": "cash",
                "lines": [{"item_id": item_id, "quantity": 2}]})),
        )
        .await;
    let order = order.expect(201).clone();
    let id = order["id"].as_str().unwrap();
    app.call(
        Method::POST,
        &format!("/v1/orders/{id}/transitions"),
        Some(&cook.access),
        Some(json!({"to": "IN_KITCHEN", "version": order["version"]})),
    )
    .await
    .expect(200);
    app.call(
        Method::GET,
        "/v1/orders?status=IN_KITCHEN",
        Some(&cook.access),
        None,
    )
    .await
    .expect(200);
    let tenant = app.call(Method::GET, "/v1/tenant", admin, None).await;
    let version = tenant.expect(200)["version"].clone();
    app.call(
        Method::PATCH,
        "/v1/tenant",
        admin,
        Some(json!({"name": "Renamed Kitchen", "version": version})),
    )
    .await
    .expect(200);
    let page = app.connect_page(r, None, json!({})).await;
    app.call(Method::GET, "/v1/pages", admin, None)
        .await
        .expect(200);
    app.call(Method::DELETE, &format!("/v1/pages/{page}"), admin, None)
        .await
        .expect(204);
    app.call(Method::GET, "/v1/events", admin, None)
        .await
        .expect(200);
}

async fn tenant_sessions() {
    let Some((app, fence)) = TestApp::spawn_lambda(Store::Dynamodb, true).await else {
        return;
    };
    let fence = fence.unwrap();
    app.get("/readyz").await.error_for_status().unwrap();
    let (a, b) = tokio::join!(app.signup(), app.signup());
    tokio::join!(a_restaurant_day(&app, &a), a_restaurant_day(&app, &b));

    // A's token cannot reach B's order (404, like a missing one): the session never named it.
    let order = items(&app, &b.id, "ORDER#").await;
    let Some(fanorder_store::Value::S(b_order)) = order[0].get("id").cloned() else {
        panic!("an order id");
    };
    let reply = app
        .call(
            Method::GET,
            &format!("/v1/orders/{b_order}"),
            Some(&a.admin.access),
            None,
        )
        .await;
    reply.assert_problem(404, "not_found");

    let calls = fence.calls();
    let refused = fence.refused();
    assert!(
        refused.is_empty(),
        "refused by the tenant policy: {refused:#?}"
    );
    let tenant_of = |partition: &str| {
        partition
            .strip_prefix("T#")
            .map(|rest| rest.split('#').next().unwrap_or_default().to_owned())
    };
    let mut per_tenant = [0usize; 2];
    for call in &calls {
        match (&call.scope, tenant_of(&call.partition)) {
            (Some(scope), Some(tenant)) => {
                assert_eq!(scope.tenant.to_string(), tenant, "{call:?}");
                let i = usize::from(tenant == b.id);
                per_tenant[i] += 1;
            }
            (Some(scope), None) => assert!(scope.is_guarded(), "{call:?}"),
            (None, Some(_)) => panic!("a tenant item read with the function's own role: {call:?}"),
            (None, None) => {}
        }
    }
    assert!(per_tenant[0] > 20 && per_tenant[1] > 20, "{per_tenant:?}");
    // The guarded sessions were the three kinds, each limited to its own item.
    let guarded: Vec<&Scope> = calls
        .iter()
        .filter_map(|c| c.scope.as_ref().filter(|s| s.is_guarded()))
        .collect();
    assert!(
        guarded
            .iter()
            .any(|s| s.slug.as_deref() == Some(a.slug.as_str()))
    );
    assert!(guarded.iter().any(|s| s.page.is_some()));
    assert!(guarded.iter().any(|s| s.directory && s.slug.is_none()));
}
