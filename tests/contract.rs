//! The store contract: what every backend behind the store boundary must
//! do, written once and run against each backend (`backend_tests!` at the
//! bottom expands every case into one test per backend).

use std::collections::HashMap;
use std::sync::{Arc, Barrier};
use std::thread;
use std::time::Duration;

use cursorctl::key::{CursorKey, PartitionKey};
use cursorctl::store::{self, Access, InitOutcome, StoreLocation};
use cursorctl::{
    ChangeInput, ConsumerCursor, CursorFilter, DurabilityError, HistoryFilter, HistoryRow, Store,
    StoreError, StoreExt, StoreReadExt, WriteTxn,
};
use proptest::prelude::*;

use crate::common::{backend_tests, pg_admin, Backend as TestBackend, PgSchema};

const TIMEOUT: Duration = Duration::from_secs(10);

/// One fresh store of a backend, removed when dropped: a temporary folder,
/// or a PostgreSQL schema of its own.
struct Fixture {
    location: StoreLocation,
    _dir: Option<tempfile::TempDir>,
    schema: Option<PgSchema>,
}

impl TestBackend {
    /// A location where no store exists yet.
    fn vacant(self) -> Fixture {
        match self {
            Self::Sqlite => {
                let dir = tempfile::tempdir().expect("tempdir");
                Fixture {
                    location: StoreLocation::from(dir.path().join("cursors.db")),
                    _dir: Some(dir),
                    schema: None,
                }
            }
            Self::Postgres => {
                let schema = PgSchema::new("contract");
                Fixture {
                    location: schema.location(),
                    _dir: None,
                    schema: Some(schema),
                }
            }
        }
    }

    /// A new, initialised store.
    fn fresh(self) -> Fixture {
        let fixture = self.vacant();
        let (_, outcome) = store::init(&fixture.location, TIMEOUT).expect("init");
        assert_eq!(outcome, InitOutcome::Created);
        fixture
    }

    /// A location holding another application's data.
    fn foreign(self) -> Fixture {
        let fixture = self.vacant();
        match self {
            Self::Sqlite => {
                let conn = rusqlite::Connection::open(fixture.path()).unwrap();
                conn.execute_batch("CREATE TABLE invoices (id INTEGER PRIMARY KEY, total REAL)")
                    .unwrap();
            }
            Self::Postgres => {
                let schema = fixture.schema_name();
                pg_admin()
                    .batch_execute(&format!(
                        "CREATE SCHEMA {schema}; CREATE TABLE {schema}.invoices (id int PRIMARY KEY)"
                    ))
                    .unwrap();
            }
        }
        fixture
    }

    /// A store written by a newer version of the tool.
    fn newer(self) -> Fixture {
        let fixture = self.fresh();
        match self {
            Self::Sqlite => {
                let conn = rusqlite::Connection::open(fixture.path()).unwrap();
                conn.pragma_update(None, "user_version", 99).unwrap();
            }
            Self::Postgres => {
                let schema = fixture.schema_name();
                pg_admin()
                    .batch_execute(&format!(
                        "UPDATE {schema}.meta SET value = '99' WHERE key = 'schema_version'"
                    ))
                    .unwrap();
            }
        }
        fixture
    }
}

impl Fixture {
    fn schema_name(&self) -> &str {
        &self.schema.as_ref().expect("a PostgreSQL store").name
    }

    fn path(&self) -> &std::path::Path {
        self.location.path().expect("a file store")
    }

    fn open(&self) -> Box<dyn Store> {
        store::open(&self.location, Access::ReadWrite, TIMEOUT).expect("open")
    }

    fn open_read(&self) -> Box<dyn Store> {
        store::open(&self.location, Access::ReadOnly, TIMEOUT).expect("open read-only")
    }

    /// Set an offset the way another program would: a plain UPDATE of the
    /// offset alone, outside the library.
    fn plain_update(&self, key: &CursorKey, offset: i64) {
        let pk = key.partition_key();
        match self.location.path() {
            Some(_) => {
                let conn = rusqlite::Connection::open(self.path()).unwrap();
                let n = conn
                    .execute(
                        "UPDATE cursors SET offset = ?4 \
                         WHERE consumer = ?1 AND channel = ?2 AND partition = ?3",
                        rusqlite::params![
                            key.consumer().as_str(),
                            pk.channel().as_str(),
                            pk.index(),
                            offset
                        ],
                    )
                    .unwrap();
                assert_eq!(n, 1);
            }
            None => {
                let schema = self.schema_name();
                let (consumer, channel) = (key.consumer().as_str(), pk.channel().as_str());
                let partition = i64::from(pk.index());
                let n = pg_admin()
                    .execute(
                        &format!(
                            "UPDATE {schema}.cursors SET \"offset\" = $4 \
                             WHERE consumer = $1 AND channel = $2 AND partition = $3"
                        ),
                        &[&consumer, &channel, &partition, &offset],
                    )
                    .unwrap();
                assert_eq!(n, 1);
            }
        }
    }
}

fn key(text: &str) -> CursorKey {
    CursorKey::parse(text).unwrap()
}

