//! The SQLite cursor store.
//!
//! One file, WAL mode, `synchronous=FULL`, marked with
//! [`APPLICATION_ID`] and versioned with [`SCHEMA_VERSION`]. Writes run in
//! `BEGIN IMMEDIATE` transactions; the history of every change made through a
//! [`WriteTxn`] is written in the same transaction as the change. The schema
//! is in `docs/store.md`.

use std::cell::RefCell;
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use rusqlite::types::ValueRef;
use rusqlite::{
    params, CachedStatement, Connection, OpenFlags, OptionalExtension, Statement, Transaction,
    TransactionBehavior,
};

use super::DurableStore;
use crate::error::{DurabilityError, StoreError};
use crate::key::{CursorKey, PartitionKey};
use crate::parse::MAX_OFFSET;

/// `PRAGMA application_id` of a cursor store: "Curs" in ASCII.
pub const APPLICATION_ID: i32 = 0x4375_7273;

/// The schema version this build reads and writes (`PRAGMA user_version`).
pub const SCHEMA_VERSION: i64 = 1;

/// The default busy timeout.
pub const DEFAULT_BUSY_TIMEOUT: Duration = Duration::from_secs(5);

const NOW_MS_SQL: &str = "CAST((julianday('now') - 2440587.5) * 86400000 AS INTEGER)";

fn schema_sql() -> String {
    format!(
        "
CREATE TABLE cursors (
    consumer   TEXT    NOT NULL,
    channel    TEXT    NOT NULL,
    partition  INTEGER NOT NULL,
    offset     INTEGER CHECK (typeof(offset) = 'integer' AND offset >= 0),
    updated_at INTEGER NOT NULL DEFAULT ({NOW_MS_SQL}),
    PRIMARY KEY (consumer, channel, partition)
) WITHOUT ROWID;

CREATE TRIGGER cursors_touch AFTER UPDATE OF offset ON cursors
WHEN NEW.updated_at IS OLD.updated_at
BEGIN
    UPDATE cursors SET updated_at = {NOW_MS_SQL}
    WHERE consumer = NEW.consumer AND channel = NEW.channel AND partition = NEW.partition;
END;

CREATE TABLE batches (
    id      INTEGER PRIMARY KEY,
    at      INTEGER NOT NULL,
    command TEXT    NOT NULL,
    reason  TEXT,
    user    TEXT    NOT NULL
);

CREATE TABLE history (
    id         INTEGER PRIMARY KEY,
    at         INTEGER NOT NULL,
    consumer   TEXT    NOT NULL,
    channel    TEXT    NOT NULL,
    partition  INTEGER NOT NULL,
    old_offset INTEGER,
    new_offset INTEGER,
    command    TEXT    NOT NULL,
    reason     TEXT,
    user       TEXT    NOT NULL,
    batch      INTEGER REFERENCES batches (id)
);

CREATE INDEX history_by_cursor ON history (consumer, channel, partition);
CREATE INDEX history_by_batch ON history (batch) WHERE batch IS NOT NULL;

CREATE VIEW cursor_keys AS
SELECT consumer || ':' || channel || ':' || partition AS key,
       consumer, channel, partition, offset, updated_at
FROM cursors;
"
    )
}

/// Milliseconds since the Unix epoch, now.
#[must_use]
pub fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
}

/// One cursor as stored.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct CursorRow {
    /// The consumer.
    pub consumer: String,
    /// The channel.
    pub channel: String,
    /// The partition index.
    pub partition: u32,
    /// The offset.
    pub offset: u64,
    /// When the cursor was last written, in milliseconds since the Unix
    /// epoch (`None` when the stored value is not a time).
    pub updated_at: Option<i64>,
}

impl CursorRow {
    /// The cursor key.
    #[must_use]
    pub fn key(&self) -> String {
        key_text(&self.consumer, &self.channel, self.partition)
    }

    /// The partition key.
    #[must_use]
    pub fn partition_key(&self) -> String {
        partition_key_text(&self.channel, self.partition)
    }
}

/// `CONSUMER:CHANNEL:INDEX` from a stored row's columns.
fn key_text(consumer: &str, channel: &str, partition: u32) -> String {
    format!("{consumer}:{}", partition_key_text(channel, partition))
}

/// `CHANNEL:INDEX` from a stored row's columns.
fn partition_key_text(channel: &str, partition: u32) -> String {
    format!("{channel}:{partition}")
}

