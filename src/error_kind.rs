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
    /// The store's data is damaged.
    Corrupt,
    /// The store refused the operation to this user or role.
    PermissionDenied,
    /// The connection to a store server could not be made or was lost.
    Connection,
    /// There is no store at the location (create one with `cursorctl init`).
    Missing,
    /// Something is there, but it is not a cursor store.
    NotACursorStore,
    /// The store was written by a newer version of cursorctl.
    NewerSchema,
    /// The location is malformed or names no possible store (a bad
    /// connection string or parameter); nothing was tried.
    InvalidLocation,
    /// A stored offset is not a valid offset (written by something else).
    InvalidValue,
    /// Any other failure.
    Other,
}

impl StoreErrorKind {
    /// A short name: `busy`, `read-only`, `full`, `io`, `corrupt`,
    /// `permission-denied`, `connection`, `missing`, `not-a-cursor-store`,
    /// `newer-schema`, `invalid-location`, `invalid-value`, `other`.
    #[must_use]
    pub const fn name(self) -> &'static str {
        match self {
            Self::Busy => "busy",
            Self::ReadOnly => "read-only",
            Self::Full => "full",
            Self::Io => "io",
            Self::Corrupt => "corrupt",
            Self::PermissionDenied => "permission-denied",
            Self::Connection => "connection",
            Self::Missing => "missing",
            Self::NotACursorStore => "not-a-cursor-store",
            Self::NewerSchema => "newer-schema",
            Self::InvalidLocation => "invalid-location",
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
    pub const fn kind(&self) -> StoreErrorKind {
        match self {
            Self::Busy => StoreErrorKind::Busy,
            Self::Missing { .. } => StoreErrorKind::Missing,
            Self::NotACursorStore { .. } => StoreErrorKind::NotACursorStore,
            Self::NewerSchema { .. } => StoreErrorKind::NewerSchema,
            Self::InvalidValue { .. } => StoreErrorKind::InvalidValue,
            Self::InvalidLocation { .. } => StoreErrorKind::InvalidLocation,
            Self::Unsupported { .. } => StoreErrorKind::Other,
            Self::Database { kind, .. } => *kind,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_variant_has_a_kind() {
        assert_eq!(StoreError::Busy.kind(), StoreErrorKind::Busy);
        assert!(StoreError::Busy.is_retryable());
        let full = StoreError::Database {
            context: "testing".to_owned(),
            kind: StoreErrorKind::Full,
            source: "disk full".into(),
        };
        assert_eq!(full.kind(), StoreErrorKind::Full);
        assert!(!full.is_retryable());
    }

    #[test]
    fn names_are_distinct() {
        let kinds = [
            StoreErrorKind::Busy,
            StoreErrorKind::ReadOnly,
            StoreErrorKind::Full,
            StoreErrorKind::Io,
            StoreErrorKind::Corrupt,
            StoreErrorKind::PermissionDenied,
            StoreErrorKind::Connection,
            StoreErrorKind::Missing,
            StoreErrorKind::NotACursorStore,
            StoreErrorKind::NewerSchema,
            StoreErrorKind::InvalidLocation,
            StoreErrorKind::InvalidValue,
            StoreErrorKind::Other,
        ];
        let names: std::collections::HashSet<_> = kinds.iter().map(|k| k.to_string()).collect();
        assert_eq!(names.len(), kinds.len());
    }
}
