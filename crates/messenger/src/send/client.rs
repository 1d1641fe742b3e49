//! The Graph API client: Send API, sender actions, handover, Messenger profile, user profile.
//!
//! Every call has a timeout, waits for the page's rate limit, and is retried (at most 3
//! attempts, exponential backoff with jitter) only when retrying can help: rate limits (codes 4,
//! 17, 32, 613, HTTP 429), temporary failures (codes 1200 and 2, HTTP 5xx), connection errors
//! and timeouts. Everything else comes back at once as a typed [`SendError`]. The Send API has
//! no idempotency key, so a send retried after a timeout or a 5xx that Facebook had in fact
//! accepted reaches the customer twice: a rare duplicate beats a lost order update.
//!
//! The page access token goes in the `Authorization: Bearer` header, which the Graph API
//! accepts in place of the `access_token` parameter, so it is never part of a URL (URLs end up
//! in error texts and proxy logs); error texts are scrubbed of it all the same.

use std::num::NonZeroU32;
use std::sync::Arc;
use std::time::Duration;

use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};
use moka::future::Cache;
use reqwest::{Method, StatusCode};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use url::Url;

use super::message::{MessagingType, OutgoingMessage};
use super::profile::MessengerProfile;
use super::text::truncate;

/// The Graph API the client calls unless configured otherwise (v26.0, released July 2026).
pub const DEFAULT_GRAPH_API_URL: &str = "https://graph.facebook.com/v26.0";
/// The variable that overrides the Graph API base URL (a fake in tests, another version).
pub const GRAPH_API_URL_VAR: &str = "FANORDER_GRAPH_API_URL";
/// The variable that sets the per-page rate limit, in requests per second.
pub const GRAPH_RATE_VAR: &str = "FANORDER_GRAPH_RATE_PER_PAGE";
/// The most attempts a call makes (the first try and two retries).
pub const MAX_ATTEMPTS: u32 = 3;
/// The longest `metadata` a handover may carry.
pub const HANDOVER_METADATA_MAX: usize = 1000;

/// The highest per-page rate the limiter takes (higher values are lowered to it).
const MAX_RATE: NonZeroU32 = NonZeroU32::MIN.saturating_add(999_999);

/// How the client talks to the Graph API.
#[derive(Debug, Clone)]
pub struct GraphConfig {
    /// The versioned API root, e.g. `https://graph.facebook.com/v26.0` (checked when the
    /// client is built).
    pub base_url: String,
    /// The limit on each attempt, from connecting to the last byte of the answer.
    pub timeout: Duration,
    /// The wait before the first retry; it doubles for the next (plus up to 25% jitter).
    pub backoff: Duration,
    /// Requests per second allowed per page; a call over it waits, it does not fail.
    pub per_page_per_second: NonZeroU32,
    /// How long a user profile stays cached.
    pub profile_ttl: Duration,
}

impl Default for GraphConfig {
    fn default() -> Self {
        Self {
            base_url: DEFAULT_GRAPH_API_URL.to_owned(),
            timeout: Duration::from_secs(10),
            backoff: Duration::from_millis(500),
            per_page_per_second: NonZeroU32::MIN.saturating_add(19),
            profile_ttl: Duration::from_secs(24 * 60 * 60),
        }
    }
}

/// A configuration value that does not work.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{setting}: {reason}")]
pub struct GraphConfigError {
    /// The variable (or setting) at fault.
    pub setting: &'static str,
    /// What is wrong with it.
    pub reason: String,
}

impl GraphConfig {
    /// The defaults, with `FANORDER_GRAPH_API_URL` and `FANORDER_GRAPH_RATE_PER_PAGE` applied
    /// when set.
    pub fn from_env() -> Result<Self, GraphConfigError> {
        Self::from_lookup(|name| std::env::var(name).ok())
    }

    /// Like [`GraphConfig::from_env`], reading variables through `lookup`.
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Self, GraphConfigError> {
        let mut config = Self::default();
        if let Some(url) = lookup(GRAPH_API_URL_VAR) {
            parse_base_url(&url)?;
            config.base_url = url.trim().to_owned();
        }
        if let Some(rate) = lookup(GRAPH_RATE_VAR) {
            config.per_page_per_second =
                rate.trim()
                    .parse::<NonZeroU32>()
                    .map_err(|_| GraphConfigError {
                        setting: GRAPH_RATE_VAR,
                        reason: format!(
                            "expected a whole number of requests per second above 0, got `{rate}`"
                        ),
                    })?;
        }
        Ok(config)
    }

