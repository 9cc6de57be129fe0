//! Where a store lives, and which backend serves it.

use std::ffi::{OsStr, OsString};
use std::fmt;
use std::path::{Path, PathBuf};

pub use super::backend::Backend;

/// Where a store lives, as given, with the backend that serves it: a file
/// path (SQLite), a `postgres://` / `postgresql://` URL or a libpq
/// `key=value` connection string (PostgreSQL). Shown with any password
/// replaced by `***`.
#[derive(Clone, PartialEq, Eq)]
pub struct StoreLocation {
    backend: Backend,
    given: OsString,
}

impl StoreLocation {
    /// Read a location as given on the command line or in `CURSORCTL_DB`:
    /// the first backend that recognises it serves it (PostgreSQL: a
    /// `postgres://` or `postgresql://` URL, or a libpq `key=value`
    /// connection string, valid or not); anything else is the path of a
    /// SQLite file (a file named like a connection string: `./host=x`).
    #[must_use]
    pub fn parse(input: &OsStr) -> Self {
        let text = input.to_string_lossy();
        let backend = Backend::recognising(&text);
        if backend.registration().is_path {
            Self::of(backend, input)
        } else {
            Self::of(backend, text.into_owned())
        }
    }

    /// A location of `backend`, taken as it is.
    #[must_use]
    pub fn of(backend: Backend, given: impl Into<OsString>) -> Self {
        Self {
            backend,
            given: given.into(),
        }
    }

    /// Refuse a location that names no store its backend could use, before
    /// opening it (SQLite: an empty name, one of only white space, or
    /// `:memory:`, a store that vanishes with the command). Anything else
    /// is checked by the backend as it is read.
    ///
    /// # Errors
    ///
    /// [`StoreError::InvalidLocation`](crate::StoreError::InvalidLocation).
    pub fn check(&self) -> Result<(), crate::StoreError> {
        (self.backend.registration().check)(&self.given).map_err(|detail| {
            crate::StoreError::InvalidLocation {
                location: self.clone(),
                detail: detail.to_owned(),
            }
        })
    }

    /// The backend that serves this location.
    #[must_use]
    pub const fn backend(&self) -> Backend {
        self.backend
    }

    /// The file of a store whose backend keeps it in a file (SQLite).
    #[must_use]
    pub fn path(&self) -> Option<&Path> {
        self.backend
            .registration()
            .is_path
            .then(|| Path::new(&self.given))
    }

    /// The location as given (with any password: never show it).
    #[must_use]
    pub fn as_os_str(&self) -> &OsStr {
        &self.given
    }

    /// The location as given, as text (with any password: never show it);
    /// a path that is not UTF-8 with its other bytes replaced.
    #[must_use]
    pub fn text(&self) -> std::borrow::Cow<'_, str> {
        self.given.to_string_lossy()
    }

    /// The location as users may see it: a path, or a URL whose password
    /// is replaced by `***`.
    #[must_use]
    pub fn redacted(&self) -> String {
        (self.backend.registration().redact)(&self.given)
    }
}

impl From<&Path> for StoreLocation {
    fn from(path: &Path) -> Self {
        Self::of(Backend::SQLITE, path)
    }
}

impl From<PathBuf> for StoreLocation {
    fn from(path: PathBuf) -> Self {
        Self::of(Backend::SQLITE, path)
    }
}

impl From<OsString> for StoreLocation {
    fn from(input: OsString) -> Self {
        Self::parse(&input)
    }
}

impl std::str::FromStr for StoreLocation {
    type Err = std::convert::Infallible;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Ok(Self::parse(OsStr::new(s)))
    }
}

impl fmt::Display for StoreLocation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.redacted())
    }
}

impl fmt::Debug for StoreLocation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple(self.backend.name())
            .field(&self.redacted())
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_that_cannot_be_a_store_file_are_refused() {
        let check = |s: &str| StoreLocation::parse(OsStr::new(s)).check();
        assert!(check("").is_err());
        assert!(check("  \t").is_err());
        assert!(check(":memory:").is_err());
        assert!(check("./:memory:").is_ok());
        assert!(check("cursors.db").is_ok());
        assert!(check("postgres://h/db").is_ok());
    }
}
