//! How a [`SqliteStore`] is opened: access and busy timeout, with defaults.

use std::path::Path;
use std::time::Duration;

use super::{Access, InitOutcome, SqliteStore, DEFAULT_BUSY_TIMEOUT};
use crate::error::StoreError;

/// Options for opening a [`SqliteStore`], from [`SqliteStore::options`].
///
/// ```no_run
/// use std::time::Duration;
/// use cursorctl::{Access, SqliteStore};
///
/// # fn main() -> Result<(), cursorctl::StoreError> {
/// // Read and write, waiting up to 5 seconds for another writer's lock.
/// let store = SqliteStore::options().open("cursors.db".as_ref())?;
/// // Read only, waiting up to 30 seconds.
/// let reader = SqliteStore::options()
///     .access(Access::ReadOnly)
///     .busy_timeout(Duration::from_secs(30))
///     .open("cursors.db".as_ref())?;
/// # Ok(()) }
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[must_use]
pub struct SqliteOptions {
    access: Access,
    busy_timeout: Duration,
}

impl Default for SqliteOptions {
    /// Read and write, with a busy timeout of [`DEFAULT_BUSY_TIMEOUT`] (5s).
    fn default() -> Self {
        Self {
            access: Access::ReadWrite,
            busy_timeout: DEFAULT_BUSY_TIMEOUT,
        }
    }
}

impl SqliteOptions {
    /// Read only, or read and write (the default).
    pub const fn access(mut self, access: Access) -> Self {
        self.access = access;
        self
    }

    /// How long a statement waits for another writer's lock before it fails
    /// as [`StoreError::Busy`] (default [`DEFAULT_BUSY_TIMEOUT`], 5s).
    pub const fn busy_timeout(mut self, busy_timeout: Duration) -> Self {
        self.busy_timeout = busy_timeout;
        self
    }

    /// The access that will be asked for.
    #[must_use]
    pub const fn get_access(&self) -> Access {
        self.access
    }

    /// The busy timeout that will be set.
    #[must_use]
    pub const fn get_busy_timeout(&self) -> Duration {
        self.busy_timeout
    }

    /// Open an existing cursor store (see [`SqliteStore::open`]). Never
    /// creates a file.
    ///
    /// # Errors
    ///
    /// As [`SqliteStore::open`].
    pub fn open(self, path: &Path) -> Result<SqliteStore, StoreError> {
        SqliteStore::open(path, self.access, self.busy_timeout)
    }

    /// Create a cursor store, or confirm that one is there (see
    /// [`SqliteStore::init`]); the access option is not used, as creating
    /// needs to write.
    ///
    /// # Errors
    ///
    /// As [`SqliteStore::init`].
    pub fn init(self, path: &Path) -> Result<(SqliteStore, InitOutcome), StoreError> {
        SqliteStore::init(path, self.busy_timeout)
    }
}

impl SqliteStore {
    /// Options to open a store with: read and write, busy timeout 5s.
    pub fn options() -> SqliteOptions {
        SqliteOptions::default()
    }

    /// Change how long statements wait for another writer's lock.
    ///
    /// # Errors
    ///
    /// Store failures.
    pub fn set_busy_timeout(&self, busy_timeout: Duration) -> Result<(), StoreError> {
        self.connection()
            .busy_timeout(busy_timeout.min(crate::store::sqlite_backend::MAX_BUSY_TIMEOUT))
            .map_err(|e| super::sqlite_error("setting the busy timeout", e))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::DurableStore;

    /// A store moves to another thread (one store per thread, or behind a
    /// `Mutex`); it is not shared by reference (not `Sync`).
    #[test]
    fn stores_are_send() {
        fn send<T: Send>() {}
        send::<SqliteStore>();
        send::<crate::MemoryStore>();
        send::<crate::ConsumerCursor>();
        send::<crate::CheckpointDriver>();
        send::<crate::DurabilityError>();
    }

    #[test]
    fn defaults_are_read_write_and_five_seconds() {
        let options = SqliteStore::options();
        assert_eq!(options.get_access(), Access::ReadWrite);
        assert_eq!(options.get_busy_timeout(), Duration::from_secs(5));
        let options = options
            .access(Access::ReadOnly)
            .busy_timeout(Duration::from_millis(10));
        assert_eq!(options.get_access(), Access::ReadOnly);
        assert_eq!(options.get_busy_timeout(), Duration::from_millis(10));
    }

    #[test]
    fn options_open_what_they_say() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("cursors.db");
        assert_eq!(
            SqliteStore::options().open(&path).unwrap_err().kind(),
            crate::StoreErrorKind::Missing
        );
        let (_, outcome) = SqliteStore::options().init(&path).unwrap();
        assert_eq!(outcome, InitOutcome::Created);
        let writer = SqliteStore::options().open(&path).unwrap();
        writer.cas("billing:orders:3", 0, 4).unwrap();
        writer.set_busy_timeout(Duration::from_secs(1)).unwrap();
        let reader = SqliteStore::options()
            .access(Access::ReadOnly)
            .open(&path)
            .unwrap();
        assert_eq!(reader.read_value("billing:orders:3").unwrap(), Some(4));
        let err = reader.cas("billing:orders:3", 4, 5).unwrap_err();
        assert_eq!(err.store_kind(), Some(crate::StoreErrorKind::ReadOnly));
        assert!(!err.is_retryable());
    }
}