/// Which cursors a listing returns.
#[derive(Clone, Debug, Default)]
pub struct CursorFilter {
    /// Only this consumer.
    pub consumer: Option<String>,
    /// Only this channel.
    pub channel: Option<String>,
    /// Only cursors not written since this time (milliseconds since the
    /// Unix epoch).
    pub updated_before: Option<i64>,
}

/// A change to record in the history.
#[derive(Clone, Debug)]
pub struct ChangeInput<'a> {
    /// The cursor.
    pub key: &'a CursorKey,
    /// The offset before (`None`: the cursor did not exist).
    pub old_offset: Option<u64>,
    /// The offset after (`None`: the cursor was removed).
    pub new_offset: Option<u64>,
    /// The command that made the change (`set`, `advance`, ...).
    pub command: &'a str,
    /// Why, as the operator said.
    pub reason: Option<&'a str>,
    /// Who.
    pub user: &'a str,
    /// The batch the change belongs to.
    pub batch: Option<i64>,
}

/// One recorded change.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HistoryRow {
    /// The change id.
    pub id: i64,
    /// When, in milliseconds since the Unix epoch.
    pub at: i64,
    /// The consumer.
    pub consumer: String,
    /// The channel.
    pub channel: String,
    /// The partition index.
    pub partition: u32,
    /// The offset before (`None`: the cursor did not exist).
    pub old_offset: Option<u64>,
    /// The offset after (`None`: the cursor was removed).
    pub new_offset: Option<u64>,
    /// The command that made the change.
    pub command: String,
    /// Why.
    pub reason: Option<String>,
    /// Who.
    pub user: String,
    /// The batch, if the change was part of one.
    pub batch: Option<i64>,
}

impl HistoryRow {
    /// The cursor key.
    #[must_use]
    pub fn key(&self) -> String {
        key_text(&self.consumer, &self.channel, self.partition)
    }

    /// The partition key.
    #[must_use]
    pub fn partition_key(&self) -> String {
        partition_key_text(&self.channel, self.partition)
    }
}

/// Which history rows to return.
#[derive(Clone, Debug, Default)]
pub struct HistoryFilter {
    /// Only this consumer.
    pub consumer: Option<String>,
    /// Only this partition (needs `consumer`).
    pub partition_key: Option<PartitionKey>,
    /// Only changes at or after this time (ms since the epoch).
    pub since: Option<i64>,
    /// Only this batch.
    pub batch: Option<i64>,
    /// Only the newest N (still returned oldest first).
    pub limit: Option<u64>,
}

/// How a store is opened.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Access {
    /// Read only: the file is never written.
    ReadOnly,
    /// Read and write.
    ReadWrite,
}

/// Whether `init` made a new store.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum InitOutcome {
    /// A new store was created.
    Created,
    /// The file already was a cursor store of this version.
    AlreadyInitialised,
}

/// A cursor store in one SQLite file.
#[derive(Debug)]
pub struct SqliteStore {
    conn: Connection,
    path: PathBuf,
}

fn db_err(context: &str) -> impl FnOnce(rusqlite::Error) -> StoreError + '_ {
    move |e| StoreError::sqlite(context, e)
}

/// Interpret a stored offset, refusing anything that is not one.
fn offset_from(value: ValueRef<'_>) -> Result<u64, String> {
    match value {
        ValueRef::Integer(i) if i >= 0 => Ok(i.unsigned_abs()),
        ValueRef::Integer(i) => Err(format!("the negative integer {i}")),
        ValueRef::Real(r) => Err(format!("the real number {r}")),
        ValueRef::Text(t) => Err(format!("the text {:?}", String::from_utf8_lossy(t))),
        ValueRef::Blob(b) => Err(format!("a blob of {} bytes", b.len())),
        ValueRef::Null => Err("NULL".to_owned()),
    }
}

fn time_from(value: ValueRef<'_>) -> Option<i64> {
    match value {
        ValueRef::Integer(i) => Some(i),
        _ => None,
    }
}

fn to_sql_offset(offset: u64) -> Result<i64, DurabilityError> {
    if offset > MAX_OFFSET {
        return Err(DurabilityError::OffsetTooLarge { offset });
    }
    Ok(i64::try_from(offset).unwrap_or(i64::MAX))
}

fn partition_from(value: ValueRef<'_>) -> u32 {
    match value {
        ValueRef::Integer(i) => u32::try_from(i).unwrap_or(u32::MAX),
        _ => u32::MAX,
    }
}

