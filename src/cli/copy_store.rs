//! `cursorctl copy-store`: copy a whole store into an empty one, SQLite to
//! PostgreSQL and back, verified before it commits.

use std::io;

use cursorctl::store::{
    self, BatchRow, CopiedRow, CursorFilter, CursorRow, HistoryFilter, HistoryRow, StoreExt,
    StoreLocation, StoreRead, StoreReadExt, Visit, WriteTxn,
};

use super::error::{ExitKind, Failure};
use super::output::{Field, Record};
use super::Context;

/// Copy every cursor, batch and history row into an empty store
///
/// Reads the store at --db in one snapshot and writes everything, ids and
/// times included, into the store at --to (created if missing, refused if
/// it holds anything) in one transaction. Before committing it reads the
/// copy back and compares the counts and a checksum of both sides; if they
/// differ, nothing is written. This is how a store moves from one host's
/// SQLite file to a shared PostgreSQL database, or back.
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

    fn cursor(&mut self, c: &CursorRow) {
        self.cursors += 1;
        self.add(&format!(
            "c {:?} {:?} {} {} {:?}",
            c.consumer, c.channel, c.partition, c.offset, c.updated_at
        ));
    }
}

/// Everything a view of a store holds, tallied.
fn tally(view: &dyn StoreRead) -> anyhow::Result<Tally> {
    let mut tally = Tally::default();
    visit_all(view, &mut |row| {
        match row {
            CopiedRow::Batch(b) => tally.batch(b),
            CopiedRow::Change(h) => tally.change(h),
            CopiedRow::Cursor(c) => tally.cursor(c),
        }
        Ok(())
    })?;
    Ok(tally)
}

/// Visit every batch, then every change, then every cursor.
fn visit_all(
    view: &dyn StoreRead,
    each: &mut dyn FnMut(CopiedRow<'_>) -> anyhow::Result<()>,
) -> anyhow::Result<()> {
    view.for_each_batch(|b| each(CopiedRow::Batch(b)))?;
    view.for_each_change(&HistoryFilter::default(), |h| each(CopiedRow::Change(h)))?;
    view.for_each_cursor(&CursorFilter::default(), |c| -> anyhow::Result<()> {
        each(CopiedRow::Cursor(c?))
    })
}

/// Whether a view holds no row at all.
fn is_empty(view: &dyn StoreRead) -> anyhow::Result<bool> {
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
        visit(
            "checksum",
            Field::Str(&format!("{:016x}", self.tally.checksum)),
        )
    }

    fn table_columns(&self) -> &'static [&'static str] {
        &["from", "to", "cursors", "changes", "batches", "checksum"]
    }

    fn value(&self) -> Field<'_> {
        Field::U64(self.tally.cursors)
    }
}

pub fn run(ctx: &Context, args: &Args) -> anyhow::Result<()> {
    let to = StoreLocation::parse(&args.to);
    if to == ctx.global.db {
        return Err(Failure::usage("--to names the store being copied; name another store").into());
    }
    let source = ctx.open_read()?;
    let (dest, _) = store::init(&to, ctx.global.busy_timeout)?;
    let snapshot = source.begin_snapshot()?;
    let copied = dest.write_once(|txn: &dyn WriteTxn| -> anyhow::Result<Tally> {
        if !is_empty(txn)? {
            return Err(Failure::usage(format!(
                "{to} is not empty: copy-store copies into an empty store only; nothing was written"
            ))
            .into());
        }
        let mut sent = Tally::default();
        visit_all(&**source, &mut |row| {
            txn.copy_in(row)?;
            match row {
                CopiedRow::Batch(b) => sent.batch(b),
                CopiedRow::Change(h) => sent.change(h),
                CopiedRow::Cursor(c) => sent.cursor(c),
            }
            Ok(())
        })?;
        txn.finish_copy()?;
        let received = tally(txn)?;
        if received != sent {
            return Err(Failure::new(
                ExitKind::Store,
                format!(
                    "the copy does not match the source ({} cursors, {} changes, {} batches, checksum {:016x} read back; {} cursors, {} changes, {} batches, checksum {:016x} sent): rolled back, nothing was written",
                    received.cursors, received.changes, received.batches, received.checksum,
                    sent.cursors, sent.changes, sent.batches, sent.checksum
                ),
            )
            .into());
        }
        Ok(sent)
    })?;
    snapshot.end()?;
    // Read the committed copy once more, from a fresh view.
    let committed = tally(&*store::open(
        &to,
        cursorctl::Access::ReadOnly,
        ctx.global.busy_timeout,
    )?)?;
    if committed != copied {
        return Err(Failure::new(
            ExitKind::Store,
            format!("{to} changed while it was being verified: another writer wrote to it"),
        )
        .into());
    }
    ctx.note(&format!(
        "copied {} cursor(s), {} change(s) and {} batch(es) into {to}; both sides verified (checksum {:016x})",
        copied.cursors, copied.changes, copied.batches, copied.checksum
    ));
    ctx.print_one(&CopyRecord {
        from: ctx.global.db.to_string(),
        to: to.to_string(),
        tally: copied,
    })
}
