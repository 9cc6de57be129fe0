//! Heads (schema version 3): each partition's head, the cursors joined
//! with them, and the head history.

use rusqlite::types::ValueRef;
use rusqlite::{params, Connection};

use super::db_err;
use super::read::{offset_from, partition_from, time_from};
use super::write::to_sql_offset;
use crate::error::StoreError;
use crate::key::PartitionKey;
use crate::store::{
    CursorFilter, CursorHeadRow, HeadChangeInput, HeadChangeRow, HeadFilter, HeadRow, Visit,
    HEADS_VERSION,
};

/// Whether the store has the heads table (schema version 3 or later).
pub(super) fn has_heads(conn: &Connection) -> Result<bool, StoreError> {
    let version: i64 = conn
        .pragma_query_value(None, "user_version", |r| r.get(0))
        .map_err(db_err("reading the schema version"))?;
    Ok(version >= HEADS_VERSION)
}

fn head_value(
    partition_key: impl FnOnce() -> String,
    value: ValueRef<'_>,
) -> Result<u64, StoreError> {
    offset_from(value).map_err(|value| StoreError::InvalidValue {
        key: partition_key(),
        value,
    })
}

/// One partition's head.
pub(super) fn read_head(
    conn: &Connection,
    key: &PartitionKey,
) -> Result<Option<HeadRow>, StoreError> {
    if !has_heads(conn)? {
        return Ok(None);
    }
    let context = "reading a head";
    let mut stmt = conn
        .prepare_cached("SELECT head, recorded_at FROM heads WHERE channel = ?1 AND partition = ?2")
        .map_err(db_err(context))?;
    let mut rows = stmt
        .query(params![key.channel().as_str(), key.index()])
        .map_err(db_err(context))?;
    let Some(row) = rows.next().map_err(db_err(context))? else {
        return Ok(None);
    };
    Ok(Some(HeadRow {
        channel: key.channel().as_str().to_owned(),
        partition: key.index(),
        head: head_value(|| key.to_string(), row.get_ref(0).map_err(db_err(context))?)?,
        recorded_at: time_from(row.get_ref(1).map_err(db_err(context))?).unwrap_or(0),
    }))
}

/// Visit the heads matching `filter`, in partition key order.
pub(super) fn visit_heads(
    conn: &Connection,
    filter: &HeadFilter,
    each: &mut dyn FnMut(&HeadRow) -> Visit,
) -> Result<(), StoreError> {
    if !has_heads(conn)? {
        return Ok(());
    }
    let context = "listing heads";
    let mut sql = String::from("SELECT channel, partition, head, recorded_at FROM heads WHERE 1");
    let mut args: Vec<rusqlite::types::Value> = Vec::new();
    if let Some(c) = &filter.channel {
        sql.push_str(" AND channel = ?");
        args.push(c.clone().into());
    }
    if let Some(p) = filter.partition {
        sql.push_str(" AND partition = ?");
        args.push(i64::from(p).into());
    }
    sql.push_str(" ORDER BY channel, partition");
    let mut stmt = conn.prepare(&sql).map_err(db_err(context))?;
    let mut rows = stmt
        .query(rusqlite::params_from_iter(args))
        .map_err(db_err(context))?;
    let mut buf = HeadRow::default();
    while let Some(row) = rows.next().map_err(db_err(context))? {
        buf.channel.clear();
        buf.channel.push_str(
            row.get_ref(0)
                .and_then(|v| Ok(v.as_str()?))
                .map_err(db_err(context))?,
        );
        buf.partition = partition_from(row.get_ref(1).map_err(db_err(context))?);
        buf.head = head_value(
            || buf.partition_key(),
            row.get_ref(2).map_err(db_err(context))?,
        )?;
        buf.recorded_at = time_from(row.get_ref(3).map_err(db_err(context))?).unwrap_or(0);
        if each(&buf).is_break() {
            break;
        }
    }
    Ok(())
}

/// The heads of one channel from a partition on, read a window of at most
/// [`HeadWindow::SIZE`] at a time: what a listing in key order needs next.
/// Cursors come by consumer, then channel, then partition, and so do the
/// heads of a channel: each cursor's head is found in the window, and the
/// window moves on (one indexed range query) when a cursor's partition
/// leaves it. Memory holds one window whatever the number of cursors or
/// partitions; a per-row lookup joined in SQL costs about as much again
/// as the listing itself.
/// One head in a [`HeadWindow`]: partition, head (or why the stored value is
/// not one), `recorded_at`.
type WindowRow = (u32, Result<u64, String>, Option<i64>);

struct HeadWindow {
    channel: String,
    /// The first partition the window covers.
    from: u32,
    /// The last partition it covers (`u32::MAX`: every one after `from`).
    to: u32,
    /// By partition.
    rows: Vec<WindowRow>,
    loaded: bool,
}

impl HeadWindow {
    const SIZE: usize = 1024;

    const fn new() -> Self {
        Self {
            channel: String::new(),
            from: 0,
            to: 0,
            rows: Vec::new(),
            loaded: false,
        }
    }

