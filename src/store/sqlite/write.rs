//! The write transaction: guarded compare-and-swap, guarded removal, the
//! history and batches, each written in the transaction of the change.

use std::cell::RefCell;

use rusqlite::{params, CachedStatement, Connection, Statement, Transaction};

use super::read::{self, read_offset_of};
use super::write_ids::{WriteRecord, INSERT_WRITE};
use super::{db_err, SqliteStore};
use crate::error::{DurabilityError, StoreError};
use crate::key::CursorKey;
use crate::parse::MAX_OFFSET;
use crate::store::{
    guarded_cas, ChangeInput, CursorFilter, CursorRow, DurableStore, GuardedWrites, HistoryFilter,
    HistoryRow, StoreRead, Visit, WriteTxn,
};

/// The fewest changes [`WriteTxn::apply_changes`] writes as one set: below
/// it, filling the temporary table costs more than it saves.
const SET_MIN_CHANGES: usize = 8;

/// Whether no key comes twice: keys in ascending order (a bulk write's
/// input usually is) are checked against the one before, others in a set.
fn distinct_keys<'k>(keys: impl Iterator<Item = &'k CursorKey> + Clone) -> bool {
    let mut previous: Option<&CursorKey> = None;
    let ascending = keys.clone().all(|k| {
        let above = previous.is_none_or(|p| p < k);
        previous = Some(k);
        above
    });
    if ascending {
        return true;
    }
    let mut seen = std::collections::HashSet::new();
    keys.into_iter().all(|k| seen.insert(k))
}

/// The statements of the hot write path.
#[derive(Clone, Copy)]
pub(super) enum Sql {
    ReadOffset,
    SwapCursor,
    InsertCursor,
    InsertHistory,
}

impl Sql {
    const ALL: usize = 4;

    const fn text(self) -> &'static str {
        match self {
            Self::ReadOffset => {
                "SELECT offset FROM cursors WHERE consumer = ?1 AND channel = ?2 AND partition = ?3"
            }
            Self::SwapCursor => {
                "UPDATE cursors SET offset = ?4, updated_at = ?5 \
                 WHERE consumer = ?1 AND channel = ?2 AND partition = ?3 AND offset = ?6"
            }
            Self::InsertCursor => {
                "INSERT INTO cursors (consumer, channel, partition, offset, updated_at) \
                 VALUES (?1, ?2, ?3, ?4, ?5) ON CONFLICT DO NOTHING"
            }
            Self::InsertHistory => {
                "INSERT INTO history (at, consumer, channel, partition, old_offset, new_offset, \
                 command, reason, user, batch) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)"
            }
        }
    }
}