fn record(
    txn: &dyn WriteTxn,
    key: &CursorKey,
    old: Option<u64>,
    new: Option<u64>,
    batch: Option<i64>,
) -> i64 {
    txn.record_change(&ChangeInput {
        key,
        old_offset: old,
        new_offset: new,
        command: "test",
        reason: None,
        user: "tester",
        batch,
    })
    .unwrap()
}

fn history_ids(store: &dyn Store, filter: &HistoryFilter) -> Vec<i64> {
    let mut ids = Vec::new();
    store
        .for_each_change(filter, |row| -> Result<(), StoreError> {
            ids.push(row.id);
            Ok(())
        })
        .unwrap();
    ids
}

fn listed_keys(store: &dyn Store, filter: &CursorFilter) -> Vec<String> {
    let mut keys = Vec::new();
    store
        .for_each_cursor(filter, |row| -> Result<(), StoreError> {
            keys.push(row?.key());
            Ok(())
        })
        .unwrap();
    keys
}

// ---------------------------------------------------------------- cases

/// A model of the store: a map of key to offset. Random compare-and-swaps
/// (right and wrong expectations, creations, no-ops) and guarded removals
/// through the store give exactly the model's outcomes and values. A
/// backwards move or a removal records its change in its transaction, as
/// the store's rules ask (PostgreSQL refuses one without).
fn matches_the_model(backend: TestBackend) {
    #[derive(Clone, Debug)]
    enum Op {
        Cas(usize, u64, u64),
        Remove(usize, u64),
    }
    const KEYS: [&str; 3] = ["c:ch:0", "c:ch:1", "d:ch:0"];
    let fixture = backend.fresh();
    let config = ProptestConfig {
        cases: 24,
        ..ProptestConfig::default()
    };
    let op = prop_oneof![
        4 => (0..KEYS.len(), 0..4u64, 0..4u64).prop_map(|(k, e, n)| Op::Cas(k, e, n)),
        1 => (0..KEYS.len(), 0..4u64).prop_map(|(k, e)| Op::Remove(k, e)),
    ];
    proptest!(config, |(ops in prop::collection::vec(op, 1..30))| {
        let store = fixture.open();
        store.write(|txn| -> Result<(), StoreError> {
            for k in KEYS {
                let current = txn.read_value(k).unwrap();
                if let Some(v) = current {
                    txn.remove_if(&key(k), v).unwrap();
                    record(txn, &key(k), Some(v), None, None);
                }
            }
            Ok(())
        }).unwrap();
        let mut model: HashMap<&str, u64> = HashMap::new();
        for op in &ops {
            match *op {
                Op::Cas(k, expected, new) => {
                    let found = model.get(KEYS[k]).copied();
                    let got = store.write(|txn| {
                        txn.cas(KEYS[k], expected, new)?;
                        if new < expected {
                            record(txn, &key(KEYS[k]), Some(expected), Some(new), None);
                        }
                        Ok::<_, DurabilityError>(())
                    });
                    if found.unwrap_or(0) == expected {
                        prop_assert!(got.is_ok(), "{:?}: {:?}", op, got);
                        model.insert(KEYS[k], new);
                    } else {
                        let stale = matches!(got, Err(DurabilityError::StaleCheckpoint { actual, .. }) if actual == found);
                        prop_assert!(stale, "{:?}: {:?}", op, got);
                    }
                }
                Op::Remove(k, expected) => {
                    let found = model.get(KEYS[k]).copied();
                    let got = store.write(|txn| {
                        txn.remove_if(&key(KEYS[k]), expected)?;
                        record(txn, &key(KEYS[k]), Some(expected), None, None);
                        Ok::<_, DurabilityError>(())
                    });
                    if found == Some(expected) {
                        prop_assert!(got.is_ok(), "{:?}: {:?}", op, got);
                        model.remove(KEYS[k]);
                    } else {
                        let stale = matches!(got, Err(DurabilityError::StaleCheckpoint { actual, .. }) if actual == found);
                        prop_assert!(stale, "{:?}: {:?}", op, got);
                    }
                }
            }
            for k in KEYS {
                prop_assert_eq!(store.read_value(k).unwrap(), model.get(k).copied(), "{}", k);
            }
        }
    });
}

/// A write transaction that is dropped without committing leaves no
/// cursor, history row or batch behind; a committed one keeps all three.
fn write_transaction_is_all_or_nothing(backend: TestBackend) {
    let fixture = backend.fresh();
    let store = fixture.open();
    let k = key("billing:orders:3");
    let failed: Result<(), DurabilityError> = store.write(|txn| {
        let batch = txn.new_batch("test", None, "tester")?;
        txn.cas(&k.to_string(), 0, 7)?;
        record(txn, &k, None, Some(7), Some(batch));
        Err(DurabilityError::ConfigError("stop before commit".into()))
    });
    assert!(failed.is_err());
    assert_eq!(store.read_value("billing:orders:3").unwrap(), None);
    assert!(history_ids(&*store, &HistoryFilter::default()).is_empty());
    let batch = store
        .write(|txn| -> Result<i64, DurabilityError> {
            let batch = txn.new_batch("test", None, "tester")?;
            txn.cas(&k.to_string(), 0, 7)?;
            record(txn, &k, None, Some(7), Some(batch));
            Ok(batch)
        })
        .unwrap();
    assert_eq!(store.read_value("billing:orders:3").unwrap(), Some(7));
    let in_batch = HistoryFilter {
        batch: Some(batch),
        ..HistoryFilter::default()
    };
    assert_eq!(history_ids(&*store, &in_batch).len(), 1);
    let ids = store.write(|txn| txn.batch_change_ids(batch)).unwrap();
    assert_eq!(ids, history_ids(&*store, &in_batch));
}