    /// The defaults pointed at `base_url` (a fake Graph API in tests).
    pub fn with_base_url(base_url: &str) -> Self {
        Self {
            base_url: base_url.to_owned(),
            ..Self::default()
        }
    }
}

fn parse_base_url(text: &str) -> Result<Url, GraphConfigError> {
    let error = |reason: String| GraphConfigError {
        setting: GRAPH_API_URL_VAR,
        reason,
    };
    let url = Url::parse(text.trim()).map_err(|e| error(format!("not a URL ({e}): `{text}`")))?;
    if !matches!(url.scheme(), "http" | "https") || url.cannot_be_a_base() {
        return Err(error(format!(
            "expected an http(s) URL such as {DEFAULT_GRAPH_API_URL}, got `{text}`"
        )));
    }
    Ok(url)
}

/// A page and its access token. The token never shows in `Debug` output or errors.
#[derive(Clone, PartialEq, Eq)]
pub struct PageToken {
    page_id: String,
    token: String,
}

impl PageToken {
    /// The page's id and its page access token.
    pub fn new(page_id: impl Into<String>, access_token: impl Into<String>) -> Self {
        Self {
            page_id: page_id.into(),
            token: access_token.into(),
        }
    }

    /// The page id.
    pub fn page_id(&self) -> &str {
        &self.page_id
    }

    /// The token itself, for the one place that sends it.
    pub fn expose(&self) -> &str {
        &self.token
    }
}

impl std::fmt::Debug for PageToken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PageToken")
            .field("page_id", &self.page_id)
            .field("token", &"<redacted>")
            .finish()
    }
}

/// Why a Graph API call failed. None of the texts contains the access token.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SendError {
    /// Code 10, subcode 2018278: the customer last wrote more than 24 hours ago. Send with a
    /// message tag (POST_PURCHASE_UPDATE for order updates) or wait for them to write.
    #[error("outside the 24-hour messaging window (code 10, subcode 2018278)")]
    OutsideWindow,
    /// Code 551: the person cannot be messaged (blocked the page, deactivated, restricted).
    #[error("this person isn't available right now (code 551)")]
    UserUnavailable,
    /// Code 190 (or 102): the page access token is invalid, expired or revoked. Mark the page
    /// as needing a new token; retrying will not help.
    #[error("the page access token is invalid or expired (code 190)")]
    BadToken,
    /// Rate limited (codes 4, 17, 32, 613 or HTTP 429) on every attempt.
    #[error("rate limited by the Graph API on {MAX_ATTEMPTS} attempts")]
    RateLimited,
    /// A temporary failure (codes 1200 and 2, HTTP 5xx) on every attempt.
    #[error("the Graph API failed temporarily on {MAX_ATTEMPTS} attempts")]
    Temporary,
    /// Any other Graph API error: a bad parameter, a missing permission... Not retried.
    #[error("the Graph API rejected the request: code {code}{}: {message}", subcode.map(|s| format!(", subcode {s}")).unwrap_or_default())]
    Rejected {
        /// Facebook's error `code`.
        code: i64,
        /// Facebook's `error_subcode`.
        subcode: Option<i64>,
        /// Facebook's message.
        message: String,
    },
    /// The request could not be completed: no connection, a timeout, a broken answer.
    #[error("could not reach the Graph API: {0}")]
    Network(String),
    /// A success status with a body that is not what the API documents, or an error status
    /// without a Graph error body. Not retried: the request may have taken effect.
    #[error("unexpected answer from the Graph API: {0}")]
    BadResponse(String),
}

impl SendError {
    /// A short stable name, for metrics and logs.
    pub fn kind(&self) -> &'static str {
        match self {
            SendError::OutsideWindow => "outside_window",
            SendError::UserUnavailable => "user_unavailable",
            SendError::BadToken => "bad_token",
            SendError::RateLimited => "rate_limited",
            SendError::Temporary => "temporary",
            SendError::Rejected { .. } => "rejected",
            SendError::Network(_) => "network",
            SendError::BadResponse(_) => "bad_response",
        }
    }

    /// True for the errors a later attempt may not get.
    pub fn is_retryable(&self) -> bool {
        matches!(
            self,
            SendError::RateLimited | SendError::Temporary | SendError::Network(_)
        )
    }
}

