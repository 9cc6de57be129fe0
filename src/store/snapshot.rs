//! A read snapshot of a store, ended when dropped.

use super::*;

/// A read snapshot of a store; ends when dropped.
pub struct Snapshot<'s> {
    store: &'s dyn Store,
    ended: bool,
}

impl<'s> Snapshot<'s> {
    /// Mark a snapshot the store has begun (for backends).
    #[must_use]
    pub fn begun(store: &'s dyn Store) -> Self {
        Self {
            store,
            ended: false,
        }
    }

    /// End the snapshot now, reporting a failure to end it.
    ///
    /// # Errors
    ///
    /// Store failures.
    pub fn end(mut self) -> Result<(), StoreError> {
        self.ended = true;
        self.store.end_snapshot()
    }
}

impl Drop for Snapshot<'_> {
    fn drop(&mut self) {
        if !self.ended {
            let _ = self.store.end_snapshot();
        }
    }
}
