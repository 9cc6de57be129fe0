//! The one batch engine: every operation that moves many cursors in one
//! all-or-nothing transaction (`set --from-file`, `undo --batch`/`--since`,
//! `delete`, `copy`, `snapshot restore`, `advance --to-head`) runs its items
//! through it. It starts the batch, writes every item through the
//! transaction (after a failure too: nothing will be committed, and each
//! later item still sees what the earlier ones did), and ends with the
//! batch's counts or with one error that lists every failure.
//!
//! A dry run is the same run in a transaction that is rolled back
//! ([`run`]): what it reports is read from that transaction before the
//! roll-back, so it holds exactly the changes, statuses and failures of the
//! write.

use super::change::{Change, Status};
use super::error::{ErrorKind, OpError, OpResult};
use super::failures::Failures;
use super::moves::Audit;
use crate::store::{HistoryFilter, Outcome, Store, StoreExt, StoreRead, StoreReadExt, WriteTxn};
use crate::StoreError;

/// One batch being written.
pub struct BatchRun<'t> {
    txn: &'t dyn WriteTxn,
    /// The batch id.
    pub id: i64,
    failures: Failures,
    /// Items that changed their cursor.
    pub changed: u64,
    /// Items that left their cursor as it was.
    pub unchanged: u64,
    /// Items seen.
    pub total: u64,
}

impl<'t> BatchRun<'t> {
    /// Start a batch in `txn`; `failures` names the items in failure lists
    /// (`line`, `change`, `cursor`).
    ///
    /// # Errors
    ///
    /// Store failures.
    pub fn begin(
        txn: &'t dyn WriteTxn,
        command: &str,
        reason: Option<&str>,
        user: &str,
        failures: Failures,
    ) -> OpResult<Self> {
        let id = txn.new_batch(command, reason, user)?;
        Ok(Self {
            txn,
            id,
            failures,
            changed: 0,
            unchanged: 0,
            total: 0,
        })
    }

