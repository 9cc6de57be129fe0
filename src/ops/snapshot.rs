//! Snapshots: offsets kept in the store, and put back as one batch.

use std::collections::HashSet;

use super::batch::{self, BatchRun, Done, Finished};
use super::change::named;
use super::error::{ErrorKind, OpError, OpResult, Refusal};
use super::failures::Failures;
use super::moves::{apply_in, remove_in, Audit, Move, Target};
use crate::key::CursorKey;
use crate::store::{
    CursorFilter, Outcome, SnapshotRow, Store, StoreExt, StoreRead, StoreReadExt, SNAPSHOTS_VERSION,
};
use crate::StoreError;

/// Snapshots need schema version 2.
///
/// # Errors
///
/// A store of an older schema (exit class store), store failures.
pub fn require_snapshots(store: &dyn Store) -> OpResult<()> {
    let version = store.schema_version()?;
    if version < SNAPSHOTS_VERSION {
        return Err(Refusal::new(
            ErrorKind::Store,
            format!(
                "{} has schema version {version}, which has no snapshots: run `cursorctl init` to upgrade it",
                store.location()
            ),
        )
        .into());
    }
    Ok(())
}

/// No snapshot has that name.
#[must_use]
pub fn no_snapshot(name: &str) -> OpError {
    Refusal::new(ErrorKind::NotFound, format!("no snapshot is named {name}"))
        .with_hint("list the snapshots with `cursorctl snapshot list`")
        .into()
}

/// Keep the offsets of every cursor (of `consumer`) as snapshot `name`;
/// returns how many it holds.
///
/// # Errors
///
/// Usage (the name is taken), not found (no cursor to save), store
/// failures.
pub fn save(
    store: &dyn Store,
    name: &str,
    consumer: Option<&str>,
    reason: Option<&str>,
    user: &str,
) -> OpResult<u64> {
    require_snapshots(store)?;
    store.write(|txn| -> OpResult<u64> {
        if txn.snapshot_info(name)?.is_some() {
            return Err(Refusal::usage(format!(
                "a snapshot is already named {name}: drop it first, or choose another name"
            ))
            .into());
        }
        let saved = txn.save_snapshot(name, consumer, reason, user)?;
        if saved == 0 {
            let what = consumer.map_or_else(
                || "the store has no cursor".to_owned(),
                |c| format!("consumer {c} has no cursor"),
            );
            let hint = match consumer {
                None => "a snapshot keeps the cursors there are: create one first with `cursorctl set CONSUMER PARTITION_KEY OFFSET --create`",
                Some(_) => "`cursorctl describe` lists the consumers that have cursors; `cursorctl snapshot save NAME` keeps them all",
            };
            return Err(
                Refusal::new(ErrorKind::NotFound, format!("{what}; nothing was saved"))
                    .with_hint(hint)
                    .into(),
            );
        }
        Ok(saved)
    })
}

/// Cursors with an offset each.
pub type Offsets = Vec<(CursorKey, u64)>;

/// The snapshot's cursors, and the cursors in its scope created since.
///
/// # Errors
///
/// Store failures, a stored name cursorctl cannot take.
pub fn read(view: &dyn StoreRead, info: &SnapshotRow) -> OpResult<(Offsets, Offsets)> {
    let mut saved = Vec::new();
    view.for_each_snapshot_cursor(&info.name, |row| -> OpResult<()> {
        saved.push((named(row)?, row.offset));
        Ok(())
    })?;
    let known: HashSet<String> = saved.iter().map(|(k, _)| k.to_string()).collect();
    let filter = CursorFilter {
        consumer: info.consumer.clone(),
        ..CursorFilter::default()
    };
    let mut new = Vec::new();
    view.for_each_cursor(&filter, |row| -> OpResult<()> {
        let row = row?;
        if !known.contains(&row.key()) {
            new.push((named(row)?, row.offset));
        }
        Ok(())
    })?;
    Ok((saved, new))
}

/// What to restore.
#[derive(Clone, Debug)]
pub struct Restore<'a> {
    /// The snapshot.
    pub name: &'a str,
    /// Why (needed when a cursor moves back or a created one is removed).
    pub reason: Option<&'a str>,
    /// Remove the cursors created since the snapshot.
    pub delete_new: bool,
    /// Who.
    pub user: &'a str,
}

/// Put the snapshot's offsets back as one batch (`outcome`: the write, or
/// its dry run); `show` sees the batch (see [`batch::run`]). The cursors
/// created since that are left as they are (without `delete_new`) are
/// returned beside.
///
/// # Errors
///
/// Not found (no such snapshot), usage (a rewind without a reason), stale,
/// store failures, and whatever `show` returns.
pub fn restore<E: From<OpError> + From<StoreError>>(
    store: &dyn Store,
    request: &Restore<'_>,
    outcome: Outcome,
    show: impl FnMut(&dyn StoreRead, &Done) -> Result<(), E>,
) -> Result<(Finished, Offsets), E> {
    require_snapshots(store)?;
    let (name, reason) = (request.name, request.reason);
    let label = format!("snapshot restore {name}");
    let mut left_new = Vec::new();
    let finished = batch::run(
        store,
        outcome,
        |txn| {
            left_new.clear();
            let info = txn.snapshot_info(name)?.ok_or_else(|| no_snapshot(name))?;
            let (saved, new) = read(txn, &info)?;
            let mut run =
                BatchRun::begin(txn, &label, reason, request.user, Failures::new("cursor"))?;
            let audit = Audit {
                command: "snapshot restore",
                reason,
                user: request.user,
                batch: None,
            };
            let mut number = 0;
            for (key, offset) in &saved {
                number += 1;
                let m = Move {
                    key,
                    target: Target::To(*offset),
                    expect: None,
                    create: true,
                    allow_rewind: reason.is_some(),
                };
                run.item(number, Some(key), &audit, |txn, audit| {
                    let current = txn.read_value_keyed(key)?;
                    if reason.is_none() && current.is_some_and(|c| c > *offset) {
                        return Err(Refusal::usage(format!(
                            "restoring {key} moves it back from {} to {offset}: a rewind needs --reason TEXT",
                            current.unwrap_or(0)
                        ))
                        .into());
                    }
                    apply_in(txn, &m, audit).map(|r| Some(r.status))
                })?;
            }
            for (key, offset) in &new {
                number += 1;
                if !request.delete_new {
                    left_new.push((key.clone(), *offset));
                    continue;
                }
                run.item(number, Some(key), &audit, |txn, audit| {
                    if *offset > 0 && reason.is_none() {
                        return Err(Refusal::usage(format!(
                            "removing {key}, created since the snapshot, rewinds it from {offset} to 0: a rewind needs --reason TEXT"
                        ))
                        .into());
                    }
                    remove_in(txn, key, *offset, audit).map(|r| Some(r.status))
                })?;
            }
            Ok(run.finish()?)
        },
        show,
    )?;
    Ok((finished, left_new))
}

/// Drop snapshot `name`.
///
/// # Errors
///
/// Not found (no such snapshot), a store that keeps no snapshots, and
/// store failures.
pub fn drop(store: &dyn Store, name: &str) -> OpResult<()> {
    require_snapshots(store)?;
    if store.write(|txn| txn.drop_snapshot(name))? {
        Ok(())
    } else {
        Err(no_snapshot(name))
    }
}
