//! One consumer's durable read position on one partition.

use crate::error::DurabilityError;
use crate::key::CursorKey;
use crate::store::DurableStore;

/// The read position of one consumer on one partition.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ConsumerCursor {
    /// The consumer id.
    pub consumer_id: String,
    /// The partition key, `CHANNEL:INDEX`.
    pub partition_key: String,
    /// The offset this cursor believes the store holds.
    pub current_offset: u64,
}

impl ConsumerCursor {
    /// Create a cursor at offset 0.
    #[must_use]
    pub fn new(consumer_id: impl Into<String>, partition_key: impl Into<String>) -> Self {
        Self::from_persisted(consumer_id, partition_key, 0)
    }

    /// Create a cursor at an offset read from the store.
    #[must_use]
    pub fn from_persisted(
        consumer_id: impl Into<String>,
        partition_key: impl Into<String>,
        current_offset: u64,
    ) -> Self {
        Self {
            consumer_id: consumer_id.into(),
            partition_key: partition_key.into(),
            current_offset,
        }
    }

    /// Resume a cursor from the store; an absent cursor resumes at offset 0.
    ///
    /// To tell an absent cursor from one at 0 (a typo in a consumer name, a
    /// cursor an operator deleted), build the cursor with
    /// [`ConsumerCursor::new`] and call [`ConsumerCursor::resync`] instead.
    ///
    /// # Errors
    ///
    /// Propagates store read errors.
    pub fn resume(
        consumer_id: impl Into<String>,
        partition_key: impl Into<String>,
        store: &dyn DurableStore,
    ) -> Result<Self, DurabilityError> {
        let consumer_id = consumer_id.into();
        let partition_key = partition_key.into();
        let current = store
            .read_value(&cursor_key_for(&consumer_id, &partition_key))?
            .unwrap_or(0);
        Ok(Self::from_persisted(consumer_id, partition_key, current))
    }

    /// The consumer id.
    #[must_use]
    pub fn consumer_id(&self) -> &str {
        &self.consumer_id
    }

    /// The partition key.
    #[must_use]
    pub fn partition_key(&self) -> &str {
        &self.partition_key
    }

    /// The offset this cursor believes the store holds.
    #[must_use]
    pub const fn current_offset(&self) -> u64 {
        self.current_offset
    }

    /// The store key of this cursor, `CONSUMER:CHANNEL:INDEX`.
    #[must_use]
    pub fn cursor_key(&self) -> String {
        cursor_key_for(&self.consumer_id, &self.partition_key)
    }

    /// Move the cursor forward to `new_offset` with a compare-and-swap.
    ///
    /// An equal offset is accepted (a no-op write).
    ///
    /// # Errors
    ///
    /// [`DurabilityError::CursorRegression`] when `new_offset` is below the
    /// current offset (nothing is written), [`DurabilityError::StaleCheckpoint`]
    /// when the store no longer holds the current offset, and store errors.
    pub fn checkpoint(
        &mut self,
        store: &dyn DurableStore,
        new_offset: u64,
    ) -> Result<(), DurabilityError> {
        self.forward(store, None, new_offset)
    }

    /// [`ConsumerCursor::checkpoint`] by this cursor's key parsed already
    /// (`key` must be this cursor's): the store's keyed compare-and-swap,
    /// no key text built or parsed again.
    #[cfg_attr(not(feature = "ops"), allow(dead_code))]
    pub(crate) fn checkpoint_keyed(
        &mut self,
        store: &dyn DurableStore,
        key: &CursorKey,
        new_offset: u64,
    ) -> Result<(), DurabilityError> {
        self.forward(store, Some(key), new_offset)
    }

    /// [`ConsumerCursor::rewind`] by this cursor's key parsed already (as
    /// [`ConsumerCursor::checkpoint_keyed`]).
    #[cfg_attr(not(feature = "ops"), allow(dead_code))]
    pub(crate) fn rewind_keyed(
        &mut self,
        store: &dyn DurableStore,
        key: &CursorKey,
        new_offset: u64,
    ) -> Result<(), DurabilityError> {
        self.swap(store, Some(key), new_offset)
    }

