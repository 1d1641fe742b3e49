//! Secrets stay secret: everything the test applications say is kept and scanned for the secret
//! values the tests know. Every log line (JSON, at `trace` for our crates, the request spans
//! and responses included: the most an operator could turn on) and every response (headers
//! and body) goes into a buffer; each [`crate::TestApp`] scans what is new when it is dropped
//! and fails its test naming the secret and the line that carried it.
//!
//! What counts as secret: the master secret and every key derived from it (JWT key, cursor key,
//! page-token sealing key, payment webhook key) in raw base64, URL-safe base64 and hex; the
//! Facebook app secret and verify token; the passwords the tests use; page access tokens (the
//! tests' all start with [`crate::PAGE_TOKEN_PREFIX`]: `EAAG` alone, four base64 letters, turns
//! up by chance in one JWT or cursor in a few hundred thousand); password hashes. Logs may carry none of
//! those, nor a bearer token or JWT; responses may carry tokens (login answers with them) but
//! none of the rest.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Mutex, OnceLock};

use axum::body::Body;
use axum::extract::Request;
use axum::middleware::Next;
use axum::response::Response;
use base64::Engine;
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;

/// The passwords the black-box tests sign up and log in with.
const PASSWORDS: [&str; 6] = [
    "owner-password-1",
    "cook-password-1",
    "packer-password-1",
    "driver-password-1",
    "customer-password-1",
    "password-123",
];

#[derive(Default)]
struct Capture {
    logs: Mutex<Vec<u8>>,
    responses: Mutex<Vec<u8>>,
    log_bytes: AtomicUsize,
    response_bytes: AtomicUsize,
}

fn capture() -> &'static Capture {
    static CAPTURE: OnceLock<Capture> = OnceLock::new();
    CAPTURE.get_or_init(|| {
        let filter = tracing_subscriber::EnvFilter::new("info,fanorder=trace,fanorder_api=trace");
        let layer = tracing_subscriber::fmt::layer()
            .json()
            .with_current_span(true)
            .with_span_list(true)
            .with_writer(|| LogWriter);
        // Another subscriber (a test's own) wins; the scan then sees only responses.
        let _ = tracing_subscriber::registry()
            .with(filter)
            .with(layer)
            .try_init();
        Capture::default()
    })
}

/// Starts capturing logs (once per process).
pub fn install() {
    capture();
}

struct LogWriter;

