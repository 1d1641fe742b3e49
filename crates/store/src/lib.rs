//! The one table: a typed port (get, conditional put/delete/update, transactions, queries with
//! signed cursors, TTL) and its two adapters, DynamoDB and embedded SQLite, held to the same
//! semantics by one conformance suite.
#![forbid(unsafe_code)]

pub mod cursor;
pub mod dynamodb;
pub mod eval;
mod http;
pub mod model;
pub mod schema;
pub mod sessions;
pub mod sqlite;
pub mod table;

pub use model::{
    Capacity, Change, Check, CmpOp, Cond, Delete, Item, Key, Page, Put, Query, SortKey, StoreError,
    StoreResult, TxFailure, TxOp, Update, Value, n, s,
};
pub use schema::TableSchema;
pub use table::{Backend, Table, from_item, to_item, to_value};
pub mod testing;