/// Where prepared statements come from: the connection's statement cache,
/// or the ones a write transaction keeps for its whole life.
pub(super) trait Statements {
    fn with<T>(
        &self,
        sql: Sql,
        f: impl FnOnce(&mut Statement<'_>) -> rusqlite::Result<T>,
    ) -> rusqlite::Result<T>;
}

impl Statements for Connection {
    fn with<T>(
        &self,
        sql: Sql,
        f: impl FnOnce(&mut Statement<'_>) -> rusqlite::Result<T>,
    ) -> rusqlite::Result<T> {
        let mut stmt = self.prepare_cached(sql.text())?;
        f(&mut stmt)
    }
}

/// Statements prepared once per write transaction: a bulk write runs the
/// same few statements a million times.
struct Prepared<'c> {
    conn: &'c Connection,
    slots: [RefCell<Option<CachedStatement<'c>>>; Sql::ALL],
}

impl<'c> Prepared<'c> {
    fn new(conn: &'c Connection) -> Self {
        Self {
            conn,
            slots: Default::default(),
        }
    }
}

impl Statements for Prepared<'_> {
    fn with<T>(
        &self,
        sql: Sql,
        f: impl FnOnce(&mut Statement<'_>) -> rusqlite::Result<T>,
    ) -> rusqlite::Result<T> {
        let mut slot = self.slots[sql as usize].borrow_mut();
        let stmt = match &mut *slot {
            Some(stmt) => stmt,
            empty => empty.insert(self.conn.prepare_cached(sql.text())?),
        };
        f(stmt)
    }
}

/// An offset as SQLite stores it (an INTEGER; above the largest one the
/// library accepts, the largest one SQLite can hold, which matches nothing).
pub(super) fn sql_offset(offset: u64) -> i64 {
    i64::try_from(offset).unwrap_or(i64::MAX)
}

/// An offset to write: refused above the largest one the library accepts.
pub(super) fn to_sql_offset(offset: u64) -> Result<i64, DurabilityError> {
    if offset > MAX_OFFSET {
        return Err(DurabilityError::OffsetTooLarge { offset });
    }
    Ok(sql_offset(offset))
}

/// The guarded statements of one cursor, on one transaction's statements.
struct CursorWrites<'a, S> {
    stmts: &'a S,
    key: &'a CursorKey,
    now: i64,
}

impl<S: Statements> CursorWrites<'_, S> {
    fn columns(&self) -> (&str, &str, u32) {
        let pk = self.key.partition_key();
        (
            self.key.consumer().as_str(),
            pk.channel().as_str(),
            pk.index(),
        )
    }
}

impl<S: Statements> GuardedWrites for CursorWrites<'_, S> {
    fn swap(&self, expected: u64, new: u64) -> Result<bool, DurabilityError> {
        let (consumer, channel, index) = self.columns();
        let expected = sql_offset(expected);
        let new = to_sql_offset(new)?;
        let changed = self
            .stmts
            .with(Sql::SwapCursor, |s| {
                s.execute(params![consumer, channel, index, new, self.now, expected])
            })
            .map_err(db_err("writing a cursor"))?;
        Ok(changed == 1)
    }

    fn insert(&self, new: u64) -> Result<bool, DurabilityError> {
        let (consumer, channel, index) = self.columns();
        let new = to_sql_offset(new)?;
        let inserted = self
            .stmts
            .with(Sql::InsertCursor, |s| {
                s.execute(params![consumer, channel, index, new, self.now])
            })
            .map_err(db_err("creating a cursor"))?;
        Ok(inserted == 1)
    }

    fn read(&self) -> Result<Option<u64>, DurabilityError> {
        read_offset_of(self.stmts, self.key)
    }
}

/// Compare-and-swap on one cursor inside a write transaction.
pub(super) fn cas_on(
    stmts: &impl Statements,
    key: &CursorKey,
    expected: u64,
    new: u64,
    now: i64,
    known: Option<Option<u64>>,
) -> Result<(), DurabilityError> {
    let writes = CursorWrites { stmts, key, now };
    guarded_cas(&writes, key, expected, new, known)
}

/// A write transaction on a [`SqliteStore`].
pub struct SqliteTxn<'c> {
    prepared: Prepared<'c>,
    tx: Transaction<'c>,
    now_ms: i64,
    last_read: RefCell<LastRead>,
    /// The write's id, its batch and its first change outside a batch:
    /// the `writes` row it commits with.
    write: WriteRecord,
}

/// The cursor read last in a write transaction: a compare-and-swap right
/// after a read of the same key starts with the statement that can succeed.
/// Every write through the transaction forgets it.
#[derive(Default)]
struct LastRead {
    valid: bool,
    key: String,
    offset: Option<u64>,
}

impl LastRead {
    fn get(&self, key: &CursorKey) -> Option<Option<u64>> {
        (self.valid && key.is_text(&self.key)).then_some(self.offset)
    }

    fn set(&mut self, key: &CursorKey, offset: Option<u64>) {
        use std::fmt::Write as _;
        self.key.clear();
        let _ = write!(self.key, "{key}");
        self.offset = offset;
        self.valid = true;
    }
}

