//! The background work of `fanorder serve`: the outbox relay (events to the in-process feed,
//! customers' Messenger threads, EventBridge and SNS when configured), the bot worker that
//! answers the Messenger inbox, and the late-order sweep. On AWS the stream processor
//! and a schedule do the same work.

use std::sync::Arc;
use std::time::Duration;

use fanorder_events::Relay;
use fanorder_events::publish::{EventBridge, Publisher, Sns};
use jiff::SignedDuration;
use tokio::sync::watch;
use tokio::task::JoinHandle;

use crate::AppState;

/// How often late orders are looked for.
const LATE_SWEEP_EVERY: Duration = Duration::from_secs(30);

/// Running background tasks; stop them with [`Workers::stop`].
#[derive(Debug)]
pub struct Workers {
    stop: watch::Sender<bool>,
    tasks: Vec<JoinHandle<()>>,
}

impl Workers {
    /// Signals every task to stop and waits for them (a relay pass in flight finishes).
    pub async fn stop(self) {
        let _ = self.stop.send(true);
        for task in self.tasks {
            let _ = task.await;
        }
    }
}

async fn stopped(mut rx: watch::Receiver<bool>) {
    while !*rx.borrow() {
        if rx.changed().await.is_err() {
            return;
        }
    }
}

/// The publishers the configuration asks for: the in-process feed, the customer notifier
/// (order updates as Messenger messages) and the sales ledger (reports) always; EventBridge and
/// SNS when a bus or topic is configured.
pub async fn publishers(state: &AppState) -> Vec<Arc<dyn Publisher>> {
    let mut publishers: Vec<Arc<dyn Publisher>> = vec![
        Arc::new(state.feed.clone()),
        Arc::new(fanorder_pages::Notifier::new(
            state.table.clone(),
            state.messenger.clone(),
        )),
        Arc::new(fanorder_orders::SalesLedger::new(state.table.clone())),
    ];
    if let Some(bus) = &state.config.event_bus {
        publishers.push(Arc::new(
            EventBridge::connect(bus.clone(), state.config.event_source.clone()).await,
        ));
    }
    if let Some(topic) = &state.config.sns_topic_arn {
        publishers.push(Arc::new(Sns::connect(topic.clone()).await));
    }
    publishers
}

/// Starts the relay (to the configured publishers) and the late-order sweep.
pub async fn spawn(state: &AppState) -> Workers {
    let publishers = publishers(state).await;
    spawn_with(state, publishers)
}

/// Starts the relay to the given publishers, and the late-order sweep.
pub fn spawn_with(state: &AppState, publishers: Vec<Arc<dyn Publisher>>) -> Workers {
    let (stop, rx) = watch::channel(false);
    let relay = Relay::new(state.table.clone(), publishers, state.clock.clone());
    let wake = state.outbox.wake_signal();
    let relay_task = tokio::spawn(relay.run(wake, stopped(rx.clone())));

    let sweep_state = state.clone();
    let late_after = SignedDuration::from_mins(i64::from(state.config.late_after_minutes));
    let sweep_stop = rx.clone();
    let sweep_task = tokio::spawn(async move {
        let stop = stopped(sweep_stop);
        tokio::pin!(stop);
        loop {
            tokio::select! {
                () = &mut stop => return,
                () = tokio::time::sleep(LATE_SWEEP_EVERY) => {}
            }
            let now = sweep_state.clock.now();
            match fanorder_orders::late::sweep(
                &sweep_state.table,
                &sweep_state.outbox,
                late_after,
                now,
            )
            .await
            {
                Ok(0) => {}
                Ok(noticed) => tracing::info!(noticed, "late orders noticed"),
                Err(err) => {
                    tracing::warn!(error = %err, "late-order sweep failed; trying again later")
                }
            }
        }
    });
    let bot_task = tokio::spawn(fanorder_pages::worker::run(
        state.bot(),
        state.intake.wake_signal(),
        stopped(rx.clone()),
    ));
    Workers {
        stop,
        tasks: vec![relay_task, sweep_task, bot_task],
    }
}
