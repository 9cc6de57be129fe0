//! What a write did to one cursor: the change a command reports.

use crate::key::{ChannelId, ConsumerId, CursorKey, KeyError, PartitionKey};
use crate::store::HistoryRow;

/// What a write did to one cursor.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Status {
    /// The cursor did not exist.
    Created,
    /// It moved forward.
    Advanced,
    /// It moved backward.
    Rewound,
    /// It stayed where it was.
    Unchanged,
    /// It was removed (it reads as 0 again).
    Removed,
}

impl Status {
    /// The word for it in output.
    #[must_use]
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Created => "created",
            Self::Advanced => "advanced",
            Self::Rewound => "rewound",
            Self::Unchanged => "unchanged",
            Self::Removed => "removed",
        }
    }

    /// Classify a move from `old` (absent: `None`) to `new` (removed: `None`).
    #[must_use]
    pub fn of(old: Option<u64>, new: Option<u64>) -> Self {
        match (old, new) {
            (None, _) => Self::Created,
            (Some(_), None) => Self::Removed,
            (Some(o), Some(n)) if n > o => Self::Advanced,
            (Some(o), Some(n)) if n < o => Self::Rewound,
            _ => Self::Unchanged,
        }
    }
}

/// A change to one cursor, as an operation reports it.
#[derive(Clone, Debug)]
pub struct Change {
    /// The history id (`None`: nothing recorded, as for a dry run or a no-op).
    pub id: Option<i64>,
    /// The cursor.
    pub key: CursorKey,
    /// Its offset before (`None`: it did not exist).
    pub old_offset: Option<u64>,
    /// Its offset after (`None`: it was removed).
    pub new_offset: Option<u64>,
    /// What happened.
    pub status: Status,
    /// Whether this is the plan of a dry run (nothing was kept).
    pub dry_run: bool,
}

impl Change {
    /// What the change did, in words: `advanced from 5 to 6`.
    #[must_use]
    pub fn describe(&self) -> String {
        let (old, new) = (self.old_offset.unwrap_or(0), self.new_offset.unwrap_or(0));
        match self.status {
            Status::Created => format!("created at {new}"),
            Status::Removed => format!("removed at {old}"),
            Status::Unchanged => format!("unchanged at {new}"),
            Status::Advanced | Status::Rewound => {
                format!("{} from {old} to {new}", self.status.as_str())
            }
        }
    }

    /// New minus old offset, where an absent cursor counts as 0.
    #[must_use]
    pub fn delta(&self) -> i64 {
        let as_i64 = |v: Option<u64>| i64::try_from(v.unwrap_or(0)).unwrap_or(i64::MAX);
        as_i64(self.new_offset) - as_i64(self.old_offset)
    }

    /// The change of a recorded history row, to show it: its key as stored,
    /// even with names cursorctl refuses (the removal of such a cursor by
    /// `delete --raw-key`).
    ///
    /// # Errors
    ///
    /// None today; kept fallible for the callers.
    pub fn from_history(row: &HistoryRow) -> Result<Self, KeyError> {
        Ok(Self {
            id: Some(row.id),
            key: CursorKey::stored(&row.consumer, &row.channel, row.partition),
            old_offset: row.old_offset,
            new_offset: row.new_offset,
            status: Status::of(row.old_offset, row.new_offset),
            dry_run: false,
        })
    }

    /// The same change as the plan of a dry run: no id was kept.
    #[must_use]
    pub fn planned(mut self) -> Self {
        self.id = None;
        self.dry_run = true;
        self
    }
}

/// The cursor key of a recorded change.
///
/// # Errors
///
/// A stored name that is not valid (written by something else).
pub fn key_of(row: &HistoryRow) -> Result<CursorKey, KeyError> {
    Ok(CursorKey::new(
        ConsumerId::new(row.consumer.as_str())?,
        PartitionKey::new(ChannelId::new(row.channel.as_str())?, row.partition),
    ))
}

/// The key of a listed cursor, refused as a store failure when the store
/// holds a name cursorctl cannot take (written by something else).
///
/// # Errors
///
/// [`ErrorKind::Store`](super::ErrorKind::Store) naming the bad name.
pub fn named(row: &crate::store::CursorRow) -> Result<CursorKey, super::OpError> {
    CursorKey::parse(&row.key()).map_err(|e| {
        super::Refusal::new(
            super::ErrorKind::Store,
            format!("the store holds a cursor cursorctl cannot name: {e}"),
        )
        .into()
    })
}
