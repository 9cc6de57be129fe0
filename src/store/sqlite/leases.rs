//! Leases (schema version 4): one row per cursor with its owner, epoch and
//! times on the store's clock; the checkpoint through a lease as one
//! guarded statement, and the renewal as one statement.

use rusqlite::{params, Connection, OptionalExtension, Row};

use super::db_err;
use super::schema::NOW_MS_SQL;
use super::write::{sql_offset, to_sql_offset};
use crate::error::{DurabilityError, StoreError};
use crate::key::CursorKey;
use crate::store::{LeaseRow, Visit, LEASES_VERSION};

/// Whether the store has the leases table (schema version 4 or later).
pub(super) fn has_leases(conn: &Connection) -> Result<bool, StoreError> {
    let version: i64 = conn
        .pragma_query_value(None, "user_version", |r| r.get(0))
        .map_err(db_err("reading the schema version"))?;
    Ok(version >= LEASES_VERSION)
}

fn must_have_leases(conn: &Connection) -> Result<(), StoreError> {
    if has_leases(conn)? {
        return Ok(());
    }
    let version: i64 = conn
        .pragma_query_value(None, "user_version", |r| r.get(0))
        .map_err(db_err("reading the schema version"))?;
    Err(crate::lease::older_store(version))
}

fn columns(key: &CursorKey) -> (&str, &str, u32) {
    let pk = key.partition_key();
    (key.consumer().as_str(), pk.channel().as_str(), pk.index())
}

const COLUMNS: &str = "consumer, channel, partition, owner, epoch, acquired_at, expires_at";

fn lease_from(row: &Row<'_>) -> rusqlite::Result<LeaseRow> {
    Ok(LeaseRow {
        consumer: row.get(0)?,
        channel: row.get(1)?,
        partition: u32::try_from(row.get::<_, i64>(2)?).unwrap_or(u32::MAX),
        owner: row.get(3)?,
        epoch: u64::try_from(row.get::<_, i64>(4)?).unwrap_or(0),
        acquired_at: row.get(5)?,
        expires_at: row.get(6)?,
    })
}

/// One cursor's lease (`None` on an older store).
pub(super) fn read_lease(
    conn: &Connection,
    key: &CursorKey,
) -> Result<Option<LeaseRow>, StoreError> {
    if !has_leases(conn)? {
        return Ok(None);
    }
    let (consumer, channel, partition) = columns(key);
    // The key's columns are known: each result column more costs the
    // statement's preparation, which is most of a one-cursor look-up.
    conn.prepare_cached(
        "SELECT owner, epoch, acquired_at, expires_at FROM leases \
         WHERE consumer = ?1 AND channel = ?2 AND partition = ?3",
    )
    .and_then(|mut s| {
        s.query_row(params![consumer, channel, partition], |row| {
            Ok(LeaseRow {
                consumer: consumer.to_owned(),
                channel: channel.to_owned(),
                partition,
                owner: row.get(0)?,
                epoch: u64::try_from(row.get::<_, i64>(1)?).unwrap_or(0),
                acquired_at: row.get(2)?,
                expires_at: row.get(3)?,
            })
        })
        .optional()
    })
    .map_err(db_err("reading a lease"))
}

/// Visit every lease (of `consumer`), in key order.
pub(super) fn visit_leases(
    conn: &Connection,
    consumer: Option<&str>,
    each: &mut dyn FnMut(&LeaseRow) -> Visit,
) -> Result<(), StoreError> {
    if !has_leases(conn)? {
        return Ok(());
    }
    let context = "listing leases";
    let mut stmt = conn
        .prepare(&format!(
            "SELECT {COLUMNS} FROM leases WHERE ?1 IS NULL OR consumer = ?1 \
             ORDER BY consumer, channel, partition"
        ))
        .map_err(db_err(context))?;
    let mut rows = stmt.query(params![consumer]).map_err(db_err(context))?;
    while let Some(row) = rows.next().map_err(db_err(context))? {
        let lease = lease_from(row).map_err(db_err(context))?;
        if each(&lease).is_break() {
            break;
        }
    }
    Ok(())
}

