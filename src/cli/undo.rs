//! `cursorctl undo`: put back what a recorded change (or a whole batch) did.

use cursorctl::key::CursorKey;
use cursorctl::store::{
    DurableStore, HistoryRow, Outcome, StoreExt, StoreRead, StoreReadExt, WriteTxn,
};
use cursorctl::StoreError;

use super::batch::{self, BatchRun};
use super::bulk::Failures;
use super::change::{apply_in, print_committed, remove_in, Audit, Move, Target};
use super::error::{classify, ExitKind, Failure};
use super::records::{key_of, ChangeRecord};
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

/// What undoing one change does to its cursor.
enum Step {
    /// Move it (back) to an offset.
    To {
        offset: u64,
        expect: Option<u64>,
        create: bool,
        allow_rewind: bool,
    },
    /// Remove it: the change created it.
    Remove { wrote: u64 },
}

struct UndoPlan {
    key: CursorKey,
    step: Step,
}

impl UndoPlan {
    fn movement(&self) -> Option<Move<'_>> {
        match self.step {
            Step::To {
                offset,
                expect,
                create,
                allow_rewind,
            } => Some(Move {
                key: &self.key,
                target: Target::To(offset),
                expect,
                create,
                allow_rewind,
            }),
            Step::Remove { .. } => None,
        }
    }
}

/// Check that `change` can be undone against `store` and say how.
fn plan_undo(
    store: &dyn DurableStore,
    change: &HistoryRow,
    reason: Option<&str>,
) -> anyhow::Result<UndoPlan> {
    let key = key_of(change)?;
    let key_text = key.to_string();
    let current = store.read_value(&key_text)?;
    let id = change.id;
    let step = match (change.old_offset, change.new_offset) {
        (old, Some(wrote)) => {
            if current != Some(wrote) {
                let holds = current.map_or_else(
                    || "it no longer exists".to_owned(),
                    |v| format!("it holds {v}"),
                );
                return Err(Failure::new(
                    ExitKind::Stale,
                    format!(
                        "cursor {key} no longer holds offset {wrote}, which change {id} wrote ({holds})"
                    ),
                )
                .with_hint("the cursor moved since: see `cursorctl history` for what moved it")
                .with("key", key_text)
                .with("expected", wrote)
                .with("actual", current)
                .into());
            }
            let back_to = old.unwrap_or(0);
            if back_to < wrote && reason.is_none() {
                let what = if old.is_some() {
                    format!("moves cursor {key} back from {wrote} to {back_to}")
                } else {
                    format!("removes cursor {key}, created at {wrote} (it then reads as 0)")
                };
                return Err(Failure::usage(format!(
                    "undoing change {id} {what}: a rewind needs --reason TEXT"
                ))
                .into());
            }
            match old {
                Some(offset) => Step::To {
                    offset,
                    expect: Some(wrote),
                    create: false,
                    allow_rewind: offset < wrote,
                },
                None => Step::Remove { wrote },
            }
        }
        (Some(old), None) => {
            if let Some(v) = current {
                return Err(Failure::new(
                    ExitKind::Stale,
                    format!("cursor {key} exists again (offset {v}) since change {id} removed it"),
                )
                .with_hint(
                    "undoing the removal cannot succeed while the cursor exists: set it with \
                     `cursorctl set` if the old offset is what you want",
                )
                .with("key", key_text)
                .with("actual", v)
                .into());
            }
            Step::To {
                offset: old,
                expect: None,
                create: true,
                allow_rewind: false,
            }
        }
        (None, None) => {
            return Err(Failure::new(
                ExitKind::Store,
                format!("change {id} records neither an old nor a new offset"),
            )
            .into())
        }
    };
    Ok(UndoPlan { key, step })
}

/// Carry out an undo inside a write transaction and record it.
fn apply_undo(
    txn: &dyn WriteTxn,
    plan: &UndoPlan,
    audit: &Audit<'_>,
) -> anyhow::Result<ChangeRecord> {
    match (plan.movement(), &plan.step) {
        (Some(m), _) => apply_in(txn, &m, audit),
        (None, Step::Remove { wrote }) => remove_in(txn, &plan.key, *wrote, audit),
        (None, Step::To { .. }) => unreachable!("a plan that moves the cursor has a movement"),
    }
}

fn no_change(id: i64) -> anyhow::Error {
    Failure::new(
        ExitKind::NotFound,
        format!("no recorded change has id {id}"),
    )
    .with_hint("list the recorded changes and their ids with `cursorctl history`")
    .with("change", id)
    .into()
}

pub fn run(ctx: &Context, args: &Args) -> anyhow::Result<()> {
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
            let opts = SelectionRun {
                selection,
                reason,
                skip_moved: args.skip_moved,
            };
            run_batch(ctx, &opts, Outcome::of_dry_run(args.dry_run))
        }
        (Some(id), None) => run_one(ctx, id, reason, Outcome::of_dry_run(args.dry_run)),
        (None, None) => {
            Err(Failure::usage("undo needs CHANGE_ID, --batch ID or --since TIME").into())
        }
    }
}

fn run_one(ctx: &Context, id: i64, reason: Option<&str>, outcome: Outcome) -> anyhow::Result<()> {
    let store = ctx.open_write()?;
    let user = Context::user();
    let mut record = store.write_then(outcome, |txn| -> anyhow::Result<ChangeRecord> {
        let change = txn.change(id)?.ok_or_else(|| no_change(id))?;
        let plan = plan_undo(txn, &change, reason)?;
        let audit = Audit {
            command: "undo",
            reason,
            user: &user,
            batch: None,
        };
        apply_undo(txn, &plan, &audit)
    })?;
    if outcome.is_dry_run() {
        record.id = None;
        record.dry_run = true;
        ctx.note(&format!(
            "dry run: undoing change {id} would leave {} {}; nothing was written",
            record.key,
            record.status.as_str()
        ));
        return ctx.print_one(&record);
    }
    print_committed(ctx, &record)
}

