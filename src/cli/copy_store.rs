//! `cursorctl copy-store`: copy a whole store into an empty one, SQLite to
//! PostgreSQL and back, verified before it commits.

use std::io;

use cursorctl::ops::copy_store::{copy, tally, Tally};
use cursorctl::store::{self, InitOutcome, StoreLocation};

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
            return Err(e.into());
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
