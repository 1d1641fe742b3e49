//! The black-box harness: the whole application on a random port, over real HTTP, on either
//! store. Tests live in `api/`; each spawns its own server, so they never share state.

use std::net::SocketAddr;
use std::sync::Arc;

use fanorder_api::{AppState, build_router};
use fanorder_platform::{Clock, Config, Secret, Secrets, StoreUrl};
use fanorder_store::testing::{self, StoreKind, TestTable};

pub use fanorder_store::testing::StoreKind as Store;

/// The DynamoDB table every black-box test shares; tests isolate themselves by tenant.
const SHARED_TABLE: &str = "fanorder-blackbox";

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
        let secrets = Secrets::new(Secret::new(vec![7u8; 32]));
        let clock = Clock::system();
        let shared = (store == StoreKind::Dynamodb).then_some(SHARED_TABLE);
        let test_table = testing::table(store, clock.clone(), &secrets.derive("cursor"), shared)
            .await
            .expect("test store")?;
        let mut config = Config {
            store: match store {
                StoreKind::Sqlite => StoreUrl::Sqlite("test.db".into()),
                StoreKind::Dynamodb => StoreUrl::Dynamodb(SHARED_TABLE.into()),
            },
            ..Config::default()
        };
        configure(&mut config);
        let state = AppState {
            table: test_table.table.clone(),
            config: Arc::new(config),
            clock,
        };
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let addr = listener.local_addr().expect("addr");
        let app = build_router(state.clone());
        let server = tokio::spawn(async move {
            axum::serve(listener, app).await.expect("serve");
        });
        let http = reqwest::Client::builder()
            .timeout(std::time::Duration::from_secs(30))
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

    /// The absolute URL of a path.
    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    /// GET a path.
    pub async fn get(&self, path: &str) -> reqwest::Response {
        self.http.get(self.url(path)).send().await.expect("request")
    }
}

/// Checks that a response is problem+json with the status and code, and returns its body.
pub async fn expect_problem(
    response: reqwest::Response,
    status: u16,
    code: &str,
) -> serde_json::Value {
    assert_eq!(response.status().as_u16(), status, "status");
    let content_type = response
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    assert_eq!(content_type, "application/problem+json");
    let body: serde_json::Value = response.json().await.expect("problem body");
    assert_eq!(body["status"], status);
    assert_eq!(body["code"], code, "{body}");
    assert!(
        body["title"].is_string() && body["detail"].is_string() && body["type"].is_string(),
        "{body}"
    );
    body
}
