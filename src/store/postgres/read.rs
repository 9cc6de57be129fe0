//! Reads: one cursor, and listings streamed through a server-side cursor
//! so that memory stays flat however large the store.

use postgres::types::Type;
use postgres::Row;

use super::PostgresStore;
use crate::error::{DurabilityError, StoreError};
use crate::key::CursorKey;
use crate::store::{CursorFilter, CursorRow, HistoryFilter, HistoryRow, Visit};

/// Rows fetched from a server-side cursor at a time.
const FETCH: usize = 5000;

const SELECT_CURSOR: &str = "SELECT \"offset\", updated_at FROM cursors \
     WHERE consumer = $1 AND channel = $2 AND partition = $3";

pub(super) const SELECT_OFFSET: &str =
    "SELECT \"offset\" FROM cursors WHERE consumer = $1 AND channel = $2 AND partition = $3";

/// The parameter types of a statement on one cursor's key columns.
pub(super) const KEY_TYPES: &[Type] = &[Type::TEXT, Type::TEXT, Type::INT8];

const HISTORY_COLUMNS: &str = "id, at, consumer, channel, partition, old_offset, new_offset, \
     command, reason, \"user\", batch, role";

/// A text value as an SQL literal (`standard_conforming_strings` is on
/// for every session cursorctl opens).
pub(super) fn literal(text: &str) -> String {
    format!("'{}'", text.replace('\'', "''"))
}

fn offset_of(key: &str, value: i64) -> Result<u64, StoreError> {
    u64::try_from(value).map_err(|_| StoreError::InvalidValue {
        key: key.to_owned(),
        value: format!("the negative integer {value}"),
    })
}

pub(super) fn partition_of(value: i64) -> u32 {
    u32::try_from(value).unwrap_or(u32::MAX)
}

/// The key's three columns as statement parameters.
pub(super) fn columns(key: &CursorKey) -> (&str, &str, i64) {
    let pk = key.partition_key();
    (
        key.consumer().as_str(),
        pk.channel().as_str(),
        i64::from(pk.index()),
    )
}

pub(super) fn cursor(
    store: &PostgresStore,
    key: &CursorKey,
) -> Result<Option<CursorRow>, StoreError> {
    let (consumer, channel, partition) = columns(key);
    let row = store
        .with_statement(SELECT_CURSOR, KEY_TYPES, |c, s| {
            s.query_opt(c, &[&consumer, &channel, &partition])
        })
        .map_err(|e| store.error("reading a cursor", e))?;
    let Some(row) = row else { return Ok(None) };
    Ok(Some(CursorRow {
        consumer: consumer.to_owned(),
        channel: channel.to_owned(),
        partition: key.partition_key().index(),
        offset: offset_of(&key.to_string(), row.get(0))?,
        updated_at: row.get(1),
    }))
}

pub(super) fn offset(
    store: &PostgresStore,
    key: &CursorKey,
) -> Result<Option<u64>, DurabilityError> {
    let (consumer, channel, partition) = columns(key);
    let row = store
        .with_statement(SELECT_OFFSET, KEY_TYPES, |c, s| {
            s.query_opt(c, &[&consumer, &channel, &partition])
        })
        .map_err(|e| store.error("reading a cursor", e))?;
    Ok(row
        .map(|r| offset_of(&key.to_string(), r.get(0)))
        .transpose()?)
}

/// Stream the rows of `query` through a server-side cursor, `FETCH` rows at
/// a time, inside the transaction that is open.
pub(super) fn stream(
    store: &PostgresStore,
    query: &str,
    context: &str,
    mut each: impl FnMut(&Row) -> Result<Visit, StoreError>,
) -> Result<(), StoreError> {
    store.simple(
        &format!("DECLARE cursorctl_listing NO SCROLL CURSOR FOR {query}"),
        context,
    )?;
    let fetch = format!("FETCH FORWARD {FETCH} FROM cursorctl_listing");
    let result = (|| loop {
        // Unnamed and without parameters: one round trip a fetch (a
        // prepared statement would take two, and a close).
        let rows = store
            .client
            .borrow_mut()
            .query_typed(fetch.as_str(), &[])
            .map_err(|e| store.error(context, e))?;
        for row in &rows {
            if each(row)?.is_break() {
                return Ok(());
            }
        }
        if rows.len() < FETCH {
            return Ok(());
        }
    })();
    let closed = store.simple("CLOSE cursorctl_listing", context);
    result?;
    closed
}

