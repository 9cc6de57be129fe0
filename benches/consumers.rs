//! Consumers' checkpoints, two questions:
//!
//! - **async**: `AsyncConsumerCursor::checkpoint` on an `AsyncPostgresStore`
//!   against a plain `tokio-postgres` loop executing the same prepared
//!   guarded `UPDATE ... AND "offset" = expected` and checking that it
//!   changed one row; 1 and 8 clients (tasks on a multi-threaded runtime,
//!   each with its own connection and cursor);
//! - **threads**: 4 threads checkpointing their own cursors through one
//!   store shared behind `Arc<Mutex<_>>` against one store per thread, on
//!   SQLite and on PostgreSQL.
//!
//! Each round times the two sides one right after the other (which goes
//! first alternates) and gives one ratio. Prints Markdown tables:
//! checkpoints per second (medians) and the median ratio with its
//! quartiles.
//!
//! Needs a server for PostgreSQL: `CURSORCTL_BENCH_PG` (default
//! `postgres://postgres@127.0.0.1/test`); the store is the schema
//! `bench_consumers` of that database, created when missing.
//! `CURSORCTL_BENCH_QUICK=1` runs fewer rounds of fewer checkpoints.
//!
//! Run with `cargo bench --bench consumers --features async`.

use std::str::FromStr;
use std::sync::{Arc, Barrier, Mutex};
use std::time::{Duration, Instant};

use cursorctl::asynchronous::{AsyncConsumerCursor, AsyncPostgresStore};
use cursorctl::{store, Access, ConsumerCursor, DurableStore, SqliteStore, StoreLocation};

const SCHEMA: &str = "bench_consumers";
const TIMEOUT: Duration = Duration::from_secs(10);

/// The statement the store sends (src/store/postgres/write.rs).
const SWAP: &str = "UPDATE cursors SET \"offset\" = $4, \
     updated_at = (extract(epoch from now()) * 1000)::bigint \
     WHERE consumer = $1 AND channel = $2 AND partition = $3 AND \"offset\" = $5";

fn quick() -> bool {
    std::env::var_os("CURSORCTL_BENCH_QUICK").is_some_and(|v| v != "0")
}

fn server_url() -> String {
    let url = std::env::var("CURSORCTL_BENCH_PG")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1/test".to_owned());
    let sep = if url.contains('?') { '&' } else { '?' };
    format!("{url}{sep}sslmode=disable")
}

