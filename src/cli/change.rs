//! One cursor move from the command line (`set`, `advance`): the move is
//! the library's (`cursorctl::ops::moves`); here it is printed.

use cursorctl::ops::moves::{write_one, Audit, Move};
use cursorctl::store::Outcome;

use super::error::{committed_but_unprinted, CliResult};
use super::records::ChangeRecord;
use super::Context;

/// Move one cursor (or, with `dry_run`, show what would happen: the same
/// write, rolled back) and print the change record.
pub fn run_one(ctx: &Context, m: &Move<'_>, audit: &Audit<'_>, dry_run: bool) -> CliResult<()> {
    let outcome = Outcome::of_dry_run(dry_run);
    let store = ctx.open_write()?;
    let mut record = write_one(&*store, m, audit, outcome)?;
    if dry_run {
        record = record.planned();
        ctx.note(&format!(
            "dry run: {} would be {}; nothing was written",
            record.key,
            record.status.as_str()
        ));
    }
    print_committed(ctx, &record)
}

/// Print the record of a change; if that fails after the change was
/// committed, the error says so.
pub fn print_committed(ctx: &Context, record: &ChangeRecord) -> CliResult<()> {
    ctx.print_one(record).map_err(|e| match record.id {
        Some(id) => committed_but_unprinted(
            e,
            &format!("change {id} ({} {})", record.key, record.describe()),
            ("change", id),
        ),
        None => e,
    })
}
