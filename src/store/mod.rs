//! Where cursors live: the store boundary every backend implements.
//!
//! - [`DurableStore`]: the checkpoint trait of the seed (read a value,
//!   compare-and-swap), implemented by every store and write transaction,
//!   and by the in-memory [`memory::MemoryStore`];
//! - [`Store`]: a cursor store as a whole (reads, the store's clock, a read
//!   snapshot, a write transaction), and [`WriteTxn`]: one all-or-nothing
//!   write with its history;
//! - the rows, filters and inputs they speak in ([`CursorRow`],
//!   [`HistoryRow`], [`ChangeInput`], [`CursorFilter`], [`HistoryFilter`]);
//! - [`StoreLocation`] and [`Backend`]: a path or a `postgres://` URL, and
//!   [`open`] / [`init`], which pick the backend from it.
//!
//! What a backend must guarantee is written in docs/store.md.

pub mod chain;
pub mod memory;
#[cfg(feature = "postgres")]
pub mod postgres;
#[cfg(feature = "sqlite")]
pub mod sqlite;

#[cfg(feature = "sqlite")]
pub use sqlite::SqliteOptions;

mod location;
mod types;
mod write_id;

use std::ops::ControlFlow;
use std::time::Duration;

pub use location::{Backend, StoreLocation};
pub use types::{
    Access, BatchRow, ChangeInput, ConsumerFilter, ConsumerSummary, CopiedRow, CursorFilter,
    CursorHeadRow, CursorRow, HeadChangeInput, HeadChangeRow, HeadFilter, HeadRow, HighestIds,
    HistoryFilter, HistoryRow, InitOutcome, LeaseRow, SnapshotRow, StoreAbout, COUNTED_TABLES,
};
pub use write_id::{
    commit_lost, is_not_written, is_write_id, new_write_id, resolve_write, resolve_write_at,
    CommitLost, SettledWrite, WriteResolution, WRITE_IDS_VERSION,
};

/// The first schema version with snapshots.
pub const SNAPSHOTS_VERSION: i64 = 2;

/// The first schema version with heads.
pub const HEADS_VERSION: i64 = 3;

/// The first schema version with leases.
pub const LEASES_VERSION: i64 = 4;

use crate::error::{DurabilityError, StoreError};
use crate::key::{CursorKey, PartitionKey};

/// The default busy timeout: how long a write waits for a store locked by
/// another writer.
pub const DEFAULT_BUSY_TIMEOUT: Duration = Duration::from_secs(5);

/// A key-value store of cursor offsets with compare-and-swap.
///
/// Keys are cursor keys (`CONSUMER:CHANNEL:INDEX`); values are offsets. An
/// absent key reads as offset 0 for the purpose of compare-and-swap.
pub trait DurableStore {
    /// Read the offset stored under `key` (`None`: absent).
    ///
    /// # Errors
    ///
    /// Store failures, an invalid key, or a stored value that is not a valid
    /// offset.
    fn read_value(&self, key: &str) -> Result<Option<u64>, DurabilityError>;

    /// Write `new` under `key` only if the stored value equals `expected`
    /// (absent counts as 0).
    ///
    /// # Errors
    ///
    /// [`DurabilityError::StaleCheckpoint`] with the value found when it does
    /// not equal `expected`; store failures.
    fn cas(&self, key: &str, expected: u64, new: u64) -> Result<(), DurabilityError>;

    /// A compare-and-swap through a lease: written only if the cursor's
    /// lease is live on the store's clock and of epoch `epoch`, and the
    /// stored value equals `expected` (see [`crate::lease`]).
    ///
    /// # Errors
    ///
    /// [`DurabilityError::Fenced`] when the lease is not live or not of
    /// that epoch (nothing written), then as [`DurableStore::cas`]; a store
    /// that keeps no leases refuses every such checkpoint as fenced.
    fn leased_cas(
        &self,
        key: &str,
        epoch: u64,
        expected: u64,
        new: u64,
    ) -> Result<(), DurabilityError> {
        let _ = (expected, new);
        Err(crate::lease::no_leases(key, epoch))
    }

    /// Renew a live lease of `owner` and `epoch` for `ttl_ms` from now on
    /// the store's clock, in one statement; the new expiry.
    ///
    /// # Errors
    ///
    /// [`DurabilityError::Fenced`] when the lease is no longer live or of
    /// that owner and epoch (nothing written); store failures.
    fn renew_lease(
        &self,
        key: &str,
        owner: &str,
        epoch: u64,
        ttl_ms: i64,
    ) -> Result<i64, DurabilityError> {
        let _ = (owner, ttl_ms);
        Err(crate::lease::no_leases(key, epoch))
    }
}

/// What a visitor of a listing returns: go on, or stop early.
pub type Visit = ControlFlow<()>;

/// The reads every view of a store offers (the store, a write
/// transaction). Listings stream: a visitor sees one row at a time and
/// memory does not grow with the store.
pub trait StoreRead {
    /// Read one cursor.
    ///
    /// # Errors
    ///
    /// Store failures and [`StoreError::InvalidValue`].
    fn cursor(&self, key: &CursorKey) -> Result<Option<CursorRow>, StoreError>;

