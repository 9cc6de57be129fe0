//! Many guarded moves written as one set: the bulk write's chunks.

use rusqlite::{params, Connection, OptionalExtension};

use super::db_err;
use super::read::read_offset_of;
use super::schema::{chain_trigger_sql, RULES_VERSION};
use super::write::{sql_offset, to_sql_offset, Statements};
use crate::error::DurabilityError;
use crate::store::chain::{encode_field, link};
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
    new_offset INTEGER NOT NULL,
    id         INTEGER,
    hash       BLOB
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
         (consumer, channel, partition, old_offset, new_offset, id, hash) VALUES ",
    );
    for row in 0..rows {
        if row > 0 {
            sql.push(',');
        }
        sql.push_str("(?,?,?,?,?,?,?)");
    }
    sql
}

/// Fill the temporary table with `moves`, in order, each with its history
/// row's id and hash when `chain` is given.
fn fill(
    conn: &Connection,
    moves: &[ChangeInput<'_>],
    mut chain: Option<&mut Chain>,
) -> Result<(), DurabilityError> {
    let full = moves.chunks_exact(MOVES_PER_INSERT);
    let rest = full.remainder();
    // The text of the full-size statement, made once a call: it is the
    // statement cache's key.
    let full_sql = insert_moves_sql(MOVES_PER_INSERT);
    let mut insert = |sql: &str, rows: &[ChangeInput<'_>]| -> Result<(), DurabilityError> {
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
            let (id, hash) = match chain.as_deref_mut() {
                Some(chain) => {
                    let (id, hash) = chain.link(m);
                    (Some(id), Some(hash))
                }
                None => (None, None),
            };
            bind(&id)
                .and_then(|()| bind(&hash))
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

/// The same history rows with the ids and hashes the chain's trigger would
/// give them, written while the trigger is dropped.
const INSERT_CHAINED_HISTORY: &str = "INSERT INTO history \
     (id, at, consumer, channel, partition, old_offset, new_offset, command, reason, user, \
      batch, hash) \
     SELECT id, ?1, consumer, channel, partition, old_offset, new_offset, ?2, ?3, ?4, ?5, hash \
     FROM temp.cursorctl_moves ORDER BY rowid";

/// The chain trigger's text.
const CHAIN_TRIGGER: &str =
    "SELECT sql FROM sqlite_master WHERE type = 'trigger' AND name = 'history_chain'";

/// The chain's head and the id the next history row gets
/// (`AUTOINCREMENT`: one above the highest ever given or present).
const CHAIN_START: &str = "SELECT last_hash, \
     max(coalesce((SELECT seq FROM sqlite_sequence WHERE name = 'history'), 0), \
         coalesce((SELECT max(id) FROM history), 0)) + 1 \
     FROM history_chain";

/// The history chain as a bulk write continues it itself: the trigger that
/// keeps the chain runs two statements and a hash for every row (about
/// 40% of a bulk write's time); the same hashes are computed here, the
/// rows written with them while the trigger is dropped, and the trigger
/// made again from its text, in the write's transaction.
struct Chain {
    trigger: String,
    prev: Vec<u8>,
    next_id: i64,
    /// The encodings of the fields every row of the call shares: `at`, and
    /// command, reason, user and batch, in the order of the chain's fields.
    at: Vec<u8>,
    tail: Vec<u8>,
    /// The encoding of the row being linked (kept: one allocation a call).
    encoding: Vec<u8>,
}

/// Append the encoding of a number (`length:digits`), as `encode_field`
/// does with its text, without making a `String` of it.
fn encode_number(out: &mut Vec<u8>, value: i64) {
    let mut digits = [0u8; 20];
    let mut at = digits.len();
    let mut rest = value.unsigned_abs();
    loop {
        at -= 1;
        digits[at] = b'0' + u8::try_from(rest % 10).unwrap_or(0);
        rest /= 10;
        if rest == 0 {
            break;
        }
    }
    let len = digits.len() - at + usize::from(value < 0);
    if len >= 10 {
        out.push(b'0' + u8::try_from(len / 10).unwrap_or(0));
    }
    out.push(b'0' + u8::try_from(len % 10).unwrap_or(0));
    out.push(b':');
    if value < 0 {
        out.push(b'-');
    }
    out.extend_from_slice(&digits[at..]);
}

impl Chain {
    /// The chain's state, when the store keeps the chain with the trigger
    /// this build creates (anything else: `None`, and the rows are written
    /// through whatever trigger there is).
    fn start(
        conn: &Connection,
        now_ms: i64,
        first: &ChangeInput<'_>,
    ) -> Result<Option<Self>, DurabilityError> {
        let version: i64 = conn
            .pragma_query_value(None, "user_version", |r| r.get(0))
            .map_err(db_err(WRITING))?;
        if version < RULES_VERSION {
            return Ok(None);
        }
        let trigger = conn
            .query_row(CHAIN_TRIGGER, [], |r| r.get::<_, Option<String>>(0))
            .optional()
            .map_err(db_err(WRITING))?
            .flatten();
        let Some(trigger) = trigger.filter(|t| *t == chain_trigger_sql()) else {
            return Ok(None);
        };
        let found = conn
            .query_row(CHAIN_START, [], |r| {
                let prev = match r.get_ref(0)? {
                    rusqlite::types::ValueRef::Blob(b) => Some(b.to_vec()),
                    _ => None,
                };
                Ok((prev, r.get::<_, i64>(1)?))
            })
            .optional()
            .map_err(db_err(WRITING))?;
        let Some((Some(prev), next_id)) = found else {
            return Ok(None);
        };
        Ok(Some(Self {
            trigger,
            prev,
            next_id,
            at: {
                let mut at = Vec::new();
                encode_number(&mut at, now_ms);
                at
            },
            tail: {
                let mut tail = Vec::new();
                encode_field(&mut tail, Some(first.command));
                encode_field(&mut tail, first.reason);
                encode_field(&mut tail, Some(first.user));
                encode_field(&mut tail, first.batch.map(|b| b.to_string()).as_deref());
                tail
            },
            encoding: Vec::with_capacity(128),
        }))
    }

    /// The id and hash of the history row of `m`, the next in the chain:
    /// the encoding of `cursorctl_chain` (each field as SQLite passes it).
    fn link(&mut self, m: &ChangeInput<'_>) -> (i64, Vec<u8>) {
        let id = self.next_id;
        self.next_id += 1;
        let pk = m.key.partition_key();
        let e = &mut self.encoding;
        e.clear();
        encode_number(e, id);
        e.extend_from_slice(&self.at);
        encode_field(e, Some(m.key.consumer().as_str()));
        encode_field(e, Some(pk.channel().as_str()));
        encode_number(e, i64::from(pk.index()));
        for offset in [m.old_offset, m.new_offset] {
            match offset {
                Some(o) => encode_number(e, sql_offset(o)),
                None => encode_field(e, None),
            }
        }
        e.extend_from_slice(&self.tail);
        let hash = link(&self.prev, &self.encoding);
        self.prev.clone_from(&hash);
        (id, hash)
    }

    /// Write the history rows of the moves with their hashes, and move the
    /// chain's head to the last of them, the trigger dropped meanwhile.
    fn write(
        &self,
        conn: &Connection,
        first: &ChangeInput<'_>,
        now_ms: i64,
    ) -> rusqlite::Result<()> {
        conn.execute_batch("DROP TRIGGER history_chain")?;
        conn.prepare_cached(INSERT_CHAINED_HISTORY)?
            .execute(params![
                now_ms,
                first.command,
                first.reason,
                first.user,
                first.batch
            ])?;
        conn.execute(
            "UPDATE history_chain SET last_id = ?1, last_hash = ?2",
            params![self.next_id - 1, self.prev],
        )?;
        conn.execute_batch(&self.trigger)
    }
}

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
    let first = &moves[0];
    let mut chain = Chain::start(conn, now_ms, first)?;
    conn.execute_batch(CREATE_MOVES).map_err(db_err(WRITING))?;
    fill(conn, moves, chain.as_mut())?;
    let holding = conn
        .prepare_cached(COUNT_HOLDING)
        .and_then(|mut s| s.query_row([], |row| row.get::<_, i64>(0)))
        .map_err(db_err(WRITING))?;
    if usize::try_from(holding) == Ok(moves.len()) {
        conn.prepare_cached(REPLACE_MOVED)
            .and_then(|mut s| s.execute([now_ms]))
            .map_err(db_err(WRITING))?;
        if let Some(chain) = &chain {
            chain
                .write(conn, first, now_ms)
                .map_err(db_err("recording the changes"))?;
            return Ok(Vec::new());
        }
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_are_encoded_as_their_text_is() {
        for value in [
            0,
            7,
            9,
            10,
            99,
            100,
            1_765_000_000_000,
            i64::MAX,
            -1,
            -42,
            i64::MIN,
        ] {
            let mut ours = Vec::new();
            encode_number(&mut ours, value);
            let mut text = Vec::new();
            encode_field(&mut text, Some(&value.to_string()));
            assert_eq!(ours, text, "{value}");
        }
    }
}
