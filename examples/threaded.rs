//! Consumers on many threads against one SQLite store, in the two ways a
//! store can be used from threads:
//!
//! - one store per thread: each thread opens its own `SqliteStore` (its own
//!   connection); SQLite serialises the writes, each waiting up to the busy
//!   timeout for the lock;
//! - one store shared behind `Arc<Mutex<_>>`: a `SqliteStore` is `Send` but
//!   not `Sync`, and a `Mutex` of a store is itself a `DurableStore` that
//!   holds the lock for one read or one checkpoint.
//!
//! Each thread consumes its own partition: a cursor has one instance.
//!
//! ```sh
//! cargo run --example threaded
//! ```

use std::error::Error;
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::thread;

use cursorctl::{
    CheckpointDriver, CheckpointPolicy, ConsumerCursor, DurabilityError, DurableStore, Resync,
    SqliteStore,
};

/// Consume the offsets `0..end` of one partition, checkpointing every 10
/// messages. Returns how many messages were processed.
fn consume(
    store: &dyn DurableStore,
    partition_key: &str,
    end: u64,
) -> Result<u64, DurabilityError> {
    let mut cursor = ConsumerCursor::new("billing", partition_key);
    let mut position = cursor.resync(store)?.offset().unwrap_or(0);
    let mut driver = CheckpointDriver::new(CheckpointPolicy::PerBatch(10));
    let mut processed = 0;
    while position < end {
        // ... process the message at `position` ...
        processed += 1;
        position += 1;
        match driver.record_processed(&mut cursor, store, position) {
            Ok(()) => {}
            // Busy: the driver keeps the offset, the next message retries.
            Err(e) if e.is_retryable() => {}
            // Moved by someone else: go on from what the store holds.
            Err(e) if e.is_stale() => {
                driver.reset();
                if let Resync::Stored(offset) = cursor.resync(store)? {
                    position = offset;
                }
            }
            Err(e) => return Err(e),
        }
    }
    driver.flush(&mut cursor, store)?;
    Ok(processed)
}

/// One store per thread: each thread opens the store itself.
///
/// # Errors
///
/// A thread's failure.
pub fn store_per_thread(path: &Path, partitions: u32, end: u64) -> Result<u64, Box<dyn Error>> {
    let threads: Vec<_> = (0..partitions)
        .map(|index| {
            let path = path.to_owned();
            thread::spawn(move || -> Result<u64, DurabilityError> {
                let store = SqliteStore::options().open(&path)?;
                consume(&store, &format!("orders:{index}"), end)
            })
        })
        .collect();
    let mut processed = 0;
    for thread in threads {
        processed += thread.join().expect("a consumer thread panicked")?;
    }
    Ok(processed)
}

/// One store shared by every thread behind `Arc<Mutex<_>>`.
///
/// # Errors
///
/// A thread's failure.
pub fn shared_store(path: &Path, partitions: u32, end: u64) -> Result<u64, Box<dyn Error>> {
    let shared = Arc::new(Mutex::new(SqliteStore::options().open(path)?));
    let threads: Vec<_> = (0..partitions)
        .map(|index| {
            let shared = Arc::clone(&shared);
            thread::spawn(move || -> Result<u64, DurabilityError> {
                consume(&*shared, &format!("payments:{index}"), end)
            })
        })
        .collect();
    let mut processed = 0;
    for thread in threads {
        processed += thread.join().expect("a consumer thread panicked")?;
    }
    Ok(processed)
}

#[allow(dead_code)] // the tests include this file for its functions
fn main() -> Result<(), Box<dyn Error>> {
    let dir = tempfile::tempdir()?;
    let path = dir.path().join("cursors.db");
    SqliteStore::options().init(&path)?;
    let processed = store_per_thread(&path, 4, 1_000)?;
    println!("one store per thread: {processed} messages on 4 partitions");
    let processed = shared_store(&path, 4, 1_000)?;
    println!("one shared store: {processed} messages on 4 partitions");
    let store = SqliteStore::options().open(&path)?;
    for key in ["billing:orders:0", "billing:payments:3"] {
        println!("{key} = {:?}", store.read_value(key)?);
    }
    Ok(())
}
