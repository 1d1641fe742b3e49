//! The same random sequences of operations run on both adapters must give identical results:
//! every read, every write's outcome, every failed condition with the item it saw, every page.

use std::sync::atomic::{AtomicUsize, Ordering};

use fanorder_platform::Clock;
use fanorder_store::{
    Change, Check, CmpOp, Cond, Delete, Item, Key, Put, Query, SortKey, StoreError, Table, TxOp,
    Update, Value, n, s,
};
use jiff::SignedDuration;
use proptest::prelude::*;
use proptest::test_runner::{Config, TestRunner};

use crate::cases::item;
use crate::support::{dynamodb_available, dynamodb_with, sqlite_with, start_time};

const PKS: usize = 2;
const SKS: [&str; 5] = ["a", "b", "c", "é", "b#1"];

#[derive(Debug, Clone)]
struct Attrs {
    version: Option<i64>,
    tag: Option<&'static str>,
    queue: Option<usize>,
    ttl: Option<i64>,
}

#[derive(Debug, Clone)]
enum CondSpec {
    Exists,
    NotExists,
    VersionIs(i64),
    VersionBelow(i64),
    NotVersion(i64),
    NoQueue,
    TagStartsWith(&'static str),
    EitherVersion(i64, i64),
}

#[derive(Debug, Clone)]
enum ChangeSpec {
    SetVersion(i64),
    AddCounter(i64),
    SetTag(&'static str),
    RemoveTag,
    SetQueue(usize),
    RemoveQueue,
    SetTtl(i64),
}

#[derive(Debug, Clone)]
enum WriteSpec {
    Put(usize, usize, Attrs, Option<CondSpec>),
    Delete(usize, usize, Option<CondSpec>),
    Update(usize, usize, Vec<ChangeSpec>, Option<CondSpec>),
    Check(usize, usize, CondSpec),
}

#[derive(Debug, Clone)]
enum Op {
    Write(WriteSpec),
    Transact(Vec<WriteSpec>),
    Get(usize, usize),
    QueryTable(usize, Option<&'static str>, bool, usize),
    QueryIndex(usize, bool, usize),
    Advance(i64),
}

fn attrs() -> impl Strategy<Value = Attrs> {
    (
        proptest::option::of(0i64..3),
        proptest::option::of(prop_oneof![Just("alpha"), Just("beta"), Just("")]),
        proptest::option::of(0usize..2),
        proptest::option::of(prop_oneof![Just(-30i64), Just(0), Just(30), Just(90)]),
    )
        .prop_map(|(version, tag, queue, ttl)| Attrs {
            version,
            tag,
            queue,
            ttl,
        })
}

fn cond() -> impl Strategy<Value = CondSpec> {
    prop_oneof![
        Just(CondSpec::Exists),
        Just(CondSpec::NotExists),
        (0i64..3).prop_map(CondSpec::VersionIs),
        (0i64..3).prop_map(CondSpec::VersionBelow),
        (0i64..3).prop_map(CondSpec::NotVersion),
        Just(CondSpec::NoQueue),
        prop_oneof![Just("al"), Just("b")].prop_map(CondSpec::TagStartsWith),
        (0i64..3, 0i64..3).prop_map(|(a, b)| CondSpec::EitherVersion(a, b)),
    ]
}

fn changes() -> impl Strategy<Value = Vec<ChangeSpec>> {
    (
        proptest::option::of(0i64..3),
        proptest::option::of(-2i64..3),
        proptest::option::of(prop_oneof![
            Just(Some("alpha")),
            Just(Some("beta")),
            Just(None)
        ]),
        proptest::option::of(proptest::option::of(0usize..2)),
        proptest::option::of(prop_oneof![Just(-10i64), Just(40)]),
    )
        .prop_map(|(version, add, tag, queue, ttl)| {
            let mut all = Vec::new();
            all.extend(version.map(ChangeSpec::SetVersion));
            all.extend(add.map(ChangeSpec::AddCounter));
            all.extend(tag.map(|t| t.map_or(ChangeSpec::RemoveTag, ChangeSpec::SetTag)));
            all.extend(queue.map(|q| q.map_or(ChangeSpec::RemoveQueue, ChangeSpec::SetQueue)));
            all.extend(ttl.map(ChangeSpec::SetTtl));
            if all.is_empty() {
                all.push(ChangeSpec::AddCounter(1));
            }
            all
        })
}

fn write() -> impl Strategy<Value = WriteSpec> {
    let key = (0..PKS, 0..SKS.len());
    prop_oneof![
        3 => (key.clone(), attrs(), proptest::option::of(cond())).prop_map(|((p, k), a, c)| WriteSpec::Put(p, k, a, c)),
        1 => (key.clone(), proptest::option::of(cond())).prop_map(|((p, k), c)| WriteSpec::Delete(p, k, c)),
        3 => (key.clone(), changes(), proptest::option::of(cond())).prop_map(|((p, k), ch, c)| WriteSpec::Update(p, k, ch, c)),
        1 => (key, cond()).prop_map(|((p, k), c)| WriteSpec::Check(p, k, c)),
    ]
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        6 => write().prop_map(Op::Write),
        2 => proptest::collection::vec(write(), 1..4).prop_map(Op::Transact),
        2 => (0..PKS, 0..SKS.len()).prop_map(|(p, k)| Op::Get(p, k)),
        2 => (0..PKS, proptest::option::of(prop_oneof![Just("b"), Just("c")]), any::<bool>(), 1usize..4)
            .prop_map(|(p, prefix, fwd, limit)| Op::QueryTable(p, prefix, fwd, limit)),
        2 => (0usize..2, any::<bool>(), 1usize..4).prop_map(|(q, fwd, limit)| Op::QueryIndex(q, fwd, limit)),
        1 => prop_oneof![Just(20i64), Just(45)].prop_map(Op::Advance),
    ]
}

/// The run's namespace, so the cases of one run never see each other's items.
struct Space {
    id: usize,
}

impl Space {
    fn pk(&self, p: usize) -> String {
        format!("T#{}#{p}", self.id)
    }
    fn queue(&self, q: usize) -> String {
        format!("Q#{}#{q}", self.id)
    }
    fn key(&self, p: usize, k: usize) -> Key {
        Key::new(self.pk(p), SKS[k])
    }

