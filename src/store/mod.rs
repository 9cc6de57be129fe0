//! Where cursors live: the store boundary every backend implements.
//!
//! - [`DurableStore`]: the checkpoint trait of the seed (read a value,
//!   compare-and-swap), implemented by every store and write transaction,
//!   and by the in-memory [`memory::MemoryStore`];
//! - [`Store`]: a cursor store as a whole (reads, the store's clock, a read
//!   view, a write transaction), and [`WriteTxn`]: one all-or-nothing
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

// One registration per backend, in the backend's folder, built with or
// without the backend itself (see backend.rs).
#[path = "postgres/register.rs"]
mod postgres_backend;
#[path = "sqlite/register.rs"]
mod sqlite_backend;

/// Every registered backend, in the order locations are offered to them:
/// the first whose `recognises` takes a location serves it; the last takes
/// whatever no other did (a path: SQLite).
const REGISTERED: &[&backend::Registration] = &[
    &postgres_backend::REGISTRATION,
    &sqlite_backend::REGISTRATION,
];

mod backend;
mod cas;
mod durable;
mod ext;
mod location;
mod open;
mod read_view;
mod seen_keys;
mod types;
mod write_id;

pub(crate) use cas::{guarded_cas, GuardedWrites};
pub(crate) use durable::text_keys_parsed_once;
pub use durable::DurableStore;
pub use ext::{Outcome, StoreExt, StoreReadExt};
pub use open::{init, open, prepare_one_shot_process};
pub use read_view::ReadView;
use seen_keys::MemorySeenKeySet;
pub use seen_keys::SeenKeySet;

use std::ops::ControlFlow;
use std::time::Duration;

pub use backend::{Capabilities, SCHEMA_VERSION};
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

    /// What the backend of this view can do (nothing, for a view that is
    /// no backend's: memory).
    fn capabilities(&self) -> Capabilities {
        Capabilities::default()
    }

    /// Read the offsets of many cursors in one go (a bulk write reads each
    /// chunk of its input ahead where [`Capabilities::reads_ahead`]): one
    /// entry per key, `None` for an absent cursor. The default reads them
    /// one by one.
    ///
    /// # Errors
    ///
    /// Store failures, and [`StoreError::InvalidValue`].
    fn read_ahead(&self, keys: &[&CursorKey]) -> Result<Vec<Option<u64>>, StoreError> {
        keys.iter()
            .map(|key| Ok(self.cursor(key)?.map(|row| row.offset)))
            .collect()
    }

    /// An empty set of cursor keys for one input (a bulk write's duplicate
    /// check). A backend that can keeps it outside memory (SQLite: a
    /// temporary table); the default keeps a 128-bit fingerprint per key in
    /// memory.
    ///
    /// # Errors
    ///
    /// Store failures.
    fn seen_keys(&self) -> Result<Box<dyn SeenKeySet + '_>, StoreError> {
        Ok(Box::new(MemorySeenKeySet::default()))
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

    /// Start a read view: until it is dropped, every read through the
    /// store sees the same committed state (one snapshot of the database),
    /// and no write lock is taken.
    ///
    /// # Errors
    ///
    /// Store failures.
    fn begin_read(&self) -> Result<ReadView<'_>, StoreError>;

    /// End the read view (called by [`ReadView`]).
    ///
    /// # Errors
    ///
    /// Store failures.
    fn end_read(&self) -> Result<(), StoreError>;

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
    /// A store that can makes them as one set
    /// ([`Capabilities::writes_changes_as_set`]; PostgreSQL: one statement
    /// for the whole slice); the default makes them one by one.
    ///
    /// # Errors
    ///
    /// Store failures, and a change the library refuses (an offset above
    /// the limit).
    fn apply_changes(&self, changes: &[ChangeInput<'_>]) -> Result<Vec<usize>, DurabilityError> {
        apply_changes_one_by_one(self, changes)
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
            (old, Some(new)) => txn.cas_keyed(change.key, old.unwrap_or(0), new),
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