impl<'c> SqliteTxn<'c> {
    pub(super) fn begin(store: &'c SqliteStore) -> Result<Self, StoreError> {
        let tx = Transaction::new_unchecked(
            store.connection(),
            rusqlite::TransactionBehavior::Immediate,
        )
        .map_err(db_err("starting a write transaction"))?;
        Ok(Self {
            prepared: Prepared::new(store.connection()),
            tx,
            now_ms: super::now_ms(),
            last_read: RefCell::default(),
            write: WriteRecord {
                id: crate::store::new_write_id(),
                changes_at_begin: store.connection().total_changes(),
                ..WriteRecord::default()
            },
        })
    }
}

impl StoreRead for SqliteTxn<'_> {
    fn capabilities(&self) -> crate::store::Capabilities {
        crate::store::sqlite_backend::CAPABILITIES
    }

    fn cursor(&self, key: &CursorKey) -> Result<Option<CursorRow>, StoreError> {
        read::read_cursor(&self.tx, key)
    }

    fn visit_cursors(
        &self,
        filter: &CursorFilter,
        each: &mut dyn FnMut(Result<&CursorRow, StoreError>) -> Visit,
    ) -> Result<(), StoreError> {
        read::visit_cursors(&self.tx, filter, each)
    }

    fn visit_changes(
        &self,
        filter: &HistoryFilter,
        each: &mut dyn FnMut(&HistoryRow) -> Visit,
    ) -> Result<(), StoreError> {
        read::visit_changes(&self.tx, filter, each)
    }

    fn change(&self, id: i64) -> Result<Option<HistoryRow>, StoreError> {
        read::read_change(&self.tx, id)
    }

    fn visit_batches(
        &self,
        each: &mut dyn FnMut(&crate::store::BatchRow) -> Visit,
    ) -> Result<(), StoreError> {
        read::visit_batches(&self.tx, each)
    }

    fn visit_consumers(
        &self,
        filter: &crate::store::ConsumerFilter,
        each: &mut dyn FnMut(&crate::store::ConsumerSummary) -> Visit,
    ) -> Result<(), StoreError> {
        read::visit_consumers(&self.tx, filter, each)
    }

    fn seen_keys(&self) -> Result<Box<dyn crate::store::SeenKeySet + '_>, StoreError> {
        Ok(Box::new(read::TableSeenKeySet::new(&self.tx)?))
    }

    fn snapshot_info(&self, name: &str) -> Result<Option<crate::store::SnapshotRow>, StoreError> {
        super::snapshots::info(&self.tx, name)
    }

    fn visit_snapshots(
        &self,
        each: &mut dyn FnMut(&crate::store::SnapshotRow) -> Visit,
    ) -> Result<(), StoreError> {
        super::snapshots::visit(&self.tx, each)
    }

    fn visit_snapshot_cursors(
        &self,
        name: &str,
        each: &mut dyn FnMut(&CursorRow) -> Visit,
    ) -> Result<(), StoreError> {
        super::snapshots::visit_cursors(&self.tx, name, each)
    }

    fn highest_ids(&self) -> Result<Option<crate::store::HighestIds>, StoreError> {
        read::highest_ids(&self.tx).map(Some)
    }

    fn head(
        &self,
        key: &crate::key::PartitionKey,
    ) -> Result<Option<crate::store::HeadRow>, StoreError> {
        super::heads::read_head(&self.tx, key)
    }

    fn visit_heads(
        &self,
        filter: &crate::store::HeadFilter,
        each: &mut dyn FnMut(&crate::store::HeadRow) -> Visit,
    ) -> Result<(), StoreError> {
        super::heads::visit_heads(&self.tx, filter, each)
    }

    fn visit_cursor_heads(
        &self,
        filter: &CursorFilter,
        each: &mut dyn FnMut(Result<&crate::store::CursorHeadRow, StoreError>) -> Visit,
    ) -> Result<(), StoreError> {
        super::heads::visit_cursor_heads(&self.tx, filter, each)
    }

    fn visit_head_changes(
        &self,
        filter: &crate::store::HeadFilter,
        each: &mut dyn FnMut(&crate::store::HeadChangeRow) -> Visit,
    ) -> Result<(), StoreError> {
        super::heads::visit_head_changes(&self.tx, filter, each)
    }

    fn lease(&self, key: &CursorKey) -> Result<Option<crate::store::LeaseRow>, StoreError> {
        super::leases::read_lease(&self.tx, key)
    }

    fn visit_leases(
        &self,
        consumer: Option<&str>,
        each: &mut dyn FnMut(&crate::store::LeaseRow) -> Visit,
    ) -> Result<(), StoreError> {
        super::leases::visit_leases(&self.tx, consumer, each)
    }
}