pub(super) fn visit_cursors(
    store: &PostgresStore,
    filter: &CursorFilter,
    each: &mut dyn FnMut(Result<&CursorRow, StoreError>) -> Visit,
) -> Result<(), StoreError> {
    let mut query = String::from(
        "SELECT consumer, channel, partition, \"offset\", updated_at FROM cursors WHERE true",
    );
    if let Some(c) = &filter.consumer {
        query.push_str(&format!(" AND consumer = {}", literal(c)));
    }
    if let Some(c) = &filter.channel {
        query.push_str(&format!(" AND channel = {}", literal(c)));
    }
    if let Some(t) = filter.updated_before {
        query.push_str(&format!(" AND updated_at <= {t}"));
    }
    query.push_str(" ORDER BY consumer, channel, partition");
    let mut buf = CursorRow::default();
    stream(store, &query, "listing cursors", |row| {
        buf.consumer.clear();
        buf.consumer.push_str(row.get(0));
        buf.channel.clear();
        buf.channel.push_str(row.get(1));
        buf.partition = partition_of(row.get(2));
        buf.updated_at = row.get(4);
        let offset: i64 = row.get(3);
        Ok(match u64::try_from(offset) {
            Ok(offset) => {
                buf.offset = offset;
                each(Ok(&buf))
            }
            Err(_) => each(Err(StoreError::InvalidValue {
                key: buf.key(),
                value: format!("the negative integer {offset}"),
            })),
        })
    })
}

fn history_row(row: &Row) -> HistoryRow {
    let opt = |i| row.get::<_, Option<i64>>(i).map(i64::unsigned_abs);
    HistoryRow {
        id: row.get(0),
        at: row.get(1),
        consumer: row.get(2),
        channel: row.get(3),
        partition: partition_of(row.get(4)),
        old_offset: opt(5),
        new_offset: opt(6),
        command: row.get(7),
        reason: row.get(8),
        user: row.get(9),
        batch: row.get(10),
        role: row.get(11),
    }
}

pub(super) fn visit_changes(
    store: &PostgresStore,
    filter: &HistoryFilter,
    each: &mut dyn FnMut(&HistoryRow) -> Visit,
) -> Result<(), StoreError> {
    let mut query = format!("SELECT {HISTORY_COLUMNS} FROM history WHERE true");
    if let Some(c) = &filter.consumer {
        query.push_str(&format!(" AND consumer = {}", literal(c)));
    }
    if let Some(pk) = &filter.partition_key {
        query.push_str(&format!(
            " AND channel = {} AND partition = {}",
            literal(pk.channel().as_str()),
            pk.index()
        ));
    }
    if let Some(t) = filter.since {
        // From the first change recorded at or after the time on, in the
        // order of ids.
        query.push_str(&format!(
            " AND id >= (SELECT min(id) FROM history WHERE at >= {t})"
        ));
    }
    if let Some(b) = filter.batch {
        query.push_str(&format!(" AND batch = {b}"));
    }
    if let Some(limit) = filter.limit {
        query = format!(
            "SELECT * FROM ({query} ORDER BY id DESC LIMIT {}) newest ORDER BY id",
            limit.min(i64::MAX as u64)
        );
    } else {
        query.push_str(" ORDER BY id");
    }
    stream(store, &query, "reading the history", |row| {
        Ok(each(&history_row(row)))
    })
}

pub(super) fn change(store: &PostgresStore, id: i64) -> Result<Option<HistoryRow>, StoreError> {
    const SQL: &str = "SELECT id, at, consumer, channel, partition, old_offset, new_offset, \
         command, reason, \"user\", batch, role FROM history WHERE id = $1";
    store
        .with_statement(SQL, &[Type::INT8], |c, s| s.query_opt(c, &[&id]))
        .map_err(|e| store.error("reading the history", e))
        .map(|row| row.as_ref().map(history_row))
}

