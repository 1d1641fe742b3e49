//! Helpers for tests of this and other crates: which stores a test can use, and fresh tables on
//! each. The DynamoDB half of a suite runs when `AWS_ENDPOINT_URL_DYNAMODB` points at DynamoDB
//! (Local); without it it is skipped, unless `FANORDER_REQUIRE_EMULATORS` is set, as
//! `scripts/test` does, in which case a missing endpoint is a failure, never a silent skip.

use std::sync::Arc;

use fanorder_platform::Clock;
use fanorder_platform::id::new_ulid;

use crate::dynamodb::Dynamo;
use crate::sqlite::{Sqlite, SqliteOptions};
use crate::{StoreResult, Table};

/// The two adapters.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StoreKind {
    /// Embedded SQLite in a temporary directory.
    Sqlite,
    /// DynamoDB (Local), a table per process or per test.
    Dynamodb,
}

/// True when a DynamoDB endpoint is configured; panics when one is required but missing.
pub fn dynamodb_available() -> bool {
    if std::env::var_os("AWS_ENDPOINT_URL_DYNAMODB").is_some() {
        return true;
    }
    assert!(
        std::env::var_os("FANORDER_REQUIRE_EMULATORS").is_none(),
        "FANORDER_REQUIRE_EMULATORS is set but AWS_ENDPOINT_URL_DYNAMODB is not: start DynamoDB Local (scripts/test does)"
    );
    eprintln!("skipped: no DynamoDB endpoint (set AWS_ENDPOINT_URL_DYNAMODB or run scripts/test)");
    false
}

/// A table for a test and what keeps it alive.
pub struct TestTable {
    /// The table.
    pub table: Table,
    /// The embedded store, when that is the adapter (for sweeps).
    pub sqlite: Option<Arc<Sqlite>>,
    /// The temporary directory of the SQLite file.
    pub dir: Option<tempfile::TempDir>,
}

/// A fresh table of the given kind, or `None` when DynamoDB is not available. `table_name`
/// picks a DynamoDB table to share (created if needed); `None` makes a new one.
pub async fn table(
    kind: StoreKind,
    clock: Clock,
    cursor_key: &[u8],
    table_name: Option<&str>,
) -> StoreResult<Option<TestTable>> {
    match kind {
        StoreKind::Sqlite => {
            let dir =
                tempfile::tempdir().map_err(|e| crate::StoreError::Unavailable(e.to_string()))?;
            let store = Arc::new(
                Sqlite::open(
                    dir.path().join("test.db"),
                    SqliteOptions::default(),
                    clock.clone(),
                )
                .await?,
            );
            let table = Table::new(store.clone(), cursor_key, clock);
            Ok(Some(TestTable {
                table,
                sqlite: Some(store),
                dir: Some(dir),
            }))
        }
        StoreKind::Dynamodb => {
            if !dynamodb_available() {
                return Ok(None);
            }
            let name = table_name.map_or_else(|| format!("test-{}", new_ulid()), str::to_owned);
            let store = Dynamo::connect(name).await;
            store.migrate().await?;
            Ok(Some(TestTable {
                table: Table::new(Arc::new(store), cursor_key, clock),
                sqlite: None,
                dir: None,
            }))
        }
    }
}
