//! The library as a consumer meets it, against real SQLite stores: the
//! recovery loop of examples/consumer.rs with two instances on one cursor,
//! with operator moves made by the real binary, with a deleted cursor and a
//! busy store; and the threaded consumers of examples/threaded.rs.

use crate::common;

#[path = "../examples/consumer.rs"]
pub(crate) mod consumer;
#[path = "../examples/threaded.rs"]
mod threaded;

use std::collections::BTreeMap;
use std::time::Duration;

use common::Env;
use consumer::{Consumer, OnDeleted};
use cursorctl::{CheckpointPolicy, DurableStore, SqliteStore, StoreErrorKind};

const KEY: &str = "billing:orders:3";

fn policy(text: &str) -> CheckpointPolicy {
    text.parse().unwrap()
}

fn open(env: &Env) -> SqliteStore {
    SqliteStore::options().open(&env.db).unwrap()
}

/// How often each offset was processed.
#[derive(Default)]
struct Seen(BTreeMap<u64, u32>);

impl Seen {
    fn record(&mut self, offset: u64) {
        *self.0.entry(offset).or_default() += 1;
    }

    fn assert_every_message_once_or_more(&self, end: u64) {
        let missing: Vec<u64> = (0..end).filter(|o| !self.0.contains_key(o)).collect();
        assert!(missing.is_empty(), "never processed: {missing:?}");
    }

    fn total(&self) -> u64 {
        self.0.values().map(|&n| u64::from(n)).sum()
    }
}

/// `Consumer::run` with a bound on the steps, so a recovery that does not
/// make progress fails instead of hanging.
fn run(
    consumer: &mut Consumer,
    store: &dyn DurableStore,
    end: u64,
    seen: &mut Seen,
) -> Result<(), cursorctl::DurabilityError> {
    for _ in 0..20 * (end + 100) {
        if !consumer.step(store, end, &mut |o| seen.record(o))? {
            return Ok(());
        }
    }
    panic!(
        "the consumer makes no progress (at {})",
        consumer.position()
    );
}

#[test]
fn two_instances_on_one_cursor_recover_and_every_message_is_processed() {
    let env = Env::new();
    let (store_a, store_b) = (open(&env), open(&env));
    let end = 2_000;
    let mut a = Consumer::start(&store_a, "billing", "orders:3", policy("per-batch:7")).unwrap();
    let mut b = Consumer::start(&store_b, "billing", "orders:3", policy("per-batch:5")).unwrap();
    let mut seen = Seen::default();
    let mut stored = 0;
    let (mut a_more, mut b_more) = (true, true);
    // Interleaved in one thread, so the run is the same every time: A
    // takes three steps for every two of B's.
    let mut turn = 0_u64;
    while a_more || b_more {
        turn += 1;
        if a_more && turn % 5 < 3 {
            a_more = a.step(&store_a, end, &mut |o| seen.record(o)).unwrap();
        } else if b_more {
            b_more = b.step(&store_b, end, &mut |o| seen.record(o)).unwrap();
        }
        // Progress is kept: the cursor never moves backwards.
        let now = store_a.read_value(KEY).unwrap().unwrap_or(0);
        assert!(now >= stored, "the cursor went back from {stored} to {now}");
        stored = now;
        assert!(turn < 100_000, "the instances do not finish");
    }
    seen.assert_every_message_once_or_more(end);
    assert_eq!(store_a.read_value(KEY).unwrap(), Some(end));
    // Both instances saw the other move the cursor, and went on from it.
    assert!(a.stale > 0 && b.stale > 0, "a {}, b {}", a.stale, b.stale);
    // Each resync goes on from the store, not from 0: messages are processed
    // again only from the last checkpoint.
    assert!(seen.total() < 2 * end, "{} processed", seen.total());
}

