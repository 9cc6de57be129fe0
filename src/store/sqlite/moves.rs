//! Many guarded moves written as one set: the bulk write's chunks.

use rusqlite::{params, Connection};

use super::db_err;
use super::read::read_offset;
use super::write::Statements;
use crate::error::DurabilityError;
use crate::parse::MAX_OFFSET;
use crate::store::ChangeInput;

const WRITING: &str = "writing cursors";

/// The moves of one call, in order (the rowid).
const CREATE_MOVES: &str = "
CREATE TEMP TABLE IF NOT EXISTS cursorctl_moves (
    consumer   TEXT    NOT NULL,
    channel    TEXT    NOT NULL,
    partition  INTEGER NOT NULL,
    old_offset INTEGER NOT NULL,
    new_offset INTEGER NOT NULL
);
DELETE FROM temp.cursorctl_moves;";

const INSERT_MOVE: &str = "INSERT INTO temp.cursorctl_moves \
     (consumer, channel, partition, old_offset, new_offset) VALUES (?1, ?2, ?3, ?4, ?5)";

/// Each cursor that holds the old offset gets the new one (the
/// compare-and-swap of every move at once).
const UPDATE_MOVED: &str = "UPDATE cursors SET offset = m.new_offset, updated_at = ?1 \
     FROM temp.cursorctl_moves AS m \
     WHERE cursors.consumer = m.consumer AND cursors.channel = m.channel \
       AND cursors.partition = m.partition AND cursors.offset = m.old_offset";

/// One history row per move, in the order of the moves.
const INSERT_HISTORY: &str = "INSERT INTO history \
     (at, consumer, channel, partition, old_offset, new_offset, command, reason, user, batch) \
     SELECT ?1, consumer, channel, partition, old_offset, new_offset, ?2, ?3, ?4, ?5 \
     FROM temp.cursorctl_moves ORDER BY rowid";

/// Write `moves` (each with an old and a new offset, all with the command,
/// reason, user and batch of the first) and their history rows. Returns
/// the positions of the moves whose cursor did not hold the old offset;
/// then nothing of this call was written.
pub(super) fn apply_moves(
    conn: &Connection,
    stmts: &impl Statements,
    moves: &[ChangeInput<'_>],
    now_ms: i64,
) -> Result<Vec<usize>, DurabilityError> {
    let offset = |o: Option<u64>| -> Result<i64, DurabilityError> {
        let o = o.unwrap_or(0);
        if o > MAX_OFFSET {
            return Err(DurabilityError::OffsetTooLarge { offset: o });
        }
        Ok(i64::try_from(o).unwrap_or(i64::MAX))
    };
    conn.execute_batch(CREATE_MOVES).map_err(db_err(WRITING))?;
    {
        let mut insert = conn.prepare_cached(INSERT_MOVE).map_err(db_err(WRITING))?;
        for m in moves {
            let pk = m.key.partition_key();
            insert
                .execute(params![
                    m.key.consumer().as_str(),
                    pk.channel().as_str(),
                    pk.index(),
                    offset(m.old_offset)?,
                    offset(m.new_offset)?
                ])
                .map_err(db_err(WRITING))?;
        }
    }
    conn.execute_batch("SAVEPOINT cursorctl_moves")
        .map_err(db_err(WRITING))?;
    let moved = conn
        .prepare_cached(UPDATE_MOVED)
        .and_then(|mut s| s.execute([now_ms]))
        .map_err(db_err(WRITING))?;
    if moved == moves.len() {
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
        conn.execute_batch("RELEASE cursorctl_moves; DELETE FROM temp.cursorctl_moves")
            .map_err(db_err(WRITING))?;
        return Ok(Vec::new());
    }
    // Some cursor held something else: undo this call's writes and tell
    // which, from what the cursors hold.
    conn.execute_batch(
        "ROLLBACK TO cursorctl_moves; RELEASE cursorctl_moves; DELETE FROM temp.cursorctl_moves",
    )
    .map_err(db_err(WRITING))?;
    let mut stale = Vec::new();
    for (position, m) in moves.iter().enumerate() {
        if read_offset(stmts, &m.key.to_string())? != m.old_offset {
            stale.push(position);
        }
    }
    Ok(stale)
}