/// Check that an open connection is a cursor store of a version we read.
fn check_schema(conn: &Connection, path: &Path) -> Result<(), StoreError> {
    let not_ours = |detail: String| StoreError::NotACursorStore {
        path: path.to_owned(),
        detail,
    };
    // Two plain pragmas: the `pragma_*` table-valued functions would each
    // declare a virtual table, which costs more than the pragmas themselves.
    let header = conn
        .pragma_query_value(None, "application_id", |r| r.get::<_, i32>(0))
        .and_then(|app_id| {
            conn.pragma_query_value(None, "user_version", |r| r.get::<_, i64>(0))
                .map(|version| (app_id, version))
        });
    let (app_id, version) = match header {
        Ok(h) => h,
        Err(e) => {
            return Err(match e.sqlite_error_code() {
                Some(rusqlite::ErrorCode::NotADatabase) => {
                    not_ours("the file is not a SQLite database".to_owned())
                }
                _ => StoreError::sqlite("reading the store header", e),
            })
        }
    };
    if app_id == APPLICATION_ID {
        if version > SCHEMA_VERSION {
            return Err(StoreError::NewerSchema {
                path: path.to_owned(),
                found: version,
                supported: SCHEMA_VERSION,
            });
        }
        if version < 1 {
            return Err(not_ours(format!(
                "it is marked as a cursor store but has no schema (version {version})"
            )));
        }
        return Ok(());
    }
    if app_id != 0 {
        return Err(not_ours(format!(
            "it belongs to another application (application id {app_id:#010x})"
        )));
    }
    let objects: i64 = conn
        .query_row("SELECT count(*) FROM sqlite_master", [], |r| r.get(0))
        .map_err(db_err("reading the schema"))?;
    if objects == 0 {
        Err(not_ours(
            "it is an empty database; create a store with `cursorctl init`".to_owned(),
        ))
    } else {
        Err(not_ours(
            "it is a SQLite database of another application".to_owned(),
        ))
    }
}

impl SqliteStore {
    /// Create a cursor store at `path`, or confirm that one is there.
    ///
    /// A file that exists and is not an empty database or a cursor store is
    /// refused and left unchanged.
    ///
    /// # Errors
    ///
    /// [`StoreError::NotACursorStore`], [`StoreError::NewerSchema`], and
    /// failures to create the file.
    pub fn init(path: &Path, busy_timeout: Duration) -> Result<(Self, InitOutcome), StoreError> {
        if path.is_dir() {
            return Err(StoreError::NotACursorStore {
                path: path.to_owned(),
                detail: "it is a directory".to_owned(),
            });
        }
        let flags = OpenFlags::SQLITE_OPEN_READ_WRITE
            | OpenFlags::SQLITE_OPEN_CREATE
            | OpenFlags::SQLITE_OPEN_NO_MUTEX;
        let conn =
            Connection::open_with_flags(path, flags).map_err(db_err("creating the store"))?;
        conn.busy_timeout(busy_timeout)
            .map_err(db_err("setting the busy timeout"))?;
        let store = Self {
            conn,
            path: path.to_owned(),
        };
        match check_schema(&store.conn, path) {
            Ok(()) => {
                store.configure()?;
                return Ok((store, InitOutcome::AlreadyInitialised));
            }
            Err(StoreError::NotACursorStore { .. })
                if store.is_empty_database().unwrap_or(false) => {}
            Err(e) => return Err(e),
        }
        store
            .conn
            .pragma_update(None, "journal_mode", "WAL")
            .map_err(db_err("switching to WAL mode"))?;
        store.configure()?;
        let tx = Transaction::new_unchecked(&store.conn, TransactionBehavior::Immediate)
            .map_err(db_err("starting the init transaction"))?;
        // Another init may have won the race while we waited for the lock.
        if !store.is_empty_database()? {
            drop(tx);
            check_schema(&store.conn, path)?;
            return Ok((store, InitOutcome::AlreadyInitialised));
        }
        tx.execute_batch(&schema_sql())
            .map_err(db_err("creating the schema"))?;
        tx.pragma_update(None, "application_id", APPLICATION_ID)
            .map_err(db_err("marking the store"))?;
        tx.pragma_update(None, "user_version", SCHEMA_VERSION)
            .map_err(db_err("versioning the store"))?;
        tx.commit().map_err(db_err("committing the new store"))?;
        Ok((store, InitOutcome::Created))
    }

