//! The one source of "now". Production reads the system clock; tests hold a clock they can set,
//! so TTLs, lateness and token expiry are tested without sleeping.

use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};

use jiff::{SignedDuration, Timestamp};

/// A clock: the system's, or a manual one that tests move by hand.
#[derive(Clone, Debug)]
pub struct Clock(Source);

#[derive(Clone, Debug)]
enum Source {
    System,
    Manual(Arc<AtomicI64>),
}

impl Clock {
    /// The real clock.
    pub fn system() -> Self {
        Self(Source::System)
    }

    /// A clock that stands still at `start` until it is moved with [`Clock::advance`] or [`Clock::set`].
    pub fn manual(start: Timestamp) -> Self {
        Self(Source::Manual(Arc::new(AtomicI64::new(micros(start)))))
    }

    /// The current instant.
    pub fn now(&self) -> Timestamp {
        match &self.0 {
            Source::System => Timestamp::now(),
            Source::Manual(at) => Timestamp::from_microsecond(at.load(Ordering::SeqCst))
                .unwrap_or(Timestamp::UNIX_EPOCH),
        }
    }

    /// Seconds since the Unix epoch, the unit of TTL attributes.
    pub fn now_epoch_seconds(&self) -> i64 {
        self.now().as_second()
    }

    /// Moves a manual clock forward (or back, with a negative duration). No effect on the system clock.
    pub fn advance(&self, by: SignedDuration) {
        if let Source::Manual(at) = &self.0 {
            let by = i64::try_from(by.as_micros()).unwrap_or(i64::MAX);
            at.fetch_add(by, Ordering::SeqCst);
        }
    }

    /// Sets a manual clock. No effect on the system clock.
    pub fn set(&self, to: Timestamp) {
        if let Source::Manual(at) = &self.0 {
            at.store(micros(to), Ordering::SeqCst);
        }
    }
}

impl Default for Clock {
    fn default() -> Self {
        Self::system()
    }
}

fn micros(t: Timestamp) -> i64 {
    t.as_microsecond()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_manual_clock_moves_only_when_told() {
        let start: Timestamp = "2026-01-02T03:04:05Z".parse().unwrap();
        let clock = Clock::manual(start);
        assert_eq!(clock.now(), start);
        clock.advance(SignedDuration::from_secs(90));
        assert_eq!(
            clock.now(),
            "2026-01-02T03:05:35Z".parse::<Timestamp>().unwrap()
        );
        assert_eq!(clock.now_epoch_seconds(), clock.now().as_second());
        clock.set(start);
        assert_eq!(clock.now(), start);
        // Clones share the same hands.
        let other = clock.clone();
        other.advance(SignedDuration::from_secs(1));
        assert_eq!(clock.now().as_second(), start.as_second() + 1);
    }

    #[test]
    fn the_system_clock_is_close_to_now() {
        let clock = Clock::system();
        let drift = clock.now().duration_since(Timestamp::now()).abs();
        assert!(drift < SignedDuration::from_secs(5));
        clock.advance(SignedDuration::from_hours(1)); // ignored
        assert!(clock.now().duration_since(Timestamp::now()).abs() < SignedDuration::from_secs(5));
    }
}
