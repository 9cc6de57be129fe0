//! The records commands print: cursors and changes.

use std::fmt::Write as _;
use std::io;

use cursorctl::key::CursorKey;
use cursorctl::store::sqlite::CursorRow;

use super::output::{Field, Record};

/// A cursor as printed: `{key, consumer, partition_key, channel, partition,
/// offset, exists, updated_at}`. Its buffers are reused across rows.
#[derive(Default)]
pub struct CursorRecord {
    key: String,
    partition_key: String,
    consumer_len: usize,
    channel: String,
    partition: u32,
    offset: u64,
    exists: bool,
    updated_at: Option<i64>,
}

impl CursorRecord {
    /// Fill from a stored cursor.
    pub fn fill(&mut self, row: &CursorRow) -> &Self {
        self.key.clear();
        let _ = write!(
            self.key,
            "{}:{}:{}",
            row.consumer, row.channel, row.partition
        );
        self.consumer_len = row.consumer.len();
        self.partition_key.clear();
        self.partition_key
            .push_str(&self.key[self.consumer_len + 1..]);
        self.channel.clear();
        self.channel.push_str(&row.channel);
        self.partition = row.partition;
        self.offset = row.offset;
        self.exists = true;
        self.updated_at = row.updated_at;
        self
    }

    /// A cursor that does not exist: it reads as offset 0.
    pub fn absent(key: &CursorKey) -> Self {
        let pk = key.partition_key();
        Self {
            key: key.to_string(),
            partition_key: pk.to_string(),
            consumer_len: key.consumer().as_str().len(),
            channel: pk.channel().as_str().to_owned(),
            partition: pk.index(),
            offset: 0,
            exists: false,
            updated_at: None,
        }
    }
}

impl Record for CursorRecord {
    fn fields(
        &self,
        visit: &mut dyn FnMut(&'static str, Field<'_>) -> io::Result<()>,
    ) -> io::Result<()> {
        visit("key", Field::Str(&self.key))?;
        visit("consumer", Field::Str(&self.key[..self.consumer_len]))?;
        visit("partition_key", Field::Str(&self.partition_key))?;
        visit("channel", Field::Str(&self.channel))?;
        visit("partition", Field::U64(u64::from(self.partition)))?;
        visit("offset", Field::U64(self.offset))?;
        visit("exists", Field::Bool(self.exists))?;
        visit("updated_at", Field::Time(self.updated_at))
    }

    fn table_columns(&self) -> &'static [&'static str] {
        &["consumer", "partition_key", "offset", "updated_at"]
    }

    fn value(&self) -> Field<'_> {
        Field::U64(self.offset)
    }
}

/// What a write did to one cursor.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Status {
    Created,
    Advanced,
    Rewound,
    Unchanged,
    Removed,
}

impl Status {
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

/// A change as printed: `{id, key, consumer, partition_key, old_offset,
/// new_offset, delta, status, dry_run}`.
#[derive(Clone, Debug)]
pub struct ChangeRecord {
    /// The history id (`None`: nothing recorded, as for a dry run or a no-op).
    pub id: Option<i64>,
    pub key: CursorKey,
    pub old_offset: Option<u64>,
    pub new_offset: Option<u64>,
    pub status: Status,
    pub dry_run: bool,
}

impl ChangeRecord {
    /// New minus old offset, where an absent cursor counts as 0.
    pub fn delta(&self) -> i64 {
        let as_i64 = |v: Option<u64>| i64::try_from(v.unwrap_or(0)).unwrap_or(i64::MAX);
        as_i64(self.new_offset) - as_i64(self.old_offset)
    }
}

impl Record for ChangeRecord {
    fn fields(
        &self,
        visit: &mut dyn FnMut(&'static str, Field<'_>) -> io::Result<()>,
    ) -> io::Result<()> {
        let pk = self.key.partition_key().to_string();
        visit("id", Field::OptI64(self.id))?;
        visit("key", Field::Str(&self.key.to_string()))?;
        visit("consumer", Field::Str(self.key.consumer().as_str()))?;
        visit("partition_key", Field::Str(&pk))?;
        visit("old_offset", Field::OptU64(self.old_offset))?;
        visit("new_offset", Field::OptU64(self.new_offset))?;
        visit("delta", Field::I64(self.delta()))?;
        visit("status", Field::Str(self.status.as_str()))?;
        visit("dry_run", Field::Bool(self.dry_run))
    }

    fn table_columns(&self) -> &'static [&'static str] {
        &["id", "key", "old_offset", "new_offset", "delta", "status"]
    }

    fn value(&self) -> Field<'_> {
        Field::OptU64(self.new_offset)
    }
}
