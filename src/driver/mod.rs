//! When a consumer writes its checkpoints: the policy and the driver.

use std::fmt;
use std::str::FromStr;

use crate::cursor::ConsumerCursor;
use crate::error::{DurabilityError, WriteOutcome};
use crate::store::DurableStore;

/// When processed messages are checkpointed.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum CheckpointPolicy {
    /// `per-message`: after every processed message.
    PerMessage,
    /// `per-batch:N`: when N messages were processed since the last
    /// checkpoint. N must be at least 1.
    PerBatch(usize),
    /// `explicit-flush`: only when the consumer flushes.
    ExplicitFlush,
}

impl CheckpointPolicy {
    /// Check that the policy can be used (`per-batch:0` cannot).
    ///
    /// # Errors
    ///
    /// [`DurabilityError::ConfigError`] for `per-batch:0`.
    pub fn validate(self) -> Result<(), DurabilityError> {
        if self == Self::PerBatch(0) {
            return Err(DurabilityError::ConfigError(
                "checkpoint batch size must be at least 1 (per-batch:0 is invalid)".to_owned(),
            ));
        }
        Ok(())
    }
}

impl fmt::Display for CheckpointPolicy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::PerMessage => f.write_str("per-message"),
            Self::PerBatch(n) => write!(f, "per-batch:{n}"),
            Self::ExplicitFlush => f.write_str("explicit-flush"),
        }
    }
}

impl FromStr for CheckpointPolicy {
    type Err = DurabilityError;

    /// Parse `per-message`, `per-batch:N` (N >= 1) or `explicit-flush`.
    fn from_str(s: &str) -> Result<Self, DurabilityError> {
        let policy = match s {
            "per-message" => Self::PerMessage,
            "explicit-flush" => Self::ExplicitFlush,
            _ => {
                let size = s
                    .strip_prefix("per-batch:")
                    .filter(|n| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()))
                    .and_then(|n| n.parse::<usize>().ok())
                    .ok_or_else(|| {
                        DurabilityError::ConfigError(format!(
                            "invalid checkpoint policy {s:?}: use per-message, per-batch:N (N >= 1) or explicit-flush"
                        ))
                    })?;
                Self::PerBatch(size)
            }
        };
        policy.validate()?;
        Ok(policy)
    }
}

/// The durability settings of a channel.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct DurabilityConfig {
    /// When consumers of the channel checkpoint.
    pub checkpoint_policy: CheckpointPolicy,
}

impl DurabilityConfig {
    /// The checkpoint policy.
    #[must_use]
    pub const fn checkpoint_policy(&self) -> CheckpointPolicy {
        self.checkpoint_policy
    }
}

impl From<DurabilityConfig> for CheckpointPolicy {
    fn from(config: DurabilityConfig) -> Self {
        config.checkpoint_policy()
    }
}

/// Applies a [`CheckpointPolicy`] to a stream of processed messages.
///
/// What a failed checkpoint leaves behind depends on why it failed:
///
/// - a store failure (busy, a lost connection, I/O, ...) keeps the pending
///   offset and the count. [`flush`](Self::flush) tries again at once;
///   messages try again where the policy next checkpoints, counted from the
///   failure: the next message for `per-message`, N messages later for
///   `per-batch:N` (not every message in between, each of which could wait
///   out the busy timeout again);
/// - a connection lost while the write was on its way
///   ([`WriteOutcome::Unknown`](crate::WriteOutcome::Unknown): the server
///   may have committed it) is settled by the next checkpoint: when its
///   compare-and-swap finds in the store the very offset whose write was
///   lost, that write was committed, and the driver takes it as its own
///   rather than report a stale checkpoint;
/// - a [`CursorRegression`](DurabilityError::CursorRegression) drops the
///   pending offset (the cursor is already past it, so it can never be
///   written) and keeps the count;
/// - a [`StaleCheckpoint`](DurabilityError::StaleCheckpoint) (someone else
///   moved the cursor) keeps the pending offset and the count, and the
///   driver writes nothing more until the consumer has resynchronised the
///   cursor and called [`rebase`](Self::rebase) or [`reset`](Self::reset):
///   meanwhile, where the policy would checkpoint, it returns the same stale
///   error again without touching the store.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CheckpointDriver {
    policy: CheckpointPolicy,
    messages_since_last_checkpoint: usize,
    pending_offset: Option<u64>,
    stale: Option<Stale>,
    /// The count at which messages try again after a store failure.
    retry_at: Option<usize>,
    /// The offset of a checkpoint whose outcome is unknown (its connection
    /// was lost on the way).
    unknown: Option<u64>,
    lease: Option<crate::lease::Lease>,
}

