//! The embedded adapter: one SQLite file in WAL mode, fsync on every commit (or, by choice,
//! only at checkpoints: [`Durability`]).
//!
//! All writes go to one writer thread that owns the write connection. It takes every request
//! waiting in its queue, applies them in one transaction, commits once (one fsync for the
//! whole group) and only then answers each request: a group commit, as databases do, so a
//! flood of small writes does not pay one fsync each. Each request's conditions are checked
//! before it writes anything, so a refused request leaves nothing to undo (no savepoints).
//! Reads run on a few reader threads with their own connections. No SQLite call ever runs on
//! an async runtime thread.
//!
//! Keys are TEXT with SQLite's BINARY collation, which compares UTF-8 bytes: the same order as
//! DynamoDB. Index entries live in `gsi_entries`, maintained in the same transaction as the
//! item. Expired items are invisible at once and removed by a sweeper.

use std::path::{Path, PathBuf};
use std::thread;
use std::time::Duration;

use async_trait::async_trait;
use crossbeam_channel::{Receiver, RecvTimeoutError, Sender};
use fanorder_platform::Clock;
use rusqlite::{Connection, OpenFlags, OptionalExtension, params};
use tokio::sync::oneshot;

use crate::cursor::Position;
use crate::eval;
use crate::model::{
    Capacity, CmpOp, Cond, Delete, Item, Key, Put, Query, SortKey, StoreError, StoreResult,
    TxFailure, TxOp, Update, Value,
};
use crate::schema::{IndexSchema, TableSchema};
use crate::table::Backend;

/// Tuning for the embedded adapter.
#[derive(Debug, Clone)]
pub struct SqliteOptions {
    /// Reader threads (each with its own connection).
    pub readers: usize,
    /// How often expired items are removed.
    pub sweep_every: Duration,
    /// The most write requests committed together.
    pub max_group: usize,
    /// When a commit is durable; see [`Durability`].
    pub durability: Durability,
}

/// When a write counts as done.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Durability {
    /// After an fsync of the write-ahead log (SQLite `synchronous = FULL`): survives a crash of
    /// the process and of the machine (power loss). One fsync per group of writes.
    #[default]
    Full,
    /// After the write reached the operating system (`synchronous = NORMAL` in WAL mode, fsync
    /// at checkpoints): survives a crash or kill of the process, not a power loss of the machine,
    /// which may lose the last moments of writes. Several times the write rate on a slow disk.
    Normal,
}

impl std::str::FromStr for Durability {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "full" => Ok(Self::Full),
            "normal" => Ok(Self::Normal),
            other => Err(format!("expected full or normal, got `{other}`")),
        }
    }
}

impl Default for SqliteOptions {
    fn default() -> Self {
        let cores = thread::available_parallelism().map_or(2, usize::from);
        Self {
            readers: cores.clamp(2, 8),
            sweep_every: Duration::from_secs(60),
            max_group: 512,
            durability: Durability::Full,
        }
    }
}

/// The embedded store.
pub struct Sqlite {
    writer: Sender<WriteJob>,
    readers: Sender<ReadJob>,
    schema: &'static TableSchema,
    path: PathBuf,
    clock: Clock,
    // Dropping this sender stops the sweeper thread.
    _stop_sweeper: Sender<()>,
}

impl std::fmt::Debug for Sqlite {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Sqlite")
            .field("path", &self.path)
            .finish_non_exhaustive()
    }
}

type ReadJob = Box<dyn FnOnce(&Connection) + Send>;

enum WriteOp {
    Put(Put),
    Delete(Delete),
    Update(Update),
    Transact(Vec<TxOp>),
    Sweep,
}

enum WriteOutput {
    Done,
    Item(Item),
    Removed(Option<Item>),
    Swept(usize),
}

struct WriteJob {
    op: WriteOp,
    now: i64,
    reply: oneshot::Sender<StoreResult<WriteOutput>>,
}

/// The tables. `items` is a rowid table with its key in a unique index: bodies (an inbound
/// webhook event is near a kilobyte) sit in the leaves in the order they were written, and the
/// key index holds only keys. It was a WITHOUT ROWID table, which keeps whole rows in the
/// interior cells of its one B-tree too: four to an interior page, so ninety thousand events
/// made a tree eight levels deep, and each commit rewrote several interior pages (see
/// [`migrate_items_to_rowid`]; BENCHMARKS.md has the numbers).
const SCHEMA_SQL: &str = "
CREATE TABLE IF NOT EXISTS items (
    pk TEXT NOT NULL,
    sk TEXT NOT NULL,
    body BLOB NOT NULL,
    expires_at INTEGER,
    PRIMARY KEY (pk, sk)
);
CREATE INDEX IF NOT EXISTS items_by_expiry ON items (expires_at) WHERE expires_at IS NOT NULL;
CREATE TABLE IF NOT EXISTS gsi_entries (
    idx TEXT NOT NULL,
    ipk TEXT NOT NULL,
    isk TEXT NOT NULL,
    pk TEXT NOT NULL,
    sk TEXT NOT NULL,
    PRIMARY KEY (idx, ipk, isk, pk, sk)
) WITHOUT ROWID;
-- Replaced and removed items' index entries are deleted by their exact keys, computed from
-- the item as it was; an index by item only cost every write one more B-tree insert.
DROP INDEX IF EXISTS gsi_entries_by_item;
";

/// Moves the items of a database written before `items` was a rowid table into one, in one
/// transaction: a crash on the way leaves the old table as it was, and the next open tries
/// again. Nothing to do on a new or already moved database. The old table's pages become free
/// pages that new rows reuse; the log, which held the whole table for a moment, is cut back to
/// 64 MiB when it next starts over (`journal_size_limit`, for any burst).
fn migrate_items_to_rowid(conn: &Connection) -> rusqlite::Result<()> {
    let sql: Option<String> = conn
        .query_row(
            "SELECT sql FROM sqlite_schema WHERE type = 'table' AND name = 'items'",
            [],
            |row| row.get(0),
        )
        .optional()?;
    if !sql.is_some_and(|sql| sql.contains("WITHOUT ROWID")) {
        return Ok(());
    }
    conn.execute_batch(&format!(
        "BEGIN IMMEDIATE;
         DROP INDEX IF EXISTS items_by_expiry;
         ALTER TABLE items RENAME TO items_without_rowid;
         {SCHEMA_SQL}
         INSERT INTO items (pk, sk, body, expires_at)
             SELECT pk, sk, body, expires_at FROM items_without_rowid;
         DROP TABLE items_without_rowid;
         COMMIT;"
    ))
}

