//! The write transaction: guarded compare-and-swap, guarded removal, the
//! history and batches, each written in the transaction of its change.

use std::cell::{Cell, RefCell};

use postgres::types::Type;

use super::read::{self, columns};
use super::schema::NOW_MS;
use super::statements::{
    APPLY_MOVES, APPLY_MOVES_TYPES, KEYS_TYPES, NEW_BATCH, READ_AHEAD, RECORD, RECORD_TYPES, REMOVE,
};
pub(super) use super::statements::{INSERT, SWAP, SWAP_TYPES};
use super::PostgresStore;
use crate::error::{DurabilityError, StoreError};
use crate::key::CursorKey;
use crate::store::{
    guarded_cas, ChangeInput, CopiedRow, CursorFilter, CursorRow, DurableStore, GuardedWrites,
    HistoryFilter, HistoryRow, StoreRead, Visit, WriteTxn,
};

fn sql_offset(offset: u64) -> i64 {
    i64::try_from(offset).unwrap_or(i64::MAX)
}

/// The guarded statements of one cursor.
struct CursorWrites<'a> {
    store: &'a PostgresStore,
    key: &'a CursorKey,
}

impl GuardedWrites for CursorWrites<'_> {
    fn swap(&self, expected: u64, new: u64) -> Result<bool, DurabilityError> {
        let (consumer, channel, partition) = columns(self.key);
        let (new, expected) = (sql_offset(new), sql_offset(expected));
        let changed = self
            .store
            .with_statement(SWAP, SWAP_TYPES, |c, s| {
                s.execute(c, &[&consumer, &channel, &partition, &new, &expected])
            })
            .map_err(|e| self.store.write_error("writing a cursor", e))?;
        Ok(changed == 1)
    }

    fn insert(&self, new: u64) -> Result<bool, DurabilityError> {
        let (consumer, channel, partition) = columns(self.key);
        let new = sql_offset(new);
        let inserted = self
            .store
            .with_statement(INSERT, &SWAP_TYPES[..4], |c, s| {
                s.execute(c, &[&consumer, &channel, &partition, &new])
            })
            .map_err(|e| self.store.write_error("creating a cursor", e))?;
        Ok(inserted == 1)
    }

    fn read(&self) -> Result<Option<u64>, DurabilityError> {
        read::offset(self.store, self.key)
    }
}

/// The key columns of many cursors, as three arrays.
fn key_columns<'k>(keys: &[&'k CursorKey]) -> (Vec<&'k str>, Vec<&'k str>, Vec<i64>) {
    let mut consumers = Vec::with_capacity(keys.len());
    let mut channels = Vec::with_capacity(keys.len());
    let mut partitions = Vec::with_capacity(keys.len());
    for key in keys {
        let (consumer, channel, partition) = columns(key);
        consumers.push(consumer);
        channels.push(channel);
        partitions.push(partition);
    }
    (consumers, channels, partitions)
}

/// The offsets of many cursors in one query, by position (`None`: absent).
pub(super) fn read_ahead(
    store: &PostgresStore,
    keys: &[&CursorKey],
) -> Result<Vec<Option<u64>>, StoreError> {
    let mut found = vec![None; keys.len()];
    if keys.is_empty() {
        return Ok(found);
    }
    let (consumers, channels, partitions) = key_columns(keys);
    let rows = store
        .with_statement(READ_AHEAD, KEYS_TYPES, |c, s| {
            s.query(c, &[&consumers, &channels, &partitions])
        })
        .map_err(|e| store.error("reading cursors", e))?;
    for row in rows {
        let position: i64 = row.get(0);
        let offset: i64 = row.get(1);
        let slot = usize::try_from(position - 1)
            .ok()
            .and_then(|p| found.get_mut(p));
        if let (Some(slot), Ok(offset)) = (slot, u64::try_from(offset)) {
            *slot = Some(offset);
        }
    }
    Ok(found)
}

/// Compare-and-swap on one cursor by guarded statements.
pub(super) fn cas(
    store: &PostgresStore,
    key: &CursorKey,
    expected: u64,
    new: u64,
    known: Option<Option<u64>>,
) -> Result<(), DurabilityError> {
    let writes = CursorWrites { store, key };
    guarded_cas(&writes, key, expected, new, known)
}

