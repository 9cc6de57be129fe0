//! An async consumer on tokio: four partitions consumed by four tasks
//! sharing one store, checkpointing every 100 messages, and recovering
//! when someone else moves a cursor and when the store fails for a while
//! (busy, or a PostgreSQL connection lost).
//!
//! ```sh
//! cargo run --example async_consumer --features async                      # a temporary SQLite store
//! cargo run --example async_consumer --features async -- postgres://billing@db.internal/platform billing 5000
//! ```
//!
//! Arguments: `[LOCATION [CONSUMER [COUNT]]]`: a SQLite path or a
//! `postgres://` URL, the consumer (default `billing`), how many messages
//! each partition (`orders:0` to `orders:3`) processes from where its
//! cursor is (default 1,000).

use std::error::Error;
use std::sync::Arc;
use std::time::Duration;

use cursorctl::asynchronous::{
    AsyncCheckpointDriver, AsyncConsumerCursor, AsyncDurableStore, BlockingStore,
};
use cursorctl::{CheckpointPolicy, DurabilityError, Resync, SqliteStore, StoreLocation};

/// What one partition's consumer did.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Consumed {
    /// Where it started and ended.
    pub start: u64,
    pub end: u64,
    /// Messages processed (more than `end - start` when some were
    /// processed again after someone else moved the cursor back).
    pub processed: u64,
    /// Retryable failures (busy, connection lost) and stale checkpoints.
    pub retried: u64,
    pub stale: u64,
}

/// Consume `count` messages of one partition from where its cursor is.
/// `process` is called with each message's offset.
///
/// # Errors
///
/// Failures that are neither retryable nor stale, or more than
/// `max_retries` retryable ones in a row.
pub async fn consume(
    store: &dyn AsyncDurableStore,
    consumer: &str,
    partition_key: &str,
    count: u64,
    policy: CheckpointPolicy,
    process: &mut (dyn FnMut(u64) + Send),
) -> Result<Consumed, DurabilityError> {
    let max_retries = 20;
    let mut cursor = AsyncConsumerCursor::new(consumer, partition_key);
    // Where to start: the stored offset, or 0 on a first run.
    let mut position = match cursor.resync(store).await? {
        Resync::Stored(offset) => offset,
        Resync::Absent => 0,
    };
    let mut driver = AsyncCheckpointDriver::new(policy);
    let mut done = Consumed {
        start: position,
        end: position + count,
        ..Consumed::default()
    };
    let mut in_a_row = 0;
    loop {
        let result = if position < done.end {
            process(position);
            done.processed += 1;
            position += 1;
            driver.record_processed(&mut cursor, store, position).await
        } else if driver.as_sync().pending_offset().is_some() {
            driver.flush(&mut cursor, store).await
        } else {
            return Ok(done);
        };
        let Err(err) = result else {
            in_a_row = 0;
            continue;
        };
        if err.is_retryable() && in_a_row < max_retries {
            // Busy, or the connection was lost: the driver keeps the
            // pending offset and tries again at its next checkpoint (the
            // store connects again first); a lost write that was committed
            // after all is found and taken then. The position stays.
            in_a_row += 1;
            done.retried += 1;
            if position >= done.end {
                // Flushing at the end: give the store a moment.
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
            continue;
        }
        if !err.is_stale() {
            return Err(err);
        }
        // Someone else moved the cursor: the store wins (reset), and the
        // consumer goes on from what it holds. A deleted cursor is
        // recreated where this consumer is (rebase: its position wins).
        done.stale += 1;
        match cursor.resync(store).await? {
            Resync::Stored(offset) => {
                driver.reset();
                position = offset;
            }
            Resync::Absent => driver.rebase(cursor.current_offset()),
        }
    }
}

/// Run the four partitions of `consumer` on `store`, each `count`
/// messages, as four tasks.
///
/// # Errors
///
/// The first partition's failure.
pub async fn run(
    store: Arc<dyn AsyncDurableStore>,
    consumer: &str,
    count: u64,
) -> Result<Vec<Consumed>, Box<dyn Error + Send + Sync>> {
    let mut tasks = Vec::new();
    for partition in 0..4 {
        let store = Arc::clone(&store);
        let consumer = consumer.to_owned();
        tasks.push(tokio::spawn(async move {
            let key = format!("orders:{partition}");
            let policy = CheckpointPolicy::PerBatch(100);
            consume(&*store, &consumer, &key, count, policy, &mut |_offset| {}).await
        }));
    }
    let mut all = Vec::new();
    for task in tasks {
        all.push(task.await??);
    }
    Ok(all)
}

/// Open the store a location names: PostgreSQL natively async, SQLite on
/// tokio's blocking threads.
///
/// # Errors
///
/// The store's failures.
pub async fn open(
    location: &StoreLocation,
) -> Result<Arc<dyn AsyncDurableStore>, Box<dyn Error + Send + Sync>> {
    let busy_timeout = Duration::from_secs(5);
    if let Some(path) = location.path() {
        let path = path.to_owned();
        return Ok(Arc::new(
            BlockingStore::<SqliteStore>::open_sqlite(path, busy_timeout).await?,
        ));
    }
    #[cfg(feature = "postgres")]
    if location.backend() == cursorctl::Backend::POSTGRES {
        return Ok(Arc::new(
            cursorctl::asynchronous::AsyncPostgresStore::open(
                location,
                cursorctl::Access::ReadWrite,
                busy_timeout,
            )
            .await?,
        ));
    }
    Err(format!("{} cannot be opened by this build", location.redacted()).into())
}

#[allow(dead_code)] // the tests include this file for `run`
#[tokio::main]
async fn main() -> Result<(), Box<dyn Error + Send + Sync>> {
    let mut args = std::env::args_os().skip(1);
    let dir = tempfile::tempdir()?;
    let location = match args.next() {
        Some(location) => StoreLocation::parse(&location),
        None => {
            let path = dir.path().join("cursors.db");
            // What `cursorctl --db PATH init` does.
            SqliteStore::options().init(&path)?;
            StoreLocation::from(path.as_path())
        }
    };
    let mut text = args.map(|a| a.to_string_lossy().into_owned());
    let consumer = text.next().unwrap_or_else(|| "billing".to_owned());
    let count: u64 = text.next().map_or(Ok(1_000), |n| n.parse())?;
    let store = open(&location).await?;
    for (partition, done) in run(store, &consumer, count).await?.iter().enumerate() {
        println!(
            "{consumer}:orders:{partition}: processed {} messages from {} to {}; {} retried, {} stale",
            done.processed, done.start, done.end, done.retried, done.stale
        );
    }
    Ok(())
}
