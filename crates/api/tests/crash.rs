//! Crash safety under `kill -9`. The real `fanorder serve` runs on the embedded store under a
//! mixed load (sign-ups, menu writes, orders with `Idempotency-Key`, payments, moves, signed
//! Messenger webhooks answered through a fake Graph API), is killed with SIGKILL at random
//! moments, and restarted on the same file each time. At the end every acknowledged request
//! must be there, every order explained by its history, every committed change announced by
//! exactly one event that the relay delivered, and nothing doubled by the retries and replays
//! that follow a crash, the bot's replies included.
//!
//! `FANORDER_CRASH_SEED=<n>` replays a run's kill moments and choices (the seed is printed);
//! `FANORDER_CRASH_ROUNDS=<n>` sets the number of kills (default 5).
#![expect(
    clippy::unwrap_used,
    reason = "a test fails loudly on anything unexpected"
)]

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, RwLock};
use std::time::{Duration, Instant};

use base64::Engine;
use base64::engine::general_purpose::STANDARD as BASE64;
use fanorder_api::simulate::{Act, payload};
use fanorder_messenger::testing::FakeGraph;
use fanorder_platform::{Secret, Secrets};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use reqwest::Method;
use serde_json::{Value, json};

const BIN: &str = env!("CARGO_BIN_EXE_fanorder");
/// The master secret the server runs with (the test signs payments with a key derived from it).
const MASTER: [u8; 32] = [3u8; 32];
const APP_SECRET: &str = "crash-test-app-secret";
/// Restaurants set up before the first kill; sign-ups add more during the load.
const RESTAURANTS: usize = 2;
/// How long a request may keep failing (the server being restarted) before the test gives up.
const OUTAGE_LIMIT: Duration = Duration::from_secs(60);

// ---------------------------------------------------------------------------------------------
// The server process

/// A running `fanorder serve` and the address it printed.
struct Server {
    child: Child,
    base: String,
}

impl Server {
    /// Starts `serve` on the database in `dir`, on a free port; waits until it is ready.
    async fn start(dir: &Path, graph: &str, run: usize) -> Server {
        let mut command = Command::new(BIN);
        command.current_dir(dir);
        for (key, _) in std::env::vars() {
            if key.starts_with("FANORDER_") {
                command.env_remove(key);
            }
        }
        let log = std::fs::File::create(dir.join(format!("serve-{run}.log"))).unwrap();
        command
            .env(
                "FANORDER_STORE",
                format!("sqlite:{}", db_path(dir).display()),
            )
            .env("FANORDER_DATA_DIR", dir.join("data"))
            .env("FANORDER_SECRET_KEY", BASE64.encode(MASTER))
            .env(
                "FANORDER_JWT_KEYS",
                format!("k1:{}", BASE64.encode([5u8; 32])),
            )
            .env("FANORDER_FB_APP_SECRET", APP_SECRET)
            .env("FANORDER_FB_VERIFY_TOKEN", "crash-test-verify")
            .env("FANORDER_GRAPH_API_URL", graph)
            .env("FANORDER_GRAPH_RATE_PER_PAGE", "1000")
            .env("FANORDER_TENANT_RATE_PER_SECOND", "0")
            .env("FANORDER_PUBLIC_RATE_PER_MINUTE", "0")
            .env("FANORDER_LOG", "warn")
            .args(["serve", "--addr", "127.0.0.1:0"])
            .stdout(Stdio::piped())
            .stderr(Stdio::from(log));
        let mut child = command.spawn().unwrap();
        let stdout = child.stdout.take().unwrap();
        let (line, rest) = tokio::task::spawn_blocking(move || {
            let mut lines = BufReader::new(stdout).lines();
            let line = lines.next().expect("serve printed nothing").unwrap();
            (line, lines)
        })
        .await
        .unwrap();
        // Keep reading so the server never blocks on a full pipe.
        std::thread::spawn(move || rest.for_each(drop));
        let base = line
            .split_whitespace()
            .find(|word| word.starts_with("http://"))
            .unwrap_or_else(|| panic!("no address in {line:?}"))
            .to_owned();
        let http = reqwest::Client::new();
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            let ready = http.get(format!("{base}/readyz")).send().await;
            if ready.is_ok_and(|r| r.status() == 200) {
                break;
            }
            assert!(Instant::now() < deadline, "serve #{run} never became ready");
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        Server { child, base }
    }

