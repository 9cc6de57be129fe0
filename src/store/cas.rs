//! The one compare-and-swap algorithm every backend runs, a store shared
//! between threads behind a lock.

use super::*;

/// The three guarded statements a backend runs for a compare-and-swap on
/// one cursor (the cursor is implied).
pub(crate) trait GuardedWrites {
    /// `UPDATE ... SET offset = new WHERE <cursor> AND offset = expected`;
    /// whether a row changed.
    fn swap(&self, expected: u64, new: u64) -> Result<bool, DurabilityError>;
    /// `INSERT ... VALUES (new) ON CONFLICT DO NOTHING`; whether a row was
    /// inserted.
    fn insert(&self, new: u64) -> Result<bool, DurabilityError>;
    /// The cursor's offset (`None`: absent).
    fn read(&self) -> Result<Option<u64>, DurabilityError>;
}

/// Compare-and-swap by guarded statements only: a guarded `UPDATE`, or
/// (expecting 0) an insert that does nothing when the cursor exists.
/// Neither relies on a store-wide lock: whatever another writer did, a
/// statement that changes no row means the cursor did not hold `expected`,
/// and the cursor is then read to report what it holds.
///
/// `known` is the offset just read in the same transaction, if any: it
/// skips the statement that cannot succeed.
pub(crate) fn guarded_cas(
    writes: &impl GuardedWrites,
    key: &CursorKey,
    expected: u64,
    new: u64,
    mut known: Option<Option<u64>>,
) -> Result<(), DurabilityError> {
    if new > crate::parse::MAX_OFFSET {
        return Err(DurabilityError::OffsetTooLarge { offset: new });
    }
    let stale = |actual| DurabilityError::StaleCheckpoint {
        key: key.to_string(),
        expected,
        actual,
    };
    // A statement can find the cursor changed by a writer that committed
    // between two statements (where the backend does not lock the whole
    // store); a few rounds settle it.
    for _ in 0..3 {
        if let Some(current) = known {
            if current.unwrap_or(0) != expected {
                return Err(stale(current));
            }
            if current == Some(new) {
                return Ok(());
            }
        }
        if known != Some(None) && new != expected && writes.swap(expected, new)? {
            return Ok(());
        }
        if expected == 0 && !matches!(known, Some(Some(_))) && writes.insert(new)? {
            return Ok(());
        }
        let current = writes.read()?;
        if current.unwrap_or(0) != expected {
            return Err(stale(current));
        }
        if new == expected && current.is_some() {
            return Ok(());
        }
        known = Some(current);
    }
    Err(stale(writes.read()?))
}

/// The store behind `lock`, poisoned or not.
fn locked<S: ?Sized>(lock: &std::sync::Mutex<S>) -> std::sync::MutexGuard<'_, S> {
    lock.lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// A store shared between threads behind a lock (`Arc<Mutex<SqliteStore>>`):
/// each call holds the lock for one read or one compare-and-swap. A lock
/// poisoned by a panicking holder is taken anyway: every write is its own
/// transaction, so a panic leaves nothing half-written.
impl<S: DurableStore + ?Sized> DurableStore for std::sync::Mutex<S> {
    fn read_value(&self, key: &str) -> Result<Option<u64>, DurabilityError> {
        locked(self).read_value(key)
    }

    fn cas(&self, key: &str, expected: u64, new: u64) -> Result<(), DurabilityError> {
        locked(self).cas(key, expected, new)
    }

    fn leased_cas(
        &self,
        key: &str,
        epoch: u64,
        expected: u64,
        new: u64,
    ) -> Result<(), DurabilityError> {
        locked(self).leased_cas(key, epoch, expected, new)
    }

    fn renew_lease(
        &self,
        key: &str,
        owner: &str,
        epoch: u64,
        ttl_ms: i64,
    ) -> Result<i64, DurabilityError> {
        locked(self).renew_lease(key, owner, epoch, ttl_ms)
    }

    fn read_value_keyed(&self, key: &CursorKey) -> Result<Option<u64>, DurabilityError> {
        locked(self).read_value_keyed(key)
    }

    fn cas_keyed(&self, key: &CursorKey, expected: u64, new: u64) -> Result<(), DurabilityError> {
        locked(self).cas_keyed(key, expected, new)
    }

    fn leased_cas_keyed(
        &self,
        key: &CursorKey,
        epoch: u64,
        expected: u64,
        new: u64,
    ) -> Result<(), DurabilityError> {
        locked(self).leased_cas_keyed(key, epoch, expected, new)
    }

    fn renew_lease_keyed(
        &self,
        key: &CursorKey,
        owner: &str,
        epoch: u64,
        ttl_ms: i64,
    ) -> Result<i64, DurabilityError> {
        locked(self).renew_lease_keyed(key, owner, epoch, ttl_ms)
    }
}