    fn forward(
        &mut self,
        store: &dyn DurableStore,
        key: Option<&CursorKey>,
        new_offset: u64,
    ) -> Result<(), DurabilityError> {
        if new_offset < self.current_offset {
            return Err(DurabilityError::CursorRegression {
                key: self.cursor_key(),
                current: self.current_offset,
                attempted: new_offset,
            });
        }
        self.swap(store, key, new_offset)
    }

    /// Move the cursor to `new_offset` even when that is backwards: an
    /// explicit rewind for a replay. Still compare-and-swap guarded.
    ///
    /// # Errors
    ///
    /// [`DurabilityError::StaleCheckpoint`] when the store no longer holds the
    /// current offset, and store errors.
    pub fn rewind(
        &mut self,
        store: &dyn DurableStore,
        new_offset: u64,
    ) -> Result<(), DurabilityError> {
        self.swap(store, None, new_offset)
    }

    /// Take the offset the store holds now: the recovery after a
    /// [`DurabilityError::StaleCheckpoint`] (someone else moved the cursor).
    ///
    /// The cursor then holds the stored offset, or 0 when the cursor is
    /// absent (the value an absent cursor counts as for compare-and-swap, so
    /// the next checkpoint creates it). What the result says is where the
    /// consumer goes on from: [`Resync::Stored`] is the position to continue
    /// from; on [`Resync::Absent`] (deleted) the consumer chooses whether to
    /// start over, keep its own position, or stop. Nothing is written.
    ///
    /// # Errors
    ///
    /// Store read errors; the cursor is left unchanged.
    pub fn resync(&mut self, store: &dyn DurableStore) -> Result<Resync, DurabilityError> {
        let found = store.read_value(&self.cursor_key())?;
        Ok(self.adopt(found))
    }

    /// Take the value a stale checkpoint of this cursor found, without
    /// reading the store again (see [`ConsumerCursor::resync`]).
    ///
    /// `None`, and the cursor unchanged, unless `err` is a
    /// [`DurabilityError::StaleCheckpoint`] of this cursor's key that
    /// expected the offset this cursor holds (an error from before an earlier
    /// resync is not applied twice). The store may have moved again since the
    /// error; if that happens the next checkpoint is stale again.
    pub fn resync_from(&mut self, err: &DurabilityError) -> Option<Resync> {
        match err {
            DurabilityError::StaleCheckpoint {
                key,
                expected,
                actual,
            } if *expected == self.current_offset && *key == self.cursor_key() => {
                Some(self.adopt(*actual))
            }
            _ => None,
        }
    }

    fn adopt(&mut self, found: Option<u64>) -> Resync {
        self.current_offset = found.unwrap_or(0);
        found.map_or(Resync::Absent, Resync::Stored)
    }

    fn swap(
        &mut self,
        store: &dyn DurableStore,
        key: Option<&CursorKey>,
        new_offset: u64,
    ) -> Result<(), DurabilityError> {
        debug_assert!(key.is_none_or(|k| k.is_text(&self.cursor_key())));
        match key {
            Some(key) => store.cas_keyed(key, self.current_offset, new_offset)?,
            None => store.cas(&self.cursor_key(), self.current_offset, new_offset)?,
        }
        self.current_offset = new_offset;
        Ok(())
    }
}

/// What [`ConsumerCursor::resync`] found in the store.
#[must_use = "on `Absent` the consumer must choose where to go on from"]
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Resync {
    /// The store holds this offset, and so does the cursor now.
    Stored(u64),
    /// The cursor is absent from the store (deleted, or never created). The
    /// cursor now holds 0, so the next checkpoint creates it.
    Absent,
}

impl Resync {
    /// The stored offset, or `None` when the cursor is absent.
    #[must_use]
    pub const fn offset(self) -> Option<u64> {
        match self {
            Self::Stored(offset) => Some(offset),
            Self::Absent => None,
        }
    }
}

