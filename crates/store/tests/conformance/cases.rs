//! The cases, each written once and run on both adapters.

use std::collections::HashMap;

use fanorder_store::{
    Change, Check, CmpOp, Cond, Delete, Item, Key, Put, Query, SortKey, StoreError, TxOp, Update,
    Value, n, s,
};
use jiff::SignedDuration;

use crate::support::Harness;

pub fn item(pk: &str, sk: &str, attrs: &[(&str, Value)]) -> Item {
    let mut map: HashMap<String, Value> = attrs
        .iter()
        .map(|(k, v)| ((*k).to_owned(), v.clone()))
        .collect();
    map.insert("tenant_id".into(), s(pk));
    map.insert("sk".into(), s(sk));
    Item::from(map)
}

fn put(item: Item) -> Put {
    Put { item, cond: None }
}

fn put_if(item: Item, cond: Cond) -> Put {
    Put {
        item,
        cond: Some(cond),
    }
}

fn update(pk: &str, sk: &str, changes: Vec<Change>, cond: Option<Cond>) -> Update {
    Update {
        key: Key::new(pk, sk),
        changes,
        cond,
    }
}

async fn all_pages(h: &Harness, query: &Query) -> Vec<Item> {
    let mut items = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let page = h.table.query(query, cursor.as_deref()).await.unwrap();
        assert!(page.items.len() <= query.limit);
        items.extend(page.items);
        match page.next_cursor {
            Some(next) => cursor = Some(next),
            None => return items,
        }
    }
}

fn sks(items: &[Item]) -> Vec<String> {
    items
        .iter()
        .map(|i| match i.get("sk") {
            Some(Value::S(sk)) => sk.clone(),
            other => panic!("no sk: {other:?}"),
        })
        .collect()
}

fn current_of(err: StoreError) -> Option<Item> {
    match err {
        StoreError::ConditionFailed { current } => current.map(|b| *b),
        other => panic!("expected a failed condition, got {other:?}"),
    }
}

pub async fn every_attribute_type_round_trips(h: Harness) {
    let stored = item(
        "T#A",
        "ALL",
        &[
            ("s", s("héllo ✓")),
            ("empty", s("")),
            ("n", n(-42)),
            ("b", Value::B(vec![0, 1, 255])),
            ("t", Value::Bool(true)),
            ("null", Value::Null(true)),
            (
                "m",
                Value::M(HashMap::from([(
                    "inner".to_owned(),
                    Value::L(vec![n(1), s("x")]),
                )])),
            ),
            (
                "l",
                Value::L(vec![Value::Bool(false), Value::M(HashMap::new())]),
            ),
            ("ss", Value::Ss(vec!["a".into(), "b".into()])),
            ("ns", Value::Ns(vec!["1".into(), "2".into()])),
            ("bs", Value::Bs(vec![vec![1], vec![2]])),
        ],
    );
    h.table.put(put(stored.clone())).await.unwrap();
    let back = h.table.get(&Key::new("T#A", "ALL")).await.unwrap().unwrap();
    let mut back_sets = back.clone();
    // Sets have no order; compare them sorted.
    for name in ["ss", "ns"] {
        if let Some(Value::Ss(v) | Value::Ns(v)) = back_sets.get_mut(name) {
            v.sort();
        }
    }
    if let Some(Value::Bs(v)) = back_sets.get_mut("bs") {
        v.sort();
    }
    assert_eq!(back_sets, stored);
}

pub async fn numbers_come_back_in_canonical_form(h: Harness) {
    let stored = item(
        "T#A",
        "NUM",
        &[
            ("a", Value::N("007.50".into())),
            ("b", Value::N("1e3".into())),
            ("c", Value::N("-0".into())),
        ],
    );
    h.table.put(put(stored)).await.unwrap();
    let back = h.table.get(&Key::new("T#A", "NUM")).await.unwrap().unwrap();
    assert_eq!(back.get("a"), Some(&Value::N("7.5".into())));
    assert_eq!(back.get("b"), Some(&Value::N("1000".into())));
    assert_eq!(back.get("c"), Some(&Value::N("0".into())));
}

pub async fn a_missing_item_reads_as_none(h: Harness) {
    assert_eq!(h.table.get(&Key::new("T#A", "NOPE")).await.unwrap(), None);
}

pub async fn put_if_absent_refuses_the_second_writer_and_shows_the_winner(h: Harness) {
    let first = item("T#A", "EMAIL#a@b.c", &[("owner", s("first"))]);
    h.table
        .put(put_if(first.clone(), Cond::NotExists))
        .await
        .unwrap();
    let second = item("T#A", "EMAIL#a@b.c", &[("owner", s("second"))]);
    let err = h
        .table
        .put(put_if(second, Cond::NotExists))
        .await
        .unwrap_err();
    assert_eq!(current_of(err), Some(first.clone()));
    assert_eq!(
        h.table.get(&Key::new("T#A", "EMAIL#a@b.c")).await.unwrap(),
        Some(first)
    );
}

