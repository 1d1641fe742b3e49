//! What the benchmarks share: percentiles and a fake Graph API.
#![allow(dead_code, reason = "each benchmark uses part of this module")]

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::body::Bytes;
use axum::http::Uri;
use axum::response::IntoResponse;
use serde_json::{Value, json};

/// The `p` quantile (0..=1) of the samples, in milliseconds.
pub fn percentile(samples: &mut [Duration], p: f64) -> f64 {
    samples.sort();
    samples[((samples.len() as f64 * p) as usize).min(samples.len() - 1)].as_secs_f64() * 1000.0
}

pub type Arrivals = Arc<Mutex<HashMap<String, Instant>>>;

/// A fake Graph API that notes when each recipient's first message arrives.
pub async fn start_graph(arrivals: Arrivals) -> SocketAddr {
    let app = axum::Router::new().fallback(move |uri: Uri, body: Bytes| {
        let arrivals = arrivals.clone();
        async move {
            if uri.path().ends_with("/messages") {
                let json: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
                if let Some(psid) = json["recipient"]["id"].as_str() {
                    arrivals
                        .lock()
                        .unwrap()
                        .entry(psid.to_owned())
                        .or_insert_with(Instant::now);
                    let reply = json!({"recipient_id": psid, "message_id": "m_bench"});
                    return axum::Json(reply).into_response();
                }
            }
            axum::Json(json!({"first_name": "Bench", "last_name": "Customer", "id": "1"}))
                .into_response()
        }
    });
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    addr
}
