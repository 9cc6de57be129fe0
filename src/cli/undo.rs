//! `cursorctl undo`: put back what a recorded change (or a whole batch) did.

use cursorctl::key::CursorKey;
use cursorctl::store::sqlite::{ChangeInput, HistoryFilter, HistoryRow, SqliteStore, WriteTxn};
use cursorctl::store::{DryRun, DurableStore};
use cursorctl::StoreError;

use super::bulk::{failure_status, is_item_failure, print_batch, Failures};
use super::change::{apply_in, move_cursor, Audit, Move, Target};
use super::error::{classify, ExitKind, Failure};
use super::output::Shape;
use super::records::{key_of, ChangeRecord, PlanRecord, Status};
use super::Context;

/// Undo a recorded change, or every change of a batch
///
/// Puts the cursor back to the offset it had before the change, only if it
/// still holds the offset that change wrote; otherwise nothing is written
/// (exit 3). For --batch it is all or nothing: if any cursor of the batch
/// has moved since, nothing at all is written and every such change is
/// listed. The undo is recorded as new changes (command `undo`, a new batch
/// for --batch). An undo that moves a cursor back is a rewind and needs
/// --reason (exit 2 without); so does undoing the creation of a cursor,
/// which removes it (it then reads as offset 0). An unknown change id or
/// batch is exit 5.
#[derive(Debug, clap::Args)]
#[command(after_help = "\
Examples:
  cursorctl undo 42                                  undo change 42 (ids are in `cursorctl history`)
  cursorctl undo 42 --reason 'moved the wrong consumer'
  cursorctl undo --batch 7 --dry-run                 show what undoing batch 7 would do
  cursorctl undo --batch 7 --reason 'revert INC-123 bulk move'")]
pub struct Args {
    /// The id of the change to undo (see `history`)
    #[arg(
        value_name = "CHANGE_ID",
        required_unless_present = "batch",
        conflicts_with = "batch"
    )]
    pub change_id: Option<i64>,

    /// Undo every change of this batch, all or nothing
    #[arg(long, value_name = "ID")]
    pub batch: Option<i64>,

    /// Why (recorded in the history; needed when the undo moves a cursor back)
    #[arg(long, value_name = "TEXT")]
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
                let holds = current.map_or_else(|| "no cursor".to_owned(), |v| v.to_string());
                return Err(Failure::new(
                    ExitKind::Stale,
                    format!(
                        "cursor {key} no longer holds offset {wrote}, which change {id} wrote (it holds {holds})"
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
    txn: &WriteTxn<'_>,
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
) -> anyhow::Result<PlanRecord> {
    let plan = plan_undo(store, change, reason)?;
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
        reason: None,
    })
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
    match (args.change_id, args.batch) {
        (_, Some(batch)) => run_batch(ctx, batch, reason, args.dry_run),
        (Some(id), None) => run_one(ctx, id, reason, args.dry_run),
        (None, None) => Err(Failure::usage("undo needs CHANGE_ID or --batch ID").into()),
    }
}

