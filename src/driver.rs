//! When a consumer writes its checkpoints: the policy and the driver.

use std::fmt;
use std::str::FromStr;

use crate::cursor::ConsumerCursor;
use crate::error::DurabilityError;
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
/// - a store failure (busy, I/O, ...) keeps the pending offset and the
///   count, so the next message or [`flush`](Self::flush) tries again;
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
        self.policy.validate()?;
        self.messages_since_last_checkpoint = self
            .messages_since_last_checkpoint
            .checked_add(1)
            .ok_or_else(|| {
                DurabilityError::ConfigError("messages since last checkpoint overflow".to_owned())
            })?;
        self.pending_offset = Some(next_offset);
        match self.policy {
            CheckpointPolicy::PerMessage => self.checkpoint_pending(cursor, store),
            CheckpointPolicy::PerBatch(size) if self.messages_since_last_checkpoint >= size => {
                self.checkpoint_pending(cursor, store)
            }
            CheckpointPolicy::PerBatch(_) | CheckpointPolicy::ExplicitFlush => Ok(()),
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
        let Some(next_offset) = self.pending_offset else {
            return Ok(());
        };
        if let Some(stale) = &self.stale {
            return Err(stale.error());
        }
        let written = match &self.lease {
            Some(lease) => cursor.checkpoint(&lease.guard(store), next_offset),
            None => cursor.checkpoint(store, next_offset),
        };
        match written {
            Ok(()) => {
                self.messages_since_last_checkpoint = 0;
                self.pending_offset = None;
                match &mut self.lease {
                    Some(lease) if lease.renew_due() => lease.renew(store),
                    _ => Ok(()),
                }
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
            Err(error) => Err(error),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::memory::MemoryStore;

    const KEY: &str = "billing:orders:3";

    /// Feed offsets 1..=n and return the offsets the store was written with.
    fn run(policy: CheckpointPolicy, n: u64, flush_at_end: bool) -> Vec<u64> {
        let store = MemoryStore::new();
        let mut cursor = ConsumerCursor::resume("billing", "orders:3", &store).unwrap();
        let mut driver = CheckpointDriver::new(policy);
        for next in 1..=n {
            driver.record_processed(&mut cursor, &store, next).unwrap();
        }
        if flush_at_end {
            driver.flush(&mut cursor, &store).unwrap();
        }
        store.writes(KEY)
    }

    #[test]
    fn policies_parse_and_print() {
        for text in [
            "per-message",
            "per-batch:1",
            "per-batch:100",
            "explicit-flush",
        ] {
            let policy: CheckpointPolicy = text.parse().unwrap();
            assert_eq!(policy.to_string(), text);
        }
        for bad in [
            "per-batch:0",
            "per-batch:",
            "per-batch:x",
            "per-batch:-1",
            "batch",
            "",
        ] {
            assert!(matches!(
                bad.parse::<CheckpointPolicy>(),
                Err(DurabilityError::ConfigError(_))
            ));
        }
    }

    #[test]
    fn per_message_checkpoints_every_message() {
        assert_eq!(
            run(CheckpointPolicy::PerMessage, 4, false),
            vec![1, 2, 3, 4]
        );
    }

    #[test]
    fn per_batch_checkpoints_every_n_and_flush_writes_the_rest() {
        assert_eq!(run(CheckpointPolicy::PerBatch(3), 10, false), vec![3, 6, 9]);
        assert_eq!(
            run(CheckpointPolicy::PerBatch(3), 10, true),
            vec![3, 6, 9, 10]
        );
        assert_eq!(run(CheckpointPolicy::PerBatch(1), 3, false), vec![1, 2, 3]);
    }

    #[test]
    fn explicit_flush_checkpoints_only_on_flush() {
        assert_eq!(
            run(CheckpointPolicy::ExplicitFlush, 5, false),
            Vec::<u64>::new()
        );
        assert_eq!(run(CheckpointPolicy::ExplicitFlush, 5, true), vec![5]);
    }

    #[test]
    fn flush_with_nothing_pending_writes_nothing() {
        let store = MemoryStore::new();
        let mut cursor = ConsumerCursor::new("billing", "orders:3");
        let mut driver = CheckpointDriver::new(CheckpointPolicy::PerMessage);
        driver.flush(&mut cursor, &store).unwrap();
        assert_eq!(store.cas_calls(), 0);
    }

    #[test]
    fn per_batch_zero_is_a_config_error() {
        let store = MemoryStore::new();
        let mut cursor = ConsumerCursor::new("billing", "orders:3");
        let mut driver = CheckpointDriver::new(CheckpointPolicy::PerBatch(0));
        assert!(matches!(
            driver.record_processed(&mut cursor, &store, 1),
            Err(DurabilityError::ConfigError(_))
        ));
        assert!(matches!(
            driver.flush(&mut cursor, &store),
            Err(DurabilityError::ConfigError(_))
        ));
        assert_eq!(driver.pending_offset(), None);
        assert_eq!(store.cas_calls(), 0);
    }

    #[test]
    fn config_builds_a_driver() {
        let config = DurabilityConfig {
            checkpoint_policy: CheckpointPolicy::PerBatch(5),
        };
        assert_eq!(
            CheckpointDriver::from_config(config).policy(),
            CheckpointPolicy::PerBatch(5)
        );
        assert_eq!(
            CheckpointDriver::new(config).policy(),
            CheckpointPolicy::PerBatch(5)
        );
    }

    #[test]
    fn failed_checkpoint_keeps_pending_and_count_and_retries() {
        let store = MemoryStore::new();
        let mut cursor = ConsumerCursor::new("billing", "orders:3");
        let mut driver = CheckpointDriver::new(CheckpointPolicy::PerBatch(2));
        driver.record_processed(&mut cursor, &store, 1).unwrap();
        store.fail_next_cas();
        let err = driver.record_processed(&mut cursor, &store, 2).unwrap_err();
        assert!(err.is_retryable() && err.is_busy());
        assert!(!driver.needs_resync());
        assert_eq!(driver.pending_offset(), Some(2));
        assert_eq!(driver.messages_since_last_checkpoint(), 2);
        assert_eq!(store.get(KEY), None);
        // The next message retries (count is already past the batch size).
        driver.record_processed(&mut cursor, &store, 3).unwrap();
        assert_eq!(store.get(KEY), Some(3));
        assert_eq!(driver.pending_offset(), None);
        assert_eq!(driver.messages_since_last_checkpoint(), 0);
    }

    #[test]
    fn failed_flush_is_retried_by_the_next_flush() {
        let store = MemoryStore::new();
        let mut cursor = ConsumerCursor::new("billing", "orders:3");
        let mut driver = CheckpointDriver::new(CheckpointPolicy::ExplicitFlush);
        driver.record_processed(&mut cursor, &store, 1).unwrap();
        store.fail_next_cas();
        assert!(driver.flush(&mut cursor, &store).is_err());
        assert_eq!(driver.pending_offset(), Some(1));
        assert_eq!(driver.messages_since_last_checkpoint(), 1);
        driver.flush(&mut cursor, &store).unwrap();
        assert_eq!(store.get(KEY), Some(1));
    }

    #[test]
    fn stale_checkpoint_keeps_pending_and_holds_the_driver_until_a_resync() {
        let store = MemoryStore::new();
        let mut cursor = ConsumerCursor::new("billing", "orders:3");
        let mut driver = CheckpointDriver::new(CheckpointPolicy::PerMessage);
        store.put(KEY, 50);
        let err = driver.record_processed(&mut cursor, &store, 1).unwrap_err();
        assert_eq!(err.stale_actual(), Some(Some(50)));
        assert_eq!(driver.pending_offset(), Some(1));
        assert_eq!(driver.messages_since_last_checkpoint(), 1);
        assert!(driver.needs_resync());
        // Later messages are recorded, and the same error comes back without
        // a compare-and-swap that cannot succeed.
        let calls = store.cas_calls();
        for next in 2..=5 {
            let again = driver
                .record_processed(&mut cursor, &store, next)
                .unwrap_err();
            assert_eq!(again.stale_actual(), Some(Some(50)));
        }
        assert!(driver.flush(&mut cursor, &store).unwrap_err().is_stale());
        assert_eq!(store.cas_calls(), calls);
        assert_eq!(driver.pending_offset(), Some(5));
        assert_eq!(driver.messages_since_last_checkpoint(), 5);
    }

    #[test]
    fn reset_after_a_resync_goes_on_from_the_store() {
        let store = MemoryStore::new();
        let mut cursor = ConsumerCursor::new("billing", "orders:3");
        let mut driver = CheckpointDriver::new(CheckpointPolicy::PerBatch(2));
        store.put(KEY, 50);
        driver.record_processed(&mut cursor, &store, 1).unwrap();
        assert!(driver.record_processed(&mut cursor, &store, 2).is_err());
        assert_eq!(
            cursor.resync(&store).unwrap(),
            crate::cursor::Resync::Stored(50)
        );
        assert_eq!(driver.reset(), Some(2));
        assert!(!driver.needs_resync());
        assert_eq!(driver.pending_offset(), None);
        assert_eq!(driver.messages_since_last_checkpoint(), 0);
        driver.record_processed(&mut cursor, &store, 51).unwrap();
        driver.record_processed(&mut cursor, &store, 52).unwrap();
        assert_eq!(store.get(KEY), Some(52));
    }

    #[test]
    fn rebase_keeps_progress_above_the_cursor_and_drops_the_rest() {
        let store = MemoryStore::new();
        let mut cursor = ConsumerCursor::new("billing", "orders:3");
        let mut driver = CheckpointDriver::new(CheckpointPolicy::ExplicitFlush);
        store.put(KEY, 5);
        driver.record_processed(&mut cursor, &store, 8).unwrap();
        assert!(driver.flush(&mut cursor, &store).unwrap_err().is_stale());
        let found = cursor.resync(&store).unwrap();
        driver.rebase(cursor.current_offset());
        assert_eq!(found.offset(), Some(5));
        assert!(!driver.needs_resync());
        assert_eq!(driver.pending_offset(), Some(8), "8 is above 5: kept");
        assert_eq!(driver.messages_since_last_checkpoint(), 1);
        driver.flush(&mut cursor, &store).unwrap();
        assert_eq!(store.get(KEY), Some(8));

        // Pending at or below the stored offset: nothing left to write.
        store.put(KEY, 20);
        driver.record_processed(&mut cursor, &store, 9).unwrap();
        assert!(driver.flush(&mut cursor, &store).is_err());
        let _ = cursor.resync(&store).unwrap();
        driver.rebase(cursor.current_offset());
        assert_eq!(driver.pending_offset(), None);
        assert_eq!(driver.messages_since_last_checkpoint(), 0);
        let calls = store.cas_calls();
        driver.flush(&mut cursor, &store).unwrap();
        assert_eq!(store.cas_calls(), calls);
        assert_eq!(store.get(KEY), Some(20));
    }

    #[test]
    fn rebase_recreates_a_deleted_cursor_where_the_consumer_is() {
        let store = MemoryStore::new();
        store.put(KEY, 10);
        let mut cursor = ConsumerCursor::resume("billing", "orders:3", &store).unwrap();
        let mut driver = CheckpointDriver::new(CheckpointPolicy::PerMessage);
        driver.record_processed(&mut cursor, &store, 11).unwrap();
        store.remove(KEY);
        let err = driver
            .record_processed(&mut cursor, &store, 12)
            .unwrap_err();
        assert_eq!(err.stale_actual(), Some(None));
        assert_eq!(
            cursor.resync_from(&err),
            Some(crate::cursor::Resync::Absent)
        );
        driver.rebase(cursor.current_offset());
        assert_eq!(driver.pending_offset(), Some(12));
        driver.record_processed(&mut cursor, &store, 13).unwrap();
        assert_eq!(store.get(KEY), Some(13));
    }

    #[test]
    fn regression_drops_the_pending_offset_and_keeps_the_count() {
        let store = MemoryStore::new();
        store.put(KEY, 10);
        let mut cursor = ConsumerCursor::resume("billing", "orders:3", &store).unwrap();
        let mut driver = CheckpointDriver::new(CheckpointPolicy::ExplicitFlush);
        driver.record_processed(&mut cursor, &store, 4).unwrap();
        let err = driver.flush(&mut cursor, &store).unwrap_err();
        assert!(err.is_regression() && !err.is_retryable());
        assert_eq!(driver.pending_offset(), None);
        assert_eq!(driver.messages_since_last_checkpoint(), 1);
        assert!(!driver.needs_resync());
        // The next flush has nothing to write and succeeds.
        driver.flush(&mut cursor, &store).unwrap();
        assert_eq!(store.get(KEY), Some(10));
    }
}
