//! `cursorctl snapshot`: offsets kept in the store, compared with now and
//! put back as one batch.

use std::collections::HashSet;
use std::io;

use cursorctl::key::{ConsumerId, CursorKey, SnapshotName};
use cursorctl::store::{
    CursorFilter, CursorRow, Outcome, SnapshotRow, Store, StoreExt, StoreRead, StoreReadExt,
    SNAPSHOTS_VERSION,
};

use super::batch::{self, BatchRun};
use super::bulk::Failures;
use super::change::{apply_in, remove_in, Audit, Move, Target};
use super::error::{ExitKind, Failure};
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

/// Snapshots need schema version 2.
fn require_snapshots(store: &dyn Store) -> anyhow::Result<()> {
    let version = store.schema_version()?;
    if version < SNAPSHOTS_VERSION {
        return Err(Failure::new(
            ExitKind::Store,
            format!(
                "{} has schema version {version}, which has no snapshots: run `cursorctl init` to upgrade it",
                store.location()
            ),
        )
        .into());
    }
    Ok(())
}

fn no_snapshot(name: &SnapshotName) -> anyhow::Error {
    Failure::new(ExitKind::NotFound, format!("no snapshot is named {name}"))
        .with_hint("list the snapshots with `cursorctl snapshot list`")
        .into()
}

fn key_of(row: &CursorRow) -> anyhow::Result<CursorKey> {
    CursorKey::parse(&row.key()).map_err(|e| {
        Failure::new(
            ExitKind::Store,
            format!("the store holds a cursor cursorctl cannot name: {e}"),
        )
        .into()
    })
}

/// Cursors with an offset each.
type Offsets = Vec<(CursorKey, u64)>;

/// The snapshot's cursors, and the cursors in its scope created since.
fn read_snapshot(view: &dyn StoreRead, info: &SnapshotRow) -> anyhow::Result<(Offsets, Offsets)> {
    let mut saved = Vec::new();
    view.for_each_snapshot_cursor(&info.name, |row| -> anyhow::Result<()> {
        saved.push((key_of(row)?, row.offset));
        Ok(())
    })?;
    let known: HashSet<String> = saved.iter().map(|(k, _)| k.to_string()).collect();
    let filter = CursorFilter {
        consumer: info.consumer.clone(),
        ..CursorFilter::default()
    };
    let mut new = Vec::new();
    view.for_each_cursor(&filter, |row| -> anyhow::Result<()> {
        let row = row?;
        if !known.contains(&row.key()) {
            new.push((key_of(row)?, row.offset));
        }
        Ok(())
    })?;
    Ok((saved, new))
}

pub fn run(ctx: &Context, args: &Args) -> anyhow::Result<()> {
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
) -> anyhow::Result<()> {
    let store = ctx.open_write()?;
    require_snapshots(&*store)?;
    let user = Context::user();
    let saved = store.write(|txn| -> anyhow::Result<u64> {
        if txn.snapshot_info(name.as_str())?.is_some() {
            return Err(Failure::usage(format!(
                "a snapshot is already named {name}: drop it first, or choose another name"
            ))
            .into());
        }
        let saved = txn.save_snapshot(
            name.as_str(),
            consumer.map(ConsumerId::as_str),
            reason,
            &user,
        )?;
        if saved == 0 {
            let what = consumer.map_or_else(
                || "the store has no cursor".to_owned(),
                |c| format!("consumer {c} has no cursor"),
            );
            let hint = match consumer {
                None => "a snapshot keeps the cursors there are: create one first with `cursorctl set CONSUMER PARTITION_KEY OFFSET --create`",
                Some(_) => "`cursorctl describe` lists the consumers that have cursors; `cursorctl snapshot save NAME` keeps them all",
            };
            return Err(Failure::new(ExitKind::NotFound, format!("{what}; nothing was saved"))
                .with_hint(hint)
                .into());
        }
        Ok(saved)
    })?;
    ctx.note(&format!("saved {saved} cursor(s) as snapshot {name}"));
    let info = store
        .snapshot_info(name.as_str())?
        .ok_or_else(|| no_snapshot(name))?;
    ctx.print_one(&SnapshotRecord(&info))
}

