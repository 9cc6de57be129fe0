//! `cursorctl init`: create the store.

use std::io;

use cursorctl::store::{self, InitOutcome};

use super::error::{CliResult, ExitKind, Failure};
use super::output::{Field, Record};
use super::Context;

/// Create the cursor store at --db
///
/// Idempotent: a store that already exists is left as it is. A file that is
/// not a cursor store (another application's database, any other file) is
/// refused with exit 7 and left byte-for-byte unchanged, as is a path that
/// is a symbolic link or not a regular file (a device, a named pipe): give
/// the path of the file itself.
#[derive(Debug, clap::Args)]
#[command(after_help = "\
Examples:
  cursorctl --db /var/lib/cursors.db init
  CURSORCTL_DB=/var/lib/cursors.db cursorctl init")]
pub struct Args {}

struct InitRecord {
    path: String,
    status: &'static str,
    schema_version: i64,
}

impl Record for InitRecord {
    fn fields(
        &self,
        visit: &mut dyn FnMut(&'static str, Field<'_>) -> io::Result<()>,
    ) -> io::Result<()> {
        visit("path", Field::Str(&self.path))?;
        visit("status", Field::Str(self.status))?;
        visit("schema_version", Field::I64(self.schema_version))
    }

    fn table_columns(&self) -> &'static [&'static str] {
        &["path", "status", "schema_version"]
    }

    fn value(&self) -> Field<'_> {
        Field::Str(&self.path)
    }
}

pub fn run(ctx: &Context, _args: &Args) -> CliResult<()> {
    if let Some(folder) = ctx
        .global
        .db
        .path()
        .and_then(std::path::Path::parent)
        .filter(|p| !p.as_os_str().is_empty())
    {
        if !folder.is_dir() {
            return Err(Failure::new(
                ExitKind::Store,
                format!(
                    "cannot create the store {}: the folder {} does not exist",
                    ctx.global.db,
                    folder.display()
                ),
            )
            .with_hint("create the folder first, or choose another --db")
            .into());
        }
    }
    let (store, outcome) = store::init(&ctx.global.db, ctx.global.busy_timeout)?;
    let schema_version = store.schema_version()?;
    let status = match outcome {
        InitOutcome::Created => "created",
        InitOutcome::AlreadyInitialised => "already-initialised",
        InitOutcome::Upgraded { .. } => "upgraded",
    };
    // The store's own location: for PostgreSQL, the server, database and
    // schema used (the `PG*` variables may have given them).
    let path = store.location().to_string();
    ctx.note(&match outcome {
        InitOutcome::Created => format!("created cursor store {path}"),
        InitOutcome::AlreadyInitialised => {
            format!("{path} is already a cursor store; nothing changed")
        }
        InitOutcome::Upgraded { from } => {
            format!("upgraded cursor store {path} from schema version {from} to {schema_version}")
        }
    });
    ctx.print_one(&InitRecord {
        path,
        status,
        schema_version,
    })
}