/// The stale checkpoint that holds the driver until a rebase or reset.
#[derive(Clone, Debug, PartialEq, Eq)]
struct Stale {
    key: String,
    expected: u64,
    actual: Option<u64>,
}

impl Stale {
    fn error(&self) -> DurabilityError {
        DurabilityError::StaleCheckpoint {
            key: self.key.clone(),
            expected: self.expected,
            actual: self.actual,
        }
    }
}

impl CheckpointDriver {
    /// Create a driver from a policy or a durability configuration.
    #[must_use]
    pub fn new(policy: impl Into<CheckpointPolicy>) -> Self {
        Self::from_policy(policy.into())
    }

    /// Create a driver from a policy.
    #[must_use]
    pub const fn from_policy(policy: CheckpointPolicy) -> Self {
        Self {
            policy,
            messages_since_last_checkpoint: 0,
            pending_offset: None,
            stale: None,
            retry_at: None,
            unknown: None,
            lease: None,
        }
    }

    /// Create a driver from a durability configuration.
    #[must_use]
    pub const fn from_config(config: DurabilityConfig) -> Self {
        Self::from_policy(config.checkpoint_policy())
    }

    /// The policy.
    #[must_use]
    pub const fn policy(&self) -> CheckpointPolicy {
        self.policy
    }

    /// Messages processed since the last successful checkpoint.
    #[must_use]
    pub const fn messages_since_last_checkpoint(&self) -> usize {
        self.messages_since_last_checkpoint
    }

    /// The latest processed offset not yet checkpointed.
    #[must_use]
    pub const fn pending_offset(&self) -> Option<u64> {
        self.pending_offset
    }

    /// Whether a stale checkpoint holds the driver: it writes nothing until
    /// [`rebase`](Self::rebase) or [`reset`](Self::reset).
    #[must_use]
    pub const fn needs_resync(&self) -> bool {
        self.stale.is_some()
    }

    /// The offset of a checkpoint whose outcome is unknown (its connection
    /// was lost while the write was on its way), until a later checkpoint
    /// settles it (see the type's documentation).
    #[must_use]
    pub const fn unknown_outcome(&self) -> Option<u64> {
        self.unknown
    }

    /// Forget the pending offset and the count, and any stale checkpoint:
    /// the driver starts afresh from the cursor as it is. Returns the pending
    /// offset that was dropped.
    ///
    /// Use it after [`ConsumerCursor::resync`] when the consumer goes on
    /// from the stored offset (the store wins: an operator's move, or another
    /// instance's progress, is kept).
    pub fn reset(&mut self) -> Option<u64> {
        self.messages_since_last_checkpoint = 0;
        self.stale = None;
        self.retry_at = None;
        self.unknown = None;
        self.pending_offset.take()
    }

    /// Go on from a cursor that now holds `cursor_offset` (after
    /// [`ConsumerCursor::resync`]) while keeping the consumer's own
    /// progress: a pending offset above `cursor_offset` stays pending (with
    /// its count) and is written by the next checkpoint; one at or below it
    /// is dropped, as the store already holds as much. Clears a stale
    /// checkpoint.
    ///
    /// Keeping progress overrides whatever moved the cursor (an operator's
    /// rewind for a replay, too): use it only when the consumer's position
    /// should win, e.g. to recreate a deleted cursor where the consumer is.
    pub fn rebase(&mut self, cursor_offset: u64) {
        self.stale = None;
        self.unknown = None;
        if self
            .pending_offset
            .is_some_and(|pending| pending <= cursor_offset)
        {
            self.pending_offset = None;
            self.messages_since_last_checkpoint = 0;
        }
    }

    /// Record one processed message and checkpoint if the policy says so.
    ///
    /// `next_offset` is the offset the consumer resumes from after this
    /// message. What a failed checkpoint leaves behind is in the type's
    /// documentation: a store failure is retried by the next message or
    /// flush, a stale checkpoint waits for a rebase or reset.
    ///
    /// # Errors
    ///
    /// Checkpoint errors (regression, stale, store) and
    /// [`DurabilityError::ConfigError`] for `per-batch:0`.
    pub fn record_processed(
        &mut self,
        cursor: &mut ConsumerCursor,
        store: &dyn DurableStore,
        next_offset: u64,
    ) -> Result<(), DurabilityError> {
        if self.note_processed(next_offset)? {
            self.checkpoint_pending(cursor, store)
        } else {
            Ok(())
        }
    }

    /// Count one processed message; whether the policy checkpoints now.
    pub(crate) fn note_processed(&mut self, next_offset: u64) -> Result<bool, DurabilityError> {
        self.policy.validate()?;
        self.messages_since_last_checkpoint = self
            .messages_since_last_checkpoint
            .checked_add(1)
            .ok_or_else(|| {
                DurabilityError::ConfigError("messages since last checkpoint overflow".to_owned())
            })?;
        self.pending_offset = Some(next_offset);
        Ok(self.due())
    }

