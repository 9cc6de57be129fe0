//! The hash chain of the history on SQLite (schema version 4): the SQL
//! function its trigger calls, its start when a store is created or
//! upgraded, the links a prune cuts, and `history verify`.

use std::collections::HashMap;

use rusqlite::functions::FunctionFlags;
use rusqlite::{Connection, OptionalExtension};

use super::read::{prunable_batches, prunable_changes};
use rusqlite::types::ValueRef;

use super::schema::{chain_columns, CHAIN_FIELDS, CHAIN_FUNCTION, RULES_VERSION};
use crate::error::StoreError;
use crate::store::chain::{
    empty_hash, encode_field, link, ChainReport, ChainState, PreHasher, Verifier,
};

fn db_err(context: &'static str) -> impl Fn(rusqlite::Error) -> StoreError {
    move |e| super::db_err(context)(e)
}

/// Append the encoding of one value (as its text, as SQLite casts it).
fn encode_value(out: &mut Vec<u8>, value: ValueRef<'_>) {
    match value {
        ValueRef::Null => encode_field(out, None),
        ValueRef::Integer(i) => encode_field(out, Some(&i.to_string())),
        ValueRef::Real(f) => encode_field(out, Some(&f.to_string())),
        ValueRef::Text(t) | ValueRef::Blob(t) => {
            out.extend_from_slice(t.len().to_string().as_bytes());
            out.push(b':');
            out.extend_from_slice(t);
        }
    }
}

/// Define `cursorctl_chain(prev, id, at, ...)` on a connection that writes.
///
/// # Errors
///
/// SQLite failures.
pub(super) fn register(conn: &Connection) -> Result<(), StoreError> {
    let fields = i32::try_from(CHAIN_FIELDS.len()).unwrap_or(i32::MAX);
    conn.create_scalar_function(
        CHAIN_FUNCTION,
        1 + fields,
        FunctionFlags::SQLITE_UTF8 | FunctionFlags::SQLITE_DETERMINISTIC,
        |ctx| {
            let prev = match ctx.get_raw(0) {
                ValueRef::Blob(b) => b.to_vec(),
                _ => Vec::new(),
            };
            let mut encoding = Vec::with_capacity(128);
            for i in 1..ctx.len() {
                encode_value(&mut encoding, ctx.get_raw(i));
            }
            Ok(link(&prev, &encoding))
        },
    )
    .map_err(db_err("defining the history chain function"))
}

/// The encoding of a row read as `SELECT <chain_columns> ...` from column
/// `first` on.
fn row_encoding(row: &rusqlite::Row<'_>, first: usize) -> rusqlite::Result<Vec<u8>> {
    let mut encoding = Vec::with_capacity(128);
    for i in first..first + CHAIN_FIELDS.len() {
        encode_value(&mut encoding, row.get_ref(i)?);
    }
    Ok(encoding)
}

fn schema_version(conn: &Connection) -> Result<i64, StoreError> {
    conn.pragma_query_value(None, "user_version", |r| r.get(0))
        .map_err(db_err("reading the schema version"))
}

/// The hash of the rows up to `pre_id` (in the order of ids).
fn pre_hash(conn: &Connection, pre_id: i64) -> Result<Vec<u8>, StoreError> {
    let sql = format!(
        "SELECT {} FROM history h WHERE h.id <= ?1 ORDER BY h.id",
        chain_columns("h")
    );
    let mut stmt = conn.prepare(&sql).map_err(db_err("hashing the history"))?;
    let mut rows = stmt
        .query([pre_id])
        .map_err(db_err("hashing the history"))?;
    let mut hasher = PreHasher::new();
    while let Some(row) = rows.next().map_err(db_err("hashing the history"))? {
        let encoding = row_encoding(row, 0).map_err(db_err("hashing the history"))?;
        hasher.row(&encoding);
    }
    Ok(hasher.finish())
}

/// Start the chain after the rows already there (in the transaction that
/// creates the version 4 tables): they are hashed together.
///
/// # Errors
///
/// SQLite failures.
pub(super) fn start_chain(conn: &Connection) -> Result<(), StoreError> {
    let pre_id: i64 = conn
        .query_row("SELECT coalesce(max(id), 0) FROM history", [], |r| r.get(0))
        .map_err(db_err("starting the history chain"))?;
    let pre = if pre_id == 0 {
        empty_hash()
    } else {
        pre_hash(conn, pre_id)?
    };
    conn.execute(
        "INSERT INTO history_chain (one, pre_id, pre_hash, last_hash) VALUES (1, ?1, ?2, ?2)",
        rusqlite::params![pre_id, pre],
    )
    .map_err(db_err("starting the history chain"))?;
    Ok(())
}

fn chain_state(conn: &Connection) -> Result<Option<ChainState>, StoreError> {
    conn.query_row(
        "SELECT pre_id, pre_hash, last_id, last_hash FROM history_chain",
        [],
        |r| {
            Ok(ChainState {
                pre_id: r.get(0)?,
                pre_hash: r.get(1)?,
                last_id: r.get(2)?,
                last_hash: r.get(3)?,
            })
        },
    )
    .optional()
    .map_err(db_err("reading the history chain"))
}