/// What a sender action shows the customer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Typing {
    /// The typing bubble, while the bot works on an answer (Facebook hides it after 20 s).
    On,
    /// Hides the typing bubble.
    Off,
    /// Marks the customer's last message as seen.
    MarkSeen,
}

impl Typing {
    /// The `sender_action` value.
    pub fn as_str(self) -> &'static str {
        match self {
            Typing::On => "typing_on",
            Typing::Off => "typing_off",
            Typing::MarkSeen => "mark_seen",
        }
    }
}

/// A customer's public profile, for greeting them by name.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct UserProfile {
    /// First name, when Facebook shares it.
    pub first_name: Option<String>,
    /// Last name, when Facebook shares it.
    pub last_name: Option<String>,
}

/// The Graph API client. Cheap to clone; clones share the connection pool, the rate limits and
/// the profile cache. The rate limiter keeps a few bytes per page id for the client's life.
#[derive(Clone)]
pub struct GraphClient {
    http: reqwest::Client,
    base_url: Url,
    config: Arc<GraphConfig>,
    limiter: Arc<DefaultKeyedRateLimiter<String>>,
    profiles: Cache<(String, String), UserProfile>,
}

impl std::fmt::Debug for GraphClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("GraphClient")
            .field("config", &self.config)
            .finish_non_exhaustive()
    }
}

#[derive(Deserialize)]
struct GraphErrorBody {
    error: GraphError,
}

#[derive(Deserialize)]
struct GraphError {
    #[serde(default)]
    message: String,
    #[serde(default)]
    code: i64,
    #[serde(default)]
    error_subcode: Option<i64>,
}

impl GraphClient {
    /// A client for `config`. Fails on a bad base URL, or if the HTTP stack cannot start.
    pub fn new(config: GraphConfig) -> Result<Self, GraphConfigError> {
        let base_url = parse_base_url(&config.base_url)?;
        let http = reqwest::Client::builder()
            .timeout(config.timeout)
            .connect_timeout(config.timeout)
            .user_agent(concat!("fanorder-messenger/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| GraphConfigError {
                setting: "HTTP client",
                reason: e.without_url().to_string(),
            })?;
        // The burst equals the rate, so a page can use its whole second at once. Above a
        // million per second the refill interval would round to zero nanoseconds.
        let rate = config.per_page_per_second.min(MAX_RATE);
        let quota = Quota::per_second(rate);
        let profiles = Cache::builder()
            .max_capacity(100_000)
            .time_to_live(config.profile_ttl)
            .build();
        Ok(Self {
            http,
            base_url,
            limiter: Arc::new(RateLimiter::keyed(quota)),
            config: Arc::new(config),
            profiles,
        })
    }

    /// The configuration in use.
    pub fn config(&self) -> &GraphConfig {
        &self.config
    }

    /// Sends `message` to the customer `recipient_psid` as `page`; returns Facebook's message id
    /// (the `mid` its echo and delivery events will carry).
    pub async fn send_message(
        &self,
        page: &PageToken,
        recipient_psid: &str,
        message: &OutgoingMessage,
        messaging_type: MessagingType,
    ) -> Result<String, SendError> {
        let body = message.request_body(recipient_psid, messaging_type);
        let answer = self
            .call(
                page,
                Method::POST,
                &[page.page_id(), "messages"],
                &[],
                Some(&body),
            )
            .await?;
        answer
            .get("message_id")
            .and_then(Value::as_str)
            .map(str::to_owned)
            .ok_or_else(|| SendError::BadResponse("no message_id in the Send API answer".into()))
    }

    /// Shows or hides the typing bubble, or marks the conversation seen.
    pub async fn sender_action(
        &self,
        page: &PageToken,
        psid: &str,
        action: Typing,
    ) -> Result<(), SendError> {
        let body = json!({"recipient": {"id": psid}, "sender_action": action.as_str()});
        self.call(
            page,
            Method::POST,
            &[page.page_id(), "messages"],
            &[],
            Some(&body),
        )
        .await
        .map(drop)
    }

    /// Passes the conversation to another app: [`crate::PAGE_INBOX_APP_ID`] hands it to a
    /// person in the page inbox. `metadata` (cut to 1000 characters) reaches the new owner.
    pub async fn pass_thread_control(
        &self,
        page: &PageToken,
        psid: &str,
        target_app_id: &str,
        metadata: Option<&str>,
    ) -> Result<(), SendError> {
        let mut body = json!({"recipient": {"id": psid}, "target_app_id": target_app_id});
        add_metadata(&mut body, metadata);
        self.call(
            page,
            Method::POST,
            &[page.page_id(), "pass_thread_control"],
            &[],
            Some(&body),
        )
        .await
        .map(drop)
    }

