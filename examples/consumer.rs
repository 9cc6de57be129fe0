//! A consumer that checkpoints every 100 messages, and recovers when
//! someone else moves its cursor (an operator, or a second instance) and
//! when its store fails for a while (busy, or a PostgreSQL connection
//! lost: the server restarted, failed over, or ended the session).
//!
//! ```sh
//! cursorctl --db cursors.db init
//! cargo run --example consumer -- cursors.db     # or no argument: a temporary store
//! cargo run --example consumer -- postgres://billing@db.internal/platform billing orders:3 500
//! ```
//!
//! Arguments: `[LOCATION [CONSUMER PARTITION_KEY [COUNT]]]`, a SQLite path
//! or a `postgres://` URL (default: a temporary SQLite store), the cursor
//! (default `billing orders:3`) and how many messages to process from where
//! the cursor is (default 1,000).
//!
//! The partition here is the offsets `0..end`; "processing" a message
//! records its offset. Everything else is what a real consumer does.

use std::error::Error;
use std::time::Duration;

use cursorctl::{
    store, Access, CheckpointDriver, CheckpointPolicy, ConsumerCursor, DurabilityError,
    DurableStore, Resync, SqliteStore, StoreLocation,
};

/// What a consumer does when it finds its cursor deleted (absent) while it
/// runs. The library does not choose: an absent cursor reads as 0, and
/// starting over at 0 silently could replay a whole partition.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum OnDeleted {
    /// Recreate the cursor where this consumer is (keep its progress).
    Recreate,
    /// Start over from offset 0 (replay the partition).
    StartOver,
    /// Stop with the stale error.
    Stop,
}

/// One consumer instance on one partition.
pub struct Consumer {
    cursor: ConsumerCursor,
    driver: CheckpointDriver,
    /// The offset of the next message to process.
    position: u64,
    on_deleted: OnDeleted,
    /// Retryable failures (busy, connection lost) in a row, and the most
    /// allowed.
    retries: u32,
    max_retries: u32,
    /// Stale checkpoints seen: someone else moved the cursor.
    pub stale: u64,
}

impl Consumer {
    /// Start from what the store holds; an absent cursor starts at 0 (the
    /// first run of this consumer).
    ///
    /// # Errors
    ///
    /// Store failures.
    pub fn start(
        store: &dyn DurableStore,
        consumer: &str,
        partition_key: &str,
        policy: CheckpointPolicy,
    ) -> Result<Self, DurabilityError> {
        let mut cursor = ConsumerCursor::new(consumer, partition_key);
        let position = match cursor.resync(store)? {
            Resync::Stored(offset) => offset,
            Resync::Absent => 0,
        };
        Ok(Self {
            cursor,
            driver: CheckpointDriver::new(policy),
            position,
            on_deleted: OnDeleted::Recreate,
            retries: 0,
            max_retries: 10,
            stale: 0,
        })
    }

    /// Choose what happens when the cursor is found deleted.
    #[must_use]
    pub const fn on_deleted(mut self, choice: OnDeleted) -> Self {
        self.on_deleted = choice;
        self
    }

    /// The offset of the next message to process.
    #[must_use]
    pub const fn position(&self) -> u64 {
        self.position
    }

    /// Process the next message below `end`, or, at the end, write what is
    /// pending. `false` once everything up to `end` is processed and
    /// durable.
    ///
    /// # Errors
    ///
    /// Failures that are neither retryable nor stale, busy past the retry
    /// limit, and a deleted cursor under [`OnDeleted::Stop`].
    pub fn step(
        &mut self,
        store: &dyn DurableStore,
        end: u64,
        process: &mut dyn FnMut(u64),
    ) -> Result<bool, DurabilityError> {
        if self.position < end {
            process(self.position);
            self.position += 1;
            let result = self
                .driver
                .record_processed(&mut self.cursor, store, self.position);
            self.recover(store, result)?;
            return Ok(true);
        }
        // The end of the partition (or a clean shutdown): write what is
        // pending. A recovery may move the position back below `end`.
        let result = self.driver.flush(&mut self.cursor, store);
        self.recover(store, result)?;
        Ok(self.position < end || self.driver.pending_offset().is_some())
    }

    /// Process everything up to `end`, then return.
    ///
    /// # Errors
    ///
    /// As [`Consumer::step`].
    pub fn run(
        &mut self,
        store: &dyn DurableStore,
        end: u64,
        process: &mut dyn FnMut(u64),
    ) -> Result<(), DurabilityError> {
        while self.step(store, end, process)? {}
        Ok(())
    }

    /// The recovery loop: what to do after a failed checkpoint.
    fn recover(
        &mut self,
        store: &dyn DurableStore,
        result: Result<(), DurabilityError>,
    ) -> Result<(), DurabilityError> {
        let err = match result {
            Ok(()) => {
                self.retries = 0;
                return Ok(());
            }
            Err(err) => err,
        };
        if err.is_retryable() && self.retries < self.max_retries {
            // Busy, or the connection was lost: the driver kept the pending
            // offset, and tries again at the next checkpoint (the store
            // connects again first). Nothing to reset or rebase: this
            // consumer's position is still right. If the lost write was
            // committed after all (`err.outcome()` is `Unknown`), the next
            // checkpoint finds it in the store and the driver takes it.
            self.retries += 1;
            return Ok(());
        }
        if !err.is_stale() {
            return Err(err);
        }
        // Someone else moved the cursor. The store wins (reset): go on from
        // what it holds (messages after it are processed again: at least
        // once). Rebase only where this consumer's position must win: here,
        // to recreate a deleted cursor where the consumer is.
        self.stale += 1;
        match self.cursor.resync(store)? {
            Resync::Stored(offset) => {
                self.driver.reset();
                self.position = offset;
            }
            Resync::Absent => match self.on_deleted {
                // Keep the pending offset: the next checkpoint creates the
                // cursor where this consumer is.
                OnDeleted::Recreate => self.driver.rebase(self.cursor.current_offset()),
                OnDeleted::StartOver => {
                    self.driver.reset();
                    self.position = 0;
                }
                OnDeleted::Stop => return Err(err),
            },
        }
        Ok(())
    }
}

#[allow(dead_code)] // the tests include this file for `Consumer`
fn main() -> Result<(), Box<dyn Error>> {
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
    let name = text.next().unwrap_or_else(|| "billing".to_owned());
    let partition_key = text.next().unwrap_or_else(|| "orders:3".to_owned());
    let count: u64 = text.next().map_or(Ok(1_000), |n| n.parse())?;
    // A SQLite file or a PostgreSQL database: the same trait either way.
    let store = store::open(&location, Access::ReadWrite, Duration::from_secs(5))?;
    let store: &dyn DurableStore = &*store;
    let mut consumer = Consumer::start(store, &name, &partition_key, "per-batch:100".parse()?)?;
    let start = consumer.position();
    let end = start + count;
    let mut processed = 0_u64;
    consumer.run(store, end, &mut |_offset| processed += 1)?;
    let key = format!("{name}:{partition_key}");
    println!(
        "{}: processed {processed} messages from {start} to {end}; {} stale checkpoints; the store holds {:?}",
        location.redacted(),
        consumer.stale,
        store.read_value(&key)?
    );
    Ok(())
}
