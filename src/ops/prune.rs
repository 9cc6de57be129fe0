//! Delete old history, never half a batch; the prune itself is recorded.

use super::error::OpResult;
use crate::store::{Outcome, Store, StoreExt};

/// What a prune removed (or, for a dry run, would remove).
#[derive(Clone, Copy, Debug)]
pub struct Pruned {
    /// Recorded changes removed.
    pub changes: u64,
    /// Batches removed.
    pub batches: u64,
    /// The batch that records the prune (of a dry run: the id it would
    /// have had).
    pub batch: i64,
}

/// Delete the history older than `before` (ms since the epoch), never half
/// a batch, and record the prune as a batch of its own (`outcome`: the
/// write, or its dry run).
///
/// # Errors
///
/// Store failures (among them a store whose ids a prune would let the next
/// write take again).
pub fn run(
    store: &dyn Store,
    before: i64,
    reason: Option<&str>,
    user: &str,
    outcome: Outcome,
) -> OpResult<Pruned> {
    let label = format!(
        "history prune --before {}",
        crate::parse::format_time_ms(before)
    );
    store.write_then(outcome, |txn| -> OpResult<Pruned> {
        let (changes, batches) = txn.prune_history(before)?;
        let batch = txn.new_batch(&label, reason, user)?;
        Ok(Pruned {
            changes,
            batches,
            batch,
        })
    })
}
