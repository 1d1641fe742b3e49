//! The vocabulary of the port: keys, items, conditions, writes, queries and their errors.
//! Nothing here knows about DynamoDB's expression syntax or SQL.

use std::fmt;

pub use serde_dynamo::{AttributeValue as Value, Item};

/// The primary key of an item: partition (`tenant_id`) and sort key (`sk`).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Key {
    /// Partition key value, e.g. `T#01H...`.
    pub pk: String,
    /// Sort key value, e.g. `ORDER#01H...`.
    pub sk: String,
}

impl Key {
    /// A key from its two parts.
    pub fn new(pk: impl Into<String>, sk: impl Into<String>) -> Self {
        Self {
            pk: pk.into(),
            sk: sk.into(),
        }
    }
}

impl fmt::Display for Key {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.pk, self.sk)
    }
}

/// A string attribute value.
pub fn s(value: impl Into<String>) -> Value {
    Value::S(value.into())
}

/// A number attribute value.
pub fn n(value: i64) -> Value {
    Value::N(value.to_string())
}

/// A comparison operator for conditions and sort-key ranges.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CmpOp {
    /// `=`
    Eq,
    /// `<`
    Lt,
    /// `<=`
    Le,
    /// `>`
    Gt,
    /// `>=`
    Ge,
}

/// A condition on the item a write touches. A missing (or expired) item has no attributes:
/// every comparison on it is false, `attribute_not_exists` is true.
#[derive(Debug, Clone, PartialEq)]
pub enum Cond {
    /// The item exists.
    Exists,
    /// The item does not exist.
    NotExists,
    /// The attribute is present.
    AttrExists(String),
    /// The attribute is absent.
    AttrNotExists(String),
    /// The attribute compares with the value (false when absent or of another type).
    Cmp(String, CmpOp, Value),
    /// The string attribute starts with the prefix.
    BeginsWith(String, String),
    /// All hold.
    And(Vec<Cond>),
    /// At least one holds.
    Or(Vec<Cond>),
    /// The inner condition does not hold.
    Not(Box<Cond>),
}

impl Cond {
    /// `attr = value`.
    pub fn eq(attr: impl Into<String>, value: Value) -> Self {
        Self::Cmp(attr.into(), CmpOp::Eq, value)
    }

    /// Both conditions.
    pub fn and(self, other: Cond) -> Self {
        match self {
            Self::And(mut all) => {
                all.push(other);
                Self::And(all)
            }
            first => Self::And(vec![first, other]),
        }
    }

    /// What the condition says about an item that does not exist. Used to give expired items
    /// exactly the semantics of absent ones on DynamoDB, where they linger until swept.
    pub fn holds_for_absent(&self) -> bool {
        match self {
            Self::Exists | Self::AttrExists(_) | Self::Cmp(..) | Self::BeginsWith(..) => false,
            Self::NotExists | Self::AttrNotExists(_) => true,
            Self::And(all) => all.iter().all(Cond::holds_for_absent),
            Self::Or(any) => any.iter().any(Cond::holds_for_absent),
            Self::Not(inner) => !inner.holds_for_absent(),
        }
    }
}

/// Write a whole item, optionally only if a condition holds.
#[derive(Debug, Clone, PartialEq)]
pub struct Put {
    /// The item, including its key attributes.
    pub item: Item,
    /// The condition on the item it replaces.
    pub cond: Option<Cond>,
}

/// Delete an item, optionally only if a condition holds.
#[derive(Debug, Clone, PartialEq)]
pub struct Delete {
    /// The item's key.
    pub key: Key,
    /// The condition on the item.
    pub cond: Option<Cond>,
}

/// One change an update makes to an attribute.
#[derive(Debug, Clone, PartialEq)]
pub enum Change {
    /// Set the attribute to the value.
    Set(String, Value),
    /// Remove the attribute.
    Remove(String),
    /// Add to a number attribute atomically (a missing attribute counts as 0).
    Add(String, i64),
}

/// Change some attributes of an item (creating it if absent, like DynamoDB's UpdateItem),
/// optionally only if a condition holds. Returns the item as it is afterwards.
#[derive(Debug, Clone, PartialEq)]
pub struct Update {
    /// The item's key.
    pub key: Key,
    /// The changes, applied together.
    pub changes: Vec<Change>,
    /// The condition on the item before the change.
    pub cond: Option<Cond>,
}

/// Only check a condition on an item, inside a transaction.
#[derive(Debug, Clone, PartialEq)]
pub struct Check {
    /// The item's key.
    pub key: Key,
    /// The condition that must hold.
    pub cond: Cond,
}

