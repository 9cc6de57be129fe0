//! The async API (the `async` cargo feature), on tokio: a store trait
//! whose calls are futures, a cursor and a checkpoint driver that await
//! them, with the same rules as the sync ones ([`ConsumerCursor`],
//! [`CheckpointDriver`]).
//!
//! - [`AsyncDurableStore`]: read a value, compare-and-swap;
//! - `AsyncPostgresStore` (with `postgres`): natively async, on
//!   `tokio-postgres`, the same locations, TLS and reconnection as
//!   `PostgresStore`;
//! - [`BlockingStore`]: any sync store (a `SqliteStore`),
//!   its calls run on tokio's blocking threads, never on the executor;
//! - [`AsyncConsumerCursor`] and [`AsyncCheckpointDriver`].
//!
//! The guide's async section (`docs/library.md`) has the consumer loop.

use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex};

use crate::cursor::{cursor_key_for, ConsumerCursor, Resync};
use crate::driver::{CheckpointDriver, CheckpointPolicy};
use crate::error::{DurabilityError, StoreError, StoreErrorKind};
use crate::store::DurableStore;

#[cfg(feature = "postgres")]
pub use crate::store::postgres::AsyncPostgresStore;

/// The future of an [`AsyncDurableStore`] call.
pub type StoreFuture<'a, T> = Pin<Box<dyn Future<Output = Result<T, DurabilityError>> + Send + 'a>>;

/// A key-value store of cursor offsets with compare-and-swap, whose calls
/// are futures: the async [`DurableStore`]. Keys are cursor keys
/// (`CONSUMER:CHANNEL:INDEX`); an absent key counts as 0 for
/// compare-and-swap.
pub trait AsyncDurableStore: Send + Sync {
    /// Read the offset stored under `key` (`None`: absent).
    ///
    /// # Errors
    ///
    /// As [`DurableStore::read_value`].
    fn read_value<'a>(&'a self, key: &'a str) -> StoreFuture<'a, Option<u64>>;

    /// Write `new` under `key` only if the stored value equals `expected`
    /// (absent counts as 0).
    ///
    /// # Errors
    ///
    /// As [`DurableStore::cas`].
    fn cas<'a>(&'a self, key: &'a str, expected: u64, new: u64) -> StoreFuture<'a, ()>;
}

/// A sync store used from async code: each call runs on tokio's blocking
/// threads (`spawn_blocking`), one at a time, so the executor never waits
/// for the store. For a `SqliteStore`, whose calls
/// are local file I/O with a busy timeout.
pub struct BlockingStore<S> {
    store: Arc<Mutex<S>>,
}

impl<S> Clone for BlockingStore<S> {
    fn clone(&self) -> Self {
        Self {
            store: Arc::clone(&self.store),
        }
    }
}

impl<S> std::fmt::Debug for BlockingStore<S> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BlockingStore").finish_non_exhaustive()
    }
}

impl<S: DurableStore + Send + 'static> BlockingStore<S> {
    /// Wrap a sync store.
    pub fn new(store: S) -> Self {
        Self {
            store: Arc::new(Mutex::new(store)),
        }
    }

    /// Run `f` with the store on a blocking thread.
    async fn blocking<T: Send + 'static>(
        &self,
        f: impl FnOnce(&S) -> Result<T, DurabilityError> + Send + 'static,
    ) -> Result<T, DurabilityError> {
        let store = Arc::clone(&self.store);
        let task = tokio::task::spawn_blocking(move || {
            let store = store
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            f(&store)
        });
        match task.await {
            Ok(result) => result,
            Err(e) if e.is_panic() => std::panic::resume_unwind(e.into_panic()),
            Err(e) => Err(DurabilityError::Store(StoreError::Database {
                context: "running a store call on a blocking thread".to_owned(),
                kind: StoreErrorKind::Other,
                source: Box::new(e),
            })),
        }
    }
}

#[cfg(feature = "sqlite")]
impl BlockingStore<crate::SqliteStore> {
    /// Open an existing SQLite store (as [`SqliteOptions::open`](crate::SqliteOptions::open),
    /// with the default options and this busy timeout), on a blocking
    /// thread.
    ///
    /// # Errors
    ///
    /// As [`SqliteOptions::open`](crate::SqliteOptions::open).
    pub async fn open_sqlite(
        path: impl Into<std::path::PathBuf>,
        busy_timeout: std::time::Duration,
    ) -> Result<Self, StoreError> {
        let path = path.into();
        let task = tokio::task::spawn_blocking(move || {
            crate::SqliteStore::options()
                .busy_timeout(busy_timeout)
                .open(&path)
        });
        match task.await {
            Ok(store) => store.map(Self::new),
            Err(e) if e.is_panic() => std::panic::resume_unwind(e.into_panic()),
            Err(e) => Err(StoreError::Database {
                context: "opening the store on a blocking thread".to_owned(),
                kind: StoreErrorKind::Other,
                source: Box::new(e),
            }),
        }
    }
}

