//! Reads: one cursor, listings, the history.

use rusqlite::types::ValueRef;
use rusqlite::{params, Connection, OptionalExtension};

use super::db_err;
use super::write::{Sql, Statements};
use crate::error::{DurabilityError, StoreError};
use crate::key::CursorKey;
use crate::store::{CursorFilter, CursorRow, HistoryFilter, HistoryRow, Visit};

/// Interpret a stored offset, refusing anything that is not one.
pub(super) fn offset_from(value: ValueRef<'_>) -> Result<u64, String> {
    match value {
        ValueRef::Integer(i) if i >= 0 => Ok(i.unsigned_abs()),
        ValueRef::Integer(i) => Err(format!("the negative integer {i}")),
        ValueRef::Real(r) => Err(format!("the real number {r}")),
        ValueRef::Text(t) => Err(format!("the text {:?}", String::from_utf8_lossy(t))),
        ValueRef::Blob(b) => Err(format!("a blob of {} bytes", b.len())),
        ValueRef::Null => Err("NULL".to_owned()),
    }
}

pub(super) fn time_from(value: ValueRef<'_>) -> Option<i64> {
    match value {
        ValueRef::Integer(i) => Some(i),
        _ => None,
    }
}

pub(super) fn partition_from(value: ValueRef<'_>) -> u32 {
    match value {
        ValueRef::Integer(i) => u32::try_from(i).unwrap_or(u32::MAX),
        _ => u32::MAX,
    }
}

/// Read one cursor.
pub(super) fn read_cursor(
    conn: &Connection,
    key: &CursorKey,
) -> Result<Option<CursorRow>, StoreError> {
    let mut stmt = conn
        .prepare_cached(
            "SELECT offset, updated_at FROM cursors \
             WHERE consumer = ?1 AND channel = ?2 AND partition = ?3",
        )
        .map_err(db_err("reading a cursor"))?;
    let pk = key.partition_key();
    let mut rows = stmt
        .query(params![
            key.consumer().as_str(),
            pk.channel().as_str(),
            pk.index()
        ])
        .map_err(db_err("reading a cursor"))?;
    let Some(row) = rows.next().map_err(db_err("reading a cursor"))? else {
        return Ok(None);
    };
    let offset =
        offset_from(row.get_ref(0).map_err(db_err("reading a cursor"))?).map_err(|value| {
            StoreError::InvalidValue {
                key: key.to_string(),
                value,
            }
        })?;
    Ok(Some(CursorRow {
        consumer: key.consumer().as_str().to_owned(),
        channel: pk.channel().as_str().to_owned(),
        partition: pk.index(),
        offset,
        updated_at: time_from(row.get_ref(1).map_err(db_err("reading a cursor"))?),
    }))
}

/// Read one offset (without building a whole [`CursorRow`]); the key may
/// be a stored one, whose names need not be valid ones.
pub(super) fn read_offset_of(
    stmts: &impl Statements,
    parsed: &CursorKey,
) -> Result<Option<u64>, DurabilityError> {
    let pk = parsed.partition_key();
    let found = stmts
        .with(Sql::ReadOffset, |s| {
            let mut rows = s.query(params![
                parsed.consumer().as_str(),
                pk.channel().as_str(),
                pk.index()
            ])?;
            rows.next()?
                .map(|row| row.get_ref(0).map(offset_from))
                .transpose()
        })
        .map_err(db_err("reading a cursor"))?;
    match found {
        None => Ok(None),
        Some(Ok(offset)) => Ok(Some(offset)),
        Some(Err(value)) => Err(StoreError::InvalidValue {
            key: parsed.to_string(),
            value,
        }
        .into()),
    }
}

