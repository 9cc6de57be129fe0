//! The records commands print: cursors, changes, plans and history.

use std::io;

use cursorctl::key::{write_cursor_key, CursorKey};
use cursorctl::store::{CursorHeadRow, CursorRow, HistoryRow};

use super::output::{Field, Record};

/// A cursor as printed: `{key, consumer, partition_key, channel, partition,
/// offset, exists, updated_at, head, lag}` (`head` and `lag` null when no
/// head is known). Its buffers are reused across rows.
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
    head: Option<u64>,
    owner: Option<String>,
    lease_expires_at: Option<i64>,
}

impl CursorRecord {
    /// The fields, in output order.
    pub const FIELDS: &'static [&'static str] = &[
        "key",
        "consumer",
        "partition_key",
        "channel",
        "partition",
        "offset",
        "exists",
        "updated_at",
        "head",
        "lag",
        "owner",
        "lease_expires_at",
    ];

    /// The table columns that are shown only when a row has a value.
    pub const OPTIONAL_COLUMNS: &'static [&'static str] = &["head", "lag", "owner"];

    /// Fill from a stored cursor joined with its partition's head and its
    /// live lease.
    pub fn fill_with_head(&mut self, row: &CursorHeadRow) -> &Self {
        self.fill(&row.cursor);
        self.head = row.head;
        self.set_lease(row.lease_owner.as_deref(), row.lease_expires_at);
        self
    }

    /// Set the cursor's live lease (`None`: none).
    pub fn set_lease(&mut self, owner: Option<&str>, expires_at: Option<i64>) {
        match owner {
            Some(owner) => {
                let buf = self.owner.get_or_insert_with(String::new);
                buf.clear();
                buf.push_str(owner);
                self.lease_expires_at = expires_at;
            }
            None => {
                self.owner = None;
                self.lease_expires_at = None;
            }
        }
    }

    /// Set the head of the cursor's partition.
    pub const fn set_head(&mut self, head: Option<u64>) {
        self.head = head;
    }

    /// Fill from a stored cursor.
    pub fn fill(&mut self, row: &CursorRow) -> &Self {
        // Built by hand: `write!` costs more than the rest of the row.
        self.key.clear();
        self.key.push_str(&row.consumer);
        self.key.push(':');
        self.key.push_str(&row.channel);
        self.key.push(':');
        self.key.push_str(itoa::Buffer::new().format(row.partition));
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
        self.head = None;
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
            head: None,
            owner: None,
            lease_expires_at: None,
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
        visit("updated_at", Field::Time(self.updated_at))?;
        visit("head", Field::OptU64(self.head))?;
        visit(
            "lag",
            Field::OptU64(cursorctl::heads::lag(self.offset, self.head)),
        )?;
        visit("owner", Field::OptStr(self.owner.as_deref()))?;
        visit("lease_expires_at", Field::Time(self.lease_expires_at))
    }

    fn table_columns(&self) -> &'static [&'static str] {
        &[
            "consumer",
            "partition_key",
            "offset",
            "head",
            "lag",
            "owner",
            "updated_at",
        ]
    }

    fn value(&self) -> Field<'_> {
        Field::U64(self.offset)
    }
}

/// A change as printed: `{id, key, consumer, partition_key, old_offset,
/// new_offset, delta, status, dry_run}`.
pub use cursorctl::ops::change::Change as ChangeRecord;

/// The fields of a change record, in output order.
pub const CHANGE_FIELDS: &[&str] = &[
    "id",
    "key",
    "consumer",
    "partition_key",
    "old_offset",
    "new_offset",
    "delta",
    "status",
    "dry_run",
];

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

/// A recorded change as `history` prints it: `{id, at, key, consumer,
/// partition_key, old_offset, new_offset, command, reason, user, batch}`.
pub struct HistoryRecord<'a> {
    row: &'a HistoryRow,
    key: &'a str,
    /// Show the proven role (PostgreSQL stores).
    with_role: bool,
}

