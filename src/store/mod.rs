//! Where cursors live: the [`DurableStore`] trait and its implementations.

pub mod memory;
pub mod sqlite;
mod sqlite_options;

pub use sqlite_options::SqliteOptions;

use crate::error::DurabilityError;

/// A key-value store of cursor offsets with compare-and-swap.
///
/// Keys are cursor keys (`CONSUMER:CHANNEL:INDEX`); values are offsets. An
/// absent key reads as offset 0 for the purpose of compare-and-swap.
pub trait DurableStore {
    /// Read the offset stored under `key` (`None`: absent).
    ///
    /// # Errors
    ///
    /// Store failures, an invalid key, or a stored value that is not a valid
    /// offset.
    fn read_value(&self, key: &str) -> Result<Option<u64>, DurabilityError>;

    /// Write `new` under `key` only if the stored value equals `expected`
    /// (absent counts as 0).
    ///
    /// # Errors
    ///
    /// [`DurabilityError::StaleCheckpoint`] with the value found when it does
    /// not equal `expected`; store failures.
    fn cas(&self, key: &str, expected: u64, new: u64) -> Result<(), DurabilityError>;
}

/// A store shared between threads behind a lock (`Arc<Mutex<SqliteStore>>`):
/// each call holds the lock for one read or one compare-and-swap. A lock
/// poisoned by a panicking holder is taken anyway: every write is its own
/// transaction, so a panic leaves nothing half-written.
impl<S: DurableStore + ?Sized> DurableStore for std::sync::Mutex<S> {
    fn read_value(&self, key: &str) -> Result<Option<u64>, DurabilityError> {
        self.lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .read_value(key)
    }

    fn cas(&self, key: &str, expected: u64, new: u64) -> Result<(), DurabilityError> {
        self.lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .cas(key, expected, new)
    }
}

/// A view of a store that checks every compare-and-swap but writes nothing:
/// the engine of `--dry-run`.
pub struct DryRun<'a> {
    inner: &'a dyn DurableStore,
    staged: std::cell::RefCell<std::collections::HashMap<String, u64>>,
}

impl<'a> DryRun<'a> {
    /// Wrap a store.
    #[must_use]
    pub fn new(inner: &'a dyn DurableStore) -> Self {
        Self {
            inner,
            staged: std::cell::RefCell::default(),
        }
    }
}

impl DurableStore for DryRun<'_> {
    fn read_value(&self, key: &str) -> Result<Option<u64>, DurabilityError> {
        if let Some(v) = self.staged.borrow().get(key) {
            return Ok(Some(*v));
        }
        self.inner.read_value(key)
    }

    fn cas(&self, key: &str, expected: u64, new: u64) -> Result<(), DurabilityError> {
        let actual = self.read_value(key)?;
        if actual.unwrap_or(0) != expected {
            return Err(DurabilityError::StaleCheckpoint {
                key: key.to_owned(),
                expected,
                actual,
            });
        }
        if actual != Some(new) {
            self.staged.borrow_mut().insert(key.to_owned(), new);
        }
        Ok(())
    }
}
