//! Mixed load against the real server process.
//!
//! 1. A bare axum handler (the floor of this machine's HTTP path, in the load generator's own
//!    process), then many restaurants at once: customers read menus and place orders with an
//!    Idempotency-Key, the kitchen moves orders through every status, Messenger webhooks arrive
//!    and the bot answers them. Throughput and p50/p99 per route, and the server's resident
//!    memory from the start of the load to its end, sampled every minute.
//! 2. A noisy restaurant: one tenant measured at a steady rate, alone and then while another
//!    tenant floods the API, with the per-tenant rate limit on and then off.
//!
//! Run:
//!
//!     scripts/bench                                        (ten minutes of mixed load)
//!     BENCH_SECONDS=60 cargo bench -p fanorder-api --bench mixed
//!
//! Knobs: `BENCH_SECONDS` (mixed load, default 600), `BENCH_CLIENTS` (concurrent clients, 32),
//! `BENCH_TENANTS` (40), `BENCH_NOISY_SECONDS` (each noisy-tenant phase, 30; 0 skips them).
#![expect(clippy::unwrap_used, reason = "a benchmark stops at the first failure")]
#![expect(clippy::print_stdout, reason = "a benchmark prints its table")]

mod common;

use std::collections::{BTreeMap, HashMap};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, RwLock};
use std::time::{Duration, Instant};

use common::{percentile, start_graph};
use fanorder_api::simulate::{Act, payload};
use serde_json::{Value, json};

const APP_SECRET: &str = "bench-app-secret";
const CUSTOMERS_PER_TENANT: usize = 3;
const ITEMS_PER_TENANT: usize = 12;
/// The measured tenant's steady rate in the noisy-tenant runs (under its 100/s limit).
const QUIET_RATE: u64 = 50;

