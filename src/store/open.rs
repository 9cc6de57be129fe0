//! Open or create a store by its location: the backend is picked here.

use std::time::Duration;

use super::*;

/// Process-wide settings for a short-lived process (one command-line run).
/// SQLite's memory statistics are turned off: nothing reads them, and
/// keeping them costs a lock and a counter update on every allocation.
/// SQLite's lookaside (12 KB a connection) and in-memory statement journal
/// (up to 4 MiB) are set as the project's build compiles them in, for
/// builds that do not (docs/performance.md).
///
/// # Safety
///
/// SQLite's process-wide configuration (`sqlite3_config`) is not
/// thread-safe: call this once, at the start of the process, before any
/// other thread exists and before any store or other SQLite connection is
/// opened in the process (a configuration given after SQLite has started
/// is refused by it, and one given while another thread uses SQLite is a
/// data race).
pub unsafe fn prepare_one_shot_process() {
    #[cfg(feature = "sqlite")]
    // SAFETY: the caller's contract is the one this needs.
    unsafe {
        sqlite::prepare_one_shot_process();
    }
}

/// Open an existing cursor store; never creates one.
///
/// # Errors
///
/// [`StoreError::Missing`] when there is none, and every reason the
/// location cannot be used as a cursor store.
pub fn open(
    location: &StoreLocation,
    access: Access,
    busy_timeout: Duration,
) -> Result<Box<dyn Store>, StoreError> {
    location.check()?;
    match location {
        #[cfg(feature = "sqlite")]
        StoreLocation::Sqlite(path) => Ok(Box::new(sqlite::SqliteStore::open(
            path,
            access,
            busy_timeout,
        )?)),
        #[cfg(feature = "postgres")]
        StoreLocation::Postgres(_) => Ok(Box::new(postgres::PostgresStore::open(
            location,
            access,
            busy_timeout,
        )?)),
        #[allow(unreachable_patterns)]
        _ => Err(not_built(location)),
    }
}

/// Create a cursor store at `location`, or confirm that one is there.
///
/// # Errors
///
/// [`StoreError::NotACursorStore`], [`StoreError::NewerSchema`], and
/// failures to create it.
pub fn init(
    location: &StoreLocation,
    busy_timeout: Duration,
) -> Result<(Box<dyn Store>, InitOutcome), StoreError> {
    location.check()?;
    match location {
        #[cfg(feature = "sqlite")]
        StoreLocation::Sqlite(path) => {
            let (store, outcome) = sqlite::SqliteStore::init(path, busy_timeout)?;
            Ok((Box::new(store), outcome))
        }
        #[cfg(feature = "postgres")]
        StoreLocation::Postgres(_) => {
            let (store, outcome) = postgres::PostgresStore::init(location, busy_timeout)?;
            Ok((Box::new(store), outcome))
        }
        #[allow(unreachable_patterns)]
        _ => Err(not_built(location)),
    }
}

/// The location's backend is not in this build (a cargo feature).
#[allow(dead_code)]
fn not_built(location: &StoreLocation) -> StoreError {
    StoreError::Unsupported {
        location: location.clone(),
        detail: format!(
            "this build has no {} store (the `{}` feature)",
            location.backend().name(),
            location.backend().name()
        ),
    }
}
