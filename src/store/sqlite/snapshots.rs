//! Snapshots: offsets kept in the store (schema version 2).

use rusqlite::{params, Connection, OptionalExtension};

use super::db_err;
use crate::error::StoreError;
use crate::store::{CursorRow, SnapshotRow, Visit};

const SNAPSHOT_COLUMNS: &str = "s.name, s.at, s.user, s.reason, s.consumer, \
     (SELECT count(*) FROM snapshot_cursors c WHERE c.snapshot = s.name)";

fn snapshot_row(row: &rusqlite::Row<'_>) -> rusqlite::Result<SnapshotRow> {
    Ok(SnapshotRow {
        name: row.get(0)?,
        at: row.get(1)?,
        user: row.get(2)?,
        reason: row.get(3)?,
        consumer: row.get(4)?,
        cursors: row.get::<_, i64>(5)?.unsigned_abs(),
    })
}

pub(super) fn info(conn: &Connection, name: &str) -> Result<Option<SnapshotRow>, StoreError> {
    conn.query_row(
        &format!("SELECT {SNAPSHOT_COLUMNS} FROM snapshots s WHERE s.name = ?1"),
        [name],
        snapshot_row,
    )
    .optional()
    .map_err(db_err("reading a snapshot"))
}

pub(super) fn visit(
    conn: &Connection,
    each: &mut dyn FnMut(&SnapshotRow) -> Visit,
) -> Result<(), StoreError> {
    let mut stmt = conn
        .prepare(&format!(
            "SELECT {SNAPSHOT_COLUMNS} FROM snapshots s ORDER BY s.name"
        ))
        .map_err(db_err("listing snapshots"))?;
    let mut rows = stmt.query([]).map_err(db_err("listing snapshots"))?;
    while let Some(row) = rows.next().map_err(db_err("listing snapshots"))? {
        let snapshot = snapshot_row(row).map_err(db_err("listing snapshots"))?;
        if each(&snapshot).is_break() {
            break;
        }
    }
    Ok(())
}

pub(super) fn visit_cursors(
    conn: &Connection,
    name: &str,
    each: &mut dyn FnMut(&CursorRow) -> Visit,
) -> Result<(), StoreError> {
    let mut stmt = conn
        .prepare(
            "SELECT consumer, channel, partition, offset FROM snapshot_cursors \
             WHERE snapshot = ?1 ORDER BY consumer, channel, partition",
        )
        .map_err(db_err("reading a snapshot"))?;
    let mut rows = stmt.query([name]).map_err(db_err("reading a snapshot"))?;
    while let Some(row) = rows.next().map_err(db_err("reading a snapshot"))? {
        let cursor = (|| {
            Ok::<_, rusqlite::Error>(CursorRow {
                consumer: row.get(0)?,
                channel: row.get(1)?,
                partition: u32::try_from(row.get::<_, i64>(2)?).unwrap_or(u32::MAX),
                offset: row.get::<_, i64>(3)?.unsigned_abs(),
                updated_at: None,
            })
        })()
        .map_err(db_err("reading a snapshot"))?;
        if each(&cursor).is_break() {
            break;
        }
    }
    Ok(())
}

pub(super) fn save(
    conn: &Connection,
    now: i64,
    name: &str,
    consumer: Option<&str>,
    reason: Option<&str>,
    user: &str,
) -> Result<u64, StoreError> {
    conn.execute(
        "INSERT INTO snapshots (name, at, user, reason, consumer) VALUES (?1, ?2, ?3, ?4, ?5)",
        params![name, now, user, reason, consumer],
    )
    .map_err(db_err("saving a snapshot"))?;
    let saved = conn
        .execute(
            "INSERT INTO snapshot_cursors (snapshot, consumer, channel, partition, offset) \
             SELECT ?1, consumer, channel, partition, offset FROM cursors \
             WHERE ?2 IS NULL OR consumer = ?2",
            params![name, consumer],
        )
        .map_err(db_err("saving a snapshot"))?;
    Ok(saved as u64)
}

pub(super) fn drop(conn: &Connection, name: &str) -> Result<bool, StoreError> {
    conn.execute("DELETE FROM snapshot_cursors WHERE snapshot = ?1", [name])
        .map_err(db_err("dropping a snapshot"))?;
    let dropped = conn
        .execute("DELETE FROM snapshots WHERE name = ?1", [name])
        .map_err(db_err("dropping a snapshot"))?;
    Ok(dropped == 1)
}