    fn load(&mut self, conn: &Connection, channel: &str, from: u32) -> Result<(), StoreError> {
        let context = "reading heads";
        let mut stmt = conn
            .prepare_cached(
                "SELECT partition, head, recorded_at FROM heads \
                 WHERE channel = ?1 AND partition >= ?2 ORDER BY partition LIMIT ?3",
            )
            .map_err(db_err(context))?;
        self.rows.clear();
        let mut rows = stmt
            .query(params![channel, from, Self::SIZE as i64])
            .map_err(db_err(context))?;
        while let Some(row) = rows.next().map_err(db_err(context))? {
            self.rows.push((
                partition_from(row.get_ref(0).map_err(db_err(context))?),
                offset_from(row.get_ref(1).map_err(db_err(context))?),
                time_from(row.get_ref(2).map_err(db_err(context))?),
            ));
        }
        self.channel.clear();
        self.channel.push_str(channel);
        self.from = from;
        self.to = if self.rows.len() < Self::SIZE {
            u32::MAX
        } else {
            self.rows.last().map_or(u32::MAX, |r| r.0)
        };
        self.loaded = true;
        Ok(())
    }

    /// The head of `channel:partition`, with when it was recorded.
    fn find(
        &mut self,
        conn: &Connection,
        channel: &str,
        partition: u32,
    ) -> Result<Option<&WindowRow>, StoreError> {
        if !self.loaded || self.channel != channel || partition < self.from || partition > self.to {
            self.load(conn, channel, partition)?;
        }
        Ok(self
            .rows
            .binary_search_by_key(&partition, |r| r.0)
            .ok()
            .map(|i| &self.rows[i]))
    }
}

/// Visit the cursors matching `filter` with their heads, in key order: one
/// streamed query of the cursors, each joined with its head through a
/// [`HeadWindow`]; memory holds one row and one window.
pub(super) fn visit_cursor_heads(
    conn: &Connection,
    filter: &CursorFilter,
    each: &mut dyn FnMut(Result<&CursorHeadRow, StoreError>) -> Visit,
) -> Result<(), StoreError> {
    let context = "listing cursors";
    // A store that has no head lists its cursors alone.
    let heads = has_heads(conn)?
        && conn
            .query_row("SELECT EXISTS (SELECT 1 FROM heads)", [], |r| {
                r.get::<_, bool>(0)
            })
            .map_err(db_err(context))?;
    // Each cursor with its live lease (schema version 4), judged at one
    // instant of the store's clock for the whole listing, and whether its
    // consumer uses leases at all: lookups by the leases' primary key.
    // A store that has no lease lists no owner: three lookups a cursor
    // fewer.
    let any_lease = super::leases::has_leases(conn)?
        && conn
            .query_row("SELECT EXISTS (SELECT 1 FROM leases)", [], |r| {
                r.get::<_, bool>(0)
            })
            .map_err(db_err(context))?;
    let leases = if any_lease {
        let now = super::now_ms();
        let live = format!(
            "FROM leases l WHERE l.consumer = cursors.consumer AND l.channel = cursors.channel \
             AND l.partition = cursors.partition AND l.expires_at > {now}"
        );
        format!(
            ", (SELECT l.owner {live}), (SELECT l.expires_at {live}), \
             EXISTS (SELECT 1 FROM leases u WHERE u.consumer = cursors.consumer)"
        )
    } else {
        String::new()
    };
    let mut sql = format!(
        "SELECT consumer, channel, partition, offset, updated_at{leases} FROM cursors WHERE 1",
    );
    let mut args: Vec<rusqlite::types::Value> = Vec::new();
    if let Some(c) = &filter.consumer {
        sql.push_str(" AND consumer = ?");
        args.push(c.clone().into());
    }
    if let Some(c) = &filter.channel {
        sql.push_str(" AND channel = ?");
        args.push(c.clone().into());
    }
    if let Some(t) = filter.updated_before {
        sql.push_str(" AND updated_at <= ?");
        args.push(t.into());
    }
    sql.push_str(" ORDER BY consumer, channel, partition");
    let mut stmt = conn.prepare(&sql).map_err(db_err(context))?;
    let mut rows = stmt
        .query(rusqlite::params_from_iter(args))
        .map_err(db_err(context))?;
    let mut buf = CursorHeadRow::default();
    let mut window = HeadWindow::new();
    while let Some(row) = rows.next().map_err(db_err(context))? {
        let text = |i| -> Result<&str, StoreError> {
            row.get_ref(i)
                .and_then(|v| v.as_str().map_err(Into::into))
                .map_err(db_err(context))
        };
        let cursor = &mut buf.cursor;
        cursor.consumer.clear();
        cursor.consumer.push_str(text(0)?);
        cursor.channel.clear();
        cursor.channel.push_str(text(1)?);
        cursor.partition = partition_from(row.get_ref(2).map_err(db_err(context))?);
        cursor.updated_at = time_from(row.get_ref(4).map_err(db_err(context))?);
        if any_lease {
            buf.lease_owner = row.get(5).map_err(db_err(context))?;
            buf.lease_expires_at = time_from(row.get_ref(6).map_err(db_err(context))?);
            buf.consumer_uses_leases = row.get::<_, bool>(7).map_err(db_err(context))?;
        }
        (buf.head, buf.head_recorded_at) = (None, None);
        if heads {
            if let Some((_, head, at)) = window.find(conn, &cursor.channel, cursor.partition)? {
                buf.head = Some(head.clone().map_err(|value| StoreError::InvalidValue {
                    key: buf.cursor.partition_key(),
                    value,
                })?);
                buf.head_recorded_at = *at;
            }
        }
        let flow = match offset_from(row.get_ref(3).map_err(db_err(context))?) {
            Ok(offset) => {
                buf.cursor.offset = offset;
                each(Ok(&buf))
            }
            Err(value) => each(Err(StoreError::InvalidValue {
                key: buf.cursor.key(),
                value,
            })),
        };
        if flow.is_break() {
            break;
        }
    }
    Ok(())
}

