//! Consumers on a real PostgreSQL server whose connections are killed
//! (`pg_terminate_backend`) while they run, through the sync API (the
//! recovery loop of examples/consumer.rs) and the async one
//! (examples/async_consumer.rs); and the library inside a tokio runtime.
//! Each case has a schema of its own.

use crate::common::{pg_admin, pg_available, PgSchema};

#[cfg(feature = "async")]
#[path = "../examples/async_consumer.rs"]
mod async_consumer;

use std::collections::BTreeMap;
use std::time::Duration;

use crate::library::consumer::Consumer;
use cursorctl::{store, Access, ConsumerCursor, DurableStore, PostgresStore, StoreLocation};

/// Messages per run, and connections killed during it.
const MESSAGES: u64 = 20_000;
const KILLS: u64 = 50;

/// A store in a schema of its own, its connections named `application`
/// (so that they can be killed and nobody else's), with every move of a
/// cursor logged by a trigger: (old, new) in order.
struct Killable {
    schema: PgSchema,
    location: StoreLocation,
    application: String,
}

impl Killable {
    fn new(prefix: &str) -> Self {
        let schema = PgSchema::new(prefix);
        let application = schema.name.clone();
        let location: StoreLocation = format!("{}&application_name={application}", schema.url)
            .parse()
            .unwrap();
        store::init(&location, Duration::from_secs(5)).unwrap();
        schema
            .admin()
            .batch_execute(
                "CREATE TABLE moves (seq bigserial PRIMARY KEY, old bigint, new bigint); \
                 CREATE FUNCTION log_move() RETURNS trigger LANGUAGE plpgsql AS $$ \
                 BEGIN INSERT INTO moves (old, new) VALUES (OLD.\"offset\", NEW.\"offset\"); RETURN NEW; END $$; \
                 CREATE TRIGGER log_move AFTER UPDATE ON cursors FOR EACH ROW EXECUTE FUNCTION log_move();",
            )
            .unwrap();
        Self {
            schema,
            location,
            application,
        }
    }

    /// End every connection of the store; how many there were.
    fn kill(&self, admin: &mut postgres::Client) -> i64 {
        admin
            .query_one(
                "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity \
                 WHERE application_name = $1",
                &[&self.application],
            )
            .unwrap()
            .get(0)
    }

    /// The stored offset, and every move of the cursor.
    fn check(&self, key_consumer: &str, interval: u64, kills: u64, seen: &BTreeMap<u64, u32>) {
        let mut admin = self.schema.admin();
        let stored: i64 = admin
            .query_one(
                "SELECT \"offset\" FROM cursors WHERE consumer = $1",
                &[&key_consumer],
            )
            .unwrap()
            .get(0);
        assert_eq!(stored, MESSAGES as i64, "the stored offset ends at the end");
        let backwards: Vec<(i64, i64)> = admin
            .query(
                "SELECT old, new FROM moves WHERE new < old ORDER BY seq",
                &[],
            )
            .unwrap()
            .iter()
            .map(|r| (r.get(0), r.get(1)))
            .collect();
        assert!(
            backwards.is_empty(),
            "checkpoints went backwards: {backwards:?}"
        );
        let missing = (0..MESSAGES).filter(|o| !seen.contains_key(o)).count();
        assert_eq!(missing, 0, "every message is processed");
        let duplicates: u64 = seen.values().map(|&n| u64::from(n - 1)).sum();
        assert!(
            duplicates <= kills * interval,
            "{duplicates} messages processed again, more than one checkpoint interval ({interval}) for each of {kills} kills"
        );
    }
}

/// The sync consumer of examples/consumer.rs, its connection killed every
/// `MESSAGES / KILLS` messages.
fn sync_consumer_survives_kills(policy: &str, interval: u64) {
    if !pg_available() {
        return;
    }
    let store_env = Killable::new("consumer_pg_sync");
    let store = PostgresStore::open(
        &store_env.location,
        Access::ReadWrite,
        Duration::from_secs(5),
    )
    .unwrap();
    let mut admin = pg_admin();
    let mut consumer =
        Consumer::start(&store, "billing", "orders:3", policy.parse().unwrap()).unwrap();
    let mut seen = BTreeMap::<u64, u32>::new();
    let mut kills = 0;
    consumer
        .run(&store, MESSAGES, &mut |offset| {
            *seen.entry(offset).or_default() += 1;
            if offset % (MESSAGES / KILLS) == MESSAGES / KILLS / 2 {
                kills += store_env.kill(&mut admin);
            }
        })
        .unwrap();
    assert_eq!(
        kills, KILLS as i64,
        "each kill ended the consumer's connection"
    );
    assert_eq!(
        store.read_value("billing:orders:3").unwrap(),
        Some(MESSAGES)
    );
    store_env.check("billing", interval, KILLS, &seen);
}

#[test]
fn a_sync_consumer_per_message_survives_50_kills() {
    sync_consumer_survives_kills("per-message", 1);
}