/// Visit every cursor matching `filter`, in key order, holding one row in
/// memory at a time.
pub(super) fn visit_cursors(
    conn: &Connection,
    filter: &CursorFilter,
    each: &mut dyn FnMut(Result<&CursorRow, StoreError>) -> Visit,
) -> Result<(), StoreError> {
    let mut sql = String::from(
        "SELECT consumer, channel, partition, offset, updated_at FROM cursors WHERE 1",
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
    let mut stmt = conn.prepare(&sql).map_err(db_err("listing cursors"))?;
    let mut rows = stmt
        .query(rusqlite::params_from_iter(args))
        .map_err(db_err("listing cursors"))?;
    let mut row_buf = CursorRow::default();
    while let Some(row) = rows.next().map_err(db_err("listing cursors"))? {
        let text = |i| -> Result<&str, StoreError> {
            row.get_ref(i)
                .and_then(|v| v.as_str().map_err(Into::into))
                .map_err(db_err("listing cursors"))
        };
        row_buf.consumer.clear();
        row_buf.consumer.push_str(text(0)?);
        row_buf.channel.clear();
        row_buf.channel.push_str(text(1)?);
        row_buf.partition = partition_from(row.get_ref(2).map_err(db_err("listing cursors"))?);
        row_buf.updated_at = time_from(row.get_ref(4).map_err(db_err("listing cursors"))?);
        let flow = match offset_from(row.get_ref(3).map_err(db_err("listing cursors"))?) {
            Ok(offset) => {
                row_buf.offset = offset;
                each(Ok(&row_buf))
            }
            Err(value) => each(Err(StoreError::InvalidValue {
                key: row_buf.key(),
                value,
            })),
        };
        if flow.is_break() {
            break;
        }
    }
    Ok(())
}

const HISTORY_COLUMNS: &str =
    "id, at, consumer, channel, partition, old_offset, new_offset, command, reason, user, batch";

/// Visit recorded changes matching `filter`, oldest first.
pub(super) fn visit_changes(
    conn: &Connection,
    filter: &HistoryFilter,
    each: &mut dyn FnMut(&HistoryRow) -> Visit,
) -> Result<(), StoreError> {
    let mut sql = format!("SELECT {HISTORY_COLUMNS} FROM history WHERE 1");
    let mut args: Vec<rusqlite::types::Value> = Vec::new();
    if let Some(c) = &filter.consumer {
        sql.push_str(" AND consumer = ?");
        args.push(c.clone().into());
    }
    if let Some(pk) = &filter.partition_key {
        sql.push_str(" AND channel = ? AND partition = ?");
        args.push(pk.channel().as_str().to_owned().into());
        args.push(i64::from(pk.index()).into());
    }
    if let Some(t) = filter.since {
        // From the first change recorded at or after the time on, in the
        // order of ids.
        sql.push_str(" AND id >= (SELECT min(id) FROM history WHERE at >= ?)");
        args.push(t.into());
    }
    if let Some(b) = filter.batch {
        sql.push_str(" AND batch = ?");
        args.push(b.into());
    }
    if let Some(limit) = filter.limit {
        sql = format!(
            "SELECT * FROM ({sql} ORDER BY id DESC LIMIT {}) ORDER BY id",
            limit.min(i64::MAX as u64)
        );
    } else {
        sql.push_str(" ORDER BY id");
    }
    let mut stmt = conn.prepare(&sql).map_err(db_err("reading the history"))?;
    let mut rows = stmt
        .query(rusqlite::params_from_iter(args))
        .map_err(db_err("reading the history"))?;
    while let Some(row) = rows.next().map_err(db_err("reading the history"))? {
        let change = history_row(row).map_err(db_err("reading the history"))?;
        if each(&change).is_break() {
            break;
        }
    }
    Ok(())
}

fn history_row(row: &rusqlite::Row<'_>) -> rusqlite::Result<HistoryRow> {
    let opt_offset = |i| -> rusqlite::Result<Option<u64>> {
        Ok(row.get::<_, Option<i64>>(i)?.map(i64::unsigned_abs))
    };
    Ok(HistoryRow {
        id: row.get(0)?,
        at: row.get(1)?,
        consumer: row.get(2)?,
        channel: row.get(3)?,
        partition: partition_from(row.get_ref(4)?),
        old_offset: opt_offset(5)?,
        new_offset: opt_offset(6)?,
        command: row.get(7)?,
        reason: row.get(8)?,
        user: row.get(9)?,
        batch: row.get(10)?,
        role: None,
    })
}

/// One recorded change by id.
pub(super) fn read_change(conn: &Connection, id: i64) -> Result<Option<HistoryRow>, StoreError> {
    conn.prepare_cached(&format!(
        "SELECT {HISTORY_COLUMNS} FROM history WHERE id = ?1"
    ))
    .and_then(|mut s| s.query_row([id], history_row).optional())
    .map_err(db_err("reading the history"))
}

/// The ids of a batch's changes, oldest first.
pub(super) fn batch_change_ids(conn: &Connection, batch: i64) -> Result<Vec<i64>, StoreError> {
    let mut stmt = conn
        .prepare_cached("SELECT id FROM history WHERE batch = ?1 ORDER BY id")
        .map_err(db_err("reading a batch"))?;
    let ids = stmt
        .query_map([batch], |r| r.get(0))
        .and_then(Iterator::collect)
        .map_err(db_err("reading a batch"))?;
    Ok(ids)
}

/// Visit every batch, oldest first.
pub(super) fn visit_batches(
    conn: &Connection,
    each: &mut dyn FnMut(&crate::store::BatchRow) -> Visit,
) -> Result<(), StoreError> {
    let mut stmt = conn
        .prepare("SELECT id, at, command, reason, user FROM batches ORDER BY id")
        .map_err(db_err("reading the batches"))?;
    let mut rows = stmt.query([]).map_err(db_err("reading the batches"))?;
    while let Some(row) = rows.next().map_err(db_err("reading the batches"))? {
        let batch = (|| {
            Ok::<_, rusqlite::Error>(crate::store::BatchRow {
                id: row.get(0)?,
                at: row.get(1)?,
                command: row.get(2)?,
                reason: row.get(3)?,
                user: row.get(4)?,
            })
        })()
        .map_err(db_err("reading the batches"))?;
        if each(&batch).is_break() {
            break;
        }
    }
    Ok(())
}

/// Visit one summary per consumer, aggregated by SQLite in key order.
pub(super) fn visit_consumers(
    conn: &Connection,
    filter: &crate::store::ConsumerFilter,
    each: &mut dyn FnMut(&crate::store::ConsumerSummary) -> Visit,
) -> Result<(), StoreError> {
    // Each cursor joined with its partition's head (none on a store older
    // than schema version 3): lag is head - offset, never negative.
    let heads = if super::heads::has_heads(conn)? {
        "heads"
    } else {
        "(SELECT NULL AS channel, NULL AS partition, NULL AS head)"
    };
    let live_leases = if super::leases::has_leases(conn)? {
        format!(
            "(SELECT count(*) FROM leases l WHERE l.consumer = c.consumer AND l.expires_at > {})",
            super::now_ms()
        )
    } else {
        "0".to_owned()
    };
    let mut sql = format!(
        "SELECT c.consumer, count(*), count(DISTINCT c.channel), min(c.offset), max(c.offset), \
         min(c.updated_at), max(c.updated_at), coalesce(sum(c.updated_at <= ?1), 0), \
         count(h.head), coalesce(sum(max(h.head - c.offset, 0)), 0), max(max(h.head - c.offset, 0)), \
         coalesce(sum(h.head > c.offset AND c.updated_at > ?3), 0), \
         coalesce(sum(h.head > c.offset AND NOT coalesce(c.updated_at > ?3, 0)), 0), \
         {live_leases} \
         FROM cursors c LEFT JOIN {heads} h ON h.channel = c.channel AND h.partition = c.partition"
    );
    if filter.consumer.is_some() {
        sql.push_str(" WHERE c.consumer = ?2");
    }
    sql.push_str(" GROUP BY c.consumer ORDER BY c.consumer");
    let mut stmt = conn.prepare(&sql).map_err(db_err("summing up consumers"))?;
    let args: Vec<rusqlite::types::Value> = vec![
        filter.idle_before.into(),
        filter.consumer.clone().into(),
        filter.stall_before.into(),
    ];
    let mut rows = stmt
        .query(rusqlite::params_from_iter(args))
        .map_err(db_err("summing up consumers"))?;
    let count = |v: i64| u64::try_from(v).unwrap_or(0);
    while let Some(row) = rows.next().map_err(db_err("summing up consumers"))? {
        let summary = (|| {
            Ok::<_, rusqlite::Error>(crate::store::ConsumerSummary {
                consumer: row.get(0)?,
                cursors: count(row.get(1)?),
                channels: count(row.get(2)?),
                lowest_offset: count(row.get::<_, Option<i64>>(3)?.unwrap_or(0)),
                highest_offset: count(row.get::<_, Option<i64>>(4)?.unwrap_or(0)),
                oldest_update: row.get(5)?,
                newest_update: row.get(6)?,
                idle: count(row.get(7)?),
                with_head: count(row.get(8)?),
                total_lag: count(row.get(9)?),
                highest_lag: row.get::<_, Option<i64>>(10)?.map(count),
                behind: count(row.get(11)?),
                stalled: count(row.get(12)?),
                live_leases: count(row.get(13)?),
            })
        })()
        .map_err(db_err("summing up consumers"))?;
        if each(&summary).is_break() {
            break;
        }
    }
    Ok(())
}

/// The temporary table of seen keys (a name no store table has, since a
/// temporary table hides a main table of the same name).
const CREATE_SEEN: &str = "
CREATE TEMP TABLE IF NOT EXISTS cursorctl_seen_keys (
    consumer  TEXT    NOT NULL,
    channel   TEXT    NOT NULL,
    partition INTEGER NOT NULL,
    line      INTEGER NOT NULL,
    PRIMARY KEY (consumer, channel, partition)
) WITHOUT ROWID;
DELETE FROM temp.cursorctl_seen_keys;";
const INSERT_SEEN: &str =
    "INSERT INTO temp.cursorctl_seen_keys VALUES (?1, ?2, ?3, ?4) ON CONFLICT DO NOTHING";
const SELECT_SEEN: &str = "SELECT line FROM temp.cursorctl_seen_keys \
     WHERE consumer = ?1 AND channel = ?2 AND partition = ?3";

/// Seen keys in a temporary table of the connection, which SQLite keeps in
/// a temporary file behind its own small page cache: memory does not grow
/// with the input (and the store file is not written).
pub(super) struct TableSeenKeySet<'c> {
    conn: &'c Connection,
}

