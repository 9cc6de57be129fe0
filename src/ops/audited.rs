//! Checkpoints written as an operator's changes: each compare-and-swap is
//! its own write transaction, recorded in the history with it, and the
//! changes of one run share one batch (`flush-sim --commit`), so that
//! `undo --batch` reverts a run, even an interrupted one, as a whole.

use std::cell::Cell;

use crate::key::CursorKey;
use crate::store::{ChangeInput, DurableStore, Store, StoreExt};
use crate::DurabilityError;

/// A store whose every compare-and-swap is a recorded change of one batch.
pub struct Audited<'a> {
    store: &'a dyn Store,
    command: &'a str,
    reason: Option<&'a str>,
    user: &'a str,
    /// The run's batch, once its first change is committed.
    batch: Cell<Option<i64>>,
}

impl<'a> Audited<'a> {
    /// Checkpoints into `store`, recorded as `command` (the batch as
    /// `command --commit`), with `reason` and `user`.
    #[must_use]
    pub const fn new(
        store: &'a dyn Store,
        command: &'a str,
        reason: Option<&'a str>,
        user: &'a str,
    ) -> Self {
        Self {
            store,
            command,
            reason,
            user,
            batch: Cell::new(None),
        }
    }

    /// The run's batch, once a change is committed.
    #[must_use]
    pub fn batch(&self) -> Option<i64> {
        self.batch.get()
    }
}

impl DurableStore for Audited<'_> {
    fn read_value(&self, key: &str) -> Result<Option<u64>, DurabilityError> {
        self.store.read_value(key)
    }

    fn cas(&self, key: &str, expected: u64, new: u64) -> Result<(), DurabilityError> {
        let parsed = CursorKey::parse(key)?;
        let batch = self.store.write(|txn| -> Result<_, DurabilityError> {
            let old = txn.cursor(&parsed)?.map(|row| row.offset);
            txn.cas(key, expected, new)?;
            // As with every command, a checkpoint to the offset the cursor
            // already holds changes nothing and records nothing.
            if old == Some(new) {
                return Ok(self.batch.get());
            }
            let batch = match self.batch.get() {
                Some(b) => b,
                None => {
                    let label = format!("{} --commit", self.command);
                    txn.new_batch(&label, self.reason, self.user)?
                }
            };
            txn.record_change(&ChangeInput {
                key: &parsed,
                old_offset: old,
                new_offset: Some(new),
                command: self.command,
                reason: self.reason,
                user: self.user,
                batch: Some(batch),
            })?;
            Ok(Some(batch))
        })?;
        // Kept only once committed: a rolled-back first change takes its
        // batch with it.
        self.batch.set(batch);
        Ok(())
    }
}
