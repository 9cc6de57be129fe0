//! The SQLite cursor store.
//!
//! One file, WAL mode, `synchronous=FULL`, marked with
//! [`APPLICATION_ID`] and versioned with [`SCHEMA_VERSION`]. Writes run in
//! `BEGIN IMMEDIATE` transactions; the history of every change made through a
//! write transaction is written in the same transaction as the change. The
//! schema is in `docs/store.md`.
//!
//! - `open.rs`: opening and creating a store, checking its header;
//! - `schema.rs`: the schema and the marks of a cursor store;
//! - `read.rs`: one cursor, listings, the history;
//! - `write.rs`: the write transaction.

mod about;
mod heads;
mod leases;
mod moves;
mod open;
mod options;
mod read;
mod schema;
mod snapshots;
mod verify;
mod write;
mod write_ids;

use std::path::Path;
use std::time::{SystemTime, UNIX_EPOCH};

use rusqlite::Connection;

pub use options::SqliteOptions;
pub use schema::{APPLICATION_ID, SCHEMA_VERSION};
pub use write::SqliteTxn;

pub use super::{
    Access, ChangeInput, CursorFilter, CursorRow, HistoryFilter, HistoryRow, InitOutcome,
    DEFAULT_BUSY_TIMEOUT,
};
use super::{DurableStore, ReadView, Store, StoreExt, StoreLocation, StoreRead, Visit, WriteTxn};
use crate::error::{DurabilityError, StoreError, StoreErrorKind};
use crate::key::CursorKey;

/// Milliseconds since the Unix epoch on this host's clock, which is the
/// clock SQLite's own `'now'` reads.
fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
}

/// Turn off SQLite's memory statistics for this process, and give it the
/// lookaside and statement-journal sizes that `.cargo/config.toml` also
/// compiles in (`SQLITE_DEFAULT_LOOKASIDE`, `SQLITE_STMTJRNL_SPILL`): a
/// build that does not read that file (`cargo install` from the registry
/// or from git) gets them here (see [`crate::store::prepare_one_shot_process`]
/// and docs/performance.md).
///
/// # Safety
///
/// Called before any other thread exists and before any SQLite connection
/// is opened in the process: `sqlite3_config` is not thread-safe.
pub(crate) unsafe fn prepare_one_shot_process() {
    use rusqlite::ffi;
    use std::os::raw::c_int;
    // SAFETY: the caller's contract: no other thread, no connection yet
    // (SQLite accepts configuration only before it is initialised; later
    // it returns SQLITE_MISUSE and changes nothing). Each option takes the
    // int arguments given.
    unsafe {
        ffi::sqlite3_config(ffi::SQLITE_CONFIG_MEMSTATUS, 0 as c_int);
        // 1200-byte slots, 10 of them: 12 KB a connection instead of 48 KB.
        ffi::sqlite3_config(ffi::SQLITE_CONFIG_LOOKASIDE, 1200 as c_int, 10 as c_int);
        // Statement journals in memory up to 4 MiB.
        ffi::sqlite3_config(ffi::SQLITE_CONFIG_STMTJRNL_SPILL, 4_194_304 as c_int);
    }
}

/// Wrap a SQLite error: lock contention is [`StoreError::Busy`]; anything
/// else is classified by its result code.
pub(crate) fn sqlite_error(context: impl Into<String>, source: rusqlite::Error) -> StoreError {
    use rusqlite::ErrorCode as Code;
    let kind = match source.sqlite_error_code() {
        Some(Code::DatabaseBusy | Code::DatabaseLocked) => return StoreError::Busy,
        Some(Code::ReadOnly) => StoreErrorKind::ReadOnly,
        Some(Code::DiskFull | Code::TooBig) => StoreErrorKind::Full,
        Some(Code::SystemIoFailure | Code::CannotOpen) => StoreErrorKind::Io,
        Some(Code::DatabaseCorrupt | Code::NotADatabase) => StoreErrorKind::Corrupt,
        Some(Code::PermissionDenied | Code::AuthorizationForStatementDenied) => {
            StoreErrorKind::PermissionDenied
        }
        _ => StoreErrorKind::Other,
    };
    StoreError::Database {
        context: context.into(),
        kind,
        source: Box::new(source),
    }
}

fn db_err(context: &str) -> impl FnOnce(rusqlite::Error) -> StoreError + '_ {
    move |e| sqlite_error(context, e)
}

/// A cursor store in one SQLite file.
#[derive(Debug)]
pub struct SqliteStore {
    conn: Connection,
    location: StoreLocation,
    /// Whether `init` created this store: in a file it created (`Some(true)`)
    /// or in an empty one it found (`Some(false)`).
    created: Option<bool>,
}

impl SqliteStore {
    fn new(conn: Connection, path: &Path) -> Self {
        Self {
            conn,
            location: StoreLocation::from(path),
            created: None,
        }
    }

    /// The path of the store file.
    #[must_use]
    pub fn path(&self) -> &Path {
        self.location.path().unwrap_or(Path::new(""))
    }