fn unavailable(err: impl std::fmt::Display) -> StoreError {
    StoreError::Unavailable(format!("sqlite: {err}"))
}

fn closed() -> StoreError {
    StoreError::Unavailable("sqlite: the store is shut down".to_owned())
}

impl Sqlite {
    /// Opens (creating if needed) the database file and starts the writer, readers and sweeper.
    pub async fn open(
        path: impl Into<PathBuf>,
        options: SqliteOptions,
        clock: Clock,
    ) -> StoreResult<Self> {
        let path = path.into();
        tokio::task::spawn_blocking(move || Self::open_blocking(path, options, clock))
            .await
            .map_err(unavailable)?
    }

    fn open_blocking(path: PathBuf, options: SqliteOptions, clock: Clock) -> StoreResult<Self> {
        if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
            std::fs::create_dir_all(parent).map_err(unavailable)?;
        }
        let schema = TableSchema::load();
        let write_conn = Connection::open(&path).map_err(unavailable)?;
        let synchronous = match options.durability {
            Durability::Full => "FULL",
            Durability::Normal => "NORMAL",
        };
        write_conn
            .execute_batch(&format!(
                "PRAGMA journal_mode = WAL;
                 PRAGMA synchronous = {synchronous};
                 PRAGMA busy_timeout = 10000;
                 PRAGMA cache_size = -32000;
                 PRAGMA journal_size_limit = 67108864;"
            ))
            .map_err(unavailable)?;
        migrate_items_to_rowid(&write_conn).map_err(unavailable)?;
        write_conn.execute_batch(SCHEMA_SQL).map_err(unavailable)?;
        // Nothing else writes with this connection; make sure the first group does not wait.
        write_conn.set_prepared_statement_cache_capacity(64);

        let (writer, write_rx) = crossbeam_channel::unbounded::<WriteJob>();
        let max_group = options.max_group.max(1);
        thread::Builder::new()
            .name("sqlite-writer".into())
            .spawn(move || writer_loop(&write_conn, &write_rx, schema, max_group))
            .map_err(unavailable)?;

        let (readers, read_rx) = crossbeam_channel::unbounded::<ReadJob>();
        for n in 0..options.readers.max(1) {
            let conn = Connection::open_with_flags(
                &path,
                OpenFlags::SQLITE_OPEN_READ_WRITE
                    | OpenFlags::SQLITE_OPEN_NO_MUTEX
                    | OpenFlags::SQLITE_OPEN_URI,
            )
            .map_err(unavailable)?;
            conn.execute_batch(
                "PRAGMA query_only = 1; PRAGMA busy_timeout = 10000; PRAGMA cache_size = -16000;",
            )
            .map_err(unavailable)?;
            conn.set_prepared_statement_cache_capacity(64);
            let rx = read_rx.clone();
            thread::Builder::new()
                .name(format!("sqlite-reader-{n}"))
                .spawn(move || {
                    while let Ok(job) = rx.recv() {
                        job(&conn);
                    }
                })
                .map_err(unavailable)?;
        }

        let (stop_sweeper, stop_rx) = crossbeam_channel::bounded::<()>(0);
        let sweep_writer = writer.clone();
        let sweep_clock = clock.clone();
        let every = options.sweep_every;
        thread::Builder::new()
            .name("sqlite-sweeper".into())
            .spawn(move || sweeper_loop(&stop_rx, &sweep_writer, &sweep_clock, every))
            .map_err(unavailable)?;

        Ok(Self {
            writer,
            readers,
            schema,
            path,
            clock,
            _stop_sweeper: stop_sweeper,
        })
    }

    /// The database file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Removes expired items now (the sweeper does this on its own every minute); returns how many.
    pub async fn sweep(&self) -> StoreResult<usize> {
        self.sweep_at(self.clock.now_epoch_seconds()).await
    }

    async fn sweep_at(&self, now: i64) -> StoreResult<usize> {
        match self.write(WriteOp::Sweep, now).await? {
            WriteOutput::Swept(n) => Ok(n),
            _ => Err(unavailable("unexpected sweep output")),
        }
    }

    async fn write(&self, op: WriteOp, now: i64) -> StoreResult<WriteOutput> {
        let (reply, answer) = oneshot::channel();
        self.writer
            .send(WriteJob { op, now, reply })
            .map_err(|_| closed())?;
        answer.await.map_err(|_| closed())?
    }

    async fn read<T: Send + 'static>(
        &self,
        f: impl FnOnce(&Connection) -> StoreResult<T> + Send + 'static,
    ) -> StoreResult<T> {
        let (reply, answer) = oneshot::channel();
        self.readers
            .send(Box::new(move |conn| {
                let _ = reply.send(f(conn));
            }))
            .map_err(|_| closed())?;
        answer.await.map_err(|_| closed())?
    }
}

fn writer_loop(
    conn: &Connection,
    jobs: &Receiver<WriteJob>,
    schema: &'static TableSchema,
    max_group: usize,
) {
    while let Ok(first) = jobs.recv() {
        let mut group = vec![first];
        while group.len() < max_group {
            match jobs.try_recv() {
                Ok(job) => group.push(job),
                Err(_) => break,
            }
        }
        let (ops, replies): (Vec<_>, Vec<_>) = group
            .into_iter()
            .map(|job| ((job.op, job.now), job.reply))
            .unzip();
        let results = commit_group(conn, schema, ops);
        for (reply, result) in replies.into_iter().zip(results) {
            // The caller may have gone away (request cancelled); its write still stands.
            let _ = reply.send(result);
        }
    }
}

