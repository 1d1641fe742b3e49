//! Queue reads stay flat as a restaurant's history grows: the kitchen's `PAID` queue read with
//! 1 thousand and with 1 million orders in the tenant (embedded store).
//!
//!     cargo bench -p fanorder-orders --bench queue
//!     FANORDER_BENCH_ORDERS=100000 cargo bench -p fanorder-orders --bench queue   # a quicker run
#![expect(clippy::unwrap_used, reason = "a benchmark stops at the first failure")]
#![expect(clippy::print_stdout, reason = "a benchmark prints its table")]

use std::time::{Duration, Instant};

use fanorder_menus::model::ItemId;
use fanorder_orders::model::{
    Fulfillment, Line, Order, OrderId, Payment, PaymentMethod, PaymentStatus, PlacedBy, Status,
};
use fanorder_orders::store;
use fanorder_platform::{Clock, TenantId};
use fanorder_store::testing::{self, StoreKind};
use fanorder_store::{Put, Table, TxOp};

const QUEUED: usize = 40;
const READS: usize = 3000;

fn order(status: Status, at: jiff::Timestamp) -> Order {
    let line = Line {
        item_id: Some(ItemId::new()),
        combo_id: None,
        name: "Pad thai".into(),
        quantity: 2,
        unit_price: 12000,
        modifiers: Vec::new(),
        components: Vec::new(),
        line_total: 24000,
    };
    Order {
        id: OrderId::new(),
        number: 1,
        status,
        version: 6,
        fulfillment: Fulfillment::Delivery,
        location_id: None,
        customer_id: Some("01J8Z3K4M5N6P7Q8R9S0T1V2W3".into()),
        placed_by: PlacedBy {
            account: "01J8Z3K4M5N6P7Q8R9S0T1V2W3".into(),
            role: "customer".into(),
        },
        channel: None,
        address: None,
        phone: Some("+66 81 234 5678".into()),
        note: Some("no peanuts".into()),
        lines: vec![line.clone(), line],
        subtotal: 48000,
        total: 48000,
        currency: "THB".parse().unwrap(),
        payment: Payment {
            method: PaymentMethod::Online,
            status: PaymentStatus::Paid,
            provider: None,
            payment_id: None,
        },
        stock_taken: Vec::new(),
        created_at: at,
        updated_at: at,
        status_at: at,
        paid_at: Some(at),
        late_noticed: false,
    }
}

async fn fill(table: &Table, tenant: &TenantId, count: usize, status: Status) {
    let start = jiff::Timestamp::now() - jiff::SignedDuration::from_hours(24 * 365);
    let mut ops = Vec::with_capacity(100);
    for i in 0..count {
        let at = start + jiff::SignedDuration::from_secs(i as i64);
        let item = store::order_item(table, tenant, &order(status, at)).unwrap();
        ops.push(TxOp::Put(Put { item, cond: None }));
        if ops.len() == 100 {
            table.transact(std::mem::take(&mut ops)).await.unwrap();
        }
    }
    if !ops.is_empty() {
        table.transact(ops).await.unwrap();
    }
}

async fn read_queue(table: &Table, tenant: &TenantId) -> (f64, f64) {
    let mut samples = Vec::with_capacity(READS);
    for _ in 0..READS {
        let t = Instant::now();
        let page = store::queue(table, tenant, Status::Paid, None, None, 50)
            .await
            .unwrap();
        assert_eq!(page.items.len(), QUEUED);
        samples.push(t.elapsed());
    }
    samples.sort();
    let ms = |d: Duration| d.as_secs_f64() * 1000.0;
    (ms(samples[READS / 2]), ms(samples[READS * 99 / 100]))
}

fn main() {
    let total: usize = std::env::var("FANORDER_BENCH_ORDERS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1_000_000);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async {
        let test = testing::table(StoreKind::Sqlite, Clock::system(), &[1; 32], None)
            .await
            .unwrap()
            .unwrap();
        let table = test.table.clone();
        let tenant = TenantId::new();
        fill(&table, &tenant, QUEUED, Status::Paid).await;
        fill(&table, &tenant, 1000 - QUEUED, Status::Delivered).await;
        let (small_p50, small_p99) = read_queue(&table, &tenant).await;
        let started = Instant::now();
        fill(&table, &tenant, total - 1000, Status::Delivered).await;
        let filled = started.elapsed();
        let (big_p50, big_p99) = read_queue(&table, &tenant).await;
        println!("| orders in the tenant | PAID queue read p50 ms | p99 ms |");
        println!("|---:|---:|---:|");
        println!("| 1,000 | {small_p50:.3} | {small_p99:.3} |");
        println!("| {total} | {big_p50:.3} | {big_p99:.3} |");
        println!(
            "\n(p99 ratio {:.2}; {} orders written in {:.0} s; each read returns {QUEUED} orders)",
            big_p99 / small_p99,
            total - 1000,
            filled.as_secs_f64()
        );
    });
}