#[test]
fn a_sync_consumer_per_batch_survives_50_kills() {
    sync_consumer_survives_kills("per-batch:100", 100);
}

/// A lost connection says what became of the write, and the next call
/// connects again.
#[test]
fn a_lost_connection_is_retryable_and_says_its_outcome() {
    if !pg_available() {
        return;
    }
    let store_env = Killable::new("consumer_pg_lost");
    let store = PostgresStore::open(
        &store_env.location,
        Access::ReadWrite,
        Duration::from_secs(5),
    )
    .unwrap();
    let mut cursor = ConsumerCursor::resume("billing", "orders:3", &store).unwrap();
    cursor.checkpoint(&store, 1).unwrap();
    assert_eq!(store_env.kill(&mut pg_admin()), 1);
    let err = cursor.checkpoint(&store, 2).unwrap_err();
    assert!(err.is_retryable(), "{err:?}");
    assert_eq!(err.outcome(), cursorctl::WriteOutcome::Unknown);
    let text = err.to_string();
    // The cause is the server's reason when the client read it before the
    // socket closed, or the closed connection itself (which of the two a
    // loaded machine sees first varies).
    assert!(
        text.contains("writing a cursor")
            && text.contains("unknown")
            && (text.contains("terminating connection") || text.contains("closed")),
        "the message says what, the outcome and the cause: {text}"
    );
    // The next call connects again.
    assert_eq!(cursor.resync(&store).unwrap(), cursorctl::Resync::Stored(1));
    cursor.checkpoint(&store, 2).unwrap();
    // A read whose connection was lost wrote nothing.
    assert_eq!(store_env.kill(&mut pg_admin()), 1);
    let err = store.read_value("billing:orders:3").unwrap_err();
    assert_eq!(err.outcome(), cursorctl::WriteOutcome::RolledBack);
    assert!(err.to_string().contains("nothing was written"), "{err}");
    assert_eq!(store.read_value("billing:orders:3").unwrap(), Some(2));
}

/// A missing database is a missing store, and its message says why.
#[test]
fn a_missing_database_is_missing() {
    if !pg_available() {
        return;
    }
    let url = crate::common::pg_url();
    let (server, _) = url.rsplit_once('/').unwrap();
    let location: StoreLocation = format!("{server}/no_such_database_here").parse().unwrap();
    let Err(err) = store::open(&location, Access::ReadWrite, Duration::from_secs(5)) else {
        panic!("a database that does not exist opened")
    };
    assert_eq!(err.kind(), cursorctl::StoreErrorKind::Missing, "{err:?}");
    assert!(
        err.to_string().contains("does not exist"),
        "the server's reason is in the message: {err}"
    );
}

/// The sync API inside a tokio runtime (a worker of a multi-threaded one,
/// and a current-thread one's `block_on`): it works, and dropping the store
/// there does not panic.
#[test]
fn the_sync_store_works_and_drops_inside_a_runtime() {
    if !pg_available() {
        return;
    }
    let store_env = Killable::new("consumer_pg_rt");
    let location = store_env.location.clone();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let on_worker = location.clone();
    let task = runtime.spawn(async move {
        let store = store::open(&on_worker, Access::ReadWrite, Duration::from_secs(5)).unwrap();
        let mut cursor = ConsumerCursor::resume("billing", "orders:3", &*store).unwrap();
        cursor.checkpoint(&*store, 5).unwrap();
        drop(store);
    });
    runtime.block_on(task).unwrap();
    let current = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    current.block_on(async {
        let store =
            PostgresStore::open(&location, Access::ReadWrite, Duration::from_secs(5)).unwrap();
        let mut cursor = ConsumerCursor::resume("billing", "orders:3", &store).unwrap();
        assert_eq!(cursor.current_offset(), 5);
        cursor.checkpoint(&store, 6).unwrap();
    });
    // Moved into a runtime's task and dropped there with the runtime.
    let store = PostgresStore::open(&location, Access::ReadWrite, Duration::from_secs(5)).unwrap();
    runtime.spawn(async move {
        let _held = store;
        std::future::pending::<()>().await;
    });
    drop(runtime);
    assert_eq!(
        store::open(&location, Access::ReadOnly, Duration::from_secs(5))
            .unwrap()
            .read_value("billing:orders:3")
            .unwrap(),
        Some(6)
    );
}

#[cfg(feature = "async")]
mod asynchronous {
    use super::*;
    use cursorctl::asynchronous::{AsyncDurableStore, AsyncPostgresStore};
    use cursorctl::CheckpointPolicy;
    use std::sync::{Arc, Mutex};

    fn runtime() -> tokio::runtime::Runtime {
        tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .unwrap()
    }