impl DurableStore for SqliteTxn<'_> {
    crate::store::text_keys_parsed_once!();

    fn read_value_keyed(&self, key: &CursorKey) -> Result<Option<u64>, DurabilityError> {
        if let Some(offset) = self.last_read.borrow().get(key) {
            return Ok(offset);
        }
        let offset = read_offset_of(&self.prepared, key)?;
        self.last_read.borrow_mut().set(key, offset);
        Ok(offset)
    }

    fn cas_keyed(&self, key: &CursorKey, expected: u64, new: u64) -> Result<(), DurabilityError> {
        let known = {
            let mut last = self.last_read.borrow_mut();
            let known = last.get(key);
            last.valid = false;
            known
        };
        cas_on(&self.prepared, key, expected, new, self.now_ms, known)
    }

    /// The guarded `UPDATE` that checks the lease in the same statement;
    /// when it writes nothing, the general path says why (or creates an
    /// absent cursor).
    fn leased_cas_keyed(
        &self,
        key: &CursorKey,
        epoch: u64,
        expected: u64,
        new: u64,
    ) -> Result<(), DurabilityError> {
        self.last_read.borrow_mut().valid = false;
        if super::leases::leased_swap(&self.tx, key, epoch, expected, new, self.now_ms)? {
            return Ok(());
        }
        crate::lease::leased_cas_in(self, key, epoch, expected, new)
    }

    fn renew_lease_keyed(
        &self,
        key: &CursorKey,
        owner: &str,
        epoch: u64,
        ttl_ms: i64,
    ) -> Result<i64, DurabilityError> {
        super::leases::renew(&self.tx, key, owner, epoch, ttl_ms)
    }
}

