//! What an operation's failure is: one typed error with a kind, a message,
//! a hint and structured details, so that a front end decides exit codes
//! and renders errors without reading message text.

use std::fmt;

use crate::{DurabilityError, KeyError, OffsetError, StoreError, StoreErrorKind};

/// The class of an operation's failure. A front end maps each to what it
/// reports (the command line: to its exit code, in one place).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ErrorKind {
    /// Bad arguments or input values; nothing written.
    Usage,
    /// The stored offset differs from the expected one; nothing written.
    Stale,
    /// The new offset is below the stored one; nothing written.
    Regression,
    /// The cursor (change, batch, snapshot, head) is absent where it must
    /// exist.
    NotFound,
    /// The store stayed locked past the busy timeout; nothing written.
    Busy,
    /// The store is unusable (missing, foreign, newer, read-only, full,
    /// failing).
    Store,
    /// Stopped by a signal after rolling back (the signal's number).
    Interrupted(u8),
    /// A bug.
    Internal,
}

impl ErrorKind {
    /// Every kind, for exhaustive checks (one `Interrupted` stands for all).
    pub const ALL: [Self; 8] = [
        Self::Usage,
        Self::Stale,
        Self::Regression,
        Self::NotFound,
        Self::Busy,
        Self::Store,
        Self::Interrupted(2),
        Self::Internal,
    ];

    /// The kind of a store failure.
    #[must_use]
    pub fn of_store(e: &StoreError) -> Self {
        if e.is_busy() {
            Self::Busy
        } else if e.kind() == StoreErrorKind::InvalidLocation {
            Self::Usage
        } else {
            Self::Store
        }
    }

    /// The kind of a library error.
    #[must_use]
    pub fn of_durability(e: &DurabilityError) -> Self {
        match e {
            DurabilityError::CursorRegression { .. } => Self::Regression,
            DurabilityError::StaleCheckpoint { .. }
            | DurabilityError::Fenced { .. }
            | DurabilityError::LeaseHeld { .. } => Self::Stale,
            DurabilityError::ConfigError(_)
            | DurabilityError::InvalidKey(_)
            | DurabilityError::OffsetTooLarge { .. } => Self::Usage,
            DurabilityError::Store(s) => Self::of_store(s),
            #[allow(unreachable_patterns)]
            _ => Self::Store,
        }
    }
}

/// A structured detail of a failure (the fields of a JSON error).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Detail {
    /// No value.
    Null,
    /// A whole number.
    Int(i64),
    /// A whole number that may exceed `i64`.
    UInt(u64),
    /// Text.
    Text(String),
    /// Yes or no.
    Bool(bool),
    /// Records, each a list of named details (a bulk write's failing
    /// lines).
    List(Vec<Details>),
}

/// Named details, in order.
pub type Details = Vec<(String, Detail)>;

impl From<u64> for Detail {
    fn from(v: u64) -> Self {
        Self::UInt(v)
    }
}

impl From<i64> for Detail {
    fn from(v: i64) -> Self {
        Self::Int(v)
    }
}

impl From<bool> for Detail {
    fn from(v: bool) -> Self {
        Self::Bool(v)
    }
}

impl From<&str> for Detail {
    fn from(v: &str) -> Self {
        Self::Text(v.to_owned())
    }
}

impl From<String> for Detail {
    fn from(v: String) -> Self {
        Self::Text(v)
    }
}

impl<T: Into<Detail>> From<Option<T>> for Detail {
    fn from(v: Option<T>) -> Self {
        v.map_or(Self::Null, Into::into)
    }
}

/// A refusal for a condition the store and the cursor do not name (a
/// missing cursor, a rewind without a reason, failing lines of a batch):
/// its kind, what happened, what to do next, and details. A front end may
/// refuse with kinds of its own (`K`: the command line's exit classes).
#[derive(Clone, Debug)]
pub struct Refusal<K = ErrorKind> {
    /// The class of the failure.
    pub kind: K,
    /// What happened.
    pub message: String,
    /// What to do next, when the kind's usual advice does not fit.
    pub hint: Option<&'static str>,
    /// Structured details.
    pub details: Details,
}

impl<K> Refusal<K> {
    /// A refusal of a kind.
    pub fn new(kind: K, message: impl Into<String>) -> Self {
        Self {
            kind,
            message: message.into(),
            hint: None,
            details: Vec::new(),
        }
    }

    /// With a hint of what to do next.
    #[must_use]
    pub fn with_hint(mut self, hint: &'static str) -> Self {
        self.hint = Some(hint);
        self
    }

    /// With a named detail.
    #[must_use]
    pub fn with(mut self, field: &str, value: impl Into<Detail>) -> Self {
        self.details.push((field.to_owned(), value.into()));
        self
    }
}

impl<K: From<ErrorKind>> Refusal<K> {
    /// Bad arguments or input values.
    pub fn usage(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::Usage.into(), message)
    }
}

impl<K> fmt::Display for Refusal<K> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl<K: fmt::Debug> std::error::Error for Refusal<K> {}