    /// Takes the conversation back (this app must be the primary receiver, or the thread idle).
    pub async fn take_thread_control(
        &self,
        page: &PageToken,
        psid: &str,
        metadata: Option<&str>,
    ) -> Result<(), SendError> {
        let mut body = json!({"recipient": {"id": psid}});
        add_metadata(&mut body, metadata);
        self.call(
            page,
            Method::POST,
            &[page.page_id(), "take_thread_control"],
            &[],
            Some(&body),
        )
        .await
        .map(drop)
    }

    /// Sets the page's Get Started button, greeting, persistent menu and ice breakers.
    pub async fn set_messenger_profile(
        &self,
        page: &PageToken,
        profile: &MessengerProfile,
    ) -> Result<(), SendError> {
        let body = profile.to_json();
        self.call(
            page,
            Method::POST,
            &[page.page_id(), "messenger_profile"],
            &[],
            Some(&body),
        )
        .await
        .map(drop)
    }

    /// The customer's first and last name, cached per page and PSID for a day (names rarely
    /// change, and the bot asks on every greeting). Concurrent lookups of one customer share
    /// one request; failures are not cached.
    pub async fn user_profile(
        &self,
        page: &PageToken,
        psid: &str,
    ) -> Result<UserProfile, SendError> {
        let key = (page.page_id().to_owned(), psid.to_owned());
        self.profiles
            .try_get_with(key, async {
                let answer = self
                    .call(
                        page,
                        Method::GET,
                        &[psid],
                        &[("fields", "first_name,last_name")],
                        None,
                    )
                    .await?;
                serde_json::from_value::<UserProfile>(answer)
                    .map_err(|e| SendError::BadResponse(format!("user profile: {e}")))
            })
            .await
            .map_err(|e: Arc<SendError>| (*e).clone())
    }

    /// One call with the rate limit and the retry policy.
    async fn call(
        &self,
        page: &PageToken,
        method: Method,
        path: &[&str],
        query: &[(&str, &str)],
        body: Option<&Value>,
    ) -> Result<Value, SendError> {
        let url = self.url(path, query)?;
        let mut attempt = 1;
        loop {
            self.limiter.until_key_ready(&page.page_id).await;
            match self.attempt(page, method.clone(), url.clone(), body).await {
                Ok(answer) => return Ok(answer),
                Err(error) if error.is_retryable() && attempt < MAX_ATTEMPTS => {
                    let wait = self.backoff(attempt);
                    tracing::warn!(
                        page_id = %page.page_id,
                        attempt,
                        wait_ms = wait.as_millis() as u64,
                        %error,
                        "Graph API call failed, retrying"
                    );
                    tokio::time::sleep(wait).await;
                    attempt += 1;
                }
                Err(error) => return Err(error),
            }
        }
    }

    async fn attempt(
        &self,
        page: &PageToken,
        method: Method,
        url: Url,
        body: Option<&Value>,
    ) -> Result<Value, SendError> {
        let mut request = self.http.request(method, url).bearer_auth(page.expose());
        if let Some(body) = body {
            request = request.json(body);
        }
        let response = request
            .send()
            .await
            .map_err(|e| self.network_error(&e, page))?;
        let status = response.status();
        let bytes = response
            .bytes()
            .await
            .map_err(|e| self.network_error(&e, page))?;
        if status.is_success() {
            return serde_json::from_slice(&bytes).map_err(|_| {
                SendError::BadResponse(format!("HTTP {status} with a body that is not JSON"))
            });
        }
        Err(classify(status, &bytes, page))
    }

    fn url(&self, path: &[&str], query: &[(&str, &str)]) -> Result<Url, SendError> {
        let mut url = self.base_url.clone();
        {
            let mut segments = url.path_segments_mut().map_err(|()| {
                SendError::Network("the Graph API base URL cannot take a path".into())
            })?;
            segments.pop_if_empty();
            for segment in path {
                segments.push(segment);
            }
        }
        if !query.is_empty() {
            url.query_pairs_mut().extend_pairs(query);
        }
        Ok(url)
    }

    fn backoff(&self, attempt: u32) -> Duration {
        let base = self
            .config
            .backoff
            .saturating_mul(1 << (attempt - 1).min(16));
        let jitter_ms = (base.as_millis() / 4).min(u128::from(u64::MAX)) as u64;
        base + Duration::from_millis(rand::random_range(0..=jitter_ms))
    }

