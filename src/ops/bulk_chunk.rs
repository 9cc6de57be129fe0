//! One chunk of a bulk write: its lines checked against their cursors read
//! ahead (where the store reads many in one query), and its changes held
//! back and written as one set with `WriteTxn::apply_changes`.
//!
//! A move with `expect` that the compare-and-swap alone decides
//! ([`expected_move`]) is not read (ahead), but held back unchecked and
//! checked by that write. On a store that reads no cursor ahead but writes
//! sets (SQLite), the other lines are checked against the cursor read then.
//! Any line that could fail first writes what is held back unchecked, so
//! that history ids and failures keep the order of the input.

use std::collections::HashMap;

use super::batch::BatchRun;
use super::bulk::{BulkSet, Entry, Line, Raced, Stop, Unchanged};
use super::bulk_keys::{duplicate_reason, SeenKeys};
use super::change::Status;
use super::error::{ErrorKind, OpError};
use super::moves::{apply_in, expected_move, expected_move_failure, move_cursor, Audit, Move};
use crate::key::CursorKey;
use crate::store::{ChangeInput, DurableStore, StoreRead, WriteTxn};
use crate::{DurabilityError, StoreError};

/// How many lines a bulk write reads ahead and writes as one set.
pub const CHUNK_LINES: usize = 8192;

/// The lines of a chunk of a write through `txn`: [`CHUNK_LINES`] where
/// the store reads many cursors in one query or writes many changes as one
/// set, one otherwise.
fn chunk_lines(txn: &dyn WriteTxn) -> Result<usize, StoreError> {
    let can = txn.capabilities();
    Ok(if can.writes_changes_as_set || can.reads_ahead {
        CHUNK_LINES
    } else {
        1
    })
}

/// Lines of a bulk write read but not yet applied.
pub(super) struct Chunk {
    pub(super) lines: Vec<Line>,
    /// Lines a chunk holds: [`CHUNK_LINES`] where the store reads cursors
    /// ahead or writes changes as one set, one otherwise (each line is then
    /// written as it is checked, as a single `set` is).
    pub(super) size: usize,
    /// Whether the write can run again from the first line: a line without
    /// `expect` that finds its cursor moved since it was read ahead then
    /// ends this run (as [`Raced`]) instead of failing as stale.
    can_run_again: bool,
}

impl Chunk {
    pub(super) fn new(txn: &dyn WriteTxn, can_run_again: bool) -> Result<Self, StoreError> {
        let size = chunk_lines(txn)?;
        Ok(Self {
            lines: Vec::with_capacity(size),
            size,
            can_run_again,
        })
    }

    /// Check every line of the chunk against the cursors read ahead for
    /// it, then write its changes as one set, while no line has failed.
    /// Each cursor appears once in a batch (a repeat is refused), so no
    /// line's check depends on another line's write.
    pub(super) fn apply<E: From<OpError>>(
        &mut self,
        opts: &BulkSet<'_>,
        txn: &dyn WriteTxn,
        run: &mut BatchRun<'_>,
        audit: &Audit<'_>,
        seen: &mut SeenKeys<'_>,
        unchanged: &mut Vec<Unchanged>,
    ) -> Result<(), Stop<E>> {
        let mut taken = std::mem::take(&mut self.lines);
        let lines = &taken;
        let result = (|| -> Result<(), Stop<E>> {
            // A move the compare-and-swap alone decides is not read, but
            // checked when it is written. Every other line is checked against
            // the cursors read ahead, or, where the store reads each cursor
            // when needed but writes sets, against the cursor read then.
            let sets = self.size > 1;
            let view = ReadAhead::load(txn, lines, self.size, |entry| {
                !sets || expected_move(&opts.move_for(entry)).is_none()
            })?;
            // The changes are held back and written as one set. Before a line
            // that could fail, the unchecked ones are written, so that the
            // failures keep the order of the input.
            let mut changes = Changes::default();
            let batch = Some(run.id);
            for (line_no, parsed) in lines {
                let entry = match parsed {
                    Ok(entry) => entry,
                    Err(bad) => {
                        self.write_unchecked(txn, run, &mut changes)?;
                        run.refuse(*line_no, bad.key.as_deref(), ErrorKind::Usage, &bad.reason);
                        continue;
                    }
                };
                if let Some(first) = seen.first_line(&entry.key, *line_no)? {
                    self.write_unchecked(txn, run, &mut changes)?;
                    let key = entry.key.to_string();
                    let reason = duplicate_reason(&key, first);
                    run.refuse(*line_no, Some(&key), ErrorKind::Usage, &reason);
                    continue;
                }
                let m = opts.move_for(entry);
                let unchecked = (sets && !run.has_failed())
                    .then(|| expected_move(&m))
                    .flatten();
                if unchecked.is_none() {
                    self.write_unchecked(txn, run, &mut changes)?;
                }
                let position = run.changed + run.unchanged;
                let held = &mut changes.held;
                let status = run.item(*line_no, Some(&entry.key), audit, |txn, in_batch| {
                    // A store that neither reads ahead nor writes sets writes
                    // each line as it is checked.
                    if !sets {
                        return apply_in(txn, &m, in_batch).map(|r| Some(r.status));
                    }
                    let (old, new) = match unchecked {
                        Some((expect, new)) => (Some(expect), new),
                        None => move_cursor(&view, &m)?,
                    };
                    let status = Status::of(old, Some(new));
                    if status != Status::Unchanged {
                        held.push(Held {
                            line: *line_no,
                            m: m.clone(),
                            checked: unchecked.is_none(),
                            change: ChangeInput {
                                key: &entry.key,
                                old_offset: old,
                                new_offset: Some(new),
                                command: audit.command,
                                reason: audit.reason,
                                user: audit.user,
                                batch,
                            },
                        });
                    }
                    Ok(Some(status))
                })?;
                changes.unchecked |= unchecked.is_some();
                if status == Some(Status::Unchanged) && opts.keep_unchanged {
                    unchanged.push((position, entry.key.clone(), entry.offset));
                }
            }
            self.write(txn, run, &mut changes)
        })();
        taken.clear();
        self.lines = taken;
        result
    }