/// Many guarded changes in one call (a bulk write's chunk): applied in
/// order with one history row each; the positions whose cursor held
/// something else (or nothing) are returned, and a transaction that is not
/// committed after them leaves the store as it was.
fn many_changes_at_once_are_guarded_and_recorded_in_order(backend: TestBackend) {
    let fixture = backend.fresh();
    let store = fixture.open();
    let keys: Vec<CursorKey> = (0..30)
        .map(|p| key(&format!("billing:orders:{p}")))
        .collect();
    let absent = key("billing:orders:99");
    store
        .write(|txn| -> Result<(), DurabilityError> {
            for k in &keys {
                txn.cas(&k.to_string(), 0, 10)?;
            }
            Ok(())
        })
        .unwrap();
    let moves = |batch: i64, stale: &[usize]| -> Vec<ChangeInput<'_>> {
        (0..30)
            .map(|p| ChangeInput {
                key: if p == 25 && !stale.is_empty() {
                    &absent
                } else {
                    &keys[p]
                },
                old_offset: Some(if stale.contains(&p) { 9 } else { 10 }),
                new_offset: Some(20 + p as u64),
                command: "test",
                reason: Some("replay"),
                user: "tester",
                batch: Some(batch),
            })
            .collect()
    };
    let before = listed_keys(&*store, &CursorFilter::default());
    let found: Result<(), DurabilityError> = store.write_once(|txn| {
        let batch = txn.new_batch("test", None, "tester")?;
        let stale = txn.apply_changes(&moves(batch, &[3, 17]))?;
        assert_eq!(stale, [3, 17, 25]);
        Err(DurabilityError::ConfigError("not committed".into()))
    });
    assert!(found.is_err());
    assert_eq!(listed_keys(&*store, &CursorFilter::default()), before);
    for k in &keys {
        assert_eq!(store.read_value(&k.to_string()).unwrap(), Some(10), "{k}");
    }
    assert!(history_ids(&*store, &HistoryFilter::default()).is_empty());

    // A cursor twice in one call: both changes expect what it holds, so
    // one of them finds it moved by the other.
    let found: Result<(), DurabilityError> = store.write_once(|txn| {
        let batch = txn.new_batch("test", None, "tester")?;
        let mut changes = moves(batch, &[]);
        changes[9].key = &keys[5];
        let stale = txn.apply_changes(&changes)?;
        assert!(stale == [5] || stale == [9], "{stale:?}");
        Err(DurabilityError::ConfigError("not committed".into()))
    });
    assert!(found.is_err());

    let batch = store
        .write_once(|txn| -> Result<i64, DurabilityError> {
            let batch = txn.new_batch("test", None, "tester")?;
            assert!(txn.apply_changes(&moves(batch, &[]))?.is_empty());
            Ok(batch)
        })
        .unwrap();
    for (p, k) in keys.iter().enumerate() {
        assert_eq!(
            store.read_value(&k.to_string()).unwrap(),
            Some(20 + p as u64)
        );
    }
    let mut rows = Vec::new();
    let in_batch = HistoryFilter {
        batch: Some(batch),
        ..HistoryFilter::default()
    };
    store
        .for_each_change(&in_batch, |row| -> Result<(), StoreError> {
            rows.push(row.clone());
            Ok(())
        })
        .unwrap();
    rows.sort_by_key(|r| r.id);
    let recorded: Vec<(u32, Option<u64>, Option<u64>)> = rows
        .iter()
        .map(|r| (r.partition, r.old_offset, r.new_offset))
        .collect();
    let wanted: Vec<_> = (0..30u32)
        .map(|p| (p, Some(10), Some(20 + u64::from(p))))
        .collect();
    assert_eq!(recorded, wanted, "one row per change, in order");
    assert!(rows.iter().all(|r| r.command == "test"
        && r.reason.as_deref() == Some("replay")
        && r.user == "tester"));

    // A creation among moves, and moves of more than one batch.
    store
        .write_once(|txn| -> Result<(), DurabilityError> {
            let batch = txn.new_batch("test", None, "tester")?;
            let mut changes = moves(batch, &[]);
            for (p, c) in changes.iter_mut().enumerate() {
                c.old_offset = Some(20 + p as u64);
                c.new_offset = Some(40 + p as u64);
                if p % 2 == 1 {
                    c.batch = None;
                }
            }
            changes.push(ChangeInput {
                key: &absent,
                old_offset: None,
                new_offset: Some(1),
                ..changes[0]
            });
            assert!(txn.apply_changes(&changes)?.is_empty());
            Ok(())
        })
        .unwrap();
    assert_eq!(store.read_value("billing:orders:29").unwrap(), Some(69));
    assert_eq!(store.read_value("billing:orders:99").unwrap(), Some(1));
    assert_eq!(history_ids(&*store, &HistoryFilter::default()).len(), 61);
}

