//! `cursorctl copy`: give one consumer the offsets of another, as one batch.

use cursorctl::key::{ChannelId, ConsumerId, CursorKey};
use cursorctl::store::{CursorFilter, Outcome, StoreRead, StoreReadExt};

use super::batch::{self, BatchRun};
use super::bulk::Failures;
use super::change::{apply_in, Audit, Move, Target};
use super::error::{ExitKind, Failure};
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

    /// With --create: create TO even when its name looks like an existing
    /// consumer's (svc and svс, with a Cyrillic с), which is refused
    /// otherwise
    #[arg(long, requires = "create")]
    pub allow_confusable: bool,

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
    super::lookalike::check_one(ctx, args.create, args.allow_confusable, args.to.as_str())?;
    let reason = args.reason.as_deref();
    let outcome = Outcome::of_dry_run(args.dry_run);
    let store = ctx.open_write()?;
    let user = Context::user();
    let label = format!("copy {} {}", args.from, args.to);
    let done = batch::run(ctx, &*store, outcome, "change(s)", |txn| {
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
                |txn, audit| apply_in(txn, &m, audit).map(|r| Some(r.status)),
            )?;
        }
        run.finish()
    })
    .map_err(|e| super::hints::when(e, ExitKind::Regression, super::hints::COPY_REGRESSION))?;
    let what = format!("offset(s) from {} to {}", args.from, args.to);
    match done {
        Ok(done) => batch::note_done(ctx, outcome, &done, "copied", "copy", &what),
        Err(nothing) => batch::note_nothing(
            ctx,
            outcome,
            &nothing,
            &format!("{} has no cursor to copy", args.from),
        ),
    }
    Ok(())
}
