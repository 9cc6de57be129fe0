//! `cursorctl copy-store`: copy a whole store into an empty one, SQLite to
//! PostgreSQL and back, verified before it commits.

use std::io;

use cursorctl::store::{
    self, BatchRow, CopiedRow, CursorFilter, CursorRow, HighestIds, HistoryFilter, HistoryRow,
    InitOutcome, SnapshotRow, Store, StoreExt, StoreLocation, StoreRead, StoreReadExt, Visit,
    WriteTxn, SNAPSHOTS_VERSION,
};

use super::error::{CliResult, ExitKind, Failure};
use super::output::{Field, Record};
use super::Context;

/// Copy every cursor, batch, history row and snapshot into an empty store
///
/// Reads the store at --db in one snapshot and writes everything, ids and
/// times included, into the store at --to (created if missing, refused if
/// it holds anything) in one transaction; new ids there follow the highest
/// ones the source ever gave. Before committing it reads the copy back and
/// compares the counts and a checksum of both sides; if they differ,
/// nothing is written. A copy that fails leaves no new store behind: a
/// store --to created is removed again. This is how a store moves from one
/// host's SQLite file to a shared PostgreSQL database, or back.
#[derive(Debug, clap::Args)]
#[command(after_help = "\
Examples:
  cursorctl --db cursors.db copy-store --to postgres://ops@db.internal/platform
  cursorctl --db postgres://ops@db.internal/platform copy-store --to backup.db")]
pub struct Args {
    /// The store to copy into: a path or a postgres:// URL
    #[arg(long, value_name = "PATH|URL", value_hint = clap::ValueHint::AnyPath)]
    pub to: std::ffi::OsString,
}

/// Counts and a checksum of a store's rows, in the order they are copied.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
struct Tally {
    cursors: u64,
    changes: u64,
    batches: u64,
    snapshots: u64,
    snapshot_cursors: u64,
    checksum: u64,
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
fn tally(view: &dyn StoreRead, snapshots: bool) -> CliResult<(Tally, HighestIds)> {
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
fn highest_ids(view: &dyn StoreRead) -> CliResult<HighestIds> {
    if let Some(highest) = view.highest_ids()? {
        return Ok(highest);
    }
    let mut highest = HighestIds::default();
    view.for_each_batch(|b| -> CliResult<()> {
        highest.batch = highest.batch.max(b.id);
        Ok(())
    })?;
    view.for_each_change(&HistoryFilter::default(), |h| -> CliResult<()> {
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
    each: &mut dyn FnMut(CopiedRow<'_>) -> CliResult<()>,
) -> CliResult<()> {
    view.for_each_batch(|b| each(CopiedRow::Batch(b)))?;
    view.for_each_change(&HistoryFilter::default(), |h| each(CopiedRow::Change(h)))?;
    view.for_each_cursor(&CursorFilter::default(), |c| -> CliResult<()> {
        each(CopiedRow::Cursor(c?))
    })?;
    if !snapshots {
        return Ok(());
    }
    // The snapshots first (they are few), then the cursors of each: a
    // listing is not read while another is open.
    let mut listed = Vec::new();
    view.for_each_snapshot(|s| -> CliResult<()> {
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
fn has_snapshots(store: &dyn Store) -> CliResult<bool> {
    Ok(store.schema_version()? >= SNAPSHOTS_VERSION)
}

/// Whether a view holds no row at all.
fn is_empty(view: &dyn StoreRead) -> CliResult<bool> {
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

struct CopyRecord {
    from: String,
    to: String,
    tally: Tally,
}

impl Record for CopyRecord {
    fn fields(
        &self,
        visit: &mut dyn FnMut(&'static str, Field<'_>) -> io::Result<()>,
    ) -> io::Result<()> {
        visit("from", Field::Str(&self.from))?;
        visit("to", Field::Str(&self.to))?;
        visit("cursors", Field::U64(self.tally.cursors))?;
        visit("changes", Field::U64(self.tally.changes))?;
        visit("batches", Field::U64(self.tally.batches))?;
        visit("snapshots", Field::U64(self.tally.snapshots))?;
        visit(
            "checksum",
            Field::Str(&format!("{:016x}", self.tally.checksum)),
        )
    }

    fn table_columns(&self) -> &'static [&'static str] {
        &[
            "from",
            "to",
            "cursors",
            "changes",
            "batches",
            "snapshots",
            "checksum",
        ]
    }

    fn value(&self) -> Field<'_> {
        Field::U64(self.tally.cursors)
    }
}

pub fn run(ctx: &Context, args: &Args) -> CliResult<()> {
    let to = StoreLocation::parse(&args.to);
    if to == ctx.global.db {
        return Err(Failure::usage("--to names the store being copied; name another store").into());
    }
    let source = ctx.open_read()?;
    let (dest, outcome) = store::init(&to, ctx.global.busy_timeout)?;
    let copied = match copy(&**source, &*dest, &to) {
        Ok(copied) => copied,
        Err(e) => {
            // Nothing was committed: a store made for the copy goes again.
            if outcome == InitOutcome::Created {
                if let Err(removal) = dest.remove_created() {
                    ctx.note(&format!(
                        "the new store {to} could not be removed: {removal}"
                    ));
                }
            }
            return Err(e);
        }
    };
    drop(dest);
    // Read the committed copy once more, from a fresh view.
    let committed = store::open(&to, cursorctl::Access::ReadOnly, ctx.global.busy_timeout)?;
    let (committed, _) = tally(&*committed, true)?;
    if committed != copied {
        return Err(Failure::new(
            ExitKind::Store,
            format!("{to} changed while it was being verified: another writer wrote to it"),
        )
        .into());
    }
    ctx.note(&format!(
        "copied {} cursor(s), {} change(s), {} batch(es) and {} snapshot(s) of {} cursor(s) into {to}; both sides verified (checksum {:016x})",
        copied.cursors,
        copied.changes,
        copied.batches,
        copied.snapshots,
        copied.snapshot_cursors,
        copied.checksum
    ));
    ctx.print_one(&CopyRecord {
        from: ctx.global.db.to_string(),
        to: to.to_string(),
        tally: copied,
    })
}

/// Copy everything `source` holds into `dest` in one transaction,
/// verified before it commits; the tally of what was sent.
fn copy(source: &dyn Store, dest: &dyn Store, to: &StoreLocation) -> CliResult<Tally> {
    let snapshots = has_snapshots(source)?;
    let snapshot = source.begin_snapshot()?;
    let copied = dest.write_once(|txn: &dyn WriteTxn| -> CliResult<Tally> {
        if !is_empty(txn)? {
            return Err(Failure::usage(format!(
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
            return Err(Failure::new(
                ExitKind::Store,
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
    snapshot.end()?;
    Ok(copied)
}
