//! Library-level benchmarks: compare-and-swap checkpoints against the SQLite
//! store (all in one transaction, and one transaction each), and the
//! checkpoint driver's throughput.
//!
//! Run with `cargo bench --bench library`.

use std::hint::black_box;
use std::time::Duration;

use criterion::{criterion_group, criterion_main, BatchSize, Criterion, Throughput};
use cursorctl::store::sqlite::{Access, SqliteStore};
use cursorctl::{
    CheckpointDriver, CheckpointPolicy, ConsumerCursor, DurableStore, MemoryStore, StoreExt,
};

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

criterion_group!(benches, checkpoints, driver);
criterion_main!(benches);