    /// Apply one item through the transaction, recorded in the batch. It
    /// returns the item's status (`None`: it wrote nothing and is not
    /// counted). A failure of the item is listed and the batch goes on; a
    /// failure of the store ends it.
    ///
    /// # Errors
    ///
    /// Failures that are not the item's ([`OpError::is_item_failure`]).
    pub fn item(
        &mut self,
        number: u64,
        key: Option<&dyn std::fmt::Display>,
        audit: &Audit<'_>,
        apply: impl FnOnce(&dyn WriteTxn, &Audit<'_>) -> OpResult<Option<Status>>,
    ) -> OpResult<Option<Status>> {
        self.total += 1;
        let audit = Audit {
            batch: Some(self.id),
            ..*audit
        };
        match apply(self.txn, &audit) {
            Ok(status) => {
                match status {
                    Some(Status::Unchanged) => self.unchanged += 1,
                    Some(_) => self.changed += 1,
                    None => {}
                }
                Ok(status)
            }
            Err(e) if e.is_item_failure() => {
                let key = key.map(ToString::to_string);
                self.failures.add_error(number, key.as_deref(), &e);
                Ok(None)
            }
            Err(e) => Err(e),
        }
    }

    /// Whether an item has failed: nothing will be committed.
    #[must_use]
    pub const fn has_failed(&self) -> bool {
        !self.failures.is_empty()
    }

    /// List an item that failed when its write was made (after it was
    /// counted).
    pub fn fail(&mut self, number: u64, key: Option<&str>, err: &OpError) {
        self.failures.add_error(number, key, err);
    }

    /// List an item refused before it reached the store (bad input, a
    /// duplicate).
    pub fn refuse(&mut self, number: u64, key: Option<&str>, kind: ErrorKind, reason: &str) {
        self.total += 1;
        self.failures.add(number, key, kind, reason);
    }

    /// End the batch: the error listing every failure, or what it did --
    /// [`Finished::Nothing`] when no item changed its cursor (the
    /// transaction is then not committed: a batch is never empty).
    ///
    /// # Errors
    ///
    /// The failures of the items, as one error.
    pub fn finish(self) -> OpResult<Finished> {
        if !self.failures.is_empty() {
            return Err(self.failures.into_error(self.total, "nothing was written"));
        }
        if self.changed == 0 {
            return Ok(Finished::Nothing { total: self.total });
        }
        Ok(Finished::Done(Done {
            id: self.id,
            changed: self.changed,
            unchanged: self.unchanged,
        }))
    }
}

/// What a batch that failed nowhere did.
#[derive(Clone, Copy, Debug)]
pub struct Done {
    /// The batch id (of a dry run: the id the write would have had, if no
    /// one writes first).
    pub id: i64,
    /// Items that changed their cursor.
    pub changed: u64,
    /// Items that left their cursor as it was.
    pub unchanged: u64,
}

/// How a batch ended.
#[derive(Clone, Copy, Debug)]
pub enum Finished {
    /// It changed cursors (committed, or shown by a dry run).
    Done(Done),
    /// No item changed its cursor (or there was no item): nothing is
    /// recorded, by the write as by a dry run. `total` items were seen.
    Nothing {
        /// Items seen.
        total: u64,
    },
}

/// Run a batch: `body` in one write transaction, committed (the write) or
/// rolled back (a dry run, by `outcome`; a batch that changed nothing
/// always). `show` sees the batch before anyone else could change the
/// store's view of it: after the commit for the write, from inside the
/// transaction before the roll-back for a dry run -- so both show the same
/// changes ([`visit_batch`]).
///
/// # Errors
///
/// Whatever `body` and `show` return, and store failures.
pub fn run<E: From<OpError> + From<StoreError>>(
    store: &dyn Store,
    outcome: Outcome,
    mut body: impl FnMut(&dyn WriteTxn) -> Result<Finished, E>,
    mut show: impl FnMut(&dyn StoreRead, &Done) -> Result<(), E>,
) -> Result<Finished, E> {
    let finished = store.write_deciding(|txn| -> Result<(Finished, Outcome), E> {
        let finished = body(txn)?;
        end_batch(finished, outcome, |done| show(txn, done))
    })?;
    if let (Finished::Done(done), Outcome::Commit) = (finished, outcome) {
        show(store, &done)?;
    }
    Ok(finished)
}

/// How the transaction of a batch that ended as `finished` ends: a dry
/// run's batch is shown by `plan` from inside it and rolled back, a write's
/// committed; a batch that changed nothing is always rolled back (it is
/// never recorded).
///
/// # Errors
///
/// Whatever `plan` returns.
pub fn end_batch<E>(
    finished: Finished,
    outcome: Outcome,
    plan: impl FnOnce(&Done) -> Result<(), E>,
) -> Result<(Finished, Outcome), E> {
    Ok(match finished {
        Finished::Done(done) if outcome.is_dry_run() => {
            plan(&done)?;
            (finished, Outcome::RollBack)
        }
        Finished::Done(_) => (finished, outcome),
        Finished::Nothing { .. } => (finished, Outcome::RollBack),
    })
}

/// Visit the changes of batch `batch` (if any) in id order, as changes
/// (without ids and marked as planned for a dry run), with the items that
/// changed nothing (`unchanged`: position among the visited changes, key,
/// offset) in their places.
///
/// # Errors
///
/// Store failures, a stored key cursorctl cannot name, and whatever `each`
/// returns.
pub fn visit_batch<E: From<OpError> + From<StoreError>>(
    view: &dyn StoreRead,
    batch: Option<i64>,
    unchanged: Vec<(u64, crate::CursorKey, u64)>,
    dry_run: bool,
    mut each: impl FnMut(&Change) -> Result<(), E>,
) -> Result<(), E> {
    let mut pending = unchanged.into_iter().peekable();
    let mut position = 0u64;
    let mut unchanged_up_to = |position: &mut u64,
                               last: bool,
                               each: &mut dyn FnMut(&Change) -> Result<(), E>|
     -> Result<(), E> {
        while let Some((_, key, offset)) = pending.next_if(|(at, _, _)| last || *at == *position) {
            each(&Change {
                id: None,
                key,
                old_offset: Some(offset),
                new_offset: Some(offset),
                status: Status::Unchanged,
                dry_run,
            })?;
            *position += 1;
        }
        Ok(())
    };
    if let Some(batch) = batch {
        let filter = HistoryFilter {
            batch: Some(batch),
            ..HistoryFilter::default()
        };
        view.for_each_change(&filter, |row| -> Result<(), E> {
            unchanged_up_to(&mut position, false, &mut each)?;
            let change = Change::from_history(row).map_err(OpError::from)?;
            each(&if dry_run { change.planned() } else { change })?;
            position += 1;
            Ok(())
        })
        .map_err(|e: E| e)?;
    }
    unchanged_up_to(&mut position, true, &mut each)
}