fn list(ctx: &Context) -> anyhow::Result<()> {
    let store = ctx.open_read()?;
    require_snapshots(&**store)?;
    let mut printer = ctx
        .printer(Shape::List)
        .with_header(&["name", "at", "consumer", "cursors", "user", "reason"]);
    store
        .for_each_snapshot(|s| -> anyhow::Result<()> { Ok(printer.record(&SnapshotRecord(s))?) })?;
    let count = printer.count();
    printer.finish()?;
    if count == 0 {
        ctx.note("no snapshot is saved");
    }
    Ok(())
}

fn show(ctx: &Context, name: &SnapshotName) -> anyhow::Result<()> {
    let store = ctx.open_read()?;
    require_snapshots(&**store)?;
    store.snapshot(|store| -> anyhow::Result<()> {
        let info = store
            .snapshot_info(name.as_str())?
            .ok_or_else(|| no_snapshot(name))?;
        let (saved, new) = read_snapshot(store, &info)?;
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

/// Why putting a cursor back from `current` to `saved` is refused.
fn rewind_refusal(
    key: &CursorKey,
    current: Option<u64>,
    saved: u64,
    reason: Option<&str>,
) -> Option<anyhow::Error> {
    (reason.is_none() && current.is_some_and(|c| c > saved)).then(|| {
        Failure::usage(format!(
            "restoring {key} moves it back from {} to {saved}: a rewind needs --reason TEXT",
            current.unwrap_or(0)
        ))
        .into()
    })
}

fn restore(
    ctx: &Context,
    name: &SnapshotName,
    reason: Option<&str>,
    delete_new: bool,
    dry_run: bool,
) -> anyhow::Result<()> {
    let outcome = Outcome::of_dry_run(dry_run);
    let store = ctx.open_write()?;
    require_snapshots(&*store)?;
    let user = Context::user();
    let label = format!("snapshot restore {name}");
    let mut left_new = Vec::new();
    let done = batch::run(ctx, &*store, outcome, "change(s)", |txn| {
        left_new.clear();
        let info = txn
            .snapshot_info(name.as_str())?
            .ok_or_else(|| no_snapshot(name))?;
        let (saved, new) = read_snapshot(txn, &info)?;
        let mut run = BatchRun::begin(txn, &label, reason, &user, Failures::new("cursor"))?;
        let audit = Audit {
            command: "snapshot restore",
            reason,
            user: &user,
            batch: None,
        };
        let mut number = 0;
        for (key, offset) in &saved {
            number += 1;
            let m = Move {
                key,
                target: Target::To(*offset),
                expect: None,
                create: true,
                allow_rewind: reason.is_some(),
            };
            run.item(number, Some(key), &audit, |txn, audit| {
                let current = txn.read_value(&key.to_string())?;
                if let Some(refused) = rewind_refusal(key, current, *offset, reason) {
                    return Err(refused);
                }
                apply_in(txn, &m, audit).map(|r| Some(r.status))
            })?;
        }
        for (key, offset) in &new {
            number += 1;
            if !delete_new {
                left_new.push(format!("{key} (at {offset})"));
                continue;
            }
            run.item(number, Some(key), &audit, |txn, audit| {
                if *offset > 0 && reason.is_none() {
                    return Err(Failure::usage(format!(
                        "removing {key}, created since the snapshot, rewinds it from {offset} to 0: a rewind needs --reason TEXT"
                    ))
                    .into());
                }
                remove_in(txn, key, *offset, audit).map(|r| Some(r.status))
            })?;
        }
        run.finish()
    })?;
    match done {
        Ok(done) => batch::note_done(
            ctx,
            outcome,
            &done,
            "restored",
            "restore",
            &format!("cursor(s) of snapshot {name}"),
        ),
        Err(nothing) => batch::note_nothing(
            ctx,
            outcome,
            &nothing,
            &format!("snapshot {name} holds no cursor"),
        ),
    }
    ctx.note_list(
        &format!(
            "{} cursor(s) created since the snapshot were left as they are (--delete-new removes them):",
            left_new.len()
        ),
        &left_new,
    );
    Ok(())
}

fn drop_snapshot(ctx: &Context, name: &SnapshotName) -> anyhow::Result<()> {
    let store = ctx.open_write()?;
    require_snapshots(&*store)?;
    let dropped = store.write(|txn| txn.drop_snapshot(name.as_str()))?;
    if !dropped {
        return Err(no_snapshot(name));
    }
    ctx.note(&format!("dropped snapshot {name}"));
    Ok(())
}
