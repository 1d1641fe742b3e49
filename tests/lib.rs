//! The black-box harness: the whole application on a random port, over real HTTP, on either
//! store. Tests live in `api/`; each spawns its own server and signs up its own restaurants,
//! so tests never share state.

pub mod capture;

use std::net::SocketAddr;
use std::time::Duration;

use fanorder_api::{AppState, build_router};
use fanorder_platform::auth::TokenKeys;
use fanorder_platform::{Clock, Config, Secret, Secrets, StoreUrl};
use fanorder_store::testing::{self, StoreKind, TestTable, fence};
use reqwest::Method;
use serde_json::{Value, json};

pub use fanorder_store::testing::StoreKind as Store;

/// What the api function's own role reaches (infra/cdk/lib/access.ts `API_PLATFORM_PARTITIONS`).
pub const API_OWN_PARTITIONS: [&str; 3] = ["SLUG#*", "PLATFORM", "PING"];

/// The master secret of every test app (so tests can forge and check tokens).
pub const MASTER_SECRET: [u8; 32] = [7u8; 32];

/// How every page access token in the tests begins (`EAAG`, as Facebook's do, then a marker
/// long enough that random base64 in tokens and cursors never contains it by chance); the
/// secret scan looks for it (see [`capture`]).
pub const PAGE_TOKEN_PREFIX: &str = "EAAGfanorderTestPageToken";

/// A page access token for the tests, ending in `tag`.
pub fn page_token(tag: &str) -> String {
    format!("{PAGE_TOKEN_PREFIX}{tag}")
}

/// A running application.
pub struct TestApp {
    /// Where it listens.
    pub addr: SocketAddr,
    /// A client with a timeout.
    pub http: reqwest::Client,
    /// The application state (store, clock), for assertions behind the API.
    pub state: AppState,
    _table: TestTable,
    _server: tokio::task::JoinHandle<()>,
}

impl Drop for TestApp {
    /// Fails the test when anything the application said since the last check carried a secret
    /// (see [`capture`]).
    fn drop(&mut self) {
        if std::thread::panicking() {
            return;
        }
        if let Err(leaks) = capture::scan() {
            panic!("secrets leaked:\n{leaks}");
        }
    }
}

/// A response: status, headers and JSON body (`Value::Null` when empty or not JSON).
#[derive(Debug)]
pub struct Reply {
    /// HTTP status.
    pub status: u16,
    /// Headers.
    pub headers: reqwest::header::HeaderMap,
    /// The body as JSON.
    pub body: Value,
    /// The body as text.
    pub text: String,
}

impl Reply {
    /// The header's value as text.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    /// Asserts a problem+json response with this status and code.
    pub fn assert_problem(&self, status: u16, code: &str) -> &Self {
        assert_eq!(
            self.status, status,
            "expected {status} {code}, got {}: {}",
            self.status, self.text
        );
        assert_eq!(
            self.header("content-type"),
            Some("application/problem+json"),
            "{}",
            self.text
        );
        assert_eq!(self.body["code"], code, "{}", self.text);
        assert_eq!(self.body["status"], status);
        self
    }

    /// Asserts the status and returns the body.
    pub fn expect(&self, status: u16) -> &Value {
        assert_eq!(
            self.status, status,
            "expected {status}, got {}: {}",
            self.status, self.text
        );
        &self.body
    }
}

/// An account and its tokens.
#[derive(Debug, Clone)]
pub struct Account {
    /// Account id.
    pub id: String,
    /// Login email.
    pub email: String,
    /// Password.
    pub password: String,
    /// Role.
    pub role: String,
    /// Current access token.
    pub access: String,
    /// Current refresh token.
    pub refresh: String,
}

/// A restaurant signed up by a test.
#[derive(Debug, Clone)]
pub struct Restaurant {
    /// Tenant id.
    pub id: String,
    /// Slug.
    pub slug: String,
    /// The owner (admin).
    pub admin: Account,
}

/// A fresh unique suffix for slugs and emails.
pub fn unique() -> String {
    fanorder_platform::id::new_ulid().to_string().to_lowercase()
}

impl TestApp {
    /// Starts the application on the given store, or `None` when that store is not available
    /// here (DynamoDB without an endpoint, outside scripts/test).
    pub async fn spawn(store: StoreKind) -> Option<TestApp> {
        Self::spawn_with(store, |_| {}).await
    }

