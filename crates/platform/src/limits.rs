//! Counting failures (failed logins) per key in a window, to lock a key out for the rest of
//! the window once it has failed too often. In memory: on Lambda each instance counts on its
//! own, which still bounds a brute-force attempt per instance.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// A failure budget per key: at most `max` failures in each `window`.
#[derive(Clone)]
pub struct FailureLimiter {
    windows: moka::sync::Cache<String, Arc<Mutex<Window>>>,
    max: u32,
    window: Duration,
}

impl std::fmt::Debug for FailureLimiter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FailureLimiter")
            .field("max", &self.max)
            .field("window", &self.window)
            .finish()
    }
}

#[derive(Debug)]
struct Window {
    started: Instant,
    failures: u32,
}

impl FailureLimiter {
    /// Allows `max` failures per key in each `window`, tracking at most `capacity` keys.
    pub fn new(max: u32, window: Duration, capacity: u64) -> Self {
        Self {
            windows: moka::sync::Cache::builder()
                .max_capacity(capacity)
                .time_to_live(window)
                .build(),
            max,
            window,
        }
    }

    /// `Err(retry_after)` while the key has used up its failures for the current window.
    pub fn check(&self, key: &str) -> Result<(), Duration> {
        let Some(window) = self.windows.get(key) else {
            return Ok(());
        };
        let window = window.lock().unwrap_or_else(|p| p.into_inner());
        let elapsed = window.started.elapsed();
        if window.failures >= self.max && elapsed < self.window {
            return Err(self.window - elapsed);
        }
        Ok(())
    }

