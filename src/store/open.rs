//! Open or create a store by its location: the location's backend does it.

use std::time::Duration;

use super::*;

/// Process-wide settings for a short-lived process (one command-line run):
/// call once, first, before any store is opened. SQLite's memory statistics
/// are turned off: nothing reads them, and keeping them costs a lock and a
/// counter update on every allocation.
pub fn prepare_one_shot_process() {
    for backend in Backend::all() {
        if let Some(built) = &backend.registration().built {
            (built.prepare_one_shot_process)();
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
