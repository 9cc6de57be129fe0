//! Copying a whole store into an empty one (`copy-store`), SQLite to
//! PostgreSQL and back: every batch, history row, cursor and snapshot,
//! ids and times included, in one transaction, read back and compared
//! (counts and a checksum) before it commits.

use super::error::{ErrorKind, OpResult, Refusal};
use crate::store::{
    BatchRow, CopiedRow, CursorFilter, CursorRow, HighestIds, HistoryFilter, HistoryRow,
    SnapshotRow, Store, StoreExt, StoreLocation, StoreRead, StoreReadExt, Visit, WriteTxn,
    SNAPSHOTS_VERSION,
};

/// Counts and a checksum of a store's rows, in the order they are copied.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Tally {
    /// How many cursors.
    pub cursors: u64,
    /// How many changes.
    pub changes: u64,
    /// How many batches.
    pub batches: u64,
    /// How many snapshots.
    pub snapshots: u64,
    /// How many snapshot cursors.
    pub snapshot_cursors: u64,
    /// FNV-1a over every row, each written unambiguously.
    pub checksum: u64,
}

impl Tally {
    /// FNV-1a over the row's fields, each written unambiguously.
    fn add(&mut self, text: &str) {
        for b in text.bytes().chain(std::iter::once(b'\n')) {
            self.checksum ^= u64::from(b);
            self.checksum = self.checksum.wrapping_mul(0x0100_0000_01b3);
        }
    }

    fn batch(&mut self, b: &BatchRow) {
        self.batches += 1;
        self.add(&format!(
            "b {} {} {:?} {:?} {:?}",
            b.id, b.at, b.command, b.reason, b.user
        ));
    }

    fn change(&mut self, h: &HistoryRow) {
        self.changes += 1;
        self.add(&format!(
            "h {} {} {:?} {:?} {} {:?} {:?} {:?} {:?} {:?} {:?}",
            h.id,
            h.at,
            h.consumer,
            h.channel,
            h.partition,
            h.old_offset,
            h.new_offset,
            h.command,
            h.reason,
            h.user,
            h.batch
        ));
    }

    fn snapshot(&mut self, s: &SnapshotRow) {
        self.snapshots += 1;
        self.add(&format!(
            "s {:?} {} {:?} {:?} {:?} {}",
            s.name, s.at, s.user, s.reason, s.consumer, s.cursors
        ));
    }

    fn snapshot_cursor(&mut self, snapshot: &str, c: &CursorRow) {
        self.snapshot_cursors += 1;
        self.add(&format!(
            "sc {:?} {:?} {:?} {} {}",
            snapshot, c.consumer, c.channel, c.partition, c.offset
        ));
    }

    fn highest(&mut self, h: HighestIds) {
        self.add(&format!("i {} {}", h.change, h.batch));
    }

    fn row(&mut self, row: CopiedRow<'_>) {
        match row {
            CopiedRow::Batch(b) => self.batch(b),
            CopiedRow::Change(h) => self.change(h),
            CopiedRow::Cursor(c) => self.cursor(c),
            CopiedRow::Snapshot(s) => self.snapshot(s),
            CopiedRow::SnapshotCursor { snapshot, cursor } => {
                self.snapshot_cursor(snapshot, cursor)
            }
        }
    }

    fn cursor(&mut self, c: &CursorRow) {
        self.cursors += 1;
        self.add(&format!(
            "c {:?} {:?} {} {} {:?}",
            c.consumer, c.channel, c.partition, c.offset, c.updated_at
        ));
    }
}

/// Everything a view of a store holds, tallied, with the highest ids it
/// gave.
pub fn tally(view: &dyn StoreRead, snapshots: bool) -> OpResult<(Tally, HighestIds)> {
    let mut tally = Tally::default();
    visit_all(view, snapshots, &mut |row| {
        tally.row(row);
        Ok(())
    })?;
    let highest = highest_ids(view)?;
    tally.highest(highest);
    Ok((tally, highest))
}