/// Two connections race one compare-and-swap from the same expected value:
/// exactly one wins, the other is stale (or busy) and writes nothing.
fn racing_compare_and_swap_has_one_winner(backend: TestBackend) {
    let fixture = Arc::new(backend.fresh());
    fixture.open().cas("billing:orders:3", 0, 10).unwrap();
    for round in 0..5u64 {
        let from = 10 + round * 10;
        let barrier = Arc::new(Barrier::new(2));
        let handles: Vec<_> = (1..=2u64)
            .map(|n| {
                let fixture = Arc::clone(&fixture);
                let barrier = Arc::clone(&barrier);
                thread::spawn(move || {
                    let store = fixture.open();
                    barrier.wait();
                    store.cas("billing:orders:3", from, from + n)
                })
            })
            .collect();
        let results: Vec<_> = handles.into_iter().map(|h| h.join().unwrap()).collect();
        let wins = results.iter().filter(|r| r.is_ok()).count();
        assert_eq!(wins, 1, "round {round}: {results:?}");
        for r in &results {
            if let Err(e) = r {
                let lost = matches!(e, DurabilityError::StaleCheckpoint { .. })
                    || matches!(e, DurabilityError::Store(s) if s.is_busy());
                assert!(lost, "round {round}: {e}");
            }
        }
        let now = fixture
            .open()
            .read_value("billing:orders:3")
            .unwrap()
            .unwrap();
        assert!(now == from + 1 || now == from + 2, "round {round}: {now}");
        // The next round starts from a round number.
        fixture
            .open()
            .cas("billing:orders:3", now, from + 10)
            .unwrap();
    }
}

/// Writers that read a cursor inside their write transaction and then move
/// it on by one lose no update: the final offset is the number of
/// successful transactions.
fn read_then_write_in_a_transaction_loses_no_update(backend: TestBackend) {
    const WRITERS: usize = 4;
    const EACH: u64 = 25;
    let fixture = Arc::new(backend.fresh());
    let barrier = Arc::new(Barrier::new(WRITERS));
    let handles: Vec<_> = (0..WRITERS)
        .map(|_| {
            let fixture = Arc::clone(&fixture);
            let barrier = Arc::clone(&barrier);
            thread::spawn(move || {
                let store = fixture.open();
                barrier.wait();
                let mut done = 0;
                while done < EACH {
                    let result = store.write(|txn| -> Result<(), DurabilityError> {
                        let k = key("billing:orders:3");
                        let mut cursor = ConsumerCursor::resume("billing", "orders:3", txn)?;
                        let next = cursor.current_offset() + 1;
                        let old = cursor.current_offset();
                        cursor.checkpoint(txn, next)?;
                        record(txn, &k, Some(old), Some(next), None);
                        Ok(())
                    });
                    match result {
                        Ok(()) => done += 1,
                        Err(DurabilityError::StaleCheckpoint { .. }) => {}
                        Err(DurabilityError::Store(e)) if e.is_busy() => {}
                        Err(e) => panic!("{e}"),
                    }
                }
            })
        })
        .collect();
    for h in handles {
        h.join().unwrap();
    }
    let store = fixture.open();
    let total = WRITERS as u64 * EACH;
    assert_eq!(store.read_value("billing:orders:3").unwrap(), Some(total));
    let mut previous = 0;
    store
        .for_each_change(&HistoryFilter::default(), |row| -> Result<(), StoreError> {
            assert_eq!(row.old_offset, Some(previous), "change {}", row.id);
            previous = row.new_offset.unwrap();
            Ok(())
        })
        .unwrap();
    assert_eq!(previous, total);
}

/// Two connections race to remove the same cursor: exactly one removes it,
/// the other is told it is gone.
fn racing_removals_have_one_winner(backend: TestBackend) {
    let fixture = Arc::new(backend.fresh());
    for round in 0..5u64 {
        fixture
            .open()
            .cas("billing:orders:3", 0, 40 + round)
            .unwrap();
        let barrier = Arc::new(Barrier::new(2));
        let handles: Vec<_> = (0..2)
            .map(|_| {
                let fixture = Arc::clone(&fixture);
                let barrier = Arc::clone(&barrier);
                thread::spawn(move || {
                    let store = fixture.open();
                    barrier.wait();
                    loop {
                        let r = store.write(|txn| {
                            txn.remove_if(&key("billing:orders:3"), 40 + round)?;
                            record(txn, &key("billing:orders:3"), Some(40 + round), None, None);
                            Ok::<_, DurabilityError>(())
                        });
                        match r {
                            Err(DurabilityError::Store(ref e)) if e.is_busy() => continue,
                            other => return other,
                        }
                    }
                })
            })
            .collect();
        let results: Vec<_> = handles.into_iter().map(|h| h.join().unwrap()).collect();
        assert_eq!(
            results.iter().filter(|r| r.is_ok()).count(),
            1,
            "{results:?}"
        );
        assert!(results.iter().any(|r| matches!(
            r,
            Err(DurabilityError::StaleCheckpoint { actual: None, .. })
        )));
        assert_eq!(fixture.open().read_value("billing:orders:3").unwrap(), None);
    }
    // A removal expecting the wrong offset removes nothing.
    let store = fixture.open();
    store.cas("billing:orders:3", 0, 5).unwrap();
    let wrong = store.write(|txn| txn.remove_if(&key("billing:orders:3"), 4));
    assert!(matches!(
        wrong,
        Err(DurabilityError::StaleCheckpoint {
            actual: Some(5),
            ..
        })
    ));
    assert_eq!(store.read_value("billing:orders:3").unwrap(), Some(5));
}

