//! Snapshots: offsets kept in the store (schema version 2).

use postgres::Row;

use super::PostgresStore;
use crate::error::StoreError;
use crate::store::{CursorRow, SnapshotRow, Visit};

const SNAPSHOT_COLUMNS: &str = "s.name, s.at, s.\"user\", s.reason, s.consumer, \
     (SELECT count(*) FROM snapshot_cursors c WHERE c.snapshot = s.name)";

fn snapshot_row(row: &Row) -> SnapshotRow {
    SnapshotRow {
        name: row.get(0),
        at: row.get(1),
        user: row.get(2),
        reason: row.get(3),
        consumer: row.get(4),
        cursors: row.get::<_, i64>(5).unsigned_abs(),
    }
}

pub(super) fn info(store: &PostgresStore, name: &str) -> Result<Option<SnapshotRow>, StoreError> {
    let sql = format!("SELECT {SNAPSHOT_COLUMNS} FROM snapshots s WHERE s.name = $1");
    store
        .client
        .borrow_mut()
        .query_opt(sql.as_str(), &[&name])
        .map(|row| row.as_ref().map(snapshot_row))
        .map_err(|e| store.error("reading a snapshot", e))
}

pub(super) fn visit(
    store: &PostgresStore,
    each: &mut dyn FnMut(&SnapshotRow) -> Visit,
) -> Result<(), StoreError> {
    let sql = format!("SELECT {SNAPSHOT_COLUMNS} FROM snapshots s ORDER BY s.name");
    let rows = store
        .client
        .borrow_mut()
        .query(sql.as_str(), &[])
        .map_err(|e| store.error("listing snapshots", e))?;
    for row in &rows {
        if each(&snapshot_row(row)).is_break() {
            break;
        }
    }
    Ok(())
}

pub(super) fn visit_cursors(
    store: &PostgresStore,
    name: &str,
    each: &mut dyn FnMut(&CursorRow) -> Visit,
) -> Result<(), StoreError> {
    let rows = store
        .client
        .borrow_mut()
        .query(
            "SELECT consumer, channel, partition, \"offset\" FROM snapshot_cursors \
             WHERE snapshot = $1 ORDER BY consumer, channel, partition",
            &[&name],
        )
        .map_err(|e| store.error("reading a snapshot", e))?;
    for row in &rows {
        let cursor = CursorRow {
            consumer: row.get(0),
            channel: row.get(1),
            partition: u32::try_from(row.get::<_, i64>(2)).unwrap_or(u32::MAX),
            offset: row.get::<_, i64>(3).unsigned_abs(),
            updated_at: None,
        };
        if each(&cursor).is_break() {
            break;
        }
    }
    Ok(())
}

pub(super) fn save(
    store: &PostgresStore,
    name: &str,
    consumer: Option<&str>,
    reason: Option<&str>,
    user: &str,
) -> Result<u64, StoreError> {
    let mut client = store.client.borrow_mut();
    let saved = client
        .execute(
            "INSERT INTO snapshots (name, at, \"user\", reason, consumer) \
             VALUES ($1, (extract(epoch from clock_timestamp()) * 1000)::bigint, $2, $3, $4)",
            &[&name, &user, &reason, &consumer],
        )
        .and_then(|_| {
            client.execute(
                "INSERT INTO snapshot_cursors (snapshot, consumer, channel, partition, \"offset\") \
                 SELECT $1, consumer, channel, partition, \"offset\" FROM cursors \
                 WHERE $2::text IS NULL OR consumer = $2",
                &[&name, &consumer],
            )
        });
    drop(client);
    saved.map_err(|e| store.error("saving a snapshot", e))
}

pub(super) fn drop_snapshot(store: &PostgresStore, name: &str) -> Result<bool, StoreError> {
    store
        .client
        .borrow_mut()
        .execute("DELETE FROM snapshots WHERE name = $1", &[&name])
        .map(|n| n == 1)
        .map_err(|e| store.error("dropping a snapshot", e))
}