/// Applies a group of writes in one transaction and commits once. Each write is planned
/// before it writes anything (rows read, conditions checked, new items computed), so a refused
/// write leaves nothing to undo and needs no savepoint. A failure while writing (the disk, not
/// a condition) rolls back the whole group and fails every write in it: none was acknowledged,
/// none is kept.
fn commit_group(
    conn: &Connection,
    schema: &TableSchema,
    ops: Vec<(WriteOp, i64)>,
) -> Vec<StoreResult<WriteOutput>> {
    let count = ops.len();
    let fail_all = |err: StoreError| (0..count).map(|_| Err(err.clone())).collect();
    if let Err(err) = run(conn, "BEGIN IMMEDIATE") {
        // Whatever was left open is no one's: the next group starts clean.
        let _ = run(conn, "ROLLBACK");
        return fail_all(unavailable(err));
    }
    let mut results = Vec::with_capacity(count);
    for (op, now) in ops {
        // A put only if new (an inbound event, a new order) goes straight in; only one that
        // finds a row there is planned like any other write.
        let op = match op {
            WriteOp::Put(put) if matches!(put.cond, Some(Cond::NotExists)) => {
                match insert_new(conn, schema, put) {
                    Ok(None) => {
                        results.push(Ok(WriteOutput::Done));
                        continue;
                    }
                    Ok(Some(put)) => WriteOp::Put(put),
                    Err(err) => {
                        let _ = run(conn, "ROLLBACK");
                        return fail_all(err);
                    }
                }
            }
            op => op,
        };
        match plan(conn, schema, op, now) {
            Ok(planned) => {
                if let Err(err) = planned.write(conn, schema) {
                    let _ = run(conn, "ROLLBACK");
                    return fail_all(err);
                }
                results.push(Ok(planned.output()));
            }
            Err(refused) => results.push(Err(refused)),
        }
    }
    match run(conn, "COMMIT") {
        Ok(()) => results,
        Err(err) => {
            let _ = run(conn, "ROLLBACK");
            fail_all(unavailable(err))
        }
    }
}

/// Runs a statement without parameters through the statement cache.
fn run(conn: &Connection, sql: &str) -> rusqlite::Result<()> {
    conn.prepare_cached(sql)?.execute([]).map(|_| ())
}

fn sweeper_loop(stop: &Receiver<()>, writer: &Sender<WriteJob>, clock: &Clock, every: Duration) {
    loop {
        match stop.recv_timeout(every) {
            Err(RecvTimeoutError::Timeout) => {}
            _ => return,
        }
        loop {
            let (reply, answer) = oneshot::channel();
            let job = WriteJob {
                op: WriteOp::Sweep,
                now: clock.now_epoch_seconds(),
                reply,
            };
            if writer.send(job).is_err() {
                return;
            }
            match answer.blocking_recv() {
                Ok(Ok(WriteOutput::Swept(n))) if n >= SWEEP_BATCH => continue,
                _ => break,
            }
        }
    }
}

const SWEEP_BATCH: usize = 1000;

/// One row to write, with the row it replaces (whose index entries go).
enum RowWrite {
    Store {
        key: Key,
        item: Item,
        previous: Option<Item>,
    },
    Remove {
        key: Key,
        previous: Option<Item>,
    },
}

/// What a write answers once committed.
enum Answer {
    Done,
    /// The item of the (only) row written.
    Stored,
    Removed(Option<Item>),
    Swept(usize),
}

/// A write whose conditions hold: the rows it writes and its answer.
struct Planned {
    rows: Vec<RowWrite>,
    answer: Answer,
}

impl Planned {
    fn write(&self, conn: &Connection, schema: &TableSchema) -> StoreResult<()> {
        for row in &self.rows {
            match row {
                RowWrite::Store {
                    key,
                    item,
                    previous,
                } => store_item(conn, schema, key, item, previous.as_ref())?,
                RowWrite::Remove { key, previous } => {
                    remove_item(conn, schema, key, previous.as_ref())?;
                }
            }
        }
        Ok(())
    }

    fn output(self) -> WriteOutput {
        match self.answer {
            Answer::Done => WriteOutput::Done,
            Answer::Removed(item) => WriteOutput::Removed(item),
            Answer::Swept(n) => WriteOutput::Swept(n),
            Answer::Stored => match self.rows.into_iter().next() {
                Some(RowWrite::Store { item, .. }) => WriteOutput::Item(item),
                _ => WriteOutput::Done,
            },
        }
    }
}