pub async fn a_version_condition_admits_only_the_expected_version(h: Harness) {
    h.table
        .put(put(item("T#A", "ORDER#1", &[("version", n(1))])))
        .await
        .unwrap();
    let next = item("T#A", "ORDER#1", &[("version", n(2))]);
    h.table
        .put(put_if(next.clone(), Cond::eq("version", n(1))))
        .await
        .unwrap();
    // A second writer that read version 1 loses.
    let stale = item("T#A", "ORDER#1", &[("version", n(2)), ("by", s("stale"))]);
    let err = h
        .table
        .put(put_if(stale, Cond::eq("version", n(1))))
        .await
        .unwrap_err();
    assert_eq!(current_of(err), Some(next.clone()));
    assert_eq!(
        h.table.get(&Key::new("T#A", "ORDER#1")).await.unwrap(),
        Some(next)
    );
}

pub async fn comparisons_on_missing_or_mistyped_attributes_are_false(h: Harness) {
    h.table
        .put(put(item("T#A", "X", &[("num", n(5)), ("text", s("5"))])))
        .await
        .unwrap();
    let try_cond = |cond: Cond| {
        let table = h.table.clone();
        async move {
            table
                .update(update(
                    "T#A",
                    "X",
                    vec![Change::Add("hits".into(), 1)],
                    Some(cond),
                ))
                .await
                .is_ok()
        }
    };
    assert!(!try_cond(Cond::eq("missing", n(5))).await);
    assert!(!try_cond(Cond::Cmp("missing".into(), CmpOp::Lt, n(5))).await);
    assert!(try_cond(Cond::Not(Box::new(Cond::eq("missing", n(5))))).await);
    assert!(
        !try_cond(Cond::eq("text", n(5))).await,
        "a string never equals a number"
    );
    assert!(!try_cond(Cond::Cmp("text".into(), CmpOp::Lt, n(9))).await);
    assert!(try_cond(Cond::Cmp("num".into(), CmpOp::Ge, n(5))).await);
    assert!(try_cond(Cond::Cmp("num".into(), CmpOp::Gt, Value::N("4.99".into()))).await);
    assert!(try_cond(Cond::AttrExists("num".into())).await);
    assert!(try_cond(Cond::AttrNotExists("missing".into())).await);
    assert!(try_cond(Cond::Or(vec![Cond::eq("num", n(1)), Cond::eq("num", n(5))])).await);
    assert!(
        !try_cond(Cond::And(vec![
            Cond::eq("num", n(5)),
            Cond::eq("text", s("6"))
        ]))
        .await
    );
    let hits = h.table.get(&Key::new("T#A", "X")).await.unwrap().unwrap();
    assert_eq!(hits.get("hits"), Some(&n(6)));
}

pub async fn begins_with_conditions_match_string_prefixes(h: Harness) {
    h.table
        .put(put(item(
            "T#A",
            "X",
            &[("state", s("PAID")), ("num", n(12))],
        )))
        .await
        .unwrap();
    let with = |cond: Cond| {
        update(
            "T#A",
            "X",
            vec![Change::Set("seen".into(), Value::Bool(true))],
            Some(cond),
        )
    };
    assert!(
        h.table
            .update(with(Cond::BeginsWith("state".into(), "PA".into())))
            .await
            .is_ok()
    );
    assert!(
        h.table
            .update(with(Cond::BeginsWith("state".into(), "PAX".into())))
            .await
            .is_err()
    );
    assert!(
        h.table
            .update(with(Cond::BeginsWith("missing".into(), "P".into())))
            .await
            .is_err()
    );
    assert!(
        h.table
            .update(with(Cond::BeginsWith("num".into(), "1".into())))
            .await
            .is_err()
    );
}

pub async fn delete_returns_the_old_item_and_a_failed_condition_keeps_it(h: Harness) {
    let stored = item("T#A", "D", &[("version", n(3))]);
    h.table.put(put(stored.clone())).await.unwrap();
    let err = h
        .table
        .delete(Delete {
            key: Key::new("T#A", "D"),
            cond: Some(Cond::eq("version", n(2))),
        })
        .await
        .unwrap_err();
    assert_eq!(current_of(err), Some(stored.clone()));
    assert!(h.table.get(&Key::new("T#A", "D")).await.unwrap().is_some());
    let old = h
        .table
        .delete(Delete {
            key: Key::new("T#A", "D"),
            cond: Some(Cond::eq("version", n(3))),
        })
        .await
        .unwrap();
    assert_eq!(old, Some(stored));
    assert_eq!(h.table.get(&Key::new("T#A", "D")).await.unwrap(), None);
    // Deleting what is not there is not an error, and returns nothing.
    assert_eq!(
        h.table
            .delete(Delete {
                key: Key::new("T#A", "D"),
                cond: None
            })
            .await
            .unwrap(),
        None
    );
    // ...unless the condition needs the item.
    let err = h
        .table
        .delete(Delete {
            key: Key::new("T#A", "D"),
            cond: Some(Cond::Exists),
        })
        .await
        .unwrap_err();
    assert_eq!(current_of(err), None);
}

