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
            Self::ConnectionLost { .. } => StoreErrorKind::Connection,
            Self::Database { kind, .. } => *kind,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::WriteOutcome;
    use crate::store::StoreLocation;

    /// Every kind, in the order of the declaration, with its name. The
    /// match of [`position`] has no wildcard: a kind added to the enum
    /// does not compile until it is placed there, and the test below then
    /// fails until it is listed here.
    const KINDS: [(StoreErrorKind, &str); 13] = [
        (StoreErrorKind::Busy, "busy"),
        (StoreErrorKind::ReadOnly, "read-only"),
        (StoreErrorKind::Full, "full"),
        (StoreErrorKind::Io, "io"),
        (StoreErrorKind::Corrupt, "corrupt"),
        (StoreErrorKind::PermissionDenied, "permission-denied"),
        (StoreErrorKind::Connection, "connection"),
        (StoreErrorKind::Missing, "missing"),
        (StoreErrorKind::NotACursorStore, "not-a-cursor-store"),
        (StoreErrorKind::NewerSchema, "newer-schema"),
        (StoreErrorKind::InvalidLocation, "invalid-location"),
        (StoreErrorKind::InvalidValue, "invalid-value"),
        (StoreErrorKind::Other, "other"),
    ];

    const fn position(kind: StoreErrorKind) -> usize {
        match kind {
            StoreErrorKind::Busy => 0,
            StoreErrorKind::ReadOnly => 1,
            StoreErrorKind::Full => 2,
            StoreErrorKind::Io => 3,
            StoreErrorKind::Corrupt => 4,
            StoreErrorKind::PermissionDenied => 5,
            StoreErrorKind::Connection => 6,
            StoreErrorKind::Missing => 7,
            StoreErrorKind::NotACursorStore => 8,
            StoreErrorKind::NewerSchema => 9,
            StoreErrorKind::InvalidLocation => 10,
            StoreErrorKind::InvalidValue => 11,
            StoreErrorKind::Other => 12,
        }
    }

    #[test]
    fn every_kind_is_listed_once_with_its_name() {
        for (i, (kind, name)) in KINDS.iter().enumerate() {
            assert_eq!(position(*kind), i, "{kind:?} is listed out of place");
            assert_eq!(kind.name(), *name);
            assert_eq!(kind.to_string(), *name);
        }
        let names: std::collections::HashSet<_> = KINDS.iter().map(|(_, n)| n).collect();
        assert_eq!(names.len(), KINDS.len(), "two kinds share a name");
    }

    /// Which variant an error is. No wildcard: a variant added to
    /// [`StoreError`] does not compile until it is placed here, and
    /// [`every_variant_has_its_kind`] then fails until [`one_of_each`]
    /// makes one.
    const fn variant(e: &StoreError) -> usize {
        match e {
            StoreError::Busy => 0,
            StoreError::Missing { .. } => 1,
            StoreError::NotACursorStore { .. } => 2,
            StoreError::NewerSchema { .. } => 3,
            StoreError::InvalidLocation { .. } => 4,
            StoreError::Unsupported { .. } => 5,
            StoreError::InvalidValue { .. } => 6,
            StoreError::ConnectionLost { .. } => 7,
            StoreError::Database { .. } => 8,
        }
    }

    /// One error of every variant, with the kind and whether it is
    /// retryable.
    fn one_of_each() -> Vec<(StoreError, StoreErrorKind, bool)> {
        let location = || StoreLocation::of(crate::store::Backend::SQLITE, "cursors.db");
        vec![
            (StoreError::Busy, StoreErrorKind::Busy, true),
            (
                StoreError::Missing {
                    location: location(),
                },
                StoreErrorKind::Missing,
                false,
            ),
            (
                StoreError::NotACursorStore {
                    location: location(),
                    detail: "another application's file".to_owned(),
                },
                StoreErrorKind::NotACursorStore,
                false,
            ),
            (
                StoreError::NewerSchema {
                    location: location(),
                    found: 99,
                    supported: 1,
                },
                StoreErrorKind::NewerSchema,
                false,
            ),
            (
                StoreError::InvalidLocation {
                    location: location(),
                    detail: "a bad parameter".to_owned(),
                },
                StoreErrorKind::InvalidLocation,
                false,
            ),
            (
                StoreError::Unsupported {
                    location: location(),
                    detail: "not in this build".to_owned(),
                },
                StoreErrorKind::Other,
                false,
            ),
            (
                StoreError::InvalidValue {
                    key: "billing:orders:3".to_owned(),
                    value: "text 'x'".to_owned(),
                },
                StoreErrorKind::InvalidValue,
                false,
            ),
            (
                StoreError::ConnectionLost {
                    context: "testing".to_owned(),
                    outcome: WriteOutcome::RolledBack,
                    source: "reset by peer".into(),
                },
                StoreErrorKind::Connection,
                true,
            ),
            (
                StoreError::Database {
                    context: "testing".to_owned(),
                    kind: StoreErrorKind::Full,
                    source: "disk full".into(),
                },
                StoreErrorKind::Full,
                false,
            ),
        ]
    }

    #[test]
    fn every_variant_has_its_kind() {
        let all = one_of_each();
        let mut made: Vec<usize> = all.iter().map(|(e, _, _)| variant(e)).collect();
        made.sort_unstable();
        assert_eq!(
            made,
            (0..=8).collect::<Vec<_>>(),
            "one error of each variant"
        );
        for (error, kind, retryable) in &all {
            assert_eq!(error.kind(), *kind, "{error}");
            assert_eq!(error.is_retryable(), *retryable, "{error}");
        }
        // A database failure carries whichever kind it was given.
        for (kind, _) in KINDS {
            let error = StoreError::Database {
                context: "testing".to_owned(),
                kind,
                source: "failure".into(),
            };
            assert_eq!(error.kind(), kind);
        }
    }
}