/// Reads what `op` needs and checks its conditions, writing nothing.
fn plan(conn: &Connection, schema: &TableSchema, op: WriteOp, now: i64) -> StoreResult<Planned> {
    let refused = |row: Row| StoreError::ConditionFailed {
        current: row.into_visible().map(Box::new),
    };
    match op {
        WriteOp::Put(put) => {
            let key = item_key(schema, &put.item)?;
            let row = Row::load(conn, schema, &key, now)?;
            if let Some(cond) = &put.cond
                && !eval::holds(cond, row.visible())
            {
                return Err(refused(row));
            }
            Ok(Planned {
                rows: vec![RowWrite::Store {
                    key,
                    item: put.item,
                    previous: row.into_stored(),
                }],
                answer: Answer::Done,
            })
        }
        WriteOp::Delete(delete) => {
            let row = Row::load(conn, schema, &delete.key, now)?;
            if let Some(cond) = &delete.cond
                && !eval::holds(cond, row.visible())
            {
                return Err(refused(row));
            }
            let answer = Answer::Removed(row.visible().cloned());
            Ok(Planned {
                rows: vec![RowWrite::Remove {
                    key: delete.key,
                    previous: row.into_stored(),
                }],
                answer,
            })
        }
        WriteOp::Update(update) => {
            let row = Row::load(conn, schema, &update.key, now)?;
            if let Some(cond) = &update.cond
                && !eval::holds(cond, row.visible())
            {
                return Err(refused(row));
            }
            let item = updated(schema, row.visible().cloned(), &update)?;
            Ok(Planned {
                rows: vec![RowWrite::Store {
                    key: update.key,
                    item,
                    previous: row.into_stored(),
                }],
                answer: Answer::Stored,
            })
        }
        WriteOp::Transact(ops) => {
            // Every condition is checked against the state before the transaction (no two
            // operations touch the same item), then everything is written.
            let mut loaded = Vec::with_capacity(ops.len());
            let mut failures = Vec::new();
            for (index, op) in ops.into_iter().enumerate() {
                let (key, cond) = match &op {
                    TxOp::Put(put) => (item_key(schema, &put.item)?, put.cond.as_ref()),
                    TxOp::Delete(delete) => (delete.key.clone(), delete.cond.as_ref()),
                    TxOp::Update(update) => (update.key.clone(), update.cond.as_ref()),
                    TxOp::Check(check) => (check.key.clone(), Some(&check.cond)),
                };
                let row = Row::load(conn, schema, &key, now)?;
                if let Some(cond) = cond
                    && !eval::holds(cond, row.visible())
                {
                    failures.push(TxFailure {
                        index,
                        current: row.visible().cloned(),
                    });
                }
                loaded.push((op, key, row));
            }
            if !failures.is_empty() {
                return Err(StoreError::TransactionCanceled { failures });
            }
            let mut rows = Vec::with_capacity(loaded.len());
            for (op, key, row) in loaded {
                match op {
                    TxOp::Put(put) => rows.push(RowWrite::Store {
                        key,
                        item: put.item,
                        previous: row.into_stored(),
                    }),
                    TxOp::Delete(_) => rows.push(RowWrite::Remove {
                        key,
                        previous: row.into_stored(),
                    }),
                    TxOp::Update(update) => {
                        let item = updated(schema, row.visible().cloned(), &update)?;
                        rows.push(RowWrite::Store {
                            key,
                            item,
                            previous: row.into_stored(),
                        });
                    }
                    TxOp::Check(_) => {}
                }
            }
            Ok(Planned {
                rows,
                answer: Answer::Done,
            })
        }
        WriteOp::Sweep => {
            let mut stmt = conn
                .prepare_cached("SELECT pk, sk, body FROM items WHERE expires_at IS NOT NULL AND expires_at <= ?1 LIMIT ?2")
                .map_err(unavailable)?;
            let expired = stmt
                .query_map(params![now, SWEEP_BATCH as i64], |row| {
                    Ok((
                        Key {
                            pk: row.get(0)?,
                            sk: row.get(1)?,
                        },
                        row.get::<_, Vec<u8>>(2)?,
                    ))
                })
                .map_err(unavailable)?
                .collect::<Result<Vec<_>, _>>()
                .map_err(unavailable)?;
            let rows = expired
                .into_iter()
                .map(|(key, body)| {
                    Ok(RowWrite::Remove {
                        previous: Some(decode(schema, key.clone(), &body)?),
                        key,
                    })
                })
                .collect::<StoreResult<Vec<_>>>()?;
            Ok(Planned {
                answer: Answer::Swept(rows.len()),
                rows,
            })
        }
    }
}

fn updated(schema: &TableSchema, current: Option<Item>, update: &Update) -> StoreResult<Item> {
    let keys = (
        schema.partition_key.name.as_str(),
        schema.sort_key.name.as_str(),
    );
    let item = eval::apply_changes(current, &update.key, keys, &update.changes)?;
    if eval::item_size(&item) > eval::MAX_ITEM_BYTES {
        return Err(StoreError::ItemTooLarge);
    }
    Ok(item)
}

fn item_key(schema: &TableSchema, item: &Item) -> StoreResult<Key> {
    let attr = |name: &str| match item.get(name) {
        Some(Value::S(text)) => Ok(text.clone()),
        _ => Err(StoreError::invalid(format!(
            "item has no string attribute {name}"
        ))),
    };
    Ok(Key {
        pk: attr(&schema.partition_key.name)?,
        sk: attr(&schema.sort_key.name)?,
    })
}

/// An item's body: every attribute but the two of the key, which the row's `pk` and `sk`
/// columns hold already. (In the body too, they were a sixth of an inbound event's row when its
/// sort key carried Facebook's 90-character message id.)
fn encode(schema: &TableSchema, item: &Item) -> StoreResult<Vec<u8>> {
    let (pk, sk) = (&schema.partition_key.name, &schema.sort_key.name);
    let mut body = Vec::with_capacity(512);
    serde::Serializer::collect_map(
        &mut serde_json::Serializer::new(&mut body),
        item.iter().filter(|(name, _)| *name != pk && *name != sk),
    )
    .map_err(unavailable)?;
    Ok(body)
}

/// The item of a row: its body and its key. A body written before the key left it has the key
/// too, and keeps it.
fn decode(schema: &TableSchema, key: Key, body: &[u8]) -> StoreResult<Item> {
    let mut item: Item = serde_json::from_slice(body).map_err(unavailable)?;
    item.entry(schema.partition_key.name.clone())
        .or_insert(Value::S(key.pk));
    item.entry(schema.sort_key.name.clone())
        .or_insert(Value::S(key.sk));
    Ok(item)
}

/// An item's row as a write finds it: absent, live, or expired but not yet swept (invisible to
/// conditions and reads, but its index entries are still there to delete).
enum Row {
    Absent,
    Live(Item),
    Expired(Item),
}

impl Row {
    fn load(conn: &Connection, schema: &TableSchema, key: &Key, now: i64) -> StoreResult<Self> {
        let mut stmt = conn
            .prepare_cached("SELECT body, expires_at FROM items WHERE pk = ?1 AND sk = ?2")
            .map_err(unavailable)?;
        let row: Option<(Vec<u8>, Option<i64>)> = stmt
            .query_row(params![key.pk, key.sk], |row| {
                Ok((row.get(0)?, row.get(1)?))
            })
            .optional()
            .map_err(unavailable)?;
        Ok(match row {
            None => Self::Absent,
            Some((body, expires_at)) => {
                let item = decode(schema, key.clone(), &body)?;
                if expires_at.is_none_or(|at| at > now) {
                    Self::Live(item)
                } else {
                    Self::Expired(item)
                }
            }
        })
    }

    /// What conditions and reads see.
    fn visible(&self) -> Option<&Item> {
        match self {
            Self::Live(item) => Some(item),
            Self::Absent | Self::Expired(_) => None,
        }
    }