pub async fn update_creates_changes_adds_and_removes(h: Harness) {
    let created = h
        .table
        .update(update(
            "T#A",
            "U",
            vec![
                Change::Set("name".into(), s("pad thai")),
                Change::Add("stock".into(), 10),
            ],
            None,
        ))
        .await
        .unwrap();
    assert_eq!(
        created,
        item("T#A", "U", &[("name", s("pad thai")), ("stock", n(10))])
    );
    let changed = h
        .table
        .update(update(
            "T#A",
            "U",
            vec![
                Change::Add("stock".into(), -3),
                Change::Remove("name".into()),
                Change::Set("v".into(), n(2)),
            ],
            Some(Cond::Cmp("stock".into(), CmpOp::Ge, n(3))),
        ))
        .await
        .unwrap();
    assert_eq!(changed, item("T#A", "U", &[("stock", n(7)), ("v", n(2))]));
    assert_eq!(
        h.table.get(&Key::new("T#A", "U")).await.unwrap(),
        Some(changed)
    );
    // Removing what is absent is fine.
    h.table
        .update(update(
            "T#A",
            "U",
            vec![Change::Remove("never".into())],
            None,
        ))
        .await
        .unwrap();
}

pub async fn a_failed_update_condition_changes_nothing(h: Harness) {
    let stored = item("T#A", "STOCK", &[("stock", n(1))]);
    h.table.put(put(stored.clone())).await.unwrap();
    // Never below zero: take 2 only if at least 2 are left.
    let err = h
        .table
        .update(update(
            "T#A",
            "STOCK",
            vec![Change::Add("stock".into(), -2)],
            Some(Cond::Cmp("stock".into(), CmpOp::Ge, n(2))),
        ))
        .await
        .unwrap_err();
    assert_eq!(current_of(err), Some(stored.clone()));
    assert_eq!(
        h.table.get(&Key::new("T#A", "STOCK")).await.unwrap(),
        Some(stored)
    );
    // A condition that needs the item fails on a missing one, and creates nothing.
    let err = h
        .table
        .update(update(
            "T#A",
            "GHOST",
            vec![Change::Add("n".into(), 1)],
            Some(Cond::Exists),
        ))
        .await
        .unwrap_err();
    assert_eq!(current_of(err), None);
    assert_eq!(h.table.get(&Key::new("T#A", "GHOST")).await.unwrap(), None);
}

pub async fn adding_to_a_non_number_is_refused(h: Harness) {
    let stored = item("T#A", "S", &[("name", s("x"))]);
    h.table.put(put(stored.clone())).await.unwrap();
    let err = h
        .table
        .update(update(
            "T#A",
            "S",
            vec![Change::Add("name".into(), 1)],
            None,
        ))
        .await
        .unwrap_err();
    assert!(matches!(err, StoreError::Invalid(_)), "{err:?}");
    assert_eq!(
        h.table.get(&Key::new("T#A", "S")).await.unwrap(),
        Some(stored)
    );
}

pub async fn key_attributes_cannot_be_updated(h: Harness) {
    for attr in ["tenant_id", "sk"] {
        let err = h
            .table
            .update(update(
                "T#A",
                "K",
                vec![Change::Set(attr.into(), s("x"))],
                None,
            ))
            .await
            .unwrap_err();
        assert!(matches!(err, StoreError::Invalid(_)), "{attr}: {err:?}");
    }
    let err = h
        .table
        .update(update(
            "T#A",
            "K",
            vec![Change::Set("a".into(), n(1)), Change::Remove("a".into())],
            None,
        ))
        .await
        .unwrap_err();
    assert!(matches!(err, StoreError::Invalid(_)));
    assert_eq!(h.table.get(&Key::new("T#A", "K")).await.unwrap(), None);
}

