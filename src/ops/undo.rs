//! Undo: put back what recorded changes did -- one change, every change
//! of a batch, or every change since a time -- only where the cursor still
//! holds what the change wrote.

use super::batch::{self, BatchRun, Done, Finished};
use super::change::{key_of, Change};
use super::error::{ErrorKind, OpError, OpResult, Refusal};
use super::failures::Failures;
use super::moves::{apply_in, remove_in, Audit, Move, Target};
use crate::key::CursorKey;
use crate::store::{
    DurableStore, HistoryRow, Outcome, Store, StoreExt, StoreRead, StoreReadExt, WriteTxn,
};
use crate::StoreError;

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
) -> OpResult<UndoPlan> {
    let key = key_of(change)?;
    let key_text = key.to_string();
    let current = store.read_value_keyed(&key)?;
    let id = change.id;
    let step = match (change.old_offset, change.new_offset) {
        (old, Some(wrote)) => {
            if current != Some(wrote) {
                let holds = current.map_or_else(
                    || "it no longer exists".to_owned(),
                    |v| format!("it holds {v}"),
                );
                return Err(Refusal::new(
                    ErrorKind::Stale,
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
                return Err(Refusal::usage(format!(
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
                return Err(Refusal::new(
                    ErrorKind::Stale,
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
            return Err(Refusal::new(
                ErrorKind::Store,
                format!("change {id} records neither an old nor a new offset"),
            )
            .into())
        }
    };
    Ok(UndoPlan { key, step })
}

/// Carry out an undo inside a write transaction and record it.
fn apply_undo(txn: &dyn WriteTxn, plan: &UndoPlan, audit: &Audit<'_>) -> OpResult<Change> {
    match (plan.movement(), &plan.step) {
        (Some(m), _) => apply_in(txn, &m, audit),
        (None, Step::Remove { wrote }) => remove_in(txn, &plan.key, *wrote, audit),
        (None, Step::To { .. }) => unreachable!("a plan that moves the cursor has a movement"),
    }
}

fn no_change(id: i64) -> OpError {
    Refusal::new(
        ErrorKind::NotFound,
        format!("no recorded change has id {id}"),
    )
    .with_hint("list the recorded changes and their ids with `cursorctl history`")
    .with("change", id)
    .into()
}

/// Which changes an undo of many takes.
#[derive(Clone, Copy, Debug)]
pub enum Selection {
    /// Every change of a batch.
    Batch(i64),
    /// Every change made at or after a time (ms since the epoch).
    Since(i64),
}

impl Selection {
    /// The ids of the changes, newest first (so a cursor changed twice is
    /// put back step by step).
    fn ids(self, view: &dyn StoreRead) -> Result<Vec<i64>, StoreError> {
        let filter = match self {
            Self::Batch(batch) => crate::store::HistoryFilter {
                batch: Some(batch),
                ..Default::default()
            },
            Self::Since(at) => crate::store::HistoryFilter {
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
            Self::Since(at) => format!("undo --since {}", crate::parse::format_time_ms(at)),
        }
    }

    /// Said of the selection in messages.
    #[must_use]
    pub fn describe(self) -> String {
        match self {
            Self::Batch(batch) => format!("batch {batch}"),
            Self::Since(at) => format!("the changes since {}", crate::parse::format_time_ms(at)),
        }
    }

    /// Nothing selected: an unknown batch is not found; no change since a
    /// time is nothing to do.
    fn none(self) -> Option<OpError> {
        match self {
            Self::Batch(batch) => Some(no_batch(batch)),
            Self::Since(_) => None,
        }
    }
}

/// Whether an undo failed because its cursor moved since the change.
fn moved_since(err: &OpError) -> bool {
    err.kind() == ErrorKind::Stale
}

const BATCH_MOVED: &str = "cursors moved since (see `cursorctl history`): pass --skip-moved to undo the other changes and leave those cursors as they are";

fn no_batch(batch: i64) -> OpError {
    Refusal::new(
        ErrorKind::NotFound,
        format!("batch {batch} has no recorded changes"),
    )
    .with_hint("the batch ids are in the batch column of `cursorctl history`")
    .with("batch", batch)
    .into()
}

/// Undo one recorded change (`outcome`: the write, or its dry run).
///
/// # Errors
///
/// Not found (no such change), stale (the cursor moved since), usage (a
/// rewind without a reason), store failures.
pub fn one(
    store: &dyn Store,
    id: i64,
    reason: Option<&str>,
    user: &str,
    outcome: Outcome,
) -> OpResult<Change> {
    let change = store.write_then(outcome, |txn| -> OpResult<Change> {
        let change = txn.change(id)?.ok_or_else(|| no_change(id))?;
        let plan = plan_undo(txn, &change, reason)?;
        let audit = Audit {
            command: "undo",
            reason,
            user,
            batch: None,
        };
        apply_undo(txn, &plan, &audit)
    })?;
    Ok(if outcome.is_dry_run() {
        change.planned()
    } else {
        change
    })
}

/// An undo of many changes: which, why, and what to do with cursors that
/// moved since.
#[derive(Clone, Copy, Debug)]
pub struct Many<'a> {
    /// Which changes.
    pub selection: Selection,
    /// Why (needed when a cursor moves back or a created one is removed).
    pub reason: Option<&'a str>,
    /// Leave the cursors that moved since as they are, instead of refusing
    /// the whole undo.
    pub skip_moved: bool,
    /// Who.
    pub user: &'a str,
}

/// How an undo of many ended: the batch, how many changes were selected,
/// and those left because their cursor moved since (`--skip-moved`).
#[derive(Debug)]
pub struct ManyUndone {
    /// The batch of the undo (or nothing changed).
    pub finished: Finished,
    /// How many changes were selected.
    pub selected: usize,
    /// The changes left, each said in words.
    pub skipped: Vec<String>,
}

/// Undo every change of a selection, newest first, as one batch
/// (`outcome`: the write, or its dry run); `show` sees the batch (see
/// [`batch::run`]).
///
/// # Errors
///
/// Not found (an unknown batch), the failing changes as one error (stale,
/// usage), store failures, and whatever `show` returns.
pub fn many<E: From<OpError> + From<StoreError>>(
    store: &dyn Store,
    request: &Many<'_>,
    outcome: Outcome,
    show: impl FnMut(&dyn StoreRead, &Done) -> Result<(), E>,
) -> Result<ManyUndone, E> {
    let selection = request.selection;
    let reason = request.reason;
    let mut skipped: Vec<String> = Vec::new();
    let mut selected = 0usize;
    let finished = batch::run(
        store,
        outcome,
        |txn| {
            skipped.clear();
            let ids = selection.ids(txn)?;
            selected = ids.len();
            if ids.is_empty() {
                if let Some(e) = selection.none() {
                    return Err(e.into());
                }
            }
            let failures = Failures::new("change").with_stale_hint(BATCH_MOVED);
            let mut run = BatchRun::begin(txn, &selection.label(), reason, request.user, failures)?;
            let audit = Audit {
                command: "undo",
                reason,
                user: request.user,
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
                            Err(e) if request.skip_moved && moved_since(&e) => {
                                skipped.push(format!("change {id}: {e}"));
                                Ok(None)
                            }
                            Err(e) => Err(e),
                        }
                    },
                )?;
            }
            Ok(run.finish()?)
        },
        show,
    )?;
    Ok(ManyUndone {
        finished,
        selected,
        skipped,
    })
}