    fn into_visible(self) -> Option<Item> {
        match self {
            Self::Live(item) => Some(item),
            Self::Absent | Self::Expired(_) => None,
        }
    }

    /// What is stored, expired or not.
    fn into_stored(self) -> Option<Item> {
        match self {
            Self::Live(item) | Self::Expired(item) => Some(item),
            Self::Absent => None,
        }
    }
}

/// An item's entry in an index, when it has both of the index's keys (sparse indexes).
fn index_entry<'a>(index: &IndexSchema, item: &'a Item) -> Option<(&'a str, &'a str)> {
    match (
        item.get(&index.partition_key.name),
        item.get(&index.sort_key.name),
    ) {
        (Some(Value::S(ipk)), Some(Value::S(isk))) => Some((ipk, isk)),
        _ => None,
    }
}

/// Inserts the item of a put whose condition is that nothing is stored under its key, with its
/// index entries, when no row is there; hands the put back when one is (live, or expired and
/// not yet swept: the planned path decides). One look at the key index instead of two.
fn insert_new(conn: &Connection, schema: &TableSchema, put: Put) -> StoreResult<Option<Put>> {
    // A put the planned path refuses is refused there.
    let Ok(key) = item_key(schema, &put.item) else {
        return Ok(Some(put));
    };
    let inserted = write_row(
        conn,
        schema,
        "INSERT INTO items (pk, sk, body, expires_at) VALUES (?1, ?2, ?3, ?4) \
         ON CONFLICT (pk, sk) DO NOTHING",
        &key,
        &put.item,
    )?;
    if inserted == 0 {
        return Ok(Some(put));
    }
    move_index_entries(conn, schema, &key, &put.item, None)?;
    Ok(None)
}

/// Writes `item` over `previous` (the row stored under the key, if any), moving its index
/// entries only where their keys changed.
fn store_item(
    conn: &Connection,
    schema: &TableSchema,
    key: &Key,
    item: &Item,
    previous: Option<&Item>,
) -> StoreResult<()> {
    write_row(
        conn,
        schema,
        "INSERT OR REPLACE INTO items (pk, sk, body, expires_at) VALUES (?1, ?2, ?3, ?4)",
        key,
        item,
    )?;
    move_index_entries(conn, schema, key, item, previous)
}

/// Runs `sql`, an insert of the row (key, body, expiry), with `item`'s; the rows it changed.
fn write_row(
    conn: &Connection,
    schema: &TableSchema,
    sql: &str,
    key: &Key,
    item: &Item,
) -> StoreResult<usize> {
    let body = encode(schema, item)?;
    let expires_at = eval::expiry(item, &schema.ttl_attribute);
    conn.prepare_cached(sql)
        .and_then(|mut stmt| stmt.execute(params![key.pk, key.sk, body, expires_at]))
        .map_err(unavailable)
}

/// Moves the index entries of `previous` to those of `item`, where their keys changed.
fn move_index_entries(
    conn: &Connection,
    schema: &TableSchema,
    key: &Key,
    item: &Item,
    previous: Option<&Item>,
) -> StoreResult<()> {
    for index in &schema.global_secondary_indexes {
        let old = previous.and_then(|p| index_entry(index, p));
        let new = index_entry(index, item);
        if old == new {
            continue;
        }
        if let Some((ipk, isk)) = old {
            delete_entry(conn, index, (ipk, isk), key)?;
        }
        if let Some((ipk, isk)) = new {
            conn.prepare_cached(
                "INSERT INTO gsi_entries (idx, ipk, isk, pk, sk) VALUES (?1, ?2, ?3, ?4, ?5)",
            )
            .and_then(|mut stmt| stmt.execute(params![index.name, ipk, isk, key.pk, key.sk]))
            .map_err(unavailable)?;
        }
    }
    Ok(())
}

fn delete_entry(
    conn: &Connection,
    index: &IndexSchema,
    (ipk, isk): (&str, &str),
    key: &Key,
) -> StoreResult<()> {
    conn.prepare_cached(
        "DELETE FROM gsi_entries WHERE idx = ?1 AND ipk = ?2 AND isk = ?3 AND pk = ?4 AND sk = ?5",
    )
    .and_then(|mut stmt| stmt.execute(params![index.name, ipk, isk, key.pk, key.sk]))
    .map_err(unavailable)?;
    Ok(())
}

/// Removes the row under `key` and the index entries of `previous`, the item stored there.
fn remove_item(
    conn: &Connection,
    schema: &TableSchema,
    key: &Key,
    previous: Option<&Item>,
) -> StoreResult<()> {
    conn.prepare_cached("DELETE FROM items WHERE pk = ?1 AND sk = ?2")
        .and_then(|mut stmt| stmt.execute(params![key.pk, key.sk]))
        .map_err(unavailable)?;
    for index in &schema.global_secondary_indexes {
        if let Some(entry) = previous.and_then(|p| index_entry(index, p)) {
            delete_entry(conn, index, entry, key)?;
        }
    }
    Ok(())
}

/// The smallest string greater than every string that starts with `prefix`, in UTF-8 byte
/// order (which is code point order), or `None` when there is none.
fn prefix_successor(prefix: &str) -> Option<String> {
    let mut chars: Vec<char> = prefix.chars().collect();
    while let Some(last) = chars.pop() {
        let mut next = u32::from(last) + 1;
        if next == 0xD800 {
            next = 0xE000; // skip the surrogate range, which is not valid in strings
        }
        if let Some(c) = char::from_u32(next) {
            chars.push(c);
            return Some(chars.into_iter().collect());
        }
    }
    None
}