/// Reads inside a snapshot all see the state of its first read: a commit
/// by another connection meanwhile shows only after the snapshot ends.
fn snapshot_hides_a_concurrent_commit(backend: TestBackend) {
    let fixture = backend.fresh();
    let writer = fixture.open();
    writer.cas("billing:orders:3", 0, 1).unwrap();
    let reader = fixture.open_read();
    let seen = reader
        .read(|store| -> Result<(u64, u64, usize), DurabilityError> {
            let before = store.read_value("billing:orders:3")?.unwrap();
            writer.cas("billing:orders:3", 1, 2)?;
            writer.cas("billing:orders:4", 0, 9)?;
            let after = store.read_value("billing:orders:3")?.unwrap();
            let listed = listed_keys(store, &CursorFilter::default()).len();
            Ok((before, after, listed))
        })
        .unwrap();
    assert_eq!(seen, (1, 1, 1));
    assert_eq!(reader.read_value("billing:orders:3").unwrap(), Some(2));
    assert_eq!(listed_keys(&*reader, &CursorFilter::default()).len(), 2);
}

/// Listings come in key order, partitions by number, and every filter
/// selects what it says.
fn listing_order_and_filters(backend: TestBackend) {
    let fixture = backend.fresh();
    let store = fixture.open();
    for k in [
        "billing:orders:10",
        "billing:orders:2",
        "billing:audit:0",
        "alerts:orders:1",
        "billing:orders:4294967295",
    ] {
        store.cas(k, 0, 5).unwrap();
    }
    let all = listed_keys(&*store, &CursorFilter::default());
    assert_eq!(
        all,
        [
            "alerts:orders:1",
            "billing:audit:0",
            "billing:orders:2",
            "billing:orders:10",
            "billing:orders:4294967295"
        ]
    );
    let billing = CursorFilter {
        consumer: Some("billing".into()),
        ..CursorFilter::default()
    };
    assert_eq!(listed_keys(&*store, &billing).len(), 4);
    let orders = CursorFilter {
        channel: Some("orders".into()),
        ..CursorFilter::default()
    };
    assert_eq!(listed_keys(&*store, &orders).len(), 4);
    let both = CursorFilter {
        consumer: Some("billing".into()),
        channel: Some("audit".into()),
        ..CursorFilter::default()
    };
    assert_eq!(listed_keys(&*store, &both), ["billing:audit:0"]);
    let now = store.clock_ms().unwrap();
    let idle = CursorFilter {
        updated_before: Some(now - 60_000),
        ..CursorFilter::default()
    };
    assert!(listed_keys(&*store, &idle).is_empty());
    let recent = CursorFilter {
        updated_before: Some(now + 60_000),
        ..CursorFilter::default()
    };
    assert_eq!(listed_keys(&*store, &recent).len(), 5);
    // A visitor can stop early.
    let mut seen = 0;
    let stopped: Result<(), StoreError> = store.for_each_cursor(&CursorFilter::default(), |_| {
        seen += 1;
        if seen == 2 {
            Err(StoreError::Busy)
        } else {
            Ok(())
        }
    });
    assert!(stopped.is_err());
    assert_eq!(seen, 2);
}

/// History filters: limit keeps the newest (returned oldest first), since
/// and batch select, and a partition filter needs its consumer.
fn history_filters(backend: TestBackend) {
    let fixture = backend.fresh();
    let store = fixture.open();
    let a = key("billing:orders:3");
    let b = key("billing:orders:4");
    let c = key("alerts:orders:3");
    let (first_batch, ids) = store
        .write(|txn| -> Result<(i64, Vec<i64>), StoreError> {
            let batch = txn.new_batch("test", Some("why"), "tester")?;
            let ids = vec![
                record(txn, &a, None, Some(1), Some(batch)),
                record(txn, &b, None, Some(2), Some(batch)),
                record(txn, &c, None, Some(3), None),
                record(txn, &a, Some(1), Some(4), None),
            ];
            Ok((batch, ids))
        })
        .unwrap();
    assert!(ids.windows(2).all(|w| w[0] < w[1]), "ids grow: {ids:?}");
    assert_eq!(history_ids(&*store, &HistoryFilter::default()), ids);
    let limit = HistoryFilter {
        limit: Some(2),
        ..HistoryFilter::default()
    };
    assert_eq!(history_ids(&*store, &limit), ids[2..]);
    let batch = HistoryFilter {
        batch: Some(first_batch),
        ..HistoryFilter::default()
    };
    assert_eq!(history_ids(&*store, &batch), ids[..2]);
    let consumer = HistoryFilter {
        consumer: Some("billing".into()),
        ..HistoryFilter::default()
    };
    assert_eq!(history_ids(&*store, &consumer), [ids[0], ids[1], ids[3]]);
    let partition = HistoryFilter {
        consumer: Some("billing".into()),
        partition_key: Some(PartitionKey::parse("orders:3").unwrap()),
        ..HistoryFilter::default()
    };
    assert_eq!(history_ids(&*store, &partition), [ids[0], ids[3]]);
    let change = store.change(ids[3]).unwrap().unwrap();
    assert_eq!(change.key(), "billing:orders:3");
    assert_eq!((change.old_offset, change.new_offset), (Some(1), Some(4)));
    let now = store.clock_ms().unwrap();
    assert!(
        (change.at - now).abs() < 60_000,
        "at {} now {now}",
        change.at
    );
    let future = HistoryFilter {
        since: Some(now + 60_000),
        ..HistoryFilter::default()
    };
    assert!(history_ids(&*store, &future).is_empty());
    let past = HistoryFilter {
        since: Some(now - 60_000),
        ..HistoryFilter::default()
    };
    assert_eq!(history_ids(&*store, &past).len(), 4);
    assert!(store.change(ids[3] + 100).unwrap().is_none());
}

