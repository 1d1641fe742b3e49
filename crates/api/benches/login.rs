//! Login benchmark: successful logins per second, and `/healthz` latency while logins flood
//! the server (password hashing must not starve other requests).
//!
//!     cargo bench -p fanorder-api --bench login
#![expect(clippy::unwrap_used, reason = "a benchmark stops at the first failure")]
#![expect(clippy::print_stdout, reason = "a benchmark prints its table")]

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use fanorder_api::{AppState, build_router};
use fanorder_platform::{Clock, Config, Secret, Secrets};
use fanorder_store::testing::{self, StoreKind};
use serde_json::json;

const RUN_FOR: Duration = Duration::from_secs(5);

fn percentile(samples: &mut [Duration], p: f64) -> f64 {
    samples.sort();
    samples[((samples.len() as f64 * p) as usize).min(samples.len() - 1)].as_secs_f64() * 1000.0
}

/// Hits /healthz from one client for the run time; returns (requests/s, p50 ms, p99 ms).
async fn health_probe(http: &reqwest::Client, base: &str) -> (f64, f64, f64) {
    let start = Instant::now();
    let mut samples = Vec::new();
    while start.elapsed() < RUN_FOR {
        let t = Instant::now();
        let status = http
            .get(format!("{base}/healthz"))
            .send()
            .await
            .unwrap()
            .status();
        assert!(status.is_success());
        samples.push(t.elapsed());
    }
    let rate = samples.len() as f64 / start.elapsed().as_secs_f64();
    (
        rate,
        percentile(&mut samples, 0.5),
        percentile(&mut samples, 0.99),
    )
}

fn main() {
    // The server gets its own runtime, like a real process; the load runs beside it.
    let server_rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    let addr: SocketAddr = server_rt.block_on(async {
        let secrets = Secrets::new(Secret::new(vec![3; 32]));
        let table = testing::table(
            StoreKind::Sqlite,
            Clock::system(),
            &secrets.derive("cursor"),
            None,
        )
        .await
        .unwrap()
        .unwrap();
        let state = AppState::new(
            table.table.clone(),
            Config {
                // Measures hashing, not the per-address budget.
                public_rate_per_minute: 0,
                ..Config::default()
            },
            &secrets,
            Clock::system(),
        )
        .unwrap();
        std::mem::forget(table); // keep the temporary database for the whole run
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let app = build_router(state).into_make_service_with_connect_info::<SocketAddr>();
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        addr
    });
    let load_rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    load_rt.block_on(async move {
        let base = format!("http://{addr}");
        let http = reqwest::Client::new();
        let signup = json!({
            "name": "Bench", "slug": "bench-kitchen", "currency": "USD", "time_zone": "UTC",
            "owner": {"email": "owner@bench.example", "password": "bench-password-1", "name": "Owner"}
        });
        let status = http.post(format!("{base}/v1/tenants")).json(&signup).send().await.unwrap().status();
        assert_eq!(status, 201);
        let login = json!({"tenant": "bench-kitchen", "email": "owner@bench.example", "password": "bench-password-1"});

        let (quiet_rate, quiet_p50, quiet_p99) = health_probe(&http, &base).await;

        let stop = Arc::new(AtomicBool::new(false));
        let mut flood = Vec::new();
        for _ in 0..32 {
            let (http, base, login, stop) = (http.clone(), base.clone(), login.clone(), stop.clone());
            flood.push(tokio::spawn(async move {
                let mut done = 0u64;
                while !stop.load(Ordering::Relaxed) {
                    let response = http.post(format!("{base}/v1/auth/login")).json(&login).send().await.unwrap();
                    assert_eq!(response.status(), 200);
                    done += 1;
                }
                done
            }));
        }
        let flood_start = Instant::now();
        let (busy_rate, busy_p50, busy_p99) = health_probe(&http, &base).await;
        stop.store(true, Ordering::Relaxed);
        let mut logins = 0;
        for task in flood {
            logins += task.await.unwrap();
        }
        let login_rate = logins as f64 / flood_start.elapsed().as_secs_f64();

        println!("| measure | value |");
        println!("|---|---:|");
        println!("| successful logins/s (32 concurrent clients) | {login_rate:.0} |");
        println!("| /healthz p50 / p99 ms, quiet | {quiet_p50:.2} / {quiet_p99:.2} ({quiet_rate:.0} req/s, 1 client) |");
        println!("| /healthz p50 / p99 ms, during the login flood | {busy_p50:.2} / {busy_p99:.2} ({busy_rate:.0} req/s, 1 client) |");
    });
}