/// A write transaction on a [`PostgresStore`]. Dropping it without
/// committing rolls it back.
pub struct PostgresTxn<'s> {
    store: &'s PostgresStore,
    open: Cell<bool>,
    now_ms: Cell<Option<i64>>,
    last_read: RefCell<Option<(CursorKey, Option<u64>)>>,
    /// The write's id, made here; its batch and its first change outside a
    /// batch: the `writes` row it commits with.
    write_id: String,
    batch: Cell<Option<i64>>,
    change: Cell<Option<i64>>,
}

impl<'s> PostgresTxn<'s> {
    pub(super) fn begin(store: &'s PostgresStore) -> Result<Self, StoreError> {
        // Marked open first: a connection lost at BEGIN is reported as a
        // lost write transaction, with nothing of it written.
        store.in_transaction.set(true);
        if let Err(e) = store.simple("BEGIN", "starting a write transaction") {
            store.in_transaction.set(false);
            return Err(e);
        }
        Ok(Self {
            store,
            open: Cell::new(true),
            now_ms: Cell::new(None),
            last_read: RefCell::new(None),
            write_id: crate::store::new_write_id(),
            batch: Cell::new(None),
            change: Cell::new(None),
        })
    }

    fn failed(&self, context: &str, e: postgres::Error) -> StoreError {
        self.store.error(context, e)
    }
}

impl Drop for PostgresTxn<'_> {
    fn drop(&mut self) {
        if self.open.get() {
            let _ = self.store.client.borrow_mut().batch_execute("ROLLBACK");
            self.store.in_transaction.set(false);
        }
    }
}

impl StoreRead for PostgresTxn<'_> {
    fn capabilities(&self) -> crate::store::Capabilities {
        crate::store::postgres_backend::CAPABILITIES
    }

    fn read_ahead(&self, keys: &[&CursorKey]) -> Result<Vec<Option<u64>>, StoreError> {
        read_ahead(self.store, keys)
    }

    fn cursor(&self, key: &CursorKey) -> Result<Option<CursorRow>, StoreError> {
        read::cursor(self.store, key)
    }

    fn visit_cursors(
        &self,
        filter: &CursorFilter,
        each: &mut dyn FnMut(Result<&CursorRow, StoreError>) -> Visit,
    ) -> Result<(), StoreError> {
        read::visit_cursors(self.store, filter, each)
    }

    fn visit_changes(
        &self,
        filter: &HistoryFilter,
        each: &mut dyn FnMut(&HistoryRow) -> Visit,
    ) -> Result<(), StoreError> {
        read::visit_changes(self.store, filter, each)
    }

    fn change(&self, id: i64) -> Result<Option<HistoryRow>, StoreError> {
        read::change(self.store, id)
    }

    fn visit_batches(
        &self,
        each: &mut dyn FnMut(&crate::store::BatchRow) -> Visit,
    ) -> Result<(), StoreError> {
        read::visit_batches(self.store, each)
    }

    fn visit_consumers(
        &self,
        filter: &crate::store::ConsumerFilter,
        each: &mut dyn FnMut(&crate::store::ConsumerSummary) -> Visit,
    ) -> Result<(), StoreError> {
        read::visit_consumers(self.store, filter, each)
    }

    fn snapshot_info(&self, name: &str) -> Result<Option<crate::store::SnapshotRow>, StoreError> {
        super::snapshots::info(self.store, name)
    }

    fn visit_snapshots(
        &self,
        each: &mut dyn FnMut(&crate::store::SnapshotRow) -> Visit,
    ) -> Result<(), StoreError> {
        super::snapshots::visit(self.store, each)
    }

    fn visit_snapshot_cursors(
        &self,
        name: &str,
        each: &mut dyn FnMut(&CursorRow) -> Visit,
    ) -> Result<(), StoreError> {
        super::snapshots::visit_cursors(self.store, name, each)
    }

    fn highest_ids(&self) -> Result<Option<crate::store::HighestIds>, StoreError> {
        read::highest_ids(self.store).map(Some)
    }

    fn head(
        &self,
        key: &crate::key::PartitionKey,
    ) -> Result<Option<crate::store::HeadRow>, StoreError> {
        super::heads::head(self.store, key)
    }

    fn cursor_head(
        &self,
        key: &CursorKey,
    ) -> Result<(Option<CursorRow>, Option<crate::store::HeadRow>), StoreError> {
        super::heads::cursor_head(self.store, key)
    }

    fn visit_heads(
        &self,
        filter: &crate::store::HeadFilter,
        each: &mut dyn FnMut(&crate::store::HeadRow) -> Visit,
    ) -> Result<(), StoreError> {
        super::heads::visit_heads(self.store, filter, each)
    }

    fn visit_cursor_heads(
        &self,
        filter: &CursorFilter,
        each: &mut dyn FnMut(Result<&crate::store::CursorHeadRow, StoreError>) -> Visit,
    ) -> Result<(), StoreError> {
        super::heads::visit_cursor_heads(self.store, filter, each)
    }

    fn visit_head_changes(
        &self,
        filter: &crate::store::HeadFilter,
        each: &mut dyn FnMut(&crate::store::HeadChangeRow) -> Visit,
    ) -> Result<(), StoreError> {
        super::heads::visit_head_changes(self.store, filter, each)
    }

    fn lease(&self, key: &CursorKey) -> Result<Option<crate::store::LeaseRow>, StoreError> {
        super::leases::read_lease(self.store, key, false)
    }

    fn visit_leases(
        &self,
        consumer: Option<&str>,
        each: &mut dyn FnMut(&crate::store::LeaseRow) -> Visit,
    ) -> Result<(), StoreError> {
        super::leases::visit_leases(self.store, consumer, each)
    }
}