    /// Visit every cursor matching `filter`, in key order (consumer,
    /// channel, then partition as a number). A row whose offset is invalid
    /// is passed as [`StoreError::InvalidValue`].
    ///
    /// # Errors
    ///
    /// Store failures.
    fn visit_cursors(
        &self,
        filter: &CursorFilter,
        each: &mut dyn FnMut(Result<&CursorRow, StoreError>) -> Visit,
    ) -> Result<(), StoreError>;

    /// Visit recorded changes matching `filter`, oldest first.
    ///
    /// # Errors
    ///
    /// Store failures.
    fn visit_changes(
        &self,
        filter: &HistoryFilter,
        each: &mut dyn FnMut(&HistoryRow) -> Visit,
    ) -> Result<(), StoreError>;

    /// One recorded change by id.
    ///
    /// # Errors
    ///
    /// Store failures.
    fn change(&self, id: i64) -> Result<Option<HistoryRow>, StoreError>;

    /// Visit every batch, oldest first.
    ///
    /// # Errors
    ///
    /// Store failures.
    fn visit_batches(&self, each: &mut dyn FnMut(&BatchRow) -> Visit) -> Result<(), StoreError>;

    /// Visit one summary per consumer matching `filter`, in consumer order,
    /// aggregated by the store's own query (memory does not grow with the
    /// number of cursors).
    ///
    /// # Errors
    ///
    /// Store failures.
    fn visit_consumers(
        &self,
        filter: &ConsumerFilter,
        each: &mut dyn FnMut(&ConsumerSummary) -> Visit,
    ) -> Result<(), StoreError>;

    /// Read the offsets of many cursors in one go (a bulk write reads each
    /// chunk of its input ahead): one entry per key, `None` for an absent
    /// cursor. `Ok(None)` from a store whose single reads cost as little
    /// (SQLite, in the process): each cursor is then read when needed.
    ///
    /// # Errors
    ///
    /// Store failures.
    fn read_ahead(&self, keys: &[&CursorKey]) -> Result<Option<Vec<Option<u64>>>, StoreError> {
        let _ = keys;
        Ok(None)
    }

    /// An empty set of cursor keys for one input (a bulk write's duplicate
    /// check). A backend that can keeps it outside memory (SQLite: a
    /// temporary table); the default keeps a 128-bit fingerprint per key in
    /// memory.
    ///
    /// # Errors
    ///
    /// Store failures.
    fn seen_keys(&self) -> Result<Box<dyn SeenKeys + '_>, StoreError> {
        Ok(Box::new(MemorySeenKeys::default()))
    }

    /// One snapshot by name (schema version 2).
    ///
    /// # Errors
    ///
    /// Store failures.
    fn snapshot_info(&self, name: &str) -> Result<Option<SnapshotRow>, StoreError>;

    /// Visit every snapshot, by name.
    ///
    /// # Errors
    ///
    /// Store failures.
    fn visit_snapshots(
        &self,
        each: &mut dyn FnMut(&SnapshotRow) -> Visit,
    ) -> Result<(), StoreError>;

    /// Visit the cursors a snapshot holds, in key order (`updated_at` is
    /// `None`).
    ///
    /// # Errors
    ///
    /// Store failures.
    fn visit_snapshot_cursors(
        &self,
        name: &str,
        each: &mut dyn FnMut(&CursorRow) -> Visit,
    ) -> Result<(), StoreError>;

    /// One partition's head (schema version 3; `None` on an older store,
    /// which knows no heads).
    ///
    /// # Errors
    ///
    /// Store failures, and [`StoreError::InvalidValue`] for a stored head
    /// that is not an offset.
    fn head(&self, key: &PartitionKey) -> Result<Option<HeadRow>, StoreError>;

    /// One cursor and its partition's head, read together (one statement
    /// where the store can: `get` of one cursor).
    ///
    /// # Errors
    ///
    /// As [`StoreRead::cursor`] and [`StoreRead::head`].
    fn cursor_head(
        &self,
        key: &CursorKey,
    ) -> Result<(Option<CursorRow>, Option<HeadRow>), StoreError> {
        Ok((self.cursor(key)?, self.head(key.partition_key())?))
    }

    /// Visit every head matching `filter`, in partition key order (channel,
    /// then partition as a number); nothing on an older store.
    ///
    /// # Errors
    ///
    /// Store failures.
    /// The highest ids the store has ever given (kept when their rows are
    /// pruned); `None` where the view cannot tell.
    ///
    /// # Errors
    ///
    /// Store failures.
    fn highest_ids(&self) -> Result<Option<HighestIds>, StoreError> {
        Ok(None)
    }

    /// Recompute the hash chain of the history (`history verify`); `None`
    /// where the store keeps none (schema versions before 4, memory).
    ///
    /// # Errors
    ///
    /// Store failures.
    fn verify_history(&self) -> Result<Option<chain::ChainReport>, StoreError> {
        Ok(None)
    }

    fn visit_heads(
        &self,
        filter: &HeadFilter,
        each: &mut dyn FnMut(&HeadRow) -> Visit,
    ) -> Result<(), StoreError>;

    /// Visit every cursor matching `filter` with its partition's head, in
    /// key order: one query that joins the heads (memory does not grow
    /// with the store). On an older store every head is `None`. A row whose
    /// offset is invalid is passed as [`StoreError::InvalidValue`].
    ///
    /// # Errors
    ///
    /// Store failures.
    fn visit_cursor_heads(
        &self,
        filter: &CursorFilter,
        each: &mut dyn FnMut(Result<&CursorHeadRow, StoreError>) -> Visit,
    ) -> Result<(), StoreError>;

    /// Visit recorded head changes matching `filter`, oldest first.
    ///
    /// # Errors
    ///
    /// Store failures.
    fn visit_head_changes(
        &self,
        filter: &HeadFilter,
        each: &mut dyn FnMut(&HeadChangeRow) -> Visit,
    ) -> Result<(), StoreError>;

    /// One cursor's lease, live or not (schema version 4; `None` on an
    /// older store, which keeps no leases).
    ///
    /// # Errors
    ///
    /// Store failures.
    fn lease(&self, key: &CursorKey) -> Result<Option<LeaseRow>, StoreError>;

    /// Visit every lease (of `consumer`, if given), live or not, in key
    /// order; nothing on an older store.
    ///
    /// # Errors
    ///
    /// Store failures.
    fn visit_leases(
        &self,
        consumer: Option<&str>,
        each: &mut dyn FnMut(&LeaseRow) -> Visit,
    ) -> Result<(), StoreError>;
}

