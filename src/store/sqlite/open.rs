//! Opening and creating a SQLite store, and checking its header.

use std::path::Path;
use std::time::Duration;

use rusqlite::{Connection, OpenFlags, Transaction, TransactionBehavior};

use super::schema::{
    schema_sql, schema_v4_rules_sql, APPLICATION_ID, SCHEMA_V2_SQL, SCHEMA_V3_HEADS_SQL,
    SCHEMA_V3_IDS_SQL, SCHEMA_V4_LEASES_SQL, SCHEMA_V4_WRITE_IDS_SQL, SCHEMA_VERSION,
};
use super::{db_err, SqliteStore};
use crate::error::StoreError;
use crate::store::sqlite_backend::MAX_BUSY_TIMEOUT;
use crate::store::{Access, InitOutcome, StoreLocation};

fn location(path: &Path) -> StoreLocation {
    StoreLocation::from(path)
}

fn set_busy_timeout(conn: &Connection, busy_timeout: Duration) -> Result<(), StoreError> {
    conn.busy_timeout(busy_timeout.min(MAX_BUSY_TIMEOUT))
        .map_err(db_err("setting the busy timeout"))
}

/// Check that an open connection is a cursor store of a version we read.
fn check_schema(conn: &Connection, path: &Path) -> Result<(), StoreError> {
    let not_ours = |detail: String| StoreError::NotACursorStore {
        location: location(path),
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
                _ => super::sqlite_error("reading the store header", e),
            })
        }
    };
    if app_id == APPLICATION_ID {
        if version > SCHEMA_VERSION {
            return Err(StoreError::NewerSchema {
                location: location(path),
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

fn is_empty_database(conn: &Connection) -> Result<bool, StoreError> {
    let (app_id, objects): (i32, i64) = conn
        .query_row(
            "SELECT (SELECT application_id FROM pragma_application_id), \
                    (SELECT count(*) FROM sqlite_master)",
            [],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .map_err(db_err("reading the store header"))?;
    Ok(app_id == 0 && objects == 0)
}

/// What a path names, when it is not a regular file: `a directory`, `a
/// character device`, ... (`None`: a regular file).
fn not_regular(kind: std::fs::FileType) -> Option<&'static str> {
    #[cfg(unix)]
    use std::os::unix::fs::FileTypeExt as _;
    if kind.is_file() {
        return None;
    }
    Some(if kind.is_dir() {
        "a directory"
    } else if kind.is_symlink() {
        "a symbolic link"
    } else {
        #[cfg(unix)]
        {
            if kind.is_char_device() {
                "a character device"
            } else if kind.is_block_device() {
                "a block device"
            } else if kind.is_fifo() {
                "a named pipe"
            } else if kind.is_socket() {
                "a socket"
            } else {
                "not a regular file"
            }
        }
        #[cfg(not(unix))]
        "not a regular file"
    })
}

/// What `init` checks before SQLite touches the path: nothing there, or a
/// regular file. A symbolic link (dangling or not) is refused, so that no
/// store is created or changed where a link planted by someone else
/// points; a device, a pipe or a socket is refused, so that no journal is
/// made beside it (`/dev/null-journal`).
fn check_init_path(path: &Path) -> Result<(), StoreError> {
    let refuse = |detail: String| StoreError::NotACursorStore {
        location: location(path),
        detail,
    };
    match std::fs::symlink_metadata(path) {
        // Nothing there, or a folder that cannot be read: SQLite says why
        // it cannot create the file.
        Err(_) => Ok(()),
        Ok(m) if m.file_type().is_symlink() => {
            let target = std::fs::read_link(path)
                .map(|t| format!(" to {}", t.display()))
                .unwrap_or_default();
            let dangling = if path.exists() {
                ""
            } else {
                ", which points at nothing"
            };
            Err(refuse(format!(
                "it is a symbolic link{target}{dangling}; init creates or upgrades a store only at the path of a regular file (give the path it points to, if that is the store meant)"
            )))
        }
        Ok(m) => match not_regular(m.file_type()) {
            None => Ok(()),
            Some(kind) => Err(refuse(format!("it is {kind}; a store is a regular file"))),
        },
    }
}

/// Per-connection settings for writers.
fn configure(conn: &Connection) -> Result<(), StoreError> {
    conn.pragma_update(None, "synchronous", "FULL")
        .map_err(db_err("setting synchronous=FULL"))?;
    super::verify::register(conn)
}

impl SqliteStore {
    /// Bring a store of an older schema version to [`SCHEMA_VERSION`], in
    /// one transaction.
    fn upgrade(&self) -> Result<InitOutcome, StoreError> {
        let conn = self.connection();
        let tx = Transaction::new_unchecked(conn, TransactionBehavior::Immediate)
            .map_err(db_err("starting the upgrade"))?;
        let version: i64 = tx
            .pragma_query_value(None, "user_version", |r| r.get(0))
            .map_err(db_err("reading the schema version"))?;
        if version >= SCHEMA_VERSION {
            return Ok(InitOutcome::AlreadyInitialised);
        }
        if version < 2 {
            tx.execute_batch(SCHEMA_V2_SQL)
                .map_err(db_err("upgrading the schema to version 2"))?;
        }
        if version < 3 {
            tx.execute_batch(SCHEMA_V3_IDS_SQL)
                .map_err(db_err("upgrading the schema to version 3"))?;
            tx.execute_batch(SCHEMA_V3_HEADS_SQL)
                .map_err(db_err("upgrading the schema to version 3"))?;
        }
        if version < 4 {
            tx.execute_batch(SCHEMA_V4_LEASES_SQL)
                .map_err(db_err("upgrading the schema to version 4 (leases)"))?;
            tx.execute_batch(SCHEMA_V4_WRITE_IDS_SQL)
                .map_err(db_err("upgrading the schema to version 4"))?;
            tx.execute_batch(&schema_v4_rules_sql())
                .map_err(db_err("upgrading the schema to version 4"))?;
            super::verify::start_chain(&tx)?;
        }
        tx.pragma_update(None, "user_version", SCHEMA_VERSION)
            .map_err(db_err("versioning the store"))?;
        tx.commit().map_err(db_err("committing the upgrade"))?;
        Ok(InitOutcome::Upgraded { from: version })
    }

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
        check_init_path(path)?;
        let existed = path.exists();
        // A link made between the check and the open is refused by SQLite.
        let flags = OpenFlags::SQLITE_OPEN_READ_WRITE
            | OpenFlags::SQLITE_OPEN_CREATE
            | OpenFlags::SQLITE_OPEN_NOFOLLOW
            | OpenFlags::SQLITE_OPEN_NO_MUTEX;
        let conn =
            Connection::open_with_flags(path, flags).map_err(db_err("creating the store"))?;
        set_busy_timeout(&conn, busy_timeout)?;
        match check_schema(&conn, path) {
            Ok(()) => {
                configure(&conn)?;
                let store = Self::new(conn, path);
                let outcome = store.upgrade()?;
                return Ok((store, outcome));
            }
            Err(StoreError::NotACursorStore { .. })
                if is_empty_database(&conn).unwrap_or(false) => {}
            Err(e) => return Err(e),
        }
        conn.pragma_update(None, "journal_mode", "WAL")
            .map_err(db_err("switching to WAL mode"))?;
        configure(&conn)?;
        let tx = Transaction::new_unchecked(&conn, TransactionBehavior::Immediate)
            .map_err(db_err("starting the init transaction"))?;
        // Another init may have won the race while we waited for the lock.
        if !is_empty_database(&tx)? {
            drop(tx);
            check_schema(&conn, path)?;
            return Ok((Self::new(conn, path), InitOutcome::AlreadyInitialised));
        }
        tx.execute_batch(&schema_sql())
            .map_err(db_err("creating the schema"))?;
        super::verify::start_chain(&tx)?;
        tx.pragma_update(None, "application_id", APPLICATION_ID)
            .map_err(db_err("marking the store"))?;
        tx.pragma_update(None, "user_version", SCHEMA_VERSION)
            .map_err(db_err("versioning the store"))?;
        tx.commit().map_err(db_err("committing the new store"))?;
        let mut store = Self::new(conn, path);
        store.created = Some(!existed);
        Ok((store, InitOutcome::Created))
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
                    location: location(path),
                })
            }
            // A symbolic link to a store is followed (metadata follows it).
            Ok(m) => {
                if let Some(kind) = not_regular(m.file_type()) {
                    return Err(StoreError::NotACursorStore {
                        location: location(path),
                        detail: format!("it is {kind}; a store is a regular file"),
                    });
                }
            }
            _ => {}
        }
        let flags = match access {
            Access::ReadOnly => OpenFlags::SQLITE_OPEN_READ_ONLY,
            Access::ReadWrite => OpenFlags::SQLITE_OPEN_READ_WRITE,
        } | OpenFlags::SQLITE_OPEN_NO_MUTEX;
        let conn = Connection::open_with_flags(path, flags).map_err(db_err("opening the store"))?;
        set_busy_timeout(&conn, busy_timeout)?;
        check_schema(&conn, path)?;
        // Parse the schema now, with a plain statement: a first statement
        // from the statement cache would parse it with SQLite's lookaside
        // allocator turned off (as it is for persistent statements).
        conn.prepare("SELECT 1 FROM cursors LIMIT 0")
            .map_err(db_err("reading the schema"))?;
        if access == Access::ReadWrite {
            configure(&conn)?;
        }
        Ok(Self::new(conn, path))
    }
}