    /// Like [`TestApp::spawn`], with a chance to change the configuration first.
    pub async fn spawn_with(
        store: StoreKind,
        configure: impl FnOnce(&mut Config),
    ) -> Option<TestApp> {
        Self::spawn_full(store, configure, None).await
    }

    /// Like [`TestApp::spawn_with`], with the event publishers chosen by the test (instead of
    /// those the configuration names).
    pub async fn spawn_full(
        store: StoreKind,
        configure: impl FnOnce(&mut Config),
        publishers: Option<Vec<std::sync::Arc<dyn fanorder_events::publish::Publisher>>>,
    ) -> Option<TestApp> {
        let secrets = Secrets::new(Secret::new(MASTER_SECRET.to_vec()));
        let clock = Clock::system();
        // A table of its own per app, on either store: the background workers (outbox relay,
        // bot) handle everything pending in their table, so apps sharing one would handle each
        // other's work with each other's configuration.
        let test_table = testing::table(store, clock.clone(), &secrets.derive("cursor"), None)
            .await
            .expect("test store")?;
        let mut config = Config {
            store: match store {
                StoreKind::Sqlite => StoreUrl::Sqlite("test.db".into()),
                StoreKind::Dynamodb => StoreUrl::Dynamodb("per-test".into()),
            },
            // Deactivations reach access tokens after this long; short so tests need not wait.
            auth_cache_ttl: fanorder_platform::config::HumanDuration(Duration::from_millis(300)),
            // Tests make many requests from one address and one restaurant; the limits have
            // tests of their own that turn them on.
            tenant_rate_per_second: 0,
            public_rate_per_minute: 0,
            ..Config::default()
        };
        configure(&mut config);
        let state =
            AppState::new(test_table.table.clone(), config, &secrets, clock).expect("state");
        let workers = match publishers {
            Some(publishers) => fanorder_api::workers::spawn_with(&state, publishers),
            None => fanorder_api::workers::spawn(&state).await,
        };
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let addr = listener.local_addr().expect("addr");
        capture::install();
        let app = build_router(state.clone())
            .layer(axum::middleware::from_fn(capture::record))
            .into_make_service_with_connect_info::<SocketAddr>();
        let server = tokio::spawn(async move {
            axum::serve(listener, app).await.expect("serve");
            workers.stop().await;
        });
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(30))
            .build()
            .expect("client");
        Some(TestApp {
            addr,
            http,
            state,
            _table: test_table,
            _server: server,
        })
    }

    /// The store this app runs on (to start another app like it).
    pub fn store(&self) -> StoreKind {
        match self.state.config.store {
            StoreUrl::Sqlite(_) => StoreKind::Sqlite,
            StoreUrl::Dynamodb(_) => StoreKind::Dynamodb,
        }
    }

    /// The application as the Lambda functions run it: stream delivery (nothing in the pending
    /// indexes) and no in-process workers, so new outbox and inbox items wait for a test to hand
    /// them to the stream processor. With `fenced` (DynamoDB only) the table goes through
    /// tenant-scoped sessions checked by [`fence::Fence`], the stand-in for the IAM policies of
    /// infra/cdk, as the api function does on AWS.
    pub async fn spawn_lambda(
        store: StoreKind,
        fenced: bool,
    ) -> Option<(TestApp, Option<fence::Fence>)> {
        let secrets = Secrets::new(Secret::new(MASTER_SECRET.to_vec()));
        let clock = Clock::system();
        let (test_table, fence) = if fenced {
            assert_eq!(
                store,
                StoreKind::Dynamodb,
                "the fence emulates IAM on DynamoDB"
            );
            if !testing::dynamodb_available() {
                return None;
            }
            let fence = fence::Fence::new(
                fanorder_store::dynamodb::client().await,
                &API_OWN_PARTITIONS,
            );
            let dynamo = fanorder_store::dynamodb::Dynamo::new(
                fence.own_client(),
                format!("test-{}", fanorder_platform::id::new_ulid()),
            )
            .with_sessions(fence.sessions());
            dynamo.migrate().await.expect("migrate");
            let table = fanorder_store::Table::new(
                std::sync::Arc::new(dynamo),
                &secrets.derive("cursor"),
                clock.clone(),
            );
            let test_table = TestTable {
                table,
                sqlite: None,
                dir: None,
            };
            (test_table, Some(fence))
        } else {
            let table = testing::table(store, clock.clone(), &secrets.derive("cursor"), None)
                .await
                .expect("test store")?;
            (table, None)
        };
        let config = Config {
            auth_cache_ttl: fanorder_platform::config::HumanDuration(Duration::from_millis(300)),
            ..Config::default()
        };
        let state = AppState::with_delivery(
            test_table.table.clone(),
            config,
            &secrets,
            clock,
            fanorder_events::Delivery::Stream,
        )
        .expect("state");
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let addr = listener.local_addr().expect("addr");
        capture::install();
        let app =
            fanorder_api::lambda::http::app(state.clone(), fanorder_api::lambda::http::Routes::Api)
                .layer(axum::middleware::from_fn(capture::record))
                .into_make_service_with_connect_info::<SocketAddr>();
        let server = tokio::spawn(async move {
            axum::serve(listener, app).await.expect("serve");
        });
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(30))
            .build()
            .expect("client");
        let app = TestApp {
            addr,
            http,
            state,
            _table: test_table,
            _server: server,
        };
        Some((app, fence))
    }

    /// The mock payment provider of the app (to sign payment notifications).
    pub fn mock_payments(&self) -> fanorder_orders::MockProvider {
        let secrets = Secrets::new(Secret::new(MASTER_SECRET.to_vec()));
        fanorder_orders::MockProvider::new(&secrets.derive("payments/mock"))
    }

    /// The token keys the app signs with (to forge tokens in tests).
    pub fn token_keys(&self) -> TokenKeys {
        let secrets = Secrets::new(Secret::new(MASTER_SECRET.to_vec()));
        TokenKeys::new(
            &secrets.jwt_keys,
            &secrets.jwt_signing_kid,
            "fanorder",
            "fanorder-api",
        )
        .expect("keys")
    }

    /// The absolute URL of a path.
    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    /// GET a path.
    pub async fn get(&self, path: &str) -> reqwest::Response {
        self.http.get(self.url(path)).send().await.expect("request")
    }

    /// Sends a request with an optional bearer token and JSON body.
    pub async fn call(
        &self,
        method: Method,
        path: &str,
        token: Option<&str>,
        body: Option<Value>,
    ) -> Reply {
        let mut request = self.http.request(method, self.url(path));
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        if let Some(body) = body {
            request = request.json(&body);
        }
        let response = request.send().await.expect("request");
        let status = response.status().as_u16();
        let headers = response.headers().clone();
        let text = response.text().await.expect("body");
        let body = serde_json::from_str(&text).unwrap_or(Value::Null);
        Reply {
            status,
            headers,
            body,
            text,
        }
    }

    /// Like [`TestApp::call`] for a response that never ends (a server-sent event stream):
    /// the status, the headers and what the body said within `window`.
    pub async fn call_briefly(
        &self,
        method: Method,
        path: &str,
        token: Option<&str>,
        window: Duration,
    ) -> Reply {
        let mut request = self.http.request(method, self.url(path));
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        let mut response = request.send().await.expect("request");
        let status = response.status().as_u16();
        let headers = response.headers().clone();
        let mut bytes = Vec::new();
        let deadline = tokio::time::Instant::now() + window;
        while let Ok(Ok(Some(chunk))) = tokio::time::timeout_at(deadline, response.chunk()).await {
            bytes.extend_from_slice(&chunk);
        }
        let text = String::from_utf8_lossy(&bytes).into_owned();
        let body = serde_json::from_str(&text).unwrap_or(Value::Null);
        Reply {
            status,
            headers,
            body,
            text,
        }
    }

    /// Signs up a new restaurant with a unique slug.
    pub async fn signup(&self) -> Restaurant {
        let suffix = unique();
        let slug = format!("r-{suffix}");
        let email = format!("owner-{suffix}@example.com");
        let password = "owner-password-1".to_owned();
        let reply = self
            .call(
                Method::POST,
                "/v1/tenants",
                None,
                Some(json!({
                    "name": "Test Kitchen", "slug": slug, "currency": "THB", "time_zone": "Asia/Bangkok",
                    "owner": {"email": email, "password": password, "name": "Owner"}
                })),
            )
            .await;
        let body = reply.expect(201);
        Restaurant {
            id: body["tenant"]["id"].as_str().expect("tenant id").to_owned(),
            slug,
            admin: Account {
                id: body["user"]["id"].as_str().expect("user id").to_owned(),
                email,
                password,
                role: "admin".to_owned(),
                access: body["access_token"].as_str().expect("access").to_owned(),
                refresh: body["refresh_token"].as_str().expect("refresh").to_owned(),
            },
        }
    }

    /// Adds a staff member with the role and logs them in.
    pub async fn add_staff(&self, restaurant: &Restaurant, role: &str) -> Account {
        let email = format!("{role}-{}@example.com", unique());
        let password = format!("{role}-password-1");
        let reply = self
            .call(
                Method::POST,
                "/v1/staff",
                Some(&restaurant.admin.access),
                Some(json!({"email": email, "name": role, "role": role, "password": password})),
            )
            .await;
        let id = reply.expect(201)["id"]
            .as_str()
            .expect("staff id")
            .to_owned();
        let mut account = self.login(&restaurant.slug, &email, &password).await;
        assert_eq!(account.id, id);
        account.role = role.to_owned();
        account
    }

    /// Registers a customer with the restaurant.
    pub async fn register_customer(&self, restaurant: &Restaurant) -> Account {
        let email = format!("customer-{}@example.com", unique());
        let password = "customer-password-1".to_owned();
        let reply = self
            .call(
                Method::POST,
                "/v1/customers",
                None,
                Some(json!({"tenant": restaurant.slug, "email": email, "password": password, "name": "Ana"})),
            )
            .await;
        let body = reply.expect(201);
        Account {
            id: body["user"]["id"].as_str().expect("id").to_owned(),
            email,
            password,
            role: "customer".to_owned(),
            access: body["access_token"].as_str().expect("access").to_owned(),
            refresh: body["refresh_token"].as_str().expect("refresh").to_owned(),
        }
    }

    /// Logs in and returns the account.
    pub async fn login(&self, slug: &str, email: &str, password: &str) -> Account {
        let reply = self
            .call(
                Method::POST,
                "/v1/auth/login",
                None,
                Some(json!({"tenant": slug, "email": email, "password": password})),
            )
            .await;
        let body = reply.expect(200);
        Account {
            id: body["user"]["id"].as_str().expect("id").to_owned(),
            email: email.to_owned(),
            password: password.to_owned(),
            role: body["user"]["role"].as_str().expect("role").to_owned(),
            access: body["access_token"].as_str().expect("access").to_owned(),
            refresh: body["refresh_token"].as_str().expect("refresh").to_owned(),
        }
    }
}

