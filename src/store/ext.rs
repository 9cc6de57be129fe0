//! Conveniences over the store traits: visitors that return errors, and
//! closures run in a read view or a write transaction (committed or
//! rolled back by [`Outcome`]).

use super::*;
use crate::backoff::Backoff;

/// Run a visit with a visitor that returns errors: the visit stops at the
/// first one, which is returned.
fn until_error<R: ?Sized, E: From<StoreError>>(
    visit: impl FnOnce(&mut dyn FnMut(&R) -> Visit) -> Result<(), StoreError>,
    mut each: impl FnMut(&R) -> Result<(), E>,
) -> Result<(), E> {
    let mut failed = None;
    visit(&mut |row| match each(row) {
        Ok(()) => Visit::Continue(()),
        Err(e) => {
            failed = Some(e);
            Visit::Break(())
        }
    })?;
    failed.map_or(Ok(()), Err)
}

/// Generic conveniences over [`StoreRead`]: visitors that return errors,
/// each visit stopping at the first one.
///
/// # Errors
///
/// Every method returns store failures, and whatever `each` returns.
pub trait StoreReadExt: StoreRead {
    /// Call `each` for every cursor matching `filter`, in key order.
    fn for_each_cursor<E: From<StoreError>>(
        &self,
        filter: &CursorFilter,
        mut each: impl FnMut(Result<&CursorRow, StoreError>) -> Result<(), E>,
    ) -> Result<(), E> {
        let mut failed = None;
        self.visit_cursors(filter, &mut |row| match each(row) {
            Ok(()) => Visit::Continue(()),
            Err(e) => {
                failed = Some(e);
                Visit::Break(())
            }
        })?;
        failed.map_or(Ok(()), Err)
    }

    /// Call `each` for every cursor matching `filter` with its partition's
    /// head, in key order.
    fn for_each_cursor_head<E: From<StoreError>>(
        &self,
        filter: &CursorFilter,
        mut each: impl FnMut(Result<&CursorHeadRow, StoreError>) -> Result<(), E>,
    ) -> Result<(), E> {
        let mut failed = None;
        self.visit_cursor_heads(filter, &mut |row| match each(row) {
            Ok(()) => Visit::Continue(()),
            Err(e) => {
                failed = Some(e);
                Visit::Break(())
            }
        })?;
        failed.map_or(Ok(()), Err)
    }

    /// Call `each` for every head matching `filter`, in partition key order.
    fn for_each_head<E: From<StoreError>>(
        &self,
        filter: &HeadFilter,
        each: impl FnMut(&HeadRow) -> Result<(), E>,
    ) -> Result<(), E> {
        until_error(|visit| self.visit_heads(filter, visit), each)
    }

    /// Call `each` for every recorded head change matching `filter`, oldest
    /// first.
    fn for_each_head_change<E: From<StoreError>>(
        &self,
        filter: &HeadFilter,
        each: impl FnMut(&HeadChangeRow) -> Result<(), E>,
    ) -> Result<(), E> {
        until_error(|visit| self.visit_head_changes(filter, visit), each)
    }

    /// Call `each` for every recorded change matching `filter`, oldest
    /// first.
    fn for_each_change<E: From<StoreError>>(
        &self,
        filter: &HistoryFilter,
        each: impl FnMut(&HistoryRow) -> Result<(), E>,
    ) -> Result<(), E> {
        until_error(|visit| self.visit_changes(filter, visit), each)
    }

    /// Call `each` for every batch, oldest first.
    fn for_each_batch<E: From<StoreError>>(
        &self,
        each: impl FnMut(&BatchRow) -> Result<(), E>,
    ) -> Result<(), E> {
        until_error(|visit| self.visit_batches(visit), each)
    }

    /// Call `each` for every consumer's summary, in consumer order.
    fn for_each_consumer<E: From<StoreError>>(
        &self,
        filter: &ConsumerFilter,
        each: impl FnMut(&ConsumerSummary) -> Result<(), E>,
    ) -> Result<(), E> {
        until_error(|visit| self.visit_consumers(filter, visit), each)
    }

    /// Call `each` for every snapshot, by name.
    fn for_each_snapshot<E: From<StoreError>>(
        &self,
        each: impl FnMut(&SnapshotRow) -> Result<(), E>,
    ) -> Result<(), E> {
        until_error(|visit| self.visit_snapshots(visit), each)
    }

    /// Call `each` for every cursor a snapshot holds, in key order.
    fn for_each_snapshot_cursor<E: From<StoreError>>(
        &self,
        name: &str,
        each: impl FnMut(&CursorRow) -> Result<(), E>,
    ) -> Result<(), E> {
        until_error(|visit| self.visit_snapshot_cursors(name, visit), each)
    }
}

impl<T: StoreRead + ?Sized> StoreReadExt for T {}

/// Generic conveniences over [`Store`]: closures run in a snapshot or a
/// write transaction.
pub trait StoreExt: Store {
    /// Run `f` in one read view: every read in it sees the same committed
    /// state.
    ///
    /// # Errors
    ///
    /// Store failures, and whatever `f` returns.
    fn read<T, E: From<StoreError>>(&self, f: impl FnOnce(&Self) -> Result<T, E>) -> Result<T, E> {
        let view = self.begin_read()?;
        let value = f(self)?;
        view.end()?;
        Ok(value)
    }

