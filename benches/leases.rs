//! Library checkpoints through a lease against plain library checkpoints,
//! on SQLite and on PostgreSQL, with 1 and 8 clients (threads, each with
//! its own store and its own cursor).
//!
//! Both sides are a consumer's loop: a [`CheckpointDriver`] checkpointing
//! every message (`per-message`). The leased side holds the cursor's lease
//! (`hold_lease`): each checkpoint is the store's one guarded statement
//! that writes only while the lease of its epoch is live, and the driver
//! renews the lease (one statement) once half its time to live has gone
//! by. The lease's time to live is 10 s (checkpoints of 8 clients wait
//! for SQLite's write lock, seconds on a loaded machine), so the longer
//! runs renew it.
//!
//! Each round times the two one right after the other (which goes first
//! alternates) and gives one ratio, so the load of the moment falls on both
//! sides of it. Prints a Markdown table: checkpoints per second (medians)
//! and leased / plain speed (median of the rounds' ratios, and their
//! quartiles). DESIGN.md §5 asks at least 0.9x.
//!
//! PostgreSQL: `CURSORCTL_BENCH_PG` (default
//! `postgres://postgres@127.0.0.1/test`); the store is the schema
//! `bench_leases` of that database, created when missing. SQLite: a store in
//! a temporary folder. `CURSORCTL_BENCH_QUICK=1` runs fewer rounds of fewer
//! checkpoints.
//!
//! Run with `cargo bench --bench leases`.

use std::sync::{Arc, Barrier};
use std::time::{Duration, Instant};

use cursorctl::lease;
use cursorctl::{
    Access, CheckpointDriver, CheckpointPolicy, ConsumerCursor, CursorKey, StoreLocation,
};

const TIMEOUT: Duration = Duration::from_secs(30);
const TTL: Duration = Duration::from_secs(10);

#[derive(Clone, Copy, PartialEq, Eq)]
enum Side {
    Plain,
    Leased,
}

fn key_of(client: usize) -> CursorKey {
    format!("bench{client}:orders:0").parse().expect("a key")
}

/// One client's run of `n` checkpoints on its own store and cursor, after
/// the start barrier.
fn client_run(location: &StoreLocation, side: Side, id: usize, n: u64, start: &Barrier) {
    let key = key_of(id);
    let store = cursorctl::store::open(location, Access::ReadWrite, TIMEOUT).expect("open");
    let pk = key.partition_key().to_string();
    let mut cursor = ConsumerCursor::new(key.consumer().as_str(), pk);
    let first = cursor.resync(&*store).unwrap().offset().unwrap_or(0);
    let mut driver = CheckpointDriver::new(CheckpointPolicy::PerMessage);
    if side == Side::Leased {
        driver.hold_lease(lease::acquire(&*store, &key, &format!("bench-{id}"), TTL).unwrap());
    }
    start.wait();
    for next in first + 1..=first + n {
        driver.record_processed(&mut cursor, &*store, next).unwrap();
    }
    if let Some(held) = driver.take_lease() {
        held.release(&*store).unwrap();
    }
    assert_eq!(cursor.current_offset(), first + n);
}

/// `clients` threads of `n` checkpoints each, started together; the wall
/// time from the start to the last one's end.
fn run(location: &Arc<StoreLocation>, side: Side, clients: usize, n: u64) -> Duration {
    let start = Arc::new(Barrier::new(clients + 1));
    let threads: Vec<_> = (0..clients)
        .map(|client| {
            let (location, start) = (Arc::clone(location), Arc::clone(&start));
            std::thread::spawn(move || client_run(&location, side, client, n, &start))
        })
        .collect();
    start.wait();
    let began = Instant::now();
    for thread in threads {
        thread.join().expect("a client failed");
    }
    began.elapsed()
}

fn median(v: &mut [f64]) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

fn main() {
    let url = std::env::var("CURSORCTL_BENCH_PG")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1/test".to_owned());
    let sep = if url.contains('?') { '&' } else { '?' };
    let postgres: StoreLocation = format!("{url}{sep}sslmode=disable&schema=bench_leases")
        .parse()
        .expect("a PostgreSQL location");
    let dir = tempfile::tempdir().unwrap();
    let sqlite = StoreLocation::from(dir.path().join("bench.db").as_path());
    let quick = std::env::var_os("CURSORCTL_BENCH_QUICK").is_some_and(|v| v != "0");
    let rounds = if quick { 5 } else { 15 };
    let total: u64 = if quick { 400 } else { 2000 };

    println!(
        "| backend | clients | checkpoints a run | plain (median) | leased (median) | leased / plain speed: median of {rounds} rounds (quartiles) |"
    );
    println!("| --- | ---: | ---: | ---: | ---: | ---: |");
    for (name, location) in [("SQLite", sqlite), ("PostgreSQL", postgres)] {
        cursorctl::store::init(&location, TIMEOUT).expect("creating the store");
        let location = Arc::new(location);
        for clients in [1, 8] {
            let n = total / clients as u64;
            // One warm-up run each.
            run(&location, Side::Plain, clients, n);
            run(&location, Side::Leased, clients, n);
            let (mut plain, mut leased, mut ratios) = (Vec::new(), Vec::new(), Vec::new());
            for round in 0..rounds {
                let (p, l) = if round % 2 == 0 {
                    let p = run(&location, Side::Plain, clients, n);
                    (p, run(&location, Side::Leased, clients, n))
                } else {
                    let l = run(&location, Side::Leased, clients, n);
                    (run(&location, Side::Plain, clients, n), l)
                };
                let all = (n * clients as u64) as f64;
                plain.push(all / p.as_secs_f64());
                leased.push(all / l.as_secs_f64());
                ratios.push(p.as_secs_f64() / l.as_secs_f64());
            }
            let (p, l, r) = (median(&mut plain), median(&mut leased), median(&mut ratios));
            println!(
                "| {name} | {clients} | {} | {p:.0}/s | {l:.0}/s | {r:.2}x ({:.2}-{:.2}) |",
                n * clients as u64,
                ratios[rounds / 4],
                ratios[rounds * 3 / 4],
            );
        }
    }
}
