//! What `cursorctl info` shows of a SQLite store: the library's version and
//! the rows it holds.

use super::{db_err, SqliteStore};
use crate::error::StoreError;
use crate::store::{StoreAbout, COUNTED_TABLES};

impl SqliteStore {
    pub(super) fn about_store(&self) -> Result<StoreAbout, StoreError> {
        let context = "reading the counts of rows";
        let tables: Vec<String> = {
            let mut statement = self
                .conn
                .prepare("SELECT name FROM sqlite_master WHERE type = 'table'")
                .map_err(db_err(context))?;
            let names = statement
                .query_map([], |r| r.get(0))
                .map_err(db_err(context))?;
            names.collect::<Result<_, _>>().map_err(db_err(context))?
        };
        let mut rows = Vec::new();
        // The names come from the list, never from the file.
        for &table in COUNTED_TABLES {
            if tables.iter().any(|t| t == table) {
                let count: i64 = self
                    .conn
                    .query_row(&format!("SELECT count(*) FROM {table}"), [], |r| r.get(0))
                    .map_err(db_err(context))?;
                rows.push((table, u64::try_from(count).unwrap_or(0)));
            }
        }
        let consumers: i64 = self
            .conn
            .query_row("SELECT count(DISTINCT consumer) FROM cursors", [], |r| {
                r.get(0)
            })
            .map_err(db_err(context))?;
        Ok(StoreAbout {
            server_version: rusqlite::version().to_owned(),
            consumers: u64::try_from(consumers).unwrap_or(0),
            rows,
            ..StoreAbout::default()
        })
    }
}