    fn is_empty_database(&self) -> Result<bool, StoreError> {
        let (app_id, objects): (i32, i64) = self
            .conn
            .query_row(
                "SELECT (SELECT application_id FROM pragma_application_id), \
                        (SELECT count(*) FROM sqlite_master)",
                [],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .map_err(db_err("reading the store header"))?;
        Ok(app_id == 0 && objects == 0)
    }

    /// Open an existing cursor store. Never creates a file.
    ///
    /// # Errors
    ///
    /// [`StoreError::Missing`] when there is no file, and every reason the
    /// file cannot be used as a cursor store.
    pub fn open(path: &Path, access: Access, busy_timeout: Duration) -> Result<Self, StoreError> {
        match std::fs::metadata(path) {
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                return Err(StoreError::Missing {
                    path: path.to_owned(),
                })
            }
            Ok(m) if m.is_dir() => {
                return Err(StoreError::NotACursorStore {
                    path: path.to_owned(),
                    detail: "it is a directory".to_owned(),
                })
            }
            _ => {}
        }
        let flags = match access {
            Access::ReadOnly => OpenFlags::SQLITE_OPEN_READ_ONLY,
            Access::ReadWrite => OpenFlags::SQLITE_OPEN_READ_WRITE,
        } | OpenFlags::SQLITE_OPEN_NO_MUTEX;
        let conn = Connection::open_with_flags(path, flags).map_err(db_err("opening the store"))?;
        conn.busy_timeout(busy_timeout)
            .map_err(db_err("setting the busy timeout"))?;
        check_schema(&conn, path)?;
        // Parse the schema now, with a plain statement: a first statement
        // from the statement cache would parse it with SQLite's lookaside
        // allocator turned off (as it is for persistent statements).
        conn.prepare("SELECT 1 FROM cursors LIMIT 0")
            .map_err(db_err("reading the schema"))?;
        let store = Self {
            conn,
            path: path.to_owned(),
        };
        if access == Access::ReadWrite {
            store.configure()?;
        }
        Ok(store)
    }

    /// Per-connection settings for writers.
    fn configure(&self) -> Result<(), StoreError> {
        self.conn
            .pragma_update(None, "synchronous", "FULL")
            .map_err(db_err("setting synchronous=FULL"))
    }

    /// The path of the store file.
    #[must_use]
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The underlying connection, for reads the store does not offer.
    #[must_use]
    pub const fn connection(&self) -> &Connection {
        &self.conn
    }

    /// Read one cursor.
    ///
    /// # Errors
    ///
    /// Store failures and [`StoreError::InvalidValue`].
    pub fn cursor(&self, key: &CursorKey) -> Result<Option<CursorRow>, StoreError> {
        read_cursor(&self.conn, key)
    }

    /// Call `each` for every cursor matching `filter`, in key order, without
    /// holding more than one row in memory. A row whose offset is invalid is
    /// passed as [`StoreError::InvalidValue`].
    ///
    /// # Errors
    ///
    /// Store failures, and whatever `each` returns.
    pub fn for_each_cursor<E: From<StoreError>>(
        &self,
        filter: &CursorFilter,
        mut each: impl FnMut(Result<&CursorRow, StoreError>) -> Result<(), E>,
    ) -> Result<(), E> {
        let mut sql = String::from(
            "SELECT consumer, channel, partition, offset, updated_at FROM cursors WHERE 1",
        );
        let mut args: Vec<rusqlite::types::Value> = Vec::new();
        if let Some(c) = &filter.consumer {
            sql.push_str(" AND consumer = ?");
            args.push(c.clone().into());
        }
        if let Some(c) = &filter.channel {
            sql.push_str(" AND channel = ?");
            args.push(c.clone().into());
        }
        if let Some(t) = filter.updated_before {
            sql.push_str(" AND updated_at <= ?");
            args.push(t.into());
        }
        sql.push_str(" ORDER BY consumer, channel, partition");
        let mut stmt = self.conn.prepare(&sql).map_err(db_err("listing cursors"))?;
        let mut rows = stmt
            .query(rusqlite::params_from_iter(args))
            .map_err(db_err("listing cursors"))?;
        let mut row_buf = CursorRow::default();
        while let Some(row) = rows.next().map_err(db_err("listing cursors"))? {
            let text = |i| -> Result<&str, StoreError> {
                row.get_ref(i)
                    .and_then(|v| v.as_str().map_err(Into::into))
                    .map_err(db_err("listing cursors"))
            };
            row_buf.consumer.clear();
            row_buf.consumer.push_str(text(0)?);
            row_buf.channel.clear();
            row_buf.channel.push_str(text(1)?);
            row_buf.partition = partition_from(row.get_ref(2).map_err(db_err("listing cursors"))?);
            row_buf.updated_at = time_from(row.get_ref(4).map_err(db_err("listing cursors"))?);
            match offset_from(row.get_ref(3).map_err(db_err("listing cursors"))?) {
                Ok(offset) => {
                    row_buf.offset = offset;
                    each(Ok(&row_buf))?;
                }
                Err(value) => each(Err(StoreError::InvalidValue {
                    key: row_buf.key(),
                    value,
                }))?,
            }
        }
        Ok(())
    }

