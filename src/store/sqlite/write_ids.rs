//! Write ids on SQLite: the `writes` row a write transaction commits
//! with, and a write settled by its id.

use rusqlite::{params, Transaction};

use super::db_err;
use crate::error::StoreError;

/// What a write transaction stores of itself in the `writes` table
/// (schema version 4 and later) when it commits.
#[derive(Default)]
pub(super) struct WriteRecord {
    pub(super) id: String,
    /// The connection's count of changed rows when the transaction began:
    /// a transaction that changed none records no write.
    pub(super) changes_at_begin: u64,
    pub(super) batch: std::cell::Cell<Option<i64>>,
    pub(super) change: std::cell::Cell<Option<i64>>,
}

/// The write's row, and a write proven not written.
pub(super) const INSERT_WRITE: &str =
    "INSERT INTO writes (write_id, at, batch, change) VALUES (?1, ?2, ?3, ?4)";
const MARK_NOT_WRITTEN: &str =
    "INSERT OR IGNORE INTO writes (write_id, at, not_written) VALUES (?1, ?2, 1)";
const FIND_WRITE: &str = "SELECT batch, change, not_written FROM writes WHERE write_id = ?1";

/// Settle a write by its id (`Store::settle_write`): found, it was
/// committed; absent, it is marked not written, in a write transaction of
/// its own (which waits for any writer holding the store, as every write
/// does).
pub(super) fn settle_write(
    conn: &rusqlite::Connection,
    write_id: &str,
) -> Result<crate::store::SettledWrite, StoreError> {
    use crate::store::SettledWrite;
    let tx = Transaction::new_unchecked(conn, rusqlite::TransactionBehavior::Immediate)
        .map_err(db_err("starting a write transaction"))?;
    tx.execute(MARK_NOT_WRITTEN, params![write_id, super::now_ms()])
        .map_err(db_err("looking up a write id"))?;
    let (batch, change, not_written): (Option<i64>, Option<i64>, bool) = tx
        .query_row(FIND_WRITE, params![write_id], |r| {
            Ok((r.get(0)?, r.get(1)?, r.get(2)?))
        })
        .map_err(db_err("looking up a write id"))?;
    tx.commit().map_err(db_err("committing"))?;
    Ok(if not_written {
        SettledWrite::NotWritten
    } else {
        SettledWrite::Committed { batch, change }
    })
}
