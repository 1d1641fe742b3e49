//! Store benchmark: throughput and latency of the embedded adapter (and DynamoDB Local when
//! `AWS_ENDPOINT_URL_DYNAMODB` is set) for the operations the product leans on.
//!
//!     cargo bench -p fanorder-store --bench store
//!
//! Prints a table: operation, concurrency, ops/s, p50 and p99 in milliseconds.
#![expect(clippy::unwrap_used, reason = "a benchmark stops at the first failure")]
#![expect(clippy::print_stdout, reason = "a benchmark prints its table")]

use std::sync::Arc;
use std::time::{Duration, Instant};

use fanorder_platform::Clock;
use fanorder_platform::id::new_ulid;
use fanorder_store::testing::{self, StoreKind};
use fanorder_store::{Cond, Item, Key, Put, Query, Table, TxOp, n, s};

const PRELOAD: usize = 10_000;
const RUN_FOR: Duration = Duration::from_secs(3);

fn item(pk: &str, sk: &str) -> Item {
    let mut item = Item::from(std::collections::HashMap::<String, fanorder_store::Value>::new());
    item.insert("tenant_id".into(), s(pk));
    item.insert("sk".into(), s(sk));
    item.insert("name".into(), s("Pad thai with shrimp"));
    item.insert("price".into(), n(12_50));
    item.insert("version".into(), n(1));
    item
}

#[derive(Clone, Copy, Debug)]
enum Op {
    Get,
    ConditionalPut,
    Transaction4,
    QueryPage50,
}

impl Op {
    fn name(self) -> &'static str {
        match self {
            Op::Get => "get",
            Op::ConditionalPut => "conditional put",
            Op::Transaction4 => "transaction of 4 puts",
            Op::QueryPage50 => "query page of 50",
        }
    }
}

async fn once(table: &Table, op: Op, worker: usize, i: usize) {
    match op {
        Op::Get => {
            let sk = format!("ITEM#{:06}", (worker * 7919 + i * 104_729) % PRELOAD);
            table.get(&Key::new("T#BENCH", sk)).await.unwrap().unwrap();
        }
        Op::ConditionalPut => {
            let put = Put {
                item: item("T#BENCH", &format!("NEW#{}", new_ulid())),
                cond: Some(Cond::NotExists),
            };
            table.put(put).await.unwrap();
        }
        Op::Transaction4 => {
            let id = new_ulid();
            let ops = (0..4)
                .map(|k| {
                    TxOp::Put(Put {
                        item: item("T#BENCH", &format!("TX#{id}#{k}")),
                        cond: Some(Cond::NotExists),
                    })
                })
                .collect();
            table.transact(ops).await.unwrap();
        }
        Op::QueryPage50 => {
            let from = format!("ITEM#{:06}", (worker * 7919 + i * 104_729) % (PRELOAD - 50));
            let query = Query::table("T#BENCH")
                .sort_key(fanorder_store::SortKey::Between(from, "ITEM#999999".into()))
                .limit(50);
            let page = table.query(&query, None).await.unwrap();
            assert_eq!(page.items.len(), 50);
        }
    }
}

async fn measure(table: &Table, op: Op, concurrency: usize) -> (f64, f64, f64) {
    let start = Instant::now();
    let mut workers = Vec::new();
    for worker in 0..concurrency {
        let table = table.clone();
        workers.push(tokio::spawn(async move {
            let mut latencies = Vec::new();
            let mut i = 0;
            while start.elapsed() < RUN_FOR {
                let t = Instant::now();
                once(&table, op, worker, i).await;
                latencies.push(t.elapsed());
                i += 1;
            }
            latencies
        }));
    }
    let mut all = Vec::new();
    for worker in workers {
        all.extend(worker.await.unwrap());
    }
    let elapsed = start.elapsed().as_secs_f64();
    all.sort();
    let pct =
        |p: f64| all[((all.len() as f64 * p) as usize).min(all.len() - 1)].as_secs_f64() * 1000.0;
    (all.len() as f64 / elapsed, pct(0.50), pct(0.99))
}

async fn preload(table: &Table) {
    for chunk in (0..PRELOAD).collect::<Vec<_>>().chunks(100) {
        let ops = chunk
            .iter()
            .map(|i| {
                TxOp::Put(Put {
                    item: item("T#BENCH", &format!("ITEM#{i:06}")),
                    cond: None,
                })
            })
            .collect();
        table.transact(ops).await.unwrap();
    }
}

fn main() {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async {
        let mut kinds = vec![StoreKind::Sqlite];
        if std::env::var_os("AWS_ENDPOINT_URL_DYNAMODB").is_some() {
            kinds.push(StoreKind::Dynamodb);
        }
        println!("| store | operation | concurrency | ops/s | p50 ms | p99 ms |");
        println!("|---|---|---:|---:|---:|---:|");
        for kind in kinds {
            let test_table = testing::table(kind, Clock::system(), &[1u8; 32], None)
                .await
                .unwrap()
                .unwrap();
            let table = Arc::new(test_table.table.clone());
            preload(&table).await;
            for op in [
                Op::Get,
                Op::ConditionalPut,
                Op::Transaction4,
                Op::QueryPage50,
            ] {
                for concurrency in [1, 32] {
                    let (rate, p50, p99) = measure(&table, op, concurrency).await;
                    println!(
                        "| {} | {} | {concurrency} | {rate:.0} | {p50:.2} | {p99:.2} |",
                        table.backend_name(),
                        op.name()
                    );
                }
            }
        }
    });
}