impl<S: DurableStore + Send + 'static> AsyncDurableStore for BlockingStore<S> {
    fn read_value<'a>(&'a self, key: &'a str) -> StoreFuture<'a, Option<u64>> {
        let key = key.to_owned();
        Box::pin(self.blocking(move |s| s.read_value(&key)))
    }

    fn cas<'a>(&'a self, key: &'a str, expected: u64, new: u64) -> StoreFuture<'a, ()> {
        let key = key.to_owned();
        Box::pin(self.blocking(move |s| s.cas(&key, expected, new)))
    }
}

/// One consumer's read position on one partition, moved by awaited
/// compare-and-swap checkpoints: the async [`ConsumerCursor`], with the
/// same rules.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AsyncConsumerCursor {
    inner: ConsumerCursor,
}

impl AsyncConsumerCursor {
    /// A cursor at offset 0 (see [`ConsumerCursor::new`]).
    #[must_use]
    pub fn new(consumer_id: impl Into<String>, partition_key: impl Into<String>) -> Self {
        Self {
            inner: ConsumerCursor::new(consumer_id, partition_key),
        }
    }

    /// Resume from the store; an absent cursor resumes at 0 (see
    /// [`ConsumerCursor::resume`]: for the first run only).
    ///
    /// # Errors
    ///
    /// Store read errors.
    pub async fn resume(
        consumer_id: impl Into<String>,
        partition_key: impl Into<String>,
        store: &dyn AsyncDurableStore,
    ) -> Result<Self, DurabilityError> {
        let consumer_id = consumer_id.into();
        let partition_key = partition_key.into();
        let current = store
            .read_value(&cursor_key_for(&consumer_id, &partition_key))
            .await?
            .unwrap_or(0);
        Ok(Self {
            inner: ConsumerCursor::from_persisted(consumer_id, partition_key, current),
        })
    }

    /// The cursor's state, as a sync [`ConsumerCursor`].
    #[must_use]
    pub const fn as_sync(&self) -> &ConsumerCursor {
        &self.inner
    }

    /// The offset this cursor believes the store holds.
    #[must_use]
    pub const fn current_offset(&self) -> u64 {
        self.inner.current_offset()
    }

    /// The store key, `CONSUMER:CHANNEL:INDEX`.
    #[must_use]
    pub fn cursor_key(&self) -> String {
        self.inner.cursor_key()
    }

    /// Move forward to `new_offset` (see [`ConsumerCursor::checkpoint`]).
    ///
    /// # Errors
    ///
    /// As [`ConsumerCursor::checkpoint`].
    pub async fn checkpoint(
        &mut self,
        store: &dyn AsyncDurableStore,
        new_offset: u64,
    ) -> Result<(), DurabilityError> {
        if new_offset < self.inner.current_offset {
            return Err(DurabilityError::CursorRegression {
                key: self.cursor_key(),
                current: self.inner.current_offset,
                attempted: new_offset,
            });
        }
        self.swap(store, new_offset).await
    }

    /// Move to `new_offset` even backwards (see [`ConsumerCursor::rewind`]).
    ///
    /// # Errors
    ///
    /// As [`ConsumerCursor::rewind`].
    pub async fn rewind(
        &mut self,
        store: &dyn AsyncDurableStore,
        new_offset: u64,
    ) -> Result<(), DurabilityError> {
        self.swap(store, new_offset).await
    }

    /// Take the offset the store holds now (see [`ConsumerCursor::resync`]).
    ///
    /// # Errors
    ///
    /// Store read errors; the cursor is left unchanged.
    pub async fn resync(
        &mut self,
        store: &dyn AsyncDurableStore,
    ) -> Result<Resync, DurabilityError> {
        let found = store.read_value(&self.cursor_key()).await?;
        self.inner.current_offset = found.unwrap_or(0);
        Ok(found.map_or(Resync::Absent, Resync::Stored))
    }

    /// Take the value a stale checkpoint found (see
    /// [`ConsumerCursor::resync_from`]).
    pub fn resync_from(&mut self, err: &DurabilityError) -> Option<Resync> {
        self.inner.resync_from(err)
    }