    /// Run `f` in one write transaction; commit if it returns `Ok`, roll
    /// back otherwise. When the store aborts the transaction to keep
    /// concurrent ones serializable (PostgreSQL under `SERIALIZABLE`, a
    /// deadlock), `f` runs again in a new transaction, with a growing pause,
    /// until the busy timeout has passed: `f` must be safe to run again.
    ///
    /// # Errors
    ///
    /// [`StoreError::Busy`] when the store stays locked (or keeps aborting
    /// the transaction) past the busy timeout, other store failures, and
    /// whatever `f` returns.
    fn write<T, E: From<StoreError>>(
        &self,
        f: impl FnMut(&dyn WriteTxn) -> Result<T, E>,
    ) -> Result<T, E> {
        self.write_then(Outcome::Commit, f)
    }

    /// Run `f` in one write transaction and roll it back: the plan of a
    /// dry run, made by the very code of the write, against a transaction
    /// that sees its own earlier effects. Retried as [`StoreExt::write`].
    ///
    /// # Errors
    ///
    /// As [`StoreExt::write`].
    fn write_rolled_back<T, E: From<StoreError>>(
        &self,
        f: impl FnMut(&dyn WriteTxn) -> Result<T, E>,
    ) -> Result<T, E> {
        self.write_then(Outcome::RollBack, f)
    }

    /// [`StoreExt::write`] or [`StoreExt::write_rolled_back`], by `outcome`.
    ///
    /// # Errors
    ///
    /// As [`StoreExt::write`].
    fn write_then<T, E: From<StoreError>>(
        &self,
        outcome: Outcome,
        mut f: impl FnMut(&dyn WriteTxn) -> Result<T, E>,
    ) -> Result<T, E> {
        self.write_deciding(|txn| f(txn).map(|value| (value, outcome)))
    }

    /// Run `f` in one write transaction, which it ends as it says: commit
    /// or roll back (a dry run; a batch that changed nothing). Retried as
    /// [`StoreExt::write`].
    ///
    /// # Errors
    ///
    /// As [`StoreExt::write`].
    fn write_deciding<T, E: From<StoreError>>(
        &self,
        f: impl FnMut(&dyn WriteTxn) -> Result<(T, Outcome), E>,
    ) -> Result<T, E> {
        let mut backoff = Backoff::new(self.busy_timeout());
        self.write_deciding_within(&mut backoff, f)
    }

    /// [`StoreExt::write_then`] whose retries pause by `backoff`: a caller
    /// that retries the whole write itself (a move whose cursor another
    /// writer moved) passes its own, so that both loops together stay
    /// within one busy timeout.
    ///
    /// # Errors
    ///
    /// As [`StoreExt::write`].
    fn write_then_within<T, E: From<StoreError>>(
        &self,
        backoff: &mut Backoff,
        outcome: Outcome,
        mut f: impl FnMut(&dyn WriteTxn) -> Result<T, E>,
    ) -> Result<T, E> {
        self.write_deciding_within(backoff, |txn| f(txn).map(|value| (value, outcome)))
    }

    /// [`StoreExt::write_deciding`] whose retries pause by `backoff` (see
    /// [`StoreExt::write_then_within`]).
    ///
    /// # Errors
    ///
    /// As [`StoreExt::write`].
    fn write_deciding_within<T, E: From<StoreError>>(
        &self,
        backoff: &mut Backoff,
        mut f: impl FnMut(&dyn WriteTxn) -> Result<(T, Outcome), E>,
    ) -> Result<T, E> {
        // A write whose commit was lost and is proven not written runs
        // again (f is safe to run again), a few times at most.
        let mut not_written = 0;
        loop {
            let txn = self.begin_write()?;
            let retry = match f(&*txn) {
                Ok((value, Outcome::RollBack)) => return Ok(value),
                Ok((value, Outcome::Commit)) => match txn.commit() {
                    Ok(()) => return Ok(value),
                    Err(StoreError::Busy) => StoreError::Busy,
                    Err(e) if is_not_written(&e) && not_written < 3 => {
                        not_written += 1;
                        continue;
                    }
                    Err(e) => return Err(e.into()),
                },
                Err(e) if txn.must_retry() => {
                    drop(txn);
                    if !backoff.wait() {
                        return Err(e);
                    }
                    continue;
                }
                Err(e) => return Err(e),
            };
            if !backoff.wait() {
                return Err(retry.into());
            }
        }
    }

    /// Run `f` once in one write transaction, without retries (for a
    /// transaction whose input cannot be read twice).
    ///
    /// # Errors
    ///
    /// As [`StoreExt::write`].
    fn write_once<T, E: From<StoreError>>(
        &self,
        f: impl FnOnce(&dyn WriteTxn) -> Result<T, E>,
    ) -> Result<T, E> {
        self.write_once_deciding(|txn| f(txn).map(|value| (value, Outcome::Commit)))
    }

    /// [`StoreExt::write_once`], ended as `f` says: committed or rolled
    /// back.
    ///
    /// # Errors
    ///
    /// As [`StoreExt::write`].
    fn write_once_deciding<T, E: From<StoreError>>(
        &self,
        f: impl FnOnce(&dyn WriteTxn) -> Result<(T, Outcome), E>,
    ) -> Result<T, E> {
        let txn = self.begin_write()?;
        let (value, outcome) = f(&*txn)?;
        if outcome == Outcome::Commit {
            txn.commit()?;
        }
        Ok(value)
    }
}

impl<T: Store + ?Sized> StoreExt for T {}

/// How a write transaction ends when its work succeeded.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Outcome {
    /// Commit it: the write.
    Commit,
    /// Roll it back: a dry run, which shows what the write would do.
    RollBack,
}

impl Outcome {
    /// [`Outcome::RollBack`] for a dry run.
    #[must_use]
    pub const fn of_dry_run(dry_run: bool) -> Self {
        if dry_run {
            Self::RollBack
        } else {
            Self::Commit
        }
    }

    /// Whether this is a dry run.
    #[must_use]
    pub fn is_dry_run(self) -> bool {
        self == Self::RollBack
    }
}
