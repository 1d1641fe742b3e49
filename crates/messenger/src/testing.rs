//! `FakeGraph`: a fake Graph API for tests, here and in the crates built on this one.
//!
//! It listens on 127.0.0.1 on a free port, records every request (method, path, query, JSON
//! body; access tokens redacted, kept only as a digest to check which token was used), and
//! answers like Facebook: a Send API call gets `{"recipient_id":..,"message_id":"m_<n>"}`,
//! handover calls `{"success":true}`, a profile lookup the names set with
//! [`FakeGraph::set_user_profile`]. Replies can be scripted ahead, with Facebook's real error
//! bodies ([`Reply::rate_limited_613`], [`Reply::outside_window`], ...) and delays.

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::net::SocketAddr;
use std::num::NonZeroU32;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, Method, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use crate::send::{GraphClient, GraphConfig, GraphConfigError};

/// What a token is replaced with in recorded requests.
pub const REDACTED: &str = "<redacted>";

/// One request the fake received.
#[derive(Debug, Clone, PartialEq)]
pub struct RecordedRequest {
    /// `GET`, `POST`...
    pub method: String,
    /// The path, e.g. `/1234/messages` (the fake has no version prefix).
    pub path: String,
    /// The query parameters (`access_token` redacted).
    pub query: BTreeMap<String, String>,
    /// The JSON body (`access_token` redacted); `Null` when there was none or it was not JSON.
    pub body: Value,
    /// SHA-256 (hex) of the access token, from the `Authorization: Bearer` header or an
    /// `access_token` parameter.
    token_digest: Option<String>,
}

impl RecordedRequest {
    /// True when the request carried exactly this access token.
    pub fn used_token(&self, token: &str) -> bool {
        self.token_digest.as_deref() == Some(digest(token).as_str())
    }

    /// True when the request carried any access token.
    pub fn had_token(&self) -> bool {
        self.token_digest.is_some()
    }

    /// `recipient.id` of the body, for Send API and handover calls.
    pub fn recipient(&self) -> Option<&str> {
        self.body.get("recipient")?.get("id")?.as_str()
    }

    /// The `message` object of a Send API call (not of a sender action).
    pub fn message(&self) -> Option<&Value> {
        self.body.get("message")
    }

    /// The `text` of a sent text message.
    pub fn text(&self) -> Option<&str> {
        self.message()?.get("text")?.as_str()
    }
}

/// A scripted answer.
#[derive(Debug, Clone, PartialEq)]
pub struct Reply {
    status: StatusCode,
    body: ReplyBody,
    delay: Duration,
}

#[derive(Debug, Clone, PartialEq)]
enum ReplyBody {
    Json(Value),
    Text(String),
}

