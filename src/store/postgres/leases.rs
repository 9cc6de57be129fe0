//! Leases (schema version 4): one row per cursor with its owner, epoch and
//! times on the server's clock; the checkpoint through a lease as one
//! guarded statement, and the renewal as one statement.

use postgres::types::Type;
use postgres::Row;

use super::read::{columns, literal, partition_of, stream};
use super::PostgresStore;
use crate::error::{DurabilityError, StoreError};
use crate::key::CursorKey;
use crate::store::{LeaseRow, Visit, LEASES_VERSION};

/// The server's clock in ms at the moment the statement reads it.
const CLOCK_MS: &str = "(extract(epoch from clock_timestamp()) * 1000)::bigint";

const SELECT: &str = "SELECT consumer, channel, partition, owner, epoch, acquired_at, expires_at \
     FROM leases WHERE consumer = $1 AND channel = $2 AND partition = $3";

const SELECT_FOR_UPDATE: &str = "SELECT consumer, channel, partition, owner, epoch, acquired_at, \
     expires_at FROM leases WHERE consumer = $1 AND channel = $2 AND partition = $3 FOR UPDATE";

const PUT: &str = "INSERT INTO leases (consumer, channel, partition, owner, epoch, acquired_at, \
     expires_at) VALUES ($1, $2, $3, $4, $5, $6, $7) \
     ON CONFLICT (consumer, channel, partition) DO UPDATE SET owner = EXCLUDED.owner, \
     epoch = EXCLUDED.epoch, acquired_at = EXCLUDED.acquired_at, expires_at = EXCLUDED.expires_at";

/// The checkpoint through a lease: the guarded `UPDATE` that writes only
/// while the lease of epoch `$6` is live on the server's clock.
const LEASED_SWAP: &str = "UPDATE cursors SET \"offset\" = $4, \
     updated_at = (extract(epoch from clock_timestamp()) * 1000)::bigint \
     WHERE consumer = $1 AND channel = $2 AND partition = $3 AND \"offset\" = $5 \
     AND EXISTS (SELECT 1 FROM leases l WHERE l.consumer = $1 AND l.channel = $2 \
                 AND l.partition = $3 AND l.epoch = $6 \
                 AND l.expires_at > (extract(epoch from clock_timestamp()) * 1000)::bigint)";

/// The renewal: one statement, only on the live lease of that owner and
/// epoch.
const RENEW: &str = "UPDATE leases \
     SET expires_at = (extract(epoch from clock_timestamp()) * 1000)::bigint + $6 \
     WHERE consumer = $1 AND channel = $2 AND partition = $3 AND owner = $4 AND epoch = $5 \
     AND expires_at > (extract(epoch from clock_timestamp()) * 1000)::bigint \
     RETURNING expires_at";

const KEY_TYPES: &[Type] = &[Type::TEXT, Type::TEXT, Type::INT8];
const PUT_TYPES: &[Type] = &[
    Type::TEXT,
    Type::TEXT,
    Type::INT8,
    Type::TEXT,
    Type::INT8,
    Type::INT8,
    Type::INT8,
];
const SWAP_TYPES: &[Type] = &[
    Type::TEXT,
    Type::TEXT,
    Type::INT8,
    Type::INT8,
    Type::INT8,
    Type::INT8,
];

fn sql_int(value: u64) -> i64 {
    i64::try_from(value).unwrap_or(i64::MAX)
}

impl PostgresStore {
    /// Whether the store has the leases table (schema version 4 or later).
    pub(super) fn has_leases(&self) -> bool {
        self.version.get() >= LEASES_VERSION
    }

    fn must_have_leases(&self) -> Result<(), StoreError> {
        if self.has_leases() {
            Ok(())
        } else {
            Err(crate::lease::older_store(self.version.get()))
        }
    }
}

fn lease_from(row: &Row) -> LeaseRow {
    LeaseRow {
        consumer: row.get(0),
        channel: row.get(1),
        partition: partition_of(row.get(2)),
        owner: row.get(3),
        epoch: u64::try_from(row.get::<_, i64>(4)).unwrap_or(0),
        acquired_at: row.get(5),
        expires_at: row.get(6),
    }
}

/// One cursor's lease (`None` on an older store); `lock`: `FOR UPDATE`.
pub(super) fn read_lease(
    store: &PostgresStore,
    key: &CursorKey,
    lock: bool,
) -> Result<Option<LeaseRow>, StoreError> {
    if !store.has_leases() {
        if lock {
            store.must_have_leases()?;
        }
        return Ok(None);
    }
    let (consumer, channel, partition) = columns(key);
    let sql = if lock { SELECT_FOR_UPDATE } else { SELECT };
    let row = store
        .with_statement(sql, KEY_TYPES, |c, s| {
            s.query_opt(c, &[&consumer, &channel, &partition])
        })
        .map_err(|e| store.error("reading a lease", e))?;
    Ok(row.as_ref().map(lease_from))
}