fn run_one(ctx: &Context, id: i64, reason: Option<&str>, dry_run: bool) -> anyhow::Result<()> {
    if dry_run {
        let store = ctx.open_read()?;
        let change = store.change(id)?.ok_or_else(|| no_change(id))?;
        let row = dry_undo(&*store, &change, reason)?;
        ctx.note(&format!(
            "dry run: undoing change {id} would leave {} {}; nothing was written",
            row.key.as_deref().unwrap_or_default(),
            row.status
        ));
        return ctx.print_one(&row);
    }
    let store = ctx.open_write()?;
    let user = Context::user();
    let record = store.write(|txn| -> anyhow::Result<ChangeRecord> {
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
    ctx.print_one(&record)
}

/// The ids of a batch's changes, newest first (so a cursor changed twice in
/// one batch is put back step by step).
fn batch_ids(
    read: impl FnOnce(
        &HistoryFilter,
        &mut dyn FnMut(&HistoryRow) -> Result<(), StoreError>,
    ) -> Result<(), StoreError>,
    batch: i64,
) -> Result<Vec<i64>, StoreError> {
    let filter = HistoryFilter {
        batch: Some(batch),
        ..HistoryFilter::default()
    };
    let mut ids = Vec::new();
    read(&filter, &mut |row| {
        ids.push(row.id);
        Ok(())
    })?;
    ids.reverse();
    Ok(ids)
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

fn run_batch(ctx: &Context, batch: i64, reason: Option<&str>, dry_run: bool) -> anyhow::Result<()> {
    if dry_run {
        return plan_batch(ctx, batch, reason);
    }
    let store = ctx.open_write()?;
    let user = Context::user();
    let result = store.write(|txn| -> anyhow::Result<(i64, u64)> {
        let ids = batch_ids(|f, each| txn.for_each_change(f, each), batch)?;
        if ids.is_empty() {
            return Err(no_batch(batch));
        }
        let new_batch = txn.new_batch(&format!("undo --batch {batch}"), reason, &user)?;
        let audit = Audit {
            command: "undo",
            reason,
            user: &user,
            batch: Some(new_batch),
        };
        let mut failures = Failures::new("change").with_stale_hint(BATCH_MOVED);
        for &id in &ids {
            let change = txn.change(id)?.ok_or_else(|| no_change(id))?;
            // After a failure nothing will be committed: check the rest
            // through a view that writes nothing.
            let outcome = if failures.is_empty() {
                plan_undo(txn, &change, reason).and_then(|p| apply_undo(txn, &p, &audit).map(drop))
            } else {
                dry_undo(&DryRun::new(txn), &change, reason).map(drop)
            };
            match outcome {
                Ok(()) => {}
                Err(e) if is_item_failure(&e) => {
                    let key = key_of(&change).map(|k| k.to_string()).ok();
                    failures.add(
                        id.unsigned_abs(),
                        key.as_deref(),
                        classify(&e).0,
                        &format!("{e:#}"),
                    );
                }
                Err(e) => return Err(e),
            }
        }
        if !failures.is_empty() {
            return Err(failures.into_error(ids.len() as u64, "nothing was written"));
        }
        Ok((new_batch, ids.len() as u64))
    });
    let (new_batch, count) = result?;
    print_batch(ctx, &store, Some(new_batch), Vec::new())?;
    ctx.note(&format!(
        "undid {count} change(s) of batch {batch}, recorded as batch {new_batch}"
    ));
    Ok(())
}

fn plan_batch(ctx: &Context, batch: i64, reason: Option<&str>) -> anyhow::Result<()> {
    let store = ctx.open_read()?;
    store.snapshot(|store| plan_batch_in(ctx, store, batch, reason))
}

fn plan_batch_in(
    ctx: &Context,
    store: &SqliteStore,
    batch: i64,
    reason: Option<&str>,
) -> anyhow::Result<()> {
    let ids = batch_ids(|f, each| store.for_each_change(f, each), batch)?;
    if ids.is_empty() {
        return Err(no_batch(batch));
    }
    let view = DryRun::new(store);
    let mut printer = (!ctx.global.quiet).then(|| ctx.printer(Shape::List));
    let mut failures = Failures::new("change").with_stale_hint(BATCH_MOVED);
    for &id in &ids {
        let change = store.change(id)?.ok_or_else(|| no_change(id))?;
        let row = match dry_undo(&view, &change, reason) {
            Ok(row) => row,
            Err(e) if is_item_failure(&e) => {
                let kind = classify(&e).0;
                let key = key_of(&change).map(|k| k.to_string()).ok();
                let why = format!("{e:#}");
                failures.add(id.unsigned_abs(), key.as_deref(), kind, &why);
                PlanRecord {
                    source: ("change", id.unsigned_abs()),
                    old_offset: key
                        .as_deref()
                        .and_then(|k| store.read_value(k).ok().flatten()),
                    key,
                    new_offset: change.old_offset,
                    status: failure_status(kind),
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
        "dry run: undoing batch {batch} would change {} cursor(s); nothing was written",
        ids.len()
    ));
    Ok(())
}
