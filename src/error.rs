pub use crate::error_kind::StoreErrorKind;
use crate::key::KeyError;
use crate::store::StoreLocation;

/// Everything that can go wrong while reading or moving a cursor.
#[derive(Debug, thiserror::Error)]
pub enum DurabilityError {
    /// The new offset is below the cursor's current offset; nothing was written.
    ///
    /// The check is made against the offset the cursor holds (the value it
    /// last read from or wrote to the store), before the store is touched.
    #[error("cursor regression refused on {key}: offset {attempted} is below the current offset {current}")]
    CursorRegression {
        /// The cursor key.
        key: String,
        /// The offset the cursor holds: the value it last read from or wrote
        /// to the store (what the compare-and-swap would have expected).
        current: u64,
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
    /// A checkpoint through a lease was refused: the lease it carries is
    /// not the cursor's live lease of that epoch (it expired, was broken,
    /// or another owner acquired it since). Nothing was written: the holder
    /// must stop processing, acquire the lease again and resynchronise.
    #[error("checkpoint on {key} fenced: {detail}; nothing was written")]
    Fenced {
        /// The cursor key.
        key: String,
        /// The epoch the checkpoint carried.
        epoch: u64,
        /// Why, as the store found it.
        detail: String,
    },
    /// A lease could not be acquired: another owner holds a live lease.
    #[error("the lease on {key} is held by {owner} until {expires_at} (store-clock ms since the Unix epoch)")]
    LeaseHeld {
        /// The cursor key.
        key: String,
        /// Who holds it.
        owner: String,
        /// When it expires (store-clock ms).
        expires_at: i64,
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

impl DurabilityError {
    /// Whether the same call may succeed later with nothing changed: the
    /// store was busy (another writer held the lock past the busy timeout).
    ///
    /// A stale checkpoint is not retryable: the cursor must be resynchronised
    /// first (see [`ConsumerCursor::resync`](crate::ConsumerCursor::resync)).
    #[must_use]
    pub fn is_retryable(&self) -> bool {
        matches!(self, Self::Store(e) if e.is_retryable())
    }

    /// Whether the store was busy (see [`DurabilityError::is_retryable`]).
    #[must_use]
    pub const fn is_busy(&self) -> bool {
        matches!(self, Self::Store(e) if e.is_busy())
    }

    /// Whether a compare-and-swap found another value than it expected
    /// (someone else moved the cursor).
    #[must_use]
    pub const fn is_stale(&self) -> bool {
        matches!(self, Self::StaleCheckpoint { .. })
    }

    /// Whether a checkpoint through a lease was refused as fenced (see
    /// [`DurabilityError::Fenced`]).
    #[must_use]
    pub const fn is_fenced(&self) -> bool {
        matches!(self, Self::Fenced { .. })
    }

    /// Whether a lease could not be acquired because another owner holds
    /// it.
    #[must_use]
    pub const fn is_lease_held(&self) -> bool {
        matches!(self, Self::LeaseHeld { .. })
    }

    /// Whether a checkpoint was refused for going backwards.
    #[must_use]
    pub const fn is_regression(&self) -> bool {
        matches!(self, Self::CursorRegression { .. })
    }

    /// The value a stale checkpoint found in the store: `Some(Some(offset))`,
    /// `Some(None)` when the cursor was absent (deleted), and `None` when
    /// this is not a stale checkpoint.
    #[must_use]
    pub const fn stale_actual(&self) -> Option<Option<u64>> {
        match self {
            Self::StaleCheckpoint { actual, .. } => Some(*actual),
            _ => None,
        }
    }

    /// The store failure behind this error, if it is one.
    #[must_use]
    pub const fn store_error(&self) -> Option<&StoreError> {
        match self {
            Self::Store(e) => Some(e),
            _ => None,
        }
    }

    /// The class of the store failure behind this error, if it is one.
    #[must_use]
    pub fn store_kind(&self) -> Option<StoreErrorKind> {
        self.store_error().map(StoreError::kind)
    }
}

fn describe_actual(actual: Option<u64>) -> String {
    actual.map_or_else(
        || "nothing: the cursor does not exist".to_owned(),
        |v| format!("{v}"),
    )
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
    /// The location cannot be used as given: a malformed connection
    /// string, a bad parameter in it, a name that cannot be a store file.
    /// Nothing was connected to or created.
    #[error("invalid store location {location}: {detail}")]
    InvalidLocation {
        /// The location (shown with any password replaced by `***`).
        location: StoreLocation,
        /// What is wrong with it (never a password).
        detail: String,
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
    /// Whether the store stayed locked past the busy timeout.
    #[must_use]
    pub const fn is_busy(&self) -> bool {
        matches!(self, Self::Busy)
    }

    /// Whether retrying later may succeed with nothing changed (the store
    /// was busy).
    #[must_use]
    pub const fn is_retryable(&self) -> bool {
        self.is_busy()
    }
}
