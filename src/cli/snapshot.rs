//! `cursorctl snapshot`: offsets kept in the store, compared with now and
//! put back as one batch.

use std::io;

use cursorctl::key::{ConsumerId, SnapshotName};
use cursorctl::ops::snapshot::{self, Restore};
use cursorctl::store::{Outcome, SnapshotRow, Store, StoreExt, StoreReadExt};

use super::batch;
use super::error::{CliError, CliResult};
use super::output::{Field, Record, Shape};
use super::{reason_arg, Context};

/// Keep the offsets of cursors in the store, compare them with now, put them back
///
/// `snapshot save NAME [CONSUMER]` keeps the offsets of every cursor (of
/// CONSUMER) under NAME, with the time, the user and --reason. `snapshot
/// show NAME` compares them with now; `snapshot restore NAME` puts them back
/// as one batch (undo it with `undo --batch`), all or nothing: a cursor that
/// moves during the restore makes it fail (exit 3); moving a cursor back
/// needs --reason; cursors created since are listed and left alone unless
/// --delete-new. Saved every few minutes from cron, snapshots are the
/// point-in-time restore of a store.
#[derive(Debug, clap::Args)]
#[command(after_help = "\
Examples:
  cursorctl snapshot save before-deploy billing --reason 'deploy 2024-05-01'
  cursorctl snapshot list
  cursorctl snapshot show before-deploy
  cursorctl snapshot restore before-deploy --dry-run
  cursorctl snapshot restore before-deploy --reason 'INC-820: the deploy corrupted messages'
  cursorctl snapshot drop before-deploy")]
pub struct Args {
    #[command(subcommand)]
    pub action: Action,
}

#[derive(Debug, clap::Subcommand)]
pub enum Action {
    /// Keep the offsets of every cursor (of CONSUMER) under NAME
    #[command(after_help = "\
Examples:
  cursorctl snapshot save before-deploy --reason 'deploy 2024-05-01'    every cursor
  cursorctl snapshot save before-deploy billing                         one consumer's cursors")]
    Save {
        /// The snapshot's name
        name: SnapshotName,
        /// Only this consumer's cursors
        consumer: Option<ConsumerId>,
        /// Why (kept with the snapshot)
        #[arg(long, value_name = "TEXT", value_parser = reason_arg, allow_hyphen_values = true)]
        reason: Option<String>,
    },
    /// List the snapshots
    #[command(after_help = "\
Examples:
  cursorctl snapshot list
  cursorctl snapshot list -o ndjson")]
    List,
    /// Compare a snapshot with now: saved, current and delta per cursor
    #[command(after_help = "\
Examples:
  cursorctl snapshot show before-deploy
  cursorctl snapshot show before-deploy -o ndjson | jq -c 'select(.delta != 0)'    what moved")]
    Show {
        /// The snapshot's name
        name: SnapshotName,
    },
    /// Put a snapshot's offsets back, as one batch
    #[command(after_help = "\
Examples:
  cursorctl snapshot restore before-deploy --dry-run       the plan, nothing written
  cursorctl snapshot restore before-deploy --reason 'INC-820: the deploy corrupted messages'
  cursorctl snapshot restore before-deploy --delete-new --reason 'INC-820: back to before'")]
    Restore {
        /// The snapshot's name
        name: SnapshotName,
        /// Why (needed when a cursor moves back)
        #[arg(long, value_name = "TEXT", value_parser = reason_arg, allow_hyphen_values = true)]
        reason: Option<String>,
        /// Also remove the cursors created since the snapshot
        #[arg(long)]
        delete_new: bool,
        /// Show the plan; write nothing
        #[arg(long)]
        dry_run: bool,
    },
    /// Delete a snapshot
    #[command(after_help = "\
Examples:
  cursorctl snapshot drop before-deploy")]
    Drop {
        /// The snapshot's name
        name: SnapshotName,
    },
}

struct SnapshotRecord<'a>(&'a SnapshotRow);

impl Record for SnapshotRecord<'_> {
    fn fields(
        &self,
        visit: &mut dyn FnMut(&'static str, Field<'_>) -> io::Result<()>,
    ) -> io::Result<()> {
        let s = self.0;
        visit("name", Field::Str(&s.name))?;
        visit("at", Field::Time(Some(s.at)))?;
        visit("consumer", Field::OptStr(s.consumer.as_deref()))?;
        visit("cursors", Field::U64(s.cursors))?;
        visit("user", Field::Str(&s.user))?;
        visit("reason", Field::OptStr(s.reason.as_deref()))
    }

    fn table_columns(&self) -> &'static [&'static str] {
        &["name", "at", "consumer", "cursors", "user", "reason"]
    }

    fn value(&self) -> Field<'_> {
        Field::Str(&self.0.name)
    }
}

/// One cursor of `show`: saved against now.
struct CompareRecord {
    key: String,
    saved: Option<u64>,
    current: Option<u64>,
    status: &'static str,
}

impl Record for CompareRecord {
    fn fields(
        &self,
        visit: &mut dyn FnMut(&'static str, Field<'_>) -> io::Result<()>,
    ) -> io::Result<()> {
        visit("key", Field::Str(&self.key))?;
        visit("saved", Field::OptU64(self.saved))?;
        visit("current", Field::OptU64(self.current))?;
        let delta = match (self.saved, self.current) {
            (Some(s), Some(c)) => {
                Some(i64::try_from(c).unwrap_or(i64::MAX) - i64::try_from(s).unwrap_or(i64::MAX))
            }
            _ => None,
        };
        visit("delta", Field::OptI64(delta))?;
        visit("status", Field::Str(self.status))
    }