/// The failure of an operation.
#[derive(Debug, thiserror::Error)]
pub enum OpError {
    /// Refused by the operation (see [`Refusal`]).
    #[error(transparent)]
    Refused(#[from] Refusal),
    /// Refused by the cursor's checks (stale, regression, an offset above
    /// the limit), or a store failure on the way.
    #[error(transparent)]
    Cursor(#[from] DurabilityError),
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// A name the store holds that cursorctl cannot take.
    #[error(transparent)]
    Key(#[from] KeyError),
    /// An offset that is not one.
    #[error(transparent)]
    Offset(#[from] OffsetError),
}

impl OpError {
    /// The class of the failure.
    #[must_use]
    pub fn kind(&self) -> ErrorKind {
        match self {
            Self::Refused(r) => r.kind,
            Self::Cursor(e) => ErrorKind::of_durability(e),
            Self::Store(e) => ErrorKind::of_store(e),
            Self::Key(_) | Self::Offset(_) => ErrorKind::Usage,
        }
    }

    /// A hint chosen by the operation, if any.
    #[must_use]
    pub const fn hint(&self) -> Option<&'static str> {
        match self {
            Self::Refused(r) => r.hint,
            _ => None,
        }
    }

    /// The structured details: those of a refusal, or the cursor, expected
    /// and actual offsets of a stale or refused checkpoint.
    #[must_use]
    pub fn details(&self) -> Details {
        let d = |k: &str, v: Detail| (k.to_owned(), v);
        match self {
            Self::Refused(r) => r.details.clone(),
            Self::Cursor(DurabilityError::CursorRegression {
                key,
                current,
                attempted,
            }) => vec![
                d("key", Detail::from(key.as_str())),
                d("current", Detail::from(*current)),
                d("attempted", Detail::from(*attempted)),
            ],
            Self::Cursor(DurabilityError::StaleCheckpoint {
                key,
                expected,
                actual,
            }) => vec![
                d("key", Detail::from(key.as_str())),
                d("expected", Detail::from(*expected)),
                d("actual", Detail::from(*actual)),
            ],
            Self::Cursor(DurabilityError::Fenced { key, epoch, .. }) => vec![
                d("key", Detail::from(key.as_str())),
                d("epoch", Detail::from(*epoch)),
            ],
            Self::Cursor(DurabilityError::LeaseHeld {
                key,
                owner,
                expires_at,
            }) => vec![
                d("key", Detail::from(key.as_str())),
                d("owner", Detail::from(owner.as_str())),
                d("expires_at", Detail::from(*expires_at)),
            ],
            _ => Vec::new(),
        }
    }

    /// The class of the store's failure, when the store failed.
    #[must_use]
    pub fn store_kind(&self) -> Option<StoreErrorKind> {
        match self {
            Self::Store(e) | Self::Cursor(DurabilityError::Store(e)) => Some(e.kind()),
            _ => None,
        }
    }

    /// Whether the store failed in its database (whose own error is then
    /// the last cause worth saying: its sources repeat it).
    #[must_use]
    pub const fn is_database_failure(&self) -> bool {
        matches!(
            self,
            Self::Store(StoreError::Database { .. })
                | Self::Cursor(DurabilityError::Store(StoreError::Database { .. }))
        )
    }

    /// Whether the failure is about one item of a batch (which is listed
    /// while the batch goes on being checked), rather than about the store
    /// as a whole (which ends the batch): a store failure ends it, but for
    /// a stored value that is not an offset.
    #[must_use]
    pub fn is_item_failure(&self) -> bool {
        let invalid_value = matches!(
            self,
            Self::Store(StoreError::InvalidValue { .. })
                | Self::Cursor(DurabilityError::Store(StoreError::InvalidValue { .. }))
        );
        match self.kind() {
            ErrorKind::Store => invalid_value,
            ErrorKind::Busy | ErrorKind::Internal | ErrorKind::Interrupted(_) => false,
            _ => true,
        }
    }

    /// Whether a compare-and-swap found the cursor moved.
    #[must_use]
    pub fn is_stale(&self) -> bool {
        self.kind() == ErrorKind::Stale
    }
}

/// A result of an operation.
pub type OpResult<T> = Result<T, OpError>;

impl From<crate::heads::HeadError> for OpError {
    fn from(e: crate::heads::HeadError) -> Self {
        use crate::heads::HeadError;
        match e {
            HeadError::Regression {
                partition_key,
                current,
                attempted,
            } => Refusal::new(
                ErrorKind::Regression,
                format!("head regression refused on {partition_key}: head {attempted} is below the recorded head {current}"),
            )
            .with("partition_key", partition_key)
            .with("current", current)
            .with("attempted", attempted)
            .with_hint("heads move forward only: use `head set --allow-rewind --reason TEXT` when the log was truncated or recreated")
            .into(),
            HeadError::Stale { .. } => Refusal::new(ErrorKind::Stale, e.to_string()).into(),
            HeadError::TooLarge { .. } => Refusal::usage(e.to_string()).into(),
            HeadError::NoHeads { version } => Refusal::new(
                ErrorKind::Store,
                format!("the store has schema version {version}, which keeps no heads: run `cursorctl init` to upgrade it"),
            )
            .into(),
            HeadError::Store(e) => e.into(),
        }
    }
}