/// `init` creates once and then confirms; a missing, foreign or newer
/// store is refused by `open` (and by `init`, for foreign and newer).
fn init_and_open_refusals(backend: TestBackend) {
    let vacant = backend.vacant();
    assert!(matches!(
        store::open(&vacant.location, Access::ReadOnly, TIMEOUT),
        Err(StoreError::Missing { .. })
    ));
    let fixture = backend.fresh();
    let (again, outcome) = store::init(&fixture.location, TIMEOUT).unwrap();
    assert_eq!(outcome, InitOutcome::AlreadyInitialised);
    let newest = fixture.location.backend().schema_version();
    assert_eq!(again.schema_version().unwrap(), newest);
    let foreign = backend.foreign();
    for result in [
        store::open(&foreign.location, Access::ReadOnly, TIMEOUT).map(drop),
        store::init(&foreign.location, TIMEOUT).map(drop),
    ] {
        assert!(
            matches!(result, Err(StoreError::NotACursorStore { .. })),
            "{result:?}"
        );
    }
    let newer = backend.newer();
    for result in [
        store::open(&newer.location, Access::ReadWrite, TIMEOUT).map(drop),
        store::init(&newer.location, TIMEOUT).map(drop),
    ] {
        assert!(
            matches!(result, Err(StoreError::NewerSchema { found: 99, .. })),
            "{result:?}"
        );
    }
}

/// `updated_at` moves with every write: the library's compare-and-swap
/// and a plain UPDATE by another program alike.
fn updated_at_follows_every_write(backend: TestBackend) {
    let fixture = backend.fresh();
    let store = fixture.open();
    let k = key("billing:orders:3");
    store.cas("billing:orders:3", 0, 1).unwrap();
    let updated = |store: &dyn Store| store.cursor(&k).unwrap().unwrap().updated_at.unwrap();
    let created = updated(&*store);
    let now = store.clock_ms().unwrap();
    assert!((created - now).abs() < 60_000, "{created} vs {now}");
    thread::sleep(Duration::from_millis(20));
    store.cas("billing:orders:3", 1, 2).unwrap();
    let moved = updated(&*store);
    assert!(moved > created, "{moved} after {created}");
    thread::sleep(Duration::from_millis(20));
    fixture.plain_update(&k, 3);
    let touched = updated(&*store);
    assert!(touched > moved, "{touched} after {moved}");
    assert_eq!(store.read_value("billing:orders:3").unwrap(), Some(3));
}

/// A read-only store reads but refuses every write, and the refusal is
/// classified without the backend's error type.
fn read_only_store_refuses_writes(backend: TestBackend) {
    let fixture = backend.fresh();
    fixture.open().cas("billing:orders:3", 0, 1).unwrap();
    let store = fixture.open_read();
    assert_eq!(store.read_value("billing:orders:3").unwrap(), Some(1));
    let refused = store.cas("billing:orders:3", 1, 2);
    match refused {
        Err(DurabilityError::Store(e)) => {
            assert_eq!(e.kind(), cursorctl::StoreErrorKind::ReadOnly, "{e}");
        }
        other => panic!("expected a read-only refusal, got {other:?}"),
    }
    assert_eq!(
        fixture.open().read_value("billing:orders:3").unwrap(),
        Some(1)
    );
}

