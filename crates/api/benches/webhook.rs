//! Webhook benchmark.
//!
//! 1. Signed webhook POSTs acknowledged per second by the whole application (signature, parse,
//!    route, dedupe persisted on the embedded store, bot worker running) against a bare axum
//!    handler that only checks the HMAC and parses, side by side in one run, at each number of
//!    concurrent clients in `BENCH_CLIENTS` (default `32,128`). At 32 the bare handler already
//!    fills both cores, while the intake's requests still spend much of their time waiting for
//!    their group's fsync; at 128 both are saturated, which is what acknowledgements per second
//!    (a capacity) compares.
//! 2. Webhook to Send API: a customer's message at a steady rate, timed from the POST to the
//!    bot's reply arriving at a fake Graph API.
//!
//!     cargo bench -p fanorder-api --bench webhook
//!
//! `BENCH_LOG=json` (or `pretty`) logs at `info` as `fanorder serve` does, to stderr.
#![expect(clippy::unwrap_used, reason = "a benchmark stops at the first failure")]
#![expect(clippy::print_stdout, reason = "a benchmark prints its table")]

mod common;

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use axum::body::Bytes;
use axum::http::{HeaderMap, Request, StatusCode, Uri};
use common::{Arrivals, percentile, start_graph};
use fanorder_api::simulate::{Act, payload};
use fanorder_api::{AppState, build_router};
use fanorder_platform::config::LogFormat;
use fanorder_platform::{Clock, Config, Secret, Secrets};
use serde_json::{Value, json};

const RUN_FOR: Duration = Duration::from_secs(5);
/// The numbers of concurrent clients to measure at (`BENCH_CLIENTS`, comma-separated).
fn client_counts() -> Vec<usize> {
    let counts = std::env::var("BENCH_CLIENTS").unwrap_or_else(|_| "32,128".to_owned());
    counts
        .split(',')
        .map(|n| {
            n.trim()
                .parse()
                .expect("BENCH_CLIENTS: numbers separated by commas")
        })
        .collect()
}
/// The load generators to measure with (`BENCH_GENERATORS`: `reqwest`, `light`, or both,
/// comma-separated; both by default).
fn generators() -> Vec<Generator> {
    let names = std::env::var("BENCH_GENERATORS").unwrap_or_else(|_| "reqwest,light".to_owned());
    names
        .split(',')
        .map(|name| match name.trim() {
            "reqwest" => Generator::Reqwest,
            "light" => Generator::Light,
            other => panic!("BENCH_GENERATORS: reqwest or light, not {other:?}"),
        })
        .collect()
}
const ROUNDS: usize = 3;
const STEADY_RATE: u64 = 100;
const STEADY_FOR: Duration = Duration::from_secs(10);

fn secrets() -> Secrets {
    Secrets::new(Secret::new(vec![5; 32]))
}

/// An application under test: its address, its state (to see its queue) and the directory
/// of its database (removed when the run ends).
struct App {
    addr: SocketAddr,
    state: AppState,
    _dir: tempfile::TempDir,
}

/// The whole application on the embedded store, with its workers.
async fn start_app(graph: Option<String>, bot: bool, durability: &str) -> App {
    let secrets = secrets();
    let dir = tempfile::tempdir().unwrap();
    let config_for_store = Config {
        store: fanorder_platform::StoreUrl::Sqlite(dir.path().join("bench.db")),
        sqlite_durability: durability.to_owned(),
        ..Config::default()
    };
    let table = fanorder_api::open_table(&config_for_store, &secrets, Clock::system())
        .await
        .unwrap();
    let config = Config {
        graph_api_url: graph,
        sqlite_durability: durability.to_owned(),
        graph_rate_per_page: Some(1000),
        ..Config::default()
    };
    let state = AppState::new(table, config, &secrets, Clock::system()).unwrap();
    if bot {
        let workers = fanorder_api::workers::spawn(&state).await;
        std::mem::forget(workers);
    }
    let addr = listen(build_router(state.clone())).await;
    App {
        addr,
        state,
        _dir: dir,
    }
}