pub(super) fn batch_change_ids(store: &PostgresStore, batch: i64) -> Result<Vec<i64>, StoreError> {
    store
        .with_statement(
            "SELECT id FROM history WHERE batch = $1 ORDER BY id",
            &[Type::INT8],
            |c, s| s.query(c, &[&batch]),
        )
        .map_err(|e| store.error("reading a batch", e))
        .map(|rows| rows.iter().map(|r| r.get(0)).collect())
}

pub(super) fn visit_batches(
    store: &PostgresStore,
    each: &mut dyn FnMut(&crate::store::BatchRow) -> Visit,
) -> Result<(), StoreError> {
    stream(
        store,
        "SELECT id, at, command, reason, \"user\" FROM batches ORDER BY id",
        "reading the batches",
        |row| {
            Ok(each(&crate::store::BatchRow {
                id: row.get(0),
                at: row.get(1),
                command: row.get(2),
                reason: row.get(3),
                user: row.get(4),
            }))
        },
    )
}

pub(super) fn visit_consumers(
    store: &PostgresStore,
    filter: &crate::store::ConsumerFilter,
    each: &mut dyn FnMut(&crate::store::ConsumerSummary) -> Visit,
) -> Result<(), StoreError> {
    let idle = filter
        .idle_before
        .map_or_else(|| "false".to_owned(), |t| format!("c.updated_at <= {t}"));
    // Each cursor joined with its partition's head (none on a store older
    // than schema version 3): lag is head - offset, never negative.
    let heads = if store.version.get() >= crate::store::HEADS_VERSION {
        "heads"
    } else {
        "(SELECT NULL::text AS channel, NULL::bigint AS partition, NULL::bigint AS head)"
    };
    let moved = filter
        .stall_before
        .map_or_else(|| "false".to_owned(), |t| format!("c.updated_at > {t}"));
    let live_leases = if store.has_leases() {
        "(SELECT count(*) FROM leases l WHERE l.consumer = c.consumer \
         AND l.expires_at > (extract(epoch from statement_timestamp()) * 1000)::bigint)"
    } else {
        "0::bigint"
    };
    let mut query = format!(
        "SELECT c.consumer, count(*), count(DISTINCT c.channel), min(c.\"offset\"), max(c.\"offset\"), \
         min(c.updated_at), max(c.updated_at), count(*) FILTER (WHERE {idle}), \
         count(h.head), coalesce(sum(greatest(h.head - c.\"offset\", 0)), 0)::text, \
         max(greatest(h.head - c.\"offset\", 0)), \
         count(*) FILTER (WHERE h.head > c.\"offset\" AND {moved}), \
         count(*) FILTER (WHERE h.head > c.\"offset\" AND NOT ({moved})), \
         {live_leases} \
         FROM cursors c LEFT JOIN {heads} h ON h.channel = c.channel AND h.partition = c.partition"
    );
    if let Some(c) = &filter.consumer {
        query.push_str(&format!(" WHERE c.consumer = {}", literal(c)));
    }
    query.push_str(" GROUP BY c.consumer ORDER BY c.consumer");
    let count = |v: i64| u64::try_from(v).unwrap_or(0);
    stream(store, &query, "summing up consumers", |row| {
        Ok(each(&crate::store::ConsumerSummary {
            consumer: row.get(0),
            cursors: count(row.get(1)),
            channels: count(row.get(2)),
            lowest_offset: count(row.get(3)),
            highest_offset: count(row.get(4)),
            oldest_update: row.get(5),
            newest_update: row.get(6),
            idle: count(row.get(7)),
            with_head: count(row.get(8)),
            total_lag: row.get::<_, String>(9).parse().unwrap_or(u64::MAX),
            highest_lag: row.get::<_, Option<i64>>(10).map(count),
            behind: count(row.get(11)),
            stalled: count(row.get(12)),
            live_leases: count(row.get(13)),
        }))
    })
}