/// Which changes an undo of many takes.
#[derive(Clone, Copy, Debug)]
enum Selection {
    /// Every change of a batch.
    Batch(i64),
    /// Every change made at or after a time (ms since the epoch).
    Since(i64),
}

/// An undo of many changes: which, why, and what to do with cursors that
/// moved since.
struct SelectionRun<'a> {
    selection: Selection,
    reason: Option<&'a str>,
    skip_moved: bool,
}

impl Selection {
    /// The ids of the changes, newest first (so a cursor changed twice is
    /// put back step by step).
    fn ids(self, view: &dyn StoreRead) -> Result<Vec<i64>, StoreError> {
        let filter = match self {
            Self::Batch(batch) => cursorctl::store::HistoryFilter {
                batch: Some(batch),
                ..Default::default()
            },
            Self::Since(at) => cursorctl::store::HistoryFilter {
                since: Some(at),
                ..Default::default()
            },
        };
        let mut ids = Vec::new();
        view.for_each_change(&filter, |row| -> Result<(), StoreError> {
            ids.push(row.id);
            Ok(())
        })?;
        ids.reverse();
        Ok(ids)
    }

    /// The command recorded for the undo's batch.
    fn label(self) -> String {
        match self {
            Self::Batch(batch) => format!("undo --batch {batch}"),
            Self::Since(at) => format!("undo --since {}", super::output::format_time(at)),
        }
    }

    /// Said of the selection in messages.
    fn describe(self) -> String {
        match self {
            Self::Batch(batch) => format!("batch {batch}"),
            Self::Since(at) => format!("the changes since {}", super::output::format_time(at)),
        }
    }

    /// Nothing selected: an unknown batch is not found; no change since a
    /// time is nothing to do.
    fn none(self) -> Option<anyhow::Error> {
        match self {
            Self::Batch(batch) => Some(no_batch(batch)),
            Self::Since(_) => None,
        }
    }
}

/// Whether an undo failed because its cursor moved since the change.
fn moved_since(err: &anyhow::Error) -> bool {
    classify(err).0 == ExitKind::Stale
}

const BATCH_MOVED: &str = "cursors moved since (see `cursorctl history`): pass --skip-moved to undo the other changes and leave those cursors as they are";

fn no_batch(batch: i64) -> anyhow::Error {
    Failure::new(
        ExitKind::NotFound,
        format!("batch {batch} has no recorded changes"),
    )
    .with_hint("the batch ids are in the batch column of `cursorctl history`")
    .with("batch", batch)
    .into()
}

fn run_batch(ctx: &Context, opts: &SelectionRun<'_>, outcome: Outcome) -> anyhow::Result<()> {
    let store = ctx.open_write()?;
    let user = Context::user();
    let selection = opts.selection;
    let reason = opts.reason;
    let mut skipped: Vec<String> = Vec::new();
    let mut selected = 0usize;
    let done = batch::run(ctx, &*store, outcome, "undone change(s)", |txn| {
        skipped.clear();
        let ids = selection.ids(txn)?;
        selected = ids.len();
        if ids.is_empty() {
            if let Some(e) = selection.none() {
                return Err(e);
            }
        }
        let failures = Failures::new("change").with_stale_hint(BATCH_MOVED);
        let mut run = BatchRun::begin(txn, &selection.label(), reason, &user, failures)?;
        let audit = Audit {
            command: "undo",
            reason,
            user: &user,
            batch: None,
        };
        for &id in &ids {
            let change = txn.change(id)?.ok_or_else(|| no_change(id))?;
            let key = key_of(&change).ok();
            run.item(
                id.unsigned_abs(),
                key.as_ref().map(|k| k as &dyn std::fmt::Display),
                &audit,
                |txn, audit| {
                    let undone = plan_undo(txn, &change, reason)
                        .and_then(|plan| apply_undo(txn, &plan, audit));
                    match undone {
                        Ok(record) => Ok(Some(record.status)),
                        Err(e) if opts.skip_moved && moved_since(&e) => {
                            skipped.push(format!("change {id}: {e:#}"));
                            Ok(None)
                        }
                        Err(e) => Err(e),
                    }
                },
            )?;
        }
        run.finish()
    })?;
    let skipped_note = |ctx: &Context| {
        ctx.note_list(
            &format!(
                "--skip-moved {} {} change(s) whose cursors moved since:",
                if outcome.is_dry_run() {
                    "would leave"
                } else {
                    "left"
                },
                skipped.len()
            ),
            &skipped,
        );
    };
    match done {
        Ok(done) => {
            let items = format!("change(s) of {}", selection.describe());
            batch::note_done(ctx, outcome, &done, "undid", "undo", &items);
        }
        Err(_) if selected == 0 => {
            let what = format!("no change was recorded in {}", selection.describe());
            if outcome.is_dry_run() {
                ctx.note(&format!("dry run: {what}; nothing would be written"));
            } else {
                ctx.note(&format!("{what}; nothing was written"));
            }
        }
        Err(_) => {
            let what = format!(
                "no change of {} could be undone: every cursor it moved has moved since",
                selection.describe()
            );
            if outcome.is_dry_run() {
                ctx.note(&format!("dry run: {what}; nothing would be written"));
            } else {
                ctx.note(&format!("{what}; nothing was written"));
            }
        }
    }
    skipped_note(ctx);
    Ok(())
}
