//! The SQLite backend's registration: built with or without the backend
//! (see `store::backend`).

use std::ffi::OsStr;
use std::time::Duration;

use crate::store::backend::{Backend, Capabilities, Registration};

/// The schema version this build writes (`PRAGMA user_version`). Version 1,
/// 2 and 3 stores are read and written too; `init` upgrades them.
pub const SCHEMA_VERSION: i64 = 4;

/// The longest busy timeout: SQLite takes it in milliseconds as a C `int`
/// (2147483647 ms, about 24.8 days).
pub const MAX_BUSY_TIMEOUT: Duration = Duration::from_millis(i32::MAX as u64);

/// What SQLite can do: each cursor is read when needed (in the process, as
/// cheap as reading many at once); runs of alike moves are written as one
/// set each.
pub(crate) const CAPABILITIES: Capabilities = Capabilities {
    reads_ahead: false,
    writes_changes_as_set: true,
    records_roles: false,
};

/// The SQLite backend: a location no other backend takes is the path of a
/// file.
pub(crate) const REGISTRATION: Registration = Registration {
    name: "sqlite",
    schema_version: SCHEMA_VERSION,
    max_busy_timeout: MAX_BUSY_TIMEOUT,
    max_busy_timeout_why: "SQLite takes it in milliseconds as a C int",
    capabilities: CAPABILITIES,
    recognises: |_| true,
    is_path: true,
    check,
    redact: |path| std::path::Path::new(path).display().to_string(),
    #[cfg(feature = "sqlite")]
    built: Some(crate::store::backend::Built {
        open: |location, access, busy_timeout| {
            let path = std::path::Path::new(location.as_os_str());
            Ok(Box::new(super::sqlite::SqliteStore::open(
                path,
                access,
                busy_timeout,
            )?))
        },
        init: |location, busy_timeout| {
            let path = std::path::Path::new(location.as_os_str());
            let (store, outcome) = super::sqlite::SqliteStore::init(path, busy_timeout)?;
            Ok((Box::new(store), outcome))
        },
        prepare_one_shot_process: super::sqlite::prepare_one_shot_process,
    }),
    #[cfg(not(feature = "sqlite"))]
    built: None,
};

impl Backend {
    /// SQLite: one file.
    pub const SQLITE: Self = Self::of(&REGISTRATION);
}

/// Refuse a name no store file could have: an empty name, one of only
/// white space, or SQLite's `:memory:` (a store that vanishes with the
/// command).
fn check(name: &OsStr) -> Result<(), &'static str> {
    if name.is_empty() {
        Err("the store's name is empty: give the path of a file")
    } else if name.to_str().is_some_and(|s| s.trim().is_empty()) {
        Err("the store's name is only white space: give the path of a file")
    } else if name == ":memory:" {
        Err(":memory: is SQLite's in-memory database, which vanishes with the command: give the path of a file (./:memory: for a file of that name)")
    } else {
        Ok(())
    }
}