/// Pruning the history never takes half a batch, and takes a batch with
/// its last change (rows copied in with their times, so the times are
/// known).
fn history_prune_keeps_batches_whole(backend: TestBackend) {
    use cursorctl::store::{BatchRow, CopiedRow};
    let fixture = backend.fresh();
    let store = fixture.open();
    let change = |id: i64, at: i64, batch: Option<i64>| HistoryRow {
        id,
        at,
        consumer: "billing".into(),
        channel: "orders".into(),
        partition: 3,
        old_offset: None,
        new_offset: Some(1),
        command: "test".into(),
        reason: None,
        user: "tester".into(),
        batch,
        role: None,
    };
    store
        .write(|txn| -> Result<(), StoreError> {
            txn.copy_in(CopiedRow::Batch(&BatchRow {
                id: 1,
                at: 1000,
                command: "test".into(),
                reason: None,
                user: "tester".into(),
            }))?;
            txn.copy_in(CopiedRow::Change(&change(1, 1000, None)))?;
            txn.copy_in(CopiedRow::Change(&change(2, 1000, Some(1))))?;
            txn.copy_in(CopiedRow::Change(&change(3, 5000, Some(1))))?;
            txn.finish_copy(cursorctl::store::HighestIds::default())
        })
        .unwrap();
    assert_eq!(store.prunable_history(3000).unwrap(), (1, 0));
    let pruned = store.write(|txn| txn.prune_history(3000)).unwrap();
    assert_eq!(pruned, (1, 0));
    assert_eq!(history_ids(&*store, &HistoryFilter::default()), [2, 3]);
    assert_eq!(store.prunable_history(6000).unwrap(), (2, 1));
    let pruned = store.write(|txn| txn.prune_history(6000)).unwrap();
    assert_eq!(pruned, (2, 1));
    assert!(history_ids(&*store, &HistoryFilter::default()).is_empty());
    let mut batches = 0;
    store
        .visit_batches(&mut |_| {
            batches += 1;
            std::ops::ControlFlow::Continue(())
        })
        .unwrap();
    assert_eq!(batches, 0);
}

/// Snapshots keep the offsets of a consumer's cursors (or of all), and a
/// version 1 store is upgraded by `init` in place, its data kept.
fn snapshots_and_the_upgrade_from_version_1(backend: TestBackend) {
    let fixture = backend.fresh();
    let store = fixture.open();
    store.cas("billing:orders:1", 0, 5).unwrap();
    store.cas("billing:orders:2", 0, 6).unwrap();
    store.cas("alerts:orders:1", 0, 7).unwrap();
    let saved = store
        .write(|txn| txn.save_snapshot("before", Some("billing"), Some("why"), "tester"))
        .unwrap();
    assert_eq!(saved, 2);
    let taken = store.write(|txn| txn.save_snapshot("before", None, None, "tester"));
    assert!(taken.is_err(), "a name is taken once");
    store.cas("billing:orders:1", 5, 9).unwrap();
    let info = store.snapshot_info("before").unwrap().unwrap();
    assert_eq!(
        (info.cursors, info.consumer.as_deref()),
        (2, Some("billing"))
    );
    let mut kept = Vec::new();
    store
        .visit_snapshot_cursors("before", &mut |row| {
            kept.push((row.key(), row.offset));
            std::ops::ControlFlow::Continue(())
        })
        .unwrap();
    assert_eq!(
        kept,
        [
            ("billing:orders:1".to_owned(), 5),
            ("billing:orders:2".to_owned(), 6)
        ]
    );
    assert!(store.write(|txn| txn.drop_snapshot("before")).unwrap());
    assert!(!store.write(|txn| txn.drop_snapshot("before")).unwrap());
    assert!(store.snapshot_info("before").unwrap().is_none());
    drop(store);
    // Back to version 1, as the previous release made stores.
    match backend {
        TestBackend::Sqlite => {
            let conn = rusqlite::Connection::open(fixture.path()).unwrap();
            conn.execute_batch(
                &format!("{}DROP TABLE snapshot_cursors; DROP TABLE snapshots; DROP TABLE heads; DROP TABLE head_history; PRAGMA user_version = 1;", crate::common::SQLITE_DOWN_FROM_V4),
            )
            .unwrap();
        }
        TestBackend::Postgres => {
            let schema = fixture.schema_name();
            pg_admin()
                .batch_execute(&format!(
                    "{}DROP TABLE {schema}.snapshot_cursors; DROP TABLE {schema}.snapshots; \
                     DROP TABLE {schema}.heads; DROP TABLE {schema}.head_history; \
                     UPDATE {schema}.meta SET value = '1' WHERE key = 'schema_version'",
                    crate::common::pg_down_from_v4(schema)
                ))
                .unwrap();
        }
    }
    let old = fixture.open();
    assert_eq!(old.schema_version().unwrap(), 1);
    assert_eq!(old.read_value("billing:orders:1").unwrap(), Some(9));
    drop(old);
    let (upgraded, outcome) = store::init(&fixture.location, TIMEOUT).unwrap();
    assert_eq!(outcome, InitOutcome::Upgraded { from: 1 });
    let newest = fixture.location.backend().schema_version();
    assert_eq!(upgraded.schema_version().unwrap(), newest);
    assert_eq!(upgraded.read_value("alerts:orders:1").unwrap(), Some(7));
    assert_eq!(
        upgraded
            .write(|txn| txn.save_snapshot("after", None, None, "tester"))
            .unwrap(),
        3
    );
}