fn knob(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// `fanorder serve` in its own process on a fresh embedded store.
struct Server {
    child: Child,
    base: String,
    dir: tempfile::TempDir,
}

impl Server {
    /// Starts the server, on the given CPUs when `cpus` is set (`taskset -c`).
    fn start(graph: &str, env: &[(&str, &str)], cpus: Option<&str>) -> Server {
        let dir = tempfile::tempdir().unwrap();
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let log = std::fs::File::create(dir.path().join("server.log")).unwrap();
        let binary = env!("CARGO_BIN_EXE_fanorder");
        let mut command = match cpus {
            Some(cpus) => {
                let mut taskset = Command::new("taskset");
                taskset.args(["-c", cpus, binary]);
                taskset
            }
            None => Command::new(binary),
        };
        command
            .arg("serve")
            .env_clear()
            .env("FANORDER_ADDR", format!("127.0.0.1:{port}"))
            .env(
                "FANORDER_STORE",
                format!("sqlite:{}", dir.path().join("bench.db").display()),
            )
            .env("FANORDER_FB_APP_SECRET", APP_SECRET)
            .env("FANORDER_GRAPH_API_URL", graph)
            .env("FANORDER_GRAPH_RATE_PER_PAGE", "1000")
            .env("FANORDER_PUBLIC_RATE_PER_MINUTE", "0")
            .env("RUST_LOG", "warn")
            .stdout(Stdio::null())
            .stderr(log);
        for (name, value) in env {
            command.env(name, value);
        }
        Server {
            child: command.spawn().unwrap(),
            base: format!("http://127.0.0.1:{port}"),
            dir,
        }
    }

    async fn ready(&self, http: &reqwest::Client) {
        let deadline = Instant::now() + Duration::from_secs(30);
        while Instant::now() < deadline {
            if let Ok(r) = http.get(format!("{}/readyz", self.base)).send().await
                && r.status().is_success()
            {
                return;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        let log = std::fs::read_to_string(self.dir.path().join("server.log"));
        panic!(
            "the server did not become ready: {}",
            log.unwrap_or_default()
        );
    }

    /// Resident memory in MiB from /proc: (all, anonymous: the heap and SQLite's page caches).
    fn rss_mib(&self) -> (f64, f64) {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.child.id())).unwrap();
        let field = |name: &str| -> f64 {
            let kib: f64 = status
                .lines()
                .find_map(|l| l.strip_prefix(name))
                .and_then(|v| v.split_whitespace().next())
                .and_then(|v| v.parse().ok())
                .unwrap();
            kib / 1024.0
        };
        (field("VmRSS:"), field("RssAnon:"))
    }

    /// The embedded store's size on disk in MiB (database and write-ahead log).
    fn store_mib(&self) -> f64 {
        let bytes: u64 = ["bench.db", "bench.db-wal"]
            .iter()
            .filter_map(|f| std::fs::metadata(self.dir.path().join(f)).ok())
            .map(|m| m.len())
            .sum();
        bytes as f64 / (1024.0 * 1024.0)
    }

    /// One line of the memory series.
    fn memory_at(&self, at: Duration) -> String {
        let (rss, anon) = self.rss_mib();
        format!(
            "| {} | {rss:.0} | {anon:.0} | {:.0} |",
            at.as_secs(),
            self.store_mib()
        )
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[derive(Clone, Copy)]
struct Placed {
    version: u64,
    status: usize,
}

/// The kitchen's path for a cash delivery, from the status it is placed in.
const PATH: [&str; 5] = [
    "PAID",
    "IN_KITCHEN",
    "READY",
    "OUT_FOR_DELIVERY",
    "DELIVERED",
];

/// An account's tokens. Access tokens live 15 minutes, so a long run refreshes them as a real
/// client does (see [`refresh_all`]); requests read the current one.
struct Login {
    access: RwLock<String>,
    refresh: Mutex<String>,
}

impl Login {
    fn from(body: &Value) -> Login {
        Login {
            access: RwLock::new(body["access_token"].as_str().unwrap().to_owned()),
            refresh: Mutex::new(body["refresh_token"].as_str().unwrap().to_owned()),
        }
    }

    fn access(&self) -> String {
        self.access.read().unwrap().clone()
    }

    /// Exchanges the refresh token for new tokens.
    async fn refresh(&self, http: &reqwest::Client, base: &str) {
        let refresh = self.refresh.lock().unwrap().clone();
        let body = post(
            http,
            format!("{base}/v1/auth/refresh"),
            "",
            &json!({"refresh_token": refresh}),
        )
        .await;
        let fresh = Login::from(&body);
        *self.access.write().unwrap() = fresh.access.into_inner().unwrap();
        *self.refresh.lock().unwrap() = fresh.refresh.into_inner().unwrap();
    }
}

/// Refreshes every account's tokens every ten minutes until `until`.
async fn refresh_all(
    http: reqwest::Client,
    base: String,
    tenants: Arc<Vec<Tenant>>,
    until: Instant,
) {
    let every = Duration::from_secs(600);
    while Instant::now() + every < until {
        tokio::time::sleep(every).await;
        for tenant in tenants.iter() {
            tenant.admin.refresh(&http, &base).await;
            for customer in &tenant.customers {
                customer.refresh(&http, &base).await;
            }
        }
    }
}

struct Tenant {
    admin: Login,
    customers: Vec<Login>,
    items: Vec<String>,
    page: String,
    /// Orders still moving, by id; a client takes one out while it moves it.
    moving: Mutex<HashMap<String, Placed>>,
}

async fn post(http: &reqwest::Client, url: String, token: &str, body: &Value) -> Value {
    let response = http.post(url).bearer_auth(token).json(body).send().await;
    let response = response.unwrap();
    let status = response.status();
    let body: Value = response.json().await.unwrap_or(Value::Null);
    assert!(status.is_success(), "{status}: {body}");
    body
}

/// A restaurant with a menu, customers and a connected page.
async fn open_tenant(http: &reqwest::Client, base: &str, n: usize) -> Tenant {
    let suffix = fanorder_platform::id::new_ulid().to_string().to_lowercase();
    let signup = post(
        http,
        format!("{base}/v1/tenants"),
        "",
        &json!({"name": format!("Bench Kitchen {n}"), "slug": format!("b-{suffix}"),
            "currency": "THB", "time_zone": "Asia/Bangkok",
            "owner": {"email": format!("o-{suffix}@example.com"), "password": "bench-password-1", "name": "O"}}),
    )
    .await;
    let admin = Login::from(&signup);
    let slug = format!("b-{suffix}");
    let mut items = Vec::new();
    for i in 0..ITEMS_PER_TENANT {
        let name = if i == 0 {
            "Pad thai".to_owned()
        } else {
            format!("Dish {i}")
        };
        let item = post(
            http,
            format!("{base}/v1/menu/items"),
            &admin.access(),
            &json!({"name": name, "price": 5000 + 500 * i, "keywords": {"en": [name.to_lowercase()]}}),
        )
        .await;
        items.push(item["id"].as_str().unwrap().to_owned());
    }
    let mut customers = Vec::new();
    for c in 0..CUSTOMERS_PER_TENANT {
        let body = post(
            http,
            format!("{base}/v1/customers"),
            "",
            &json!({"tenant": slug, "email": format!("c{c}-{suffix}@example.com"),
                "password": "customer-password-1", "name": "Ana"}),
        )
        .await;
        customers.push(Login::from(&body));
    }
    let page = format!(
        "9{:014}",
        fanorder_platform::id::new_ulid().0 % 10u128.pow(14)
    );
    post(
        http,
        format!("{base}/v1/pages"),
        &admin.access(),
        &json!({"page_id": page, "name": "Bench page", "access_token": "EAAGbench"}),
    )
    .await;
    Tenant {
        admin,
        customers,
        items,
        page,
        moving: Mutex::default(),
    }
}

/// Latencies and refusals per route.
#[derive(Default)]
struct Stats {
    samples: BTreeMap<&'static str, Vec<Duration>>,
    /// Refusals by route, status and problem code.
    refused: BTreeMap<(&'static str, u16, String), u64>,
}

impl Stats {
    fn note(&mut self, route: &'static str, status: u16, body: &Value, took: Duration) {
        if (200..300).contains(&status) {
            self.samples.entry(route).or_default().push(took);
        } else {
            let code = body["code"].as_str().unwrap_or_default().to_owned();
            *self.refused.entry((route, status, code)).or_default() += 1;
        }
    }

    fn merge(&mut self, other: Stats) {
        for (route, samples) in other.samples {
            self.samples.entry(route).or_default().extend(samples);
        }
        for (key, n) in other.refused {
            *self.refused.entry(key).or_default() += n;
        }
    }

    fn print(&mut self, seconds: f64) {
        println!("| route | ok/s | p50 ms | p99 ms |");
        println!("|---|---:|---:|---:|");
        let mut total = 0;
        for (route, samples) in &mut self.samples {
            total += samples.len();
            println!(
                "| {route} | {:.0} | {:.2} | {:.2} |",
                samples.len() as f64 / seconds,
                percentile(samples, 0.5),
                percentile(samples, 0.99)
            );
        }
        println!("| all | {:.0} | | |", total as f64 / seconds);
        for ((route, status, code), n) in &self.refused {
            println!("refused: {route} {status} {code} x{n}");
        }
    }
}

/// One client's loop of the mixed load until `until`.
async fn mixed_client(
    http: reqwest::Client,
    base: String,
    tenants: Arc<Vec<Tenant>>,
    until: Instant,
    seed: u64,
) -> Stats {
    let mut rng = fastrand_like(seed);
    let mut stats = Stats::default();
    while Instant::now() < until {
        let tenant = &tenants[(rng() % tenants.len() as u64) as usize];
        let customer = tenant.customers[(rng() % CUSTOMERS_PER_TENANT as u64) as usize].access();
        let roll = rng() % 100;
        let moving = if (40..65).contains(&roll) {
            let mut moving = tenant.moving.lock().unwrap();
            let id = moving.keys().next().cloned();
            id.and_then(|id| moving.remove(&id).map(|placed| (id, placed)))
        } else {
            None
        };
        let (route, request) = if let Some((id, placed)) = &moving {
            let request = http
                .post(format!("{base}/v1/orders/{id}/transitions"))
                .bearer_auth(tenant.admin.access())
                .json(&json!({"to": PATH[placed.status + 1], "version": placed.version}));
            ("POST /v1/orders/{id}/transitions", request)
        } else if roll < 60 {
            let request = http.get(format!("{base}/v1/menu")).bearer_auth(&customer);
            ("GET /v1/menu", request)
        } else if roll < 85 {
            let lines: Vec<Value> = (0..1 + rng() % 3)
                .map(|_| {
                    let item = &tenant.items[(rng() % ITEMS_PER_TENANT as u64) as usize];
                    json!({"item_id": item, "quantity": 1 + rng() % 2})
                })
                .collect();
            let key = fanorder_platform::id::new_ulid().to_string();
            let request = http
                .post(format!("{base}/v1/orders"))
                .bearer_auth(&customer)
                .header("idempotency-key", key)
                .json(&json!({"fulfillment": "delivery", "payment_method": "cash",
                    "address": {"line1": "12 Sukhumvit"}, "lines": lines}));
            ("POST /v1/orders", request)
        } else {
            let psid = format!("{}", 1_000_000 + rng() % 5_000);
            let now = jiff::Timestamp::now().as_millisecond();
            let text = Act::Text("2 pad thai".to_owned());
            let body = payload(&tenant.page, &psid, &text, now).to_string();
            let signature = fanorder_messenger::sign(APP_SECRET.as_bytes(), body.as_bytes());
            let request = http
                .post(format!("{base}/webhooks/messenger"))
                .header("content-type", "application/json")
                .header("x-hub-signature-256", signature)
                .body(body);
            ("POST /webhooks/messenger", request)
        };
        let started = Instant::now();
        let response = request.send().await.unwrap();
        let status = response.status().as_u16();
        let bytes = response.bytes().await.unwrap();
        let took = started.elapsed();
        let body: Value = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
        if status == 201 && moving.is_none() {
            // A new order: PAID (cash) and ready for the kitchen.
            let id = body["id"].as_str().unwrap().to_owned();
            let version = body["version"].as_u64().unwrap();
            let placed = Placed { version, status: 0 };
            tenant.moving.lock().unwrap().insert(id, placed);
        }
        if let Some((id, placed)) = moving
            && status == 200
            && placed.status + 2 < PATH.len()
        {
            let next = Placed {
                version: body["version"].as_u64().unwrap(),
                status: placed.status + 1,
            };
            tenant.moving.lock().unwrap().insert(id, next);
        }
        stats.note(route, status, &body, took);
    }
    stats
}

/// A small deterministic generator (xorshift64*), so runs can be compared.
fn fastrand_like(seed: u64) -> impl FnMut() -> u64 {
    let mut state = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    move || {
        state ^= state >> 12;
        state ^= state << 25;
        state ^= state >> 27;
        state.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
}

/// The bare handler: a small JSON body, nothing else.
async fn bare_floor(http: &reqwest::Client, clients: u64) -> Stats {
    let app = axum::Router::new().route(
        "/v1/menu",
        axum::routing::get(|| async { axum::Json(json!({"items": [{"name": "Pad thai"}]})) }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    let until = Instant::now() + Duration::from_secs(10);
    let tasks: Vec<_> = (0..clients)
        .map(|_| {
            let http = http.clone();
            tokio::spawn(async move {
                let mut stats = Stats::default();
                while Instant::now() < until {
                    let started = Instant::now();
                    let response = http.get(format!("http://{addr}/v1/menu")).send().await;
                    let status = response.unwrap().status().as_u16();
                    stats.note("bare axum GET", status, &Value::Null, started.elapsed());
                }
                stats
            })
        })
        .collect();
    let mut stats = Stats::default();
    for task in tasks {
        stats.merge(task.await.unwrap());
    }
    stats
}

async fn mixed(http: &reqwest::Client, graph: &str) {
    let seconds = knob("BENCH_SECONDS", 600);
    let clients = knob("BENCH_CLIENTS", 32);
    let tenants = knob("BENCH_TENANTS", 40) as usize;
    let mut bare = bare_floor(http, clients).await;
    // This part measures the server, not its limits: the per-tenant limit is off.
    let server = Server::start(graph, &[("FANORDER_TENANT_RATE_PER_SECOND", "0")], None);
    server.ready(http).await;
    let mut opened = Vec::new();
    for n in 0..tenants {
        opened.push(open_tenant(http, &server.base, n).await);
    }
    let tenants = Arc::new(opened);
    let started = Instant::now();
    let mut memory = vec![server.memory_at(Duration::ZERO)];
    let until = started + Duration::from_secs(seconds);
    let refresher = tokio::spawn(refresh_all(
        http.clone(),
        server.base.clone(),
        tenants.clone(),
        until,
    ));
    let tasks: Vec<_> = (0..clients)
        .map(|c| {
            tokio::spawn(mixed_client(
                http.clone(),
                server.base.clone(),
                tenants.clone(),
                until,
                c + 1,
            ))
        })
        .collect();
    while Instant::now() < until {
        tokio::time::sleep(Duration::from_secs(60).min(until - Instant::now())).await;
        let line = server.memory_at(started.elapsed());
        eprintln!("memory: {line}");
        memory.push(line);
    }
    refresher.await.unwrap();
    let mut stats = Stats::default();
    for task in tasks {
        stats.merge(task.await.unwrap());
    }
    let took = started.elapsed().as_secs_f64();
    println!(
        "mixed load: {} restaurants, {clients} clients, {seconds} s; bare handler 10 s, same clients",
        tenants.len()
    );
    bare.print(10.0);
    stats.print(took);
    println!();
    println!("| s | server RSS MiB | of it anonymous | store on disk MiB |");
    println!("|---:|---:|---:|---:|");
    for line in memory {
        println!("{line}");
    }
}

/// The measured tenant at a steady rate for `for_`, alternating menu reads and orders: p50, p99.
async fn steady(http: &reqwest::Client, base: &str, tenant: &Tenant, for_: Duration) -> Stats {
    let mut tick = tokio::time::interval(Duration::from_micros(1_000_000 / QUIET_RATE));
    let until = Instant::now() + for_;
    let mut pending = Vec::new();
    let mut n = 0u64;
    while Instant::now() < until {
        tick.tick().await;
        n += 1;
        let http = http.clone();
        let customer = tenant.customers[0].access();
        let item = tenant.items[0].clone();
        let base = base.to_owned();
        pending.push(tokio::spawn(async move {
            let started = Instant::now();
            if n.is_multiple_of(2) {
                let r = http.get(format!("{base}/v1/menu")).bearer_auth(&customer);
                let status = r.send().await.unwrap().status().as_u16();
                ("GET /v1/menu", status, started.elapsed())
            } else {
                let body = json!({"fulfillment": "pickup", "payment_method": "cash",
                    "lines": [{"item_id": item, "quantity": 1}]});
                let r = http
                    .post(format!("{base}/v1/orders"))
                    .bearer_auth(&customer);
                let status = r.json(&body).send().await.unwrap().status().as_u16();
                ("POST /v1/orders", status, started.elapsed())
            }
        }));
    }
    let mut stats = Stats::default();
    for task in pending {
        let (route, status, took) = task.await.unwrap();
        stats.note(route, status, &Value::Null, took);
    }
    stats
}

/// A tenant's integration gone wrong: `clients` requests in flight at all times.
async fn flood(
    http: reqwest::Client,
    base: String,
    tenant: Arc<Tenant>,
    clients: u64,
    until: Instant,
) -> (u64, u64) {
    let ok = Arc::new(AtomicU64::new(0));
    let limited = Arc::new(AtomicU64::new(0));
    let tasks: Vec<_> = (0..clients)
        .map(|_| {
            let (http, base, tenant) = (http.clone(), base.clone(), tenant.clone());
            let (ok, limited) = (ok.clone(), limited.clone());
            tokio::spawn(async move {
                while Instant::now() < until {
                    let r = http.get(format!("{base}/v1/menu"));
                    let r = r.bearer_auth(tenant.customers[0].access()).send().await;
                    let r = r.unwrap();
                    match r.status().as_u16() {
                        200 => ok.fetch_add(1, Ordering::Relaxed),
                        429 => limited.fetch_add(1, Ordering::Relaxed),
                        other => panic!("flood got {other}"),
                    };
                    let _ = r.bytes().await;
                }
            })
        })
        .collect();
    for task in tasks {
        task.await.unwrap();
    }
    (ok.load(Ordering::Relaxed), limited.load(Ordering::Relaxed))
}

/// Keeps the load generator and the server on different cores, so that a flood measures how
/// the server shares itself between tenants rather than the two processes' fight for the CPUs:
/// the server gets the last core, this process the others. Returns the server's CPU list, or
/// `None` (nothing pinned) on one core or without `taskset`.
fn pin() -> Option<String> {
    let cores = std::thread::available_parallelism().ok()?.get();
    if cores < 2 {
        return None;
    }
    let clients = format!("0-{}", cores - 2);
    let pinned = Command::new("taskset")
        .args(["-a", "-p", "-c", &clients, &std::process::id().to_string()])
        .stdout(Stdio::null())
        .status()
        .ok()?
        .success();
    pinned.then(|| (cores - 1).to_string())
}

async fn noisy(http: &reqwest::Client, graph: &str) {
    let phase = Duration::from_secs(knob("BENCH_NOISY_SECONDS", 30));
    let server_cpus = pin();
    let clients = knob("BENCH_CLIENTS", 32);
    println!();
    println!(
        "noisy tenant: the quiet one at {QUIET_RATE} req/s (menu reads and pickups), {} s alone then {} s while the noisy one keeps {clients} requests in flight",
        phase.as_secs(),
        phase.as_secs()
    );
    match &server_cpus {
        Some(cpus) => println!("server pinned to CPU {cpus}, load generator to the others"),
        None => println!("server and load generator share the CPUs"),
    }
    println!(
        "| per-tenant limit | quiet p50 / p99 ms | during the flood p50 / p99 ms | p99 ratio | noisy: served / 429 per s |"
    );
    println!("|---|---:|---:|---:|---:|");
    for (name, limit) in [("100/s, burst 200 (default)", None), ("off", Some("0"))] {
        let env: Vec<(&str, &str)> = limit
            .map(|l| vec![("FANORDER_TENANT_RATE_PER_SECOND", l)])
            .unwrap_or_default();
        let server = Server::start(graph, &env, server_cpus.as_deref());
        server.ready(http).await;
        let quiet = open_tenant(http, &server.base, 0).await;
        let loud = Arc::new(open_tenant(http, &server.base, 1).await);
        let mut alone = steady(http, &server.base, &quiet, phase).await;
        let until = Instant::now() + phase;
        let flooding = tokio::spawn(flood(
            http.clone(),
            server.base.clone(),
            loud,
            clients,
            until,
        ));
        let mut crowded = steady(http, &server.base, &quiet, phase).await;
        let (served, limited) = flooding.await.unwrap();
        let all = |s: &mut Stats| {
            let mut v: Vec<Duration> = s.samples.values().flatten().copied().collect();
            (percentile(&mut v, 0.5), percentile(&mut v, 0.99))
        };
        let (a50, a99) = all(&mut alone);
        let (c50, c99) = all(&mut crowded);
        let secs = phase.as_secs_f64();
        println!(
            "| {name} | {a50:.2} / {a99:.2} | {c50:.2} / {c99:.2} | {:.2} | {:.0} / {:.0} |",
            c99 / a99,
            served as f64 / secs,
            limited as f64 / secs
        );
        for ((route, status, _), n) in alone.refused.iter().chain(&crowded.refused) {
            println!("quiet tenant refused: {route} {status} x{n}");
        }
    }
}

fn main() {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let graph = format!("http://{}", start_graph(Default::default()).await);
        let http = reqwest::Client::builder()
            .pool_max_idle_per_host(256)
            .build()
            .unwrap();
        if knob("BENCH_SECONDS", 600) > 0 {
            mixed(&http, &graph).await;
        }
        if knob("BENCH_NOISY_SECONDS", 30) > 0 {
            noisy(&http, &graph).await;
        }
    });
}