    /// Read recorded changes, oldest first.
    ///
    /// # Errors
    ///
    /// Store failures, and whatever `each` returns.
    pub fn for_each_change<E: From<StoreError>>(
        &self,
        filter: &HistoryFilter,
        each: impl FnMut(&HistoryRow) -> Result<(), E>,
    ) -> Result<(), E> {
        changes_on(&self.conn, filter, each)
    }

    /// One recorded change by id.
    ///
    /// # Errors
    ///
    /// Store failures.
    pub fn change(&self, id: i64) -> Result<Option<HistoryRow>, StoreError> {
        read_change(&self.conn, id)
    }

    /// Run `f` in one read transaction: every read sees the same snapshot
    /// of the store, and no write lock is taken.
    ///
    /// # Errors
    ///
    /// Store failures, and whatever `f` returns.
    pub fn snapshot<T, E: From<StoreError>>(
        &self,
        f: impl FnOnce(&Self) -> Result<T, E>,
    ) -> Result<T, E> {
        let tx = Transaction::new_unchecked(&self.conn, TransactionBehavior::Deferred)
            .map_err(db_err("starting a read transaction"))?;
        let value = f(self)?;
        tx.finish().map_err(db_err("ending a read transaction"))?;
        Ok(value)
    }

    /// Run `f` in one `BEGIN IMMEDIATE` transaction; commit if it returns
    /// `Ok`, roll back otherwise.
    ///
    /// # Errors
    ///
    /// [`StoreError::Busy`] when the write lock stays taken past the busy
    /// timeout, other store failures, and whatever `f` returns.
    pub fn write<T, E: From<StoreError>>(
        &self,
        f: impl FnOnce(&WriteTxn<'_>) -> Result<T, E>,
    ) -> Result<T, E> {
        let tx = Transaction::new_unchecked(&self.conn, TransactionBehavior::Immediate)
            .map_err(db_err("starting a write transaction"))?;
        let txn = WriteTxn {
            prepared: Prepared::new(&self.conn),
            tx,
            now_ms: now_ms(),
            last_read: RefCell::default(),
        };
        let value = f(&txn)?;
        txn.tx.commit().map_err(db_err("committing"))?;
        Ok(value)
    }
}

/// Read recorded changes matching `filter`, oldest first.
fn changes_on<E: From<StoreError>>(
    conn: &Connection,
    filter: &HistoryFilter,
    mut each: impl FnMut(&HistoryRow) -> Result<(), E>,
) -> Result<(), E> {
    let mut sql = String::from(
        "SELECT id, at, consumer, channel, partition, old_offset, new_offset, command, \
         reason, user, batch FROM history WHERE 1",
    );
    let mut args: Vec<rusqlite::types::Value> = Vec::new();
    if let Some(c) = &filter.consumer {
        sql.push_str(" AND consumer = ?");
        args.push(c.clone().into());
    }
    if let Some(pk) = &filter.partition_key {
        sql.push_str(" AND channel = ? AND partition = ?");
        args.push(pk.channel().as_str().to_owned().into());
        args.push(i64::from(pk.index()).into());
    }
    if let Some(t) = filter.since {
        sql.push_str(" AND at >= ?");
        args.push(t.into());
    }
    if let Some(b) = filter.batch {
        sql.push_str(" AND batch = ?");
        args.push(b.into());
    }
    if let Some(limit) = filter.limit {
        sql = format!(
            "SELECT * FROM ({sql} ORDER BY id DESC LIMIT {}) ORDER BY id",
            limit.min(i64::MAX as u64)
        );
    } else {
        sql.push_str(" ORDER BY id");
    }
    let mut stmt = conn.prepare(&sql).map_err(db_err("reading the history"))?;
    let mut rows = stmt
        .query(rusqlite::params_from_iter(args))
        .map_err(db_err("reading the history"))?;
    while let Some(row) = rows.next().map_err(db_err("reading the history"))? {
        let change = history_row(row).map_err(db_err("reading the history"))?;
        each(&change)?;
    }
    Ok(())
}

fn history_row(row: &rusqlite::Row<'_>) -> rusqlite::Result<HistoryRow> {
    let opt_offset = |i| -> rusqlite::Result<Option<u64>> {
        Ok(row.get::<_, Option<i64>>(i)?.map(i64::unsigned_abs))
    };
    Ok(HistoryRow {
        id: row.get(0)?,
        at: row.get(1)?,
        consumer: row.get(2)?,
        channel: row.get(3)?,
        partition: partition_from(row.get_ref(4)?),
        old_offset: opt_offset(5)?,
        new_offset: opt_offset(6)?,
        command: row.get(7)?,
        reason: row.get(8)?,
        user: row.get(9)?,
        batch: row.get(10)?,
    })
}

fn read_change(conn: &Connection, id: i64) -> Result<Option<HistoryRow>, StoreError> {
    conn.prepare_cached(
        "SELECT id, at, consumer, channel, partition, old_offset, new_offset, command, \
         reason, user, batch FROM history WHERE id = ?1",
    )
    .and_then(|mut s| s.query_row([id], history_row).optional())
    .map_err(db_err("reading the history"))
}

fn read_cursor(conn: &Connection, key: &CursorKey) -> Result<Option<CursorRow>, StoreError> {
    let mut stmt = conn
        .prepare_cached(
            "SELECT offset, updated_at FROM cursors \
             WHERE consumer = ?1 AND channel = ?2 AND partition = ?3",
        )
        .map_err(db_err("reading a cursor"))?;
    let pk = key.partition_key();
    let mut rows = stmt
        .query(params![
            key.consumer().as_str(),
            pk.channel().as_str(),
            pk.index()
        ])
        .map_err(db_err("reading a cursor"))?;
    let Some(row) = rows.next().map_err(db_err("reading a cursor"))? else {
        return Ok(None);
    };
    let offset =
        offset_from(row.get_ref(0).map_err(db_err("reading a cursor"))?).map_err(|value| {
            StoreError::InvalidValue {
                key: key.to_string(),
                value,
            }
        })?;
    Ok(Some(CursorRow {
        consumer: key.consumer().as_str().to_owned(),
        channel: pk.channel().as_str().to_owned(),
        partition: pk.index(),
        offset,
        updated_at: time_from(row.get_ref(1).map_err(db_err("reading a cursor"))?),
    }))
}

/// The statements of the hot write path.
#[derive(Clone, Copy)]
enum Sql {
    ReadOffset,
    UpdateCursor,
    SwapCursor,
    InsertCursor,
    InsertHistory,
}

impl Sql {
    const ALL: usize = 5;

