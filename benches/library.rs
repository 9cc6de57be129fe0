//! Library-level benchmarks: compare-and-swap checkpoints against the SQLite
//! store (all in one transaction, and one transaction each), the
//! checkpoint driver's throughput, and a consumer's checkpoints through the
//! library against a raw rusqlite loop doing the same guarded UPDATE.
//!
//! Run with `cargo bench --bench library` (everything), or
//! `cargo bench --bench library -- vs_raw` (only the comparison with the raw
//! loop, which prints a table of medians and ratios).

use std::hint::black_box;
use std::path::Path;
use std::time::{Duration, Instant};

use criterion::{criterion_group, BatchSize, Criterion, Throughput};
use cursorctl::store::sqlite::{Access, SqliteStore};
use cursorctl::{
    CheckpointDriver, CheckpointPolicy, ConsumerCursor, DurableStore, MemoryStore, StoreExt,
};
use rusqlite::{params, Connection, TransactionBehavior};

const TIMEOUT: Duration = Duration::from_secs(5);

fn store() -> (tempfile::TempDir, SqliteStore) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("bench.db");
    SqliteStore::init(&path, TIMEOUT).unwrap();
    let store = SqliteStore::open(&path, Access::ReadWrite, TIMEOUT).unwrap();
    (dir, store)
}

fn checkpoints(c: &mut Criterion) {
    let mut group = c.benchmark_group("sqlite_checkpoints");
    group.sample_size(10);

    const IN_ONE: u64 = 10_000;
    group.throughput(Throughput::Elements(IN_ONE));
    group.bench_function("10k_in_one_transaction", |b| {
        b.iter_batched(
            store,
            |(_dir, store)| {
                store
                    .write(|txn| {
                        let mut cursor = ConsumerCursor::resume("bench", "orders:0", txn)?;
                        for next in 1..=IN_ONE {
                            cursor.checkpoint(txn, next)?;
                        }
                        Ok::<_, cursorctl::DurabilityError>(())
                    })
                    .unwrap();
            },
            BatchSize::PerIteration,
        );
    });

    const EACH: u64 = 100;
    group.throughput(Throughput::Elements(EACH));
    group.bench_function("100_one_transaction_each", |b| {
        b.iter_batched(
            store,
            |(_dir, store)| {
                let mut cursor = ConsumerCursor::resume("bench", "orders:0", &store).unwrap();
                for next in 1..=EACH {
                    cursor.checkpoint(&store, next).unwrap();
                }
                black_box(store.read_value("bench:orders:0").unwrap());
            },
            BatchSize::PerIteration,
        );
    });
    group.finish();
}

fn driver(c: &mut Criterion) {
    let mut group = c.benchmark_group("driver_in_memory");
    const N: u64 = 1_000_000;
    group.throughput(Throughput::Elements(N));
    for policy in ["per-message", "per-batch:100", "explicit-flush"] {
        let policy: CheckpointPolicy = policy.parse().unwrap();
        group.bench_function(policy.to_string(), |b| {
            b.iter(|| {
                let store = MemoryStore::without_log();
                let mut cursor = ConsumerCursor::new("bench", "orders:0");
                let mut driver = CheckpointDriver::new(policy);
                for next in 1..=N {
                    driver.record_processed(&mut cursor, &store, next).unwrap();
                }
                driver.flush(&mut cursor, &store).unwrap();
                black_box(store.write_count())
            });
        });
    }
    group.finish();
}

/// Messages per timed run of the comparison with the raw loop.
const PER_MESSAGE_N: u64 = 300;
const PER_BATCH_N: u64 = 30_000;
const BATCH: usize = 100;
/// Rounds of the comparison: each round times every contender once, so a
/// change in the machine's load falls on both sides of a ratio.
const ROUNDS: usize = 21;

/// A fresh store holding the cursor at 0 (both sides start the same).
fn seeded_store(dir: &Path) -> std::path::PathBuf {
    let path = dir.join("vs_raw.db");
    let _ = std::fs::remove_file(&path);
    let _ = std::fs::remove_file(dir.join("vs_raw.db-wal"));
    let _ = std::fs::remove_file(dir.join("vs_raw.db-shm"));
    SqliteStore::init(&path, TIMEOUT).unwrap();
    let store = SqliteStore::open(&path, Access::ReadWrite, TIMEOUT).unwrap();
    store.cas("bench:orders:0", 0, 0).unwrap();
    assert_eq!(store.read_value("bench:orders:0").unwrap(), Some(0));
    path
}

/// A consumer through the library: resume, then the driver, then a flush.
fn library_run(path: &Path, policy: CheckpointPolicy, n: u64) -> Duration {
    let store = SqliteStore::options().open(path).unwrap();
    let start = Instant::now();
    let mut cursor = ConsumerCursor::resume("bench", "orders:0", &store).unwrap();
    let mut driver = CheckpointDriver::new(policy);
    let first = cursor.current_offset();
    for next in first + 1..=first + n {
        driver.record_processed(&mut cursor, &store, next).unwrap();
    }
    driver.flush(&mut cursor, &store).unwrap();
    let elapsed = start.elapsed();
    assert_eq!(store.read_value("bench:orders:0").unwrap(), Some(first + n));
    elapsed
}