/// The webhook route of `app` alone, without the middleware stack: what the stack costs.
async fn unwrapped_intake(app: &App) -> SocketAddr {
    let (routes, _) = fanorder_pages::intake::router::<AppState>().split_for_parts();
    listen(routes.with_state(app.state.clone())).await
}

async fn listen(router: axum::Router) -> SocketAddr {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let app = router.into_make_service_with_connect_info::<SocketAddr>();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    addr
}

/// Waits until the bot has answered every stored event, so that its backlog does not run
/// into the next measurement.
async fn drained(app: &App) {
    let table = &app.state.table;
    loop {
        let mut waiting = 0;
        for shard in 0..fanorder_pages::store::INBOX_SHARDS {
            waiting += fanorder_pages::store::pending_inbox(table, shard, 1)
                .await
                .unwrap()
                .len();
        }
        if waiting == 0 {
            return;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// The bare handler: the HMAC check over the raw body and the parse, nothing else.
async fn start_bare() -> SocketAddr {
    let secret = secrets().fb_app_secret.expose().to_vec();
    let app = axum::Router::new().route(
        "/webhooks/messenger",
        axum::routing::post(move |headers: HeaderMap, body: Bytes| {
            let secret = secret.clone();
            async move {
                let signature = headers
                    .get("x-hub-signature-256")
                    .and_then(|v| v.to_str().ok());
                if !fanorder_messenger::signature_valid(&secret, signature, &body) {
                    return StatusCode::UNAUTHORIZED;
                }
                match fanorder_messenger::parse(&body) {
                    Ok(_) => StatusCode::OK,
                    Err(_) => StatusCode::BAD_REQUEST,
                }
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    addr
}

/// Signs up a restaurant and connects a page (with a token when given); returns the page id.
async fn connect_page(http: &reqwest::Client, base: &str, token: Option<&str>) -> String {
    let suffix = fanorder_platform::id::new_ulid().to_string().to_lowercase();
    let signup: Value = http
        .post(format!("{base}/v1/tenants"))
        .json(&json!({"name": "Bench Kitchen", "slug": format!("b-{suffix}"), "currency": "THB",
            "time_zone": "Asia/Bangkok",
            "owner": {"email": format!("o-{suffix}@example.com"), "password": "bench-password-1", "name": "O"}}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let admin = signup["access_token"].as_str().unwrap().to_owned();
    http.post(format!("{base}/v1/menu/items"))
        .bearer_auth(&admin)
        .json(&json!({"name": "Pad thai", "price": 12000}))
        .send()
        .await
        .unwrap();
    let page = format!("9{}", &suffix.len().to_string());
    let page = format!(
        "{page}{}",
        fanorder_platform::id::new_ulid().0 % 10u128.pow(14)
    );
    let mut body = json!({"page_id": page, "name": "Bench page"});
    if let Some(token) = token {
        body["access_token"] = json!(token);
    }
    let status = http
        .post(format!("{base}/v1/pages"))
        .bearer_auth(&admin)
        .json(&body)
        .send()
        .await
        .unwrap()
        .status();
    assert_eq!(status, 201);
    page
}

/// A message id shaped like Facebook's: `m_` and 86 random characters. (`simulate`'s ids are
/// ULIDs, which sort by time: keyed by them, the inbox wrote its key index in order, which real
/// ids never allowed; BENCHMARKS.md.)
fn facebook_mid() -> String {
    use base64::Engine as _;
    let mid: [u8; 64] = rand::random();
    format!(
        "m_{}",
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(mid)
    )
}

/// A signed one-message body, as `simulate` builds it, with a Facebook-shaped message id.
fn signed(page: &str, psid: &str, words: &str) -> (String, String) {
    let now = jiff::Timestamp::now().as_millisecond();
    let mut body = payload(page, psid, &Act::Text(words.to_owned()), now);
    body["entry"][0]["messaging"][0]["message"]["mid"] = json!(facebook_mid());
    sign(body.to_string())
}

fn sign(body: String) -> (String, String) {
    let signature = fanorder_messenger::sign(secrets().fb_app_secret.expose(), body.as_bytes());
    (body, signature)
}

/// Posts a signed webhook body with reqwest; its status.
async fn post_signed(
    http: &reqwest::Client,
    url: &str,
    (body, signature): (String, String),
) -> StatusCode {
    http.post(url)
        .header("content-type", "application/json")
        .header("x-hub-signature-256", signature)
        .body(body)
        .send()
        .await
        .unwrap()
        .status()
}

/// Who posts the bodies. The generator shares the 2 cores with the server, so each ratio
/// carries its cost on both sides, and a lighter generator shows less flattering ratios.
#[derive(Clone, Copy, Debug)]
enum Generator {
    /// reqwest, each body built as a JSON tree and signed: a client as an integrator writes one.
    Reqwest,
    /// One hyper HTTP/1.1 connection per client, each body spliced from a template (the bytes
    /// [`signed`] gives but for the customer, the time and the message id) and signed.
    Light,
}

/// What every customer of the flood says.
const WORDS: &str = "2 pad thai";
const PSID_MARK: &str = "@psid@";
const MID_MARK: &str = "@mid@";
const TIME_MARK: &str = "4444444444444";

/// One client's way of posting: its generator, and what it keeps between requests.
enum Poster {
    Reqwest {
        http: reqwest::Client,
        url: String,
        page: String,
    },
    Light {
        sender: hyper::client::conn::http1::SendRequest<http_body_util::Full<Bytes>>,
        uri: Uri,
        template: String,
    },
}

impl Poster {
    async fn connect(generator: Generator, http: &reqwest::Client, url: &str, page: &str) -> Self {
        match generator {
            Generator::Reqwest => Self::Reqwest {
                http: http.clone(),
                url: url.to_owned(),
                page: page.to_owned(),
            },
            Generator::Light => {
                let uri: Uri = url.parse().unwrap();
                let stream = tokio::net::TcpStream::connect(uri.authority().unwrap().as_str())
                    .await
                    .unwrap();
                stream.set_nodelay(true).unwrap();
                let (sender, connection) =
                    hyper::client::conn::http1::handshake(hyper_util::rt::TokioIo::new(stream))
                        .await
                        .unwrap();
                tokio::spawn(connection);
                let mut template = payload(
                    page,
                    PSID_MARK,
                    &Act::Text(WORDS.to_owned()),
                    TIME_MARK.parse().unwrap(),
                );
                template["entry"][0]["messaging"][0]["message"]["mid"] = json!(MID_MARK);
                Self::Light {
                    sender,
                    uri,
                    template: template.to_string(),
                }
            }
        }
    }

    /// A signed body from `psid` saying [`WORDS`], sent now.
    fn body(&self, psid: &str) -> (String, String) {
        match self {
            Self::Reqwest { page, .. } => signed(page, psid, WORDS),
            Self::Light { template, .. } => {
                let now = jiff::Timestamp::now().as_millisecond();
                sign(
                    template
                        .replace(PSID_MARK, psid)
                        .replace(TIME_MARK, &now.to_string())
                        .replace(MID_MARK, &facebook_mid()),
                )
            }
        }
    }

    async fn post(&mut self, (body, signature): (String, String)) -> StatusCode {
        match self {
            Self::Reqwest { http, url, .. } => post_signed(http, url, (body, signature)).await,
            Self::Light { sender, uri, .. } => {
                use http_body_util::BodyExt as _;
                let request = Request::post(uri.clone())
                    .header("host", uri.authority().unwrap().as_str())
                    .header("content-type", "application/json")
                    .header("x-hub-signature-256", signature)
                    .body(http_body_util::Full::new(Bytes::from(body)))
                    .unwrap();
                sender.ready().await.unwrap();
                let response = sender.send_request(request).await.unwrap();
                let status = response.status();
                response.into_body().collect().await.unwrap();
                status
            }
        }
    }
}

/// `clients` clients posting signed one-event bodies for `RUN_FOR`: (acks/s, p50 ms, p99 ms).
async fn flood(
    http: &reqwest::Client,
    generator: Generator,
    clients: usize,
    url: &str,
    page: &str,
) -> (f64, f64, f64) {
    let mut posters = Vec::with_capacity(clients);
    for _ in 0..clients {
        posters.push(Poster::connect(generator, http, url, page).await);
    }
    let start = Instant::now();
    let counter = Arc::new(AtomicUsize::new(0));
    let mut tasks = Vec::new();
    for (client, mut poster) in posters.into_iter().enumerate() {
        let counter = counter.clone();
        tasks.push(tokio::spawn(async move {
            let mut samples = Vec::new();
            while start.elapsed() < RUN_FOR {
                let n = counter.fetch_add(1, Ordering::Relaxed);
                // Many customers, a few of them writing often: conversations with history.
                let psid = format!("{}", 10_000 + (n % 500) + client);
                let body = poster.body(&psid);
                let t = Instant::now();
                assert_eq!(poster.post(body).await, 200);
                samples.push(t.elapsed());
            }
            samples
        }));
    }
    let mut samples = Vec::new();
    for task in tasks {
        samples.extend(task.await.unwrap());
    }
    let rate = samples.len() as f64 / start.elapsed().as_secs_f64();
    (
        rate,
        percentile(&mut samples, 0.5),
        percentile(&mut samples, 0.99),
    )
}

/// A row of the comparison: its name, the webhook URL, the page, and the app whose bot must
/// catch up before the next run.
type Run<'a> = (&'a str, String, &'a str, Option<&'a App>);

/// [`ROUNDS`] rounds at `clients` clients, each the bare handler then every run in turn; prints
/// the table, then each run's median ratio to the bare handler of its round, in acks/s and p99.
async fn compare(
    http: &reqwest::Client,
    generator: Generator,
    clients: usize,
    bare: &str,
    bare_page: &str,
    runs: &[Run<'_>],
) {
    println!();
    println!(
        "{clients} clients ({generator:?} generator), {} s per run, one event per body, alternating A/B, {ROUNDS} rounds",
        RUN_FOR.as_secs()
    );
    println!("| handler ({clients} clients) | acks/s | p50 ms | p99 ms |");
    println!("|---|---:|---:|---:|");
    let mut ratios: Vec<(Vec<f64>, Vec<f64>)> = vec![(Vec::new(), Vec::new()); runs.len()];
    for _ in 0..ROUNDS {
        let (bare_rate, b50, b99) = flood(http, generator, clients, bare, bare_page).await;
        println!("| bare: HMAC + parse | {bare_rate:.0} | {b50:.2} | {b99:.2} |");
        for ((name, url, page, bot), (rates, p99s)) in runs.iter().zip(&mut ratios) {
            let (rate, p50, p99) = flood(http, generator, clients, url, page).await;
            println!("| {name} | {rate:.0} | {p50:.2} | {p99:.2} |");
            rates.push(rate / bare_rate);
            p99s.push(p99 / b99);
            if let Some(app) = bot {
                drained(app).await;
            }
        }
    }
    let median = |values: &mut Vec<f64>| {
        values.sort_by(f64::total_cmp);
        format!(
            "median {:.2} (min {:.2}, max {:.2})",
            values[values.len() / 2],
            values[0],
            values[values.len() - 1]
        )
    };
    for ((name, ..), (rates, p99s)) in runs.iter().zip(&mut ratios) {
        println!(
            "{clients} clients ({generator:?} generator), {name} / bare: acks/s {}, p99 {}",
            median(rates),
            median(p99s)
        );
    }
}

fn main() {
    // BENCH_LOG=json or pretty: the application logging at `info` to stderr (send it to
    // /dev/null), as `fanorder serve` does by default; without it nothing is logged.
    match std::env::var("BENCH_LOG").as_deref() {
        Ok("json") => fanorder_platform::telemetry::init(LogFormat::Json, "info"),
        Ok("pretty") => fanorder_platform::telemetry::init(LogFormat::Pretty, "info"),
        _ => {}
    }
    let server_rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    let arrivals: Arrivals = Arrivals::default();
    let (intake_only, intake_normal, app, bare, app_with_graph) = server_rt.block_on(async {
        let graph = start_graph(arrivals.clone()).await;
        (
            start_app(None, false, "full").await,
            start_app(None, false, "normal").await,
            start_app(None, true, "full").await,
            start_bare().await,
            start_app(Some(format!("http://{graph}")), true, "full").await,
        )
    });
    let unwrapped = server_rt.block_on(unwrapped_intake(&intake_only));
    let load_rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    load_rt.block_on(async {
        let counts = client_counts();
        let http = reqwest::Client::builder()
            .pool_max_idle_per_host(counts.iter().copied().max().unwrap_or(1))
            .build()
            .unwrap();
        let bot_page = connect_page(&http, &format!("http://{}", app.addr), None).await;
        let intake_page = connect_page(&http, &format!("http://{}", intake_only.addr), None).await;
        let normal_page = connect_page(&http, &format!("http://{}", intake_normal.addr), None).await;
        let url = |addr: SocketAddr| format!("http://{addr}/webhooks/messenger");
        // (row, webhook URL, page, the app whose bot must catch up before the next run)
        let runs: [Run; 4] = [
            ("fanorder intake: + route, dedupe put (SQLite, group commit, fsync)", url(intake_only.addr), &intake_page, None),
            ("the same route without the middleware stack", url(unwrapped), &intake_page, None),
            ("fanorder intake, FANORDER_SQLITE_DURABILITY=normal (no fsync per commit)", url(intake_normal.addr), &normal_page, None),
            ("fanorder intake while the bot answers every event", url(app.addr), &bot_page, Some(&app)),
        ];
        for generator in generators() {
            // With the light generator only the intake itself: what its ratio is without most
            // of the generator's cost.
            let runs = match generator {
                Generator::Reqwest => &runs[..],
                Generator::Light => &runs[..1],
            };
            for &clients in &counts {
                compare(&http, generator, clients, &url(bare), &bot_page, runs).await;
            }
        }

        // Webhook to Send API at a steady rate, each event from a new customer.
        let base = format!("http://{}", app_with_graph.addr);
        let page = connect_page(&http, &base, Some("EAAGbench")).await;
        let interval = Duration::from_micros(1_000_000 / STEADY_RATE);
        let mut sent_at = HashMap::new();
        let mut acks = Vec::new();
        let start = Instant::now();
        let mut tick = tokio::time::interval(interval);
        let mut n = 0u64;
        let mut pending = Vec::new();
        while start.elapsed() < STEADY_FOR {
            tick.tick().await;
            n += 1;
            let psid = format!("{}", 500_000 + n);
            let signed = signed(&page, &psid, "hi");
            let http = http.clone();
            let url = format!("{base}/webhooks/messenger");
            sent_at.insert(psid, Instant::now());
            pending.push(tokio::spawn(async move {
                let t = Instant::now();
                assert_eq!(post_signed(&http, &url, signed).await, 200);
                t.elapsed()
            }));
        }
        for task in pending {
            acks.push(task.await.unwrap());
        }
        let deadline = Instant::now() + Duration::from_secs(30);
        while arrivals.lock().unwrap().len() < sent_at.len() && Instant::now() < deadline {
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        let arrived = arrivals.lock().unwrap().clone();
        let mut latencies: Vec<Duration> = sent_at
            .iter()
            .filter_map(|(psid, at)| arrived.get(psid).map(|a| a.duration_since(*at)))
            .collect();
        println!();
        println!(
            "webhook to Send API, {STEADY_RATE} new customers/s for {} s: {} of {} replies arrived",
            STEADY_FOR.as_secs(),
            latencies.len(),
            sent_at.len()
        );
        println!(
            "| ack p50 {:.2} ms | ack p99 {:.2} ms | reply p50 {:.1} ms | reply p99 {:.1} ms | reply max {:.1} ms |",
            percentile(&mut acks, 0.5),
            percentile(&mut acks, 0.99),
            percentile(&mut latencies, 0.5),
            percentile(&mut latencies, 0.99),
            percentile(&mut latencies, 1.0),
        );
    });
}