/// Cursor keys met in one input, each with the line it first appeared on.
pub trait SeenKeys {
    /// Record `key` on `line`; the line it was first met on, if it was met
    /// before.
    ///
    /// # Errors
    ///
    /// Store failures.
    fn first_line(&mut self, key: &CursorKey, line: u64) -> Result<Option<u64>, StoreError>;
}

/// [`SeenKeys`] in memory: a 128-bit fingerprint of each key (a false match
/// is about 1 in 10^26 for a million keys), 24 bytes a key.
#[derive(Default)]
struct MemorySeenKeys {
    hashers: (std::hash::RandomState, std::hash::RandomState),
    lines: std::collections::HashMap<(u64, u64), u64>,
}

impl SeenKeys for MemorySeenKeys {
    fn first_line(&mut self, key: &CursorKey, line: u64) -> Result<Option<u64>, StoreError> {
        use std::hash::BuildHasher;
        let fingerprint = (self.hashers.0.hash_one(key), self.hashers.1.hash_one(key));
        Ok(match self.lines.entry(fingerprint) {
            std::collections::hash_map::Entry::Occupied(o) => Some(*o.get()),
            std::collections::hash_map::Entry::Vacant(v) => {
                v.insert(line);
                None
            }
        })
    }
}

/// A cursor store. Each call outside a transaction is its own
/// transaction; [`DurableStore::cas`] on the store is one compare-and-swap
/// with no history row (a consumer's checkpoint). Every store is `Send`,
/// so a store from [`open`] can move to another thread.
pub trait Store: StoreRead + DurableStore + Send {
    /// Where the store lives: for SQLite the path given; for PostgreSQL
    /// the URL of the user, hosts, database and schema connected with
    /// (whatever of them the `PG*` variables gave), without a password.
    fn location(&self) -> &StoreLocation;

    /// The schema version of the store.
    ///
    /// # Errors
    ///
    /// Store failures.
    fn schema_version(&self) -> Result<i64, StoreError>;

    /// Where the store is (the server and the session, on PostgreSQL) and
    /// how many rows it holds ([`StoreAbout`]).
    ///
    /// # Errors
    ///
    /// Store failures.
    fn about(&self) -> Result<StoreAbout, StoreError>;

    /// The store's clock, in milliseconds since the Unix epoch: one clock
    /// for every host that shares the store.
    ///
    /// # Errors
    ///
    /// Store failures.
    fn clock_ms(&self) -> Result<i64, StoreError>;

    /// Start a read snapshot: until it is dropped, every read through the
    /// store sees the same committed state, and no write lock is taken.
    ///
    /// # Errors
    ///
    /// Store failures.
    fn begin_snapshot(&self) -> Result<Snapshot<'_>, StoreError>;

    /// End the read snapshot (called by [`Snapshot`]).
    ///
    /// # Errors
    ///
    /// Store failures.
    fn end_snapshot(&self) -> Result<(), StoreError>;

    /// Start a write transaction. Dropping it without
    /// [`WriteTxn::commit`] rolls everything back.
    ///
    /// # Errors
    ///
    /// [`StoreError::Busy`] when the store stays locked past the busy
    /// timeout, and other store failures.
    fn begin_write(&self) -> Result<Box<dyn WriteTxn + '_>, StoreError>;

    /// How long a write may wait for other writers: for a lock, and for
    /// the retries of transactions the store aborted to keep them
    /// serializable.
    fn busy_timeout(&self) -> Duration {
        DEFAULT_BUSY_TIMEOUT
    }

    /// What [`WriteTxn::prune_history`] would remove for `before`: (changes,
    /// batches).
    ///
    /// # Errors
    ///
    /// Store failures.
    fn prunable_history(&self, before: i64) -> Result<(u64, u64), StoreError>;

    /// Remove this store, which `init` has just created
    /// ([`InitOutcome::Created`]) and which nothing has written since: a
    /// file it created is deleted (an empty one it found is emptied
    /// again), a PostgreSQL schema it created is dropped (in a schema it
    /// found empty, what it created there is dropped). Used when what was
    /// to fill the new store failed.
    ///
    /// # Errors
    ///
    /// Store failures.
    fn remove_created(self: Box<Self>) -> Result<(), StoreError>;

