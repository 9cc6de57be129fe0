//! Heads (schema version 3): each partition's head, the cursors joined
//! with them (one streamed query), and the head history.

use postgres::types::Type;

use super::read::{literal, partition_of, stream};
use super::PostgresStore;
use crate::error::StoreError;
use crate::key::{CursorKey, PartitionKey};
use crate::parse::MAX_OFFSET;
use crate::store::{
    CursorFilter, CursorHeadRow, CursorRow, HeadChangeInput, HeadChangeRow, HeadFilter, HeadRow,
    Visit, HEADS_VERSION,
};

const SELECT_HEAD: &str =
    "SELECT head, recorded_at FROM heads WHERE channel = $1 AND partition = $2";

const SWAP_HEAD: &str = "UPDATE heads SET head = $3, \
     recorded_at = (extract(epoch from now()) * 1000)::bigint \
     WHERE channel = $1 AND partition = $2 AND head = $4";

const INSERT_HEAD: &str = "INSERT INTO heads (channel, partition, head, recorded_at) \
     VALUES ($1, $2, $3, (extract(epoch from now()) * 1000)::bigint) ON CONFLICT DO NOTHING";

const RECORD_HEAD: &str = "INSERT INTO head_history (at, channel, partition, old_head, new_head, \
     command, reason, \"user\") \
     VALUES ((extract(epoch from now()) * 1000)::bigint, $1, $2, $3, $4, $5, $6, $7) RETURNING id";

const HEAD_TYPES: &[Type] = &[Type::TEXT, Type::INT8, Type::INT8, Type::INT8];

const RECORD_TYPES: &[Type] = &[
    Type::TEXT,
    Type::INT8,
    Type::INT8,
    Type::INT8,
    Type::TEXT,
    Type::TEXT,
    Type::TEXT,
];

impl PostgresStore {
    /// Whether the store has the heads table (schema version 3 or later).
    fn has_heads(&self) -> bool {
        self.version.get() >= HEADS_VERSION
    }
}

fn head_of(key: impl FnOnce() -> String, value: i64) -> Result<u64, StoreError> {
    u64::try_from(value).map_err(|_| StoreError::InvalidValue {
        key: key(),
        value: format!("the negative integer {value}"),
    })
}

fn sql_offset(offset: u64) -> i64 {
    i64::try_from(offset).unwrap_or(i64::MAX)
}

pub(super) fn head(
    store: &PostgresStore,
    key: &PartitionKey,
) -> Result<Option<HeadRow>, StoreError> {
    if !store.has_heads() {
        return Ok(None);
    }
    let (channel, partition) = (key.channel().as_str(), i64::from(key.index()));
    let row = store
        .with_statement(SELECT_HEAD, &HEAD_TYPES[..2], |c, s| {
            s.query_opt(c, &[&channel, &partition])
        })
        .map_err(|e| store.error("reading a head", e))?;
    let Some(row) = row else { return Ok(None) };
    Ok(Some(HeadRow {
        channel: channel.to_owned(),
        partition: key.index(),
        head: head_of(|| key.to_string(), row.get(0))?,
        recorded_at: row.get(1),
    }))
}

/// A cursor and its partition's head in one round trip.
const SELECT_CURSOR_HEAD: &str = "SELECT c.\"offset\", c.updated_at, h.head, h.recorded_at \
     FROM (SELECT $1::text AS consumer, $2::text AS channel, $3::int8 AS partition) k \
     LEFT JOIN cursors c \
       ON c.consumer = k.consumer AND c.channel = k.channel AND c.partition = k.partition \
     LEFT JOIN heads h ON h.channel = k.channel AND h.partition = k.partition";

pub(super) fn cursor_head(
    store: &PostgresStore,
    key: &CursorKey,
) -> Result<(Option<CursorRow>, Option<HeadRow>), StoreError> {
    if !store.has_heads() {
        return Ok((super::read::cursor(store, key)?, None));
    }
    let (consumer, channel, partition) = super::read::columns(key);
    let row = store
        .with_statement(SELECT_CURSOR_HEAD, super::read::KEY_TYPES, |c, s| {
            s.query_one(c, &[&consumer, &channel, &partition])
        })
        .map_err(|e| store.error("reading a cursor", e))?;
    let pk = key.partition_key();
    let cursor = match row.get::<_, Option<i64>>(0) {
        None => None,
        Some(offset) => Some(CursorRow {
            consumer: consumer.to_owned(),
            channel: channel.to_owned(),
            partition: pk.index(),
            offset: u64::try_from(offset).map_err(|_| StoreError::InvalidValue {
                key: key.to_string(),
                value: format!("the negative integer {offset}"),
            })?,
            updated_at: row.get(1),
        }),
    };
    let head = match row.get::<_, Option<i64>>(2) {
        None => None,
        Some(head) => Some(HeadRow {
            channel: channel.to_owned(),
            partition: pk.index(),
            head: head_of(|| pk.to_string(), head)?,
            recorded_at: row.get(3),
        }),
    };
    Ok((cursor, head))
}

fn filter_sql(query: &mut String, filter: &HeadFilter) {
    if let Some(c) = &filter.channel {
        query.push_str(&format!(" AND channel = {}", literal(c)));
    }
    if let Some(p) = filter.partition {
        query.push_str(&format!(" AND partition = {p}"));
    }
}

pub(super) fn visit_heads(
    store: &PostgresStore,
    filter: &HeadFilter,
    each: &mut dyn FnMut(&HeadRow) -> Visit,
) -> Result<(), StoreError> {
    if !store.has_heads() {
        return Ok(());
    }
    let mut query =
        String::from("SELECT channel, partition, head, recorded_at FROM heads WHERE true");
    filter_sql(&mut query, filter);
    query.push_str(" ORDER BY channel, partition");
    let mut buf = HeadRow::default();
    stream(store, &query, "listing heads", |row| {
        buf.channel.clear();
        buf.channel.push_str(row.get(0));
        buf.partition = partition_of(row.get(1));
        buf.head = head_of(|| buf.partition_key(), row.get(2))?;
        buf.recorded_at = row.get(3);
        Ok(each(&buf))
    })
}