/// The secrets every test app runs with (webhook app secret, verify token, keys).
pub fn secrets() -> Secrets {
    Secrets::new(Secret::new(MASTER_SECRET.to_vec()))
}

/// A Facebook page id no other test uses (digits, like Facebook's).
pub fn page_id() -> String {
    let n = fanorder_platform::id::new_ulid().0 % 10u128.pow(15);
    format!("9{n:015}")
}

impl TestApp {
    /// Posts a webhook body with the given `X-Hub-Signature-256` (or none).
    pub async fn webhook_signed(&self, body: &[u8], signature: Option<&str>) -> Reply {
        let mut request = self
            .http
            .post(self.url("/webhooks/messenger"))
            .header("content-type", "application/json")
            .body(body.to_vec());
        if let Some(signature) = signature {
            request = request.header("x-hub-signature-256", signature);
        }
        let response = request.send().await.expect("request");
        let status = response.status().as_u16();
        let headers = response.headers().clone();
        let text = response.text().await.expect("body");
        let body = serde_json::from_str(&text).unwrap_or(Value::Null);
        Reply {
            status,
            headers,
            body,
            text,
        }
    }

    /// Posts a webhook body signed the way Facebook signs it.
    pub async fn webhook(&self, body: &[u8]) -> Reply {
        let signature = fanorder_messenger::sign(secrets().fb_app_secret.expose(), body);
        self.webhook_signed(body, Some(&signature)).await
    }