/// The SQL and parameters of a query: `key` is the column holding the sort key being ranged.
fn sort_key_sql(
    sk: Option<&SortKey>,
    column: &str,
    params: &mut Vec<rusqlite::types::Value>,
) -> String {
    let bind = |v: &str, params: &mut Vec<rusqlite::types::Value>| {
        params.push(rusqlite::types::Value::Text(v.to_owned()));
        format!("?{}", params.len())
    };
    match sk {
        None => String::new(),
        Some(SortKey::Cmp(op, value)) => {
            let op = match op {
                CmpOp::Eq => "=",
                CmpOp::Lt => "<",
                CmpOp::Le => "<=",
                CmpOp::Gt => ">",
                CmpOp::Ge => ">=",
            };
            format!(" AND {column} {op} {}", bind(value, params))
        }
        Some(SortKey::Between(low, high)) => {
            let low = bind(low, params);
            let high = bind(high, params);
            format!(" AND {column} >= {low} AND {column} <= {high}")
        }
        Some(SortKey::BeginsWith(prefix)) => {
            let low = bind(prefix, params);
            match prefix_successor(prefix) {
                Some(upper) => format!(
                    " AND {column} >= {low} AND {column} < {}",
                    bind(&upper, params)
                ),
                None => format!(" AND {column} >= {low}"),
            }
        }
    }
}

fn run_query(
    conn: &Connection,
    schema: &TableSchema,
    query: &Query,
    after: Option<Position>,
    fetch: usize,
    now: i64,
) -> StoreResult<Vec<Item>> {
    use rusqlite::types::Value as Sql;
    let mut params: Vec<Sql> = Vec::new();
    let (dir, cmp) = if query.forward {
        ("ASC", ">")
    } else {
        ("DESC", "<")
    };
    let sql = match &query.index {
        None => {
            params.push(Sql::Text(query.pk.clone()));
            params.push(Sql::Integer(now));
            let mut sql =
                "SELECT pk, sk, body FROM items WHERE pk = ?1 AND (expires_at IS NULL OR expires_at > ?2)"
                    .to_owned();
            sql += &sort_key_sql(query.sk.as_ref(), "sk", &mut params);
            if let Some(position) = after {
                params.push(Sql::Text(position.key.sk));
                sql += &format!(" AND sk {cmp} ?{}", params.len());
            }
            params.push(Sql::Integer(i64::try_from(fetch).unwrap_or(i64::MAX)));
            sql + &format!(" ORDER BY sk {dir} LIMIT ?{}", params.len())
        }
        Some(name) => {
            let index = schema
                .index(name)
                .ok_or_else(|| StoreError::invalid(format!("no index {name}")))?;
            params.push(Sql::Text(index.name.clone()));
            params.push(Sql::Text(query.pk.clone()));
            params.push(Sql::Integer(now));
            let mut sql =
                "SELECT i.pk, i.sk, i.body FROM gsi_entries g JOIN items i ON i.pk = g.pk AND i.sk = g.sk \
                 WHERE g.idx = ?1 AND g.ipk = ?2 AND (i.expires_at IS NULL OR i.expires_at > ?3)"
                    .to_owned();
            sql += &sort_key_sql(query.sk.as_ref(), "g.isk", &mut params);
            if let Some(position) = after {
                let (_, isk) = position.index_key.ok_or(StoreError::InvalidCursor)?;
                params.extend([
                    Sql::Text(isk),
                    Sql::Text(position.key.pk),
                    Sql::Text(position.key.sk),
                ]);
                let n = params.len();
                sql += &format!(
                    " AND (g.isk, g.pk, g.sk) {cmp} (?{}, ?{}, ?{n})",
                    n - 2,
                    n - 1
                );
            }
            params.push(Sql::Integer(i64::try_from(fetch).unwrap_or(i64::MAX)));
            sql + &format!(
                " ORDER BY g.isk {dir}, g.pk {dir}, g.sk {dir} LIMIT ?{}",
                params.len()
            )
        }
    };
    let mut stmt = conn.prepare_cached(&sql).map_err(unavailable)?;
    let rows = stmt
        .query_map(rusqlite::params_from_iter(params), |row| {
            let key = Key {
                pk: row.get(0)?,
                sk: row.get(1)?,
            };
            Ok((key, row.get::<_, Vec<u8>>(2)?))
        })
        .map_err(unavailable)?
        .collect::<Result<Vec<_>, _>>()
        .map_err(unavailable)?;
    rows.into_iter()
        .map(|(key, body)| decode(schema, key, &body))
        .collect()
}

#[async_trait]
impl Backend for Sqlite {
    async fn get(&self, key: &Key, now: i64) -> StoreResult<Option<Item>> {
        let key = key.clone();
        let schema = self.schema;
        self.read(move |conn| Row::load(conn, schema, &key, now).map(Row::into_visible))
            .await
    }

    async fn put(&self, put: Put, now: i64) -> StoreResult<()> {
        self.write(WriteOp::Put(put), now).await.map(|_| ())
    }

    async fn delete(&self, delete: Delete, now: i64) -> StoreResult<Option<Item>> {
        match self.write(WriteOp::Delete(delete), now).await? {
            WriteOutput::Removed(item) => Ok(item),
            _ => Err(unavailable("unexpected delete output")),
        }
    }

    async fn update(&self, update: Update, now: i64) -> StoreResult<Item> {
        match self.write(WriteOp::Update(update), now).await? {
            WriteOutput::Item(item) => Ok(item),
            _ => Err(unavailable("unexpected update output")),
        }
    }

    async fn transact(&self, ops: Vec<TxOp>, now: i64) -> StoreResult<()> {
        self.write(WriteOp::Transact(ops), now).await.map(|_| ())
    }

    async fn query(
        &self,
        query: &Query,
        after: Option<Position>,
        fetch: usize,
        now: i64,
    ) -> StoreResult<Vec<Item>> {
        let query = query.clone();
        let schema = self.schema;
        self.read(move |conn| run_query(conn, schema, &query, after, fetch, now))
            .await
    }

    async fn ping(&self) -> StoreResult<()> {
        self.read(|conn| {
            conn.query_row("SELECT 1", [], |_| Ok(()))
                .map_err(unavailable)
        })
        .await
    }

    fn consumed(&self) -> Capacity {
        Capacity::default()
    }

    fn name(&self) -> &'static str {
        "sqlite"
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    #[test]
    fn prefix_successors_bound_every_extension() {
        assert_eq!(prefix_successor("ORDER#").as_deref(), Some("ORDER$"));
        assert_eq!(prefix_successor("a\u{10FFFF}").as_deref(), Some("b"));
        assert_eq!(prefix_successor("\u{10FFFF}"), None);
        assert_eq!(prefix_successor("\u{D7FF}").as_deref(), Some("\u{E000}"));
        for s in ["ORDER#", "ORDER#\u{10FFFF}zz", "ORDER#é"] {
            assert!(s.as_bytes() < prefix_successor("ORDER#").unwrap().as_bytes());
        }
    }