impl std::io::Write for LogWriter {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let capture = capture();
        capture.log_bytes.fetch_add(buf.len(), Ordering::Relaxed);
        let mut logs = capture.logs.lock().unwrap_or_else(|p| p.into_inner());
        logs.extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// Middleware that keeps a copy of every response (live event streams pass untouched: they
/// carry only what the event log's items already carry, which responses are scanned for).
pub async fn record(request: Request, next: Next) -> Response {
    let response = next.run(request).await;
    let streaming = response
        .headers()
        .get(http::header::CONTENT_TYPE)
        .is_some_and(|v| v.as_bytes().starts_with(b"text/event-stream"));
    if streaming {
        return response;
    }
    let (parts, body) = response.into_parts();
    let bytes = axum::body::to_bytes(body, usize::MAX)
        .await
        .unwrap_or_default();
    let mut kept = Vec::with_capacity(bytes.len() + 256);
    for (name, value) in &parts.headers {
        kept.extend_from_slice(name.as_str().as_bytes());
        kept.extend_from_slice(b": ");
        kept.extend_from_slice(value.as_bytes());
        kept.push(b'\n');
    }
    kept.extend_from_slice(&bytes);
    kept.push(b'\n');
    capture()
        .response_bytes
        .fetch_add(kept.len(), Ordering::Relaxed);
    capture()
        .responses
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .extend_from_slice(&kept);
    Response::from_parts(parts, Body::from(bytes))
}

/// (what it is, the text that must not appear) for responses and logs alike.
fn secrets() -> Vec<(String, String)> {
    let secrets = crate::secrets();
    let mut keys: Vec<(&str, Vec<u8>)> = vec![
        ("the master secret", crate::MASTER_SECRET.to_vec()),
        ("a JWT key", secrets.jwt_keys[0].1.expose().to_vec()),
    ];
    for purpose in ["cursor", "page-token", "payments/mock"] {
        keys.push((purpose, secrets.derive(purpose).to_vec()));
    }
    let mut found = Vec::new();
    for (what, key) in keys {
        found.push((format!("{what} (base64)"), base64_of(&key, false)));
        found.push((format!("{what} (base64url)"), base64_of(&key, true)));
        found.push((format!("{what} (hex)"), hex_of(&key)));
    }
    let app_secret = String::from_utf8_lossy(secrets.fb_app_secret.expose()).into_owned();
    found.push(("the Facebook app secret".to_owned(), app_secret));
    found.push((
        "the webhook verify token".to_owned(),
        secrets.fb_verify_token,
    ));
    for password in PASSWORDS {
        found.push(("a password".to_owned(), password.to_owned()));
    }
    found.push((
        "a page access token".to_owned(),
        crate::PAGE_TOKEN_PREFIX.to_owned(),
    ));
    found.push(("a password hash".to_owned(), "$argon2".to_owned()));
    found
}

fn base64_of(bytes: &[u8], url: bool) -> String {
    if url {
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
    } else {
        base64::engine::general_purpose::STANDARD_NO_PAD.encode(bytes)
    }
}

fn hex_of(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// True when `line` holds something shaped like a JWT (two base64url JSON segments and a dot).
fn holds_a_jwt(line: &str) -> bool {
    line.match_indices("eyJ").any(|(at, _)| {
        let rest = &line[at..];
        let first = rest
            .find(|c: char| !(c.is_ascii_alphanumeric() || c == '-' || c == '_'))
            .map_or(rest, |end| &rest[..end]);
        rest[first.len()..].starts_with(".eyJ")
    })
}

/// Scans what was captured since the last scan; `Err` names each leak and its line.
pub fn scan() -> Result<(), String> {
    let take = |buffer: &Mutex<Vec<u8>>| {
        std::mem::take(&mut *buffer.lock().unwrap_or_else(|p| p.into_inner()))
    };
    let logs = take(&capture().logs);
    let responses = take(&capture().responses);
    let leaks = leaks_in(
        &String::from_utf8_lossy(&logs),
        &String::from_utf8_lossy(&responses),
    );
    if leaks.is_empty() {
        Ok(())
    } else {
        Err(leaks.join("\n"))
    }
}

/// Bytes of logs and of responses captured so far (to show the capture is wired).
pub fn captured() -> (usize, usize) {
    let c = capture();
    (
        c.log_bytes.load(Ordering::Relaxed),
        c.response_bytes.load(Ordering::Relaxed),
    )
}

/// Each secret in the logs or responses, with the line that carried it.
fn leaks_in(logs: &str, responses: &str) -> Vec<String> {
    let secrets = secrets();
    let mut leaks = Vec::new();
    for (source, text) in [("a log line", logs), ("a response", responses)] {
        for line in text.lines() {
            for (what, needle) in &secrets {
                if line.contains(needle.as_str()) {
                    leaks.push(format!("{what} in {source}: {line}"));
                }
            }
            if source == "a log line" && (holds_a_jwt(line) || line.contains("Bearer ")) {
                leaks.push(format!("a bearer token in {source}: {line}"));
            }
        }
    }
    leaks
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_jwt_is_recognised_in_a_line_and_other_base64_is_not() {
        assert!(holds_a_jwt(
            r#"{"msg":"x","token":"eyJ0eXAiOiJKV1QifQ.eyJzdWIiOiIxIn0.c2ln"}"#
        ));
        assert!(!holds_a_jwt(r#"{"cursor":"eyJza2lwIjoxfQ"}"#));
        assert!(!holds_a_jwt("no tokens here"));
    }

    #[test]
    fn every_kind_of_secret_is_found_where_it_may_not_be() {
        let clean =
            r#"{"level":"INFO","fields":{"message":"order placed"},"span":{"route":"/v1/orders"}}"#;
        assert!(leaks_in(clean, clean).is_empty());
        let jwt = hex_of(crate::secrets().jwt_keys[0].1.expose());
        let planted = [
            format!("key={jwt}"),
            format!(
                "app secret {}",
                String::from_utf8_lossy(crate::secrets().fb_app_secret.expose())
            ),
            format!("verify {}", crate::secrets().fb_verify_token),
            format!(
                "cursor key {}",
                base64_of(&crate::secrets().derive("cursor"), true)
            ),
            "password owner-password-1".to_owned(),
            format!("token {}", crate::page_token("secret")),
            "hash $argon2id$v=19$m=19456".to_owned(),
        ];
        for line in &planted {
            assert_eq!(leaks_in(line, "").len(), 1, "log: {line}");
            assert_eq!(leaks_in("", line).len(), 1, "response: {line}");
        }
        // Random base64 may hold Facebook's `EAAG` prefix; only the tests' tokens are secret.
        let by_chance = r#"{"next_cursor":"q9ZkEAAGx0Tc"}"#;
        assert!(leaks_in(by_chance, by_chance).is_empty());
        // Tokens belong in login answers, never in logs.
        let token = "eyJ0eXAiOiJKV1QifQ.eyJzdWIiOiIxIn0.c2ln";
        assert!(leaks_in("", token).is_empty());
        assert_eq!(leaks_in(token, "").len(), 1);
        assert_eq!(leaks_in("authorization: Bearer abc", "").len(), 1);
    }
}
