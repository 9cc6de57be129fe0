//! What `cursorctl info` shows of a PostgreSQL store: the server, the
//! session, and the rows it holds.

use super::PostgresStore;
use crate::error::StoreError;
use crate::store::{StoreAbout, COUNTED_TABLES};

impl PostgresStore {
    pub(super) fn about_store(&self) -> Result<StoreAbout, StoreError> {
        let context = "reading the server, the session and the counts of rows";
        let read = || -> Result<StoreAbout, postgres::Error> {
            let mut client = self.client.borrow_mut();
            let row = client.query_one(
                "SELECT current_database(), current_user::text, current_schema()::text, \
                 current_setting('server_version'), host(inet_server_addr()), \
                 inet_server_port(), \
                 (SELECT count(DISTINCT consumer) FROM cursors)",
                &[],
            )?;
            let tables: Vec<String> = client
                .query(
                    "SELECT table_name::text FROM information_schema.tables \
                     WHERE table_schema = current_schema()",
                    &[],
                )?
                .iter()
                .map(|r| r.get(0))
                .collect();
            let mut rows = Vec::new();
            // The names come from the list, never from the server.
            for &table in COUNTED_TABLES {
                if tables.iter().any(|t| t == table) {
                    let count: i64 = client
                        .query_one(&format!("SELECT count(*) FROM {table}"), &[])?
                        .get(0);
                    rows.push((table, u64::try_from(count).unwrap_or(0)));
                }
            }
            let port: Option<i32> = row.get(5);
            let consumers: i64 = row.get(6);
            Ok(StoreAbout {
                host: row.get(4),
                port: port.and_then(|p| u16::try_from(p).ok()),
                database: Some(row.get(0)),
                role: Some(row.get(1)),
                schema: row.get(2),
                server_version: row.get(3),
                consumers: u64::try_from(consumers).unwrap_or(0),
                rows,
            })
        };
        read().map_err(|e| self.error(context, e))
    }
}
