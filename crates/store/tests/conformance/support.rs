//! Builds a fresh table on either adapter for one test.

use std::sync::Arc;

use fanorder_platform::Clock;
use fanorder_store::Table;
use fanorder_store::sqlite::Sqlite;
use fanorder_store::testing::{self, StoreKind};
use jiff::Timestamp;

pub use fanorder_store::testing::dynamodb_available;

/// A table plus what keeps it alive, and the clock the test can move.
pub struct Harness {
    pub table: Table,
    pub clock: Clock,
    pub sqlite: Option<Arc<Sqlite>>,
    _keep: testing::TestTable,
}

/// The cursor key every harness shares, so cursors are comparable across adapters.
pub const CURSOR_KEY: [u8; 32] = [42u8; 32];

pub fn start_time() -> Timestamp {
    "2026-06-01T12:00:00Z".parse().unwrap()
}

async fn harness(kind: StoreKind, clock: Clock) -> Option<Harness> {
    let keep = testing::table(kind, clock.clone(), &CURSOR_KEY, None)
        .await
        .unwrap()?;
    Some(Harness {
        table: keep.table.clone(),
        clock,
        sqlite: keep.sqlite.clone(),
        _keep: keep,
    })
}

pub async fn sqlite_with(clock: Clock) -> Harness {
    harness(StoreKind::Sqlite, clock)
        .await
        .expect("sqlite is always available")
}

pub async fn sqlite() -> Harness {
    sqlite_with(Clock::manual(start_time())).await
}

pub async fn dynamodb_with(clock: Clock) -> Option<Harness> {
    harness(StoreKind::Dynamodb, clock).await
}

pub async fn dynamodb() -> Option<Harness> {
    dynamodb_with(Clock::manual(start_time())).await
}
