//! The Graph API client against `FakeGraph`: answers, retries, typed errors, timeouts, the
//! per-page rate limit, the profile cache, and that the token never leaks.

use std::num::NonZeroU32;
use std::time::{Duration, Instant};

use fanorder_messenger::send::{
    Button, Greeting, MenuItem, MessageTag, MessengerProfile, Payload, PersistentMenu,
};
use fanorder_messenger::testing::{FakeGraph, Reply};
use fanorder_messenger::{
    GraphClient, GraphConfig, MessagingType, OutgoingMessage, PAGE_INBOX_APP_ID, PageToken,
    SendError, Typing, UserProfile,
};
use serde_json::json;

const TOKEN: &str = "EAAB-page-token-do-not-leak";

fn page() -> PageToken {
    PageToken::new("1001", TOKEN)
}

async fn fake() -> (FakeGraph, GraphClient) {
    let fake = FakeGraph::start().await.expect("the fake starts");
    let client = fake.client().expect("a client");
    (fake, client)
}

async fn send_hello(client: &GraphClient) -> Result<String, SendError> {
    client
        .send_message(
            &page(),
            "2002",
            &OutgoingMessage::text("hello"),
            MessagingType::Response,
        )
        .await
}

#[tokio::test]
async fn a_message_is_sent_with_the_token_in_a_header_and_its_id_returned() {
    let (fake, client) = fake().await;
    let id = send_hello(&client).await.expect("sent");
    assert_eq!(id, "m_1");
    assert_eq!(send_hello(&client).await.expect("sent"), "m_2");

    let requests = fake.requests();
    assert_eq!(requests.len(), 2);
    let request = &requests[0];
    assert_eq!(request.method, "POST");
    assert_eq!(request.path, "/1001/messages");
    assert!(
        request.query.is_empty(),
        "no token in the URL: {:?}",
        request.query
    );
    assert!(request.used_token(TOKEN));
    assert!(!request.used_token("another"));
    assert_eq!(
        request.body,
        json!({"recipient": {"id": "2002"}, "messaging_type": "RESPONSE",
               "message": {"text": "hello"}})
    );
    assert_eq!(fake.sent_messages().len(), 2);
    assert_eq!(fake.sent_messages()[0].text(), Some("hello"));
}

#[tokio::test]
async fn an_order_update_outside_the_window_is_tagged() {
    let (fake, client) = fake().await;
    client
        .send_message(
            &page(),
            "2002",
            &OutgoingMessage::text("Your order is out for delivery"),
            MessagingType::Tag(MessageTag::PostPurchaseUpdate),
        )
        .await
        .expect("sent");
    let body = &fake.requests()[0].body;
    assert_eq!(body["messaging_type"], "MESSAGE_TAG");
    assert_eq!(body["tag"], "POST_PURCHASE_UPDATE");
}

#[tokio::test]
async fn each_retryable_error_is_retried_until_it_succeeds() {
    for reply in [
        Reply::rate_limited_613(),
        Reply::rate_limited_4(),
        Reply::temporary_1200(),
        Reply::temporary_2(),
        Reply::server_error(),
        Reply::unavailable(),
        Reply::text(429, "slow down"),
    ] {
        let (fake, client) = fake().await;
        fake.script_n(2, reply.clone());
        let id = send_hello(&client)
            .await
            .unwrap_or_else(|e| panic!("{reply:?}: {e}"));
        assert_eq!(id, "m_1", "{reply:?}");
        assert_eq!(fake.request_count(), 3, "{reply:?}");
    }
}

#[tokio::test]
async fn retryable_errors_give_up_after_three_attempts() {
    for (reply, expected) in [
        (Reply::rate_limited_613(), SendError::RateLimited),
        (Reply::rate_limited_4(), SendError::RateLimited),
        (Reply::temporary_1200(), SendError::Temporary),
        (Reply::temporary_2(), SendError::Temporary),
        (Reply::server_error(), SendError::Temporary),
    ] {
        let (fake, client) = fake().await;
        fake.script_n(3, reply.clone());
        assert_eq!(send_hello(&client).await, Err(expected), "{reply:?}");
        assert_eq!(fake.request_count(), 3, "{reply:?}");
    }
}

#[tokio::test]
async fn non_retryable_errors_are_typed_and_not_retried() {
    for (reply, expected) in [
        (Reply::outside_window(), SendError::OutsideWindow),
        (Reply::user_unavailable(), SendError::UserUnavailable),
        (Reply::bad_token(), SendError::BadToken),
        (
            Reply::graph_error(400, 100, Some(2_018_001), "(#100) No matching user found"),
            SendError::Rejected {
                code: 100,
                subcode: Some(2_018_001),
                message: "(#100) No matching user found".into(),
            },
        ),
        (
            Reply::graph_error(400, 10, None, "(#10) Requires pages_messaging permission"),
            SendError::Rejected {
                code: 10,
                subcode: None,
                message: "(#10) Requires pages_messaging permission".into(),
            },
        ),
    ] {
        let (fake, client) = fake().await;
        fake.script(reply.clone());
        assert_eq!(send_hello(&client).await, Err(expected), "{reply:?}");
        assert_eq!(fake.request_count(), 1, "{reply:?}");
    }
}