/// A text key is parsed once, here, then the keyed operation runs.
impl DurableStore for PostgresTxn<'_> {
    crate::store::text_keys_parsed_once!();

    fn read_value_keyed(&self, key: &CursorKey) -> Result<Option<u64>, DurabilityError> {
        if let Some((k, v)) = &*self.last_read.borrow() {
            if k == key {
                return Ok(*v);
            }
        }
        let value = read::offset(self.store, key)?;
        *self.last_read.borrow_mut() = Some((key.clone(), value));
        Ok(value)
    }

    fn cas_keyed(&self, key: &CursorKey, expected: u64, new: u64) -> Result<(), DurabilityError> {
        let known = match self.last_read.borrow_mut().take() {
            Some((k, v)) if k == *key => Some(v),
            _ => None,
        };
        cas(self.store, key, expected, new, known)
    }

    fn leased_cas_keyed(
        &self,
        key: &CursorKey,
        epoch: u64,
        expected: u64,
        new: u64,
    ) -> Result<(), DurabilityError> {
        self.last_read.borrow_mut().take();
        if super::leases::leased_swap(self.store, key, epoch, expected, new)? {
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
        super::leases::renew(self.store, key, owner, epoch, ttl_ms)
    }
}

impl WriteTxn for PostgresTxn<'_> {
    fn now_ms(&self) -> i64 {
        if let Some(now) = self.now_ms.get() {
            return now;
        }
        let sql = format!("SELECT {NOW_MS}");
        let now = self
            .store
            .client
            .borrow_mut()
            .query_one(sql.as_str(), &[])
            .map(|r| r.get(0))
            .unwrap_or(0);
        self.now_ms.set(Some(now));
        now
    }

    fn remove_if(&self, key: &CursorKey, expected: u64) -> Result<(), DurabilityError> {
        self.last_read.borrow_mut().take();
        let (consumer, channel, partition) = columns(key);
        let expected_sql = sql_offset(expected);
        let removed = self
            .store
            .with_statement(REMOVE, &SWAP_TYPES[..4], |c, s| {
                s.execute(c, &[&consumer, &channel, &partition, &expected_sql])
            })
            .map_err(|e| self.failed("removing a cursor", e))?;
        if removed == 1 {
            return Ok(());
        }
        Err(DurabilityError::StaleCheckpoint {
            key: key.to_string(),
            expected,
            actual: read::offset(self.store, key)?,
        })
    }

    fn new_batch(
        &self,
        command: &str,
        reason: Option<&str>,
        user: &str,
    ) -> Result<i64, StoreError> {
        self.store
            .with_statement(NEW_BATCH, &[Type::TEXT, Type::TEXT, Type::TEXT], |c, s| {
                s.query_one(c, &[&command, &reason, &user])
            })
            .map(|row| row.get(0))
            .map_err(|e| self.failed("recording a batch", e))
            .inspect(|id| {
                if self.batch.get().is_none() {
                    self.batch.set(Some(*id));
                }
            })
    }

    fn record_change(&self, change: &ChangeInput<'_>) -> Result<i64, StoreError> {
        let (consumer, channel, partition) = columns(change.key);
        let old = change.old_offset.map(sql_offset);
        let new = change.new_offset.map(sql_offset);
        self.store
            .with_statement(RECORD, RECORD_TYPES, |c, s| {
                s.query_one(
                    c,
                    &[
                        &consumer,
                        &channel,
                        &partition,
                        &old,
                        &new,
                        &change.command,
                        &change.reason,
                        &change.user,
                        &change.batch,
                    ],
                )
            })
            .map(|row| row.get(0))
            .map_err(|e| self.failed("recording the change", e))
            .inspect(|id| {
                if change.batch.is_none() && self.change.get().is_none() {
                    self.change.set(Some(*id));
                }
            })
    }

    fn batch_change_ids(&self, batch: i64) -> Result<Vec<i64>, StoreError> {
        read::batch_change_ids(self.store, batch)
    }

    fn save_snapshot(
        &self,
        name: &str,
        consumer: Option<&str>,
        reason: Option<&str>,
        user: &str,
    ) -> Result<u64, StoreError> {
        super::snapshots::save(self.store, name, consumer, reason, user)
    }

    fn drop_snapshot(&self, name: &str) -> Result<bool, StoreError> {
        super::snapshots::drop_snapshot(self.store, name)
    }

    fn prune_history(&self, before: i64) -> Result<(u64, u64), StoreError> {
        read::prune_history(self.store, before)
    }

    fn copy_in(&self, row: CopiedRow<'_>) -> Result<(), StoreError> {
        let fallback_now = match row {
            CopiedRow::Cursor(c) if c.updated_at.is_none() => self.now_ms(),
            _ => 0,
        };
        let mut client = self.store.client.borrow_mut();
        let result = match row {
            CopiedRow::Cursor(c) => {
                let updated_at = c.updated_at.unwrap_or(fallback_now);
                client.execute(
                    "INSERT INTO cursors (consumer, channel, partition, \"offset\", updated_at) \
                     VALUES ($1, $2, $3, $4, $5)",
                    &[
                        &c.consumer,
                        &c.channel,
                        &i64::from(c.partition),
                        &sql_offset(c.offset),
                        &updated_at,
                    ],
                )
            }
            CopiedRow::Batch(b) => client.execute(
                "INSERT INTO batches (id, at, command, reason, \"user\") OVERRIDING SYSTEM VALUE \
                 VALUES ($1, $2, $3, $4, $5)",
                &[&b.id, &b.at, &b.command, &b.reason, &b.user],
            ),
            CopiedRow::Change(h) => client.execute(
                "INSERT INTO history (id, at, consumer, channel, partition, old_offset, \
                 new_offset, command, reason, \"user\", batch) OVERRIDING SYSTEM VALUE \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
                &[
                    &h.id,
                    &h.at,
                    &h.consumer,
                    &h.channel,
                    &i64::from(h.partition),
                    &h.old_offset.map(sql_offset),
                    &h.new_offset.map(sql_offset),
                    &h.command,
                    &h.reason,
                    &h.user,
                    &h.batch,
                ],
            ),
            CopiedRow::Snapshot(s) => client.execute(
                "INSERT INTO snapshots (name, at, \"user\", reason, consumer) \
                 VALUES ($1, $2, $3, $4, $5)",
                &[&s.name, &s.at, &s.user, &s.reason, &s.consumer],
            ),
            CopiedRow::SnapshotCursor { snapshot, cursor } => client.execute(
                "INSERT INTO snapshot_cursors (snapshot, consumer, channel, partition, \"offset\") \
                 VALUES ($1, $2, $3, $4, $5)",
                &[
                    &snapshot,
                    &cursor.consumer,
                    &cursor.channel,
                    &i64::from(cursor.partition),
                    &sql_offset(cursor.offset),
                ],
            ),
        };
        drop(client);
        result
            .map(drop)
            .map_err(|e| self.failed("copying a row", e))
    }

    fn finish_copy(&self, highest: crate::store::HighestIds) -> Result<(), StoreError> {
        // The next id follows both the copied rows and the highest id the
        // source ever gave (setval(.., n, true): n was given).
        let continue_after = |table: &str| {
            format!(
                "SELECT CASE WHEN g > 0 THEN setval(pg_get_serial_sequence('{table}', 'id'), g, true) \
                             ELSE setval(pg_get_serial_sequence('{table}', 'id'), 1, false) END \
                 FROM (SELECT greatest($1::int8, coalesce((SELECT max(id) FROM {table}), 0)) AS g) m"
            )
        };
        let mut client = self.store.client.borrow_mut();
        client
            .query_one(continue_after("history").as_str(), &[&highest.change])
            .and_then(|_| client.query_one(continue_after("batches").as_str(), &[&highest.batch]))
            .map(drop)
            .map_err(|e| self.failed("continuing the ids after the copied ones", e))
    }

    fn apply_changes(&self, changes: &[ChangeInput<'_>]) -> Result<Vec<usize>, DurabilityError> {
        self.last_read.borrow_mut().take();
        if changes.iter().any(|c| c.new_offset.is_none()) {
            // Removals go one by one (no bulk command removes today).
            return crate::store::apply_changes_one_by_one(self, changes);
        }
        if let Some(too_large) = changes
            .iter()
            .filter_map(|c| c.new_offset)
            .find(|n| *n > crate::parse::MAX_OFFSET)
        {
            return Err(DurabilityError::OffsetTooLarge { offset: too_large });
        }
        if changes.is_empty() {
            return Ok(Vec::new());
        }
        let keys: Vec<&CursorKey> = changes.iter().map(|c| c.key).collect();
        let (consumers, channels, partitions) = key_columns(&keys);
        let old: Vec<Option<i64>> = changes
            .iter()
            .map(|c| c.old_offset.map(sql_offset))
            .collect();
        let new: Vec<Option<i64>> = changes
            .iter()
            .map(|c| c.new_offset.map(sql_offset))
            .collect();
        let commands: Vec<&str> = changes.iter().map(|c| c.command).collect();
        let reasons: Vec<Option<&str>> = changes.iter().map(|c| c.reason).collect();
        let users: Vec<&str> = changes.iter().map(|c| c.user).collect();
        let batches: Vec<Option<i64>> = changes.iter().map(|c| c.batch).collect();
        let rows = self
            .store
            .with_statement(APPLY_MOVES, APPLY_MOVES_TYPES, |c, s| {
                s.query(
                    c,
                    &[
                        &consumers,
                        &channels,
                        &partitions,
                        &old,
                        &new,
                        &commands,
                        &reasons,
                        &users,
                        &batches,
                    ],
                )
            })
            .map_err(|e| self.failed("writing cursors", e))?;
        Ok(rows
            .iter()
            .filter_map(|row| usize::try_from(row.get::<_, i64>(0) - 1).ok())
            .collect())
    }

    fn swap_head(
        &self,
        key: &crate::key::PartitionKey,
        expected: Option<u64>,
        new: u64,
    ) -> Result<Result<(), Option<u64>>, StoreError> {
        super::heads::swap_head(self.store, key, expected, new)
    }

    fn record_head_change(
        &self,
        change: &crate::store::HeadChangeInput<'_>,
    ) -> Result<i64, StoreError> {
        super::heads::record_head_change(self.store, change)
    }

    fn must_retry(&self) -> bool {
        self.store.conflict.get()
    }

    fn write_id(&self) -> Option<&str> {
        Some(&self.write_id)
    }

    fn lock_lease(&self, key: &CursorKey) -> Result<Option<crate::store::LeaseRow>, StoreError> {
        super::leases::read_lease(self.store, key, true)
    }

    fn put_lease(&self, row: &crate::store::LeaseRow) -> Result<(), StoreError> {
        super::leases::put_lease(self.store, row)
    }

    fn clock_now_ms(&self) -> Result<i64, StoreError> {
        super::leases::clock_now(self.store)
    }

    fn commit(self: Box<Self>) -> Result<(), StoreError> {
        self.open.set(false);
        // The write's row goes in the message that commits it (stores of
        // version 4 and later): no round trip more than the COMMIT.
        let records_id = self.store.version.get() >= crate::store::WRITE_IDS_VERSION;
        let sql = if records_id {
            super::failover::commit_sql(&self.write_id, self.batch.get(), self.change.get())
        } else {
            "COMMIT".to_owned()
        };
        let result = self.store.client.borrow_mut().batch_execute(&sql);
        self.store.in_transaction.set(false);
        let Err(e) = result else {
            return Ok(());
        };
        match self.store.write_error("committing", e) {
            // A connection lost while committing is not a rollback: the
            // server may have committed before the answer was lost. The
            // write id settles it, on whichever server now accepts writes.
            lost @ StoreError::ConnectionLost { .. } if records_id => {
                super::failover::settle_lost_commit(
                    self.store,
                    &self.write_id,
                    self.batch.get(),
                    self.change.get(),
                    &lost,
                )
            }
            StoreError::ConnectionLost {
                context,
                outcome,
                source,
            } => Err(StoreError::ConnectionLost {
                context: format!(
                    "{context}: read the store (`get`, `history`) before trying again"
                ),
                outcome,
                source,
            }),
            other => {
                // The statements before COMMIT failed: the transaction is
                // aborted, and ends here.
                let _ = self.store.client.borrow_mut().batch_execute("ROLLBACK");
                Err(other)
            }
        }
    }
}