impl<'c> TableSeenKeySet<'c> {
    pub(super) fn new(conn: &'c Connection) -> Result<Self, StoreError> {
        conn.execute_batch(CREATE_SEEN)
            .map_err(db_err("keeping the keys seen in the input"))?;
        Ok(Self { conn })
    }
}

impl crate::store::SeenKeySet for TableSeenKeySet<'_> {
    fn first_line(&mut self, key: &CursorKey, line: u64) -> Result<Option<u64>, StoreError> {
        let pk = key.partition_key();
        let added = self
            .conn
            .prepare_cached(INSERT_SEEN)
            .and_then(|mut s| {
                s.execute(params![
                    key.consumer().as_str(),
                    pk.channel().as_str(),
                    pk.index(),
                    line
                ])
            })
            .map_err(db_err("keeping the keys seen in the input"))?;
        if added == 1 {
            return Ok(None);
        }
        self.conn
            .prepare_cached(SELECT_SEEN)
            .and_then(|mut s| {
                s.query_row(
                    params![key.consumer().as_str(), pk.channel().as_str(), pk.index()],
                    |r| r.get(0),
                )
            })
            .map(Some)
            .map_err(db_err("keeping the keys seen in the input"))
    }
}

/// The first change kept by a prune before ?1: the first one recorded at
/// or after ?1, in the order of ids (NULL: none is, every change goes).
const FIRST_KEPT_CHANGE: &str = "(SELECT min(id) FROM history WHERE at >= ?1)";

