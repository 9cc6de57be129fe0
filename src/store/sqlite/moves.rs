//! Many guarded moves written as one set: the bulk write's chunks.

use rusqlite::{params, Connection};

use super::db_err;
use super::read::read_offset_of;
use super::write::{sql_offset, to_sql_offset, Statements};
use crate::error::DurabilityError;
use crate::store::ChangeInput;

const WRITING: &str = "writing cursors";

/// The moves of one call, in order (the rowid); emptied at the start of
/// each call.
const CREATE_MOVES: &str = "
CREATE TEMP TABLE IF NOT EXISTS cursorctl_moves (
    consumer   TEXT    NOT NULL,
    channel    TEXT    NOT NULL,
    partition  INTEGER NOT NULL,
    old_offset INTEGER NOT NULL,
    new_offset INTEGER NOT NULL
);
DELETE FROM temp.cursorctl_moves;";

/// Moves a statement inserts into the temporary table: one statement per
/// move would cost a third more.
const MOVES_PER_INSERT: usize = 64;

/// `INSERT INTO temp.cursorctl_moves ... VALUES` with `rows` rows of
/// parameters.
fn insert_moves_sql(rows: usize) -> String {
    let mut sql = String::from(
        "INSERT INTO temp.cursorctl_moves \
         (consumer, channel, partition, old_offset, new_offset) VALUES ",
    );
    for row in 0..rows {
        if row > 0 {
            sql.push(',');
        }
        sql.push_str("(?,?,?,?,?)");
    }
    sql
}

/// Fill the temporary table with `moves`, in order.
fn fill(conn: &Connection, moves: &[ChangeInput<'_>]) -> Result<(), DurabilityError> {
    let full = moves.chunks_exact(MOVES_PER_INSERT);
    let rest = full.remainder();
    // The text of the full-size statement, made once a call: it is the
    // statement cache's key.
    let full_sql = insert_moves_sql(MOVES_PER_INSERT);
    let insert = |sql: &str, rows: &[ChangeInput<'_>]| -> Result<(), DurabilityError> {
        let mut stmt = conn.prepare_cached(sql).map_err(db_err(WRITING))?;
        let mut index = 0;
        let mut bind = |value: &dyn rusqlite::ToSql| {
            index += 1;
            stmt.raw_bind_parameter(index, value)
        };
        for m in rows {
            let pk = m.key.partition_key();
            bind(&m.key.consumer().as_str())
                .and_then(|()| bind(&pk.channel().as_str()))
                .and_then(|()| bind(&pk.index()))
                .and_then(|()| bind(&m.old_offset.map(sql_offset)))
                .and_then(|()| bind(&m.new_offset.map(sql_offset)))
                .map_err(db_err(WRITING))?;
        }
        stmt.raw_execute().map_err(db_err(WRITING))?;
        Ok(())
    };
    for rows in full {
        insert(&full_sql, rows)?;
    }
    if !rest.is_empty() {
        insert(&insert_moves_sql(rest.len()), rest)?;
    }
    Ok(())
}

/// How many of the moves find their cursor holding the old offset (the
/// compare-and-swap of every move at once, read in one join).
const COUNT_HOLDING: &str = "SELECT count(*) FROM temp.cursorctl_moves AS m JOIN cursors AS c \
     ON c.consumer = m.consumer AND c.channel = m.channel \
     AND c.partition = m.partition AND c.offset = m.old_offset";

/// Every moved cursor gets its new offset. The row is replaced rather
/// than updated: on a `WITHOUT ROWID` table whose primary key is its only
/// index, SQLite writes each new row over the old one in a single pass,
/// where an `UPDATE ... FROM` (a join) collects the rows first and seeks
/// each again. The row is written whole (every column of `cursors`), with
/// `updated_at` as an `UPDATE` by cursorctl sets it; the `cursors_touch`
/// trigger, which is there for writers that leave `updated_at` alone, does
/// not run. The statement reads nothing of `cursors` (a statement that
/// reads the table it writes first copies what it read into a temporary
/// table), so it writes only after [`COUNT_HOLDING`] has found every
/// cursor holding its old offset, in the same write transaction, which
/// SQLite lets no other writer into until it ends.
const REPLACE_MOVED: &str = "INSERT OR REPLACE INTO cursors \
     (consumer, channel, partition, offset, updated_at) \
     SELECT consumer, channel, partition, new_offset, ?1 FROM temp.cursorctl_moves";

/// One history row per move, in the order of the moves.
const INSERT_HISTORY: &str = "INSERT INTO history \
     (at, consumer, channel, partition, old_offset, new_offset, command, reason, user, batch) \
     SELECT ?1, consumer, channel, partition, old_offset, new_offset, ?2, ?3, ?4, ?5 \
     FROM temp.cursorctl_moves ORDER BY rowid";

/// Write `moves` (each with an old and a new offset and a key of its own,
/// all with the command, reason, user and batch of the first) and their
/// history rows. Returns the positions of the moves whose cursor did not
/// hold the old offset; then nothing of this call was written.
pub(super) fn apply_moves(
    conn: &Connection,
    stmts: &impl Statements,
    moves: &[ChangeInput<'_>],
    now_ms: i64,
) -> Result<Vec<usize>, DurabilityError> {
    for new in moves.iter().filter_map(|m| m.new_offset) {
        to_sql_offset(new)?;
    }
    conn.execute_batch(CREATE_MOVES).map_err(db_err(WRITING))?;
    fill(conn, moves)?;
    let holding = conn
        .prepare_cached(COUNT_HOLDING)
        .and_then(|mut s| s.query_row([], |row| row.get::<_, i64>(0)))
        .map_err(db_err(WRITING))?;
    if usize::try_from(holding) == Ok(moves.len()) {
        conn.prepare_cached(REPLACE_MOVED)
            .and_then(|mut s| s.execute([now_ms]))
            .map_err(db_err(WRITING))?;
        let first = &moves[0];
        conn.prepare_cached(INSERT_HISTORY)
            .and_then(|mut s| {
                s.execute(params![
                    now_ms,
                    first.command,
                    first.reason,
                    first.user,
                    first.batch
                ])
            })
            .map_err(db_err("recording the changes"))?;
        return Ok(Vec::new());
    }
    // Some cursor holds something else: nothing is written; tell which,
    // from what the cursors hold.
    let mut stale = Vec::new();
    for (position, m) in moves.iter().enumerate() {
        if read_offset_of(stmts, m.key)? != m.old_offset {
            stale.push(position);
        }
    }
    Ok(stale)
}