pub async fn a_transaction_writes_everything_or_nothing(h: Harness) {
    h.table
        .put(put(item("T#A", "ORDER#1", &[("version", n(1))])))
        .await
        .unwrap();
    let ops = |version: i64| {
        vec![
            TxOp::Update(update(
                "T#A",
                "ORDER#1",
                vec![
                    Change::Set("status".into(), s("PAID")),
                    Change::Add("version".into(), 1),
                ],
                Some(Cond::eq("version", n(version))),
            )),
            TxOp::Put(put_if(
                item("T#A", "ORDER#1#H#2", &[("to", s("PAID"))]),
                Cond::NotExists,
            )),
            TxOp::Put(put(item("T#A", "OUTBOX#1", &[("type", s("order.paid"))]))),
            TxOp::Delete(Delete {
                key: Key::new("T#A", "CART#1"),
                cond: None,
            }),
        ]
    };
    // A stale version cancels everything.
    let err = h.table.transact(ops(0)).await.unwrap_err();
    assert!(
        matches!(err, StoreError::TransactionCanceled { ref failures } if failures.len() == 1 && failures[0].index == 0),
        "{err:?}"
    );
    for sk in ["ORDER#1#H#2", "OUTBOX#1"] {
        assert_eq!(
            h.table.get(&Key::new("T#A", sk)).await.unwrap(),
            None,
            "{sk} must not exist"
        );
    }
    let order = h
        .table
        .get(&Key::new("T#A", "ORDER#1"))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(order.get("version"), Some(&n(1)));
    assert_eq!(order.get("status"), None);
    // The right version writes everything.
    h.table.transact(ops(1)).await.unwrap();
    let order = h
        .table
        .get(&Key::new("T#A", "ORDER#1"))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(order.get("version"), Some(&n(2)));
    assert_eq!(order.get("status"), Some(&s("PAID")));
    assert!(
        h.table
            .get(&Key::new("T#A", "ORDER#1#H#2"))
            .await
            .unwrap()
            .is_some()
    );
    assert!(
        h.table
            .get(&Key::new("T#A", "OUTBOX#1"))
            .await
            .unwrap()
            .is_some()
    );
}

pub async fn a_cancelled_transaction_names_every_failed_condition(h: Harness) {
    let taken = item("T#A", "SLUG#pizza", &[("tenant", s("other"))]);
    h.table.put(put(taken.clone())).await.unwrap();
    let err = h
        .table
        .transact(vec![
            TxOp::Put(put_if(item("T#A", "PROFILE", &[]), Cond::NotExists)),
            TxOp::Put(put_if(
                item("T#A", "SLUG#pizza", &[("tenant", s("me"))]),
                Cond::NotExists,
            )),
            TxOp::Check(Check {
                key: Key::new("T#A", "MISSING"),
                cond: Cond::Exists,
            }),
        ])
        .await
        .unwrap_err();
    let StoreError::TransactionCanceled { failures } = err else {
        panic!("{err:?}")
    };
    let indexes: Vec<usize> = failures.iter().map(|f| f.index).collect();
    assert_eq!(indexes, [1, 2]);
    assert_eq!(failures[0].current, Some(taken));
    assert_eq!(failures[1].current, None);
    assert_eq!(
        h.table.get(&Key::new("T#A", "PROFILE")).await.unwrap(),
        None
    );
}

pub async fn a_transaction_may_not_touch_one_item_twice(h: Harness) {
    let err = h
        .table
        .transact(vec![
            TxOp::Put(put(item("T#A", "X", &[]))),
            TxOp::Update(update("T#A", "X", vec![Change::Add("n".into(), 1)], None)),
        ])
        .await
        .unwrap_err();
    assert!(matches!(err, StoreError::Invalid(_)), "{err:?}");
    assert!(matches!(
        h.table.transact(vec![]).await,
        Err(StoreError::Invalid(_))
    ));
    let too_many: Vec<TxOp> = (0..101)
        .map(|i| TxOp::Put(put(item("T#A", &format!("I#{i}"), &[]))))
        .collect();
    assert!(matches!(
        h.table.transact(too_many).await,
        Err(StoreError::Invalid(_))
    ));
    let hundred: Vec<TxOp> = (0..100)
        .map(|i| TxOp::Put(put(item("T#A", &format!("I#{i:03}"), &[]))))
        .collect();
    h.table.transact(hundred).await.unwrap();
    assert_eq!(
        all_pages(&h, &Query::table("T#A").begins_with("I#"))
            .await
            .len(),
        100
    );
}

pub async fn condition_checks_guard_a_transaction(h: Harness) {
    h.table
        .put(put(item("T#A", "PROFILE", &[("status", s("active"))])))
        .await
        .unwrap();
    let active = Check {
        key: Key::new("T#A", "PROFILE"),
        cond: Cond::eq("status", s("active")),
    };
    h.table
        .transact(vec![
            TxOp::Check(active.clone()),
            TxOp::Put(put(item("T#A", "STAFF#1", &[]))),
        ])
        .await
        .unwrap();
    h.table
        .update(update(
            "T#A",
            "PROFILE",
            vec![Change::Set("status".into(), s("inactive"))],
            None,
        ))
        .await
        .unwrap();
    let err = h
        .table
        .transact(vec![
            TxOp::Check(active),
            TxOp::Put(put(item("T#A", "STAFF#2", &[]))),
        ])
        .await
        .unwrap_err();
    assert!(matches!(err, StoreError::TransactionCanceled { .. }));
    assert_eq!(
        h.table.get(&Key::new("T#A", "STAFF#2")).await.unwrap(),
        None
    );
}

