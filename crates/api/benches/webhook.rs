//! Webhook benchmark.
//!
//! 1. Signed webhook POSTs acknowledged per second by the whole application (signature, parse,
//!    route, dedupe persisted on the embedded store, bot worker running) against a bare axum
//!    handler that only checks the HMAC and parses, side by side in one run.
//! 2. Webhook to Send API: a customer's message at a steady rate, timed from the POST to the
//!    bot's reply arriving at a fake Graph API.
//!
//!     cargo bench -p fanorder-api --bench webhook
#![expect(clippy::unwrap_used, reason = "a benchmark stops at the first failure")]
#![expect(clippy::print_stdout, reason = "a benchmark prints its table")]

mod common;

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use axum::body::Bytes;
use axum::http::{HeaderMap, StatusCode};
use common::{Arrivals, percentile, start_graph};
use fanorder_api::simulate::{Act, payload};
use fanorder_api::{AppState, build_router};
use fanorder_platform::{Clock, Config, Secret, Secrets};
use serde_json::{Value, json};

const RUN_FOR: Duration = Duration::from_secs(5);
/// Concurrent clients (`BENCH_CLIENTS`, default 32).
fn clients() -> usize {
    std::env::var("BENCH_CLIENTS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(32)
}
const ROUNDS: usize = 3;
const STEADY_RATE: u64 = 100;
const STEADY_FOR: Duration = Duration::from_secs(10);

fn secrets() -> Secrets {
    Secrets::new(Secret::new(vec![5; 32]))
}

/// The whole application on the embedded store, with its workers; returns its address.
async fn start_app(graph: Option<String>, bot: bool, durability: &str) -> SocketAddr {
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
    std::mem::forget(dir); // keep the temporary database for the whole run
    if bot {
        let workers = fanorder_api::workers::spawn(&state).await;
        std::mem::forget(workers);
    }
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let app = build_router(state).into_make_service_with_connect_info::<SocketAddr>();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    addr
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

fn signed(page: &str, psid: &str, words: &str) -> (String, String) {
    let now = jiff::Timestamp::now().as_millisecond();
    let body = payload(page, psid, &Act::Text(words.to_owned()), now).to_string();
    let signature = fanorder_messenger::sign(secrets().fb_app_secret.expose(), body.as_bytes());
    (body, signature)
}

/// [`clients`] clients posting signed one-event bodies for `RUN_FOR`: (acks/s, p50 ms, p99 ms).
async fn flood(http: &reqwest::Client, url: &str, page: &str) -> (f64, f64, f64) {
    let start = Instant::now();
    let counter = Arc::new(AtomicUsize::new(0));
    let mut tasks = Vec::new();
    for client in 0..clients() {
        let http = http.clone();
        let url = url.to_owned();
        let page = page.to_owned();
        let counter = counter.clone();
        tasks.push(tokio::spawn(async move {
            let mut samples = Vec::new();
            while start.elapsed() < RUN_FOR {
                let n = counter.fetch_add(1, Ordering::Relaxed);
                // Many customers, a few of them writing often: conversations with history.
                let psid = format!("{}", 10_000 + (n % 500) + client);
                let (body, signature) = signed(&page, &psid, "2 pad thai");
                let t = Instant::now();
                let response = http
                    .post(&url)
                    .header("content-type", "application/json")
                    .header("x-hub-signature-256", signature)
                    .body(body)
                    .send()
                    .await
                    .unwrap();
                assert_eq!(response.status(), 200);
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

fn main() {
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
    let load_rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    load_rt.block_on(async {
        let http = reqwest::Client::builder()
            .pool_max_idle_per_host(clients())
            .build()
            .unwrap();
        let base = format!("http://{app}");
        let page = connect_page(&http, &base, None).await;
        let intake_base = format!("http://{intake_only}");
        let intake_page = connect_page(&http, &intake_base, None).await;
        let normal_base = format!("http://{intake_normal}");
        let normal_page = connect_page(&http, &normal_base, None).await;
        println!(
            "{} clients, {} s per run, one event per body, alternating A/B, {ROUNDS} rounds",
            clients(),
            RUN_FOR.as_secs()
        );
        println!("| handler | acks/s | p50 ms | p99 ms |");
        println!("|---|---:|---:|---:|");
        let mut ratios = Vec::new();
        let mut intake_ratios = Vec::new();
        let mut normal_ratios = Vec::new();
        for _ in 0..ROUNDS {
            let (bare_rate, b50, b99) = flood(
                &http,
                &format!("http://{bare}/webhooks/messenger"),
                &page,
            )
            .await;
            println!("| bare: HMAC + parse | {bare_rate:.0} | {b50:.2} | {b99:.2} |");
            let (intake_rate, i50, i99) = flood(
                &http,
                &format!("{intake_base}/webhooks/messenger"),
                &intake_page,
            )
            .await;
            println!(
                "| fanorder intake: + route, dedupe put (SQLite, group commit, fsync) | {intake_rate:.0} | {i50:.2} | {i99:.2} |"
            );
            intake_ratios.push(intake_rate / bare_rate);
            let (normal_rate, n50, n99) = flood(
                &http,
                &format!("{normal_base}/webhooks/messenger"),
                &normal_page,
            )
            .await;
            println!(
                "| fanorder intake, FANORDER_SQLITE_DURABILITY=normal (no fsync per commit) | {normal_rate:.0} | {n50:.2} | {n99:.2} |"
            );
            normal_ratios.push(normal_rate / bare_rate);
            let (app_rate, a50, a99) =
                flood(&http, &format!("{base}/webhooks/messenger"), &page).await;
            println!(
                "| fanorder intake while the bot answers every event | {app_rate:.0} | {a50:.2} | {a99:.2} |"
            );
            ratios.push(app_rate / bare_rate);
        }
        for (name, ratios) in [
            ("intake", &mut intake_ratios),
            ("intake (durability normal)", &mut normal_ratios),
            ("intake with the bot answering", &mut ratios),
        ] {
            ratios.sort_by(f64::total_cmp);
            println!(
                "fanorder {name} / bare: median {:.2} (min {:.2}, max {:.2})",
                ratios[ratios.len() / 2],
                ratios[0],
                ratios[ratios.len() - 1]
            );
        }

        // Webhook to Send API at a steady rate, each event from a new customer.
        let base = format!("http://{app_with_graph}");
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
            let (body, signature) = signed(&page, &psid, "hi");
            let http = http.clone();
            let url = format!("{base}/webhooks/messenger");
            sent_at.insert(psid, Instant::now());
            pending.push(tokio::spawn(async move {
                let t = Instant::now();
                let status = http
                    .post(url)
                    .header("content-type", "application/json")
                    .header("x-hub-signature-256", signature)
                    .body(body)
                    .send()
                    .await
                    .unwrap()
                    .status();
                assert_eq!(status, 200);
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