/// Two threads, each with its own connection, on one cursor. Both start
/// from the store before either checkpoints (a barrier), so the threads
/// overlap for certain: whichever checkpoints second expects the cursor
/// where it was at the start and finds it moved, and must go on from the
/// store (stale). Without the barrier one thread could finish before the
/// other starts, and the test would prove nothing about sharing.
#[test]
fn two_instances_on_threads_end_with_every_message_processed() {
    let env = Env::new();
    let end = 3_000;
    let started = std::sync::Arc::new(std::sync::Barrier::new(2));
    let run = |policy_text: &'static str| {
        let db = env.db.clone();
        let started = std::sync::Arc::clone(&started);
        std::thread::spawn(move || {
            let store = SqliteStore::options().open(&db).unwrap();
            let mut seen = Seen::default();
            let mut consumer =
                Consumer::start(&store, "billing", "orders:3", policy(policy_text)).unwrap();
            assert_eq!(
                consumer.position(),
                0,
                "{policy_text}: the cursor moved before the start"
            );
            started.wait();
            run(&mut consumer, &store, end, &mut seen).unwrap();
            (seen, consumer.stale)
        })
    };
    let (a, b) = (run("per-message"), run("per-batch:10"));
    let ((a, a_stale), (b, b_stale)) = (a.join().unwrap(), b.join().unwrap());
    let mut seen = a;
    for (offset, n) in b.0 {
        *seen.0.entry(offset).or_default() += n;
    }
    seen.assert_every_message_once_or_more(end);
    assert_eq!(open(&env).read_value(KEY).unwrap(), Some(end));
    // The threads overlapped: at least one found the cursor moved by the
    // other and went on from the store.
    assert!(
        a_stale + b_stale > 0,
        "no stale checkpoint: the threads did not share the cursor (a {a_stale}, b {b_stale})"
    );
}

#[test]
fn an_operator_move_wins_forwards_and_backwards() {
    let env = Env::new();
    env.seed(&[("billing", "orders:3", 0)]);
    let store = open(&env);
    let end = 1_000;
    let mut consumer =
        Consumer::start(&store, "billing", "orders:3", policy("per-batch:10")).unwrap();
    let mut seen = Seen::default();
    while consumer.position() < 100 {
        assert_eq!(consumer.stale, 0);
        consumer.step(&store, end, &mut |o| seen.record(o)).unwrap();
    }
    // Skip past a poison message: the consumer goes on from 600.
    env.ok(&["advance", "billing", "orders:3", "--to", "600"]);
    for _ in 0..2_000 {
        if consumer.stale > 0 && consumer.position() >= 650 {
            break;
        }
        consumer.step(&store, end, &mut |o| seen.record(o)).unwrap();
    }
    assert_eq!(consumer.stale, 1);
    assert_eq!(seen.0.get(&600), Some(&1), "went on from 600");
    assert!(
        !seen.0.contains_key(&300),
        "the skipped messages are not processed"
    );
    // A rewind for a replay: the consumer goes back to 200.
    env.ok(&[
        "set",
        "billing",
        "orders:3",
        "200",
        "--allow-rewind",
        "--reason",
        "replay",
    ]);
    run(&mut consumer, &store, end, &mut seen).unwrap();
    assert_eq!(consumer.stale, 2);
    assert_eq!(seen.0.get(&250), Some(&1), "replayed from 200");
    assert_eq!(seen.0.get(&620), Some(&2), "processed, then replayed");
    assert_eq!(store.read_value(KEY).unwrap(), Some(end));
}

/// Run a consumer to 50, delete its cursor behind its back, run to 100.
fn deleted_midway(on_deleted: OnDeleted) -> (Env, Seen, Result<(), cursorctl::DurabilityError>) {
    let env = Env::new();
    let store = open(&env);
    let mut consumer = Consumer::start(&store, "billing", "orders:3", policy("per-batch:10"))
        .unwrap()
        .on_deleted(on_deleted);
    let mut seen = Seen::default();
    run(&mut consumer, &store, 50, &mut seen).unwrap();
    assert_eq!(store.read_value(KEY).unwrap(), Some(50));
    env.conn()
        .execute("DELETE FROM cursors WHERE consumer = 'billing'", [])
        .unwrap();
    let result = run(&mut consumer, &store, 100, &mut seen);
    (env, seen, result)
}

#[test]
fn a_deleted_cursor_is_the_consumers_choice_not_a_silent_restart() {
    // Recreate: the cursor comes back where the consumer is.
    let (env, seen, result) = deleted_midway(OnDeleted::Recreate);
    result.unwrap();
    assert_eq!(env.offset("billing", "orders:3"), Some(100));
    assert!(seen.0.values().all(|&n| n == 1), "nothing processed twice");

    // Start over: the partition is replayed from 0.
    let (env, seen, result) = deleted_midway(OnDeleted::StartOver);
    result.unwrap();
    assert_eq!(env.offset("billing", "orders:3"), Some(100));
    assert_eq!(seen.0.get(&0), Some(&2));

    // Stop: the stale error says the cursor is absent; nothing is written.
    let (env, _, result) = deleted_midway(OnDeleted::Stop);
    let err = result.unwrap_err();
    assert!(err.is_stale() && !err.is_retryable(), "{err}");
    assert_eq!(err.stale_actual(), Some(None));
    assert_eq!(env.offset("billing", "orders:3"), None);
}

