//! `cursorctl undo`: put back what a recorded change (or a whole batch) did.

use cursorctl::ops::batch::Finished;
use cursorctl::ops::undo::{self, Many, Selection};
use cursorctl::store::Outcome;

use super::batch;
use super::change::print_committed;
use super::error::{CliResult, Failure};
use super::{id_arg, reason_arg, Context};

/// Undo a recorded change, or every change of a batch
///
/// Puts the cursor back to the offset it had before the change, only if it
/// still holds the offset that change wrote; otherwise nothing is written
/// (exit 3). For --batch it is all or nothing: if any cursor of the batch
/// has moved since, nothing at all is written and every such change is
/// listed. The undo is recorded as new changes (command `undo`, a new batch
/// for --batch). An undo that moves a cursor back is a rewind and needs
/// --reason (exit 2 without); so does undoing the creation of a cursor,
/// which removes it (it then reads as offset 0). --dry-run shows the whole
/// plan even without --reason and says when the real run needs one. An
/// unknown change id or batch is exit 5.
#[derive(Debug, clap::Args)]
#[command(after_help = "\
Examples:
  cursorctl undo 42                                  undo change 42 (ids are in `cursorctl history`)
  cursorctl undo 42 --reason 'moved the wrong consumer'
  cursorctl undo --batch 7 --dry-run                 show what undoing batch 7 would do
  cursorctl undo --batch 7 --reason 'revert INC-123 bulk move'
  cursorctl undo --since 2h --dry-run                what undoing the last two hours would do
  cursorctl undo --since 2024-05-01T09:00:00Z --skip-moved --reason 'INC-130 revert the bad deploy'")]
pub struct Args {
    /// The id of the change to undo (see `history`)
    #[arg(
        value_name = "CHANGE_ID",
        value_parser = id_arg,
        allow_hyphen_values = true,
        required_unless_present_any = ["batch", "since"],
        conflicts_with_all = ["batch", "since"]
    )]
    pub change_id: Option<i64>,

    /// Undo every change of this batch, all or nothing
    #[arg(long, value_name = "ID", value_parser = id_arg, allow_hyphen_values = true, conflicts_with = "since")]
    pub batch: Option<i64>,

    /// Undo every change made since TIME, newest first, as one batch: a
    /// date (2024-05-01, midnight UTC), a time with its zone
    /// (2024-05-01T12:00:00Z), or a duration meaning that long ago (1h)
    #[arg(long, value_name = "TIME", value_parser = super::history::parse_since)]
    pub since: Option<super::history::Since>,

    /// With --batch or --since: leave the cursors that moved since (by
    /// someone else) as they are and list them, instead of refusing the
    /// whole undo (exit 3)
    #[arg(long)]
    pub skip_moved: bool,

    /// Why (recorded in the history; needed when the undo moves a cursor back)
    #[arg(long, value_name = "TEXT", value_parser = reason_arg, allow_hyphen_values = true)]
    pub reason: Option<String>,

    /// Show what the write would do: the same records and exit code; the
    /// write runs and is rolled back, so nothing is kept
    #[arg(long)]
    pub dry_run: bool,
}

pub fn run(ctx: &Context, args: &Args) -> CliResult<()> {
    let reason = args.reason.as_deref();
    if args.skip_moved && args.change_id.is_some() {
        return Err(Failure::usage(
            "--skip-moved goes with --batch or --since: one change either undoes or not",
        )
        .into());
    }
    let selection = match (args.batch, args.since) {
        (Some(batch), _) => Some(Selection::Batch(batch)),
        (None, Some(since)) => Some(Selection::Since(since.resolve_at_db(ctx)?)),
        (None, None) => None,
    };
    match (args.change_id, selection) {
        (_, Some(selection)) => {
            let user = Context::user();
            let request = Many {
                selection,
                reason,
                skip_moved: args.skip_moved,
                user: &user,
            };
            run_many(ctx, &request, Outcome::of_dry_run(args.dry_run))
        }
        (Some(id), None) => undo_one(ctx, id, reason, Outcome::of_dry_run(args.dry_run)),
        (None, None) => {
            Err(Failure::usage("undo needs CHANGE_ID, --batch ID or --since TIME").into())
        }
    }
}

fn undo_one(ctx: &Context, id: i64, reason: Option<&str>, outcome: Outcome) -> CliResult<()> {
    let store = ctx.open_write()?;
    let user = Context::user();
    let record = undo::one(&*store, id, reason, &user, outcome)?;
    if outcome.is_dry_run() {
        ctx.note(&format!(
            "dry run: undoing change {id} would leave {} {}; nothing was written",
            record.key,
            record.status.as_str()
        ));
        return ctx.print_one(&record);
    }
    print_committed(ctx, &record)
}

fn run_many(ctx: &Context, request: &Many<'_>, outcome: Outcome) -> CliResult<()> {
    let store = ctx.open_write()?;
    let undone = undo::many(
        &*store,
        request,
        outcome,
        batch::printer(ctx, outcome, "undone change(s)"),
    )?;
    let selection = request.selection;
    let nothing = |what: String| batch::note_unwritten(ctx, outcome, &what);
    match undone.finished {
        Finished::Done(done) => {
            let items = format!("change(s) of {}", selection.describe());
            batch::note_done(ctx, outcome, &done, "undid", "undo", &items);
        }
        Finished::Nothing { .. } if undone.selected == 0 => nothing(format!(
            "no change was recorded in {}",
            selection.describe()
        )),
        Finished::Nothing { .. } => nothing(format!(
            "no change of {} could be undone: every cursor it moved has moved since",
            selection.describe()
        )),
    }
    ctx.note_list(
        &format!(
            "--skip-moved {} {} change(s) whose cursors moved since:",
            if outcome.is_dry_run() {
                "would leave"
            } else {
                "left"
            },
            undone.skipped.len()
        ),
        &undone.skipped,
    );
    Ok(())
}