    fn table_columns(&self) -> &'static [&'static str] {
        &["key", "saved", "current", "delta", "status"]
    }

    fn value(&self) -> Field<'_> {
        Field::OptU64(self.saved)
    }
}

fn require_snapshots(store: &dyn Store) -> CliResult<()> {
    Ok(snapshot::require_snapshots(store)?)
}

fn no_snapshot(name: &SnapshotName) -> CliError {
    snapshot::no_snapshot(name.as_str()).into()
}

pub fn run(ctx: &Context, args: &Args) -> CliResult<()> {
    match &args.action {
        Action::Save {
            name,
            consumer,
            reason,
        } => save(ctx, name, consumer.as_ref(), reason.as_deref()),
        Action::List => list(ctx),
        Action::Show { name } => show(ctx, name),
        Action::Restore {
            name,
            reason,
            delete_new,
            dry_run,
        } => restore(ctx, name, reason.as_deref(), *delete_new, *dry_run),
        Action::Drop { name } => drop_snapshot(ctx, name),
    }
}

fn save(
    ctx: &Context,
    name: &SnapshotName,
    consumer: Option<&ConsumerId>,
    reason: Option<&str>,
) -> CliResult<()> {
    let store = ctx.open_write()?;
    let user = Context::user();
    let saved = snapshot::save(
        &*store,
        name.as_str(),
        consumer.map(ConsumerId::as_str),
        reason,
        &user,
    )?;
    ctx.note(&format!("saved {saved} cursor(s) as snapshot {name}"));
    let info = store
        .snapshot_info(name.as_str())?
        .ok_or_else(|| no_snapshot(name))?;
    ctx.print_one(&SnapshotRecord(&info))
}

fn list(ctx: &Context) -> CliResult<()> {
    let store = ctx.open_read()?;
    require_snapshots(&**store)?;
    let mut printer = ctx
        .printer(Shape::List)
        .with_header(&["name", "at", "consumer", "cursors", "user", "reason"]);
    store.for_each_snapshot(|s| -> CliResult<()> { Ok(printer.record(&SnapshotRecord(s))?) })?;
    let count = printer.count();
    printer.finish()?;
    if count == 0 {
        ctx.note("no snapshot is saved");
    }
    Ok(())
}

fn show(ctx: &Context, name: &SnapshotName) -> CliResult<()> {
    let store = ctx.open_read()?;
    require_snapshots(&**store)?;
    store.read(|store| -> CliResult<()> {
        let info = store
            .snapshot_info(name.as_str())?
            .ok_or_else(|| no_snapshot(name))?;
        let (saved, new) = snapshot::read(store, &info)?;
        let mut printer = ctx
            .printer(Shape::List)
            .with_header(&["key", "saved", "current", "delta", "status"]);
        let (mut moved, mut gone) = (0u64, 0u64);
        for (key, offset) in &saved {
            let current = store.cursor(key)?.map(|r| r.offset);
            let status = match current {
                None => {
                    gone += 1;
                    "deleted"
                }
                Some(c) if c == *offset => "same",
                Some(_) => {
                    moved += 1;
                    "moved"
                }
            };
            printer.record(&CompareRecord {
                key: key.to_string(),
                saved: Some(*offset),
                current,
                status,
            })?;
        }
        for (key, offset) in &new {
            printer.record(&CompareRecord {
                key: key.to_string(),
                saved: None,
                current: Some(*offset),
                status: "new",
            })?;
        }
        printer.finish()?;
        ctx.note(&format!(
            "snapshot {name}: {} cursor(s) saved; {moved} moved, {gone} deleted, {} created since",
            saved.len(),
            new.len()
        ));
        Ok(())
    })
}

fn restore(
    ctx: &Context,
    name: &SnapshotName,
    reason: Option<&str>,
    delete_new: bool,
    dry_run: bool,
) -> CliResult<()> {
    let outcome = Outcome::of_dry_run(dry_run);
    let store = ctx.open_write()?;
    let user = Context::user();
    let request = Restore {
        name: name.as_str(),
        reason,
        delete_new,
        user: &user,
    };
    let (finished, left_new) = snapshot::restore(
        &*store,
        &request,
        outcome,
        batch::printer(ctx, outcome, "change(s)"),
    )?;
    let items = format!("cursor(s) of snapshot {name}");
    let none = format!("snapshot {name} holds no cursor");
    batch::note(
        ctx,
        outcome,
        finished,
        ["restored", "restore", &items, &none],
    );
    let left: Vec<String> = left_new
        .iter()
        .map(|(key, offset)| format!("{key} (at {offset})"))
        .collect();
    ctx.note_list(
        &format!(
            "{} cursor(s) created since the snapshot were left as they are (--delete-new removes them):",
            left.len()
        ),
        &left,
    );
    Ok(())
}

fn drop_snapshot(ctx: &Context, name: &SnapshotName) -> CliResult<()> {
    let store = ctx.open_write()?;
    snapshot::drop(&*store, name.as_str())?;
    ctx.note(&format!("dropped snapshot {name}"));
    Ok(())
}