#[test]
fn a_busy_store_is_retryable_and_the_pending_offset_is_written_later() {
    let env = Env::new();
    let store = SqliteStore::options()
        .busy_timeout(Duration::from_millis(1))
        .open(&env.db)
        .unwrap();
    let mut consumer =
        Consumer::start(&store, "billing", "orders:3", policy("per-message")).unwrap();
    let mut seen = Seen::default();
    consumer.step(&store, 10, &mut |o| seen.record(o)).unwrap();
    assert_eq!(store.read_value(KEY).unwrap(), Some(1));

    // Another writer holds the lock.
    let other = env.conn();
    other.execute_batch("BEGIN IMMEDIATE").unwrap();
    let err = store.cas(KEY, 1, 2).unwrap_err();
    assert!(err.is_busy() && err.is_retryable(), "{err}");
    assert_eq!(err.store_kind(), Some(StoreErrorKind::Busy));
    // The consumer goes on processing; its checkpoints wait.
    for _ in 0..3 {
        consumer.step(&store, 10, &mut |o| seen.record(o)).unwrap();
    }
    other.execute_batch("ROLLBACK").unwrap();
    assert_eq!(store.read_value(KEY).unwrap(), Some(1));
    run(&mut consumer, &store, 10, &mut seen).unwrap();
    assert_eq!(store.read_value(KEY).unwrap(), Some(10));
    assert_eq!(consumer.stale, 0);
    assert!(seen.0.values().all(|&n| n == 1));
}

#[test]
fn store_failures_are_classified_without_the_database_crate() {
    let env = Env::empty();
    let err = SqliteStore::options().open(&env.db).unwrap_err();
    assert_eq!(err.kind(), StoreErrorKind::Missing);
    std::fs::write(
        &env.db,
        "not a database, just text that is long enough to be a header",
    )
    .unwrap();
    let err = SqliteStore::options().open(&env.db).unwrap_err();
    assert_eq!(err.kind(), StoreErrorKind::NotACursorStore, "{err}");
    std::fs::remove_file(&env.db).unwrap();
    env.ok(&["init"]);
    let reader = SqliteStore::options()
        .access(cursorctl::Access::ReadOnly)
        .open(&env.db)
        .unwrap();
    let err = reader.cas(KEY, 0, 1).unwrap_err();
    assert_eq!(err.store_kind(), Some(StoreErrorKind::ReadOnly), "{err}");
    assert!(!err.is_retryable());
}

#[test]
fn threaded_consumers_one_store_per_thread_and_shared() {
    let env = Env::new();
    assert_eq!(threaded::store_per_thread(&env.db, 4, 300).unwrap(), 1_200);
    assert_eq!(threaded::shared_store(&env.db, 4, 300).unwrap(), 1_200);
    for index in 0..4 {
        assert_eq!(env.offset("billing", &format!("orders:{index}")), Some(300));
        assert_eq!(
            env.offset("billing", &format!("payments:{index}")),
            Some(300)
        );
    }
    // A second run finds everything done and processes nothing.
    assert_eq!(threaded::store_per_thread(&env.db, 4, 300).unwrap(), 0);
}

/// `ErrorKind::ALL`, which front ends walk to map every kind (the command
/// line to its exit codes), holds every kind once. The match has no
/// wildcard: a kind added to the enum does not compile here until it is
/// placed, and the test then fails until `ALL` lists it.
#[test]
fn every_operation_error_kind_is_in_all() {
    use cursorctl::ops::ErrorKind;
    const fn position(kind: ErrorKind) -> usize {
        match kind {
            ErrorKind::Usage => 0,
            ErrorKind::Stale => 1,
            ErrorKind::Regression => 2,
            ErrorKind::NotFound => 3,
            ErrorKind::Busy => 4,
            ErrorKind::Store => 5,
            ErrorKind::Interrupted(_) => 6,
            ErrorKind::Internal => 7,
        }
    }
    let mut listed: Vec<usize> = ErrorKind::ALL.iter().map(|&k| position(k)).collect();
    listed.sort_unstable();
    assert_eq!(listed, (0..8).collect::<Vec<_>>(), "{:?}", ErrorKind::ALL);
}