    const fn text(self) -> &'static str {
        match self {
            Self::ReadOffset => {
                "SELECT offset FROM cursors WHERE consumer = ?1 AND channel = ?2 AND partition = ?3"
            }
            Self::UpdateCursor => {
                "UPDATE cursors SET offset = ?4, updated_at = ?5 \
                 WHERE consumer = ?1 AND channel = ?2 AND partition = ?3"
            }
            Self::SwapCursor => {
                "UPDATE cursors SET offset = ?4, updated_at = ?5 \
                 WHERE consumer = ?1 AND channel = ?2 AND partition = ?3 AND offset = ?6"
            }
            Self::InsertCursor => {
                "INSERT INTO cursors (consumer, channel, partition, offset, updated_at) \
                 VALUES (?1, ?2, ?3, ?4, ?5)"
            }
            Self::InsertHistory => {
                "INSERT INTO history (at, consumer, channel, partition, old_offset, new_offset, \
                 command, reason, user, batch) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)"
            }
        }
    }
}

/// Where prepared statements come from: the connection's statement cache,
/// or the ones a write transaction keeps for its whole life.
trait Statements {
    fn with<T>(
        &self,
        sql: Sql,
        f: impl FnOnce(&mut Statement<'_>) -> rusqlite::Result<T>,
    ) -> rusqlite::Result<T>;
}

impl Statements for Connection {
    fn with<T>(
        &self,
        sql: Sql,
        f: impl FnOnce(&mut Statement<'_>) -> rusqlite::Result<T>,
    ) -> rusqlite::Result<T> {
        let mut stmt = self.prepare_cached(sql.text())?;
        f(&mut stmt)
    }
}

/// Statements prepared once per write transaction: a bulk write runs the
/// same few statements a million times.
struct Prepared<'c> {
    conn: &'c Connection,
    slots: [RefCell<Option<CachedStatement<'c>>>; Sql::ALL],
}

impl<'c> Prepared<'c> {
    fn new(conn: &'c Connection) -> Self {
        Self {
            conn,
            slots: Default::default(),
        }
    }
}

impl Statements for Prepared<'_> {
    fn with<T>(
        &self,
        sql: Sql,
        f: impl FnOnce(&mut Statement<'_>) -> rusqlite::Result<T>,
    ) -> rusqlite::Result<T> {
        let mut slot = self.slots[sql as usize].borrow_mut();
        let stmt = match &mut *slot {
            Some(stmt) => stmt,
            empty => empty.insert(self.conn.prepare_cached(sql.text())?),
        };
        f(stmt)
    }
}

/// Compare-and-swap on one cursor, inside the current write transaction.
/// `known` is the offset just read in the same transaction, if any. When it
/// is not known, a guarded `UPDATE ... AND offset = expected` is tried first:
/// one B-tree lookup instead of a read and then a write. Only when it changes
/// nothing is the cursor read, to tell a stale cursor from an absent one
/// (which is created when `expected` is 0).
fn cas_on(
    stmts: &impl Statements,
    key: &str,
    expected: u64,
    new: u64,
    now: i64,
    known: Option<Option<u64>>,
) -> Result<(), DurabilityError> {
    let new_sql = to_sql_offset(new)?;
    let parsed = CursorKey::parse(key)?;
    let pk = parsed.partition_key();
    let (consumer, channel, index) = (
        parsed.consumer().as_str(),
        pk.channel().as_str(),
        pk.index(),
    );
    if known.is_none() && new != expected {
        let expected_sql = i64::try_from(expected).unwrap_or(i64::MAX);
        let swapped = stmts
            .with(Sql::SwapCursor, |s| {
                s.execute(params![
                    consumer,
                    channel,
                    index,
                    new_sql,
                    now,
                    expected_sql
                ])
            })
            .map_err(db_err("writing a cursor"))?;
        if swapped == 1 {
            return Ok(());
        }
    }
    let current = match known {
        Some(current) => current,
        None => read_on(stmts, key)?,
    };
    if current.unwrap_or(0) != expected {
        return Err(DurabilityError::StaleCheckpoint {
            key: key.to_owned(),
            expected,
            actual: current,
        });
    }
    if current == Some(new) {
        return Ok(());
    }
    let args = params![consumer, channel, index, new_sql, now];
    if current.is_some() {
        stmts
            .with(Sql::UpdateCursor, |s| s.execute(args))
            .map_err(db_err("writing a cursor"))?;
    } else {
        stmts
            .with(Sql::InsertCursor, |s| s.execute(args))
            .map_err(db_err("creating a cursor"))?;
    }
    Ok(())
}

/// Read one offset (without building a whole [`CursorRow`]).
fn read_on(stmts: &impl Statements, key: &str) -> Result<Option<u64>, DurabilityError> {
    let parsed = CursorKey::parse(key)?;
    let pk = parsed.partition_key();
    let found = stmts
        .with(Sql::ReadOffset, |s| {
            let mut rows = s.query(params![
                parsed.consumer().as_str(),
                pk.channel().as_str(),
                pk.index()
            ])?;
            rows.next()?
                .map(|row| row.get_ref(0).map(offset_from))
                .transpose()
        })
        .map_err(db_err("reading a cursor"))?;
    match found {
        None => Ok(None),
        Some(Ok(offset)) => Ok(Some(offset)),
        Some(Err(value)) => Err(StoreError::InvalidValue {
            key: key.to_owned(),
            value,
        }
        .into()),
    }
}

impl DurableStore for SqliteStore {
    fn read_value(&self, key: &str) -> Result<Option<u64>, DurabilityError> {
        read_on(&self.conn, key)
    }