/// The first batch kept by a prune before ?1, likewise.
const FIRST_KEPT_BATCH: &str = "(SELECT min(id) FROM batches WHERE at >= ?1)";

/// The changes before the first kept one, outside any batch with a change
/// kept.
pub(super) fn prunable_changes() -> String {
    format!(
        "FROM history WHERE ({FIRST_KEPT_CHANGE} IS NULL OR id < {FIRST_KEPT_CHANGE}) \
         AND (batch IS NULL OR batch NOT IN \
         (SELECT batch FROM history WHERE batch IS NOT NULL AND id >= {FIRST_KEPT_CHANGE}))"
    )
}

/// Batches before the first kept one.
pub(super) fn prunable_batches() -> String {
    format!("FROM batches WHERE ({FIRST_KEPT_BATCH} IS NULL OR id < {FIRST_KEPT_BATCH})")
}

/// A prune needs ids that are never given twice (schema version 3): on an
/// older store, the next change would get the id of a pruned one.
fn require_ids_version(conn: &Connection) -> Result<(), StoreError> {
    let version: i64 = conn
        .pragma_query_value(None, "user_version", |r| r.get(0))
        .map_err(db_err("reading the schema version"))?;
    if version < super::schema::IDS_VERSION {
        return Err(StoreError::Unsupported {
            location: crate::store::StoreLocation::from(std::path::Path::new(conn.path().unwrap_or(""))),
            detail: format!(
                "it has schema version {version}, which would give the ids of pruned changes again: run `cursorctl init` to upgrade it before pruning"
            ),
        });
    }
    Ok(())
}