impl Reply {
    /// A JSON answer with this status.
    pub fn json(status: u16, body: Value) -> Self {
        Self {
            status: StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR),
            body: ReplyBody::Json(body),
            delay: Duration::ZERO,
        }
    }

    /// A plain-text answer (a proxy's error page, say).
    pub fn text(status: u16, body: &str) -> Self {
        Self {
            body: ReplyBody::Text(body.to_owned()),
            ..Self::json(status, Value::Null)
        }
    }

    /// A successful Send API answer with this message id.
    pub fn sent(recipient_id: &str, message_id: &str) -> Self {
        Self::json(
            200,
            json!({"recipient_id": recipient_id, "message_id": message_id}),
        )
    }

    /// The same answer, after `delay` (longer than the client's timeout to make it time out).
    pub fn delayed(mut self, delay: Duration) -> Self {
        self.delay = delay;
        self
    }

    /// A Graph API error body: `{"error":{"message","type","code","error_subcode","fbtrace_id"}}`.
    pub fn graph_error(status: u16, code: i64, subcode: Option<i64>, message: &str) -> Self {
        let mut error = json!({
            "message": message,
            "type": "OAuthException",
            "code": code,
            "fbtrace_id": "AbCdEfGhIjK",
        });
        if let (Some(subcode), Value::Object(map)) = (subcode, &mut error) {
            map.insert("error_subcode".into(), json!(subcode));
        }
        Self::json(status, json!({ "error": error }))
    }

    /// Code 613: calls to the Send API exceeded its rate limit.
    pub fn rate_limited_613() -> Self {
        Self::graph_error(
            400,
            613,
            None,
            "(#613) Calls to this api have exceeded the rate limit.",
        )
    }

    /// Code 4: the app's request limit was reached.
    pub fn rate_limited_4() -> Self {
        Self::graph_error(403, 4, None, "(#4) Application request limit reached")
    }

    /// Code 1200: a temporary send failure.
    pub fn temporary_1200() -> Self {
        Self::graph_error(
            400,
            1200,
            None,
            "(#1200) Temporary send message failure. Please try again later",
        )
    }

    /// Code 2: an unexpected error, retry later.
    pub fn temporary_2() -> Self {
        Self::graph_error(
            500,
            2,
            None,
            "An unexpected error has occurred. Please retry your request later.",
        )
    }

    /// Code 10, subcode 2018278: outside the 24-hour window.
    pub fn outside_window() -> Self {
        Self::graph_error(
            400,
            10,
            Some(2_018_278),
            "(#10) This message is sent outside of allowed window. Learn more about the new policy here: https://developers.facebook.com/docs/messenger-platform/policy-overview",
        )
    }

    /// Code 551: the person cannot be messaged.
    pub fn user_unavailable() -> Self {
        Self::graph_error(
            400,
            551,
            Some(1_545_041),
            "(#551) This person isn't available right now.",
        )
    }

    /// Code 190: the access token expired.
    pub fn bad_token() -> Self {
        Self::graph_error(
            400,
            190,
            Some(463),
            "Error validating access token: Session has expired on Tuesday, 01-Jan-30 00:00:00 PST.",
        )
    }

    /// HTTP 500 with Graph's unknown-error body (code 1).
    pub fn server_error() -> Self {
        Self::graph_error(500, 1, None, "An unknown error has occurred.")
    }

    /// HTTP 503 with a non-JSON body, as a load balancer answers.
    pub fn unavailable() -> Self {
        Self::text(503, "Service Unavailable")
    }
}

#[derive(Default)]
struct FakeState {
    requests: Vec<RecordedRequest>,
    script: VecDeque<Reply>,
    profiles: HashMap<String, (String, String)>,
    sent: u64,
}

type Shared = Arc<Mutex<FakeState>>;

/// A fake Graph API on 127.0.0.1. Stops when dropped.
pub struct FakeGraph {
    addr: SocketAddr,
    state: Shared,
    server: tokio::task::JoinHandle<()>,
}

impl std::fmt::Debug for FakeGraph {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FakeGraph")
            .field("addr", &self.addr)
            .finish()
    }
}

impl FakeGraph {
    /// Starts the fake on a free port (call inside a Tokio runtime).
    pub async fn start() -> std::io::Result<Self> {
        let listener = tokio::net::TcpListener::bind(("127.0.0.1", 0)).await?;
        let addr = listener.local_addr()?;
        let state = Shared::default();
        let app = Router::new().fallback(handle).with_state(state.clone());
        let server = tokio::spawn(async move {
            if let Err(error) = axum::serve(listener, app).await {
                tracing::warn!(%error, "the fake Graph API stopped");
            }
        });
        Ok(Self {
            addr,
            state,
            server,
        })
    }

    /// The base URL to give the client (`http://127.0.0.1:<port>`).
    pub fn base_url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// A client configuration aimed at the fake, with test-friendly numbers: a 2 s timeout, a
    /// 5 ms backoff and a rate limit of 10,000 requests per second per page.
    pub fn config(&self) -> GraphConfig {
        GraphConfig {
            timeout: Duration::from_secs(2),
            backoff: Duration::from_millis(5),
            per_page_per_second: NonZeroU32::MIN.saturating_add(9_999),
            ..GraphConfig::with_base_url(&self.base_url())
        }
    }

    /// A client built from [`FakeGraph::config`].
    pub fn client(&self) -> Result<GraphClient, GraphConfigError> {
        GraphClient::new(self.config())
    }

    /// The next request (any path) gets `reply`; scripted replies are used in order, then the
    /// default answers resume.
    pub fn script(&self, reply: Reply) {
        self.script_n(1, reply);
    }