/// One operation of an all-or-nothing transaction.
#[derive(Debug, Clone, PartialEq)]
pub enum TxOp {
    /// A conditional put.
    Put(Put),
    /// A conditional delete.
    Delete(Delete),
    /// A conditional update.
    Update(Update),
    /// A condition check.
    Check(Check),
}

/// A condition on the sort key of a query (the table's `sk` or an index's sort key).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SortKey {
    /// Compare with a value.
    Cmp(CmpOp, String),
    /// Between two values, both included.
    Between(String, String),
    /// Starts with the prefix.
    BeginsWith(String),
}

/// A query: one partition of the table or of an index, optionally narrowed on the sort key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Query {
    /// `None` for the table, `Some("gsi1")` for an index.
    pub index: Option<String>,
    /// The partition key value.
    pub pk: String,
    /// The sort key condition.
    pub sk: Option<SortKey>,
    /// Ascending (`true`) or descending sort key order.
    pub forward: bool,
    /// The page size (1 to 1000).
    pub limit: usize,
}

impl Query {
    /// All items of a partition of the table, ascending, 100 per page.
    pub fn table(pk: impl Into<String>) -> Self {
        Self {
            index: None,
            pk: pk.into(),
            sk: None,
            forward: true,
            limit: 100,
        }
    }

    /// All items of a partition of an index, ascending, 100 per page.
    pub fn index(index: &str, pk: impl Into<String>) -> Self {
        Self {
            index: Some(index.to_owned()),
            ..Self::table(pk)
        }
    }

    /// Narrows to sort keys that start with `prefix`.
    pub fn begins_with(mut self, prefix: impl Into<String>) -> Self {
        self.sk = Some(SortKey::BeginsWith(prefix.into()));
        self
    }

    /// Narrows with any sort key condition.
    pub fn sort_key(mut self, sk: SortKey) -> Self {
        self.sk = Some(sk);
        self
    }

    /// Newest (highest sort key) first.
    pub fn reverse(mut self) -> Self {
        self.forward = false;
        self
    }

    /// Sets the page size.
    pub fn limit(mut self, limit: usize) -> Self {
        self.limit = limit;
        self
    }
}

/// One page of a query: the items and, when more may follow, the cursor of the next page.
#[derive(Debug, Clone, PartialEq)]
pub struct Page {
    /// The items, in the query's order.
    pub items: Vec<Item>,
    /// Opaque, signed, bound to the query; `None` on the last page.
    pub next_cursor: Option<String>,
}

/// Read and write capacity units consumed, as DynamoDB reports them.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Capacity {
    /// Read capacity units.
    pub read: f64,
    /// Write capacity units.
    pub write: f64,
}

/// Why one operation of a cancelled transaction failed.
#[derive(Debug, Clone, PartialEq)]
pub struct TxFailure {
    /// The position of the operation in the transaction.
    pub index: usize,
    /// The item as it was (absent or expired: `None`).
    pub current: Option<Item>,
}

/// What can go wrong with the table.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum StoreError {
    /// A write's condition did not hold; nothing was written.
    #[error("condition failed")]
    ConditionFailed {
        /// The item the condition was checked against (absent or expired: `None`).
        current: Option<Box<Item>>,
    },
    /// A transaction was cancelled because conditions failed; nothing was written.
    #[error("transaction cancelled: {} condition(s) failed", failures.len())]
    TransactionCanceled {
        /// Each failed operation, in transaction order.
        failures: Vec<TxFailure>,
    },
    /// Another transaction was touching the same items at the same moment; nothing was written
    /// and the caller may retry.
    #[error("concurrent transaction on the same items")]
    Contention,
    /// The table is throttling; retry later.
    #[error("throttled")]
    Throttled,
    /// The cursor was not made by this server for this query (tampered, or from another
    /// tenant or query).
    #[error("invalid cursor")]
    InvalidCursor,
    /// The item would exceed the 400 KB item size limit.
    #[error("item larger than 400 KB")]
    ItemTooLarge,
    /// A request the table refuses (bad key, bad expression, too many items): a bug in the caller.
    #[error("invalid request: {0}")]
    Invalid(String),
    /// The table cannot be reached or failed unexpectedly.
    #[error("store unavailable: {0}")]
    Unavailable(String),
}

impl StoreError {
    /// Shorthand for [`StoreError::Invalid`].
    pub fn invalid(message: impl Into<String>) -> Self {
        Self::Invalid(message.into())
    }
}

/// Result of a store operation.
pub type StoreResult<T> = Result<T, StoreError>;