    /// Counts one failure for the key.
    pub fn record_failure(&self, key: &str) {
        let window = self.windows.get_with(key.to_owned(), || {
            Arc::new(Mutex::new(Window {
                started: Instant::now(),
                failures: 0,
            }))
        });
        let mut window = window.lock().unwrap_or_else(|p| p.into_inner());
        if window.started.elapsed() >= self.window {
            *window = Window {
                started: Instant::now(),
                failures: 0,
            };
        }
        window.failures += 1;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_key_is_locked_after_max_failures_and_others_are_not() {
        let limiter = FailureLimiter::new(3, Duration::from_secs(60), 100);
        for _ in 0..3 {
            assert!(limiter.check("t|ana").is_ok());
            limiter.record_failure("t|ana");
        }
        let retry = limiter.check("t|ana").unwrap_err();
        assert!(retry > Duration::from_secs(50) && retry <= Duration::from_secs(60));
        assert!(limiter.check("t|bob").is_ok());
    }

    #[tokio::test(start_paused = true)]
    async fn a_request_over_budget_is_held_for_the_retry_after_it_announces() {
        let one = std::num::NonZeroU32::MIN;
        let limiter = RateLimiter::per_minute(one, one);
        let started = tokio::time::Instant::now();
        assert!(limiter.admit("a").await.is_ok());
        assert_eq!(started.elapsed(), Duration::ZERO, "within budget: no wait");
        let retry_after = limiter.admit("a").await.unwrap_err();
        assert!(retry_after > Duration::from_secs(50), "{retry_after:?}");
        assert_eq!(started.elapsed(), MAX_HOLD, "held, at most MAX_HOLD");
        // Another key has its own budget and is not held.
        let before = tokio::time::Instant::now();
        assert!(limiter.admit("b").await.is_ok());
        assert_eq!(before.elapsed(), Duration::ZERO);
    }

    #[tokio::test(start_paused = true)]
    async fn past_max_held_refusals_are_immediate() {
        let one = std::num::NonZeroU32::MIN;
        let limiter = RateLimiter::per_minute(one, one);
        assert!(limiter.admit("a").await.is_ok());
        let _all = limiter
            .held
            .clone()
            .try_acquire_many_owned(MAX_HELD as u32)
            .unwrap();
        let started = tokio::time::Instant::now();
        assert!(limiter.admit("a").await.is_err());
        assert_eq!(started.elapsed(), Duration::ZERO);
    }

    #[tokio::test]
    async fn a_bulkhead_lets_per_key_requests_in_at_once_and_others_pass() {
        let bulkhead = Bulkhead::new(std::num::NonZeroU32::new(2).unwrap());
        let first = bulkhead.enter("noisy").await;
        let _second = bulkhead.enter("noisy").await;
        let third = tokio::time::timeout(Duration::from_millis(50), bulkhead.enter("noisy"));
        assert!(third.await.is_err(), "a third request of the key waits");
        let _quiet = tokio::time::timeout(Duration::from_millis(50), bulkhead.enter("quiet"))
            .await
            .expect("another key does not wait");
        drop(first);
        let _third = tokio::time::timeout(Duration::from_millis(50), bulkhead.enter("noisy"))
            .await
            .expect("a turn ends with its permit");
    }

    #[test]
    fn the_window_resets() {
        let limiter = FailureLimiter::new(1, Duration::from_millis(30), 100);
        limiter.record_failure("k");
        assert!(limiter.check("k").is_err());
        let deadline = Instant::now() + Duration::from_secs(2);
        while limiter.check("k").is_err() {
            assert!(Instant::now() < deadline, "the window never reset");
            std::thread::yield_now();
        }
    }
}

/// A request budget per key (a restaurant, a client address): a token bucket refilled at a
/// steady rate with room for a burst (GCRA, from `governor`). In memory, per process: on
/// Lambda each instance keeps its own budget, which still caps what one tenant can make one
/// instance do.
///
/// A request over budget is not refused at once but held for the `Retry-After` its 429 will
/// announce (see [`RateLimiter::admit`]): a client that retries in a loop without waiting (a
/// broken integration, a script) then costs the server one cheap refusal per second per
/// connection instead of thousands, so it cannot eat the CPU the other restaurants need. Holds
/// are bounded ([`MAX_HELD`] at once per limiter); past that, refusals are immediate.
#[derive(Clone)]
pub struct RateLimiter {
    limiter: Arc<governor::DefaultKeyedRateLimiter<String>>,
    checks: Arc<std::sync::atomic::AtomicU64>,
    held: Arc<tokio::sync::Semaphore>,
}

/// The most refused requests one limiter holds at once.
pub const MAX_HELD: usize = 4096;
/// The longest a refused request is held.
pub const MAX_HOLD: Duration = Duration::from_secs(2);

impl std::fmt::Debug for RateLimiter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RateLimiter").finish_non_exhaustive()
    }
}

impl RateLimiter {
    /// `per_second` requests each second on average, and up to `burst` at once.
    pub fn new(per_second: std::num::NonZeroU32, burst: std::num::NonZeroU32) -> Self {
        let quota = governor::Quota::per_second(per_second).allow_burst(burst);
        Self {
            limiter: Arc::new(governor::RateLimiter::keyed(quota)),
            checks: Arc::default(),
            held: Arc::new(tokio::sync::Semaphore::new(MAX_HELD)),
        }
    }

    /// `per_minute` requests each minute on average, and up to `burst` at once.
    pub fn per_minute(per_minute: std::num::NonZeroU32, burst: std::num::NonZeroU32) -> Self {
        let quota = governor::Quota::per_minute(per_minute).allow_burst(burst);
        Self {
            limiter: Arc::new(governor::RateLimiter::keyed(quota)),
            checks: Arc::default(),
            held: Arc::new(tokio::sync::Semaphore::new(MAX_HELD)),
        }
    }

    /// Takes one request from the key's budget; when it is spent, waits for the `Retry-After`
    /// the refusal announces (whole seconds, at least one, at most [`MAX_HOLD`]) and returns
    /// `Err(retry_after)`.
    pub async fn admit(&self, key: &str) -> Result<(), Duration> {
        let Err(retry_after) = self.check(key) else {
            return Ok(());
        };
        if let Ok(_permit) = self.held.try_acquire() {
            let announced = Duration::from_secs(retry_after.as_secs_f64().ceil().max(1.0) as u64);
            tokio::time::sleep(announced.min(MAX_HOLD)).await;
        }
        Err(retry_after)
    }

