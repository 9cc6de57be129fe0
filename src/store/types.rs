//! The rows, filters and inputs every store backend speaks in.

use crate::key::{CursorKey, PartitionKey};

/// One cursor as stored.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct CursorRow {
    /// The consumer.
    pub consumer: String,
    /// The channel.
    pub channel: String,
    /// The partition index.
    pub partition: u32,
    /// The offset.
    pub offset: u64,
    /// When the cursor was last written, in milliseconds since the Unix
    /// epoch (`None` when the stored value is not a time).
    pub updated_at: Option<i64>,
}

impl CursorRow {
    /// The cursor key.
    #[must_use]
    pub fn key(&self) -> String {
        key_text(&self.consumer, &self.channel, self.partition)
    }

    /// The partition key.
    #[must_use]
    pub fn partition_key(&self) -> String {
        partition_key_text(&self.channel, self.partition)
    }
}

/// `CONSUMER:CHANNEL:INDEX` from a stored row's columns.
fn key_text(consumer: &str, channel: &str, partition: u32) -> String {
    let mut key = String::with_capacity(consumer.len() + channel.len() + 12);
    let _ = crate::key::write_cursor_key(&mut key, consumer, channel, partition);
    key
}

/// `CHANNEL:INDEX` from a stored row's columns.
fn partition_key_text(channel: &str, partition: u32) -> String {
    let mut key = String::with_capacity(channel.len() + 11);
    let _ = crate::key::write_partition_key(&mut key, channel, partition);
    key
}

/// Which cursors a listing returns.
#[derive(Clone, Debug, Default)]
pub struct CursorFilter {
    /// Only this consumer.
    pub consumer: Option<String>,
    /// Only this channel.
    pub channel: Option<String>,
    /// Only cursors not written since this time (milliseconds since the
    /// Unix epoch).
    pub updated_before: Option<i64>,
}

/// A change to record in the history.
#[derive(Clone, Copy, Debug)]
pub struct ChangeInput<'a> {
    /// The cursor.
    pub key: &'a CursorKey,
    /// The offset before (`None`: the cursor did not exist).
    pub old_offset: Option<u64>,
    /// The offset after (`None`: the cursor was removed).
    pub new_offset: Option<u64>,
    /// The command that made the change (`set`, `advance`, ...).
    pub command: &'a str,
    /// Why, as the operator said.
    pub reason: Option<&'a str>,
    /// Who.
    pub user: &'a str,
    /// The batch the change belongs to.
    pub batch: Option<i64>,
}

/// One recorded change.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HistoryRow {
    /// The change id.
    pub id: i64,
    /// When, in milliseconds since the Unix epoch.
    pub at: i64,
    /// The consumer.
    pub consumer: String,
    /// The channel.
    pub channel: String,
    /// The partition index.
    pub partition: u32,
    /// The offset before (`None`: the cursor did not exist).
    pub old_offset: Option<u64>,
    /// The offset after (`None`: the cursor was removed).
    pub new_offset: Option<u64>,
    /// The command that made the change.
    pub command: String,
    /// Why.
    pub reason: Option<String>,
    /// Who (as the writer says).
    pub user: String,
    /// The batch, if the change was part of one.
    pub batch: Option<i64>,
    /// The database role that wrote the change, proven by the server
    /// (PostgreSQL; `None` on SQLite, where there are no roles).
    pub role: Option<String>,
}

impl HistoryRow {
    /// The cursor key.
    #[must_use]
    pub fn key(&self) -> String {
        key_text(&self.consumer, &self.channel, self.partition)
    }

    /// The partition key.
    #[must_use]
    pub fn partition_key(&self) -> String {
        partition_key_text(&self.channel, self.partition)
    }
}

/// One consumer's cursors, summed up by the store (`describe`).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ConsumerSummary {
    /// The consumer.
    pub consumer: String,
    /// How many cursors it has.
    pub cursors: u64,
    /// On how many channels.
    pub channels: u64,
    /// The lowest offset of its cursors.
    pub lowest_offset: u64,
    /// The highest offset of its cursors.
    pub highest_offset: u64,
    /// The oldest `updated_at` of its cursors (ms since the epoch).
    pub oldest_update: Option<i64>,
    /// The newest `updated_at` of its cursors.
    pub newest_update: Option<i64>,
    /// How many of its cursors were not written since the filter's time.
    pub idle: u64,
    /// How many of its cursors have a head (schema version 3).
    pub with_head: u64,
    /// The sum of the lags of its cursors that have a head.
    pub total_lag: u64,
    /// The highest lag of its cursors (`None`: none has a head).
    pub highest_lag: Option<u64>,
    /// How many of its cursors have lag and were written since the filter's
    /// stall time (status `behind`).
    pub behind: u64,
    /// How many of its cursors have lag and were not written since the
    /// filter's stall time (status `stalled`).
    pub stalled: u64,
    /// How many of its cursors have a live lease (schema version 4).
    pub live_leases: u64,
}