    fn cond(&self, spec: &CondSpec) -> Cond {
        match spec {
            CondSpec::Exists => Cond::Exists,
            CondSpec::NotExists => Cond::NotExists,
            CondSpec::VersionIs(v) => Cond::eq("version", n(*v)),
            CondSpec::VersionBelow(v) => Cond::Cmp("version".into(), CmpOp::Lt, n(*v)),
            CondSpec::NotVersion(v) => Cond::Not(Box::new(Cond::eq("version", n(*v)))),
            CondSpec::NoQueue => Cond::AttrNotExists("gsi1pk".into()),
            CondSpec::TagStartsWith(p) => Cond::BeginsWith("tag".into(), (*p).to_owned()),
            CondSpec::EitherVersion(a, b) => {
                Cond::Or(vec![Cond::eq("version", n(*a)), Cond::eq("version", n(*b))])
            }
        }
    }

    fn item(&self, p: usize, k: usize, attrs: &Attrs, now: i64) -> Item {
        let mut list: Vec<(&str, Value)> = Vec::new();
        if let Some(v) = attrs.version {
            list.push(("version", n(v)));
        }
        if let Some(t) = attrs.tag {
            list.push(("tag", s(t)));
        }
        if let Some(q) = attrs.queue {
            list.push(("gsi1pk", s(self.queue(q))));
            list.push(("gsi1sk", s(format!("{}#{}", SKS[k], p))));
        }
        if let Some(ttl) = attrs.ttl {
            list.push(("expires_at", n(now + ttl)));
        }
        item(&self.pk(p), SKS[k], &list)
    }

    fn change(&self, spec: &ChangeSpec, k: usize, p: usize, now: i64) -> Vec<Change> {
        match spec {
            ChangeSpec::SetVersion(v) => vec![Change::Set("version".into(), n(*v))],
            ChangeSpec::AddCounter(d) => vec![Change::Add("counter".into(), *d)],
            ChangeSpec::SetTag(t) => vec![Change::Set("tag".into(), s(*t))],
            ChangeSpec::RemoveTag => vec![Change::Remove("tag".into())],
            ChangeSpec::SetQueue(q) => vec![
                Change::Set("gsi1pk".into(), s(self.queue(*q))),
                Change::Set("gsi1sk".into(), s(format!("{}#{p}", SKS[k]))),
            ],
            ChangeSpec::RemoveQueue => vec![Change::Remove("gsi1pk".into())],
            ChangeSpec::SetTtl(ttl) => vec![Change::Set("expires_at".into(), n(now + ttl))],
        }
    }