/// What a prune before `before` would remove: (changes, batches).
pub(super) fn prunable_history(conn: &Connection, before: i64) -> Result<(u64, u64), StoreError> {
    require_ids_version(conn)?;
    let count = |sql: &str| -> Result<u64, StoreError> {
        conn.query_row(sql, [before], |r| r.get::<_, i64>(0))
            .map(|n| n.unsigned_abs())
            .map_err(db_err("counting the history to prune"))
    };
    let changes = count(&format!("SELECT count(*) {}", prunable_changes()))?;
    let batches = count(&format!(
        "SELECT count(*) {} AND id NOT IN \
         (SELECT batch FROM history WHERE batch IS NOT NULL AND id NOT IN \
          (SELECT id {}))",
        prunable_batches(),
        prunable_changes()
    ))?;
    Ok((changes, batches))
}

/// Delete what [`prunable_history`] counts.
pub(super) fn prune_history(conn: &Connection, before: i64) -> Result<(u64, u64), StoreError> {
    require_ids_version(conn)?;
    if let Some(pruned) = super::verify::prune(conn, before)? {
        return Ok(pruned);
    }
    let changes = conn
        .execute(&format!("DELETE {}", prunable_changes()), [before])
        .map_err(db_err("pruning the history"))?;
    let batches = conn
        .execute(
            &format!(
                "DELETE {} AND id NOT IN (SELECT batch FROM history WHERE batch IS NOT NULL)",
                prunable_batches()
            ),
            [before],
        )
        .map_err(db_err("pruning the history"))?;
    Ok((changes as u64, batches as u64))
}

/// The highest ids given: kept in `sqlite_sequence` from schema version 3
/// on (where a prune leaves them); before that, the highest ids left.
pub(super) fn highest_ids(conn: &Connection) -> Result<crate::store::HighestIds, StoreError> {
    let counted: bool = conn
        .query_row(
            "SELECT count(*) > 0 FROM sqlite_master WHERE name = 'sqlite_sequence'",
            [],
            |r| r.get(0),
        )
        .map_err(db_err("reading the highest ids"))?;
    let sql = if counted {
        "SELECT max(coalesce((SELECT max(id) FROM history), 0), \
                    coalesce((SELECT seq FROM sqlite_sequence WHERE name = 'history'), 0)), \
                max(coalesce((SELECT max(id) FROM batches), 0), \
                    coalesce((SELECT seq FROM sqlite_sequence WHERE name = 'batches'), 0))"
    } else {
        "SELECT coalesce((SELECT max(id) FROM history), 0), \
                coalesce((SELECT max(id) FROM batches), 0)"
    };
    conn.query_row(sql, [], |r| {
        Ok(crate::store::HighestIds {
            change: r.get(0)?,
            batch: r.get(1)?,
        })
    })
    .map_err(db_err("reading the highest ids"))
}

/// Make the next ids follow `highest` (and the rows there are).
pub(super) fn continue_ids(
    conn: &Connection,
    highest: crate::store::HighestIds,
) -> Result<(), StoreError> {
    let now = highest_ids(conn)?;
    for (table, id) in [
        ("history", highest.change.max(now.change)),
        ("batches", highest.batch.max(now.batch)),
    ] {
        let updated = conn
            .execute(
                "UPDATE sqlite_sequence SET seq = ?2 WHERE name = ?1",
                params![table, id],
            )
            .map_err(db_err("continuing the ids after the copied ones"))?;
        if updated == 0 && id > 0 {
            conn.execute(
                "INSERT INTO sqlite_sequence (name, seq) VALUES (?1, ?2)",
                params![table, id],
            )
            .map_err(db_err("continuing the ids after the copied ones"))?;
        }
    }
    Ok(())
}
