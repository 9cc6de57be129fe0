//! A read view of a store (one snapshot of its committed state), ended
//! when dropped. Not to be confused with the snapshots of cursors a store
//! keeps (`snapshot save`).

use super::*;

/// A read snapshot of a store; ends when dropped.
pub struct ReadView<'s> {
    store: &'s dyn Store,
    ended: bool,
}

impl<'s> ReadView<'s> {
    /// Mark a read view the store has begun (for backends).
    #[must_use]
    pub fn begun(store: &'s dyn Store) -> Self {
        Self {
            store,
            ended: false,
        }
    }

    /// End the read view now, reporting a failure to end it.
    ///
    /// # Errors
    ///
    /// Store failures.
    pub fn end(mut self) -> Result<(), StoreError> {
        self.ended = true;
        self.store.end_read()
    }
}

impl Drop for ReadView<'_> {
    fn drop(&mut self) {
        if !self.ended {
            let _ = self.store.end_read();
        }
    }
}