    /// Connects a new page to the restaurant (offline without a token); returns its id.
    pub async fn connect_page(
        &self,
        restaurant: &Restaurant,
        token: Option<&str>,
        settings: Value,
    ) -> String {
        let page = page_id();
        let mut body = json!({"page_id": page, "name": "Test page", "settings": settings});
        if let Some(token) = token {
            body["access_token"] = json!(token);
        }
        self.call(
            Method::POST,
            "/v1/pages",
            Some(&restaurant.admin.access),
            Some(body),
        )
        .await
        .expect(201);
        page
    }

    /// The messages of a conversation, oldest first (empty when there is none).
    pub async fn conversation(
        &self,
        restaurant: &Restaurant,
        page: &str,
        psid: &str,
    ) -> Vec<Value> {
        let path = format!("/v1/pages/{page}/conversations/{psid}/messages?limit=100");
        let reply = self
            .call(Method::GET, &path, Some(&restaurant.admin.access), None)
            .await;
        if reply.status == 404 {
            return Vec::new();
        }
        let mut items = reply.expect(200)["items"]
            .as_array()
            .unwrap_or(&Vec::new())
            .clone();
        items.reverse();
        items
    }

    /// A customer writes (or taps, or shares a location) at `at_ms`; waits until the bot has
    /// handled it and returns what the bot answered, in order.
    pub async fn customer_at(
        &self,
        restaurant: &Restaurant,
        page: &str,
        psid: &str,
        act: Act,
        at_ms: i64,
    ) -> Vec<Value> {
        let body = fanorder_api::simulate::payload(page, psid, &act, at_ms);
        let event = &body["entry"][0]["messaging"][0];
        let mid = event["message"]["mid"]
            .as_str()
            .or(event["postback"]["mid"].as_str())
            .expect("mid")
            .to_owned();
        self.webhook(body.to_string().as_bytes()).await.expect(200);
        let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
        loop {
            let messages = self.conversation(restaurant, page, psid).await;
            if let Some(at) = messages.iter().position(|m| m["mid"] == mid.as_str()) {
                return messages[at + 1..]
                    .iter()
                    .filter(|m| m["direction"] == "out")
                    .cloned()
                    .collect();
            }
            assert!(
                tokio::time::Instant::now() < deadline,
                "the bot did not handle {act:?} within 10 s"
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    /// A customer acts now; returns the bot's answer.
    pub async fn customer(
        &self,
        restaurant: &Restaurant,
        page: &str,
        psid: &str,
        act: Act,
    ) -> Vec<Value> {
        let now = jiff::Timestamp::now().as_millisecond();
        self.customer_at(restaurant, page, psid, act, now).await
    }

    /// Waits until the bot worker has handled every stored webhook event.
    pub async fn inbox_drained(&self) -> bool {
        eventually(Duration::from_secs(20), || async {
            for shard in 0..fanorder_pages::store::INBOX_SHARDS {
                let pending = fanorder_pages::store::pending_inbox(&self.state.table, shard, 1)
                    .await
                    .expect("pending");
                if !pending.is_empty() {
                    return false;
                }
            }
            true
        })
        .await
    }
}

/// The bot's messages as a person reads them (texts, cards, buttons, quick replies).
pub fn said(messages: &[Value]) -> String {
    messages
        .iter()
        .map(fanorder_api::simulate::render)
        .collect::<Vec<_>>()
        .join("\n")
}

/// The payload of the quick reply or button whose title starts with `title`, in the last
/// message that has one.
pub fn button(messages: &[Value], title: &str) -> String {
    let rendered = said(messages);
    let start = rendered
        .rfind(&format!("[{title}"))
        .unwrap_or_else(|| panic!("no button {title} in: {rendered}"));
    let rest = &rendered[start..];
    let arrow = rest.find(" → ").expect("arrow") + " → ".len();
    let end = rest.find(']').expect("closing bracket");
    rest[arrow..end].to_owned()
}

pub use fanorder_api::simulate::Act;

/// Polls `check` until it returns true or `within` passes; for effects that are allowed to take
/// a moment (a cache expiring), without fixed sleeps.
pub async fn eventually<F, Fut>(within: Duration, mut check: F) -> bool
where
    F: FnMut() -> Fut,
    Fut: Future<Output = bool>,
{
    let deadline = tokio::time::Instant::now() + within;
    loop {
        if check().await {
            return true;
        }
        if tokio::time::Instant::now() > deadline {
            return false;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// Checks that a response is problem+json with the status and code, and returns its body.
pub async fn expect_problem(response: reqwest::Response, status: u16, code: &str) -> Value {
    assert_eq!(response.status().as_u16(), status, "status");
    let content_type = response
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    assert_eq!(content_type, "application/problem+json");
    let body: Value = response.json().await.expect("problem body");
    assert_eq!(body["status"], status);
    assert_eq!(body["code"], code, "{body}");
    assert!(
        body["title"].is_string() && body["detail"].is_string() && body["type"].is_string(),
        "{body}"
    );
    body
}