/// Which consumers `describe` sums up.
#[derive(Clone, Debug, Default)]
pub struct ConsumerFilter {
    /// Only this consumer.
    pub consumer: Option<String>,
    /// Count a cursor as idle when it was not written since this time (ms
    /// since the epoch).
    pub idle_before: Option<i64>,
    /// Count a cursor with lag as stalled when it was not written since
    /// this time (ms since the epoch; `None`: every cursor with lag).
    pub stall_before: Option<i64>,
}

/// A snapshot: the offsets of a set of cursors, kept in the store.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SnapshotRow {
    /// Its name.
    pub name: String,
    /// When it was saved (ms since the epoch).
    pub at: i64,
    /// Who saved it.
    pub user: String,
    /// Why.
    pub reason: Option<String>,
    /// The consumer it was limited to (`None`: every cursor).
    pub consumer: Option<String>,
    /// How many cursors it holds.
    pub cursors: u64,
}

/// One batch: the changes of one command that wrote many cursors.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BatchRow {
    /// The batch id.
    pub id: i64,
    /// When, in milliseconds since the Unix epoch.
    pub at: i64,
    /// The command.
    pub command: String,
    /// Why.
    pub reason: Option<String>,
    /// Who (as the writer says).
    pub user: String,
}

/// A stored row copied as it is into another store (`copy-store`): ids
/// and times are kept.
#[derive(Clone, Copy, Debug)]
pub enum CopiedRow<'a> {
    /// A cursor.
    Cursor(&'a CursorRow),
    /// A batch.
    Batch(&'a BatchRow),
    /// A recorded change.
    Change(&'a HistoryRow),
    /// A snapshot (its cursors follow as [`CopiedRow::SnapshotCursor`]).
    Snapshot(&'a SnapshotRow),
    /// A cursor a snapshot holds.
    SnapshotCursor {
        /// The snapshot's name.
        snapshot: &'a str,
        /// The cursor (`updated_at` is not kept).
        cursor: &'a CursorRow,
    },
}

/// The highest ids a store has ever given, whether or not their rows are
/// still there: new changes and batches get higher ones.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct HighestIds {
    /// The highest change id (0: none yet).
    pub change: i64,
    /// The highest batch id (0: none yet).
    pub batch: i64,
}

/// Which history rows to return.
#[derive(Clone, Debug, Default)]
pub struct HistoryFilter {
    /// Only this consumer.
    pub consumer: Option<String>,
    /// Only this partition (needs `consumer`).
    pub partition_key: Option<PartitionKey>,
    /// Only the changes from the first one recorded at or after this time
    /// (ms since the epoch) on, in the order of ids: a later change stamped
    /// a little earlier (clocks of different writers) is not left out.
    pub since: Option<i64>,
    /// Only this batch.
    pub batch: Option<i64>,
    /// Only the newest N (still returned oldest first).
    pub limit: Option<u64>,
}

/// How a store is opened.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Access {
    /// Read only: the store is never written.
    ReadOnly,
    /// Read and write.
    ReadWrite,
}

/// Whether `init` made a new store.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum InitOutcome {
    /// A new store was created.
    Created,
    /// The location already held a cursor store of this version.
    AlreadyInitialised,
    /// The location held a store of an older schema version, now upgraded.
    Upgraded {
        /// The version it had.
        from: i64,
    },
}

/// The tables whose rows [`StoreAbout::rows`] counts, where the store has
/// them, in this order.
pub const COUNTED_TABLES: &[&str] = &[
    "cursors",
    "history",
    "batches",
    "snapshots",
    "heads",
    "leases",
];

/// Where a store is and what it holds: what an operator checks before a
/// write (`cursorctl info`).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct StoreAbout {
    /// The server's address as the session sees it (PostgreSQL; `None` on
    /// a local socket, and for SQLite).
    pub host: Option<String>,
    /// The server's port (PostgreSQL, over TCP).
    pub port: Option<u16>,
    /// The database connected to (PostgreSQL).
    pub database: Option<String>,
    /// The schema the store's tables are in (PostgreSQL).
    pub schema: Option<String>,
    /// The role the session runs as (PostgreSQL).
    pub role: Option<String>,
    /// The server's version (PostgreSQL), or the SQLite library's.
    pub server_version: String,
    /// The consumers that have a cursor.
    pub consumers: u64,
    /// The rows of each of [`COUNTED_TABLES`] the store has, in that order.
    pub rows: Vec<(&'static str, u64)>,
}