    /// Takes one request from the key's budget, or `Err(retry_after)` when it is spent.
    pub fn check(&self, key: &str) -> Result<(), Duration> {
        // Forget keys that are back to a full budget now and then, so many distinct keys (a
        // scan from many addresses) cannot grow memory without end.
        if self
            .checks
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed)
            .is_multiple_of(10_000)
        {
            self.limiter.retain_recent();
        }
        self.limiter
            .check_key(&key.to_owned())
            .map_err(|not_until| {
                not_until
                    .wait_time_from(governor::clock::Clock::now(
                        &governor::clock::DefaultClock::default(),
                    ))
                    .max(Duration::from_millis(1))
            })
    }
}

/// A bulkhead per key (a restaurant): at most `per_key` of its requests are worked on at once;
/// the rest wait for a turn, holding no CPU. A rate limit bounds how much a restaurant may ask
/// over a second; this bounds how much of the machine it holds at any instant, so a burst from
/// one restaurant queues behind itself rather than in front of everybody else.
#[derive(Clone)]
pub struct Bulkhead {
    gates: moka::sync::Cache<String, Arc<tokio::sync::Semaphore>>,
    per_key: usize,
}

impl std::fmt::Debug for Bulkhead {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Bulkhead")
            .field("per_key", &self.per_key)
            .finish_non_exhaustive()
    }
}

impl Bulkhead {
    /// At most `per_key` requests per key at once.
    pub fn new(per_key: std::num::NonZeroU32) -> Self {
        Self {
            // A key idle for a minute is forgotten; one still in use keeps its gate alive
            // through the permits it holds.
            gates: moka::sync::Cache::builder()
                .max_capacity(100_000)
                .time_to_idle(Duration::from_secs(60))
                .build(),
            per_key: per_key.get() as usize,
        }
    }

    /// Waits for one of the key's turns; the turn ends when the permit is dropped.
    pub async fn enter(&self, key: &str) -> tokio::sync::OwnedSemaphorePermit {
        let gate = self.gates.get_with(key.to_owned(), || {
            Arc::new(tokio::sync::Semaphore::new(self.per_key))
        });
        gate.acquire_owned()
            .await
            .unwrap_or_else(|_| unreachable!("the gate is never closed"))
    }
}

/// The failed-login budgets: per restaurant and email (guessing one account's password) and per
/// client address (spraying many accounts).
#[derive(Clone, Debug)]
pub struct LoginLimits {
    /// Failures per `tenant|email`.
    pub by_account: FailureLimiter,
    /// Failures per client address.
    pub by_address: FailureLimiter,
}

impl Default for LoginLimits {
    /// 10 failures per account and 100 per address in each 15 minutes.
    fn default() -> Self {
        let window = Duration::from_secs(15 * 60);
        Self {
            by_account: FailureLimiter::new(10, window, 100_000),
            by_address: FailureLimiter::new(100, window, 100_000),
        }
    }
}

/// The address of the client, as seen by this server: the peer address of the connection
/// (or `unknown` when the server does not record it, as in router tests).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClientAddr(pub String);

impl ClientAddr {
    /// The address of the connection a request with these extensions came on.
    pub fn of(extensions: &http::Extensions) -> Self {
        let peer = extensions
            .get::<axum::extract::ConnectInfo<std::net::SocketAddr>>()
            .map(|info| info.0.ip().to_string());
        Self(peer.unwrap_or_else(|| "unknown".to_owned()))
    }
}

impl<S: Send + Sync> axum::extract::FromRequestParts<S> for ClientAddr {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(
        parts: &mut http::request::Parts,
        _state: &S,
    ) -> Result<Self, Self::Rejection> {
        Ok(Self::of(&parts.extensions))
    }
}