    /// Each compare-and-swap is its own `BEGIN IMMEDIATE` transaction.
    fn cas(&self, key: &str, expected: u64, new: u64) -> Result<(), DurabilityError> {
        self.write(|txn| txn.cas(key, expected, new))
    }
}

/// A write transaction on a [`SqliteStore`]: compare-and-swap, history.
pub struct WriteTxn<'c> {
    prepared: Prepared<'c>,
    tx: Transaction<'c>,
    now_ms: i64,
    last_read: RefCell<LastRead>,
}

/// The cursor read last in a write transaction. Nothing else can write the
/// store while the transaction holds the write lock, so a compare-and-swap
/// right after a read of the same key need not read it again. Every write
/// through the transaction forgets it.
#[derive(Default)]
struct LastRead {
    valid: bool,
    key: String,
    offset: Option<u64>,
}

impl LastRead {
    fn get(&self, key: &str) -> Option<Option<u64>> {
        (self.valid && self.key == key).then_some(self.offset)
    }

    fn set(&mut self, key: &str, offset: Option<u64>) {
        self.key.clear();
        self.key.push_str(key);
        self.offset = offset;
        self.valid = true;
    }
}

impl WriteTxn<'_> {
    /// The time of this transaction, in milliseconds since the Unix epoch.
    #[must_use]
    pub const fn now_ms(&self) -> i64 {
        self.now_ms
    }