pub async fn sort_keys_order_by_utf8_bytes(h: Harness) {
    let keys = [
        "a", "B", "Z", "z", "é", "ñ", "10", "9", "~", "\u{7f}", "中", "😀", "ORDER#", "ORDER#0",
        "ORDER#a",
    ];
    for sk in keys {
        h.table.put(put(item("T#A", sk, &[]))).await.unwrap();
    }
    let mut expected: Vec<String> = keys.iter().map(|k| (*k).to_owned()).collect();
    expected.sort_by(|a, b| a.as_bytes().cmp(b.as_bytes()));
    let forward = all_pages(&h, &Query::table("T#A").limit(4)).await;
    assert_eq!(sks(&forward), expected);
    let backward = all_pages(&h, &Query::table("T#A").reverse().limit(4)).await;
    expected.reverse();
    assert_eq!(sks(&backward), expected);
}

pub async fn sort_key_conditions_select_ranges(h: Harness) {
    for sk in ["A#1", "A#2", "A#3", "B#1", "B#2", "C"] {
        h.table.put(put(item("T#A", sk, &[]))).await.unwrap();
    }
    let select = |sk: SortKey| Query::table("T#A").sort_key(sk);
    let cases: Vec<(SortKey, Vec<&str>)> = vec![
        (SortKey::Cmp(CmpOp::Eq, "A#2".into()), vec!["A#2"]),
        (SortKey::Cmp(CmpOp::Lt, "A#3".into()), vec!["A#1", "A#2"]),
        (
            SortKey::Cmp(CmpOp::Le, "A#3".into()),
            vec!["A#1", "A#2", "A#3"],
        ),
        (SortKey::Cmp(CmpOp::Gt, "B#1".into()), vec!["B#2", "C"]),
        (
            SortKey::Cmp(CmpOp::Ge, "B#1".into()),
            vec!["B#1", "B#2", "C"],
        ),
        (
            SortKey::Between("A#2".into(), "B#1".into()),
            vec!["A#2", "A#3", "B#1"],
        ),
        (SortKey::BeginsWith("B#".into()), vec!["B#1", "B#2"]),
        (SortKey::BeginsWith("D".into()), vec![]),
    ];
    for (sk, expected) in cases {
        let got = all_pages(&h, &select(sk.clone()).limit(2)).await;
        assert_eq!(sks(&got), expected, "{sk:?}");
        let mut reversed = expected.clone();
        reversed.reverse();
        let got = all_pages(&h, &select(sk.clone()).reverse().limit(2)).await;
        assert_eq!(sks(&got), reversed, "{sk:?} reversed");
    }
    let err = h
        .table
        .query(&select(SortKey::Between("B".into(), "A".into())), None)
        .await
        .unwrap_err();
    assert!(matches!(err, StoreError::Invalid(_)));
}

pub async fn pagination_visits_every_item_once_in_order(h: Harness) {
    let mut expected = Vec::new();
    let mut ops = Vec::new();
    for i in 0..250 {
        let sk = format!("ORDER#{i:04}");
        expected.push(sk.clone());
        ops.push(TxOp::Put(put(item("T#A", &sk, &[("i", n(i))]))));
        if ops.len() == 100 {
            h.table.transact(std::mem::take(&mut ops)).await.unwrap();
        }
    }
    h.table.transact(ops).await.unwrap();
    // Noise outside the prefix and in another partition.
    h.table.put(put(item("T#A", "PROFILE", &[]))).await.unwrap();
    h.table
        .put(put(item("T#B", "ORDER#0001", &[])))
        .await
        .unwrap();
    for limit in [1, 7, 100, 249, 250, 1000] {
        let got = all_pages(&h, &Query::table("T#A").begins_with("ORDER#").limit(limit)).await;
        assert_eq!(sks(&got), expected, "page size {limit}");
    }
    let mut reversed = expected.clone();
    reversed.reverse();
    let got = all_pages(
        &h,
        &Query::table("T#A")
            .begins_with("ORDER#")
            .reverse()
            .limit(33),
    )
    .await;
    assert_eq!(sks(&got), reversed);
    // A client may change the page size between pages.
    let query = Query::table("T#A").begins_with("ORDER#");
    let first = h.table.query(&query.clone().limit(10), None).await.unwrap();
    let second = h
        .table
        .query(&query.clone().limit(5), first.next_cursor.as_deref())
        .await
        .unwrap();
    assert_eq!(sks(&second.items), expected[10..15]);
}

pub async fn a_page_that_ends_exactly_at_the_end_has_no_cursor(h: Harness) {
    for i in 0..6 {
        h.table
            .put(put(item("T#A", &format!("X#{i}"), &[])))
            .await
            .unwrap();
    }
    let query = Query::table("T#A").limit(3);
    let first = h.table.query(&query, None).await.unwrap();
    assert_eq!(first.items.len(), 3);
    let second = h
        .table
        .query(&query, first.next_cursor.as_deref())
        .await
        .unwrap();
    assert_eq!(second.items.len(), 3);
    assert_eq!(second.next_cursor, None, "no empty trailing page");
    let empty = h
        .table
        .query(&Query::table("T#NOBODY"), None)
        .await
        .unwrap();
    assert!(empty.items.is_empty());
    assert_eq!(empty.next_cursor, None);
}