/// The highest ids a view gave: as the store keeps them, or else the
/// highest ones it holds.
fn highest_ids(view: &dyn StoreRead) -> OpResult<HighestIds> {
    if let Some(highest) = view.highest_ids()? {
        return Ok(highest);
    }
    let mut highest = HighestIds::default();
    view.for_each_batch(|b| -> OpResult<()> {
        highest.batch = highest.batch.max(b.id);
        Ok(())
    })?;
    view.for_each_change(&HistoryFilter::default(), |h| -> OpResult<()> {
        highest.change = highest.change.max(h.id);
        Ok(())
    })?;
    Ok(highest)
}

/// Visit every batch, then every change, then every cursor, then (when
/// the store has them) every snapshot followed by its cursors.
fn visit_all(
    view: &dyn StoreRead,
    snapshots: bool,
    each: &mut dyn FnMut(CopiedRow<'_>) -> OpResult<()>,
) -> OpResult<()> {
    view.for_each_batch(|b| each(CopiedRow::Batch(b)))?;
    view.for_each_change(&HistoryFilter::default(), |h| each(CopiedRow::Change(h)))?;
    view.for_each_cursor(&CursorFilter::default(), |c| -> OpResult<()> {
        each(CopiedRow::Cursor(c?))
    })?;
    if !snapshots {
        return Ok(());
    }
    // The snapshots first (they are few), then the cursors of each: a
    // listing is not read while another is open.
    let mut listed = Vec::new();
    view.for_each_snapshot(|s| -> OpResult<()> {
        listed.push(s.clone());
        Ok(())
    })?;
    for snapshot in &listed {
        each(CopiedRow::Snapshot(snapshot))?;
        view.for_each_snapshot_cursor(&snapshot.name, |c| {
            each(CopiedRow::SnapshotCursor {
                snapshot: &snapshot.name,
                cursor: c,
            })
        })?;
    }
    Ok(())
}

/// Whether a store has the snapshot tables.
fn has_snapshots(store: &dyn Store) -> OpResult<bool> {
    Ok(store.schema_version()? >= SNAPSHOTS_VERSION)
}

/// Whether a view holds no row at all.
fn is_empty(view: &dyn StoreRead) -> OpResult<bool> {
    let mut any = false;
    view.visit_batches(&mut |_| {
        any = true;
        Visit::Break(())
    })?;
    view.visit_changes(&HistoryFilter::default(), &mut |_| {
        any = true;
        Visit::Break(())
    })?;
    view.visit_cursors(&CursorFilter::default(), &mut |_| {
        any = true;
        Visit::Break(())
    })?;
    view.visit_snapshots(&mut |_| {
        any = true;
        Visit::Break(())
    })?;
    Ok(!any)
}

/// Copy everything `source` holds into `dest` in one transaction,
/// verified before it commits; the tally of what was sent.
pub fn copy(source: &dyn Store, dest: &dyn Store, to: &StoreLocation) -> OpResult<Tally> {
    let snapshots = has_snapshots(source)?;
    let view = source.begin_read()?;
    let copied = dest.write_once(|txn: &dyn WriteTxn| -> OpResult<Tally> {
        if !is_empty(txn)? {
            return Err(Refusal::usage(format!(
                "{to} is not empty: copy-store copies into an empty store only; nothing was written"
            ))
            .into());
        }
        let mut sent = Tally::default();
        visit_all(source, snapshots, &mut |row| {
            txn.copy_in(row)?;
            sent.row(row);
            Ok(())
        })?;
        let highest = highest_ids(source)?;
        sent.highest(highest);
        txn.finish_copy(highest)?;
        let (received, _) = tally(txn, true)?;
        if received != sent {
            return Err(Refusal::new(
                ErrorKind::Store,
                format!(
                    "the copy does not match the source ({} cursors, {} changes, {} batches, {} snapshots of {} cursors, checksum {:016x} read back; {} cursors, {} changes, {} batches, {} snapshots of {} cursors, checksum {:016x} sent): rolled back, nothing was written",
                    received.cursors, received.changes, received.batches, received.snapshots,
                    received.snapshot_cursors, received.checksum,
                    sent.cursors, sent.changes, sent.batches, sent.snapshots,
                    sent.snapshot_cursors, sent.checksum
                ),
            )
            .into());
        }
        Ok(sent)
    })?;
    view.end()?;
    Ok(copied)
}