fn location(url: &str) -> StoreLocation {
    format!("{url}&schema={SCHEMA}")
        .parse()
        .expect("a PostgreSQL location")
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

fn quartiles(mut v: Vec<f64>) -> (f64, f64) {
    v.sort_by(f64::total_cmp);
    (v[v.len() / 4], v[(v.len() * 3) / 4])
}

/// Rounds of `a` and `b` (each returning its wall time for `total`
/// checkpoints), alternating which goes first: (a/s, b/s, ratios a/b of
/// speed).
fn rounds(
    rounds: usize,
    total: u64,
    mut a: impl FnMut() -> Duration,
    mut b: impl FnMut() -> Duration,
) -> (f64, f64, Vec<f64>) {
    let (mut speeds_a, mut speeds_b, mut ratios) = (Vec::new(), Vec::new(), Vec::new());
    for round in 0..rounds {
        let (ta, tb) = if round % 2 == 0 {
            let ta = a();
            (ta, b())
        } else {
            let tb = b();
            (a(), tb)
        };
        let (sa, sb) = (
            total as f64 / ta.as_secs_f64(),
            total as f64 / tb.as_secs_f64(),
        );
        speeds_a.push(sa);
        speeds_b.push(sb);
        ratios.push(sa / sb);
    }
    (median(speeds_a), median(speeds_b), ratios)
}

fn row(label: &str, a: f64, b: f64, ratios: Vec<f64>) {
    let (q1, q3) = quartiles(ratios.clone());
    println!(
        "| {label} | {a:.0} | {b:.0} | {:.2}x ({q1:.2}-{q3:.2}) |",
        median(ratios)
    );
}

// ---- async: the library against tokio-postgres ----

async fn async_library(location: &StoreLocation, clients: usize, n: u64) -> Duration {
    let mut stores = Vec::new();
    for _ in 0..clients {
        stores.push(Arc::new(
            AsyncPostgresStore::open(location, Access::ReadWrite, TIMEOUT)
                .await
                .expect("opening the store"),
        ));
    }
    let began = Instant::now();
    let tasks: Vec<_> = stores
        .into_iter()
        .enumerate()
        .map(|(id, store)| {
            tokio::spawn(async move {
                let (consumer, partition) = (format!("bench{id}"), "orders:0");
                let mut cursor = AsyncConsumerCursor::resume(consumer, partition, &*store)
                    .await
                    .unwrap();
                let first = cursor.current_offset();
                for next in first + 1..=first + n {
                    cursor.checkpoint(&*store, next).await.unwrap();
                }
            })
        })
        .collect();
    for task in tasks {
        task.await.unwrap();
    }
    began.elapsed()
}

async fn async_plain(url: &str, clients: usize, n: u64) -> Duration {
    let mut connections = Vec::new();
    for _ in 0..clients {
        let mut config = tokio_postgres::Config::from_str(url).expect("a PostgreSQL URL");
        config.options(format!("-c search_path={SCHEMA}"));
        let (client, connection) = config.connect(tokio_postgres::NoTls).await.unwrap();
        tokio::spawn(connection);
        connections.push(client);
    }
    let began = Instant::now();
    let tasks: Vec<_> = connections
        .into_iter()
        .enumerate()
        .map(|(id, client)| {
            tokio::spawn(async move {
                let (consumer, channel, partition) = (format!("bench{id}"), "orders", 0_i64);
                let first: i64 = client
                    .query_one(
                        "SELECT \"offset\" FROM cursors WHERE consumer = $1 AND channel = $2 AND partition = $3",
                        &[&consumer, &channel, &partition],
                    )
                    .await
                    .unwrap()
                    .get(0);
                let swap = client.prepare(SWAP).await.unwrap();
                for current in first..first + i64::try_from(n).unwrap() {
                    let new = current + 1;
                    let changed = client
                        .execute(&swap, &[&consumer, &channel, &partition, &new, &current])
                        .await
                        .unwrap();
                    assert_eq!(changed, 1, "stale");
                }
            })
        })
        .collect();
    for task in tasks {
        task.await.unwrap();
    }
    began.elapsed()
}

// ---- threads: one shared store against one store per thread ----

/// `threads` threads of `n` checkpoints each on their own cursors, each
/// through the store `open(thread)` gives; the wall time.
fn threaded<S: DurableStore + Send + 'static>(
    threads: usize,
    n: u64,
    open: impl Fn() -> S,
    shared: bool,
) -> Duration {
    let start = Arc::new(Barrier::new(threads + 1));
    let one = shared.then(|| Arc::new(Mutex::new(open())));
    let handles: Vec<_> = (0..threads)
        .map(|id| {
            let start = Arc::clone(&start);
            let store: Arc<Mutex<S>> = one.clone().unwrap_or_else(|| Arc::new(Mutex::new(open())));
            std::thread::spawn(move || {
                let store = &*store;
                let mut cursor =
                    ConsumerCursor::resume(format!("bench{id}"), "orders:0", store).unwrap();
                start.wait();
                let first = cursor.current_offset();
                for next in first + 1..=first + n {
                    // A busy store is retried, as a consumer does (SQLite's
                    // busy handler can starve a writer on a loaded machine).
                    loop {
                        match cursor.checkpoint(store, next) {
                            Ok(()) => break,
                            Err(e) if e.is_retryable() => {}
                            Err(e) => panic!("{e}"),
                        }
                    }
                }
            })
        })
        .collect();
    start.wait();
    let began = Instant::now();
    for handle in handles {
        handle.join().unwrap();
    }
    began.elapsed()
}

fn main() {
    let (n_rounds, n) = if quick() { (3, 300) } else { (9, 2_000) };
    let url = server_url();
    let location = location(&url);
    let pg = store::init(&location, TIMEOUT).is_ok();

    if pg {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .enable_all()
            .build()
            .unwrap();
        println!("\n### Async checkpoints: `AsyncPostgresStore` against plain `tokio-postgres`\n");
        println!("| clients | library checkpoints/s | plain checkpoints/s | library / plain (quartiles) |");
        println!("| --- | ---: | ---: | ---: |");
        for clients in [1, 8] {
            let (a, b, ratios) = rounds(
                n_rounds,
                n * clients as u64,
                || runtime.block_on(async_library(&location, clients, n)),
                || runtime.block_on(async_plain(&url, clients, n)),
            );
            row(&clients.to_string(), a, b, ratios);
        }
    } else {
        eprintln!("no PostgreSQL server at {url}: the PostgreSQL figures are skipped");
    }

    println!("\n### 4 threads: one store per thread against one shared `Arc<Mutex<_>>`\n");
    println!("| backend | per thread checkpoints/s | shared checkpoints/s | per thread / shared (quartiles) |");
    println!("| --- | ---: | ---: | ---: |");
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("cursors.db");
    SqliteStore::options().init(&path).unwrap();
    let open_sqlite = || {
        SqliteStore::options()
            .busy_timeout(TIMEOUT)
            .open(&path)
            .unwrap()
    };
    let (a, b, ratios) = rounds(
        n_rounds,
        4 * n,
        || threaded(4, n, open_sqlite, false),
        || threaded(4, n, open_sqlite, true),
    );
    row("SQLite", a, b, ratios);
    if pg {
        let open_pg =
            || cursorctl::PostgresStore::open(&location, Access::ReadWrite, TIMEOUT).unwrap();
        let (a, b, ratios) = rounds(
            n_rounds,
            4 * n,
            || threaded(4, n, open_pg, false),
            || threaded(4, n, open_pg, true),
        );
        row("PostgreSQL", a, b, ratios);
    }
}
