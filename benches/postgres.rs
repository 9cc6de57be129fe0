//! The library's checkpoints on PostgreSQL against a plain `postgres`-crate
//! loop sending the same statements, with 1 and 8 clients (threads, each
//! with its own connection and its own cursor):
//!
//! - compare-and-swap: `DurableStore::cas` on a `PostgresStore` (one guarded
//!   `UPDATE ... AND "offset" = expected`, its own transaction) against a
//!   loop executing the same prepared `UPDATE` and checking that it changed
//!   one row;
//! - recorded: `store.write(|txn| { txn.cas(..)?; txn.record_change(..) })`
//!   against a loop doing `BEGIN`, the guarded `UPDATE`, the audit `INSERT
//!   ... RETURNING id` and `COMMIT`.
//!
//! Each round times the library and the loop one right after the other
//! (which goes first alternates) and gives one ratio, so the load of the
//! moment falls on both sides of it. Prints a Markdown table: checkpoints
//! per second (medians) and library / plain speed (median of the rounds'
//! ratios, and their quartiles).
//!
//! Needs a server: `CURSORCTL_BENCH_PG` (default
//! `postgres://postgres@127.0.0.1/test`); the store is the schema
//! `bench_library` of that database, created when missing.
//! `CURSORCTL_BENCH_QUICK=1` runs fewer rounds of fewer checkpoints.
//!
//! Run with `cargo bench --bench postgres`.

use std::str::FromStr;
use std::sync::{Arc, Barrier};
use std::time::{Duration, Instant};

use cursorctl::store::postgres::PostgresStore;
use cursorctl::{
    Access, ChangeInput, CursorKey, DurabilityError, DurableStore, StoreExt, StoreLocation,
};
use postgres::{Client, Config, NoTls};

const SCHEMA: &str = "bench_library";
const TIMEOUT: Duration = Duration::from_secs(10);

/// The statements the store sends (src/store/postgres/write.rs).
const SWAP: &str = "UPDATE cursors SET \"offset\" = $4, \
     updated_at = (extract(epoch from now()) * 1000)::bigint \
     WHERE consumer = $1 AND channel = $2 AND partition = $3 AND \"offset\" = $5";
const RECORD: &str = "INSERT INTO history (at, consumer, channel, partition, old_offset, \
     new_offset, command, reason, \"user\", batch) \
     VALUES ((extract(epoch from now()) * 1000)::bigint, $1, $2, $3, $4, $5, $6, $7, $8, $9) \
     RETURNING id";

#[derive(Clone, Copy, PartialEq, Eq)]
enum Mode {
    /// One guarded compare-and-swap, no history row.
    Cas,
    /// Compare-and-swap and an audit row in one transaction.
    Recorded,
}

impl Mode {
    const fn name(self) -> &'static str {
        match self {
            Self::Cas => "compare-and-swap (`DurableStore::cas`)",
            Self::Recorded => "recorded checkpoint (`write`: `cas` + `record_change`)",
        }
    }
}

#[derive(Clone, Copy)]
enum Side {
    Library,
    Plain,
}

struct Server {
    /// The server's URL with `sslmode=disable`.
    url: String,
}

impl Server {
    fn with_param(url: &str, param: &str) -> String {
        let sep = if url.contains('?') { '&' } else { '?' };
        format!("{url}{sep}{param}")
    }

    fn location(&self) -> StoreLocation {
        Self::with_param(&self.url, &format!("schema={SCHEMA}"))
            .parse()
            .expect("a PostgreSQL location")
    }

    /// A plain client, its session set up as the store sets up a writer's
    /// (the schema on the search path; nothing else that a statement here
    /// depends on).
    fn plain_client(&self) -> Client {
        let mut config = Config::from_str(&self.url).expect("a PostgreSQL URL");
        config.options(&format!("-c search_path={SCHEMA}"));
        config.connect(NoTls).expect("connecting")
    }
}

fn key_of(client: usize) -> String {
    format!("bench{client}:orders:0")
}

