//! `cursorctl undo`: put back what a recorded change (or a whole batch) did.

use cursorctl::key::CursorKey;
use cursorctl::store::{
    ChangeInput, DryRun, DurableStore, HistoryRow, Store, StoreExt, StoreRead, StoreReadExt,
    WriteTxn,
};
use cursorctl::StoreError;

use super::batch::{Apply, BatchRun};
use super::bulk::{failure_status, is_item_failure, print_batch, Failures};
use super::change::{apply_in, move_cursor, print_committed, Audit, Move, Target};
use super::error::{classify, committed_but_unprinted, ExitKind, Failure};
use super::output::Shape;
use super::records::{key_of, ChangeRecord, PlanRecord, Status};
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

    /// Show what would happen; write nothing and take no write lock
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
    /// Why the real run needs `--reason` and none was given (a dry run
    /// plans it anyway).
    needs_reason: Option<String>,
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

/// Where an undo is checked: for the real run, a rewind without a reason
/// is refused; a dry run shows the plan and says what the real run needs.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Run {
    Real,
    Dry,
}

/// Check that `change` can be undone against `store` and say how.
fn plan_undo(
    store: &dyn DurableStore,
    change: &HistoryRow,
    reason: Option<&str>,
    run: Run,
) -> anyhow::Result<UndoPlan> {
    let key = key_of(change)?;
    let key_text = key.to_string();
    let current = store.read_value(&key_text)?;
    let id = change.id;
    let mut needs_reason = None;
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
                let why = format!("undoing change {id} {what}: a rewind needs --reason TEXT");
                if run == Run::Real {
                    return Err(Failure::usage(why).into());
                }
                needs_reason = Some(why);
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
    Ok(UndoPlan {
        key,
        step,
        needs_reason,
    })
}

/// Carry out an undo inside a write transaction and record it.
fn apply_undo(
    txn: &dyn WriteTxn,
    plan: &UndoPlan,
    audit: &Audit<'_>,
) -> anyhow::Result<ChangeRecord> {
    if let Some(m) = plan.movement() {
        return apply_in(txn, &m, audit);
    }
    let Step::Remove { wrote } = plan.step else {
        unreachable!("a plan without a movement removes the cursor")
    };
    txn.remove_if(&plan.key, wrote)?;
    let id = txn.record_change(&ChangeInput {
        key: &plan.key,
        old_offset: Some(wrote),
        new_offset: None,
        command: audit.command,
        reason: audit.reason,
        user: audit.user,
        batch: audit.batch,
    })?;
    Ok(ChangeRecord {
        id: Some(id),
        key: plan.key.clone(),
        old_offset: Some(wrote),
        new_offset: None,
        status: Status::Removed,
        dry_run: false,
    })
}

/// What undoing `change` would do, checked through a view that writes
/// nothing.
fn dry_undo(
    store: &dyn DurableStore,
    change: &HistoryRow,
    reason: Option<&str>,
    run: Run,
) -> anyhow::Result<PlanRecord> {
    let plan = plan_undo(store, change, reason, run)?;
    let (old, new) = match plan.movement() {
        Some(m) => {
            let (old, new) = move_cursor(&DryRun::new(store), &m)?;
            (old, Some(new))
        }
        None => (store.read_value(&plan.key.to_string())?, None),
    };
    Ok(PlanRecord {
        source: ("change", change.id.unsigned_abs()),
        key: Some(plan.key.to_string()),
        old_offset: old,
        new_offset: new,
        status: Status::of(old, new).as_str(),
        reason: plan.needs_reason,
    })
}

const NEEDS_REASON: &str =
    "the real run needs --reason TEXT: it moves cursors back (see the reason column)";

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
            if args.dry_run {
                plan_batch(ctx, &opts)
            } else {
                run_batch(ctx, &opts)
            }
        }
        (Some(id), None) => run_one(ctx, id, reason, args.dry_run),
        (None, None) => {
            Err(Failure::usage("undo needs CHANGE_ID, --batch ID or --since TIME").into())
        }
    }
}