#[tokio::test]
async fn a_success_without_a_message_id_is_a_bad_response_and_not_retried() {
    let (fake, client) = fake().await;
    fake.script(Reply::json(200, json!({"recipient_id": "2002"})));
    assert!(matches!(
        send_hello(&client).await,
        Err(SendError::BadResponse(_))
    ));
    fake.script(Reply::text(200, "ok"));
    assert!(matches!(
        send_hello(&client).await,
        Err(SendError::BadResponse(_))
    ));
    assert_eq!(fake.request_count(), 2);
}

fn fast_timeout(fake: &FakeGraph) -> GraphClient {
    GraphClient::new(GraphConfig {
        timeout: Duration::from_millis(200),
        ..fake.config()
    })
    .expect("a client")
}

#[tokio::test]
async fn a_slow_answer_times_out_and_is_retried() {
    let fake = FakeGraph::start().await.expect("the fake starts");
    let client = fast_timeout(&fake);
    fake.script(Reply::sent("2002", "m_slow").delayed(Duration::from_secs(5)));
    assert_eq!(send_hello(&client).await.expect("sent on the retry"), "m_1");
    assert_eq!(fake.request_count(), 2);
}

#[tokio::test]
async fn a_call_that_always_times_out_fails_as_a_network_error_after_three_attempts() {
    let fake = FakeGraph::start().await.expect("the fake starts");
    let client = fast_timeout(&fake);
    fake.script_n(
        3,
        Reply::sent("2002", "m_slow").delayed(Duration::from_secs(5)),
    );
    let started = Instant::now();
    let error = send_hello(&client).await.expect_err("times out");
    assert!(
        matches!(&error, SendError::Network(text) if text.contains("timed out")),
        "{error}"
    );
    assert_eq!(fake.request_count(), 3);
    assert!(
        started.elapsed() < Duration::from_secs(3),
        "{:?}",
        started.elapsed()
    );
}

#[tokio::test]
async fn an_unreachable_api_is_a_network_error() {
    // A port nobody listens on: bind one, then free it.
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("a free port");
    let port = listener.local_addr().expect("an address").port();
    drop(listener);
    let client = GraphClient::new(GraphConfig {
        backoff: Duration::from_millis(1),
        ..GraphConfig::with_base_url(&format!("http://127.0.0.1:{port}/v26.0"))
    })
    .expect("a client");
    let error = send_hello(&client).await.expect_err("nobody listens");
    assert!(matches!(error, SendError::Network(_)), "{error}");
    assert!(!error.to_string().contains(TOKEN));
}

#[tokio::test]
async fn the_token_never_appears_in_error_texts() {
    let (fake, client) = fake().await;
    let leaky = Reply::graph_error(
        400,
        100,
        None,
        &format!("Invalid parameter access_token={TOKEN}"),
    );
    for reply in [
        leaky,
        Reply::outside_window(),
        Reply::user_unavailable(),
        Reply::bad_token(),
        Reply::text(404, TOKEN),
    ] {
        fake.script(reply.clone());
        let error = send_hello(&client).await.expect_err("an error");
        assert!(!error.to_string().contains(TOKEN), "{error}");
        assert!(!format!("{error:?}").contains(TOKEN), "{error:?}");
    }
    fake.script_n(3, Reply::rate_limited_613());
    let error = send_hello(&client).await.expect_err("rate limited");
    assert!(!error.to_string().contains(TOKEN));
    // Nor in the recorded requests or the page's debug text.
    assert!(!format!("{:?}", fake.requests()).contains(TOKEN));
    assert!(!format!("{:?}", page()).contains(TOKEN));
    assert!(!format!("{client:?}").contains(TOKEN));
}

#[tokio::test]
async fn the_per_page_rate_limit_waits_instead_of_failing() {
    let fake = FakeGraph::start().await.expect("the fake starts");
    let client = GraphClient::new(GraphConfig {
        per_page_per_second: NonZeroU32::MIN,
        ..fake.config()
    })
    .expect("a client");
    let started = Instant::now();
    for _ in 0..2 {
        send_hello(&client).await.expect("sent, if late");
    }
    // One request per second: the second waits about a second, and does not fail.
    let elapsed = started.elapsed();
    assert!(elapsed >= Duration::from_millis(900), "{elapsed:?}");
    assert_eq!(fake.request_count(), 2);

    // Another page has its own budget: it goes at once although this one is spent.
    let other = PageToken::new("3003", "another-token");
    let started = Instant::now();
    client
        .send_message(
            &other,
            "2002",
            &OutgoingMessage::text("hi"),
            MessagingType::Update,
        )
        .await
        .expect("sent");
    assert!(
        started.elapsed() < Duration::from_millis(700),
        "{:?}",
        started.elapsed()
    );
    assert!(fake.requests()[2].used_token("another-token"));
    assert_eq!(fake.requests()[2].path, "/3003/messages");
}