    fn network_error(&self, error: &reqwest::Error, page: &PageToken) -> SendError {
        let text = if error.is_timeout() {
            format!("timed out after {:?}", self.config.timeout)
        } else if error.is_connect() {
            let cause = std::error::Error::source(error)
                .map(ToString::to_string)
                .unwrap_or_default();
            format!("could not connect: {cause}")
        } else {
            let mut text = error.to_string();
            let mut source = std::error::Error::source(error);
            while let Some(cause) = source {
                text.push_str(": ");
                text.push_str(&cause.to_string());
                source = cause.source();
            }
            text
        };
        SendError::Network(scrub(&text, page))
    }
}

fn add_metadata(body: &mut Value, metadata: Option<&str>) {
    if let (Some(metadata), Value::Object(map)) = (metadata, body) {
        map.insert(
            "metadata".into(),
            json!(truncate(metadata, HANDOVER_METADATA_MAX)),
        );
    }
}

/// The typed error for a non-success answer: Facebook's error code decides, then the status.
fn classify(status: StatusCode, body: &[u8], page: &PageToken) -> SendError {
    let graph = serde_json::from_slice::<GraphErrorBody>(body)
        .ok()
        .map(|b| b.error);
    let by_status = || {
        if status.is_server_error() {
            Some(SendError::Temporary)
        } else if status == StatusCode::TOO_MANY_REQUESTS {
            Some(SendError::RateLimited)
        } else {
            None
        }
    };
    let Some(error) = graph else {
        return by_status().unwrap_or_else(|| {
            SendError::BadResponse(format!("HTTP {status} without a Graph error"))
        });
    };
    match (error.code, error.error_subcode) {
        (4 | 17 | 32 | 613, _) => SendError::RateLimited,
        (1200 | 2, _) => SendError::Temporary,
        (10, Some(2_018_278)) => SendError::OutsideWindow,
        (551, _) => SendError::UserUnavailable,
        (190 | 102, _) => SendError::BadToken,
        (code, subcode) => by_status().unwrap_or_else(|| SendError::Rejected {
            code,
            subcode,
            message: scrub(&error.message, page),
        }),
    }
}