/// The same consumer on rusqlite alone: read the offset, then every `every`
/// messages one `BEGIN IMMEDIATE` transaction with the guarded UPDATE the
/// store runs (`... AND offset = expected`), checked to have changed one
/// row, on a connection set up as the store sets up a writer's.
fn raw_run(path: &Path, every: usize, n: u64) -> Duration {
    let conn = Connection::open(path).unwrap();
    conn.busy_timeout(TIMEOUT).unwrap();
    conn.pragma_update(None, "synchronous", "FULL").unwrap();
    let start = Instant::now();
    let mut current: i64 = conn
        .query_row(
            "SELECT offset FROM cursors WHERE consumer = ?1 AND channel = ?2 AND partition = ?3",
            params!["bench", "orders", 0],
            |r| r.get(0),
        )
        .unwrap();
    let first = current;
    let mut since = 0;
    let mut pending = None;
    let swap = |current: &mut i64, new: i64| {
        let tx =
            rusqlite::Transaction::new_unchecked(&conn, TransactionBehavior::Immediate).unwrap();
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX));
        let changed = tx
            .prepare_cached(
                "UPDATE cursors SET offset = ?4, updated_at = ?5 \
                 WHERE consumer = ?1 AND channel = ?2 AND partition = ?3 AND offset = ?6",
            )
            .unwrap()
            .execute(params!["bench", "orders", 0, new, now, *current])
            .unwrap();
        assert_eq!(changed, 1, "stale");
        tx.commit().unwrap();
        *current = new;
    };
    for next in first + 1..=first + i64::try_from(n).unwrap() {
        since += 1;
        pending = Some(next);
        if since >= every {
            swap(&mut current, next);
            since = 0;
            pending = None;
        }
    }
    if let Some(next) = pending {
        swap(&mut current, next);
    }
    let elapsed = start.elapsed();
    assert_eq!(current, first + i64::try_from(n).unwrap());
    elapsed
}

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

/// Checkpoints per second through the library and through the raw loop,
/// per-message and per-batch, in rounds: each round times both, one right
/// after the other (which goes first alternates), and gives one ratio, so
/// the load of the moment falls on both sides of it. Prints the medians of
/// the times, and the median and quartiles of the rounds' ratios.
fn vs_raw() {
    let dir = tempfile::tempdir().unwrap();
    println!("\nlibrary vs a raw rusqlite loop ({ROUNDS} rounds)\n");
    println!(
        "| policy | messages | checkpoints | library (median) | raw rusqlite (median) | library / raw speed: median of rounds (quartiles) |"
    );
    println!("| --- | ---: | ---: | ---: | ---: | ---: |");
    for (policy, every, n) in [
        (CheckpointPolicy::PerMessage, 1, PER_MESSAGE_N),
        (CheckpointPolicy::PerBatch(BATCH), BATCH, PER_BATCH_N),
    ] {
        let path = seeded_store(dir.path());
        // One warm-up run each.
        library_run(&path, policy, n);
        raw_run(&path, every, n);
        let (mut library, mut raw, mut ratios) = (Vec::new(), Vec::new(), Vec::new());
        for round in 0..ROUNDS {
            let (l, r) = if round % 2 == 0 {
                let l = library_run(&path, policy, n);
                (l, raw_run(&path, every, n))
            } else {
                let r = raw_run(&path, every, n);
                (library_run(&path, policy, n), r)
            };
            library.push(l);
            raw.push(r);
            ratios.push(r.as_secs_f64() / l.as_secs_f64());
        }
        ratios.sort_by(f64::total_cmp);
        let (library, raw) = (median(library), median(raw));
        let checkpoints = n / every as u64;
        let per_second = |d: Duration| checkpoints as f64 / d.as_secs_f64();
        println!(
            "| {policy} | {n} | {checkpoints} | {:.0}/s ({:.2?}) | {:.0}/s ({:.2?}) | {:.2}x ({:.2}-{:.2}) |",
            per_second(library),
            library,
            per_second(raw),
            raw,
            ratios[ROUNDS / 2],
            ratios[ROUNDS / 4],
            ratios[ROUNDS * 3 / 4],
        );
    }
    println!();
}

criterion_group!(benches, checkpoints, driver);

fn main() {
    // `cargo bench --bench library -- FILTER`: the comparison runs when no
    // filter is given or the filter is `vs_raw`.
    let filter = std::env::args().skip(1).find(|a| !a.starts_with('-'));
    if filter.as_deref().is_none_or(|f| "vs_raw".contains(f)) {
        vs_raw();
    }
    if filter.as_deref() != Some("vs_raw") {
        benches();
        Criterion::default().configure_from_args().final_summary();
    }
}