fn run_one(ctx: &Context, id: i64, reason: Option<&str>, dry_run: bool) -> anyhow::Result<()> {
    if dry_run {
        let store = ctx.open_read()?;
        let change = store.change(id)?.ok_or_else(|| no_change(id))?;
        let row = dry_undo(&**store, &change, reason, Run::Dry)?;
        ctx.note(&format!(
            "dry run: undoing change {id} would leave {} {}; nothing was written",
            row.key.as_deref().unwrap_or_default(),
            row.status
        ));
        if row.reason.is_some() {
            ctx.note(NEEDS_REASON);
        }
        return ctx.print_one(&row);
    }
    let store = ctx.open_write()?;
    let user = Context::user();
    let record = store.write(|txn| -> anyhow::Result<ChangeRecord> {
        let change = txn.change(id)?.ok_or_else(|| no_change(id))?;
        let plan = plan_undo(txn, &change, reason, Run::Real)?;
        let audit = Audit {
            command: "undo",
            reason,
            user: &user,
            batch: None,
        };
        apply_undo(txn, &plan, &audit)
    })?;
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

const BATCH_MOVED: &str = "cursors moved since the batch (see `cursorctl history`); undo the other changes one at a time with `cursorctl undo CHANGE_ID` if that is what you want";

fn no_batch(batch: i64) -> anyhow::Error {
    Failure::new(
        ExitKind::NotFound,
        format!("batch {batch} has no recorded changes"),
    )
    .with_hint("the batch ids are in the batch column of `cursorctl history`")
    .with("batch", batch)
    .into()
}

fn run_batch(ctx: &Context, opts: &SelectionRun<'_>) -> anyhow::Result<()> {
    let store = ctx.open_write()?;
    let user = Context::user();
    let selection = opts.selection;
    let reason = opts.reason;
    let mut skipped: Vec<String> = Vec::new();
    let result = store.write(|txn| -> anyhow::Result<Option<(i64, u64)>> {
        skipped.clear();
        let ids = selection.ids(txn)?;
        if ids.is_empty() {
            return match selection.none() {
                Some(e) => Err(e),
                None => Ok(None),
            };
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
            let mut skip = |e: anyhow::Error| -> anyhow::Result<Option<Status>> {
                if opts.skip_moved && moved_since(&e) {
                    skipped.push(format!("change {id}: {e:#}"));
                    Ok(None)
                } else {
                    Err(e)
                }
            };
            run.item(
                id.unsigned_abs(),
                key.as_ref().map(|k| k as &dyn std::fmt::Display),
                &audit,
                |target| match target {
                    Apply::Write(txn, audit) => match plan_undo(txn, &change, reason, Run::Real) {
                        Ok(p) => apply_undo(txn, &p, audit).map(|r| Some(r.status)),
                        Err(e) => skip(e),
                    },
                    Apply::Check(view) => match dry_undo(view, &change, reason, Run::Real) {
                        Ok(_) => Ok(None),
                        Err(e) => skip(e),
                    },
                },
            )?;
        }
        let done = run.finish()?;
        Ok(Some((done.id, done.changed)))
    });
    let Some((new_batch, count)) = result? else {
        ctx.note(&format!(
            "no change was recorded in {}; nothing was written",
            selection.describe()
        ));
        return Ok(());
    };
    print_batch(ctx, &*store, Some(new_batch), Vec::new()).map_err(|e| {
        committed_but_unprinted(
            e,
            &format!(
                "the undo of {} ({count} change(s), recorded as batch {new_batch})",
                selection.describe()
            ),
            ("batch", new_batch),
        )
    })?;
    ctx.note(&format!(
        "undid {count} change(s) of {}, recorded as batch {new_batch}",
        selection.describe()
    ));
    ctx.note_list(
        &format!(
            "--skip-moved left {} change(s) whose cursors moved since:",
            skipped.len()
        ),
        &skipped,
    );
    Ok(())
}

fn plan_batch(ctx: &Context, opts: &SelectionRun<'_>) -> anyhow::Result<()> {
    let store = ctx.open_read()?;
    store.snapshot(|store| plan_batch_in(ctx, store, opts))
}

fn plan_batch_in(ctx: &Context, store: &dyn Store, opts: &SelectionRun<'_>) -> anyhow::Result<()> {
    let (selection, reason) = (opts.selection, opts.reason);
    let ids = selection.ids(store)?;
    if ids.is_empty() {
        if let Some(e) = selection.none() {
            return Err(e);
        }
        ctx.note(&format!(
            "dry run: no change was recorded in {}; nothing would be written",
            selection.describe()
        ));
        return Ok(());
    }
    let mut skipped = 0u64;
    let view = DryRun::new(store);
    let mut printer = (!ctx.global.quiet).then(|| {
        ctx.printer(Shape::List)
            .with_header(PlanRecord::fields("change"))
    });
    let mut failures = Failures::new("change").with_stale_hint(BATCH_MOVED);
    let mut needs_reason = false;
    for &id in &ids {
        let change = store.change(id)?.ok_or_else(|| no_change(id))?;
        let row = match dry_undo(&view, &change, reason, Run::Dry) {
            Ok(row) => {
                needs_reason |= row.reason.is_some();
                row
            }
            Err(e) if is_item_failure(&e) => {
                let kind = classify(&e).0;
                let key = key_of(&change).map(|k| k.to_string()).ok();
                let why = format!("{e:#}");
                let skip = opts.skip_moved && moved_since(&e);
                if skip {
                    skipped += 1;
                } else {
                    failures.add(id.unsigned_abs(), key.as_deref(), kind, &why);
                }
                PlanRecord {
                    source: ("change", id.unsigned_abs()),
                    old_offset: key
                        .as_deref()
                        .and_then(|k| store.read_value(k).ok().flatten()),
                    key,
                    new_offset: change.old_offset,
                    status: if skip {
                        "skipped"
                    } else {
                        failure_status(kind)
                    },
                    reason: Some(why),
                }
            }
            Err(e) => return Err(e),
        };
        if let Some(p) = printer.as_mut() {
            p.record(&row)?;
        }
    }
    if let Some(p) = printer {
        p.finish()?;
    }
    if !failures.is_empty() {
        return Err(failures.into_error(
            ids.len() as u64,
            "the undo would be refused and nothing written",
        ));
    }
    ctx.note(&format!(
        "dry run: undoing {} would change {} cursor(s){}; nothing was written",
        selection.describe(),
        ids.len() as u64 - skipped,
        if skipped > 0 {
            format!(" and leave {skipped} that moved since (--skip-moved)")
        } else {
            String::new()
        }
    ));
    if needs_reason {
        ctx.note(NEEDS_REASON);
    }
    Ok(())
}