    #[test]
    fn the_schema_sql_is_idempotent() {
        let conn = Connection::open_in_memory().unwrap();
        conn.execute_batch(SCHEMA_SQL).unwrap();
        conn.execute_batch(SCHEMA_SQL).unwrap();
    }

    fn item(sk: &str, gsi: Option<(&str, &str)>, expires_at: Option<i64>) -> Item {
        let mut attrs = HashMap::from([
            ("tenant_id".to_owned(), Value::S("T#1".into())),
            ("sk".to_owned(), Value::S(sk.into())),
        ]);
        if let Some((ipk, isk)) = gsi {
            attrs.insert("gsi1pk".to_owned(), Value::S(ipk.into()));
            attrs.insert("gsi1sk".to_owned(), Value::S(isk.into()));
        }
        if let Some(at) = expires_at {
            attrs.insert("expires_at".to_owned(), Value::N(at.to_string()));
        }
        Item::from(attrs)
    }

    /// The store on the database at `path`, with the default options.
    async fn open_at(path: &Path) -> Sqlite {
        Sqlite::open(path, SqliteOptions::default(), Clock::system())
            .await
            .unwrap()
    }

    fn index_rows(path: &Path) -> Vec<(String, String, String)> {
        let conn = Connection::open(path).unwrap();
        let mut stmt = conn
            .prepare("SELECT ipk, isk, sk FROM gsi_entries ORDER BY sk")
            .unwrap();
        stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap()
    }