impl WriteTxn for SqliteTxn<'_> {
    fn now_ms(&self) -> i64 {
        self.now_ms
    }

    fn remove_if(&self, key: &CursorKey, expected: u64) -> Result<(), DurabilityError> {
        self.last_read.borrow_mut().valid = false;
        let pk = key.partition_key();
        let removed = self
            .tx
            .prepare_cached(
                "DELETE FROM cursors \
                 WHERE consumer = ?1 AND channel = ?2 AND partition = ?3 AND offset = ?4",
            )
            .and_then(|mut s| {
                s.execute(params![
                    key.consumer().as_str(),
                    pk.channel().as_str(),
                    pk.index(),
                    sql_offset(expected)
                ])
            })
            .map_err(db_err("removing a cursor"))?;
        if removed == 1 {
            return Ok(());
        }
        Err(DurabilityError::StaleCheckpoint {
            key: key.to_string(),
            expected,
            actual: read::read_offset_of(&self.prepared, key)?,
        })
    }

    fn new_batch(
        &self,
        command: &str,
        reason: Option<&str>,
        user: &str,
    ) -> Result<i64, StoreError> {
        self.tx
            .prepare_cached(
                "INSERT INTO batches (at, command, reason, user) VALUES (?1, ?2, ?3, ?4)",
            )
            .and_then(|mut s| s.execute(params![self.now_ms, command, reason, user]))
            .map_err(db_err("recording a batch"))?;
        let id = self.tx.last_insert_rowid();
        if self.write.batch.get().is_none() {
            self.write.batch.set(Some(id));
        }
        Ok(id)
    }

    /// The id is the rowid of this very insert (`last_insert_rowid` of
    /// the connection, which only this transaction uses): `RETURNING`
    /// would buffer the row in an ephemeral table, a page allocation for
    /// every change of a bulk write.
    fn record_change(&self, change: &ChangeInput<'_>) -> Result<i64, StoreError> {
        let pk = change.key.partition_key();
        self.prepared
            .with(Sql::InsertHistory, |s| {
                s.execute(params![
                    self.now_ms,
                    change.key.consumer().as_str(),
                    pk.channel().as_str(),
                    pk.index(),
                    change.old_offset.map(sql_offset),
                    change.new_offset.map(sql_offset),
                    change.command,
                    change.reason,
                    change.user,
                    change.batch
                ])
            })
            .map_err(db_err("recording the change"))?;
        let id = self.tx.last_insert_rowid();
        if change.batch.is_none() && self.write.change.get().is_none() {
            self.write.change.set(Some(id));
        }
        Ok(id)
    }

    fn batch_change_ids(&self, batch: i64) -> Result<Vec<i64>, StoreError> {
        read::batch_change_ids(&self.tx, batch)
    }

    fn save_snapshot(
        &self,
        name: &str,
        consumer: Option<&str>,
        reason: Option<&str>,
        user: &str,
    ) -> Result<u64, StoreError> {
        super::snapshots::save(&self.tx, self.now_ms, name, consumer, reason, user)
    }

    fn drop_snapshot(&self, name: &str) -> Result<bool, StoreError> {
        super::snapshots::drop(&self.tx, name)
    }

    fn prune_history(&self, before: i64) -> Result<(u64, u64), StoreError> {
        read::prune_history(&self.tx, before)
    }

    fn copy_in(&self, row: crate::store::CopiedRow<'_>) -> Result<(), StoreError> {
        use crate::store::CopiedRow;
        let result = match row {
            CopiedRow::Cursor(c) => self.tx.execute(
                "INSERT INTO cursors (consumer, channel, partition, offset, updated_at) \
                 VALUES (?1, ?2, ?3, ?4, ?5)",
                params![
                    c.consumer,
                    c.channel,
                    c.partition,
                    sql_offset(c.offset),
                    c.updated_at.unwrap_or(self.now_ms)
                ],
            ),
            CopiedRow::Batch(b) => self.tx.execute(
                "INSERT INTO batches (id, at, command, reason, user) VALUES (?1, ?2, ?3, ?4, ?5)",
                params![b.id, b.at, b.command, b.reason, b.user],
            ),
            CopiedRow::Change(h) => self.tx.execute(
                "INSERT INTO history (id, at, consumer, channel, partition, old_offset, \
                 new_offset, command, reason, user, batch) \
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)",
                params![
                    h.id,
                    h.at,
                    h.consumer,
                    h.channel,
                    h.partition,
                    h.old_offset.map(sql_offset),
                    h.new_offset.map(sql_offset),
                    h.command,
                    h.reason,
                    h.user,
                    h.batch
                ],
            ),
            CopiedRow::Snapshot(s) => self.tx.execute(
                "INSERT INTO snapshots (name, at, user, reason, consumer) \
                 VALUES (?1, ?2, ?3, ?4, ?5)",
                params![s.name, s.at, s.user, s.reason, s.consumer],
            ),
            CopiedRow::SnapshotCursor { snapshot, cursor } => self.tx.execute(
                "INSERT INTO snapshot_cursors (snapshot, consumer, channel, partition, offset) \
                 VALUES (?1, ?2, ?3, ?4, ?5)",
                params![
                    snapshot,
                    cursor.consumer,
                    cursor.channel,
                    cursor.partition,
                    sql_offset(cursor.offset)
                ],
            ),
        };
        result.map(drop).map_err(db_err("copying a row"))
    }

    fn finish_copy(&self, highest: crate::store::HighestIds) -> Result<(), StoreError> {
        read::continue_ids(&self.tx, highest)
    }

    /// Runs of moves of distinct existing cursors recorded alike (one
    /// command, reason, user and batch) are written as one set each: the
    /// moves go into a temporary table; one query counts the cursors that
    /// hold their expected offsets; when all do, one statement writes the
    /// cursors and one `INSERT ... SELECT` the history (`moves.rs`).
    /// Otherwise nothing is written and each cursor of the run is read to
    /// tell which did not. Other changes (creations, removals), and runs
    /// too short to gain, go one by one.
    fn apply_changes(&self, changes: &[ChangeInput<'_>]) -> Result<Vec<usize>, DurabilityError> {
        self.last_read.borrow_mut().valid = false;
        let mut stale = Vec::new();
        let mut start = 0;
        while start < changes.len() {
            let first = &changes[start];
            let alike = |c: &ChangeInput<'_>| {
                c.old_offset.is_some()
                    && c.new_offset.is_some()
                    && c.command == first.command
                    && c.reason == first.reason
                    && c.user == first.user
                    && c.batch == first.batch
            };
            let run = changes[start..].iter().take_while(|c| alike(c)).count();
            let distinct = || distinct_keys(changes[start..start + run].iter().map(|c| c.key));
            let (end, found) = if run >= SET_MIN_CHANGES && distinct() {
                let end = start + run;
                let moves = &changes[start..end];
                (
                    end,
                    super::moves::apply_moves(&self.tx, &self.prepared, moves, self.now_ms)?,
                )
            } else {
                let end = start + run.max(1);
                (
                    end,
                    crate::store::apply_changes_one_by_one(self, &changes[start..end])?,
                )
            };
            stale.extend(found.into_iter().map(|p| start + p));
            start = end;
        }
        Ok(stale)
    }

    fn swap_head(
        &self,
        key: &crate::key::PartitionKey,
        expected: Option<u64>,
        new: u64,
    ) -> Result<Result<(), Option<u64>>, StoreError> {
        super::heads::swap_head(&self.tx, key, expected, new, self.now_ms)
    }

    fn record_head_change(
        &self,
        change: &crate::store::HeadChangeInput<'_>,
    ) -> Result<i64, StoreError> {
        super::heads::record_head_change(&self.tx, change, self.now_ms)
    }

    fn write_id(&self) -> Option<&str> {
        Some(&self.write.id)
    }

    fn lock_lease(&self, key: &CursorKey) -> Result<Option<crate::store::LeaseRow>, StoreError> {
        super::leases::read_lease(&self.tx, key)
    }

    fn put_lease(&self, row: &crate::store::LeaseRow) -> Result<(), StoreError> {
        super::leases::put_lease(&self.tx, row)
    }

    fn commit(self: Box<Self>) -> Result<(), StoreError> {
        let Self {
            prepared,
            tx,
            now_ms,
            write,
            ..
        } = *self;
        drop(prepared);
        // A transaction that changed nothing (a no-op checkpoint) leaves no
        // trace: no `writes` row either.
        if tx.total_changes() == write.changes_at_begin {
            return tx.commit().map_err(db_err("committing"));
        }
        let version: i64 = tx
            .pragma_query_value(None, "user_version", |r| r.get(0))
            .map_err(db_err("reading the schema version"))?;
        if version >= crate::store::WRITE_IDS_VERSION {
            tx.prepare_cached(INSERT_WRITE)
                .and_then(|mut s| {
                    s.execute(params![
                        write.id,
                        now_ms,
                        write.batch.get(),
                        write.change.get()
                    ])
                })
                .map_err(db_err("recording the write id"))?;
        }
        tx.commit().map_err(db_err("committing"))
    }
}