/// The first change kept by a prune before $1: the first one recorded at
/// or after $1, in the order of ids (NULL: none is, every change goes).
const FIRST_KEPT_CHANGE: &str = "(SELECT min(id) FROM history WHERE at >= $1)";

/// The first batch kept by a prune before $1, likewise.
const FIRST_KEPT_BATCH: &str = "(SELECT min(id) FROM batches WHERE at >= $1)";

/// The changes before the first kept one, outside any batch with a change
/// kept.
fn prunable_changes() -> String {
    format!(
        "FROM history WHERE ({FIRST_KEPT_CHANGE} IS NULL OR id < {FIRST_KEPT_CHANGE}) \
         AND (batch IS NULL OR batch NOT IN \
         (SELECT batch FROM history WHERE batch IS NOT NULL AND id >= {FIRST_KEPT_CHANGE}))"
    )
}

/// Batches before the first kept one.
fn prunable_batches() -> String {
    format!("FROM batches WHERE ({FIRST_KEPT_BATCH} IS NULL OR id < {FIRST_KEPT_BATCH})")
}

pub(super) fn prunable_history(
    store: &PostgresStore,
    before: i64,
) -> Result<(u64, u64), StoreError> {
    let sql = format!(
        "SELECT (SELECT count(*) {changes}), \
                (SELECT count(*) {batches} AND id NOT IN \
                   (SELECT batch FROM history WHERE batch IS NOT NULL AND id NOT IN \
                      (SELECT id {changes})))",
        changes = prunable_changes(),
        batches = prunable_batches()
    );
    let row = store
        .client
        .borrow_mut()
        .query_one(sql.as_str(), &[&before])
        .map_err(|e| store.error("counting the history to prune", e))?;
    let n = |v: i64| v.unsigned_abs();
    Ok((n(row.get(0)), n(row.get(1))))
}

pub(super) fn prune_history(store: &PostgresStore, before: i64) -> Result<(u64, u64), StoreError> {
    let mut client = store.client.borrow_mut();
    if store.version.get() >= 4 {
        // The one way rows leave an append-only history (schema version 4).
        let row = client
            .query_one("SELECT changes, batches FROM prune_history($1)", &[&before])
            .map_err(|e| store.error("pruning the history", e))?;
        return Ok((
            row.get::<_, i64>(0).unsigned_abs(),
            row.get::<_, i64>(1).unsigned_abs(),
        ));
    }
    let changes = client
        .execute(
            format!("DELETE {}", prunable_changes()).as_str(),
            &[&before],
        )
        .map_err(|e| store.error("pruning the history", e))?;
    let batches = client
        .execute(
            format!(
                "DELETE {} AND id NOT IN (SELECT batch FROM history WHERE batch IS NOT NULL)",
                prunable_batches()
            )
            .as_str(),
            &[&before],
        )
        .map_err(|e| store.error("pruning the history", e))?;
    Ok((changes, batches))
}

/// The highest id a sequence of an identity column has given (NULL when
/// it gave none, or when the role may not read the sequence).
fn sequence_last_value(table: &str) -> String {
    format!(
        "(SELECT s.last_value FROM pg_sequences s \
          WHERE format('%I.%I', s.schemaname, s.sequencename) = pg_get_serial_sequence('{table}', 'id'))"
    )
}

/// The highest ids given: the identity sequences keep them when rows are
/// pruned; the highest ids left where the sequence cannot be read.
pub(super) fn highest_ids(store: &PostgresStore) -> Result<crate::store::HighestIds, StoreError> {
    let sql = format!(
        "SELECT greatest(coalesce({history}, 0), coalesce((SELECT max(id) FROM history), 0)), \
                greatest(coalesce({batches}, 0), coalesce((SELECT max(id) FROM batches), 0))",
        history = sequence_last_value("history"),
        batches = sequence_last_value("batches"),
    );
    let row = store
        .client
        .borrow_mut()
        .query_one(sql.as_str(), &[])
        .map_err(|e| store.error("reading the highest ids", e))?;
    Ok(crate::store::HighestIds {
        change: row.get(0),
        batch: row.get(1),
    })
}