    /// A put only if new goes straight in, with its index entry and its expiry; the same put
    /// again, alone or in the same group, is refused with what is stored, which stays as it was.
    #[tokio::test]
    async fn a_put_only_if_new_is_stored_once_with_its_index_entry_and_expiry() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("t.db");
        let store = open_at(&path).await;
        let new = |sk, entry| Put {
            item: item(sk, Some(entry), Some(100)),
            cond: Some(Cond::NotExists),
        };
        store.put(new("A", ("P", "1")), 0).await.unwrap();
        let refused = store.put(new("A", ("Q", "2")), 0).await.unwrap_err();
        assert_eq!(
            refused,
            StoreError::ConditionFailed {
                current: Some(Box::new(item("A", Some(("P", "1")), Some(100))))
            }
        );
        let (first, second) = tokio::join!(
            store.put(new("B", ("P", "3")), 0),
            store.put(new("B", ("Q", "4")), 0)
        );
        assert_eq!(
            u8::from(first.is_ok()) + u8::from(second.is_ok()),
            1,
            "{first:?} {second:?}"
        );
        let rows = index_rows(&path);
        assert_eq!(rows.len(), 2, "{rows:?}");
        assert_eq!(rows[0], ("P".to_owned(), "1".to_owned(), "A".to_owned()));
        assert_eq!(
            store.sweep_at(200).await.unwrap(),
            2,
            "their expiry was stored"
        );
        assert!(index_rows(&path).is_empty());
    }

    /// A row's body leaves out the key, which its columns hold; a body written with the key (by
    /// an earlier version) reads the same, by key, by query and through an index.
    #[tokio::test]
    async fn bodies_leave_out_the_key_and_bodies_with_it_still_read() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("t.db");
        let store = open_at(&path).await;
        let mut new = item("A", Some(("P", "1")), None);
        new.insert("text".into(), Value::S("hi".into()));
        let put = Put {
            item: new.clone(),
            cond: None,
        };
        store.put(put, 0).await.unwrap();
        let mut old = item("B", Some(("P", "2")), None);
        old.insert("text".into(), Value::S("hello".into()));
        {
            let conn = Connection::open(&path).unwrap();
            let body: Vec<u8> = conn
                .query_row("SELECT body FROM items WHERE sk = 'A'", [], |r| r.get(0))
                .unwrap();
            let body: serde_json::Value = serde_json::from_slice(&body).unwrap();
            let names: Vec<&String> = body.as_object().unwrap().keys().collect();
            assert!(!names.contains(&&"tenant_id".to_owned()), "{body}");
            assert!(!names.contains(&&"sk".to_owned()), "{body}");
            assert_eq!(body["text"]["S"], "hi");
            conn.execute(
                "INSERT INTO items (pk, sk, body) VALUES ('T#1', 'B', ?1)",
                [serde_json::to_vec(&old).unwrap()],
            )
            .unwrap();
            conn.execute(
                "INSERT INTO gsi_entries (idx, ipk, isk, pk, sk) VALUES ('gsi1', 'P', '2', 'T#1', 'B')",
                [],
            )
            .unwrap();
        }
        for (sk, expected) in [("A", &new), ("B", &old)] {
            let found = store.get(&Key::new("T#1", sk), 0).await.unwrap();
            assert_eq!(found.as_ref(), Some(expected));
        }
        let page = store
            .query(&Query::table("T#1"), None, 10, 0)
            .await
            .unwrap();
        assert_eq!(page, vec![new.clone(), old.clone()]);
        let page = store
            .query(&Query::index("gsi1", "P"), None, 10, 0)
            .await
            .unwrap();
        assert_eq!(page, vec![new, old]);
    }

    /// Index entries are deleted by the keys of the item they were written for: replacing,
    /// updating, deleting, overwriting an expired item and sweeping leave no entry behind.
    #[tokio::test]
    async fn index_entries_follow_their_items_exactly() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("t.db");
        {
            // A database from before: it had an index by item, now dropped at open.
            let conn = Connection::open(&path).unwrap();
            conn.execute_batch(&SCHEMA_SQL.replace(
                "DROP INDEX IF EXISTS gsi_entries_by_item;",
                "CREATE INDEX IF NOT EXISTS gsi_entries_by_item ON gsi_entries (pk, sk);",
            ))
            .unwrap();
        }
        let store = open_at(&path).await;
        let put = |i| Put {
            item: i,
            cond: None,
        };
        for (sk, entry, expires) in [
            ("A", ("P", "1"), None),
            ("A", ("Q", "2"), None),
            ("B", ("P", "3"), Some(100)),
            ("C", ("P", "4"), Some(100)),
            ("D", ("P", "5"), None),
        ] {
            store
                .put(put(item(sk, Some(entry), expires)), 0)
                .await
                .unwrap();
        }
        assert_eq!(index_rows(&path).len(), 4);
        // B has expired (now = 200) but is not swept: writing over it moves its entry.
        let fresh = Put {
            item: item("B", Some(("R", "6")), None),
            cond: Some(Cond::NotExists),
        };
        store.put(fresh, 200).await.unwrap();
        store.put(put(item("D", None, None)), 200).await.unwrap();
        assert_eq!(store.sweep_at(200).await.unwrap(), 1, "C expired");
        assert_eq!(
            index_rows(&path),
            vec![
                ("Q".to_owned(), "2".to_owned(), "A".to_owned()),
                ("R".to_owned(), "6".to_owned(), "B".to_owned()),
            ]
        );
        store
            .delete(
                Delete {
                    key: Key::new("T#1", "A"),
                    cond: None,
                },
                200,
            )
            .await
            .unwrap();
        assert_eq!(index_rows(&path).len(), 1);
        let conn = Connection::open(&path).unwrap();
        let old_index: i64 = conn
            .query_row(
                "SELECT count(*) FROM sqlite_master WHERE name = 'gsi_entries_by_item'",
                [],
                |r| r.get(0),
            )
            .unwrap();
        assert_eq!(old_index, 0);
    }

    /// A database written when `items` was a WITHOUT ROWID table opens with every item, its
    /// index entries and its expiry where they were, in the rowid table.
    #[tokio::test]
    async fn items_of_a_without_rowid_table_move_into_the_rowid_table() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("t.db");
        let items = [
            item("A", Some(("P", "1")), None),
            item("B", None, Some(100)),
            item("C", Some(("P", "2")), Some(1000)),
        ];
        {
            let conn = Connection::open(&path).unwrap();
            conn.execute_batch(&SCHEMA_SQL.replace(
                "PRIMARY KEY (pk, sk)\n);",
                "PRIMARY KEY (pk, sk)\n) WITHOUT ROWID;",
            ))
            .unwrap();
            let schema = TableSchema::load();
            for item in &items {
                let key = item_key(schema, item).unwrap();
                store_item(&conn, schema, &key, item, None).unwrap();
            }
            let sql: String = conn
                .query_row(
                    "SELECT sql FROM sqlite_schema WHERE name = 'items'",
                    [],
                    |r| r.get(0),
                )
                .unwrap();
            assert!(sql.contains("WITHOUT ROWID"), "the old layout: {sql}");
        }
        for _ in 0..2 {
            let store = open_at(&path).await;
            for item in &items {
                let key = item_key(TableSchema::load(), item).unwrap();
                let stored = store.get(&key, 50).await.unwrap().unwrap();
                assert_eq!(&stored, item);
            }
            let found = store
                .query(&Query::index("gsi1", "P"), None, 10, 50)
                .await
                .unwrap();
            assert_eq!(found, vec![items[0].clone(), items[2].clone()]);
        }
        let store = open_at(&path).await;
        assert_eq!(store.sweep_at(200).await.unwrap(), 1, "B expired at 100");
        drop(store);
        let conn = Connection::open(&path).unwrap();
        let tables: Vec<String> = conn
            .prepare("SELECT sql FROM sqlite_schema WHERE type = 'table' ORDER BY name")
            .unwrap()
            .query_map([], |r| r.get(0))
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap();
        assert_eq!(tables.len(), 2, "gsi_entries and items only: {tables:?}");
        assert!(
            tables
                .iter()
                .all(|sql| !sql.contains("items_without_rowid"))
        );
        let items_sql = tables
            .iter()
            .find(|sql| sql.contains("TABLE items"))
            .unwrap();
        assert!(!items_sql.contains("WITHOUT ROWID"), "{items_sql}");
        let expiry_index: i64 = conn
            .query_row(
                "SELECT count(*) FROM sqlite_schema WHERE name = 'items_by_expiry' AND tbl_name = 'items'",
                [],
                |r| r.get(0),
            )
            .unwrap();
        assert_eq!(expiry_index, 1);
    }

    /// Under a steady stream of writes the log is checkpointed and starts over: it stays near
    /// SQLite's checkpoint size (1000 pages) instead of growing with everything written.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn the_log_starts_over_while_writes_go_on() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("t.db");
        let store = open_at(&path).await;
        let text = Value::S("x".repeat(1000));
        let mut written = 0;
        for round in 0..200 {
            let puts = (0..100).map(|i| {
                let mut item = item(&format!("{round:03}-{i:03}"), Some(("P", "1")), None);
                item.insert("text".into(), text.clone());
                store.put(Put { item, cond: None }, 0)
            });
            for result in futures::future::join_all(puts).await {
                result.unwrap();
                written += 1;
            }
        }
        let page = 4096 + 24;
        let log = std::fs::metadata(dir.path().join("t.db-wal"))
            .unwrap()
            .len();
        let data = std::fs::metadata(&path).unwrap().len();
        assert!(
            data > 20_000 * 1000,
            "the items reached the database file: {data} bytes"
        );
        assert!(
            log < 2 * 1000 * page,
            "{written} items of a kilobyte left a log of {log} bytes"
        );
    }

    #[tokio::test]
    async fn writes_are_durable_across_reopen() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("t.db");
        let clock = Clock::system();
        {
            let store = Sqlite::open(&path, SqliteOptions::default(), clock.clone())
                .await
                .unwrap();
            let item = Item::from(HashMap::from([
                ("tenant_id".to_owned(), Value::S("T#1".into())),
                ("sk".to_owned(), Value::S("A".into())),
            ]));
            store.put(Put { item, cond: None }, 0).await.unwrap();
        }
        let store = Sqlite::open(&path, SqliteOptions::default(), clock)
            .await
            .unwrap();
        assert!(store.get(&Key::new("T#1", "A"), 0).await.unwrap().is_some());
    }
}
