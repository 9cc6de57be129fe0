//! The backends, each known by one [`Registration`]: which locations are
//! its own, how it opens and creates a store, what it can do and its
//! limits. A backend's registration lives in its folder (`register.rs`),
//! built with or without the backend itself, so that a location of a
//! backend left out of the build is recognised and refused as such, never
//! taken for another backend's.

use std::ffi::OsStr;
use std::fmt;
use std::time::Duration;

use super::{Access, InitOutcome, Store, StoreLocation};
use crate::error::StoreError;

use super::REGISTERED;

/// The schema version of the library: the one whose tables every backend's
/// newest schema holds (leases and write ids: version 4). Every backend's
/// own schema version equals it (a test).
pub const SCHEMA_VERSION: i64 = 4;

/// What a backend can do, for the code shared by every backend to choose
/// how it works (a bulk write reads and writes in chunks where the backend
/// does these in one go). A view of a store that is no backend's (memory)
/// can do none of it.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Capabilities {
    /// [`StoreRead::read_ahead`](super::StoreRead::read_ahead) reads many
    /// cursors in one query (PostgreSQL); without it each cursor is as
    /// cheap to read when needed (SQLite, in the process).
    pub reads_ahead: bool,
    /// [`WriteTxn::apply_changes`](super::WriteTxn::apply_changes) writes
    /// many changes as one set.
    pub writes_changes_as_set: bool,
    /// The history records the database role of each change (`history
    /// --role`).
    pub records_roles: bool,
}

/// Open an existing store of a backend (never create one).
pub(crate) type OpenFn = fn(&StoreLocation, Access, Duration) -> Result<Box<dyn Store>, StoreError>;

/// Create a store of a backend, or confirm that one is there.
pub(crate) type InitFn =
    fn(&StoreLocation, Duration) -> Result<(Box<dyn Store>, InitOutcome), StoreError>;

/// How a built backend opens and creates stores.
pub(crate) struct Built {
    /// Open an existing store (never create one).
    pub(crate) open: OpenFn,
    /// Create a store, or confirm that one is there.
    pub(crate) init: InitFn,
    /// Process-wide settings for a short-lived process, before any store
    /// is opened.
    pub(crate) prepare_one_shot_process: unsafe fn(),
}

/// Everything the shared code knows of one backend.
pub struct Registration {
    /// The backend's name as users see it, and its cargo feature.
    pub(crate) name: &'static str,
    /// The schema version the backend writes.
    pub(crate) schema_version: i64,
    /// The longest busy timeout the backend takes.
    pub(crate) max_busy_timeout: Duration,
    /// Why that is the limit, for messages.
    pub(crate) max_busy_timeout_why: &'static str,
    pub(crate) capabilities: Capabilities,
    /// Whether a location is meant for this backend (valid or not: the
    /// backend refuses a malformed one when it opens it).
    pub(crate) recognises: fn(&str) -> bool,
    /// Whether its locations are file paths.
    pub(crate) is_path: bool,
    /// Why a location of this backend cannot name a store, found before
    /// opening it.
    pub(crate) check: fn(&OsStr) -> Result<(), &'static str>,
    /// The location as users may see it: every secret replaced by `***`.
    pub(crate) redact: fn(&OsStr) -> String,
    /// `None` where the backend is not in this build.
    pub(crate) built: Option<Built>,
}