/// The store key of a cursor: `CONSUMER:PARTITION_KEY`.
#[must_use]
pub fn cursor_key_for(consumer_id: &str, partition_key: &str) -> String {
    // Built on every checkpoint: one exact allocation, no formatting.
    let mut key = String::with_capacity(consumer_id.len() + 1 + partition_key.len());
    key.push_str(consumer_id);
    key.push(':');
    key.push_str(partition_key);
    key
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::memory::MemoryStore;

    #[test]
    fn key_joins_consumer_and_partition_key() {
        assert_eq!(cursor_key_for("billing", "orders:3"), "billing:orders:3");
        assert_eq!(
            ConsumerCursor::new("billing", "orders:3").cursor_key(),
            "billing:orders:3"
        );
    }

    #[test]
    fn absent_cursor_resumes_at_zero() {
        let store = MemoryStore::new();
        let cursor = ConsumerCursor::resume("billing", "orders:3", &store).unwrap();
        assert_eq!(cursor.current_offset(), 0);
        assert_eq!(store.get("billing:orders:3"), None, "resume writes nothing");
    }

    #[test]
    fn resume_reads_the_stored_offset() {
        let store = MemoryStore::new();
        store.put("billing:orders:3", 41);
        let cursor = ConsumerCursor::resume("billing", "orders:3", &store).unwrap();
        assert_eq!(cursor.current_offset(), 41);
    }

    #[test]
    fn regression_is_refused_and_writes_nothing() {
        let store = MemoryStore::new();
        store.put("billing:orders:3", 10);
        let mut cursor = ConsumerCursor::resume("billing", "orders:3", &store).unwrap();
        let err = cursor.checkpoint(&store, 9).unwrap_err();
        assert!(matches!(
            err,
            DurabilityError::CursorRegression {
                current: 10,
                attempted: 9,
                ..
            }
        ));
        assert_eq!(store.get("billing:orders:3"), Some(10));
        assert_eq!(cursor.current_offset(), 10);
        assert_eq!(store.cas_calls(), 0, "a regression never reaches the store");
    }

    #[test]
    fn stale_cas_reports_the_stored_value() {
        let store = MemoryStore::new();
        store.put("billing:orders:3", 7);
        let mut cursor = ConsumerCursor::from_persisted("billing", "orders:3", 5);
        let err = cursor.checkpoint(&store, 6).unwrap_err();
        match err {
            DurabilityError::StaleCheckpoint {
                key,
                expected,
                actual,
            } => {
                assert_eq!(key, "billing:orders:3");
                assert_eq!(expected, 5);
                assert_eq!(actual, Some(7));
            }
            other => panic!("expected stale, got {other:?}"),
        }
        assert_eq!(store.get("billing:orders:3"), Some(7));
        assert_eq!(
            cursor.current_offset(),
            5,
            "a failed checkpoint keeps the offset"
        );
    }

    #[test]
    fn absent_counts_as_zero_for_cas() {
        let store = MemoryStore::new();
        let mut cursor = ConsumerCursor::new("billing", "orders:3");
        cursor.checkpoint(&store, 3).unwrap();
        assert_eq!(store.get("billing:orders:3"), Some(3));
        let mut other = ConsumerCursor::from_persisted("billing", "orders:4", 1);
        let err = other.checkpoint(&store, 2).unwrap_err();
        assert!(matches!(
            err,
            DurabilityError::StaleCheckpoint { actual: None, .. }
        ));
    }

    #[test]
    fn equal_offset_is_accepted() {
        let store = MemoryStore::new();
        store.put("billing:orders:3", 10);
        let mut cursor = ConsumerCursor::resume("billing", "orders:3", &store).unwrap();
        cursor.checkpoint(&store, 10).unwrap();
        assert_eq!(store.get("billing:orders:3"), Some(10));
        assert_eq!(cursor.current_offset(), 10);
    }

    #[test]
    fn checkpoint_moves_forward() {
        let store = MemoryStore::new();
        let mut cursor = ConsumerCursor::resume("billing", "orders:3", &store).unwrap();
        cursor.checkpoint(&store, 5).unwrap();
        cursor.checkpoint(&store, 8).unwrap();
        assert_eq!(store.get("billing:orders:3"), Some(8));
        assert_eq!(cursor.current_offset(), 8);
    }

    #[test]
    fn resync_takes_the_stored_offset() {
        let store = MemoryStore::new();
        store.put("billing:orders:3", 40);
        let mut cursor = ConsumerCursor::from_persisted("billing", "orders:3", 10);
        assert!(cursor.checkpoint(&store, 11).is_err());
        assert_eq!(cursor.resync(&store).unwrap(), Resync::Stored(40));
        assert_eq!(cursor.current_offset(), 40);
        cursor.checkpoint(&store, 41).unwrap();
        assert_eq!(store.get("billing:orders:3"), Some(41));
    }

    #[test]
    fn resync_of_an_absent_cursor_says_so_and_holds_zero() {
        let store = MemoryStore::new();
        let mut cursor = ConsumerCursor::from_persisted("billing", "orders:3", 10);
        assert_eq!(cursor.resync(&store).unwrap(), Resync::Absent);
        assert_eq!(Resync::Absent.offset(), None);
        assert_eq!(cursor.current_offset(), 0);
        assert_eq!(store.cas_calls(), 0, "a resync writes nothing");
        // The consumer chose to keep its position: the cursor is recreated.
        cursor.checkpoint(&store, 12).unwrap();
        assert_eq!(store.get("billing:orders:3"), Some(12));
    }

    #[test]
    fn resync_from_takes_the_value_the_stale_error_found_once() {
        let store = MemoryStore::new();
        store.put("billing:orders:3", 40);
        let mut cursor = ConsumerCursor::from_persisted("billing", "orders:3", 10);
        let err = cursor.checkpoint(&store, 11).unwrap_err();
        let reads = store.cas_calls();
        assert_eq!(cursor.resync_from(&err), Some(Resync::Stored(40)));
        assert_eq!(cursor.current_offset(), 40);
        assert_eq!(store.cas_calls(), reads);
        // Applied once: after moving on, the old error changes nothing.
        cursor.checkpoint(&store, 45).unwrap();
        assert_eq!(cursor.resync_from(&err), None);
        assert_eq!(cursor.current_offset(), 45);
        // Not a stale error, or another cursor's: nothing.
        let regression = cursor.checkpoint(&store, 1).unwrap_err();
        assert_eq!(cursor.resync_from(&regression), None);
        let mut other = ConsumerCursor::from_persisted("billing", "orders:4", 10);
        assert_eq!(other.resync_from(&err), None);
        assert_eq!(other.current_offset(), 10);
    }

    #[test]
    fn resync_from_an_absent_stale_value_says_absent() {
        let store = MemoryStore::new();
        let mut cursor = ConsumerCursor::from_persisted("billing", "orders:3", 10);
        let err = cursor.checkpoint(&store, 11).unwrap_err();
        assert_eq!(err.stale_actual(), Some(None));
        assert_eq!(cursor.resync_from(&err), Some(Resync::Absent));
        assert_eq!(cursor.current_offset(), 0);
    }

    #[test]
    fn rewind_moves_back_but_stays_guarded() {
        let store = MemoryStore::new();
        store.put("billing:orders:3", 10);
        let mut cursor = ConsumerCursor::resume("billing", "orders:3", &store).unwrap();
        cursor.rewind(&store, 4).unwrap();
        assert_eq!(store.get("billing:orders:3"), Some(4));
        let mut stale = ConsumerCursor::from_persisted("billing", "orders:3", 10);
        assert!(matches!(
            stale.rewind(&store, 2),
            Err(DurabilityError::StaleCheckpoint { .. })
        ));
        assert_eq!(store.get("billing:orders:3"), Some(4));
    }
}