impl HistoryRecord<'_> {
    /// The fields, in output order.
    pub const FIELDS: &'static [&'static str] = &[
        "id",
        "at",
        "key",
        "consumer",
        "partition_key",
        "old_offset",
        "new_offset",
        "command",
        "reason",
        "user",
        "batch",
    ];

    /// The fields with the proven role (PostgreSQL), in output order.
    pub const FIELDS_WITH_ROLE: &'static [&'static str] = &[
        "id",
        "at",
        "key",
        "consumer",
        "partition_key",
        "old_offset",
        "new_offset",
        "command",
        "reason",
        "user",
        "role",
        "batch",
    ];
}

impl<'a> HistoryRecord<'a> {
    /// Wrap a row, writing its key into `buf` (reused across rows).
    pub fn new(row: &'a HistoryRow, buf: &'a mut String) -> Self {
        buf.clear();
        let _ = write_cursor_key(buf, &row.consumer, &row.channel, row.partition);
        Self {
            row,
            key: buf,
            with_role: false,
        }
    }

    /// Show the proven role too (a store with roles: PostgreSQL).
    #[must_use]
    pub const fn with_role(mut self, with_role: bool) -> Self {
        self.with_role = with_role;
        self
    }
}

impl Record for HistoryRecord<'_> {
    fn fields(
        &self,
        visit: &mut dyn FnMut(&'static str, Field<'_>) -> io::Result<()>,
    ) -> io::Result<()> {
        let row = self.row;
        visit("id", Field::I64(row.id))?;
        visit("at", Field::Time(Some(row.at)))?;
        visit("key", Field::Str(self.key))?;
        visit("consumer", Field::Str(&row.consumer))?;
        visit(
            "partition_key",
            Field::Str(&self.key[row.consumer.len() + 1..]),
        )?;
        visit("old_offset", Field::OptU64(row.old_offset))?;
        visit("new_offset", Field::OptU64(row.new_offset))?;
        visit("command", Field::Str(&row.command))?;
        visit("reason", Field::OptStr(row.reason.as_deref()))?;
        visit("user", Field::Str(&row.user))?;
        if self.with_role {
            visit("role", Field::OptStr(row.role.as_deref()))?;
        }
        visit("batch", Field::OptI64(row.batch))
    }

    fn table_columns(&self) -> &'static [&'static str] {
        // In field order: a table shows the columns in the order visited.
        if self.with_role {
            return &[
                "id",
                "at",
                "key",
                "old_offset",
                "new_offset",
                "command",
                "reason",
                "user",
                "role",
                "batch",
            ];
        }
        &[
            "id",
            "at",
            "key",
            "old_offset",
            "new_offset",
            "command",
            "reason",
            "user",
            "batch",
        ]
    }

    fn value(&self) -> Field<'_> {
        Field::OptU64(self.row.new_offset)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use cursorctl::ops::Status;

    fn names(record: &dyn Record) -> Vec<&'static str> {
        let mut names = Vec::new();
        record
            .fields(&mut |name, _| {
                names.push(name);
                Ok(())
            })
            .unwrap();
        names
    }

    #[test]
    fn field_lists_match_the_records() {
        let key = CursorKey::parse("b:o:1").unwrap();
        assert_eq!(names(&CursorRecord::absent(&key)), CursorRecord::FIELDS);
        let change = ChangeRecord {
            id: None,
            key: key.clone(),
            old_offset: None,
            new_offset: Some(1),
            status: Status::Created,
            dry_run: false,
        };
        assert_eq!(names(&change), CHANGE_FIELDS);
        let row = HistoryRow {
            id: 1,
            at: 0,
            consumer: "b".into(),
            channel: "o".into(),
            partition: 1,
            old_offset: None,
            new_offset: Some(1),
            command: "set".into(),
            reason: None,
            user: "u".into(),
            batch: None,
            role: None,
        };
        let mut buf = String::new();
        assert_eq!(
            names(&HistoryRecord::new(&row, &mut buf)),
            HistoryRecord::FIELDS
        );
        assert_eq!(
            names(&HistoryRecord::new(&row, &mut buf).with_role(true)),
            HistoryRecord::FIELDS_WITH_ROLE
        );
    }
}