/// A kind of store: one registered backend.
#[derive(Clone, Copy)]
pub struct Backend(&'static Registration);

impl Backend {
    /// Every backend this library knows, in this build or not.
    pub fn all() -> impl Iterator<Item = Self> {
        REGISTERED.iter().map(|r| Self(r))
    }

    pub(crate) const fn of(registration: &'static Registration) -> Self {
        Self(registration)
    }

    /// The backend a location given as text is for.
    pub(crate) fn recognising(location: &str) -> Self {
        Self::all()
            .find(|b| (b.0.recognises)(location))
            .unwrap_or(Self(REGISTERED[REGISTERED.len() - 1]))
    }

    pub(crate) const fn registration(self) -> &'static Registration {
        self.0
    }

    /// The backend's name as users see it (and its cargo feature).
    #[must_use]
    pub const fn name(self) -> &'static str {
        self.0.name
    }

    /// The schema version the backend writes.
    #[must_use]
    pub const fn schema_version(self) -> i64 {
        self.0.schema_version
    }

    /// What the backend can do.
    #[must_use]
    pub const fn capabilities(self) -> Capabilities {
        self.0.capabilities
    }

    /// The longest busy timeout the backend takes; a longer one is cut to
    /// it when a store is opened.
    #[must_use]
    pub const fn max_busy_timeout(self) -> Duration {
        self.0.max_busy_timeout
    }

    /// Why [`Backend::max_busy_timeout`] is the limit.
    #[must_use]
    pub const fn max_busy_timeout_why(self) -> &'static str {
        self.0.max_busy_timeout_why
    }

    /// Refuse a busy timeout above [`Backend::max_busy_timeout`] (where a
    /// front end would rather say so than have it cut).
    ///
    /// # Errors
    ///
    /// A message naming the value, the limit and why.
    pub fn check_busy_timeout(self, busy_timeout: Duration) -> Result<(), String> {
        let limit = self.0.max_busy_timeout;
        if busy_timeout <= limit {
            return Ok(());
        }
        Err(format!(
            "busy timeout {} is above the limit {}ms ({}) of a {} store: {}",
            humantime::format_duration(busy_timeout),
            limit.as_millis(),
            humantime::format_duration(limit),
            self.0.name,
            self.0.max_busy_timeout_why
        ))
    }

    /// Whether this build has the backend (its cargo feature).
    #[must_use]
    pub const fn is_built(self) -> bool {
        self.0.built.is_some()
    }

    /// The backend's opener, or why there is none.
    pub(crate) fn built(self, location: &StoreLocation) -> Result<&'static Built, StoreError> {
        self.0
            .built
            .as_ref()
            .ok_or_else(|| StoreError::Unsupported {
                location: location.clone(),
                detail: format!(
                    "this build has no {} store (the `{}` feature)",
                    self.0.name, self.0.name
                ),
            })
    }
}

/// Backends are told apart by their names, which are distinct (a test).
impl PartialEq for Backend {
    fn eq(&self, other: &Self) -> bool {
        self.0.name == other.0.name
    }
}

impl Eq for Backend {}

impl fmt::Debug for Backend {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.0.name)
    }
}

impl fmt::Display for Backend {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.0.name)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_backend_writes_the_library_schema_version() {
        for backend in Backend::all() {
            assert_eq!(backend.schema_version(), SCHEMA_VERSION, "{backend}");
        }
        assert_eq!(
            SCHEMA_VERSION,
            super::super::LEASES_VERSION.max(super::super::WRITE_IDS_VERSION)
        );
    }

    #[test]
    fn busy_timeouts_stop_at_what_the_backend_takes() {
        for backend in Backend::all() {
            let limit = backend.max_busy_timeout();
            assert_eq!(backend.check_busy_timeout(limit), Ok(()));
            let err = backend
                .check_busy_timeout(limit + Duration::from_millis(1))
                .unwrap_err();
            assert!(err.contains(&format!("{}ms", limit.as_millis())), "{err}");
            assert!(err.contains(backend.name()), "{err}");
        }
        assert_eq!(
            Backend::SQLITE.max_busy_timeout(),
            Duration::from_millis(2_147_483_647)
        );
    }

    #[test]
    fn backends_have_distinct_names_and_the_last_takes_any_location() {
        let names: Vec<_> = Backend::all().map(Backend::name).collect();
        let mut unique = names.clone();
        unique.sort_unstable();
        unique.dedup();
        assert_eq!(names.len(), unique.len(), "{names:?}");
        let last = Backend::all().last().unwrap();
        assert_eq!(Backend::recognising("some file.db"), last);
    }
}