/// Visit the recorded head changes matching `filter`, oldest first.
pub(super) fn visit_head_changes(
    conn: &Connection,
    filter: &HeadFilter,
    each: &mut dyn FnMut(&HeadChangeRow) -> Visit,
) -> Result<(), StoreError> {
    if !has_heads(conn)? {
        return Ok(());
    }
    let context = "reading the head history";
    let mut sql = String::from(
        "SELECT id, at, channel, partition, old_head, new_head, command, reason, user \
         FROM head_history WHERE 1",
    );
    let mut args: Vec<rusqlite::types::Value> = Vec::new();
    if let Some(c) = &filter.channel {
        sql.push_str(" AND channel = ?");
        args.push(c.clone().into());
    }
    if let Some(p) = filter.partition {
        sql.push_str(" AND partition = ?");
        args.push(i64::from(p).into());
    }
    sql.push_str(" ORDER BY id");
    let mut stmt = conn.prepare(&sql).map_err(db_err(context))?;
    let mut rows = stmt
        .query(rusqlite::params_from_iter(args))
        .map_err(db_err(context))?;
    while let Some(row) = rows.next().map_err(db_err(context))? {
        let change = (|| {
            Ok::<_, rusqlite::Error>(HeadChangeRow {
                id: row.get(0)?,
                at: row.get(1)?,
                channel: row.get(2)?,
                partition: partition_from(row.get_ref(3)?),
                old_head: row.get::<_, Option<i64>>(4)?.map(i64::unsigned_abs),
                new_head: row.get::<_, i64>(5)?.unsigned_abs(),
                command: row.get(6)?,
                reason: row.get(7)?,
                user: row.get(8)?,
            })
        })()
        .map_err(db_err(context))?;
        if each(&change).is_break() {
            break;
        }
    }
    Ok(())
}

/// Write a head if the stored one equals `expected` (see
/// [`crate::store::WriteTxn::swap_head`]).
pub(super) fn swap_head(
    conn: &Connection,
    key: &PartitionKey,
    expected: Option<u64>,
    new: u64,
    now: i64,
) -> Result<Result<(), Option<u64>>, StoreError> {
    let context = "writing a head";
    let new = to_sql_offset(new).map_err(|e| StoreError::InvalidValue {
        key: key.to_string(),
        value: e.to_string(),
    })?;
    let (channel, index) = (key.channel().as_str(), key.index());
    let changed = match expected {
        Some(old) => conn
            .prepare_cached(
                "UPDATE heads SET head = ?3, recorded_at = ?4 \
                 WHERE channel = ?1 AND partition = ?2 AND head = ?5",
            )
            .and_then(|mut s| {
                s.execute(params![
                    channel,
                    index,
                    new,
                    now,
                    super::write::sql_offset(old)
                ])
            }),
        None => conn
            .prepare_cached(
                "INSERT INTO heads (channel, partition, head, recorded_at) \
                 VALUES (?1, ?2, ?3, ?4) ON CONFLICT DO NOTHING",
            )
            .and_then(|mut s| s.execute(params![channel, index, new, now])),
    }
    .map_err(db_err(context))?;
    if changed == 1 {
        return Ok(Ok(()));
    }
    Ok(Err(read_head(conn, key)?.map(|h| h.head)))
}

/// Record a head change; its id.
pub(super) fn record_head_change(
    conn: &Connection,
    change: &HeadChangeInput<'_>,
    now: i64,
) -> Result<i64, StoreError> {
    let context = "recording a head change";
    conn.prepare_cached(
        "INSERT INTO head_history (at, channel, partition, old_head, new_head, command, reason, user) \
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
    )
    .and_then(|mut s| {
        s.execute(params![
            now,
            change.key.channel().as_str(),
            change.key.index(),
            change.old_head.map(super::write::sql_offset),
            super::write::sql_offset(change.new_head),
            change.command,
            change.reason,
            change.user
        ])
    })
    .map_err(db_err(context))?;
    Ok(conn.last_insert_rowid())
}