/// Prune the history of a version 4 store (the caller's transaction):
/// record the links the prune cuts, delete, and record the prune.
///
/// # Errors
///
/// SQLite failures.
pub(super) fn prune(conn: &Connection, before: i64) -> Result<Option<(u64, u64)>, StoreError> {
    if schema_version(conn)? < RULES_VERSION {
        return Ok(None);
    }
    let err = db_err("pruning the history");
    let Some(state) = chain_state(conn)? else {
        return Ok(None);
    };
    conn.execute_batch(
        "CREATE TEMP TABLE IF NOT EXISTS pruned_changes (id INTEGER PRIMARY KEY);
         DELETE FROM temp.pruned_changes;",
    )
    .map_err(&err)?;
    conn.execute(
        &format!(
            "INSERT INTO temp.pruned_changes (id) SELECT id {}",
            prunable_changes()
        ),
        [before],
    )
    .map_err(&err)?;
    conn.execute(
        "INSERT OR IGNORE INTO history_chain_gaps (id, prev_hash)
         SELECT o.id, CASE WHEN o.prev_id <= ?1 THEN ?2 ELSE o.prev_hash END
         FROM (SELECT h.id, lag(h.id) OVER w AS prev_id, lag(h.hash) OVER w AS prev_hash,
                      p.id IS NOT NULL AS gone, lag(p.id IS NOT NULL) OVER w AS prev_gone
               FROM history h LEFT JOIN temp.pruned_changes p ON p.id = h.id
               WINDOW w AS (ORDER BY h.id)) o
         WHERE o.id > ?1 AND NOT o.gone AND o.prev_gone",
        rusqlite::params![state.pre_id, state.pre_hash],
    )
    .map_err(&err)?;
    let pre_pruned: bool = conn
        .query_row(
            "SELECT EXISTS (SELECT 1 FROM temp.pruned_changes WHERE id <= ?1)",
            [state.pre_id],
            |r| r.get(0),
        )
        .map_err(&err)?;
    if pre_pruned {
        conn.execute(
            "INSERT OR IGNORE INTO history_chain_gaps (id, prev_hash)
             SELECT min(id), ?2 FROM history
             WHERE id > ?1 AND id NOT IN (SELECT id FROM temp.pruned_changes)
             HAVING min(id) IS NOT NULL",
            rusqlite::params![state.pre_id, state.pre_hash],
        )
        .map_err(&err)?;
    }
    let changes = conn
        .execute(
            "DELETE FROM history WHERE id IN (SELECT id FROM temp.pruned_changes)",
            [],
        )
        .map_err(&err)?;
    let batches = conn
        .execute(
            &format!(
                "DELETE {} AND id NOT IN (SELECT batch FROM history WHERE batch IS NOT NULL)",
                prunable_batches()
            ),
            [before],
        )
        .map_err(&err)?;
    conn.execute_batch(
        "DELETE FROM history_chain_gaps WHERE id NOT IN (SELECT id FROM history);
         DELETE FROM temp.pruned_changes;",
    )
    .map_err(&err)?;
    if pre_pruned {
        let pre = pre_hash(conn, state.pre_id)?;
        conn.execute("UPDATE history_chain SET pre_hash = ?1", [pre])
            .map_err(&err)?;
    }
    if let Some(last) = state.last_id {
        let gone: bool = conn
            .query_row(
                "SELECT NOT EXISTS (SELECT 1 FROM history WHERE id = ?1)",
                [last],
                |r| r.get(0),
            )
            .map_err(&err)?;
        if gone {
            // The newest chained row left is the head (none: the chain
            // starts again after the rows from before it).
            conn.execute(
                "UPDATE history_chain SET
                     last_id = (SELECT max(id) FROM history WHERE id > ?1),
                     last_hash = coalesce((SELECT hash FROM history WHERE id > ?1 ORDER BY id DESC LIMIT 1),
                                          pre_hash)",
                [state.pre_id],
            )
            .map_err(&err)?;
        }
    }
    Ok(Some((changes as u64, batches as u64)))
}

/// Recompute the chain (`None` before schema version 4), in one read
/// transaction.
///
/// # Errors
///
/// SQLite failures.
pub(super) fn verify_history(conn: &Connection) -> Result<Option<ChainReport>, StoreError> {
    let own = conn.is_autocommit();
    if own {
        conn.execute_batch("BEGIN")
            .map_err(db_err("starting a read transaction"))?;
    }
    let result = verify_in_transaction(conn);
    if own {
        let end = conn
            .execute_batch("COMMIT")
            .map_err(db_err("ending a read transaction"));
        let report = result?;
        end?;
        return Ok(report);
    }
    result
}

fn verify_in_transaction(conn: &Connection) -> Result<Option<ChainReport>, StoreError> {
    if schema_version(conn)? < RULES_VERSION {
        return Ok(None);
    }
    let err = db_err("verifying the history");
    let state = chain_state(conn)?.unwrap_or_else(|| ChainState {
        pre_id: i64::MAX,
        ..ChainState::default()
    });
    let gaps: HashMap<i64, Vec<u8>> = {
        let mut stmt = conn
            .prepare("SELECT id, prev_hash FROM history_chain_gaps")
            .map_err(&err)?;
        let rows = stmt
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
            .map_err(&err)?;
        rows.collect::<Result<_, _>>().map_err(&err)?
    };
    let mut verifier = Verifier::new(state, gaps);
    let sql = format!(
        "SELECT h.id, h.hash, {} FROM history h ORDER BY h.id",
        chain_columns("h")
    );
    let mut stmt = conn.prepare(&sql).map_err(&err)?;
    let mut rows = stmt.query([]).map_err(&err)?;
    while let Some(row) = rows.next().map_err(&err)? {
        let id: i64 = row.get(0).map_err(&err)?;
        let encoding = row_encoding(row, 2).map_err(&err)?;
        let hash = match row.get_ref(1).map_err(&err)? {
            ValueRef::Blob(b) => Some(b),
            _ => None,
        };
        verifier.row(id, &encoding, hash);
        if verifier.is_broken() {
            break;
        }
    }
    Ok(Some(verifier.finish()))
}