pub async fn index_queries_follow_the_index_keys_and_skip_items_without_them(h: Harness) {
    let queued = |sk: &str, queue: &str, at: &str| {
        item(
            "T#A",
            sk,
            &[("gsi1pk", s(queue)), ("gsi1sk", s(format!("{at}#{sk}")))],
        )
    };
    h.table
        .put(put(queued("ORDER#1", "T#A#Q#PAID", "2026-06-01T12:03")))
        .await
        .unwrap();
    h.table
        .put(put(queued("ORDER#2", "T#A#Q#PAID", "2026-06-01T12:01")))
        .await
        .unwrap();
    h.table
        .put(put(queued("ORDER#3", "T#A#Q#READY", "2026-06-01T12:00")))
        .await
        .unwrap();
    h.table
        .put(put(queued("ORDER#4", "T#A#Q#PAID", "2026-06-01T12:02")))
        .await
        .unwrap();
    // Sparse: no index sort key, so not in the index.
    h.table
        .put(put(item("T#A", "ORDER#5", &[("gsi1pk", s("T#A#Q#PAID"))])))
        .await
        .unwrap();
    h.table.put(put(item("T#A", "ORDER#6", &[]))).await.unwrap();
    let paid = all_pages(&h, &Query::index("gsi1", "T#A#Q#PAID").limit(2)).await;
    assert_eq!(
        sks(&paid),
        ["ORDER#2", "ORDER#4", "ORDER#1"],
        "oldest first"
    );
    let newest = all_pages(&h, &Query::index("gsi1", "T#A#Q#PAID").reverse()).await;
    assert_eq!(sks(&newest), ["ORDER#1", "ORDER#4", "ORDER#2"]);
    let early = all_pages(
        &h,
        &Query::index("gsi1", "T#A#Q#PAID")
            .sort_key(SortKey::Cmp(CmpOp::Lt, "2026-06-01T12:02".into())),
    )
    .await;
    assert_eq!(sks(&early), ["ORDER#2"]);
    assert!(
        all_pages(&h, &Query::index("gsi2", "T#A#Q#PAID"))
            .await
            .is_empty()
    );
    let err = h
        .table
        .query(&Query::index("nope", "x"), None)
        .await
        .unwrap_err();
    assert!(matches!(err, StoreError::Invalid(_)));
}

pub async fn an_update_moves_an_item_between_index_partitions(h: Harness) {
    h.table
        .put(put(item(
            "T#A",
            "ORDER#1",
            &[
                ("gsi1pk", s("T#A#Q#PAID")),
                ("gsi1sk", s("1#ORDER#1")),
                ("version", n(1)),
            ],
        )))
        .await
        .unwrap();
    h.table
        .update(update(
            "T#A",
            "ORDER#1",
            vec![
                Change::Set("gsi1pk".into(), s("T#A#Q#IN_KITCHEN")),
                Change::Set("gsi1sk".into(), s("2#ORDER#1")),
            ],
            Some(Cond::eq("version", n(1))),
        ))
        .await
        .unwrap();
    assert!(
        all_pages(&h, &Query::index("gsi1", "T#A#Q#PAID"))
            .await
            .is_empty()
    );
    assert_eq!(
        sks(&all_pages(&h, &Query::index("gsi1", "T#A#Q#IN_KITCHEN")).await),
        ["ORDER#1"]
    );
    // Removing the index key takes it out of every queue (a delivered order).
    h.table
        .update(update(
            "T#A",
            "ORDER#1",
            vec![Change::Remove("gsi1pk".into())],
            None,
        ))
        .await
        .unwrap();
    assert!(
        all_pages(&h, &Query::index("gsi1", "T#A#Q#IN_KITCHEN"))
            .await
            .is_empty()
    );
    h.table
        .delete(Delete {
            key: Key::new("T#A", "ORDER#1"),
            cond: None,
        })
        .await
        .unwrap();
    assert!(
        all_pages(&h, &Query::index("gsi1", "T#A#Q#IN_KITCHEN"))
            .await
            .is_empty()
    );
}

pub async fn index_pagination_visits_every_item_once(h: Harness) {
    let mut expected = Vec::new();
    let mut ops = Vec::new();
    for i in 0..120 {
        let sk = format!("ORDER#{i:03}");
        // Index order differs from table order.
        let isk = format!("{:03}#{sk}", (i * 37) % 120);
        expected.push((isk.clone(), sk.clone()));
        ops.push(TxOp::Put(put(item(
            "T#A",
            &sk,
            &[("gsi2pk", s("T#A#C#42")), ("gsi2sk", s(isk))],
        ))));
        if ops.len() == 60 {
            h.table.transact(std::mem::take(&mut ops)).await.unwrap();
        }
    }
    expected.sort();
    let expected: Vec<String> = expected.into_iter().map(|(_, sk)| sk).collect();
    let got = all_pages(&h, &Query::index("gsi2", "T#A#C#42").limit(13)).await;
    assert_eq!(sks(&got), expected);
    let mut reversed = expected;
    reversed.reverse();
    let got = all_pages(&h, &Query::index("gsi2", "T#A#C#42").reverse().limit(11)).await;
    assert_eq!(sks(&got), reversed);
}