/// Visit every lease (of `consumer`), in key order.
pub(super) fn visit_leases(
    store: &PostgresStore,
    consumer: Option<&str>,
    each: &mut dyn FnMut(&LeaseRow) -> Visit,
) -> Result<(), StoreError> {
    if !store.has_leases() {
        return Ok(());
    }
    let mut query = String::from(
        "SELECT consumer, channel, partition, owner, epoch, acquired_at, expires_at \
         FROM leases WHERE true",
    );
    if let Some(c) = consumer {
        query.push_str(&format!(" AND consumer = {}", literal(c)));
    }
    query.push_str(" ORDER BY consumer, channel, partition");
    stream(store, &query, "listing leases", |row| {
        Ok(each(&lease_from(row)))
    })
}

/// Insert or replace a cursor's lease.
pub(super) fn put_lease(store: &PostgresStore, row: &LeaseRow) -> Result<(), StoreError> {
    store.must_have_leases()?;
    let partition = i64::from(row.partition);
    let epoch = sql_int(row.epoch);
    store
        .with_statement(PUT, PUT_TYPES, |c, s| {
            s.execute(
                c,
                &[
                    &row.consumer,
                    &row.channel,
                    &partition,
                    &row.owner,
                    &epoch,
                    &row.acquired_at,
                    &row.expires_at,
                ],
            )
        })
        .map_err(|e| store.error("writing a lease", e))?;
    Ok(())
}

/// The server's clock now, read by its own statement.
pub(super) fn clock_now(store: &PostgresStore) -> Result<i64, StoreError> {
    store
        .client
        .borrow_mut()
        .query_one(format!("SELECT {CLOCK_MS}").as_str(), &[])
        .map(|r| r.get(0))
        .map_err(|e| store.error("reading the server's clock", e))
}

/// The checkpoint through a lease as one statement; whether it wrote
/// (`false` leaves an absent cursor, a no-op, stale or fenced to the
/// general path).
pub(super) fn leased_swap(
    store: &PostgresStore,
    key: &CursorKey,
    epoch: u64,
    expected: u64,
    new: u64,
) -> Result<bool, DurabilityError> {
    if !store.has_leases() {
        return Err(crate::lease::no_leases(&key.to_string(), epoch));
    }
    if new == expected {
        return Ok(false);
    }
    if new > crate::parse::MAX_OFFSET {
        return Err(DurabilityError::OffsetTooLarge { offset: new });
    }
    let (consumer, channel, partition) = columns(key);
    let (new, expected, epoch) = (sql_int(new), sql_int(expected), sql_int(epoch));
    let changed = store
        .with_statement(LEASED_SWAP, SWAP_TYPES, |c, s| {
            s.execute(
                c,
                &[&consumer, &channel, &partition, &new, &expected, &epoch],
            )
        })
        .map_err(|e| store.error("writing a cursor through its lease", e))?;
    Ok(changed == 1)
}

/// Renew a live lease in one statement; its new expiry, or the fenced
/// error saying why nothing was renewed.
pub(super) fn renew(
    store: &PostgresStore,
    parsed: &CursorKey,
    owner: &str,
    epoch: u64,
    ttl_ms: i64,
) -> Result<i64, DurabilityError> {
    if !store.has_leases() {
        return Err(crate::lease::no_leases(&parsed.to_string(), epoch));
    }
    let (consumer, channel, partition) = columns(parsed);
    let epoch_sql = sql_int(epoch);
    let renewed = store
        .with_statement(
            RENEW,
            &[
                Type::TEXT,
                Type::TEXT,
                Type::INT8,
                Type::TEXT,
                Type::INT8,
                Type::INT8,
            ],
            |c, s| {
                s.query_opt(
                    c,
                    &[&consumer, &channel, &partition, &owner, &epoch_sql, &ttl_ms],
                )
            },
        )
        .map_err(|e| store.error("renewing a lease", e))?;
    if let Some(row) = renewed {
        return Ok(row.get(0));
    }
    let current = read_lease(store, parsed, false)?;
    let key = &parsed.to_string();
    crate::lease::check_live(key, epoch, current.as_ref(), clock_now(store)?)?;
    Err(DurabilityError::Fenced {
        key: key.to_owned(),
        epoch,
        detail: format!("the lease of epoch {epoch} is held by another owner"),
    })
}

/// The SQL of the live lease columns joined to a cursor listing: the
/// owner, the expiry, and whether the consumer uses leases.
pub(super) fn listing_columns(store: &PostgresStore) -> (&'static str, &'static str) {
    if store.has_leases() {
        (
            "l.owner, l.expires_at, EXISTS (SELECT 1 FROM leases u WHERE u.consumer = c.consumer)",
            " LEFT JOIN leases l ON l.consumer = c.consumer AND l.channel = c.channel \
             AND l.partition = c.partition \
             AND l.expires_at > (extract(epoch from statement_timestamp()) * 1000)::bigint",
        )
    } else {
        ("NULL::text, NULL::bigint, false", "")
    }
}
