//! `cursorctl copy`: give one consumer the offsets of another, as one batch.

use cursorctl::key::{ChannelId, ConsumerId};
use cursorctl::ops::copy::{self, Copy};
use cursorctl::store::Outcome;

use super::batch;
use super::error::{CliResult, ExitKind};
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

pub fn run(ctx: &Context, args: &Args) -> CliResult<()> {
    let user = Context::user();
    let request = Copy {
        from: args.from.clone(),
        to: args.to.clone(),
        channel: args.channel.clone(),
        create: args.create,
        allow_rewind: args.allow_rewind,
        reason: args.reason.as_deref(),
        user: &user,
    };
    super::lookalike::check_one(ctx, args.create, args.allow_confusable, args.to.as_str())?;
    let outcome = Outcome::of_dry_run(args.dry_run);
    let store = ctx.open_write()?;
    let finished = copy::run(
        &*store,
        &request,
        outcome,
        batch::printer(ctx, outcome, "change(s)"),
    )
    .map_err(|e| super::hints::when(e, ExitKind::Regression, super::hints::COPY_REGRESSION))?;
    let what = format!("offset(s) from {} to {}", args.from, args.to);
    let none = format!("{} has no cursor to copy", args.from);
    batch::note(ctx, outcome, finished, ["copied", "copy", &what, &none]);
    Ok(())
}