/// One client's run of `n` checkpoints on its own connection and cursor,
/// after the start barrier.
fn client_run(server: &Server, side: Side, mode: Mode, id: usize, n: u64, start: &Barrier) {
    let key = key_of(id);
    let cursor_key: CursorKey = key.parse().expect("a cursor key");
    match side {
        Side::Library => {
            let store = PostgresStore::open(&server.location(), Access::ReadWrite, TIMEOUT)
                .expect("opening the store");
            let first = store.read_value(&key).unwrap().unwrap_or(0);
            start.wait();
            for current in first..first + n {
                match mode {
                    Mode::Cas => store.cas(&key, current, current + 1).unwrap(),
                    Mode::Recorded => store
                        .write(|txn| {
                            txn.cas(&key, current, current + 1)?;
                            txn.record_change(&ChangeInput {
                                key: &cursor_key,
                                old_offset: Some(current),
                                new_offset: Some(current + 1),
                                command: "checkpoint",
                                reason: None,
                                user: "bench",
                                batch: None,
                            })?;
                            Ok::<_, DurabilityError>(())
                        })
                        .unwrap(),
                }
            }
            assert_eq!(store.read_value(&key).unwrap(), Some(first + n));
        }
        Side::Plain => {
            let mut client = server.plain_client();
            let (consumer, channel, partition) = (format!("bench{id}"), "orders", 0_i64);
            let first: i64 = client
                .query_one(
                    "SELECT \"offset\" FROM cursors WHERE consumer = $1 AND channel = $2 AND partition = $3",
                    &[&consumer, &channel, &partition],
                )
                .unwrap()
                .get(0);
            start.wait();
            let swap = client.prepare(SWAP).unwrap();
            let record = client.prepare(RECORD).unwrap();
            let last = first + i64::try_from(n).unwrap();
            for current in first..last {
                let new = current + 1;
                match mode {
                    Mode::Cas => {
                        let changed = client
                            .execute(&swap, &[&consumer, &channel, &partition, &new, &current])
                            .unwrap();
                        assert_eq!(changed, 1, "stale");
                    }
                    Mode::Recorded => {
                        let mut txn = client.transaction().unwrap();
                        let changed = txn
                            .execute(&swap, &[&consumer, &channel, &partition, &new, &current])
                            .unwrap();
                        assert_eq!(changed, 1, "stale");
                        let _id: i64 = txn
                            .query_one(
                                &record,
                                &[
                                    &consumer,
                                    &channel,
                                    &partition,
                                    &Some(current),
                                    &Some(new),
                                    &"checkpoint",
                                    &None::<&str>,
                                    &"bench",
                                    &None::<i64>,
                                ],
                            )
                            .unwrap()
                            .get(0);
                        txn.commit().unwrap();
                    }
                }
            }
        }
    }
}

/// `clients` threads of `n` checkpoints each, started together; the wall
/// time from the start to the last one's end.
fn run(server: &Arc<Server>, side: Side, mode: Mode, clients: usize, n: u64) -> Duration {
    let start = Arc::new(Barrier::new(clients + 1));
    let threads: Vec<_> = (0..clients)
        .map(|client| {
            let (server, start) = (Arc::clone(server), Arc::clone(&start));
            std::thread::spawn(move || client_run(&server, side, mode, client, n, &start))
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
    // `cargo bench` passes `--bench`; nothing else is read from the
    // arguments.
    let url = std::env::var("CURSORCTL_BENCH_PG")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1/test".to_owned());
    let server = Arc::new(Server {
        url: Server::with_param(&url, "sslmode=disable"),
    });
    let quick = std::env::var_os("CURSORCTL_BENCH_QUICK").is_some_and(|v| v != "0");
    let rounds = if quick { 5 } else { 21 };
    let per_client = |clients: usize| -> u64 {
        let total = if quick { 200 } else { 1000 };
        (total / clients as u64).max(50)
    };

    let (store, _) = PostgresStore::init(&server.location(), TIMEOUT).expect("creating the store");
    for client in 0..8 {
        let key = key_of(client);
        if store.read_value(&key).unwrap().is_none() {
            store.cas(&key, 0, 0).unwrap();
        }
    }
    drop(store);

    println!(
        "| checkpoint | clients | checkpoints a run | library (median) | plain loop (median) | library / plain speed: median of {rounds} rounds (quartiles) |"
    );
    println!("| --- | ---: | ---: | ---: | ---: | ---: |");
    for mode in [Mode::Cas, Mode::Recorded] {
        for clients in [1, 8] {
            let n = per_client(clients);
            // One warm-up run each.
            run(&server, Side::Library, mode, clients, n);
            run(&server, Side::Plain, mode, clients, n);
            let (mut library, mut plain, mut ratios) = (Vec::new(), Vec::new(), Vec::new());
            for round in 0..rounds {
                let (l, p) = if round % 2 == 0 {
                    let l = run(&server, Side::Library, mode, clients, n);
                    (l, run(&server, Side::Plain, mode, clients, n))
                } else {
                    let p = run(&server, Side::Plain, mode, clients, n);
                    (run(&server, Side::Library, mode, clients, n), p)
                };
                let total = (n * clients as u64) as f64;
                library.push(total / l.as_secs_f64());
                plain.push(total / p.as_secs_f64());
                ratios.push(p.as_secs_f64() / l.as_secs_f64());
            }
            let (l, p, r) = (
                median(&mut library),
                median(&mut plain),
                median(&mut ratios),
            );
            println!(
                "| {} | {clients} | {} | {l:.0}/s | {p:.0}/s | {r:.2}x ({:.2}-{:.2}) |",
                mode.name(),
                n * clients as u64,
                ratios[rounds / 4],
                ratios[rounds * 3 / 4],
            );
        }
    }
}