    /// The next `n` requests get `reply`.
    pub fn script_n(&self, n: usize, reply: Reply) {
        let mut state = self.lock();
        state.script.extend(std::iter::repeat_n(reply, n));
    }

    /// The names a profile lookup of `psid` answers (others get "Test" "Customer").
    pub fn set_user_profile(&self, psid: &str, first_name: &str, last_name: &str) {
        self.lock().profiles.insert(
            psid.to_owned(),
            (first_name.to_owned(), last_name.to_owned()),
        );
    }

    /// Every request received so far, oldest first.
    pub fn requests(&self) -> Vec<RecordedRequest> {
        self.lock().requests.clone()
    }

    /// How many requests were received.
    pub fn request_count(&self) -> usize {
        self.lock().requests.len()
    }

    /// The Send API calls that carried a message (not sender actions), oldest first.
    pub fn sent_messages(&self) -> Vec<RecordedRequest> {
        self.requests()
            .into_iter()
            .filter(|r| r.path.ends_with("/messages") && r.message().is_some())
            .collect()
    }

    /// Forgets the recorded requests and the scripted replies.
    pub fn reset(&self) {
        let mut state = self.lock();
        state.requests.clear();
        state.script.clear();
    }

    fn lock(&self) -> MutexGuard<'_, FakeState> {
        lock(&self.state)
    }
}

impl Drop for FakeGraph {
    fn drop(&mut self) {
        self.server.abort();
    }
}

fn lock(state: &Shared) -> MutexGuard<'_, FakeState> {
    // A test that panicked while holding the lock must not hide the other failures.
    state
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