    async fn swap(
        &mut self,
        store: &dyn AsyncDurableStore,
        new_offset: u64,
    ) -> Result<(), DurabilityError> {
        let key = self.cursor_key();
        store
            .cas(&key, self.inner.current_offset, new_offset)
            .await?;
        self.inner.current_offset = new_offset;
        Ok(())
    }
}

/// Applies a [`CheckpointPolicy`] to processed messages, awaiting the
/// store: the async [`CheckpointDriver`], the same rules (what a failed
/// checkpoint leaves behind, `reset` and `rebase`, the settling of a lost
/// write).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AsyncCheckpointDriver {
    inner: CheckpointDriver,
}

impl AsyncCheckpointDriver {
    /// A driver for a policy or a durability configuration.
    #[must_use]
    pub fn new(policy: impl Into<CheckpointPolicy>) -> Self {
        Self {
            inner: CheckpointDriver::new(policy),
        }
    }

    /// The driver's state, as a sync [`CheckpointDriver`] (its accessors:
    /// `pending_offset`, `needs_resync`, `unknown_outcome`, ...).
    #[must_use]
    pub const fn as_sync(&self) -> &CheckpointDriver {
        &self.inner
    }

    /// See [`CheckpointDriver::reset`].
    pub fn reset(&mut self) -> Option<u64> {
        self.inner.reset()
    }

    /// See [`CheckpointDriver::rebase`].
    pub fn rebase(&mut self, cursor_offset: u64) {
        self.inner.rebase(cursor_offset);
    }

    /// Record one processed message and checkpoint if the policy says so
    /// (see [`CheckpointDriver::record_processed`]).
    ///
    /// # Errors
    ///
    /// As [`CheckpointDriver::record_processed`].
    pub async fn record_processed(
        &mut self,
        cursor: &mut AsyncConsumerCursor,
        store: &dyn AsyncDurableStore,
        next_offset: u64,
    ) -> Result<(), DurabilityError> {
        if self.inner.note_processed(next_offset)? {
            self.checkpoint_pending(cursor, store).await
        } else {
            Ok(())
        }
    }

    /// Checkpoint the pending offset, if any (see [`CheckpointDriver::flush`]).
    ///
    /// # Errors
    ///
    /// As [`CheckpointDriver::flush`].
    pub async fn flush(
        &mut self,
        cursor: &mut AsyncConsumerCursor,
        store: &dyn AsyncDurableStore,
    ) -> Result<(), DurabilityError> {
        self.inner.policy().validate()?;
        self.checkpoint_pending(cursor, store).await
    }

    async fn checkpoint_pending(
        &mut self,
        cursor: &mut AsyncConsumerCursor,
        store: &dyn AsyncDurableStore,
    ) -> Result<(), DurabilityError> {
        let Some(mut offset) = self.inner.due_offset()? else {
            return Ok(());
        };
        loop {
            let result = cursor.checkpoint(store, offset).await;
            match self.inner.settle(&mut cursor.inner, offset, result)? {
                Some(again) => offset = again,
                None => return Ok(()),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::memory::MemoryStore;

    fn runtime() -> tokio::runtime::Runtime {
        tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .build()
            .unwrap()
    }

    #[test]
    fn the_async_driver_follows_the_policy_over_a_blocking_store() {
        runtime().block_on(async {
            let store = BlockingStore::new(MemoryStore::new());
            let mut cursor = AsyncConsumerCursor::resume("billing", "orders:3", &store)
                .await
                .unwrap();
            let mut driver = AsyncCheckpointDriver::new(CheckpointPolicy::PerBatch(3));
            for next in 1..=10 {
                driver
                    .record_processed(&mut cursor, &store, next)
                    .await
                    .unwrap();
            }
            assert_eq!(store.read_value("billing:orders:3").await.unwrap(), Some(9));
            driver.flush(&mut cursor, &store).await.unwrap();
            assert_eq!(
                store.read_value("billing:orders:3").await.unwrap(),
                Some(10)
            );
            let err = cursor.checkpoint(&store, 4).await.unwrap_err();
            assert!(err.is_regression());
            store.store.lock().unwrap().put("billing:orders:3", 20);
            let err = cursor.checkpoint(&store, 11).await.unwrap_err();
            assert_eq!(err.stale_actual(), Some(Some(20)));
            assert_eq!(cursor.resync(&store).await.unwrap(), Resync::Stored(20));
            cursor.rewind(&store, 5).await.unwrap();
            assert_eq!(cursor.current_offset(), 5);
        });
    }
}