#[tokio::test]
async fn sender_actions_are_posted_to_the_messages_edge() {
    let (fake, client) = fake().await;
    for action in [Typing::On, Typing::Off, Typing::MarkSeen] {
        client
            .sender_action(&page(), "2002", action)
            .await
            .expect("done");
    }
    let bodies: Vec<_> = fake.requests().into_iter().map(|r| r.body).collect();
    assert_eq!(
        bodies,
        vec![
            json!({"recipient": {"id": "2002"}, "sender_action": "typing_on"}),
            json!({"recipient": {"id": "2002"}, "sender_action": "typing_off"}),
            json!({"recipient": {"id": "2002"}, "sender_action": "mark_seen"}),
        ]
    );
    assert!(fake.sent_messages().is_empty());
}

#[tokio::test]
async fn thread_control_is_passed_to_the_inbox_and_taken_back() {
    let (fake, client) = fake().await;
    client
        .pass_thread_control(
            &page(),
            "2002",
            PAGE_INBOX_APP_ID,
            Some("customer asked for a person"),
        )
        .await
        .expect("passed");
    client
        .take_thread_control(&page(), "2002", None)
        .await
        .expect("taken");
    let requests = fake.requests();
    assert_eq!(requests[0].path, "/1001/pass_thread_control");
    assert_eq!(
        requests[0].body,
        json!({"recipient": {"id": "2002"}, "target_app_id": "263902037430900",
               "metadata": "customer asked for a person"})
    );
    assert_eq!(requests[1].path, "/1001/take_thread_control");
    assert_eq!(requests[1].body, json!({"recipient": {"id": "2002"}}));
}

#[tokio::test]
async fn the_messenger_profile_is_posted_whole() {
    let (fake, client) = fake().await;
    let menu = Payload::new("MENU").expect("payload");
    let profile = MessengerProfile {
        get_started: Some(Payload::new("GET_STARTED").expect("payload")),
        greeting: Some(Greeting::new("Hi!").locale("es_LA", "¡Hola!")),
        persistent_menu: Some(PersistentMenu::new([MenuItem::postback("Menu", menu)])),
        ice_breakers: None,
    };
    client
        .set_messenger_profile(&page(), &profile)
        .await
        .expect("set");
    let request = &fake.requests()[0];
    assert_eq!(request.path, "/1001/messenger_profile");
    assert_eq!(request.body, profile.to_json());
    assert_eq!(
        request.body["greeting"][1],
        json!({"locale": "es_LA", "text": "¡Hola!"})
    );
}

#[tokio::test]
async fn user_profiles_are_fetched_once_per_page_and_customer() {
    let (fake, client) = fake().await;
    fake.set_user_profile("2002", "Ana", "Lima");
    let expected = UserProfile {
        first_name: Some("Ana".into()),
        last_name: Some("Lima".into()),
    };
    assert_eq!(
        client.user_profile(&page(), "2002").await,
        Ok(expected.clone())
    );
    assert_eq!(client.user_profile(&page(), "2002").await, Ok(expected));
    assert_eq!(fake.request_count(), 1);
    let request = &fake.requests()[0];
    assert_eq!(request.method, "GET");
    assert_eq!(request.path, "/2002");
    assert_eq!(
        request.query.get("fields").map(String::as_str),
        Some("first_name,last_name")
    );

    // Another page has its own PSIDs.
    let other = PageToken::new("3003", "t");
    client.user_profile(&other, "2002").await.expect("profile");
    assert_eq!(fake.request_count(), 2);
}

#[tokio::test]
async fn a_failed_profile_lookup_is_not_cached() {
    let (fake, client) = fake().await;
    fake.script(Reply::bad_token());
    assert_eq!(
        client.user_profile(&page(), "2002").await,
        Err(SendError::BadToken)
    );
    let profile = client.user_profile(&page(), "2002").await.expect("profile");
    assert_eq!(profile.first_name.as_deref(), Some("Test"));
    assert_eq!(fake.request_count(), 2);
}

#[tokio::test]
async fn templates_reach_the_api_as_built() {
    let (fake, client) = fake().await;
    let message = OutgoingMessage::buttons(
        "What next?",
        [Button::postback(
            "Menu",
            Payload::new("MENU").expect("payload"),
        )],
    )
    .expect("a button");
    client
        .send_message(&page(), "2002", &message, MessagingType::Response)
        .await
        .expect("sent");
    assert_eq!(fake.sent_messages()[0].message(), Some(&message.to_json()));
}
