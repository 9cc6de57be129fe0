//! Open or create a store by its location: the location's backend does it.

use std::time::Duration;

use super::*;

/// Process-wide settings for a short-lived process (one command-line run),
/// made by each backend built in. SQLite's memory statistics are turned
/// off: nothing reads them, and keeping them costs a lock and a counter
/// update on every allocation. SQLite's lookaside (12 KB a connection) and
/// in-memory statement journal (up to 4 MiB) are set as the project's build
/// compiles them in, for builds that do not (docs/performance.md).
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
    for backend in Backend::all() {
        if let Some(built) = &backend.registration().built {
            // SAFETY: the caller's contract is the one each backend's
            // process-wide set-up needs.
            unsafe { (built.prepare_one_shot_process)() };
        }
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
    (location.backend().built(location)?.open)(location, access, busy_timeout)
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
    (location.backend().built(location)?.init)(location, busy_timeout)
}
