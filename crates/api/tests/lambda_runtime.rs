//! The Lambda binaries as Lambda runs them: each is started as a process against a fake Lambda
//! Runtime API (the `/2018-06-01/runtime/invocation/...` endpoints), handed real event shapes
//! (an API Gateway HTTP API v2 request, a DynamoDB stream batch, an EventBridge scheduled
//! event) and its answers are read back as Lambda would read them. Also: a missing secret in
//! production stops start-up with exit code 2 and the variable named, not a panic.
#![expect(
    clippy::unwrap_used,
    reason = "a test fails loudly on anything unexpected"
)]

use std::collections::VecDeque;
use std::net::SocketAddr;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use base64::Engine;
use serde_json::{Value, json};
use tokio::sync::{Notify, mpsc};

/// An answer the function posted: request id, `response` or `error`, body.
type Answer = (String, String, Value);

/// Invocations waiting to be handed out, and the answers that came back.
#[derive(Clone, Default)]
struct Runtime {
    queue: Arc<Mutex<VecDeque<(String, Value)>>>,
    ready: Arc<Notify>,
    answers: Arc<Mutex<Option<mpsc::UnboundedSender<Answer>>>>,
}

async fn next(State(rt): State<Runtime>) -> Response {
    loop {
        let item = rt.queue.lock().unwrap().pop_front();
        if let Some((id, event)) = item {
            let mut headers = HeaderMap::new();
            let deadline = (jiff::Timestamp::now().as_millisecond() + 30_000).to_string();
            headers.insert(
                "lambda-runtime-aws-request-id",
                HeaderValue::from_str(&id).unwrap(),
            );
            headers.insert(
                "lambda-runtime-deadline-ms",
                HeaderValue::from_str(&deadline).unwrap(),
            );
            headers.insert(
                "lambda-runtime-invoked-function-arn",
                HeaderValue::from_static(
                    "arn:aws:lambda:us-east-1:123456789012:function:fanorder-test",
                ),
            );
            headers.insert(
                "lambda-runtime-trace-id",
                HeaderValue::from_static("Root=1-5759e988-bd862e3fe1be46a994272793"),
            );
            return (StatusCode::OK, headers, event.to_string()).into_response();
        }
        rt.ready.notified().await;
    }
}

async fn answer(
    State(rt): State<Runtime>,
    Path((id, kind)): Path<(String, String)>,
    body: Bytes,
) -> StatusCode {
    let value = serde_json::from_slice(&body).unwrap_or(Value::Null);
    if let Some(tx) = rt.answers.lock().unwrap().as_ref() {
        let _ = tx.send((id, kind, value));
    }
    StatusCode::ACCEPTED
}

/// A fake Runtime API and one function process attached to it.
struct Function {
    rt: Runtime,
    answers: mpsc::UnboundedReceiver<Answer>,
    child: Child,
    started: Instant,
    _dir: tempfile::TempDir,
}

