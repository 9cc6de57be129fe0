//! A backend-neutral classification of store failures.

use std::fmt;

use crate::error::StoreError;

/// What kind of store failure a [`StoreError`] is, the same for every
/// backend, so a consumer can decide what to do without depending on the
/// database crate behind the store.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum StoreErrorKind {
    /// Another writer held the lock past the busy timeout; nothing was
    /// written. Retrying later may succeed.
    Busy,
    /// The store cannot be written: opened read-only, or a read-only file,
    /// directory or file system.
    ReadOnly,
    /// The disk (or the database's size limit) is full.
    Full,
    /// An I/O error from the operating system.
    Io,
    /// The store file is damaged.
    Corrupt,
    /// There is no store at the location (create one with `cursorctl init`).
    Missing,
    /// Something is there, but it is not a cursor store.
    NotACursorStore,
    /// The store was written by a newer version of cursorctl.
    NewerSchema,
    /// A stored offset is not a valid offset (written by something else).
    InvalidValue,
    /// Any other failure.
    Other,
}

impl StoreErrorKind {
    /// A short name: `busy`, `read-only`, `full`, `io`, `corrupt`,
    /// `missing`, `not-a-cursor-store`, `newer-schema`, `invalid-value`,
    /// `other`.
    #[must_use]
    pub const fn name(self) -> &'static str {
        match self {
            Self::Busy => "busy",
            Self::ReadOnly => "read-only",
            Self::Full => "full",
            Self::Io => "io",
            Self::Corrupt => "corrupt",
            Self::Missing => "missing",
            Self::NotACursorStore => "not-a-cursor-store",
            Self::NewerSchema => "newer-schema",
            Self::InvalidValue => "invalid-value",
            Self::Other => "other",
        }
    }
}

impl fmt::Display for StoreErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl StoreError {
    /// What kind of failure this is, whatever the backend.
    #[must_use]
    pub fn kind(&self) -> StoreErrorKind {
        match self {
            Self::Busy => StoreErrorKind::Busy,
            Self::Missing { .. } => StoreErrorKind::Missing,
            Self::NotACursorStore { .. } => StoreErrorKind::NotACursorStore,
            Self::NewerSchema { .. } => StoreErrorKind::NewerSchema,
            Self::InvalidValue { .. } => StoreErrorKind::InvalidValue,
            Self::Database { source, .. } => sqlite_kind(source),
        }
    }
}

/// The kind of a SQLite failure, from its result code.
fn sqlite_kind(err: &rusqlite::Error) -> StoreErrorKind {
    use rusqlite::ErrorCode;
    match err.sqlite_error_code() {
        Some(ErrorCode::DatabaseBusy | ErrorCode::DatabaseLocked) => StoreErrorKind::Busy,
        Some(ErrorCode::ReadOnly | ErrorCode::PermissionDenied) => StoreErrorKind::ReadOnly,
        Some(ErrorCode::DiskFull | ErrorCode::TooBig) => StoreErrorKind::Full,
        Some(ErrorCode::SystemIoFailure | ErrorCode::CannotOpen) => StoreErrorKind::Io,
        Some(ErrorCode::DatabaseCorrupt) => StoreErrorKind::Corrupt,
        Some(ErrorCode::NotADatabase) => StoreErrorKind::NotACursorStore,
        _ => StoreErrorKind::Other,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sqlite(code: std::os::raw::c_int) -> StoreError {
        StoreError::Database {
            context: "testing".to_owned(),
            source: rusqlite::Error::SqliteFailure(rusqlite::ffi::Error::new(code), None),
        }
    }

    #[test]
    fn sqlite_codes_are_classified() {
        use rusqlite::ffi;
        assert_eq!(
            sqlite(ffi::SQLITE_READONLY).kind(),
            StoreErrorKind::ReadOnly
        );
        assert_eq!(sqlite(ffi::SQLITE_FULL).kind(), StoreErrorKind::Full);
        assert_eq!(sqlite(ffi::SQLITE_IOERR).kind(), StoreErrorKind::Io);
        assert_eq!(sqlite(ffi::SQLITE_IOERR_WRITE).kind(), StoreErrorKind::Io);
        assert_eq!(sqlite(ffi::SQLITE_CORRUPT).kind(), StoreErrorKind::Corrupt);
        assert_eq!(
            sqlite(ffi::SQLITE_NOTADB).kind(),
            StoreErrorKind::NotACursorStore
        );
        assert_eq!(sqlite(ffi::SQLITE_MISUSE).kind(), StoreErrorKind::Other);
        assert_eq!(StoreError::Busy.kind(), StoreErrorKind::Busy);
        assert!(StoreError::Busy.is_retryable());
        assert!(!sqlite(ffi::SQLITE_FULL).is_retryable());
    }

    #[test]
    fn names_are_distinct() {
        let kinds = [
            StoreErrorKind::Busy,
            StoreErrorKind::ReadOnly,
            StoreErrorKind::Full,
            StoreErrorKind::Io,
            StoreErrorKind::Corrupt,
            StoreErrorKind::Missing,
            StoreErrorKind::NotACursorStore,
            StoreErrorKind::NewerSchema,
            StoreErrorKind::InvalidValue,
            StoreErrorKind::Other,
        ];
        let names: std::collections::HashSet<_> = kinds.iter().map(|k| k.to_string()).collect();
        assert_eq!(names.len(), kinds.len());
    }
}