pub(super) fn visit_cursor_heads(
    store: &PostgresStore,
    filter: &CursorFilter,
    each: &mut dyn FnMut(Result<&CursorHeadRow, StoreError>) -> Visit,
) -> Result<(), StoreError> {
    let (lease_columns, lease_join) = super::leases::listing_columns(store);
    let mut query = if store.has_heads() {
        format!(
            "SELECT c.consumer, c.channel, c.partition, c.\"offset\", c.updated_at, h.head, \
             h.recorded_at, {lease_columns} \
             FROM cursors c LEFT JOIN heads h ON h.channel = c.channel AND h.partition = c.partition\
             {lease_join} WHERE true"
        )
    } else {
        format!(
            "SELECT c.consumer, c.channel, c.partition, c.\"offset\", c.updated_at, \
             NULL::bigint, NULL::bigint, {lease_columns} FROM cursors c{lease_join} WHERE true"
        )
    };
    if let Some(c) = &filter.consumer {
        query.push_str(&format!(" AND c.consumer = {}", literal(c)));
    }
    if let Some(c) = &filter.channel {
        query.push_str(&format!(" AND c.channel = {}", literal(c)));
    }
    if let Some(t) = filter.updated_before {
        query.push_str(&format!(" AND c.updated_at <= {t}"));
    }
    query.push_str(" ORDER BY c.consumer, c.channel, c.partition");
    let mut buf = CursorHeadRow::default();
    stream(store, &query, "listing cursors", |row| {
        let cursor = &mut buf.cursor;
        cursor.consumer.clear();
        cursor.consumer.push_str(row.get(0));
        cursor.channel.clear();
        cursor.channel.push_str(row.get(1));
        cursor.partition = partition_of(row.get(2));
        cursor.updated_at = row.get(4);
        buf.head = row
            .get::<_, Option<i64>>(5)
            .map(|h| head_of(|| buf.cursor.partition_key(), h))
            .transpose()?;
        buf.head_recorded_at = row.get(6);
        buf.lease_owner = row.get(7);
        buf.lease_expires_at = row.get(8);
        buf.consumer_uses_leases = row.get(9);
        let offset: i64 = row.get(3);
        Ok(match u64::try_from(offset) {
            Ok(offset) => {
                buf.cursor.offset = offset;
                each(Ok(&buf))
            }
            Err(_) => each(Err(StoreError::InvalidValue {
                key: buf.cursor.key(),
                value: format!("the negative integer {offset}"),
            })),
        })
    })
}

pub(super) fn visit_head_changes(
    store: &PostgresStore,
    filter: &HeadFilter,
    each: &mut dyn FnMut(&HeadChangeRow) -> Visit,
) -> Result<(), StoreError> {
    if !store.has_heads() {
        return Ok(());
    }
    let mut query = String::from(
        "SELECT id, at, channel, partition, old_head, new_head, command, reason, \"user\" \
         FROM head_history WHERE true",
    );
    filter_sql(&mut query, filter);
    query.push_str(" ORDER BY id");
    stream(store, &query, "reading the head history", |row| {
        let change = HeadChangeRow {
            id: row.get(0),
            at: row.get(1),
            channel: row.get(2),
            partition: partition_of(row.get(3)),
            old_head: row.get::<_, Option<i64>>(4).map(i64::unsigned_abs),
            new_head: row.get::<_, i64>(5).unsigned_abs(),
            command: row.get(6),
            reason: row.get(7),
            user: row.get(8),
        };
        Ok(each(&change))
    })
}

pub(super) fn swap_head(
    store: &PostgresStore,
    key: &PartitionKey,
    expected: Option<u64>,
    new: u64,
) -> Result<Result<(), Option<u64>>, StoreError> {
    if new > MAX_OFFSET {
        return Err(StoreError::InvalidValue {
            key: key.to_string(),
            value: format!("the head {new}, above the limit {MAX_OFFSET}"),
        });
    }
    let (channel, partition) = (key.channel().as_str(), i64::from(key.index()));
    let new_sql = sql_offset(new);
    let changed = match expected {
        Some(old) => {
            let old = sql_offset(old);
            store.with_statement(SWAP_HEAD, HEAD_TYPES, |c, s| {
                s.execute(c, &[&channel, &partition, &new_sql, &old])
            })
        }
        None => store.with_statement(INSERT_HEAD, &HEAD_TYPES[..3], |c, s| {
            s.execute(c, &[&channel, &partition, &new_sql])
        }),
    }
    .map_err(|e| store.error("writing a head", e))?;
    if changed == 1 {
        return Ok(Ok(()));
    }
    Ok(Err(head(store, key)?.map(|h| h.head)))
}

pub(super) fn record_head_change(
    store: &PostgresStore,
    change: &HeadChangeInput<'_>,
) -> Result<i64, StoreError> {
    let (channel, partition) = (change.key.channel().as_str(), i64::from(change.key.index()));
    let old = change.old_head.map(sql_offset);
    let new = sql_offset(change.new_head);
    store
        .with_statement(RECORD_HEAD, RECORD_TYPES, |c, s| {
            s.query_one(
                c,
                &[
                    &channel,
                    &partition,
                    &old,
                    &new,
                    &change.command,
                    &change.reason,
                    &change.user,
                ],
            )
        })
        .map(|row| row.get(0))
        .map_err(|e| store.error("recording a head change", e))
}