pub async fn expired_items_are_invisible_to_reads(h: Harness) {
    let now = h.clock.now_epoch_seconds();
    h.table
        .put(put(item("T#A", "INBOX#old", &[("expires_at", n(now - 1))])))
        .await
        .unwrap();
    h.table
        .put(put(item("T#A", "INBOX#now", &[("expires_at", n(now))])))
        .await
        .unwrap();
    h.table
        .put(put(item(
            "T#A",
            "INBOX#soon",
            &[
                ("expires_at", n(now + 60)),
                ("gsi1pk", s("Q")),
                ("gsi1sk", s("1")),
            ],
        )))
        .await
        .unwrap();
    h.table
        .put(put(item(
            "T#A",
            "INBOX#text",
            &[("expires_at", s("not a number"))],
        )))
        .await
        .unwrap();
    assert_eq!(
        h.table.get(&Key::new("T#A", "INBOX#old")).await.unwrap(),
        None
    );
    assert_eq!(
        h.table.get(&Key::new("T#A", "INBOX#now")).await.unwrap(),
        None,
        "expiry is inclusive"
    );
    assert!(
        h.table
            .get(&Key::new("T#A", "INBOX#soon"))
            .await
            .unwrap()
            .is_some()
    );
    let visible = all_pages(&h, &Query::table("T#A").begins_with("INBOX#").limit(1)).await;
    assert_eq!(sks(&visible), ["INBOX#soon", "INBOX#text"]);
    h.clock.advance(SignedDuration::from_secs(60));
    assert_eq!(
        h.table.get(&Key::new("T#A", "INBOX#soon")).await.unwrap(),
        None
    );
    assert!(all_pages(&h, &Query::index("gsi1", "Q")).await.is_empty());
    assert_eq!(
        sks(&all_pages(&h, &Query::table("T#A")).await),
        ["INBOX#text"]
    );
    if let Some(sqlite) = &h.sqlite {
        assert_eq!(
            sqlite.sweep().await.unwrap(),
            3,
            "the sweeper removes what expired"
        );
        assert_eq!(
            sks(&all_pages(&h, &Query::table("T#A")).await),
            ["INBOX#text"]
        );
    }
}

pub async fn expired_items_count_as_absent_for_conditions_and_updates(h: Harness) {
    let now = h.clock.now_epoch_seconds();
    let expired = item(
        "T#A",
        "INBOX#m1",
        &[("expires_at", n(now - 5)), ("stale", s("yes"))],
    );
    h.table.put(put(expired)).await.unwrap();
    // Dedupe with a conditional put: an expired marker does not block a new one.
    let fresh = item("T#A", "INBOX#m1", &[("expires_at", n(now + 100))]);
    h.table
        .put(put_if(fresh.clone(), Cond::NotExists))
        .await
        .unwrap();
    let err = h
        .table
        .put(put_if(fresh.clone(), Cond::NotExists))
        .await
        .unwrap_err();
    assert_eq!(current_of(err), Some(fresh));

    // An update of an expired item starts from nothing: its old attributes are gone.
    h.table
        .put(put(item(
            "T#A",
            "CONV#1",
            &[("expires_at", n(now - 5)), ("cart", s("old"))],
        )))
        .await
        .unwrap();
    let updated = h
        .table
        .update(update(
            "T#A",
            "CONV#1",
            vec![Change::Add("turns".into(), 1)],
            None,
        ))
        .await
        .unwrap();
    assert_eq!(updated, item("T#A", "CONV#1", &[("turns", n(1))]));
    // A condition that needs the item fails on an expired one, reporting no current item.
    h.table
        .put(put(item(
            "T#A",
            "CONV#2",
            &[("expires_at", n(now - 5)), ("v", n(1))],
        )))
        .await
        .unwrap();
    let err = h
        .table
        .update(update(
            "T#A",
            "CONV#2",
            vec![Change::Add("v".into(), 1)],
            Some(Cond::eq("v", n(1))),
        ))
        .await
        .unwrap_err();
    assert_eq!(current_of(err), None);
    let err = h
        .table
        .delete(Delete {
            key: Key::new("T#A", "CONV#2"),
            cond: Some(Cond::Exists),
        })
        .await
        .unwrap_err();
    assert_eq!(current_of(err), None);
    assert_eq!(
        h.table
            .delete(Delete {
                key: Key::new("T#A", "CONV#2"),
                cond: None
            })
            .await
            .unwrap(),
        None
    );
    // The same inside transactions.
    h.table
        .put(put(item(
            "T#A",
            "CONV#3",
            &[("expires_at", n(now - 5)), ("cart", s("old"))],
        )))
        .await
        .unwrap();
    h.table
        .put(put(item("T#A", "CONV#4", &[("expires_at", n(now - 5))])))
        .await
        .unwrap();
    h.table
        .transact(vec![
            TxOp::Update(update(
                "T#A",
                "CONV#3",
                vec![Change::Set("step".into(), s("menu"))],
                Some(Cond::NotExists),
            )),
            TxOp::Put(put_if(
                item("T#A", "CONV#4", &[("new", Value::Bool(true))]),
                Cond::NotExists,
            )),
        ])
        .await
        .unwrap();
    assert_eq!(
        h.table.get(&Key::new("T#A", "CONV#3")).await.unwrap(),
        Some(item("T#A", "CONV#3", &[("step", s("menu"))]))
    );
    assert_eq!(
        h.table.get(&Key::new("T#A", "CONV#4")).await.unwrap(),
        Some(item("T#A", "CONV#4", &[("new", Value::Bool(true))]))
    );
}