    /// [`Chunk::write`] when some change held back is still unchecked.
    fn write_unchecked<E: From<OpError>>(
        &self,
        txn: &dyn WriteTxn,
        run: &mut BatchRun<'_>,
        changes: &mut Changes<'_>,
    ) -> Result<(), Stop<E>> {
        if changes.unchecked {
            self.write(txn, run, changes)?;
        }
        Ok(())
    }

    /// Write the changes held back as one set, while no line has failed,
    /// and list the lines whose cursor held something else.
    fn write<E: From<OpError>>(
        &self,
        txn: &dyn WriteTxn,
        run: &mut BatchRun<'_>,
        changes: &mut Changes<'_>,
    ) -> Result<(), Stop<E>> {
        let held = std::mem::take(&mut changes.held);
        changes.unchecked = false;
        if held.is_empty() {
            return Ok(());
        }
        let stale = if run.has_failed() {
            // Nothing will be written: check the unchecked ones.
            let mut stale = Vec::new();
            for (position, h) in held.iter().enumerate() {
                if !h.checked
                    && txn.read_value_keyed(h.change.key).map_err(OpError::from)?
                        != h.change.old_offset
                {
                    stale.push(position);
                }
            }
            stale
        } else {
            let inputs: Vec<ChangeInput<'_>> = held.iter().map(|h| h.change).collect();
            // What every operator write does about a leased cursor.
            crate::lease::operator_writes(txn, inputs.iter().map(|c| (c.key, c.command)))
                .map_err(OpError::from)?;
            txn.apply_changes(&inputs).map_err(OpError::from)?
        };
        // A cursor read (ahead) and then found moved: another writer moved
        // it in between.
        let raced = |h: &Held<'_>| h.checked && h.m.expect.is_none();
        if self.can_run_again && stale.iter().any(|p| raced(&held[*p])) {
            return Err(Raced.into());
        }
        for position in stale {
            let Held {
                line,
                m,
                checked,
                change,
            } = &held[position];
            let key = change.key.to_string();
            let actual = txn.read_value_keyed(change.key).map_err(OpError::from)?;
            let expected = change.old_offset.unwrap_or(0);
            let err = if *checked {
                DurabilityError::StaleCheckpoint {
                    actual,
                    key: key.clone(),
                    expected,
                }
                .into()
            } else {
                expected_move_failure(m, expected, actual)
            };
            run.fail(*line, Some(&key), &err);
        }
        Ok(())
    }
}

/// The changes of a chunk not written yet.
#[derive(Default)]
struct Changes<'a> {
    held: Vec<Held<'a>>,
    /// Whether some are unchecked.
    unchecked: bool,
}

/// One change not written yet, with the line and the move it comes from.
struct Held<'a> {
    line: u64,
    m: Move<'a>,
    /// Checked against the cursor read (ahead); otherwise an
    /// [`expected_move`] that its write checks.
    checked: bool,
    change: ChangeInput<'a>,
}

/// The cursors of one chunk as read ahead (or, where the store reads each
/// when needed, the transaction itself), behind compare-and-swaps that
/// check and write nothing: the chunk's writes are made as one set after.
struct ReadAhead<'a> {
    txn: &'a dyn WriteTxn,
    offsets: Option<HashMap<String, Option<u64>>>,
}

impl<'a> ReadAhead<'a> {
    /// The view of `lines` (a chunk of `size`): the cursors of the lines
    /// `needs_read` picks read ahead through `txn` when the chunk holds
    /// more than one line; read through `txn` when needed otherwise, and
    /// for whatever was not read ahead.
    fn load(
        txn: &'a dyn WriteTxn,
        lines: &[Line],
        size: usize,
        needs_read: impl Fn(&Entry) -> bool,
    ) -> Result<Self, StoreError> {
        let reads: &dyn StoreRead = txn;
        if size <= 1 || !reads.capabilities().reads_ahead {
            return Ok(Self { txn, offsets: None });
        }
        let keys: Vec<&CursorKey> = lines
            .iter()
            .filter_map(|(_, parsed)| parsed.as_ref().ok())
            .filter(|e| needs_read(e))
            .map(|e| &e.key)
            .collect();
        let found = reads.read_ahead(&keys)?;
        let offsets = Some(keys.iter().map(ToString::to_string).zip(found).collect());
        Ok(Self { txn, offsets })
    }
}

impl DurableStore for ReadAhead<'_> {
    fn read_value(&self, key: &str) -> Result<Option<u64>, DurabilityError> {
        match self.offsets.as_ref().and_then(|o| o.get(key)) {
            Some(offset) => Ok(*offset),
            None => self.txn.read_value(key),
        }
    }

    /// Check only: the chunk's changes are written as one set after.
    fn cas(&self, key: &str, expected: u64, _new: u64) -> Result<(), DurabilityError> {
        let actual = self.read_value(key)?;
        if actual.unwrap_or(0) != expected {
            return Err(DurabilityError::StaleCheckpoint {
                key: key.to_owned(),
                expected,
                actual,
            });
        }
        Ok(())
    }
}