    fn tx_op(&self, spec: &WriteSpec, now: i64) -> TxOp {
        match spec {
            WriteSpec::Put(p, k, attrs, c) => TxOp::Put(Put {
                item: self.item(*p, *k, attrs, now),
                cond: c.as_ref().map(|c| self.cond(c)),
            }),
            WriteSpec::Delete(p, k, c) => TxOp::Delete(Delete {
                key: self.key(*p, *k),
                cond: c.as_ref().map(|c| self.cond(c)),
            }),
            WriteSpec::Update(p, k, changes, c) => TxOp::Update(Update {
                key: self.key(*p, *k),
                changes: changes
                    .iter()
                    .flat_map(|ch| self.change(ch, *k, *p, now))
                    .collect(),
                cond: c.as_ref().map(|c| self.cond(c)),
            }),
            WriteSpec::Check(p, k, c) => TxOp::Check(Check {
                key: self.key(*p, *k),
                cond: self.cond(c),
            }),
        }
    }
}

/// What an operation returned, in a form that compares across adapters.
#[derive(Debug, PartialEq)]
enum Outcome {
    Done,
    Item(Option<Item>),
    Pages(Vec<Vec<Item>>),
    Failed(Option<Item>),
    Cancelled(Vec<(usize, Option<Item>)>),
    Refused,
    Other(String),
}

fn outcome_of<T>(result: Result<T, StoreError>, ok: impl FnOnce(T) -> Outcome) -> Outcome {
    match result {
        Ok(value) => ok(value),
        Err(StoreError::ConditionFailed { current }) => Outcome::Failed(current.map(|b| *b)),
        Err(StoreError::TransactionCanceled { failures }) => {
            Outcome::Cancelled(failures.into_iter().map(|f| (f.index, f.current)).collect())
        }
        Err(StoreError::Invalid(_)) => Outcome::Refused,
        Err(other) => Outcome::Other(other.to_string()),
    }
}

async fn run(table: &Table, space: &Space, op: &Op, now: i64) -> Outcome {
    match op {
        Op::Write(spec) => match space.tx_op(spec, now) {
            TxOp::Put(put) => outcome_of(table.put(put).await, |()| Outcome::Done),
            TxOp::Delete(delete) => outcome_of(table.delete(delete).await, Outcome::Item),
            TxOp::Update(update) => {
                outcome_of(table.update(update).await, |i| Outcome::Item(Some(i)))
            }
            // A lone check is a one-operation transaction.
            check @ TxOp::Check(_) => {
                outcome_of(table.transact(vec![check]).await, |()| Outcome::Done)
            }
        },
        Op::Transact(specs) => {
            let ops = specs.iter().map(|spec| space.tx_op(spec, now)).collect();
            outcome_of(table.transact(ops).await, |()| Outcome::Done)
        }
        Op::Get(p, k) => outcome_of(table.get(&space.key(*p, *k)).await, Outcome::Item),
        Op::QueryTable(p, prefix, forward, limit) => {
            let mut query = Query::table(space.pk(*p)).limit(*limit);
            if let Some(prefix) = prefix {
                query = query.sort_key(SortKey::BeginsWith((*prefix).to_owned()));
            }
            if !forward {
                query = query.reverse();
            }
            pages(table, &query).await
        }
        Op::QueryIndex(q, forward, limit) => {
            let mut query = Query::index("gsi1", space.queue(*q)).limit(*limit);
            if !forward {
                query = query.reverse();
            }
            pages(table, &query).await
        }
        Op::Advance(_) => Outcome::Done,
    }
}

async fn pages(table: &Table, query: &Query) -> Outcome {
    let mut all = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        match table.query(query, cursor.as_deref()).await {
            Ok(page) => {
                all.push(page.items);
                match page.next_cursor {
                    Some(next) => cursor = Some(next),
                    None => return Outcome::Pages(all),
                }
            }
            Err(err) => return outcome_of::<()>(Err(err), |()| Outcome::Done),
        }
    }
}

#[test]
fn sqlite_and_dynamodb_agree_on_random_operation_sequences() {
    if !dynamodb_available() {
        return;
    }
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let clock = Clock::manual(start_time());
    let (sqlite, dynamo) = runtime.block_on(async {
        (
            sqlite_with(clock.clone()).await,
            dynamodb_with(clock.clone())
                .await
                .expect("DynamoDB endpoint"),
        )
    });
    let spaces = AtomicUsize::new(0);
    let cases = std::env::var("FANORDER_MODEL_CHECK_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(40);
    let mut runner = TestRunner::new(Config {
        cases,
        max_shrink_iters: 200,
        ..Config::default()
    });
    runner
        .run(&proptest::collection::vec(op(), 1..30), |ops| {
            let space = Space {
                id: spaces.fetch_add(1, Ordering::SeqCst),
            };
            runtime.block_on(async {
                for (step, op) in ops.iter().enumerate() {
                    if let Op::Advance(secs) = op {
                        clock.advance(SignedDuration::from_secs(*secs));
                    }
                    let now = clock.now_epoch_seconds();
                    let left = run(&sqlite.table, &space, op, now).await;
                    let right = run(&dynamo.table, &space, op, now).await;
                    prop_assert_eq!(&left, &right, "step {} {:?}", step, op);
                    prop_assert!(
                        !matches!(left, Outcome::Other(_)),
                        "unexpected error at step {}: {:?}",
                        step,
                        left
                    );
                }
                Ok(())
            })
        })
        .unwrap();
}