    /// Settle a write by its write id ([`WriteTxn::write_id`]): committed
    /// (with its batch and first change), or not written, in which case the
    /// store marks the id so, and a transaction of it still finishing can
    /// no longer commit. See [`resolve_write`], which reads its records too.
    ///
    /// # Errors
    ///
    /// Store failures; [`StoreError::Unsupported`] where the store keeps no
    /// write ids (before schema version 4, in memory).
    fn settle_write(&self, write_id: &str) -> Result<SettledWrite, StoreError> {
        let _ = write_id;
        Err(StoreError::Unsupported {
            location: self.location().clone(),
            detail: "this store keeps no write ids (schema version 4 and later do: `cursorctl init` upgrades a store)".to_owned(),
        })
    }
}

/// A read snapshot of a store; ends when dropped.
pub struct Snapshot<'s> {
    store: &'s dyn Store,
    ended: bool,
}

impl<'s> Snapshot<'s> {
    /// Mark a snapshot the store has begun (for backends).
    #[must_use]
    pub fn begun(store: &'s dyn Store) -> Self {
        Self {
            store,
            ended: false,
        }
    }

    /// End the snapshot now, reporting a failure to end it.
    ///
    /// # Errors
    ///
    /// Store failures.
    pub fn end(mut self) -> Result<(), StoreError> {
        self.ended = true;
        self.store.end_snapshot()
    }
}

impl Drop for Snapshot<'_> {
    fn drop(&mut self) {
        if !self.ended {
            let _ = self.store.end_snapshot();
        }
    }
}

/// One write transaction: every cursor write, history row and batch in it
/// commits together or not at all.
///
/// Every write is safe without a store-wide lock: a compare-and-swap is one
/// guarded `UPDATE ... WHERE offset = expected` (or an insert that does
/// nothing when the cursor exists), a removal is a guarded `DELETE`, and
/// ids come from the insert itself.
pub trait WriteTxn: StoreRead + DurableStore {
    /// The time of this transaction on the store's clock, in milliseconds
    /// since the Unix epoch.
    fn now_ms(&self) -> i64;

    /// Remove a cursor if it still holds `expected`.
    ///
    /// # Errors
    ///
    /// [`DurabilityError::StaleCheckpoint`] when it holds something else or
    /// is absent; store failures.
    fn remove_if(&self, key: &CursorKey, expected: u64) -> Result<(), DurabilityError>;

    /// Start a batch of changes; returns its id.
    ///
    /// # Errors
    ///
    /// Store failures.
    fn new_batch(&self, command: &str, reason: Option<&str>, user: &str)
        -> Result<i64, StoreError>;

