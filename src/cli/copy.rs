//! `cursorctl copy`: give one consumer the offsets of another, as one batch.

use cursorctl::key::{ChannelId, ConsumerId, CursorKey};
use cursorctl::store::{CursorFilter, StoreExt, StoreRead, StoreReadExt};

use super::batch::{Apply, BatchRun, Done};
use super::bulk::{print_batch, Failures};
use super::change::{apply_in, move_cursor, Audit, Move, Target};
use super::error::{committed_but_unprinted, ExitKind, Failure};
use super::output::Shape;
use super::records::{PlanRecord, Status};
use super::{reason_arg, Context};

/// Give consumer TO the offsets of consumer FROM on every partition
///
/// For every cursor of FROM (on --channel only, if given), moves TO's
/// cursor on the same partition to FROM's offset: before renaming a
/// consumer, or to start a new consumer where an old one stands. TO's
/// cursors that do not exist need --create; moving one of them backwards
/// needs --allow-rewind --reason. Every move is compare-and-swap guarded,
/// recorded in the history, and the whole copy is one batch, all or
/// nothing: `cursorctl undo --batch ID` reverts it. --dry-run lists every
/// partition with what would happen.
#[derive(Debug, clap::Args)]
#[command(after_help = "\
Examples:
  cursorctl copy billing billing-v2 --create --dry-run     the plan for a renamed consumer
  cursorctl copy billing billing-v2 --create
  cursorctl copy billing billing-v2 --channel orders --allow-rewind --reason 'replay with v1 offsets'")]
pub struct Args {
    /// The consumer whose offsets are copied
    #[arg(value_name = "FROM", add = clap_complete::engine::ArgValueCompleter::new(super::complete::consumers))]
    pub from: ConsumerId,

    /// The consumer whose cursors are moved to them
    #[arg(value_name = "TO", add = clap_complete::engine::ArgValueCompleter::new(super::complete::consumers))]
    pub to: ConsumerId,

    /// Only the partitions of this channel
    #[arg(long, value_name = "CHANNEL")]
    pub channel: Option<ChannelId>,

    /// Create TO's cursors that do not exist
    #[arg(long)]
    pub create: bool,

    /// Allow moving TO's cursors backwards (needs --reason)
    #[arg(long, requires = "reason")]
    pub allow_rewind: bool,

    /// Why (recorded in the history)
    #[arg(long, value_name = "TEXT", value_parser = reason_arg, allow_hyphen_values = true)]
    pub reason: Option<String>,

    /// Show the plan; write nothing
    #[arg(long)]
    pub dry_run: bool,
}

/// TO's cursor for each of FROM's, with FROM's offset.
fn pairs(args: &Args, store: &dyn StoreRead) -> anyhow::Result<Vec<(CursorKey, u64)>> {
    let filter = CursorFilter {
        consumer: Some(args.from.as_str().to_owned()),
        channel: args.channel.as_ref().map(|c| c.as_str().to_owned()),
        updated_before: None,
    };
    let mut pairs = Vec::new();
    store.for_each_cursor(&filter, |row| -> anyhow::Result<()> {
        let row = row?;
        let from = CursorKey::parse(&row.key()).map_err(|e| {
            Failure::new(
                ExitKind::Store,
                format!("the store holds a cursor cursorctl cannot name: {e}"),
            )
        })?;
        pairs.push((
            CursorKey::new(args.to.clone(), from.partition_key().clone()),
            row.offset,
        ));
        Ok(())
    })?;
    if pairs.is_empty() {
        let on = args
            .channel
            .as_ref()
            .map_or_else(String::new, |c| format!(" on channel {c}"));
        return Err(Failure::new(
            ExitKind::NotFound,
            format!(
                "consumer {} has no cursors{on}; nothing was copied",
                args.from
            ),
        )
        .with_hint("list the consumers with `cursorctl describe`")
        .into());
    }
    Ok(pairs)
}

fn movement<'k>(args: &Args, key: &'k CursorKey, offset: u64) -> Move<'k> {
    Move {
        key,
        target: Target::To(offset),
        expect: None,
        create: args.create,
        allow_rewind: args.allow_rewind,
    }
}

pub fn run(ctx: &Context, args: &Args) -> anyhow::Result<()> {
    if args.from == args.to {
        return Err(Failure::usage("FROM and TO are the same consumer").into());
    }
    if args.dry_run {
        return plan(ctx, args);
    }
    let reason = args.reason.as_deref();
    let store = ctx.open_write()?;
    let user = Context::user();
    let label = format!("copy {} {}", args.from, args.to);
    let done: Done = store.write(|txn| -> anyhow::Result<Done> {
        let pairs = pairs(args, txn)?;
        let mut run = BatchRun::begin(txn, &label, reason, &user, Failures::new("cursor"))?;
        let audit = Audit {
            command: "copy",
            reason,
            user: &user,
            batch: None,
        };
        for (n, (key, offset)) in pairs.iter().enumerate() {
            let m = movement(args, key, *offset);
            run.item(
                n as u64 + 1,
                Some(key as &dyn std::fmt::Display),
                &audit,
                |apply| match apply {
                    Apply::Write(txn, audit) => apply_in(txn, &m, audit).map(|r| Some(r.status)),
                    Apply::Check(view) => move_cursor(view, &m).map(|_| None),
                },
            )?;
        }
        run.finish()
    })?;
    print_batch(ctx, &*store, Some(done.id), Vec::new()).map_err(|e| {
        committed_but_unprinted(
            e,
            &format!("batch {} ({} change(s))", done.id, done.changed),
            ("batch", done.id),
        )
    })?;
    ctx.note(&format!(
        "copied {} offset(s) from {} to {}: {} change(s), {} already equal, in batch {} (undo with `cursorctl undo --batch {}`)",
        done.total, args.from, args.to, done.changed, done.total - done.changed, done.id, done.id
    ));
    Ok(())
}

/// `--dry-run`: every partition and what would happen to it.
fn plan(ctx: &Context, args: &Args) -> anyhow::Result<()> {
    let store = ctx.open_read()?;
    store.snapshot(|store| -> anyhow::Result<()> {
        let pairs = pairs(args, store)?;
        let view = cursorctl::store::DryRun::new(store);
        let mut printer = (!ctx.global.quiet).then(|| {
            ctx.printer(Shape::List)
                .with_header(PlanRecord::fields("cursor"))
        });
        let mut failures = Failures::new("cursor");
        let mut changed = 0u64;
        for (n, (key, offset)) in pairs.iter().enumerate() {
            let number = n as u64 + 1;
            let m = movement(args, key, *offset);
            let mut row = PlanRecord {
                source: ("cursor", number),
                key: Some(key.to_string()),
                old_offset: None,
                new_offset: Some(*offset),
                status: "invalid",
                reason: None,
            };
            match move_cursor(&view, &m) {
                Ok((old, new)) => {
                    let status = Status::of(old, Some(new));
                    if status != Status::Unchanged {
                        changed += 1;
                    }
                    row.old_offset = old;
                    row.status = status.as_str();
                }
                Err(e) => failures.plan_failure(&mut row, &key.to_string(), e, store)?,
            }
            if let Some(p) = printer.as_mut() {
                p.record(&row)?;
            }
        }
        if let Some(p) = printer {
            p.finish()?;
        }
        if !failures.is_empty() {
            return Err(failures.into_error(
                pairs.len() as u64,
                "the copy would be refused and nothing written",
            ));
        }
        ctx.note(&format!(
            "dry run: {changed} of {} cursor(s) of {} would change; nothing was written",
            pairs.len(),
            args.to
        ));
        Ok(())
    })
}