    /// The underlying connection, for SQLite-specific reads the store
    /// boundary does not offer.
    #[must_use]
    pub const fn connection(&self) -> &Connection {
        &self.conn
    }
}

impl StoreRead for SqliteStore {
    fn capabilities(&self) -> super::Capabilities {
        super::sqlite_backend::CAPABILITIES
    }

    fn cursor(&self, key: &CursorKey) -> Result<Option<CursorRow>, StoreError> {
        read::read_cursor(&self.conn, key)
    }

    fn visit_cursors(
        &self,
        filter: &CursorFilter,
        each: &mut dyn FnMut(Result<&CursorRow, StoreError>) -> Visit,
    ) -> Result<(), StoreError> {
        read::visit_cursors(&self.conn, filter, each)
    }

    fn visit_changes(
        &self,
        filter: &HistoryFilter,
        each: &mut dyn FnMut(&HistoryRow) -> Visit,
    ) -> Result<(), StoreError> {
        read::visit_changes(&self.conn, filter, each)
    }

    fn change(&self, id: i64) -> Result<Option<HistoryRow>, StoreError> {
        read::read_change(&self.conn, id)
    }

    fn visit_batches(
        &self,
        each: &mut dyn FnMut(&crate::store::BatchRow) -> Visit,
    ) -> Result<(), StoreError> {
        read::visit_batches(&self.conn, each)
    }

    fn visit_consumers(
        &self,
        filter: &crate::store::ConsumerFilter,
        each: &mut dyn FnMut(&crate::store::ConsumerSummary) -> Visit,
    ) -> Result<(), StoreError> {
        read::visit_consumers(&self.conn, filter, each)
    }

    fn seen_keys(&self) -> Result<Box<dyn crate::store::SeenKeySet + '_>, StoreError> {
        Ok(Box::new(read::TableSeenKeySet::new(&self.conn)?))
    }

    fn snapshot_info(&self, name: &str) -> Result<Option<crate::store::SnapshotRow>, StoreError> {
        snapshots::info(&self.conn, name)
    }

    fn visit_snapshots(
        &self,
        each: &mut dyn FnMut(&crate::store::SnapshotRow) -> Visit,
    ) -> Result<(), StoreError> {
        snapshots::visit(&self.conn, each)
    }

    fn visit_snapshot_cursors(
        &self,
        name: &str,
        each: &mut dyn FnMut(&CursorRow) -> Visit,
    ) -> Result<(), StoreError> {
        snapshots::visit_cursors(&self.conn, name, each)
    }

    fn highest_ids(&self) -> Result<Option<crate::store::HighestIds>, StoreError> {
        read::highest_ids(&self.conn).map(Some)
    }

    fn verify_history(&self) -> Result<Option<crate::store::chain::ChainReport>, StoreError> {
        verify::verify_history(&self.conn)
    }

    fn head(
        &self,
        key: &crate::key::PartitionKey,
    ) -> Result<Option<crate::store::HeadRow>, StoreError> {
        heads::read_head(&self.conn, key)
    }

    fn visit_heads(
        &self,
        filter: &crate::store::HeadFilter,
        each: &mut dyn FnMut(&crate::store::HeadRow) -> Visit,
    ) -> Result<(), StoreError> {
        heads::visit_heads(&self.conn, filter, each)
    }

    fn visit_cursor_heads(
        &self,
        filter: &CursorFilter,
        each: &mut dyn FnMut(Result<&crate::store::CursorHeadRow, StoreError>) -> Visit,
    ) -> Result<(), StoreError> {
        heads::visit_cursor_heads(&self.conn, filter, each)
    }

    fn visit_head_changes(
        &self,
        filter: &crate::store::HeadFilter,
        each: &mut dyn FnMut(&crate::store::HeadChangeRow) -> Visit,
    ) -> Result<(), StoreError> {
        heads::visit_head_changes(&self.conn, filter, each)
    }

    fn lease(&self, key: &CursorKey) -> Result<Option<crate::store::LeaseRow>, StoreError> {
        leases::read_lease(&self.conn, key)
    }

    fn visit_leases(
        &self,
        consumer: Option<&str>,
        each: &mut dyn FnMut(&crate::store::LeaseRow) -> Visit,
    ) -> Result<(), StoreError> {
        leases::visit_leases(&self.conn, consumer, each)
    }
}

/// A text key is parsed once, here, then the keyed operation runs.
impl DurableStore for SqliteStore {
    crate::store::text_keys_parsed_once!();

    fn read_value_keyed(&self, key: &CursorKey) -> Result<Option<u64>, DurabilityError> {
        read::read_offset_of(&self.conn, key)
    }

    /// Each compare-and-swap is its own `BEGIN IMMEDIATE` transaction.
    fn cas_keyed(&self, key: &CursorKey, expected: u64, new: u64) -> Result<(), DurabilityError> {
        self.write(|txn| txn.cas_keyed(key, expected, new))
    }

