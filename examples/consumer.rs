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
//! With `--lease OWNER [--ttl-ms N] [--pace-ms N]` the instance first takes
//! the cursor's lease (waiting while another owner holds it), checkpoints
//! after every message through the lease, and prints one line per event on
//! stdout: `acquired EPOCH OFFSET`, `processed OFFSET`, `checkpointed
//! OFFSET`, `fenced ...`, `released`, `waiting OWNER EXPIRES_AT` while
//! another owner's lease is live, and `retrying ...` while the store is out
//! of reach. When fenced it stops processing,
//! acquires the lease again and resynchronises from the store. Leased
//! instances share the work, so COUNT is then the offset to process up to
//! (the end of the partition), not a count per instance:
//!
//! ```sh
//! cargo run --example consumer -- cursors.db billing orders:3 500 --lease host-7:pid-4121
//! ```
//!
//! The partition here is the offsets `0..end`; "processing" a message
//! records its offset. Everything else is what a real consumer does.

use std::error::Error;
use std::io::Write as _;
use std::time::Duration;

use cursorctl::lease;

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
    let (mut owner, mut ttl_ms, mut pace_ms) = (None, 2_000_u64, 0_u64);
    let mut positional = Vec::new();
    while let Some(arg) = text.next() {
        match arg.as_str() {
            "--lease" => owner = text.next(),
            "--ttl-ms" => ttl_ms = text.next().ok_or("--ttl-ms needs a value")?.parse()?,
            "--pace-ms" => pace_ms = text.next().ok_or("--pace-ms needs a value")?.parse()?,
            _ => positional.push(arg),
        }
    }
    let mut text = positional.into_iter();
    let name = text.next().unwrap_or_else(|| "billing".to_owned());
    let partition_key = text.next().unwrap_or_else(|| "orders:3".to_owned());
    let count: u64 = text.next().map_or(Ok(1_000), |n| n.parse())?;
    // A SQLite file or a PostgreSQL database: the same trait either way.
    let store = store::open(&location, Access::ReadWrite, Duration::from_secs(5))?;
    if let Some(owner) = owner {
        let key = cursorctl::CursorKey::parse(&format!("{name}:{partition_key}"))?;
        let options = Leased {
            owner,
            ttl: Duration::from_millis(ttl_ms),
            pace: Duration::from_millis(pace_ms),
        };
        return run_leased(&*store, &key, count, &options);
    }
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

/// The pause before a checkpoint the store could not take is tried again.
const RETRY_PAUSE: Duration = Duration::from_millis(100);

/// How a leased instance runs.
struct Leased {
    owner: String,
    ttl: Duration,
    pace: Duration,
}

fn say(line: &str) {
    let mut out = std::io::stdout().lock();
    let _ = writeln!(out, "{line}");
    let _ = out.flush();
}

/// The consumer loop with a lease: one live owner at a time processes the
/// partition up to offset `end`. Fenced: stop, acquire again, resync.
#[allow(dead_code)]
fn run_leased(
    store: &dyn cursorctl::Store,
    key: &cursorctl::CursorKey,
    end: u64,
    options: &Leased,
) -> Result<(), Box<dyn Error>> {
    let pk = key.partition_key().to_string();
    loop {
        // Take the lease, waiting while another owner holds it.
        let mut waiting = false;
        let lease = loop {
            match lease::acquire(store, key, &options.owner, options.ttl) {
                Ok(lease) => break lease,
                Err(cursorctl::DurabilityError::LeaseHeld {
                    owner, expires_at, ..
                }) => {
                    // Live on the store's clock: the owner named, once.
                    if !waiting {
                        say(&format!("waiting {owner} {expires_at}"));
                        waiting = true;
                    }
                    std::thread::sleep(Duration::from_millis(20));
                }
                Err(e) if e.is_retryable() => {
                    std::thread::sleep(Duration::from_millis(20));
                }
                Err(e) => return Err(e.into()),
            }
        };
        // Resync: the store holds what the last owner checkpointed.
        let mut cursor = ConsumerCursor::new(key.consumer().as_str(), pk.clone());
        let mut position = cursor.resync(store)?.offset().unwrap_or(0);
        say(&format!("acquired {} {position}", lease.epoch()));
        let mut driver = CheckpointDriver::new(CheckpointPolicy::PerMessage);
        driver.hold_lease(lease);
        let fenced = loop {
            if position >= end {
                break None;
            }
            // Before processing, when the lease is due for renewal (half
            // its time to live gone, a long pause included), confirm it
            // with a checkpoint through it at the current offset: one that
            // was paused past its expiry is fenced here, before it
            // processes anything.
            if driver.lease().is_some_and(lease::Lease::renew_due) {
                let mut held = driver.take_lease().expect("held");
                let current = cursor.current_offset();
                let confirmed = cursor
                    .checkpoint(&held.guard(store), current)
                    .and_then(|()| held.renew(store));
                driver.hold_lease(held);
                match confirmed {
                    Ok(()) => {}
                    Err(e) if e.is_fenced() => break Some(e),
                    // The store out of reach: confirm again before going on.
                    Err(e) if e.is_retryable() => {
                        say(&format!("retrying {e}"));
                        std::thread::sleep(RETRY_PAUSE);
                        continue;
                    }
                    Err(e) => return Err(e.into()),
                }
            }
            say(&format!("processed {position}"));
            let mut written = driver.record_processed(&mut cursor, store, position + 1);
            // The store out of reach (a cut link, a restarted server): the
            // driver keeps the offset pending; write it again until it
            // goes through or is fenced (a lease that expired meanwhile).
            while let Err(e) = &written {
                if !e.is_retryable() {
                    break;
                }
                say(&format!("retrying {e}"));
                std::thread::sleep(RETRY_PAUSE);
                written = driver.flush(&mut cursor, store);
            }
            match written {
                Ok(()) => {
                    position += 1;
                    say(&format!("checkpointed {position}"));
                }
                Err(e) if e.is_fenced() => break Some(e),
                Err(e) => return Err(e.into()),
            }
            std::thread::sleep(options.pace);
        };
        match fenced {
            Some(e) => {
                // Stop processing; the next owner goes on from the store.
                say(&format!("fenced {e}"));
                driver.take_lease();
            }
            None => {
                if let Some(lease) = driver.take_lease() {
                    // Released, so the next owner need not wait.
                    let _ = lease.release(store);
                }
                say("released");
                return Ok(());
            }
        }
    }
}