    /// Record a change in the history; returns its id.
    ///
    /// # Errors
    ///
    /// Store failures.
    fn record_change(&self, change: &ChangeInput<'_>) -> Result<i64, StoreError>;

    /// The ids of a batch's changes, oldest first.
    ///
    /// # Errors
    ///
    /// Store failures.
    fn batch_change_ids(&self, batch: i64) -> Result<Vec<i64>, StoreError>;

    /// Delete the history older than `before` (ms since the epoch), never
    /// half a batch: a batch with a change at or after `before` is kept
    /// whole, and a batch goes when its last change goes. Returns (changes,
    /// batches) removed.
    ///
    /// # Errors
    ///
    /// Store failures.
    fn prune_history(&self, before: i64) -> Result<(u64, u64), StoreError>;

    /// Save the offsets of every cursor (of `consumer`, if given) as a
    /// snapshot named `name`; returns how many cursors it holds.
    ///
    /// # Errors
    ///
    /// Store failures, among them a name that is taken.
    fn save_snapshot(
        &self,
        name: &str,
        consumer: Option<&str>,
        reason: Option<&str>,
        user: &str,
    ) -> Result<u64, StoreError>;

    /// Delete a snapshot; whether there was one.
    ///
    /// # Errors
    ///
    /// Store failures.
    fn drop_snapshot(&self, name: &str) -> Result<bool, StoreError>;

    /// Write a row copied from another store as it is, with its id and
    /// times (`copy-store` into an empty store).
    ///
    /// # Errors
    ///
    /// Store failures, among them a row whose key or id is taken.
    fn copy_in(&self, row: CopiedRow<'_>) -> Result<(), StoreError>;

    /// After the last [`WriteTxn::copy_in`]: new ids continue after the
    /// copied ones, and after `highest` (the highest ids the source ever
    /// gave).
    ///
    /// # Errors
    ///
    /// Store failures.
    fn finish_copy(&self, highest: HighestIds) -> Result<(), StoreError>;

    /// Make many changes, each guarded like a compare-and-swap (the cursor
    /// must hold `old_offset`, or be absent for `None`; it gets
    /// `new_offset`, or is removed for `None`), and record each in the
    /// history, in order. Returns the positions of the changes whose cursor
    /// held something else: the transaction must then not be committed, as
    /// the others may have been written. A cursor is meant to appear once;
    /// if it appears twice, one of its changes is returned.
    ///
    /// A store that can makes them as one set (PostgreSQL: one statement
    /// for the whole slice); the default makes them one by one.
    ///
    /// # Errors
    ///
    /// Store failures, and a change the library refuses (an offset above
    /// the limit).
    fn apply_changes(&self, changes: &[ChangeInput<'_>]) -> Result<Vec<usize>, DurabilityError> {
        apply_changes_one_by_one(self, changes)
    }

    /// Whether [`WriteTxn::apply_changes`] writes many changes as one set
    /// (a bulk write then hands it its lines a chunk at a time, even where
    /// the store reads no cursor ahead).
    fn applies_changes_as_set(&self) -> bool {
        false
    }

    /// Whether the store aborted this transaction to keep concurrent
    /// transactions serializable (a serialization failure or a deadlock):
    /// running the whole transaction again may succeed.
    fn must_retry(&self) -> bool {
        false
    }

    /// Write a partition's head, guarded like a compare-and-swap: only if
    /// the stored head equals `expected` (`None`: no head is stored, and
    /// one is inserted). `recorded_at` becomes the transaction's time, also
    /// when the head stays the same. Returns `Err(actual)` with the head
    /// found when it does not hold `expected`; nothing is written then.
    /// Which moves are allowed (forward only, unless a rewind) is decided
    /// by the caller ([`crate::heads::write_head`]).
    ///
    /// # Errors
    ///
    /// Store failures, among them a store older than schema version 3.
    fn swap_head(
        &self,
        key: &PartitionKey,
        expected: Option<u64>,
        new: u64,
    ) -> Result<Result<(), Option<u64>>, StoreError>;

    /// Record a head change in the head history; returns its id.
    ///
    /// # Errors
    ///
    /// Store failures.
    fn record_head_change(&self, change: &HeadChangeInput<'_>) -> Result<i64, StoreError>;

    /// The write id of this transaction, stored with it when it commits
    /// (stores of schema version 4 and later): what tells, when the
    /// connection is lost while committing, whether it was committed (see
    /// [`resolve_write`]).
    fn write_id(&self) -> Option<&str> {
        None
    }

    /// Read a cursor's lease and keep it from changing until the
    /// transaction ends (PostgreSQL: `FOR UPDATE`; SQLite's write
    /// transaction holds the whole store already).
    ///
    /// # Errors
    ///
    /// Store failures, among them a store older than schema version 4.
    fn lock_lease(&self, key: &CursorKey) -> Result<Option<LeaseRow>, StoreError>;

    /// Write a cursor's lease as given (insert or replace).
    ///
    /// # Errors
    ///
    /// Store failures, among them a store older than schema version 4.
    fn put_lease(&self, row: &LeaseRow) -> Result<(), StoreError>;

    /// The store's clock now, read after whatever the transaction waited
    /// for (leases are judged by it); [`WriteTxn::now_ms`] where the
    /// transaction's time is taken once the store is locked (SQLite).
    ///
    /// # Errors
    ///
    /// Store failures.
    fn clock_now_ms(&self) -> Result<i64, StoreError> {
        Ok(self.now_ms())
    }

    /// Commit everything written in the transaction.
    ///
    /// # Errors
    ///
    /// Store failures (then nothing was written). On a server store, a
    /// connection lost while committing is settled by the write id before
    /// this returns: `Ok` when the write was committed; an error whose
    /// [`CommitLost`] says not written (proven) or, when no server that
    /// accepts writes answered within the busy timeout, unknown.
    fn commit(self: Box<Self>) -> Result<(), StoreError>;
}

/// [`WriteTxn::apply_changes`] one change at a time: a compare-and-swap
/// (or a guarded removal) and its history row each.
///
/// # Errors
///
/// As [`WriteTxn::apply_changes`].
pub fn apply_changes_one_by_one<T: WriteTxn + ?Sized>(
    txn: &T,
    changes: &[ChangeInput<'_>],
) -> Result<Vec<usize>, DurabilityError> {
    let mut stale = Vec::new();
    for (position, change) in changes.iter().enumerate() {
        let made = match (change.old_offset, change.new_offset) {
            (old, Some(new)) => txn.cas(&change.key.to_string(), old.unwrap_or(0), new),
            (Some(old), None) => txn.remove_if(change.key, old),
            (None, None) => Ok(()),
        };
        match made {
            Ok(()) => {
                txn.record_change(change)?;
            }
            Err(DurabilityError::StaleCheckpoint { .. }) => stale.push(position),
            Err(e) => return Err(e),
        }
    }
    Ok(stale)
}

/// Run a visit with a visitor that returns errors: the visit stops at the
/// first one, which is returned.
fn until_error<R: ?Sized, E: From<StoreError>>(
    visit: impl FnOnce(&mut dyn FnMut(&R) -> Visit) -> Result<(), StoreError>,
    mut each: impl FnMut(&R) -> Result<(), E>,
) -> Result<(), E> {
    let mut failed = None;
    visit(&mut |row| match each(row) {
        Ok(()) => Visit::Continue(()),
        Err(e) => {
            failed = Some(e);
            Visit::Break(())
        }
    })?;
    failed.map_or(Ok(()), Err)
}

/// Generic conveniences over [`StoreRead`]: visitors that return errors,
/// each visit stopping at the first one.
///
/// # Errors
///
/// Every method returns store failures, and whatever `each` returns.
pub trait StoreReadExt: StoreRead {
    /// Call `each` for every cursor matching `filter`, in key order.
    fn for_each_cursor<E: From<StoreError>>(
        &self,
        filter: &CursorFilter,
        mut each: impl FnMut(Result<&CursorRow, StoreError>) -> Result<(), E>,
    ) -> Result<(), E> {
        let mut failed = None;
        self.visit_cursors(filter, &mut |row| match each(row) {
            Ok(()) => Visit::Continue(()),
            Err(e) => {
                failed = Some(e);
                Visit::Break(())
            }
        })?;
        failed.map_or(Ok(()), Err)
    }

    /// Call `each` for every cursor matching `filter` with its partition's
    /// head, in key order.
    fn for_each_cursor_head<E: From<StoreError>>(
        &self,
        filter: &CursorFilter,
        mut each: impl FnMut(Result<&CursorHeadRow, StoreError>) -> Result<(), E>,
    ) -> Result<(), E> {
        let mut failed = None;
        self.visit_cursor_heads(filter, &mut |row| match each(row) {
            Ok(()) => Visit::Continue(()),
            Err(e) => {
                failed = Some(e);
                Visit::Break(())
            }
        })?;
        failed.map_or(Ok(()), Err)
    }

    /// Call `each` for every head matching `filter`, in partition key order.
    fn for_each_head<E: From<StoreError>>(
        &self,
        filter: &HeadFilter,
        each: impl FnMut(&HeadRow) -> Result<(), E>,
    ) -> Result<(), E> {
        until_error(|visit| self.visit_heads(filter, visit), each)
    }

    /// Call `each` for every recorded head change matching `filter`, oldest
    /// first.
    fn for_each_head_change<E: From<StoreError>>(
        &self,
        filter: &HeadFilter,
        each: impl FnMut(&HeadChangeRow) -> Result<(), E>,
    ) -> Result<(), E> {
        until_error(|visit| self.visit_head_changes(filter, visit), each)
    }

    /// Call `each` for every recorded change matching `filter`, oldest
    /// first.
    fn for_each_change<E: From<StoreError>>(
        &self,
        filter: &HistoryFilter,
        each: impl FnMut(&HistoryRow) -> Result<(), E>,
    ) -> Result<(), E> {
        until_error(|visit| self.visit_changes(filter, visit), each)
    }

    /// Call `each` for every batch, oldest first.
    fn for_each_batch<E: From<StoreError>>(
        &self,
        each: impl FnMut(&BatchRow) -> Result<(), E>,
    ) -> Result<(), E> {
        until_error(|visit| self.visit_batches(visit), each)
    }

    /// Call `each` for every consumer's summary, in consumer order.
    fn for_each_consumer<E: From<StoreError>>(
        &self,
        filter: &ConsumerFilter,
        each: impl FnMut(&ConsumerSummary) -> Result<(), E>,
    ) -> Result<(), E> {
        until_error(|visit| self.visit_consumers(filter, visit), each)
    }

    /// Call `each` for every snapshot, by name.
    fn for_each_snapshot<E: From<StoreError>>(
        &self,
        each: impl FnMut(&SnapshotRow) -> Result<(), E>,
    ) -> Result<(), E> {
        until_error(|visit| self.visit_snapshots(visit), each)
    }

    /// Call `each` for every cursor a snapshot holds, in key order.
    fn for_each_snapshot_cursor<E: From<StoreError>>(
        &self,
        name: &str,
        each: impl FnMut(&CursorRow) -> Result<(), E>,
    ) -> Result<(), E> {
        until_error(|visit| self.visit_snapshot_cursors(name, visit), each)
    }
}

impl<T: StoreRead + ?Sized> StoreReadExt for T {}

/// Generic conveniences over [`Store`]: closures run in a snapshot or a
/// write transaction.
pub trait StoreExt: Store {
    /// Run `f` in one read snapshot.
    ///
    /// # Errors
    ///
    /// Store failures, and whatever `f` returns.
    fn snapshot<T, E: From<StoreError>>(
        &self,
        f: impl FnOnce(&Self) -> Result<T, E>,
    ) -> Result<T, E> {
        let snapshot = self.begin_snapshot()?;
        let value = f(self)?;
        snapshot.end()?;
        Ok(value)
    }

    /// Run `f` in one write transaction; commit if it returns `Ok`, roll
    /// back otherwise. When the store aborts the transaction to keep
    /// concurrent ones serializable (PostgreSQL under `SERIALIZABLE`, a
    /// deadlock), `f` runs again in a new transaction, with a growing pause,
    /// until the busy timeout has passed: `f` must be safe to run again.
    ///
    /// # Errors
    ///
    /// [`StoreError::Busy`] when the store stays locked (or keeps aborting
    /// the transaction) past the busy timeout, other store failures, and
    /// whatever `f` returns.
    fn write<T, E: From<StoreError>>(
        &self,
        f: impl FnMut(&dyn WriteTxn) -> Result<T, E>,
    ) -> Result<T, E> {
        self.write_then(Outcome::Commit, f)
    }

    /// Run `f` in one write transaction and roll it back: the plan of a
    /// dry run, made by the very code of the write, against a transaction
    /// that sees its own earlier effects. Retried as [`StoreExt::write`].
    ///
    /// # Errors
    ///
    /// As [`StoreExt::write`].
    fn write_rolled_back<T, E: From<StoreError>>(
        &self,
        f: impl FnMut(&dyn WriteTxn) -> Result<T, E>,
    ) -> Result<T, E> {
        self.write_then(Outcome::RollBack, f)
    }

    /// [`StoreExt::write`] or [`StoreExt::write_rolled_back`], by `outcome`.
    ///
    /// # Errors
    ///
    /// As [`StoreExt::write`].
    fn write_then<T, E: From<StoreError>>(
        &self,
        outcome: Outcome,
        mut f: impl FnMut(&dyn WriteTxn) -> Result<T, E>,
    ) -> Result<T, E> {
        self.write_deciding(|txn| f(txn).map(|value| (value, outcome)))
    }

    /// Run `f` in one write transaction, which it ends as it says: commit
    /// or roll back (a dry run; a batch that changed nothing). Retried as
    /// [`StoreExt::write`].
    ///
    /// # Errors
    ///
    /// As [`StoreExt::write`].
    fn write_deciding<T, E: From<StoreError>>(
        &self,
        mut f: impl FnMut(&dyn WriteTxn) -> Result<(T, Outcome), E>,
    ) -> Result<T, E> {
        let deadline = std::time::Instant::now() + self.busy_timeout();
        let mut pause = Duration::from_millis(2);
        // A write whose commit was lost and is proven not written runs
        // again (f is safe to run again), a few times at most.
        let mut not_written = 0;
        loop {
            let txn = self.begin_write()?;
            let retry = match f(&*txn) {
                Ok((value, Outcome::RollBack)) => return Ok(value),
                Ok((value, Outcome::Commit)) => match txn.commit() {
                    Ok(()) => return Ok(value),
                    Err(StoreError::Busy) => StoreError::Busy,
                    Err(e) if is_not_written(&e) && not_written < 3 => {
                        not_written += 1;
                        continue;
                    }
                    Err(e) => return Err(e.into()),
                },
                Err(e) if txn.must_retry() => {
                    drop(txn);
                    if std::time::Instant::now() >= deadline {
                        return Err(e);
                    }
                    std::thread::sleep(pause);
                    pause = (pause * 2).min(Duration::from_millis(100));
                    continue;
                }
                Err(e) => return Err(e),
            };
            if std::time::Instant::now() >= deadline {
                return Err(retry.into());
            }
            std::thread::sleep(pause);
            pause = (pause * 2).min(Duration::from_millis(100));
        }
    }

    /// Run `f` once in one write transaction, without retries (for a
    /// transaction whose input cannot be read twice).
    ///
    /// # Errors
    ///
    /// As [`StoreExt::write`].
    fn write_once<T, E: From<StoreError>>(
        &self,
        f: impl FnOnce(&dyn WriteTxn) -> Result<T, E>,
    ) -> Result<T, E> {
        self.write_once_then(Outcome::Commit, f)
    }

    /// [`StoreExt::write_once`], committed or rolled back by `outcome`.
    ///
    /// # Errors
    ///
    /// As [`StoreExt::write`].
    fn write_once_then<T, E: From<StoreError>>(
        &self,
        outcome: Outcome,
        f: impl FnOnce(&dyn WriteTxn) -> Result<T, E>,
    ) -> Result<T, E> {
        let txn = self.begin_write()?;
        let value = f(&*txn)?;
        if outcome == Outcome::Commit {
            txn.commit()?;
        }
        Ok(value)
    }
}

impl<T: Store + ?Sized> StoreExt for T {}

/// How a write transaction ends when its work succeeded.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Outcome {
    /// Commit it: the write.
    Commit,
    /// Roll it back: a dry run, which shows what the write would do.
    RollBack,
}

impl Outcome {
    /// [`Outcome::RollBack`] for a dry run.
    #[must_use]
    pub const fn of_dry_run(dry_run: bool) -> Self {
        if dry_run {
            Self::RollBack
        } else {
            Self::Commit
        }
    }

    /// Whether this is a dry run.
    #[must_use]
    pub fn is_dry_run(self) -> bool {
        self == Self::RollBack
    }
}

/// Process-wide settings for a short-lived process (one command-line run):
/// call once, first, before any store is opened. SQLite's memory statistics
/// are turned off: nothing reads them, and keeping them costs a lock and a
/// counter update on every allocation.
pub fn prepare_one_shot_process() {
    #[cfg(feature = "sqlite")]
    sqlite::prepare_one_shot_process();
}

/// Open an existing cursor store; never creates one.
///
/// # Errors
///
/// [`StoreError::Missing`] when there is none, and every reason the
/// location cannot be used as a cursor store.
pub fn open(
    location: &StoreLocation,
    access: Access,
    busy_timeout: Duration,
) -> Result<Box<dyn Store>, StoreError> {
    location.check()?;
    match location {
        #[cfg(feature = "sqlite")]
        StoreLocation::Sqlite(path) => Ok(Box::new(sqlite::SqliteStore::open(
            path,
            access,
            busy_timeout,
        )?)),
        #[cfg(feature = "postgres")]
        StoreLocation::Postgres(_) => Ok(Box::new(postgres::PostgresStore::open(
            location,
            access,
            busy_timeout,
        )?)),
        #[allow(unreachable_patterns)]
        _ => Err(not_built(location)),
    }
}

/// Create a cursor store at `location`, or confirm that one is there.
///
/// # Errors
///
/// [`StoreError::NotACursorStore`], [`StoreError::NewerSchema`], and
/// failures to create it.
pub fn init(
    location: &StoreLocation,
    busy_timeout: Duration,
) -> Result<(Box<dyn Store>, InitOutcome), StoreError> {
    location.check()?;
    match location {
        #[cfg(feature = "sqlite")]
        StoreLocation::Sqlite(path) => {
            let (store, outcome) = sqlite::SqliteStore::init(path, busy_timeout)?;
            Ok((Box::new(store), outcome))
        }
        #[cfg(feature = "postgres")]
        StoreLocation::Postgres(_) => {
            let (store, outcome) = postgres::PostgresStore::init(location, busy_timeout)?;
            Ok((Box::new(store), outcome))
        }
        #[allow(unreachable_patterns)]
        _ => Err(not_built(location)),
    }
}

/// The location's backend is not in this build (a cargo feature).
#[allow(dead_code)]
fn not_built(location: &StoreLocation) -> StoreError {
    StoreError::Unsupported {
        location: location.clone(),
        detail: format!(
            "this build has no {} store (the `{}` feature)",
            location.backend().name(),
            location.backend().name()
        ),
    }
}

/// The three guarded statements a backend runs for a compare-and-swap on
/// one cursor (the cursor is implied).
pub(crate) trait GuardedWrites {
    /// `UPDATE ... SET offset = new WHERE <cursor> AND offset = expected`;
    /// whether a row changed.
    fn swap(&self, expected: u64, new: u64) -> Result<bool, DurabilityError>;
    /// `INSERT ... VALUES (new) ON CONFLICT DO NOTHING`; whether a row was
    /// inserted.
    fn insert(&self, new: u64) -> Result<bool, DurabilityError>;
    /// The cursor's offset (`None`: absent).
    fn read(&self) -> Result<Option<u64>, DurabilityError>;
}

/// Compare-and-swap by guarded statements only: a guarded `UPDATE`, or
/// (expecting 0) an insert that does nothing when the cursor exists.
/// Neither relies on a store-wide lock: whatever another writer did, a
/// statement that changes no row means the cursor did not hold `expected`,
/// and the cursor is then read to report what it holds.
///
/// `known` is the offset just read in the same transaction, if any: it
/// skips the statement that cannot succeed.
pub(crate) fn guarded_cas(
    writes: &impl GuardedWrites,
    key: &str,
    expected: u64,
    new: u64,
    mut known: Option<Option<u64>>,
) -> Result<(), DurabilityError> {
    if new > crate::parse::MAX_OFFSET {
        return Err(DurabilityError::OffsetTooLarge { offset: new });
    }
    let stale = |actual| DurabilityError::StaleCheckpoint {
        key: key.to_owned(),
        expected,
        actual,
    };
    // A statement can find the cursor changed by a writer that committed
    // between two statements (where the backend does not lock the whole
    // store); a few rounds settle it.
    for _ in 0..3 {
        if let Some(current) = known {
            if current.unwrap_or(0) != expected {
                return Err(stale(current));
            }
            if current == Some(new) {
                return Ok(());
            }
        }
        if known != Some(None) && new != expected && writes.swap(expected, new)? {
            return Ok(());
        }
        if expected == 0 && !matches!(known, Some(Some(_))) && writes.insert(new)? {
            return Ok(());
        }
        let current = writes.read()?;
        if current.unwrap_or(0) != expected {
            return Err(stale(current));
        }
        if new == expected && current.is_some() {
            return Ok(());
        }
        known = Some(current);
    }
    Err(stale(writes.read()?))
}

/// A store shared between threads behind a lock (`Arc<Mutex<SqliteStore>>`):
/// each call holds the lock for one read or one compare-and-swap. A lock
/// poisoned by a panicking holder is taken anyway: every write is its own
/// transaction, so a panic leaves nothing half-written.
impl<S: DurableStore + ?Sized> DurableStore for std::sync::Mutex<S> {
    fn read_value(&self, key: &str) -> Result<Option<u64>, DurabilityError> {
        self.lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .read_value(key)
    }

    fn cas(&self, key: &str, expected: u64, new: u64) -> Result<(), DurabilityError> {
        self.lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .cas(key, expected, new)
    }

    fn leased_cas(
        &self,
        key: &str,
        epoch: u64,
        expected: u64,
        new: u64,
    ) -> Result<(), DurabilityError> {
        self.lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .leased_cas(key, epoch, expected, new)
    }

    fn renew_lease(
        &self,
        key: &str,
        owner: &str,
        epoch: u64,
        ttl_ms: i64,
    ) -> Result<i64, DurabilityError> {
        self.lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .renew_lease(key, owner, epoch, ttl_ms)
    }
}

/// A view of a store that checks every compare-and-swap but writes nothing:
/// the engine of `--dry-run`.
pub struct DryRun<'a> {
    inner: &'a dyn DurableStore,
    staged: std::cell::RefCell<std::collections::HashMap<String, u64>>,
}

impl<'a> DryRun<'a> {
    /// Wrap a store (or a transaction).
    #[must_use]
    pub fn new(inner: &'a dyn DurableStore) -> Self {
        Self {
            inner,
            staged: std::cell::RefCell::default(),
        }
    }
}

impl DurableStore for DryRun<'_> {
    fn read_value(&self, key: &str) -> Result<Option<u64>, DurabilityError> {
        if let Some(v) = self.staged.borrow().get(key) {
            return Ok(Some(*v));
        }
        self.inner.read_value(key)
    }

    fn cas(&self, key: &str, expected: u64, new: u64) -> Result<(), DurabilityError> {
        let actual = self.read_value(key)?;
        if actual.unwrap_or(0) != expected {
            return Err(DurabilityError::StaleCheckpoint {
                key: key.to_owned(),
                expected,
                actual,
            });
        }
        if actual != Some(new) {
            self.staged.borrow_mut().insert(key.to_owned(), new);
        }
        Ok(())
    }
}
