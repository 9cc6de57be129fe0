//! An in-memory [`DurableStore`], for tests and simulations.

use std::cell::{Cell, RefCell};
use std::collections::HashMap;

use super::DurableStore;
use crate::error::{DurabilityError, StoreError};
use crate::parse::MAX_OFFSET;

/// A [`DurableStore`] held in memory. Not shared between threads.
#[derive(Debug, Default)]
pub struct MemoryStore {
    values: RefCell<HashMap<String, u64>>,
    log: RefCell<Vec<(String, u64)>>,
    keep_log: Cell<bool>,
    cas_calls: Cell<u64>,
    writes: Cell<u64>,
    fail_next: Cell<bool>,
}

impl MemoryStore {
    /// An empty store that logs every write (see [`MemoryStore::writes`]).
    #[must_use]
    pub fn new() -> Self {
        let store = Self::default();
        store.keep_log.set(true);
        store
    }

    /// An empty store that keeps no write log: memory stays flat however
    /// many writes it takes.
    #[must_use]
    pub fn without_log() -> Self {
        Self::default()
    }

    /// Set a value directly, bypassing compare-and-swap (another writer).
    pub fn put(&self, key: &str, value: u64) {
        self.values.borrow_mut().insert(key.to_owned(), value);
    }

    /// Remove a value directly, bypassing compare-and-swap (an operator
    /// deleting the cursor).
    pub fn remove(&self, key: &str) {
        self.values.borrow_mut().remove(key);
    }

    /// The value under `key`.
    #[must_use]
    pub fn get(&self, key: &str) -> Option<u64> {
        self.values.borrow().get(key).copied()
    }

    /// Every value written to `key` by compare-and-swap, in order (only when
    /// the store keeps a log).
    #[must_use]
    pub fn writes(&self, key: &str) -> Vec<u64> {
        self.log
            .borrow()
            .iter()
            .filter(|(k, _)| k == key)
            .map(|(_, v)| *v)
            .collect()
    }

    /// How many compare-and-swaps were attempted.
    #[must_use]
    pub fn cas_calls(&self) -> u64 {
        self.cas_calls.get()
    }

    /// How many compare-and-swaps succeeded (store writes).
    #[must_use]
    pub fn write_count(&self) -> u64 {
        self.writes.get()
    }

    /// Make the next compare-and-swap fail with a store error.
    pub fn fail_next_cas(&self) {
        self.fail_next.set(true);
    }
}

impl DurableStore for MemoryStore {
    fn read_value(&self, key: &str) -> Result<Option<u64>, DurabilityError> {
        Ok(self.get(key))
    }

    fn cas(&self, key: &str, expected: u64, new: u64) -> Result<(), DurabilityError> {
        self.cas_calls.set(self.cas_calls.get() + 1);
        if self.fail_next.replace(false) {
            return Err(StoreError::Busy.into());
        }
        if new > MAX_OFFSET {
            return Err(DurabilityError::OffsetTooLarge { offset: new });
        }
        let mut values = self.values.borrow_mut();
        // Look the key up once and overwrite in place: a long simulation
        // writes the same key millions of times and should not allocate.
        match values.get_mut(key) {
            Some(value) if *value == expected => *value = new,
            None if expected == 0 => {
                values.insert(key.to_owned(), new);
            }
            actual => {
                return Err(DurabilityError::StaleCheckpoint {
                    key: key.to_owned(),
                    expected,
                    actual: actual.copied(),
                })
            }
        }
        self.writes.set(self.writes.get() + 1);
        if self.keep_log.get() {
            self.log.borrow_mut().push((key.to_owned(), new));
        }
        Ok(())
    }
}