    /// Its own `BEGIN IMMEDIATE` transaction too, the lease checked in the
    /// guarded `UPDATE` itself.
    fn leased_cas_keyed(
        &self,
        key: &CursorKey,
        epoch: u64,
        expected: u64,
        new: u64,
    ) -> Result<(), DurabilityError> {
        self.write(|txn| txn.leased_cas_keyed(key, epoch, expected, new))
    }

    /// One statement, outside any transaction.
    fn renew_lease_keyed(
        &self,
        key: &CursorKey,
        owner: &str,
        epoch: u64,
        ttl_ms: i64,
    ) -> Result<i64, DurabilityError> {
        leases::renew(&self.conn, key, owner, epoch, ttl_ms)
    }
}

impl Store for SqliteStore {
    fn location(&self) -> &StoreLocation {
        &self.location
    }

    fn schema_version(&self) -> Result<i64, StoreError> {
        self.conn
            .pragma_query_value(None, "user_version", |r| r.get(0))
            .map_err(db_err("reading the schema version"))
    }

    fn about(&self) -> Result<super::StoreAbout, StoreError> {
        self.about_store()
    }

    fn clock_ms(&self) -> Result<i64, StoreError> {
        Ok(now_ms())
    }

    fn begin_read(&self) -> Result<ReadView<'_>, StoreError> {
        self.conn
            .execute_batch("BEGIN DEFERRED")
            .map_err(db_err("starting a read transaction"))?;
        Ok(ReadView::begun(self))
    }

    fn end_read(&self) -> Result<(), StoreError> {
        self.conn
            .execute_batch("COMMIT")
            .map_err(db_err("ending a read transaction"))
    }

    fn begin_write(&self) -> Result<Box<dyn WriteTxn + '_>, StoreError> {
        Ok(Box::new(SqliteTxn::begin(self)?))
    }

    /// SQLite's busy handler already waits `--busy-timeout` for the lock,
    /// and SQLite never aborts a transaction to serialize it: a write is
    /// not run again.
    fn busy_timeout(&self) -> std::time::Duration {
        std::time::Duration::ZERO
    }

    fn prunable_history(&self, before: i64) -> Result<(u64, u64), StoreError> {
        read::prunable_history(&self.conn, before)
    }

    fn settle_write(&self, write_id: &str) -> Result<crate::store::SettledWrite, StoreError> {
        write_ids::settle_write(self.connection(), write_id)
    }

    fn remove_created(self: Box<Self>) -> Result<(), StoreError> {
        let Self {
            conn,
            location,
            created,
        } = *self;
        let Some(file_created) = created else {
            return Ok(());
        };
        conn.close()
            .map_err(|(_, e)| sqlite_error("closing the new store", e))?;
        let path = location.path().unwrap_or(Path::new(""));
        let io = |e: std::io::Error| StoreError::Database {
            context: format!("removing the new store {}", path.display()),
            kind: StoreErrorKind::Io,
            source: Box::new(e),
        };
        for suffix in ["-wal", "-shm", "-journal"] {
            let mut side = path.as_os_str().to_owned();
            side.push(suffix);
            match std::fs::remove_file(&side) {
                Err(e) if e.kind() != std::io::ErrorKind::NotFound => return Err(io(e)),
                _ => {}
            }
        }
        if file_created {
            std::fs::remove_file(path).map_err(io)
        } else {
            std::fs::OpenOptions::new()
                .write(true)
                .open(path)
                .and_then(|f| f.set_len(0))
                .map_err(io)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn classified(code: std::os::raw::c_int) -> StoreError {
        let source = rusqlite::Error::SqliteFailure(rusqlite::ffi::Error::new(code), None);
        sqlite_error("testing", source)
    }

    #[test]
    fn sqlite_codes_are_classified() {
        use rusqlite::ffi;
        assert!(classified(ffi::SQLITE_BUSY).is_busy());
        assert!(classified(ffi::SQLITE_LOCKED).is_busy());
        let kind = |code| classified(code).kind();
        assert_eq!(kind(ffi::SQLITE_READONLY), StoreErrorKind::ReadOnly);
        assert_eq!(kind(ffi::SQLITE_FULL), StoreErrorKind::Full);
        assert_eq!(kind(ffi::SQLITE_IOERR), StoreErrorKind::Io);
        assert_eq!(kind(ffi::SQLITE_IOERR_WRITE), StoreErrorKind::Io);
        assert_eq!(kind(ffi::SQLITE_CORRUPT), StoreErrorKind::Corrupt);
        assert_eq!(kind(ffi::SQLITE_NOTADB), StoreErrorKind::Corrupt);
        assert_eq!(kind(ffi::SQLITE_PERM), StoreErrorKind::PermissionDenied);
        assert_eq!(kind(ffi::SQLITE_MISUSE), StoreErrorKind::Other);
        assert!(!classified(ffi::SQLITE_FULL).is_retryable());
    }
}
