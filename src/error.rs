use crate::key::KeyError;
use crate::store::StoreLocation;

/// Everything that can go wrong while reading or moving a cursor.
#[derive(Debug, thiserror::Error)]
pub enum DurabilityError {
    /// The new offset is below the cursor's current offset; nothing was written.
    #[error("cursor regression refused on {key}: offset {attempted} is below the current offset {stored}")]
    CursorRegression {
        /// The cursor key.
        key: String,
        /// The offset the cursor holds.
        stored: u64,
        /// The offset that was asked for.
        attempted: u64,
    },
    /// The stored offset is not the expected one; nothing was written.
    #[error(
        "stale checkpoint on {key}: expected offset {expected}, but the store holds {}",
        describe_actual(*actual)
    )]
    StaleCheckpoint {
        /// The cursor key.
        key: String,
        /// The offset the compare-and-swap expected.
        expected: u64,
        /// The offset the store holds (`None`: the cursor is absent).
        actual: Option<u64>,
    },
    /// The offset is above the largest a store can hold.
    #[error("offset {offset} is above the limit 9223372036854775807")]
    OffsetTooLarge {
        /// The offset that was asked for.
        offset: u64,
    },
    /// A checkpoint policy or other setting is invalid.
    #[error("configuration error: {0}")]
    ConfigError(String),
    /// A cursor key, consumer or partition key is malformed.
    #[error(transparent)]
    InvalidKey(#[from] KeyError),
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

fn describe_actual(actual: Option<u64>) -> String {
    actual.map_or_else(
        || "nothing: the cursor does not exist".to_owned(),
        |v| format!("{v}"),
    )
}

/// What kind of failure of the store's own machinery a
/// [`StoreError::Database`] is, whatever the backend: a consumer decides
/// what to do from this, without depending on the backend's crate.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum StoreErrorKind {
    /// The store cannot be written: a read-only file, folder or database.
    ReadOnly,
    /// The disk (or the database's quota) is full.
    Full,
    /// The operating system or the network failed to read or write.
    Io,
    /// The store's data is damaged.
    Corrupt,
    /// The store refused the operation to this user or role.
    PermissionDenied,
    /// The connection to a store server could not be made or was lost.
    Connection,
    /// Anything else.
    Other,
}

impl StoreErrorKind {
    /// A short name, as used in messages and JSON.
    #[must_use]
    pub const fn name(self) -> &'static str {
        match self {
            Self::ReadOnly => "read-only",
            Self::Full => "full",
            Self::Io => "io",
            Self::Corrupt => "corrupt",
            Self::PermissionDenied => "permission-denied",
            Self::Connection => "connection",
            Self::Other => "other",
        }
    }
}

/// A failure of the durable store itself.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The store stayed locked by another writer past the busy timeout.
    #[error("store is busy: another writer held the lock past the busy timeout; nothing was written, retry")]
    Busy,
    /// No store exists at the location.
    #[error("no cursor store at {location}: create one with `cursorctl init`")]
    Missing {
        /// Where the store was looked for.
        location: StoreLocation,
    },
    /// The location holds something that is not a cursor store.
    #[error("{location} is not a cursor store: {detail}")]
    NotACursorStore {
        /// The location.
        location: StoreLocation,
        /// What was found instead.
        detail: String,
    },
    /// The store was written by a newer version of this tool.
    #[error(
        "{location} has schema version {found}, newer than the version this build supports ({supported}); use a newer cursorctl"
    )]
    NewerSchema {
        /// The location.
        location: StoreLocation,
        /// Its schema version.
        found: i64,
        /// The newest version this build knows.
        supported: i64,
    },
    /// This build cannot open a store of that kind.
    #[error("{location}: {detail}")]
    Unsupported {
        /// The location.
        location: StoreLocation,
        /// Why.
        detail: String,
    },
    /// A stored offset is not a valid offset (written by something else).
    #[error(
        "the store holds an invalid offset for {key}: {value}; it is reported, not overwritten"
    )]
    InvalidValue {
        /// The cursor key.
        key: String,
        /// A description of the stored value.
        value: String,
    },
    /// Any other failure of the underlying database (read-only, disk full,
    /// I/O error, corruption, ...); [`StoreError::kind`] says which. Its
    /// message is what was being done; the backend's words are its
    /// [`source`](std::error::Error::source).
    #[error("{context}")]
    Database {
        /// What was being done.
        context: String,
        /// What kind of failure it is.
        kind: StoreErrorKind,
        /// The backend's own error.
        #[source]
        source: Box<dyn std::error::Error + Send + Sync>,
    },
}

impl StoreError {
    /// Whether retrying later may succeed (the store was busy).
    #[must_use]
    pub const fn is_busy(&self) -> bool {
        matches!(self, Self::Busy)
    }

    /// The kind of a database failure (`None` for the other cases, which
    /// have their own variants).
    #[must_use]
    pub const fn kind(&self) -> Option<StoreErrorKind> {
        match self {
            Self::Database { kind, .. } => Some(*kind),
            _ => None,
        }
    }
}