fn digest(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

async fn handle(
    State(state): State<Shared>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let mut token = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .map(str::to_owned);
    let mut query: BTreeMap<String, String> = uri
        .query()
        .map(|q| {
            url::form_urlencoded::parse(q.as_bytes())
                .into_owned()
                .collect()
        })
        .unwrap_or_default();
    if let Some(value) = query.get_mut("access_token") {
        token.get_or_insert_with(|| value.clone());
        *value = REDACTED.to_owned();
    }
    let mut json: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
    if let Some(value) = json.get_mut("access_token") {
        if let Some(t) = value.as_str() {
            token.get_or_insert_with(|| t.to_owned());
        }
        *value = json!(REDACTED);
    }
    let request = RecordedRequest {
        method: method.to_string(),
        path: uri.path().to_owned(),
        query,
        body: json,
        token_digest: token.as_deref().map(digest),
    };

    let reply = {
        let mut state = lock(&state);
        let reply = state
            .script
            .pop_front()
            .unwrap_or_else(|| default_reply(&mut state, &request));
        state.requests.push(request);
        reply
    };
    if !reply.delay.is_zero() {
        tokio::time::sleep(reply.delay).await;
    }
    match reply.body {
        ReplyBody::Json(body) => (reply.status, axum::Json(body)).into_response(),
        ReplyBody::Text(text) => (reply.status, text).into_response(),
    }
}

fn default_reply(state: &mut FakeState, request: &RecordedRequest) -> Reply {
    let recipient = request.recipient().unwrap_or_default().to_owned();
    let path = request.path.as_str();
    if request.method == "GET" {
        let psid = path.trim_start_matches('/');
        let (first, last) = state
            .profiles
            .get(psid)
            .cloned()
            .unwrap_or_else(|| ("Test".to_owned(), "Customer".to_owned()));
        return Reply::json(
            200,
            json!({"first_name": first, "last_name": last, "id": psid}),
        );
    }
    if path.ends_with("/messages") && request.message().is_some() {
        state.sent += 1;
        return Reply::sent(&recipient, &format!("m_{}", state.sent));
    }
    if path.ends_with("/messages") {
        return Reply::json(200, json!({ "recipient_id": recipient }));
    }
    if path.ends_with("/messenger_profile") {
        return Reply::json(200, json!({"result": "success"}));
    }
    Reply::json(200, json!({"success": true}))
}

#[cfg(test)]
mod tests {
    use super::*;

    async fn post(fake: &FakeGraph, path_and_query: &str, body: Value) -> (u16, Value) {
        let response = reqwest::Client::new()
            .post(format!("{}{path_and_query}", fake.base_url()))
            .json(&body)
            .send()
            .await
            .expect("the fake answers");
        let status = response.status().as_u16();
        (status, response.json().await.unwrap_or(Value::Null))
    }

    #[tokio::test]
    async fn tokens_in_the_query_or_body_are_redacted_but_recognizable() {
        let fake = FakeGraph::start().await.expect("starts");
        post(
            &fake,
            "/1/messages?access_token=secret-1&x=y",
            json!({"recipient": {"id": "9"}}),
        )
        .await;
        post(
            &fake,
            "/1/messages",
            json!({"access_token": "secret-2", "message": {"text": "hi"}}),
        )
        .await;
        let requests = fake.requests();
        assert_eq!(
            requests[0].query.get("access_token").map(String::as_str),
            Some(REDACTED)
        );
        assert_eq!(requests[0].query.get("x").map(String::as_str), Some("y"));
        assert!(requests[0].used_token("secret-1"));
        assert_eq!(requests[1].body["access_token"], REDACTED);
        assert!(requests[1].used_token("secret-2"));
        assert!(!format!("{requests:?}").contains("secret"));
        assert_eq!(fake.sent_messages().len(), 1);
    }

    #[tokio::test]
    async fn default_answers_look_like_facebook() {
        let fake = FakeGraph::start().await.expect("starts");
        let message = json!({"recipient": {"id": "9"}, "message": {"text": "hi"}});
        assert_eq!(
            post(&fake, "/1/messages", message.clone()).await,
            (200, json!({"recipient_id": "9", "message_id": "m_1"}))
        );
        assert_eq!(
            post(&fake, "/1/messages", message).await.1["message_id"],
            "m_2"
        );
        let action = json!({"recipient": {"id": "9"}, "sender_action": "typing_on"});
        assert_eq!(
            post(&fake, "/1/messages", action).await,
            (200, json!({"recipient_id": "9"}))
        );
        assert_eq!(
            post(&fake, "/1/pass_thread_control", json!({})).await,
            (200, json!({"success": true}))
        );
        assert_eq!(
            post(&fake, "/1/messenger_profile", json!({})).await,
            (200, json!({"result": "success"}))
        );
        assert!(!fake.requests()[0].had_token());
    }

    #[tokio::test]
    async fn scripted_replies_come_first_and_in_order() {
        let fake = FakeGraph::start().await.expect("starts");
        fake.script(Reply::outside_window());
        fake.script(Reply::unavailable());
        let (status, body) = post(&fake, "/1/messages", json!({})).await;
        assert_eq!(status, 400);
        assert_eq!(body["error"]["code"], 10);
        assert_eq!(body["error"]["error_subcode"], 2_018_278);
        assert_eq!(body["error"]["type"], "OAuthException");
        assert_eq!(
            post(&fake, "/1/messages", json!({})).await,
            (503, Value::Null)
        );
        assert_eq!(post(&fake, "/1/x", json!({})).await.0, 200);
        fake.reset();
        assert_eq!(fake.request_count(), 0);
    }

    #[test]
    fn error_replies_carry_facebooks_codes() {
        let code = |reply: Reply| match reply.body {
            ReplyBody::Json(body) => (
                reply.status.as_u16(),
                body["error"]["code"].as_i64(),
                body["error"]["error_subcode"].as_i64(),
            ),
            ReplyBody::Text(_) => (reply.status.as_u16(), None, None),
        };
        assert_eq!(code(Reply::rate_limited_613()), (400, Some(613), None));
        assert_eq!(code(Reply::rate_limited_4()), (403, Some(4), None));
        assert_eq!(code(Reply::temporary_1200()), (400, Some(1200), None));
        assert_eq!(code(Reply::temporary_2()), (500, Some(2), None));
        assert_eq!(
            code(Reply::outside_window()),
            (400, Some(10), Some(2_018_278))
        );
        assert_eq!(
            code(Reply::user_unavailable()),
            (400, Some(551), Some(1_545_041))
        );
        assert_eq!(code(Reply::bad_token()), (400, Some(190), Some(463)));
        assert_eq!(code(Reply::server_error()), (500, Some(1), None));
        assert_eq!(code(Reply::unavailable()), (503, None, None));
    }
}