// One module per backend, one test per case in each.
/// The seed's checkpoint trait by a parsed key and by the key's text: the
/// same cursor, the same errors naming the key's text; a bad text key is
/// refused and the store unchanged.
fn keyed_and_text_checkpoints_are_one_cursor(backend: TestBackend) {
    let fixture = backend.fresh();
    let store = fixture.open();
    let key: CursorKey = "billing:orders:3".parse().unwrap();
    store.cas_keyed(&key, 0, 5).unwrap();
    assert_eq!(store.read_value("billing:orders:3").unwrap(), Some(5));
    store.cas("billing:orders:3", 5, 6).unwrap();
    assert_eq!(store.read_value_keyed(&key).unwrap(), Some(6));
    match store.cas_keyed(&key, 4, 9).unwrap_err() {
        DurabilityError::StaleCheckpoint {
            key,
            expected,
            actual,
        } => assert_eq!(
            (key.as_str(), expected, actual),
            ("billing:orders:3", 4, Some(6))
        ),
        other => panic!("expected stale, got {other:?}"),
    }
    for bad in ["billing:orders", "billing:orders:03", "bill ing:orders:3"] {
        let err = store.cas(bad, 0, 1).unwrap_err();
        assert!(
            matches!(err, DurabilityError::InvalidKey(_)),
            "{bad}: {err:?}"
        );
        let err = store.read_value(bad).unwrap_err();
        assert!(
            matches!(err, DurabilityError::InvalidKey(_)),
            "{bad}: {err:?}"
        );
    }
    // No lease is held: fenced, nothing written.
    let err = store.leased_cas_keyed(&key, 1, 6, 7).unwrap_err();
    assert!(err.is_fenced(), "{err:?}");
    let err = store.renew_lease_keyed(&key, "me", 1, 1000).unwrap_err();
    assert!(err.is_fenced(), "{err:?}");
    // In a transaction: a keyed read, then a compare-and-swap by text.
    store
        .write(|txn| {
            assert_eq!(txn.read_value_keyed(&key)?, Some(6));
            txn.cas("billing:orders:3", 6, 8)?;
            assert_eq!(txn.read_value("billing:orders:3")?, Some(8));
            Ok::<_, DurabilityError>(())
        })
        .unwrap();
    assert_eq!(store.read_value_keyed(&key).unwrap(), Some(8));
    assert_eq!(
        listed_keys(&*store, &CursorFilter::default()),
        ["billing:orders:3"]
    );
}

backend_tests!(
    matches_the_model,
    write_transaction_is_all_or_nothing,
    many_changes_at_once_are_guarded_and_recorded_in_order,
    racing_compare_and_swap_has_one_winner,
    read_then_write_in_a_transaction_loses_no_update,
    racing_removals_have_one_winner,
    snapshot_hides_a_concurrent_commit,
    listing_order_and_filters,
    history_filters,
    init_and_open_refusals,
    updated_at_follows_every_write,
    read_only_store_refuses_writes,
    history_prune_keeps_batches_whole,
    snapshots_and_the_upgrade_from_version_1,
    keyed_and_text_checkpoints_are_one_cursor,
);

/// Under `SERIALIZABLE` (forced by a connection option) PostgreSQL aborts
/// one of two transactions that read and write the same cursor; the write
/// runs again, and no update is lost.
#[test]
fn postgres_serializable_transactions_are_retried() {
    if !TestBackend::Postgres.available() {
        return;
    }
    const WRITERS: usize = 4;
    const EACH: u64 = 20;
    let fixture = Arc::new(TestBackend::Postgres.fresh());
    let serializable: StoreLocation = format!(
        "{}&options=-c%20default_transaction_isolation%3Dserializable",
        fixture.location.redacted()
    )
    .parse()
    .unwrap();
    let barrier = Arc::new(Barrier::new(WRITERS));
    let handles: Vec<_> = (0..WRITERS)
        .map(|_| {
            let location = serializable.clone();
            let barrier = Arc::clone(&barrier);
            thread::spawn(move || {
                let store = store::open(&location, Access::ReadWrite, TIMEOUT).unwrap();
                barrier.wait();
                // Runs of the closure, and results returned to the caller:
                // the difference is the runs the store had aborted.
                let (mut attempts, mut returned, mut done) = (0u64, 0u64, 0u64);
                while done < EACH {
                    let result = store.write(|txn| -> Result<(), DurabilityError> {
                        attempts += 1;
                        let k = key("billing:orders:3");
                        let mut cursor = ConsumerCursor::resume("billing", "orders:3", txn)?;
                        let old = cursor.current_offset();
                        cursor.checkpoint(txn, old + 1)?;
                        record(txn, &k, Some(old), Some(old + 1), None);
                        Ok(())
                    });
                    returned += 1;
                    match result {
                        Ok(()) => done += 1,
                        Err(DurabilityError::StaleCheckpoint { .. }) => {}
                        Err(e) => panic!("{e}"),
                    }
                }
                attempts - returned
            })
        })
        .collect();
    let retried: u64 = handles.into_iter().map(|h| h.join().unwrap()).sum();
    let total = WRITERS as u64 * EACH;
    let store = fixture.open();
    assert_eq!(store.read_value("billing:orders:3").unwrap(), Some(total));
    assert_eq!(
        history_ids(&*store, &HistoryFilter::default()).len() as u64,
        total
    );
    // Under READ COMMITTED a conflict is a stale compare-and-swap, returned
    // to the caller; only SERIALIZABLE aborts and reruns transactions.
    assert!(retried > 0, "no transaction was aborted and run again");
    eprintln!("serializable: {retried} transactions aborted and run again for {total} writes");
}