/// `text` with the page's access token replaced, should an upstream text ever echo it.
fn scrub(text: &str, page: &PageToken) -> String {
    if page.token.is_empty() {
        return text.to_owned();
    }
    text.replace(&page.token, "<redacted>")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn page() -> PageToken {
        PageToken::new("42", "EAAB-secret-token")
    }

    fn graph_error(code: i64, subcode: Option<i64>) -> Vec<u8> {
        json!({"error": {"message": "m", "type": "OAuthException", "code": code,
            "error_subcode": subcode, "fbtrace_id": "x"}})
        .to_string()
        .into_bytes()
    }

    #[test]
    fn errors_are_typed_by_code_first() {
        let bad = StatusCode::BAD_REQUEST;
        let cases = [
            (4, None, SendError::RateLimited),
            (613, None, SendError::RateLimited),
            (32, None, SendError::RateLimited),
            (1200, None, SendError::Temporary),
            (2, None, SendError::Temporary),
            (10, Some(2_018_278), SendError::OutsideWindow),
            (551, Some(1_545_041), SendError::UserUnavailable),
            (190, Some(463), SendError::BadToken),
            (
                10,
                None,
                SendError::Rejected {
                    code: 10,
                    subcode: None,
                    message: "m".into(),
                },
            ),
            (
                100,
                Some(33),
                SendError::Rejected {
                    code: 100,
                    subcode: Some(33),
                    message: "m".into(),
                },
            ),
        ];
        for (code, subcode, expected) in cases {
            assert_eq!(
                classify(bad, &graph_error(code, subcode), &page()),
                expected,
                "{code}/{subcode:?}"
            );
        }
        // A bad token is a bad token even on a 5xx.
        assert_eq!(
            classify(
                StatusCode::INTERNAL_SERVER_ERROR,
                &graph_error(190, None),
                &page()
            ),
            SendError::BadToken
        );
    }

    #[test]
    fn errors_without_a_known_code_are_typed_by_status() {
        let page = page();
        assert_eq!(
            classify(StatusCode::BAD_GATEWAY, b"<html>", &page),
            SendError::Temporary
        );
        assert_eq!(
            classify(
                StatusCode::INTERNAL_SERVER_ERROR,
                &graph_error(1, None),
                &page
            ),
            SendError::Temporary
        );
        assert_eq!(
            classify(StatusCode::TOO_MANY_REQUESTS, b"", &page),
            SendError::RateLimited
        );
        assert!(matches!(
            classify(StatusCode::NOT_FOUND, b"nope", &page),
            SendError::BadResponse(_)
        ));
    }

    #[test]
    fn the_token_is_scrubbed_from_facebook_messages() {
        let body = json!({"error": {"message": "bad token EAAB-secret-token here", "code": 100}});
        let error = classify(
            StatusCode::BAD_REQUEST,
            body.to_string().as_bytes(),
            &page(),
        );
        let text = error.to_string();
        assert!(!text.contains("EAAB-secret-token"), "{text}");
        assert!(text.contains("<redacted>"), "{text}");
    }

    #[test]
    fn page_tokens_do_not_print_the_token() {
        let debug = format!("{:?}", page());
        assert!(debug.contains("42"));
        assert!(!debug.contains("secret"), "{debug}");
    }

    #[test]
    fn only_rate_limits_temporary_and_network_errors_are_retryable() {
        assert!(SendError::RateLimited.is_retryable());
        assert!(SendError::Temporary.is_retryable());
        assert!(SendError::Network("x".into()).is_retryable());
        assert!(!SendError::OutsideWindow.is_retryable());
        assert!(!SendError::UserUnavailable.is_retryable());
        assert!(!SendError::BadToken.is_retryable());
        assert!(!SendError::BadResponse("x".into()).is_retryable());
        assert!(
            !SendError::Rejected {
                code: 100,
                subcode: None,
                message: "x".into()
            }
            .is_retryable()
        );
    }

    #[test]
    fn configuration_reads_the_url_and_rate_variables() {
        let config = GraphConfig::from_lookup(|_| None).expect("defaults");
        assert_eq!(config.base_url, DEFAULT_GRAPH_API_URL);
        assert_eq!(config.timeout, Duration::from_secs(10));
        assert_eq!(config.per_page_per_second.get(), 20);

        let config = GraphConfig::from_lookup(|name| match name {
            GRAPH_API_URL_VAR => Some("http://127.0.0.1:9999/v1".into()),
            GRAPH_RATE_VAR => Some("5".into()),
            _ => None,
        })
        .expect("valid");
        assert_eq!(config.base_url, "http://127.0.0.1:9999/v1");
        assert_eq!(config.per_page_per_second.get(), 5);

        for (var, value) in [
            (GRAPH_API_URL_VAR, "not a url"),
            (GRAPH_API_URL_VAR, "mailto:a@b.c"),
            (GRAPH_RATE_VAR, "0"),
            (GRAPH_RATE_VAR, "fast"),
        ] {
            let error = GraphConfig::from_lookup(|name| (name == var).then(|| value.to_owned()))
                .expect_err("invalid");
            assert_eq!(error.setting, var);
        }
    }

    #[test]
    fn urls_are_built_from_segments() {
        let client = GraphClient::new(GraphConfig::with_base_url(
            "https://graph.facebook.com/v26.0/",
        ))
        .expect("client");
        let url = client.url(&["42", "messages"], &[]).expect("url");
        assert_eq!(url.as_str(), "https://graph.facebook.com/v26.0/42/messages");
        let url = client
            .url(&["a/b?c"], &[("fields", "first_name,last_name")])
            .expect("url");
        assert_eq!(
            url.as_str(),
            "https://graph.facebook.com/v26.0/a%2Fb%3Fc?fields=first_name%2Clast_name"
        );
    }

    #[test]
    fn a_bad_base_url_is_refused_when_the_client_is_built() {
        let error = GraphClient::new(GraphConfig::with_base_url("graph")).expect_err("invalid");
        assert_eq!(error.setting, GRAPH_API_URL_VAR);
    }

    #[test]
    fn backoff_doubles_with_bounded_jitter() {
        let client = GraphClient::new(GraphConfig {
            backoff: Duration::from_millis(100),
            ..GraphConfig::default()
        })
        .expect("client");
        for _ in 0..50 {
            let first = client.backoff(1);
            let second = client.backoff(2);
            assert!(first >= Duration::from_millis(100) && first <= Duration::from_millis(125));
            assert!(second >= Duration::from_millis(200) && second <= Duration::from_millis(250));
        }
    }
}