    /// The async consumer of examples/async_consumer.rs on one partition,
    /// its connection killed every `MESSAGES / KILLS` messages (from a
    /// thread outside the runtime, waited for).
    fn async_consumer_survives_kills(policy: &str, interval: u64) {
        if !pg_available() {
            return;
        }
        let store_env = Arc::new(Killable::new("consumer_pg_async"));
        let admin = Arc::new(Mutex::new(pg_admin()));
        let seen = Arc::new(Mutex::new(BTreeMap::<u64, u32>::new()));
        let kills = Arc::new(Mutex::new(0_i64));
        let policy: CheckpointPolicy = policy.parse().unwrap();
        let (env, admin_in, seen_in, kills_in) = (
            Arc::clone(&store_env),
            Arc::clone(&admin),
            Arc::clone(&seen),
            Arc::clone(&kills),
        );
        let runtime = runtime();
        let task = runtime.spawn(async move {
            let store =
                AsyncPostgresStore::open(&env.location, Access::ReadWrite, Duration::from_secs(5))
                    .await
                    .unwrap();
            let mut process = |offset: u64| {
                *seen_in.lock().unwrap().entry(offset).or_default() += 1;
                if offset % (MESSAGES / KILLS) == MESSAGES / KILLS / 2 {
                    let killed = std::thread::scope(|s| {
                        s.spawn(|| env.kill(&mut admin_in.lock().unwrap()))
                            .join()
                            .unwrap()
                    });
                    *kills_in.lock().unwrap() += killed;
                }
            };
            let done = async_consumer::consume(
                &store,
                "billing",
                "orders:3",
                MESSAGES,
                policy,
                &mut process,
            )
            .await
            .unwrap();
            assert_eq!(
                store.read_value("billing:orders:3").await.unwrap(),
                Some(MESSAGES)
            );
            done
        });
        let done = runtime.block_on(task).unwrap();
        assert_eq!(*kills.lock().unwrap(), KILLS as i64);
        assert_eq!(done.end, MESSAGES);
        store_env.check("billing", interval, KILLS, &seen.lock().unwrap());
    }

    #[test]
    fn an_async_consumer_per_message_survives_50_kills() {
        async_consumer_survives_kills("per-message", 1);
    }

    #[test]
    fn an_async_consumer_per_batch_survives_50_kills() {
        async_consumer_survives_kills("per-batch:100", 100);
    }

    /// The async example, four tasks on one store, under a multi-threaded
    /// runtime to the end; the store dropped on a worker, and a sync store
    /// too.
    #[test]
    fn the_async_example_runs_to_the_end_and_drops_on_workers() {
        if !pg_available() {
            return;
        }
        let store_env = Killable::new("consumer_pg_example");
        let location = store_env.location.clone();
        let runtime = runtime();
        let task = runtime.spawn(async move {
            let store = async_consumer::open(&location).await.unwrap();
            let results = async_consumer::run(Arc::clone(&store), "billing", 2_000)
                .await
                .unwrap();
            let sync =
                PostgresStore::open(&location, Access::ReadWrite, Duration::from_secs(5)).unwrap();
            let read = sync.read_value("billing:orders:2").unwrap();
            tokio::spawn(async move { drop(store) }).await.unwrap();
            tokio::spawn(async move { drop(sync) }).await.unwrap();
            (results, read)
        });
        let results = runtime.block_on(task).unwrap();
        drop(runtime);
        assert_eq!(results.0.len(), 4);
        for done in &results.0 {
            assert_eq!((done.start, done.end, done.processed), (0, 2_000, 2_000));
        }
        assert_eq!(results.1, Some(2_000));
    }
}

/// A connection lost in the middle of a streamed listing fails the
/// listing (nothing was written), and the next call connects again.
#[test]
fn a_connection_lost_during_a_listing_fails_it_and_the_next_call_reconnects() {
    use cursorctl::store::Visit;
    use cursorctl::{CursorFilter, StoreRead};
    if !pg_available() {
        return;
    }
    let store_env = Killable::new("consumer_pg_listing");
    store_env
        .schema
        .admin()
        .batch_execute(
            "INSERT INTO cursors (consumer, channel, partition, \"offset\", updated_at) \
             SELECT 'c' || i, 'orders', 0, i, 0 FROM generate_series(1, 6000) AS i",
        )
        .unwrap();
    let store = PostgresStore::open(
        &store_env.location,
        Access::ReadOnly,
        Duration::from_secs(5),
    )
    .unwrap();
    let mut admin = pg_admin();
    let mut rows = 0;
    let result = store.visit_cursors(&CursorFilter::default(), &mut |row| {
        if row.is_ok() {
            rows += 1;
            if rows == 1 {
                assert_eq!(store_env.kill(&mut admin), 1);
            }
        }
        Visit::Continue(())
    });
    let err = result.unwrap_err();
    assert!(err.is_retryable(), "{err:?}");
    assert_eq!(err.outcome(), cursorctl::WriteOutcome::RolledBack);
    assert!(
        rows < 6000,
        "the listing stopped where its connection was lost"
    );
    assert_eq!(store.read_value("c42:orders:0").unwrap(), Some(42));
}