pub async fn a_tampered_or_foreign_cursor_is_refused(h: Harness) {
    for i in 0..5 {
        h.table
            .put(put(item("T#A", &format!("ORDER#{i}"), &[])))
            .await
            .unwrap();
        h.table
            .put(put(item("T#B", &format!("ORDER#{i}"), &[])))
            .await
            .unwrap();
    }
    let mine = Query::table("T#A").begins_with("ORDER#").limit(2);
    let cursor = h
        .table
        .query(&mine, None)
        .await
        .unwrap()
        .next_cursor
        .unwrap();
    assert!(h.table.query(&mine, Some(&cursor)).await.is_ok());
    let theirs = Query::table("T#B").begins_with("ORDER#").limit(2);
    assert_eq!(
        h.table.query(&theirs, Some(&cursor)).await.unwrap_err(),
        StoreError::InvalidCursor
    );
    let mut tampered = cursor.clone().into_bytes();
    let last = tampered.len() - 1;
    tampered[last] = if tampered[last] == b'A' { b'B' } else { b'A' };
    let tampered = String::from_utf8(tampered).unwrap();
    assert_eq!(
        h.table.query(&mine, Some(&tampered)).await.unwrap_err(),
        StoreError::InvalidCursor
    );
    assert_eq!(
        h.table.query(&mine, Some("garbage")).await.unwrap_err(),
        StoreError::InvalidCursor
    );
    assert_eq!(
        h.table
            .query(&mine.clone().reverse(), Some(&cursor))
            .await
            .unwrap_err(),
        StoreError::InvalidCursor
    );
}

pub async fn oversized_items_and_bad_numbers_are_refused(h: Harness) {
    let big = item("T#A", "BIG", &[("blob", s("x".repeat(400 * 1024)))]);
    assert_eq!(
        h.table.put(put(big)).await.unwrap_err(),
        StoreError::ItemTooLarge
    );
    let fits = item("T#A", "FITS", &[("blob", s("x".repeat(300 * 1024)))]);
    h.table.put(put(fits)).await.unwrap();
    let err = h
        .table
        .update(update(
            "T#A",
            "FITS",
            vec![Change::Set("more".into(), s("y".repeat(150 * 1024)))],
            None,
        ))
        .await
        .unwrap_err();
    assert_eq!(err, StoreError::ItemTooLarge);
    let bad = item("T#A", "N", &[("n", Value::N("12abc".into()))]);
    assert!(matches!(
        h.table.put(put(bad)).await,
        Err(StoreError::Invalid(_))
    ));
    assert!(matches!(
        h.table.get(&Key::new("", "x")).await,
        Err(StoreError::Invalid(_))
    ));
    assert!(matches!(
        h.table.get(&Key::new("T#A", "")).await,
        Err(StoreError::Invalid(_))
    ));
}

pub async fn index_keys_must_be_non_empty_strings(h: Harness) {
    for bad in [n(1), s("")] {
        let err = h
            .table
            .put(put(item(
                "T#A",
                "I",
                &[("gsi1pk", bad.clone()), ("gsi1sk", s("x"))],
            )))
            .await
            .unwrap_err();
        assert!(matches!(err, StoreError::Invalid(_)), "{bad:?}: {err:?}");
        let err = h
            .table
            .update(update(
                "T#A",
                "I",
                vec![Change::Set("gsi1sk".into(), bad.clone())],
                None,
            ))
            .await
            .unwrap_err();
        assert!(matches!(err, StoreError::Invalid(_)), "{bad:?}: {err:?}");
    }
    assert_eq!(h.table.get(&Key::new("T#A", "I")).await.unwrap(), None);
}