    /// Read one cursor inside the transaction.
    ///
    /// # Errors
    ///
    /// Store failures and [`StoreError::InvalidValue`].
    pub fn cursor(&self, key: &CursorKey) -> Result<Option<CursorRow>, StoreError> {
        read_cursor(&self.tx, key)
    }

    /// One recorded change by id.
    ///
    /// # Errors
    ///
    /// Store failures.
    pub fn change(&self, id: i64) -> Result<Option<HistoryRow>, StoreError> {
        read_change(&self.tx, id)
    }

    /// Read recorded changes inside the transaction, oldest first.
    ///
    /// # Errors
    ///
    /// Store failures, and whatever `each` returns.
    pub fn for_each_change<E: From<StoreError>>(
        &self,
        filter: &HistoryFilter,
        each: impl FnMut(&HistoryRow) -> Result<(), E>,
    ) -> Result<(), E> {
        changes_on(&self.tx, filter, each)
    }

    /// Remove a cursor if it still holds `expected` (the undo of a creation).
    ///
    /// # Errors
    ///
    /// [`DurabilityError::StaleCheckpoint`] when it holds something else.
    pub fn remove_if(&self, key: &CursorKey, expected: u64) -> Result<(), DurabilityError> {
        self.last_read.borrow_mut().valid = false;
        let current = read_cursor(&self.tx, key)?.map(|r| r.offset);
        if current != Some(expected) {
            return Err(DurabilityError::StaleCheckpoint {
                key: key.to_string(),
                expected,
                actual: current,
            });
        }
        let pk = key.partition_key();
        self.tx
            .prepare_cached(
                "DELETE FROM cursors WHERE consumer = ?1 AND channel = ?2 AND partition = ?3",
            )
            .and_then(|mut s| {
                s.execute(params![
                    key.consumer().as_str(),
                    pk.channel().as_str(),
                    pk.index()
                ])
            })
            .map_err(db_err("removing a cursor"))?;
        Ok(())
    }

    /// Start a batch of changes; returns its id.
    ///
    /// # Errors
    ///
    /// Store failures.
    pub fn new_batch(
        &self,
        command: &str,
        reason: Option<&str>,
        user: &str,
    ) -> Result<i64, StoreError> {
        self.tx
            .prepare_cached(
                "INSERT INTO batches (at, command, reason, user) VALUES (?1, ?2, ?3, ?4)",
            )
            .and_then(|mut s| s.execute(params![self.now_ms, command, reason, user]))
            .map_err(db_err("recording a batch"))?;
        Ok(self.tx.last_insert_rowid())
    }

    /// Record a change in the history; returns its id.
    ///
    /// # Errors
    ///
    /// Store failures.
    pub fn record_change(&self, change: &ChangeInput<'_>) -> Result<i64, StoreError> {
        let pk = change.key.partition_key();
        let sql_offset = |o: Option<u64>| o.map(|v| i64::try_from(v).unwrap_or(i64::MAX));
        self.prepared
            .with(Sql::InsertHistory, |s| {
                s.execute(params![
                    self.now_ms,
                    change.key.consumer().as_str(),
                    pk.channel().as_str(),
                    pk.index(),
                    sql_offset(change.old_offset),
                    sql_offset(change.new_offset),
                    change.command,
                    change.reason,
                    change.user,
                    change.batch
                ])
            })
            .map_err(db_err("recording the change"))?;
        Ok(self.tx.last_insert_rowid())
    }

    /// The underlying transaction, for reads the store does not offer (a
    /// write through it would bypass the checks and the read cache).
    #[must_use]
    pub fn connection(&self) -> &Connection {
        &self.tx
    }
}

impl DurableStore for WriteTxn<'_> {
    fn read_value(&self, key: &str) -> Result<Option<u64>, DurabilityError> {
        if let Some(offset) = self.last_read.borrow().get(key) {
            return Ok(offset);
        }
        let offset = read_on(&self.prepared, key)?;
        self.last_read.borrow_mut().set(key, offset);
        Ok(offset)
    }

    fn cas(&self, key: &str, expected: u64, new: u64) -> Result<(), DurabilityError> {
        let known = {
            let mut last = self.last_read.borrow_mut();
            let known = last.get(key);
            last.valid = false;
            known
        };
        cas_on(&self.prepared, key, expected, new, self.now_ms, known)
    }
}