/// One partition's head as stored: the offset the next message appended to
/// the partition will get (schema version 3).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct HeadRow {
    /// The channel.
    pub channel: String,
    /// The partition index.
    pub partition: u32,
    /// The head.
    pub head: u64,
    /// When it was recorded, on the store's clock (ms since the epoch).
    pub recorded_at: i64,
}

impl HeadRow {
    /// The partition key.
    #[must_use]
    pub fn partition_key(&self) -> String {
        partition_key_text(&self.channel, self.partition)
    }
}

/// A cursor with the head of its partition, joined by the store's listing
/// query.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct CursorHeadRow {
    /// The cursor.
    pub cursor: CursorRow,
    /// Its partition's head (`None`: none is known).
    pub head: Option<u64>,
    /// When the head was recorded (ms since the epoch).
    pub head_recorded_at: Option<i64>,
    /// The owner of the cursor's live lease (`None`: no live lease;
    /// schema version 4).
    pub lease_owner: Option<String>,
    /// When the cursor's live lease expires (store-clock ms).
    pub lease_expires_at: Option<i64>,
    /// Whether its consumer holds, or held, a lease on any of its cursors
    /// (a consumer that uses leases).
    pub consumer_uses_leases: bool,
}

impl CursorHeadRow {
    /// The cursor's lag: `head - offset`, never negative (`None` without a
    /// head).
    #[must_use]
    pub fn lag(&self) -> Option<u64> {
        crate::heads::lag(self.cursor.offset, self.head)
    }
}

/// A head change to record in the head history.
#[derive(Clone, Copy, Debug)]
pub struct HeadChangeInput<'a> {
    /// The partition.
    pub key: &'a PartitionKey,
    /// The head before (`None`: none was known).
    pub old_head: Option<u64>,
    /// The head after.
    pub new_head: u64,
    /// The command that made the change (`head set`, ...).
    pub command: &'a str,
    /// Why, as the operator said.
    pub reason: Option<&'a str>,
    /// Who.
    pub user: &'a str,
}

/// One recorded head change.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HeadChangeRow {
    /// The change id (ids of the head history, apart from cursor changes).
    pub id: i64,
    /// When, in milliseconds since the Unix epoch.
    pub at: i64,
    /// The channel.
    pub channel: String,
    /// The partition index.
    pub partition: u32,
    /// The head before (`None`: none was known).
    pub old_head: Option<u64>,
    /// The head after.
    pub new_head: u64,
    /// The command that made the change.
    pub command: String,
    /// Why.
    pub reason: Option<String>,
    /// Who (as the writer says).
    pub user: String,
}

impl HeadChangeRow {
    /// The partition key.
    #[must_use]
    pub fn partition_key(&self) -> String {
        partition_key_text(&self.channel, self.partition)
    }
}

/// Which heads or head changes a listing returns.
#[derive(Clone, Debug, Default)]
pub struct HeadFilter {
    /// Only this channel.
    pub channel: Option<String>,
    /// Only this partition index (with `channel`).
    pub partition: Option<u32>,
}

/// A cursor's lease, as the store keeps it (schema version 4): who holds
/// it, its fencing epoch, and its times on the store's clock.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct LeaseRow {
    /// The consumer.
    pub consumer: String,
    /// The channel.
    pub channel: String,
    /// The partition index.
    pub partition: u32,
    /// Who holds (or last held) it: free text, such as `host-7:pid-4121`.
    pub owner: String,
    /// The fencing epoch: one more at every acquisition and every break.
    pub epoch: u64,
    /// When it was acquired (store-clock ms since the Unix epoch).
    pub acquired_at: i64,
    /// When it expires, or expired (store-clock ms): it is live while the
    /// store's clock is before this.
    pub expires_at: i64,
}

impl LeaseRow {
    /// The cursor key, `CONSUMER:CHANNEL:INDEX`.
    #[must_use]
    pub fn key(&self) -> String {
        key_text(&self.consumer, &self.channel, self.partition)
    }

    /// Whether it is live at `now` (store-clock ms).
    #[must_use]
    pub const fn is_live(&self, now: i64) -> bool {
        now < self.expires_at
    }
}