    /// Whether the policy checkpoints at this message.
    fn due(&self) -> bool {
        let count = self.messages_since_last_checkpoint;
        match self.policy {
            CheckpointPolicy::PerMessage => true,
            CheckpointPolicy::PerBatch(size) => {
                count >= size && self.retry_at.is_none_or(|at| count >= at)
            }
            CheckpointPolicy::ExplicitFlush => false,
        }
    }

    /// Checkpoint the pending offset, if any.
    ///
    /// # Errors
    ///
    /// Checkpoint errors and [`DurabilityError::ConfigError`] for `per-batch:0`.
    pub fn flush(
        &mut self,
        cursor: &mut ConsumerCursor,
        store: &dyn DurableStore,
    ) -> Result<(), DurabilityError> {
        self.policy.validate()?;
        self.checkpoint_pending(cursor, store)
    }

    /// Hold a lease (see [`crate::lease`]): from now on every checkpoint
    /// goes through it, written only while it is live and of its epoch
    /// (otherwise [`DurabilityError::Fenced`], nothing written, the pending
    /// offset kept), and after a checkpoint the lease is renewed once half
    /// its time to live has gone by. Replaces a lease held before.
    pub fn hold_lease(&mut self, lease: crate::lease::Lease) {
        self.lease = Some(lease);
    }

    /// The lease the driver holds.
    #[must_use]
    pub const fn lease(&self) -> Option<&crate::lease::Lease> {
        self.lease.as_ref()
    }

    /// Stop holding the lease (to release it, or after it was fenced);
    /// checkpoints no longer go through it.
    pub fn take_lease(&mut self) -> Option<crate::lease::Lease> {
        self.lease.take()
    }

    fn checkpoint_pending(
        &mut self,
        cursor: &mut ConsumerCursor,
        store: &dyn DurableStore,
    ) -> Result<(), DurabilityError> {
        let Some(mut offset) = self.due_offset()? else {
            return Ok(());
        };
        loop {
            // Through the lease's guard when the driver holds one.
            let result = match &self.lease {
                Some(lease) => cursor.checkpoint(&lease.guard(store), offset),
                None => cursor.checkpoint(store, offset),
            };
            match self.settle(cursor, offset, result)? {
                Some(again) => offset = again,
                None => {
                    return match &mut self.lease {
                        Some(lease) if lease.renew_due() => lease.renew(store),
                        _ => Ok(()),
                    }
                }
            }
        }
    }

    /// The pending offset to write now (`None`: nothing pending), or the
    /// stale checkpoint that holds the driver.
    pub(crate) fn due_offset(&self) -> Result<Option<u64>, DurabilityError> {
        let Some(next_offset) = self.pending_offset else {
            return Ok(None);
        };
        if let Some(stale) = &self.stale {
            return Err(stale.error());
        }
        Ok(Some(next_offset))
    }

    /// Take the result of the compare-and-swap of `next_offset`: done
    /// (`None`), or the offset to write again, once, when the store held
    /// the very offset whose write was lost (that write was committed: the
    /// cursor takes it, and what is pending above it is written next).
    pub(crate) fn settle(
        &mut self,
        cursor: &mut ConsumerCursor,
        next_offset: u64,
        mut result: Result<(), DurabilityError>,
    ) -> Result<Option<u64>, DurabilityError> {
        if let (Err(err), Some(lost)) = (&result, self.unknown) {
            if err.stale_actual() == Some(Some(lost)) && cursor.resync_from(err).is_some() {
                self.unknown = None;
                if next_offset > lost {
                    return Ok(Some(next_offset));
                }
                result = Ok(());
            }
        }
        match result {
            Ok(()) => {
                self.messages_since_last_checkpoint = 0;
                self.pending_offset = None;
                self.retry_at = None;
                self.unknown = None;
                Ok(None)
            }
            Err(error @ DurabilityError::CursorRegression { .. }) => {
                self.pending_offset = None;
                Err(error)
            }
            Err(DurabilityError::StaleCheckpoint {
                key,
                expected,
                actual,
            }) => {
                let stale = Stale {
                    key,
                    expected,
                    actual,
                };
                let error = stale.error();
                self.stale = Some(stale);
                Err(error)
            }
            Err(error) => {
                if error.outcome() == WriteOutcome::Unknown {
                    self.unknown = Some(next_offset);
                }
                if let CheckpointPolicy::PerBatch(size) = self.policy {
                    self.retry_at = Some(self.messages_since_last_checkpoint.saturating_add(size));
                }
                Err(error)
            }
        }
    }
}

#[cfg(test)]
mod tests;
