//! Tests of the checkpoint driver against memory stores.
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
    // The next message does not retry: the next batch boundary,
    // counted from the failure, does.
    let calls = store.cas_calls();
    driver.record_processed(&mut cursor, &store, 3).unwrap();
    assert_eq!(
        store.cas_calls(),
        calls,
        "no retry before the next boundary"
    );
    assert_eq!(driver.messages_since_last_checkpoint(), 3);
    driver.record_processed(&mut cursor, &store, 4).unwrap();
    assert_eq!(store.get(KEY), Some(4));
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

/// A store that commits a compare-and-swap and then reports the
/// connection lost, once.
struct LosesTheAnswer {
    inner: MemoryStore,
    lose_next: std::cell::Cell<bool>,
}

impl DurableStore for LosesTheAnswer {
    fn read_value(&self, key: &str) -> Result<Option<u64>, DurabilityError> {
        self.inner.read_value(key)
    }

    fn cas(&self, key: &str, expected: u64, new: u64) -> Result<(), DurabilityError> {
        self.inner.cas(key, expected, new)?;
        if self.lose_next.replace(false) {
            return Err(DurabilityError::Store(crate::StoreError::ConnectionLost {
                context: "writing a cursor".to_owned(),
                outcome: WriteOutcome::Unknown,
                source: "connection closed".into(),
            }));
        }
        Ok(())
    }
}

#[test]
fn a_lost_answer_of_a_committed_checkpoint_is_settled_by_the_next_one() {
    let store = LosesTheAnswer {
        inner: MemoryStore::new(),
        lose_next: std::cell::Cell::new(false),
    };
    let mut cursor = ConsumerCursor::new("billing", "orders:3");
    let mut driver = CheckpointDriver::new(CheckpointPolicy::PerMessage);
    driver.record_processed(&mut cursor, &store, 1).unwrap();
    store.lose_next.set(true);
    let err = driver.record_processed(&mut cursor, &store, 2).unwrap_err();
    assert!(err.is_retryable());
    assert_eq!(err.outcome(), WriteOutcome::Unknown);
    assert!(err.to_string().contains("unknown"), "{err}");
    assert_eq!(driver.unknown_outcome(), Some(2));
    assert_eq!(cursor.current_offset(), 1, "the cursor does not guess");
    assert_eq!(store.inner.get(KEY), Some(2), "the write was committed");
    // The next checkpoint finds 2, the offset whose answer was lost: no
    // stale error, and it goes on.
    driver.record_processed(&mut cursor, &store, 3).unwrap();
    assert!(!driver.needs_resync());
    assert_eq!(driver.unknown_outcome(), None);
    assert_eq!(cursor.current_offset(), 3);
    assert_eq!(store.inner.writes(KEY), vec![1, 2, 3]);
}