    /// SIGKILL: no shutdown, no flush, no goodbye.
    fn kill(mut self) {
        self.child.kill().unwrap();
        self.child.wait().unwrap();
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn db_path(dir: &Path) -> PathBuf {
    dir.join("crash.db")
}

// ---------------------------------------------------------------------------------------------
// Talking to it

/// An answer from the server.
#[derive(Debug, Clone)]
struct Reply {
    status: u16,
    replayed: bool,
    body: Value,
}

/// A request, kept so it can be sent again exactly as it was.
#[derive(Debug, Clone)]
struct Req {
    method: Method,
    path: String,
    token: Option<String>,
    headers: Vec<(&'static str, String)>,
    body: Option<Vec<u8>>,
}

impl Req {
    fn get(path: impl Into<String>, token: &str) -> Req {
        Req {
            method: Method::GET,
            path: path.into(),
            token: Some(token.to_owned()),
            headers: Vec::new(),
            body: None,
        }
    }

    fn json(method: Method, path: impl Into<String>, token: Option<&str>, body: &Value) -> Req {
        Req {
            method,
            path: path.into(),
            token: token.map(str::to_owned),
            headers: Vec::new(),
            body: Some(body.to_string().into_bytes()),
        }
    }

    fn header(mut self, name: &'static str, value: impl Into<String>) -> Req {
        self.headers.push((name, value.into()));
        self
    }

    fn describe(&self) -> String {
        format!("{} {}", self.method, self.path)
    }
}

/// The client side: the current server address (it changes at every restart) and the answers
/// that should never happen (5xx).
#[derive(Clone)]
struct Api {
    http: reqwest::Client,
    base: Arc<RwLock<String>>,
    server_errors: Arc<Mutex<Vec<String>>>,
    /// Attempts that got no answer (the server died under them or was down).
    lost: Arc<AtomicU64>,
}

impl Api {
    /// Sends once. `None`: no answer (the server died or is down), so it may or may not have
    /// been applied.
    async fn once(&self, req: &Req) -> Option<Reply> {
        let base = self.base.read().unwrap().clone();
        let mut request = self
            .http
            .request(req.method.clone(), format!("{base}{}", req.path));
        if let Some(token) = &req.token {
            request = request.bearer_auth(token);
        }
        for (name, value) in &req.headers {
            request = request.header(*name, value);
        }
        if let Some(body) = &req.body {
            request = request
                .header("content-type", "application/json")
                .body(body.clone());
        }
        let Ok(response) = request.send().await else {
            self.lost.fetch_add(1, Ordering::Relaxed);
            return None;
        };
        let status = response.status().as_u16();
        let replayed = response
            .headers()
            .get("idempotent-replayed")
            .is_some_and(|v| v == "true");
        let text = response.text().await.ok()?;
        if status >= 500 {
            self.server_errors
                .lock()
                .unwrap()
                .push(format!("{} -> {status}: {text}", req.describe()));
        }
        Some(Reply {
            status,
            replayed,
            body: serde_json::from_str(&text).unwrap_or(Value::Null),
        })
    }

    /// Sends until the server answers (the same request again after each failure, which is
    /// exactly what a client does after a crash). Also says whether an attempt got no answer.
    async fn answered(&self, req: &Req) -> (Reply, bool) {
        let deadline = Instant::now() + OUTAGE_LIMIT;
        let mut lost = false;
        loop {
            if let Some(reply) = self.once(req).await {
                return (reply, lost);
            }
            lost = true;
            assert!(
                Instant::now() < deadline,
                "no answer to {} for {OUTAGE_LIMIT:?}",
                req.describe()
            );
            tokio::time::sleep(Duration::from_millis(25)).await;
        }
    }

    /// GET until answered; the body of a 200.
    async fn read(&self, path: &str, token: &str) -> Value {
        let (reply, _) = self.answered(&Req::get(path, token)).await;
        assert_eq!(reply.status, 200, "GET {path}: {}", reply.body);
        reply.body
    }

    /// Every item of a paginated list.
    async fn all(&self, path: &str, token: &str) -> Vec<Value> {
        let mut items = Vec::new();
        let mut cursor: Option<String> = None;
        let sep = if path.contains('?') { '&' } else { '?' };
        loop {
            let page = match &cursor {
                Some(c) => format!("{path}{sep}limit=100&cursor={c}"),
                None => format!("{path}{sep}limit=100"),
            };
            let body = self.read(&page, token).await;
            items.extend(body["items"].as_array().unwrap().iter().cloned());
            match body["next_cursor"].as_str() {
                Some(next) => cursor = Some(next.to_owned()),
                None => return items,
            }
        }
    }
}

// ---------------------------------------------------------------------------------------------
// What the load did, as the clients saw it

/// A restaurant set up before the load.
#[derive(Debug, Clone)]
struct Shop {
    id: String,
    admin: String,
    customers: Vec<String>,
    coke: String,
    page: String,
}

/// A menu item written by the load: each write it knows was applied, in order.
#[derive(Debug, Clone)]
struct ItemLog {
    shop: usize,
    id: String,
    /// `(version, price)` after each applied write.
    applied: Vec<(i64, i64)>,
}

/// An order the load placed through the API.
#[derive(Debug, Clone)]
struct Placed {
    shop: usize,
    customer: usize,
    key: String,
    body: Value,
    id: String,
}

/// A move or payment that got a 2xx.
#[derive(Debug, Clone)]
struct Moved {
    shop: usize,
    order: String,
    version: i64,
    to: String,
}

/// A webhook delivery that got a 200.
#[derive(Debug, Clone)]
struct Delivered {
    shop: usize,
    psid: String,
    mid: String,
    body: Vec<u8>,
}

#[derive(Debug, Default)]
struct Journal {
    signups: Vec<(String, String, String)>,
    signups_lost: usize,
    items: Vec<ItemLog>,
    items_maybe: Vec<(usize, String)>,
    placed: Vec<Placed>,
    placed_after_loss: usize,
    moves: Vec<Moved>,
    payments: Vec<(usize, String, Vec<u8>, Value)>,
    webhooks: Vec<Delivered>,
    conversations: Vec<(usize, String)>,
}

/// What every load task shares.
struct Load {
    api: Api,
    shops: Vec<Shop>,
    journal: Mutex<Journal>,
    stop: AtomicBool,
    seed: u64,
    counter: AtomicU64,
    mock_key: [u8; 32],
}

impl Load {
    fn next(&self) -> u64 {
        self.counter.fetch_add(1, Ordering::Relaxed)
    }

    fn stopped(&self) -> bool {
        self.stop.load(Ordering::Relaxed)
    }

    fn journal(&self) -> std::sync::MutexGuard<'_, Journal> {
        self.journal.lock().unwrap()
    }

    /// The mock provider's notification that the order was paid in full.
    fn payment_request(&self, shop: usize, order: &Value) -> Req {
        let body = json!({
            "payment_id": format!("pay-{}", order["id"].as_str().unwrap()),
            "order_id": order["id"], "tenant_id": self.shops[shop].id,
            "amount": order["total"], "currency": order["currency"], "status": "approved",
        });
        self.signed_payment(body.to_string().into_bytes())
    }

    /// A payment notification signed the way the mock provider signs.
    fn signed_payment(&self, body: Vec<u8>) -> Req {
        let signature = fanorder_orders::MockProvider::new(&self.mock_key).sign(&body);
        Req {
            method: Method::POST,
            path: "/v1/payments/mock/webhook".into(),
            token: None,
            headers: vec![("x-mock-signature", signature)],
            body: Some(body),
        }
    }

    fn webhook_request(body: &[u8]) -> Req {
        Req {
            method: Method::POST,
            path: "/webhooks/messenger".into(),
            token: None,
            headers: vec![(
                "x-hub-signature-256",
                fanorder_messenger::sign(APP_SECRET.as_bytes(), body),
            )],
            body: Some(body.to_vec()),
        }
    }
}

// ---------------------------------------------------------------------------------------------
// The load

/// Restaurants sign up (a retry after a lost answer is 201 or, when the first one committed,
/// 409 `slug_taken`).
async fn signups(load: Arc<Load>) {
    while !load.stopped() {
        let n = load.next();
        let slug = format!("crash-{}-{n}", load.seed);
        let email = format!("owner-{n}@example.com");
        let body = json!({
            "name": "Crash Kitchen", "slug": slug, "currency": "THB", "time_zone": "Asia/Bangkok",
            "owner": {"email": email, "password": "owner-password-1", "name": "Owner"}
        });
        let (reply, lost) = load
            .api
            .answered(&Req::json(Method::POST, "/v1/tenants", None, &body))
            .await;
        match reply.status {
            201 => load.journal().signups.push((
                slug,
                email,
                reply.body["tenant"]["id"].as_str().unwrap().to_owned(),
            )),
            409 if lost => load.journal().signups_lost += 1,
            other => panic!("sign-up {slug}: {other} {}", reply.body),
        }
    }
}

/// The admin adds items and changes their prices, each change conditioned on the version read.
async fn menu_writes(load: Arc<Load>, shop: usize, mut rng: StdRng) {
    let admin = load.shops[shop].admin.clone();
    while !load.stopped() {
        let name = format!("Dumpling set {}", load.next());
        let price = rng.random_range(1..500) * 100;
        let create = Req::json(
            Method::POST,
            "/v1/menu/items",
            Some(&admin),
            &json!({"name": name, "price": price}),
        );
        // Creating is not idempotent: an answer lost to a crash is never retried.
        let Some(reply) = load.api.once(&create).await else {
            load.journal().items_maybe.push((shop, name));
            tokio::time::sleep(Duration::from_millis(25)).await;
            continue;
        };
        assert_eq!(reply.status, 201, "{}", reply.body);
        let id = reply.body["id"].as_str().unwrap().to_owned();
        let mut log = ItemLog {
            shop,
            id: id.clone(),
            applied: vec![(reply.body["version"].as_i64().unwrap(), price)],
        };
        for _ in 0..rng.random_range(1..4) {
            let (version, _) = *log.applied.last().unwrap();
            let price = rng.random_range(1..500) * 100;
            let patch = Req::json(
                Method::PATCH,
                format!("/v1/menu/items/{id}"),
                Some(&admin),
                &json!({"price": price, "version": version}),
            );
            let (reply, lost) = load.api.answered(&patch).await;
            match reply.status {
                200 => {
                    assert_eq!(reply.body["version"], version + 1);
                    assert_eq!(reply.body["price"], price);
                    log.applied.push((version + 1, price));
                }
                // Nobody else writes this item: the lost attempt was applied.
                409 if lost => log.applied.push((version + 1, price)),
                other => panic!("PATCH item: {other} {}", reply.body),
            }
        }
        load.journal().items.push(log);
    }
}

/// Customers place orders with an `Idempotency-Key`; an answer lost to a crash is asked again
/// with the same key and body, as a client would.
async fn orders(load: Arc<Load>, shop: usize, mut rng: StdRng) {
    let s = load.shops[shop].clone();
    while !load.stopped() {
        let customer = rng.random_range(0..s.customers.len());
        let key = format!("order-{}-{}", load.seed, load.next());
        let mut body = json!({
            "fulfillment": "pickup",
            "payment_method": if rng.random_bool(0.2) { "cash" } else { "online" },
            "lines": [{"item_id": s.coke, "quantity": rng.random_range(1..4)}],
        });
        if rng.random_bool(0.5) {
            body["fulfillment"] = json!("delivery");
            body["address"] = json!({"line1": "12 Sukhumvit"});
        }
        let req = Req::json(
            Method::POST,
            "/v1/orders",
            Some(&s.customers[customer]),
            &body,
        )
        .header("idempotency-key", key.clone());
        let (reply, lost) = load.api.answered(&req).await;
        assert_eq!(reply.status, 201, "{}", reply.body);
        let mut journal = load.journal();
        if lost && reply.replayed {
            journal.placed_after_loss += 1;
        }
        journal.placed.push(Placed {
            shop,
            customer,
            key,
            body,
            id: reply.body["id"].as_str().unwrap().to_owned(),
        });
    }
}

/// The next move of an order for an admin, if any (now and then a cancellation).
fn next_move(order: &Value, rng: &mut StdRng) -> Option<&'static str> {
    let status = order["status"].as_str().unwrap();
    let cancel = rng.random_bool(0.1);
    Some(match status {
        "PENDING_PAYMENT" if cancel => "CANCELLED",
        "PAID" | "IN_KITCHEN" if cancel => "CANCELLED",
        "PAID" => "IN_KITCHEN",
        "IN_KITCHEN" => "READY",
        "READY" if order["fulfillment"] == "pickup" => "PICKED_UP",
        "READY" => "OUT_FOR_DELIVERY",
        "OUT_FOR_DELIVERY" => "DELIVERED",
        _ => return None,
    })
}

/// Orders waiting for payment get paid through the provider's webhook; the rest move on.
async fn moves(load: Arc<Load>, shop: usize, mut rng: StdRng) {
    let admin = load.shops[shop].admin.clone();
    while !load.stopped() {
        // Orders placed through the API, and now and then those the bot placed.
        let id = if rng.random_bool(0.2) {
            let queue = load
                .api
                .read("/v1/orders?status=PAID&limit=20", &admin)
                .await;
            let items = queue["items"].as_array().unwrap();
            if items.is_empty() {
                None
            } else {
                items[rng.random_range(0..items.len())]["id"]
                    .as_str()
                    .map(str::to_owned)
            }
        } else {
            let journal = load.journal();
            let mine: Vec<&Placed> = journal.placed.iter().filter(|p| p.shop == shop).collect();
            (!mine.is_empty()).then(|| mine[rng.random_range(0..mine.len())].id.clone())
        };
        let Some(id) = id else {
            tokio::time::sleep(Duration::from_millis(20)).await;
            continue;
        };
        let order = load.api.read(&format!("/v1/orders/{id}"), &admin).await;
        if order["status"] == "PENDING_PAYMENT" && rng.random_bool(0.8) {
            let req = load.payment_request(shop, &order);
            let (reply, _) = load.api.answered(&req).await;
            match reply.status {
                200 => {
                    load.journal()
                        .payments
                        .push((shop, id, req.body.clone().unwrap(), reply.body))
                }
                // Cancelled meanwhile (a refused payment is recorded and announced).
                409 => {}
                other => panic!("payment: {other} {}", reply.body),
            }
            continue;
        }
        let Some(to) = next_move(&order, &mut rng) else {
            continue;
        };
        let version = order["version"].as_i64().unwrap();
        let req = Req::json(
            Method::POST,
            format!("/v1/orders/{id}/transitions"),
            Some(&admin),
            &json!({"to": to, "version": version}),
        );
        let (reply, _) = load.api.answered(&req).await;
        match reply.status {
            200 => load.journal().moves.push(Moved {
                shop,
                order: id,
                version: version + 1,
                to: to.to_owned(),
            }),
            // Another move won, or the lost attempt was applied: the history will tell.
            409 => {}
            other => panic!("move to {to}: {other} {}", reply.body),
        }
    }
}

/// Customers order on Messenger, one step after another; a delivery that got no answer is
/// delivered again, as Facebook does.
async fn messenger(load: Arc<Load>, shop: usize) {
    let s = load.shops[shop].clone();
    let script = [
        Act::Text("hi".into()),
        Act::Text("2 coke".into()),
        Act::Postback("CHECKOUT".into()),
        Act::Postback("FUL:pickup".into()),
        Act::Text("+66 81 234 5678".into()),
        Act::Postback("PAY:cash".into()),
        Act::Postback("CONFIRM".into()),
    ];
    while !load.stopped() {
        let psid = format!("7{:09}{shop}", load.next());
        load.journal().conversations.push((shop, psid.clone()));
        for act in &script {
            let now = jiff::Timestamp::now().as_millisecond();
            let body = payload(&s.page, &psid, act, now).to_string().into_bytes();
            let mid = serde_json::from_slice::<Value>(&body).unwrap()["entry"][0]["messaging"][0]
                [match act {
                    Act::Postback(_) => "postback",
                    _ => "message",
                }]["mid"]
                .as_str()
                .unwrap()
                .to_owned();
            let (reply, _) = load.api.answered(&Load::webhook_request(&body)).await;
            assert_eq!(reply.status, 200, "{}", reply.body);
            load.journal().webhooks.push(Delivered {
                shop,
                psid: psid.clone(),
                mid: mid.clone(),
                body,
            });
            // The bot works after the acknowledgement: wait until it handled this step.
            let path = format!("/v1/pages/{}/conversations/{psid}/messages?limit=5", s.page);
            let deadline = Instant::now() + OUTAGE_LIMIT;
            loop {
                if let Some(reply) = load.api.once(&Req::get(&path, &s.admin)).await
                    && reply.status == 200
                    && reply.body["items"]
                        .as_array()
                        .unwrap()
                        .iter()
                        .any(|m| m["mid"] == mid.as_str())
                {
                    break;
                }
                assert!(Instant::now() < deadline, "the bot never handled {mid}");
                tokio::time::sleep(Duration::from_millis(25)).await;
            }
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Replays after a restart

/// Retries a few acknowledged requests exactly as they were: each must answer what it answered
/// the first time and change nothing.
async fn replay(load: &Load, rng: &mut StdRng) -> usize {
    let (placed, payments, webhooks) = {
        let j = load.journal();
        (j.placed.clone(), j.payments.clone(), j.webhooks.clone())
    };
    let mut replayed = 0;
    for _ in 0..5 {
        if !placed.is_empty() {
            let p = &placed[rng.random_range(0..placed.len())];
            let req = Req::json(
                Method::POST,
                "/v1/orders",
                Some(&load.shops[p.shop].customers[p.customer]),
                &p.body,
            )
            .header("idempotency-key", p.key.clone());
            let (reply, _) = load.api.answered(&req).await;
            assert_eq!(reply.status, 201, "{}", reply.body);
            assert!(reply.replayed, "{}", reply.body);
            assert_eq!(
                reply.body["id"],
                p.id.as_str(),
                "the same key, another order"
            );
            replayed += 1;
        }
        if !payments.is_empty() {
            let (_, order, body, first) = &payments[rng.random_range(0..payments.len())];
            let (reply, _) = load.api.answered(&load.signed_payment(body.clone())).await;
            assert_eq!(
                reply.status, 200,
                "payment replay of {order}: {}",
                reply.body
            );
            assert_eq!(reply.body["result"], first["result"], "{}", reply.body);
            replayed += 1;
        }
        if !webhooks.is_empty() {
            let w = &webhooks[rng.random_range(0..webhooks.len())];
            let (reply, _) = load.api.answered(&Load::webhook_request(&w.body)).await;
            assert_eq!(reply.status, 200, "{}", reply.body);
            replayed += 1;
        }
    }
    replayed
}

// ---------------------------------------------------------------------------------------------
// The run

/// Pending outbox events and inbox events, read from the database file (the relay's and the
/// bot's work queues are not part of the API).
fn pending(dir: &Path) -> (i64, i64) {
    let db = rusqlite::Connection::open_with_flags(
        db_path(dir),
        rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY,
    )
    .unwrap();
    let count = |prefix: &str| -> i64 {
        db.query_row(
            "SELECT count(*) FROM gsi_entries WHERE idx = 'gsi1' AND ipk LIKE ?1",
            [format!("{prefix}%")],
            |row| row.get(0),
        )
        .unwrap()
    };
    (count("OUTBOX#PENDING#"), count("INBOX#PENDING#"))
}

async fn drained(dir: &Path) {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let left = pending(dir);
        if left == (0, 0) {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "work left after a minute: {left:?} (outbox, inbox)"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

fn env_number(name: &str) -> Option<u64> {
    let value = std::env::var(name).ok()?;
    Some(
        value
            .trim()
            .parse()
            .unwrap_or_else(|_| panic!("{name}={value} is not a number")),
    )
}

/// Signs up a restaurant with two customers, a coke on the menu and a page with a token (so the
/// bot's answers go to the fake Graph API).
async fn open_shop(api: &Api, n: usize) -> Shop {
    let suffix = fanorder_platform::id::new_ulid().to_string().to_lowercase();
    let slug = format!("shop-{suffix}");
    let signup = api
        .answered(&Req::json(
            Method::POST,
            "/v1/tenants",
            None,
            &json!({
                "name": "Crash Thai", "slug": slug, "currency": "THB", "time_zone": "Asia/Bangkok",
                "owner": {"email": "owner@example.com", "password": "owner-password-1", "name": "Owner"}
            }),
        ))
        .await
        .0;
    assert_eq!(signup.status, 201, "{}", signup.body);
    let id = signup.body["tenant"]["id"].as_str().unwrap().to_owned();
    let admin = signup.body["access_token"].as_str().unwrap().to_owned();
    let mut customers = Vec::new();
    for c in 0..2 {
        let reply = api
            .answered(&Req::json(
                Method::POST,
                "/v1/customers",
                None,
                &json!({"tenant": slug, "email": format!("c{c}@example.com"), "password": "customer-password-1", "name": "Ana"}),
            ))
            .await
            .0;
        assert_eq!(reply.status, 201, "{}", reply.body);
        customers.push(reply.body["access_token"].as_str().unwrap().to_owned());
    }
    let coke = api
        .answered(&Req::json(
            Method::POST,
            "/v1/menu/items",
            Some(&admin),
            &json!({"name": "Coke", "price": 3000, "keywords": {"th": ["โค้ก"]}}),
        ))
        .await
        .0;
    assert_eq!(coke.status, 201, "{}", coke.body);
    let page = format!("90000000000{n:04}");
    let connected = api
        .answered(&Req::json(
            Method::POST,
            "/v1/pages",
            Some(&admin),
            &json!({"page_id": page, "name": "Crash page", "access_token": format!("EAAGcrash{n}")}),
        ))
        .await
        .0;
    assert_eq!(connected.status, 201, "{}", connected.body);
    Shop {
        id,
        admin,
        customers,
        coke: coke.body["id"].as_str().unwrap().to_owned(),
        page,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kill_9_under_load_loses_nothing_acknowledged_and_doubles_nothing() {
    let seed = env_number("FANORDER_CRASH_SEED").unwrap_or_else(|| rand::rng().random());
    let rounds = env_number("FANORDER_CRASH_ROUNDS").unwrap_or(5);
    eprintln!("crash test: FANORDER_CRASH_SEED={seed} FANORDER_CRASH_ROUNDS={rounds}");
    let started = Instant::now();
    let mut rng = StdRng::seed_from_u64(seed);
    let dir = tempfile::tempdir().unwrap();
    let graph = FakeGraph::start().await.unwrap();
    let mut runs = 0;
    let mut server = Server::start(dir.path(), &graph.base_url(), runs).await;
    let api = Api {
        http: reqwest::Client::builder()
            .timeout(Duration::from_secs(20))
            .build()
            .unwrap(),
        base: Arc::new(RwLock::new(server.base.clone())),
        server_errors: Arc::default(),
        lost: Arc::default(),
    };
    let mut shops = Vec::new();
    for n in 0..RESTAURANTS {
        shops.push(open_shop(&api, n).await);
    }
    let load = Arc::new(Load {
        api: api.clone(),
        shops,
        journal: Mutex::default(),
        stop: AtomicBool::new(false),
        seed,
        counter: AtomicU64::new(0),
        mock_key: Secrets::new(Secret::new(MASTER.to_vec())).derive("payments/mock"),
    });
    let mut tasks = vec![tokio::spawn(signups(load.clone()))];
    for shop in 0..RESTAURANTS {
        let mut task_rng = || StdRng::seed_from_u64(rng.random());
        tasks.push(tokio::spawn(menu_writes(load.clone(), shop, task_rng())));
        tasks.push(tokio::spawn(orders(load.clone(), shop, task_rng())));
        tasks.push(tokio::spawn(moves(load.clone(), shop, task_rng())));
        tasks.push(tokio::spawn(messenger(load.clone(), shop)));
    }

    let mut replayed = 0;
    for _ in 0..rounds {
        tokio::time::sleep(Duration::from_millis(rng.random_range(300..2000))).await;
        server.kill();
        runs += 1;
        server = Server::start(dir.path(), &graph.base_url(), runs).await;
        *api.base.write().unwrap() = server.base.clone();
        replayed += replay(&load, &mut rng).await;
    }
    // Some load on the last process, then stop and let the relay and the bot finish.
    tokio::time::sleep(Duration::from_millis(500)).await;
    load.stop.store(true, Ordering::Relaxed);
    for task in tasks {
        task.await.unwrap();
    }
    drained(dir.path()).await;
    replayed += replay(&load, &mut rng).await;
    drained(dir.path()).await;

    let journal = std::mem::take(&mut *load.journal());
    eprintln!(
        "crash test: {rounds} kills, {} requests without an answer, {} sign-ups ({} answers lost), {} items ({} creations lost), \
         {} orders ({} answered only after a crash), {} moves, {} payments, {} webhooks, \
         {} conversations, {replayed} replays, {:.1}s",
        api.lost.load(Ordering::Relaxed),
        journal.signups.len(),
        journal.signups_lost,
        journal.items.len(),
        journal.items_maybe.len(),
        journal.placed.len(),
        journal.placed_after_loss,
        journal.moves.len(),
        journal.payments.len(),
        journal.webhooks.len(),
        journal.conversations.len(),
        started.elapsed().as_secs_f64(),
    );
    verify(&load, &journal, &graph).await;
    server.kill();
}

// ---------------------------------------------------------------------------------------------
// The proof

async fn verify(load: &Load, journal: &Journal, graph: &FakeGraph) {
    let api = &load.api;
    let errors = api.server_errors.lock().unwrap().clone();
    assert!(errors.is_empty(), "server errors: {errors:#?}");

    // Every restaurant that got a 201 is there: its owner logs in.
    for (slug, email, id) in &journal.signups {
        let login = api
            .answered(&Req::json(
                Method::POST,
                "/v1/auth/login",
                None,
                &json!({"tenant": slug, "email": email, "password": "owner-password-1"}),
            ))
            .await
            .0;
        assert_eq!(login.status, 200, "sign-up {slug} lost: {}", login.body);
        let token = login.body["access_token"].as_str().unwrap();
        let events = api.all("/v1/events", token).await;
        let created: Vec<_> = events
            .iter()
            .filter(|e| e["event_type"] == "tenant.created")
            .collect();
        assert_eq!(created.len(), 1, "{slug}: {events:?}");
        assert_eq!(created[0]["tenant_id"], id.as_str());
    }

    for (n, shop) in load.shops.iter().enumerate() {
        verify_menu(load, journal, n, shop).await;
        let orders = verify_orders(load, journal, n, shop).await;
        verify_messenger(load, journal, n, shop, &orders, graph).await;
    }
}

async fn verify_menu(load: &Load, journal: &Journal, n: usize, shop: &Shop) {
    let items = load.api.all("/v1/menu/items", &shop.admin).await;
    let by_name = |name: &str| items.iter().filter(|i| i["name"] == name).count();
    for log in journal.items.iter().filter(|l| l.shop == n) {
        let item = items
            .iter()
            .find(|i| i["id"] == log.id.as_str())
            .unwrap_or_else(|| panic!("item {} lost", log.id));
        let (version, price) = *log.applied.last().unwrap();
        assert_eq!(item["version"], version, "{item}");
        assert_eq!(item["price"], price, "{item}");
        assert_eq!(by_name(item["name"].as_str().unwrap()), 1, "{item}");
    }
    for (_, name) in journal.items_maybe.iter().filter(|(s, _)| *s == n) {
        assert!(by_name(name) <= 1, "{name} created twice");
    }
}

/// The type of the event that announces a history entry (after the first).
fn event_type_of(to: &str) -> &'static str {
    match to {
        "PAID" => "order.paid",
        "CANCELLED" => "order.cancelled",
        _ => "order.status_changed",
    }
}

fn legal(from: &str, to: &str, fulfillment: &str) -> bool {
    matches!(
        (from, to),
        ("PENDING_PAYMENT", "PAID" | "CANCELLED")
            | ("PAID", "IN_KITCHEN" | "CANCELLED")
            | ("IN_KITCHEN", "READY" | "CANCELLED")
            | ("OUT_FOR_DELIVERY", "DELIVERED")
    ) || (from, to, fulfillment) == ("READY", "PICKED_UP", "pickup")
        || (from, to, fulfillment) == ("READY", "OUT_FOR_DELIVERY", "delivery")
}

/// The order an event is about.
fn order_of(event: &Value) -> Option<&str> {
    event["data"]["order_id"]
        .as_str()
        .or(event["data"]["order"]["id"].as_str())
}

/// Checks every order of the restaurant against its history and the event log; returns the
/// orders (by id) with their histories.
async fn verify_orders(
    load: &Load,
    journal: &Journal,
    n: usize,
    shop: &Shop,
) -> BTreeMap<String, (Value, Vec<Value>)> {
    let api = &load.api;
    let events = api.all("/v1/events", &shop.admin).await;
    let ids: BTreeSet<&str> = events
        .iter()
        .map(|e| e["event_id"].as_str().unwrap())
        .collect();
    assert_eq!(ids.len(), events.len(), "an event id twice");
    let mut by_order: HashMap<&str, Vec<&Value>> = HashMap::new();
    for event in &events {
        if let Some(order) = order_of(event) {
            by_order.entry(order).or_default().push(event);
        }
    }

    // Every order any event speaks of, plus every order a client was told about.
    let mut wanted: BTreeSet<String> = by_order.keys().map(|k| (*k).to_owned()).collect();
    wanted.extend(
        journal
            .placed
            .iter()
            .filter(|p| p.shop == n)
            .map(|p| p.id.clone()),
    );
    let mut orders = BTreeMap::new();
    let (mut paid, mut cancelled_paid, mut prepared) = (0, 0, 0);
    for id in wanted {
        let order = api.read(&format!("/v1/orders/{id}"), &shop.admin).await;
        let history = api
            .read(&format!("/v1/orders/{id}/history"), &shop.admin)
            .await["items"]
            .as_array()
            .unwrap()
            .clone();
        // The history explains the state: one entry per version, each a legal move from the
        // one before, ending where the order is.
        assert_eq!(
            history.len() as i64,
            order["version"].as_i64().unwrap(),
            "{order} {history:?}"
        );
        let fulfillment = order["fulfillment"].as_str().unwrap();
        for (at, entry) in history.iter().enumerate() {
            assert_eq!(entry["version"], at + 1, "{history:?}");
            if at == 0 {
                assert!(entry["from"].is_null(), "{history:?}");
                let start = if order["payment"]["method"] == "cash" {
                    "PAID"
                } else {
                    "PENDING_PAYMENT"
                };
                assert_eq!(entry["to"], start, "{order} {history:?}");
            } else {
                assert_eq!(entry["from"], history[at - 1]["to"], "{history:?}");
                let (from, to) = (
                    entry["from"].as_str().unwrap(),
                    entry["to"].as_str().unwrap(),
                );
                assert!(legal(from, to, fulfillment), "{from} -> {to}: {history:?}");
            }
        }
        assert_eq!(history.last().unwrap()["to"], order["status"], "{order}");

        // One event per change: placed (and paid, for cash) at version 1, one per move after.
        let mut expected: Vec<(i64, String)> = vec![(1, "order.placed".into())];
        if history[0]["to"] == "PAID" {
            expected.push((1, "order.paid".into()));
        }
        for entry in &history[1..] {
            expected.push((
                entry["version"].as_i64().unwrap(),
                event_type_of(entry["to"].as_str().unwrap()).into(),
            ));
        }
        let announced = by_order.get(id.as_str()).cloned().unwrap_or_default();
        let mut got: Vec<(i64, String)> = announced
            .iter()
            .map(|e| {
                (
                    e["sequence"].as_i64().unwrap(),
                    e["event_type"].as_str().unwrap().to_owned(),
                )
            })
            .collect();
        got.sort();
        expected.sort();
        assert_eq!(got, expected, "events of {id} vs its history {history:?}");
        for event in &announced {
            let seq = event["sequence"].as_i64().unwrap();
            if seq > 1 {
                let entry = &history[usize::try_from(seq - 1).unwrap()];
                assert_eq!(event["data"]["from"], entry["from"], "{event}");
                assert_eq!(event["data"]["to"], entry["to"], "{event}");
            }
        }

        let went = |s: &str| history.iter().any(|e| e["to"] == s);
        if went("PAID") {
            paid += 1;
            if went("CANCELLED") {
                cancelled_paid += 1;
            }
        }
        if went("READY") {
            prepared += 1;
        }
        orders.insert(id, (order, history));
    }

    // Every acknowledged move and payment is in the history.
    for moved in journal.moves.iter().filter(|m| m.shop == n) {
        let (_, history) = &orders[&moved.order];
        let entry = &history[usize::try_from(moved.version - 1).unwrap()];
        assert_eq!(
            entry["to"],
            moved.to.as_str(),
            "acknowledged move lost: {history:?}"
        );
    }
    for (_, order, _, reply) in journal.payments.iter().filter(|p| p.0 == n) {
        let (view, history) = &orders[order];
        assert!(
            history.iter().any(|e| e["to"] == "PAID"),
            "payment lost: {reply} {history:?}"
        );
        assert_eq!(
            view["payment"]["payment_id"],
            format!("pay-{order}"),
            "{view}"
        );
    }
    // A key is one order: each customer has exactly the orders of its keys (and of nothing else).
    for (c, token) in shop.customers.iter().enumerate() {
        let mine: BTreeSet<String> = api
            .all("/v1/me/orders", token)
            .await
            .iter()
            .map(|o| o["id"].as_str().unwrap().to_owned())
            .collect();
        let keyed: BTreeSet<String> = journal
            .placed
            .iter()
            .filter(|p| p.shop == n && p.customer == c)
            .map(|p| p.id.clone())
            .collect();
        assert_eq!(mine, keyed, "customer {c} of shop {n}");
    }
    // The sales report folded each event once.
    let report = api
        .read("/v1/reports/sales?group_by=day", &shop.admin)
        .await;
    let totals = &report["totals"];
    assert_eq!(totals["orders"], paid - cancelled_paid, "{report}");
    assert_eq!(totals["cancelled"], cancelled_paid, "{report}");
    assert_eq!(totals["prepared"], prepared, "{report}");
    orders
}

/// What a sent message looks like, to match Send API calls with their records.
fn fingerprint_of_record(record: &Value) -> String {
    match &record["payload"] {
        Value::Null => fingerprint(&json!({"text": record["text"]})),
        payload => fingerprint(payload),
    }
}

/// A message as text, numbers in one form (the store keeps `60.0` as `60`, as DynamoDB does).
fn fingerprint(message: &Value) -> String {
    fn canonical(value: &Value) -> Value {
        match value {
            Value::Number(n) => json!(n.as_f64()),
            Value::Array(items) => Value::Array(items.iter().map(canonical).collect()),
            Value::Object(map) => {
                Value::Object(map.iter().map(|(k, v)| (k.clone(), canonical(v))).collect())
            }
            other => other.clone(),
        }
    }
    canonical(message).to_string()
}

async fn verify_messenger(
    load: &Load,
    journal: &Journal,
    n: usize,
    shop: &Shop,
    orders: &BTreeMap<String, (Value, Vec<Value>)>,
    graph: &FakeGraph,
) {
    let api = &load.api;
    // The fake numbers its answers: the k-th message sent got `m_k`.
    let sent: Vec<(String, String, String)> = graph
        .requests()
        .into_iter()
        .filter(|r| r.path.ends_with("/messages") && r.message().is_some())
        .enumerate()
        .map(|(k, r)| {
            (
                format!("m_{}", k + 1),
                r.recipient().unwrap_or_default().to_owned(),
                fingerprint(r.message().unwrap()),
            )
        })
        .collect();
    let delivered: Vec<&Delivered> = journal.webhooks.iter().filter(|w| w.shop == n).collect();
    let events = api.all("/v1/events", &shop.admin).await;
    for (_, psid) in journal.conversations.iter().filter(|(s, _)| *s == n) {
        let path = format!("/v1/pages/{}/conversations/{psid}/messages", shop.page);
        let mut messages = api.all(&path, &shop.admin).await;
        messages.reverse(); // oldest first
        // Every acknowledged delivery is there exactly once, and the bot answered it.
        for w in delivered.iter().filter(|w| &w.psid == psid) {
            let at: Vec<usize> = (0..messages.len())
                .filter(|&i| {
                    messages[i]["direction"] == "in" && messages[i]["mid"] == w.mid.as_str()
                })
                .collect();
            assert_eq!(at.len(), 1, "{} in {psid}: {messages:#?}", w.mid);
            assert!(
                messages
                    .get(at[0] + 1)
                    .is_some_and(|m| m["direction"] == "out"),
                "{} unanswered: {messages:#?}",
                w.mid
            );
        }
        // Each record was sent at most once: no call without a record, never one record twice.
        let mut recorded: HashMap<String, i64> = HashMap::new();
        for m in messages.iter().filter(|m| m["direction"] == "out") {
            *recorded.entry(fingerprint_of_record(m)).or_default() += 1;
        }
        let mut calls: HashMap<String, i64> = HashMap::new();
        for (_, _, message) in sent.iter().filter(|(_, to, _)| to == psid) {
            *calls.entry(message.clone()).or_default() += 1;
        }
        for (message, count) in &calls {
            let records = recorded.get(message).copied().unwrap_or(0);
            assert!(
                *count <= records,
                "sent {count} times, recorded {records} times to {psid}: {message}\n{messages:#?}"
            );
        }
        for m in messages
            .iter()
            .filter(|m| m["direction"] == "out" && m["delivery"] == "sent")
        {
            let mid = m["mid"].as_str().unwrap();
            let call = sent.iter().find(|(k, _, _)| k == mid);
            assert!(
                call.is_some_and(
                    |(_, to, message)| to == psid && *message == fingerprint_of_record(m)
                ),
                "{m} does not match its Send API call {call:?}"
            );
        }
        // The bot placed at most one order for the conversation, and it was told of every move.
        let placed: Vec<&(Value, Vec<Value>)> = orders
            .values()
            .filter(|(o, _)| o["channel"]["psid"] == psid.as_str())
            .collect();
        assert!(placed.len() <= 1, "{psid} ordered {}", placed.len());
        for (order, history) in placed {
            for entry in &history[1..] {
                let event = events
                    .iter()
                    .find(|e| {
                        order_of(e) == order["id"].as_str() && e["sequence"] == entry["version"]
                    })
                    .unwrap();
                assert!(
                    messages.iter().any(|m| m["id"] == event["event_id"]),
                    "{psid} never heard of {event}"
                );
            }
        }
    }
}