impl Drop for Function {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn secret_env() -> Vec<(&'static str, String)> {
    let key = base64::engine::general_purpose::STANDARD.encode([7u8; 32]);
    vec![
        ("FANORDER_ENV", "production".to_owned()),
        ("FANORDER_SECRET_KEY", key.clone()),
        ("FANORDER_JWT_KEYS", format!("k1:{key}")),
        ("FANORDER_FB_APP_SECRET", "app-secret".to_owned()),
        ("FANORDER_FB_VERIFY_TOKEN", "verify-me".to_owned()),
    ]
}

impl Function {
    async fn start(bin: &str, env: &[(&str, String)]) -> Function {
        let rt = Runtime::default();
        let (tx, answers) = mpsc::unbounded_channel();
        *rt.answers.lock().unwrap() = Some(tx);
        let app = Router::new()
            .route("/2018-06-01/runtime/invocation/next", get(next))
            .route("/2018-06-01/runtime/invocation/{id}/{kind}", post(answer))
            .route(
                "/2018-06-01/runtime/init/error",
                post(|| async { StatusCode::ACCEPTED }),
            )
            .with_state(rt.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr: SocketAddr = listener.local_addr().unwrap();
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        let dir = tempfile::tempdir().unwrap();
        let mut command = Command::new(bin);
        command
            .env_clear()
            .env("PATH", std::env::var("PATH").unwrap_or_default())
            .env("AWS_LAMBDA_RUNTIME_API", addr.to_string())
            .env("AWS_LAMBDA_FUNCTION_NAME", "fanorder-test")
            .env("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "512")
            .env("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST")
            .env("AWS_REGION", "us-east-1")
            .env("AWS_ACCESS_KEY_ID", "test")
            .env("AWS_SECRET_ACCESS_KEY", "test")
            .env(
                "FANORDER_STORE",
                format!("sqlite:{}", dir.path().join("fanorder.db").display()),
            )
            .env("FANORDER_DATA_DIR", dir.path())
            .stdout(Stdio::null())
            .stderr(Stdio::piped());
        for (k, v) in env {
            command.env(k, v);
        }
        let child = command.spawn().unwrap();
        Function {
            rt,
            answers,
            child,
            started: Instant::now(),
            _dir: dir,
        }
    }

    /// Hands the function one event and waits for its answer: (`response` or `error`, body).
    async fn invoke(&mut self, event: Value) -> (String, Value) {
        let id = fanorder_platform::id::new_ulid().to_string();
        self.rt.queue.lock().unwrap().push_back((id.clone(), event));
        self.rt.ready.notify_waiters();
        self.rt.ready.notify_one();
        let (got, kind, body) = tokio::time::timeout(Duration::from_secs(60), self.answers.recv())
            .await
            .expect("the function answers within a minute")
            .unwrap();
        assert_eq!(got, id);
        (kind, body)
    }
}

/// An API Gateway HTTP API (payload format 2.0) request, as API Gateway sends it.
fn apigw_v2(method: &str, path: &str, query: &str, body: Option<Value>) -> Value {
    let mut headers = json!({
        "accept": "application/json", "host": "abc123.execute-api.us-east-1.amazonaws.com",
        "user-agent": "curl/8.5.0", "x-amzn-trace-id": "Root=1-65f0a6b1-0a1b2c3d4e5f",
        "x-forwarded-for": "203.0.113.9", "x-forwarded-port": "443", "x-forwarded-proto": "https"
    });
    if body.is_some() {
        headers["content-type"] = json!("application/json");
    }
    let mut event = json!({
        "version": "2.0",
        "routeKey": "$default",
        "rawPath": path,
        "rawQueryString": query,
        "headers": headers,
        "requestContext": {
            "accountId": "123456789012", "apiId": "abc123",
            "domainName": "abc123.execute-api.us-east-1.amazonaws.com", "domainPrefix": "abc123",
            "http": {"method": method, "path": path, "protocol": "HTTP/1.1", "sourceIp": "203.0.113.9", "userAgent": "curl/8.5.0"},
            "requestId": "JKJaXmPLvHcESHA=", "routeKey": "$default", "stage": "$default",
            "time": "10/Mar/2026:12:00:00 +0000", "timeEpoch": 1_773_144_000_000_i64
        },
        "isBase64Encoded": false
    });
    if !query.is_empty() {
        let params: serde_json::Map<String, Value> = query
            .split('&')
            .filter_map(|kv| kv.split_once('='))
            .map(|(k, v)| (k.to_owned(), json!(v)))
            .collect();
        event["queryStringParameters"] = Value::Object(params);
    }
    if let Some(body) = body {
        event["body"] = json!(body.to_string());
    }
    event
}

fn body_json(answer: &Value) -> Value {
    serde_json::from_str(answer["body"].as_str().unwrap_or("null")).unwrap_or(Value::Null)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_http_function_serves_api_gateway_v2_requests() {
    let mut f = Function::start(env!("CARGO_BIN_EXE_fanorder-lambda-http"), &secret_env()).await;
    let (kind, health) = f.invoke(apigw_v2("GET", "/healthz", "", None)).await;
    eprintln!(
        "fanorder-lambda-http: start to first response {:?}",
        f.started.elapsed()
    );
    assert_eq!(kind, "response");
    assert_eq!(health["statusCode"], 200, "{health}");
    assert_eq!(body_json(&health), json!({"status": "ok"}));

    let signup = json!({"name": "Lambda Kitchen", "slug": "lambda-kitchen", "currency": "THB",
        "time_zone": "Asia/Bangkok", "owner": {"email": "owner@example.com", "password": "correct horse battery", "name": "Owner"}});
    let (_, created) = f
        .invoke(apigw_v2("POST", "/v1/tenants", "", Some(signup)))
        .await;
    assert_eq!(created["statusCode"], 201, "{created}");
    let token = body_json(&created)["access_token"]
        .as_str()
        .unwrap()
        .to_owned();
    let mut staff = apigw_v2("GET", "/v1/staff", "limit=5", None);
    staff["headers"]["authorization"] = json!(format!("Bearer {token}"));
    let (_, listed) = f.invoke(staff).await;
    assert_eq!(listed["statusCode"], 200, "{listed}");
    assert_eq!(body_json(&listed)["items"].as_array().unwrap().len(), 1);

    let (_, missing) = f.invoke(apigw_v2("GET", "/v1/nope", "", None)).await;
    assert_eq!(missing["statusCode"], 404);
    assert_eq!(
        missing["headers"]["content-type"],
        "application/problem+json"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_webhook_function_serves_only_webhooks() {
    let mut env = secret_env();
    env.push(("FANORDER_LAMBDA_ROUTES", "webhook".to_owned()));
    let mut f = Function::start(env!("CARGO_BIN_EXE_fanorder-lambda-http"), &env).await;
    let query = "hub.mode=subscribe&hub.verify_token=verify-me&hub.challenge=1158201444";
    let (_, handshake) = f
        .invoke(apigw_v2("GET", "/webhooks/messenger", query, None))
        .await;
    assert_eq!(handshake["statusCode"], 200, "{handshake}");
    assert_eq!(handshake["body"], "1158201444");
    let (_, staff) = f.invoke(apigw_v2("GET", "/v1/staff", "", None)).await;
    assert_eq!(staff["statusCode"], 404, "{staff}");
    assert_eq!(body_json(&staff)["code"], "no_route");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_stream_and_schedule_functions_take_their_events() {
    let mut stream =
        Function::start(env!("CARGO_BIN_EXE_fanorder-lambda-stream"), &secret_env()).await;
    // An INSERT of another entity (the mapping's filters normally keep these out) and a MODIFY.
    let record = |name: &str, seq: &str| {
        json!({
            "eventID": "1", "eventName": name, "eventVersion": "1.1", "eventSource": "aws:dynamodb", "awsRegion": "us-east-1",
            "dynamodb": {"ApproximateCreationDateTime": 1_764_000_000, "Keys": {"tenant_id": {"S": "T#01HZTENANTA"}, "sk": {"S": "PROFILE"}},
                "NewImage": {"tenant_id": {"S": "T#01HZTENANTA"}, "sk": {"S": "PROFILE"}, "name": {"S": "x"}},
                "SequenceNumber": seq, "SizeBytes": 64, "StreamViewType": "NEW_IMAGE"},
            "eventSourceARN": "arn:aws:dynamodb:us-east-1:123456789012:table/fanorder/stream/2026-01-01T00:00:00.000"
        })
    };
    let (kind, answer) = stream
        .invoke(json!({"Records": [record("INSERT", "111"), record("MODIFY", "112")]}))
        .await;
    assert_eq!(kind, "response");
    assert_eq!(answer, json!({"batchItemFailures": []}));
    // An OUTBOX insert whose image is unreadable is reported for retry (then the DLQ).
    let mut broken = record("INSERT", "113");
    broken["dynamodb"]["NewImage"]["sk"] = json!({"S": "OUTBOX#01HZEVENT"});
    let (_, answer) = stream.invoke(json!({"Records": [broken]})).await;
    assert_eq!(
        answer,
        json!({"batchItemFailures": [{"itemIdentifier": "113"}]})
    );

    let mut schedule = Function::start(
        env!("CARGO_BIN_EXE_fanorder-lambda-schedule"),
        &secret_env(),
    )
    .await;
    let scheduled = json!({"version": "0", "id": "53dc4d37-cffa-4f76-80c9-8b7d4a4d2eaa", "detail-type": "Scheduled Event",
        "source": "aws.events", "account": "123456789012", "time": "2026-03-10T12:00:00Z", "region": "us-east-1",
        "resources": ["arn:aws:events:us-east-1:123456789012:rule/fanorder-late"], "detail": {}});
    let (kind, swept) = schedule.invoke(scheduled).await;
    assert_eq!(kind, "response");
    assert_eq!(swept, json!({"noticed": 0}));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_missing_secret_in_production_stops_start_up_naming_it() {
    let env: Vec<_> = secret_env()
        .into_iter()
        .filter(|(k, _)| *k != "FANORDER_JWT_KEYS")
        .collect();
    let mut f = Function::start(env!("CARGO_BIN_EXE_fanorder-lambda-http"), &env).await;
    let deadline = Instant::now() + Duration::from_secs(30);
    let status = loop {
        if let Some(status) = f.child.try_wait().unwrap() {
            break status;
        }
        assert!(Instant::now() < deadline, "the function should stop");
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    assert_eq!(status.code(), Some(2));
    let mut stderr = String::new();
    std::io::Read::read_to_string(f.child.stderr.as_mut().unwrap(), &mut stderr).unwrap();
    assert!(stderr.contains("FANORDER_JWT_KEYS"), "{stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
}
