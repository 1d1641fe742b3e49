//! The relay (poll delivery): moves events from the outbox to the publishers, at least once, in
//! order per shard, retrying with backoff whatever a publisher did not accept. An event leaves
//! the pending index only when every publisher that wants it has it.

use std::sync::Arc;
use std::time::Duration;

use fanorder_platform::{ApiError, Clock};
use fanorder_store::Table;
use tokio::sync::Notify;

use crate::outbox::{self, Pending, SHARDS};
use crate::publish::Publisher;

/// Events read from one shard at a time.
const BATCH: usize = 100;
/// The longest the relay sleeps between polls when nothing wakes it.
const IDLE_POLL: Duration = Duration::from_millis(500);
/// The longest backoff after failures.
const MAX_BACKOFF: Duration = Duration::from_secs(30);

/// What one pass delivered.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Pass {
    /// Events every publisher now has.
    pub delivered: usize,
    /// Events some publisher refused this time (they stay pending).
    pub failed: usize,
}

/// The relay.
#[derive(Clone)]
pub struct Relay {
    table: Table,
    publishers: Vec<Arc<dyn Publisher>>,
    clock: Clock,
}

impl std::fmt::Debug for Relay {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let names: Vec<_> = self.publishers.iter().map(|p| p.name()).collect();
        f.debug_struct("Relay")
            .field("publishers", &names)
            .finish_non_exhaustive()
    }
}

impl Relay {
    /// A relay over the table to the publishers.
    pub fn new(table: Table, publishers: Vec<Arc<dyn Publisher>>, clock: Clock) -> Self {
        Self {
            table,
            publishers,
            clock,
        }
    }

    /// Runs until `stop` resolves: delivers, then waits for a wake-up or the idle poll; backs
    /// off while publishers fail.
    pub async fn run(self, wake: Arc<Notify>, stop: impl Future<Output = ()>) {
        tokio::pin!(stop);
        let mut backoff = Duration::ZERO;
        loop {
            let wait = match self.drain().await {
                Ok(pass) if pass.failed == 0 => {
                    backoff = Duration::ZERO;
                    IDLE_POLL
                }
                Ok(_) | Err(_) => {
                    backoff = (backoff * 2).clamp(Duration::from_millis(200), MAX_BACKOFF);
                    backoff
                }
            };
            tokio::select! {
                () = &mut stop => return,
                () = wake.notified(), if backoff.is_zero() => {},
                () = tokio::time::sleep(wait) => {},
            }
        }
    }

    /// Delivers everything pending now. Returns when every shard is empty or a publisher
    /// refused something (so a failing publisher is not hammered in a loop).
    pub async fn drain(&self) -> Result<Pass, ApiError> {
        let mut total = Pass::default();
        let now = self.clock.now();
        let mut oldest = jiff::SignedDuration::ZERO;
        for shard in 0..SHARDS {
            loop {
                let batch = outbox::pending(&self.table, shard, BATCH).await?;
                let full = batch.len() == BATCH;
                if let Some(first) = batch.first() {
                    oldest = oldest.max(now.duration_since(first.event.occurred_at));
                }
                let pass = self.deliver(batch).await?;
                total.delivered += pass.delivered;
                total.failed += pass.failed;
                if !full || pass.failed > 0 {
                    break;
                }
            }
        }
        // How far the relay is behind: the age of the oldest event it found still pending.
        metrics::gauge!("fanorder_outbox_oldest_pending_seconds").set(oldest.as_secs_f64());
        if total.failed > 0 {
            tracing::warn!(
                failed = total.failed,
                "events not delivered yet; retrying with backoff"
            );
        }
        Ok(total)
    }

    async fn deliver(&self, batch: Vec<Pending>) -> Result<Pass, ApiError> {
        let mut accepted: Vec<Vec<&'static str>> = vec![Vec::new(); batch.len()];
        for publisher in &self.publishers {
            let todo: Vec<usize> = (0..batch.len())
                .filter(|&i| {
                    publisher.wants(&batch[i].event)
                        && !batch[i].sent.iter().any(|s| s == publisher.name())
                })
                .collect();
            if todo.is_empty() {
                continue;
            }
            let events: Vec<_> = todo.iter().map(|&i| &batch[i].event).collect();
            let results = publisher.publish(&events).await;
            for (i, ok) in todo.into_iter().zip(results) {
                if ok {
                    accepted[i].push(publisher.name());
                    metrics::counter!("fanorder_events_published_total", "publisher" => publisher.name()).increment(1);
                } else {
                    metrics::counter!("fanorder_event_publish_failures_total", "publisher" => publisher.name()).increment(1);
                }
            }
        }
        let now = self.clock.now();
        let mut pass = Pass::default();
        for (pending, new) in batch.iter().zip(accepted) {
            let done = self.publishers.iter().all(|p| {
                !p.wants(&pending.event)
                    || new.contains(&p.name())
                    || pending.sent.iter().any(|s| s == p.name())
            });
            if done {
                pass.delivered += 1;
            } else {
                pass.failed += 1;
            }
            if done || !new.is_empty() {
                outbox::mark_sent(&self.table, &pending.key, &new, done, now).await?;
            }
        }
        Ok(pass)
    }
}
