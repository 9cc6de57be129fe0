//! `cursorctl info`: which store the commands would act on, and what it
//! holds.

use std::io;

use cursorctl::store::{StoreExt, StoreLocation, COUNTED_TABLES};

use super::error::CliResult;
use super::output::{Field, Format, Record, Shape};
use super::Context;

/// Show which store --db names and what it holds: check it before a write
///
/// The backend, the location (any password shown as ***), and on
/// PostgreSQL the server's address and port, the database, the schema, the
/// role the session runs as and the server's version (on SQLite the
/// library's); the store's schema version; the consumers, and the rows of
/// cursors, history, batches and snapshots (and of heads and leases where
/// the store has them). The table leaves out what the backend does not
/// have; JSON shows it as null and TSV as an empty value. All read in one
/// snapshot; nothing is written.
#[derive(Debug, clap::Args)]
#[command(after_help = "\
Examples:
  cursorctl info                                   the store CURSORCTL_DB or cursors.db names
  cursorctl --db postgres://ops@db.internal/platform info
  cursorctl info -o json | jq -r '.role'           who the writes would be recorded as on the server")]
pub struct Args {}

/// Everything `info` shows, as one record.
struct InfoRecord {
    backend: &'static str,
    location: String,
    host: Option<String>,
    port: Option<u64>,
    database: Option<String>,
    schema: Option<String>,
    role: Option<String>,
    server_version: String,
    schema_version: i64,
    consumers: u64,
    /// The rows of each of `COUNTED_TABLES`, `None` where the store has no
    /// such table.
    rows: Vec<(&'static str, Option<u64>)>,
}

impl InfoRecord {
    const FIELDS: &'static [&'static str] = &[
        "backend",
        "location",
        "host",
        "port",
        "database",
        "schema",
        "role",
        "server_version",
        "schema_version",
        "consumers",
        "cursors",
        "history",
        "batches",
        "snapshots",
        "heads",
        "leases",
    ];
}

impl Record for InfoRecord {
    fn fields(
        &self,
        visit: &mut dyn FnMut(&'static str, Field<'_>) -> io::Result<()>,
    ) -> io::Result<()> {
        visit("backend", Field::Str(self.backend))?;
        visit("location", Field::Str(&self.location))?;
        visit("host", Field::OptStr(self.host.as_deref()))?;
        visit("port", Field::OptU64(self.port))?;
        visit("database", Field::OptStr(self.database.as_deref()))?;
        visit("schema", Field::OptStr(self.schema.as_deref()))?;
        visit("role", Field::OptStr(self.role.as_deref()))?;
        visit("server_version", Field::Str(&self.server_version))?;
        visit("schema_version", Field::I64(self.schema_version))?;
        visit("consumers", Field::U64(self.consumers))?;
        for (table, rows) in &self.rows {
            visit(table, Field::OptU64(*rows))?;
        }
        Ok(())
    }

    fn table_columns(&self) -> &'static [&'static str] {
        Self::FIELDS
    }

    fn value(&self) -> Field<'_> {
        Field::Str(&self.location)
    }
}

/// One line of the table: a field and its value.
struct FieldLine {
    field: &'static str,
    value: String,
}

impl Record for FieldLine {
    fn fields(
        &self,
        visit: &mut dyn FnMut(&'static str, Field<'_>) -> io::Result<()>,
    ) -> io::Result<()> {
        visit("field", Field::Str(self.field))?;
        visit("value", Field::Str(&self.value))
    }

    fn table_columns(&self) -> &'static [&'static str] {
        &["field", "value"]
    }

    fn value(&self) -> Field<'_> {
        Field::Str(&self.value)
    }
}

/// A field's value as the table shows it (empty for none).
fn shown(field: Field<'_>) -> String {
    match field {
        Field::Str(s) | Field::OptStr(Some(s)) | Field::OptNumber(Some(s)) => s.to_owned(),
        Field::U64(v) | Field::OptU64(Some(v)) => v.to_string(),
        Field::I64(v) | Field::OptI64(Some(v)) => v.to_string(),
        Field::Bool(b) => b.to_string(),
        Field::Time(Some(ms)) => super::output::format_time(ms),
        Field::OptStr(None)
        | Field::OptU64(None)
        | Field::OptI64(None)
        | Field::Time(None)
        | Field::OptNumber(None) => String::new(),
    }
}

pub fn run(ctx: &Context, _args: &Args) -> CliResult<()> {
    let store = ctx.open_read()?;
    let store: &dyn cursorctl::store::Store = &**store;
    let (about, schema_version) =
        store.read(|s| -> CliResult<_> { Ok((s.about()?, s.schema_version()?)) })?;
    let location: &StoreLocation = store.location();
    let record = InfoRecord {
        backend: location.backend().name(),
        // A file's path made absolute: where the store is, whatever the
        // directory.
        location: match location.path() {
            Some(path) => std::fs::canonicalize(path)
                .map_or_else(|_| location.to_string(), |p| p.display().to_string()),
            None => location.to_string(),
        },
        host: about.host,
        port: about.port.map(u64::from),
        database: about.database,
        schema: about.schema,
        role: about.role,
        server_version: about.server_version,
        schema_version,
        consumers: about.consumers,
        rows: COUNTED_TABLES
            .iter()
            .map(|&table| {
                let rows = about
                    .rows
                    .iter()
                    .find(|(t, _)| *t == table)
                    .map(|(_, n)| *n);
                (table, rows)
            })
            .collect(),
    };
    if ctx.global.output == Format::Table {
        let mut lines = Vec::new();
        // What the backend does not have is left out of the table.
        record.fields(&mut |field, value| {
            let value = shown(value);
            if !value.is_empty() {
                lines.push(FieldLine { field, value });
            }
            Ok(())
        })?;
        let mut printer = ctx.printer(Shape::List).with_header(&["field", "value"]);
        for line in &lines {
            printer.record(line)?;
        }
        printer.finish()?;
        return Ok(());
    }
    let mut printer = ctx.printer(Shape::One);
    printer.record(&record)?;
    printer.finish()?;
    Ok(())
}