/// Insert or replace a cursor's lease.
pub(super) fn put_lease(conn: &Connection, row: &LeaseRow) -> Result<(), StoreError> {
    must_have_leases(conn)?;
    conn.prepare_cached(&format!(
        "INSERT OR REPLACE INTO leases ({COLUMNS}) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)"
    ))
    .and_then(|mut s| {
        s.execute(params![
            row.consumer,
            row.channel,
            row.partition,
            row.owner,
            i64::try_from(row.epoch).unwrap_or(i64::MAX),
            row.acquired_at,
            row.expires_at
        ])
    })
    .map_err(db_err("writing a lease"))?;
    Ok(())
}

/// The checkpoint through a lease as one statement: the guarded `UPDATE`
/// that writes only while the lease of `epoch` is live at `now`. Whether it
/// wrote; `false` leaves the rest (an absent cursor, a no-op, stale or
/// fenced) to the general path.
pub(super) fn leased_swap(
    conn: &Connection,
    key: &CursorKey,
    epoch: u64,
    expected: u64,
    new: u64,
    now: i64,
) -> Result<bool, DurabilityError> {
    if new == expected {
        return Ok(false);
    }
    let (consumer, channel, partition) = columns(key);
    let new = to_sql_offset(new)?;
    let changed = conn
        .prepare_cached(
            "UPDATE cursors SET offset = ?4, updated_at = ?5 \
             WHERE consumer = ?1 AND channel = ?2 AND partition = ?3 AND offset = ?6 \
             AND EXISTS (SELECT 1 FROM leases l WHERE l.consumer = ?1 AND l.channel = ?2 \
                         AND l.partition = ?3 AND l.epoch = ?7 AND l.expires_at > ?5)",
        )
        .and_then(|mut s| {
            s.execute(params![
                consumer,
                channel,
                partition,
                new,
                now,
                sql_offset(expected),
                sql_offset(epoch)
            ])
        });
    match changed {
        Ok(n) => Ok(n == 1),
        Err(e) => {
            if !has_leases(conn)? {
                return Err(crate::lease::no_leases(&key.to_string(), epoch));
            }
            Err(db_err("writing a cursor through its lease")(e).into())
        }
    }
}

/// Renew a live lease in one statement; its new expiry, or the fenced
/// error saying why nothing was renewed.
pub(super) fn renew(
    conn: &Connection,
    parsed: &CursorKey,
    owner: &str,
    epoch: u64,
    ttl_ms: i64,
) -> Result<i64, DurabilityError> {
    let (consumer, channel, partition) = columns(parsed);
    let renewed = conn
        .prepare_cached(&format!(
            "UPDATE leases SET expires_at = {NOW_MS_SQL} + ?6 \
             WHERE consumer = ?1 AND channel = ?2 AND partition = ?3 AND owner = ?4 \
             AND epoch = ?5 AND expires_at > {NOW_MS_SQL} RETURNING expires_at"
        ))
        .and_then(|mut s| {
            s.query_row(
                params![
                    consumer,
                    channel,
                    partition,
                    owner,
                    sql_offset(epoch),
                    ttl_ms
                ],
                |r| r.get::<_, i64>(0),
            )
            .optional()
        });
    match renewed {
        Ok(Some(expires_at)) => Ok(expires_at),
        Ok(None) => {
            let key = &parsed.to_string();
            let current = read_lease(conn, parsed)?;
            let now = super::now_ms();
            crate::lease::check_live(key, epoch, current.as_ref(), now)?;
            // Live and of this epoch, but another owner's name.
            Err(DurabilityError::Fenced {
                key: key.to_owned(),
                epoch,
                detail: format!("the lease of epoch {epoch} is held by another owner"),
            })
        }
        Err(e) => {
            if !has_leases(conn)? {
                return Err(crate::lease::no_leases(&parsed.to_string(), epoch));
            }
            Err(db_err("renewing a lease")(e).into())
        }
    }
}
