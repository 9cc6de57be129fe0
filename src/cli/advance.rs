//! `cursorctl advance`: move a cursor forward, or to its partition's head.

use cursorctl::key::{ChannelId, PartitionKey};
use cursorctl::ops::moves::{Audit, Move, Target};
use cursorctl::ops::to_head::{self, Cursors, ToHead};
use cursorctl::store::Outcome;

use super::batch;
use super::change::run_one;
use super::error::{CliResult, Failure};
use super::key_arg::{consumer_arg, ConsumerArg};
use super::set::WriteArgs;
use super::{offset_arg, Context};

/// Move a cursor forward by N (default 1) or to an offset; never backwards
///
/// Compare-and-swap guarded like `set`. --to below the current offset is
/// refused (exit 4); --by past the largest offset is exit 2.
///
/// --to-head moves the cursor to its partition's head (see `head set`),
/// skipping the backlog, so --reason is required; with CONSUMER --channel
/// CHANNEL it moves every cursor of the consumer on the channel. Either is
/// one batch, all or nothing (undo it with `undo --batch`): a partition
/// with no head known is exit 5, a cursor past its head is refused (exit
/// 4).
#[derive(Debug, clap::Args)]
#[command(after_help = "\
Examples:
  cursorctl advance billing orders:3                  skip one message (the poison one)
  cursorctl advance billing:orders:3                  the same, by the cursor's full key
  cursorctl advance billing orders:3 --by 10 --reason 'skip corrupt batch'
  cursorctl advance billing orders:3 --to 5000
  cursorctl advance billing orders:3 --expect 1041    only if it still holds 1041
  cursorctl advance billing orders:3 --to-head --reason 'INC-7: skip the backlog'
  cursorctl advance billing --channel orders --to-head --reason 'INC-7' --dry-run")]
pub struct Args {
    /// Consumer id, or the full key CONSUMER:CHANNEL:INDEX (billing:orders:3)
    #[arg(value_name = "CONSUMER", value_parser = consumer_arg, add = clap_complete::engine::ArgValueCompleter::new(super::complete::consumers))]
    pub consumer: ConsumerArg,

    /// Partition key, CHANNEL:INDEX (for example orders:3); not after a
    /// full key
    #[arg(add = clap_complete::engine::ArgValueCompleter::new(super::complete::partition_keys))]
    pub partition_key: Option<PartitionKey>,

    /// Move forward by this many offsets
    #[arg(long, value_name = "N", value_parser = offset_arg, allow_hyphen_values = true, default_value = "1", conflicts_with = "to")]
    pub by: u64,

    /// Move to this offset (not below the current one)
    #[arg(long, value_name = "OFFSET", value_parser = offset_arg, allow_hyphen_values = true)]
    pub to: Option<u64>,

    /// Move to the partition's head (needs --reason)
    #[arg(long, conflicts_with_all = ["to", "by"])]
    pub to_head: bool,

    /// With --to-head and no PARTITION_KEY: every cursor of CONSUMER on
    /// this channel
    #[arg(
        long,
        value_name = "CHANNEL",
        requires = "to_head",
        conflicts_with = "partition_key"
    )]
    pub channel: Option<ChannelId>,

    #[command(flatten)]
    pub write: WriteArgs,
}

pub fn run(ctx: &Context, args: &Args) -> CliResult<()> {
    if args.to_head {
        return to_head(ctx, args);
    }
    let key = args.consumer.key(args.partition_key.as_ref())?;
    let w = &args.write;
    super::lookalike::check_one(ctx, w.create, w.allow_confusable, key.consumer().as_str())?;
    let user = Context::user();
    let target = args.to.map_or(Target::By(args.by), Target::To);
    run_one(
        ctx,
        &Move {
            key: &key,
            target,
            expect: args.write.expect,
            create: args.write.create,
            allow_rewind: false,
        },
        &Audit {
            command: "advance",
            reason: args.write.reason.as_deref(),
            user: &user,
            batch: None,
        },
        args.write.dry_run,
    )
}

/// `advance --to-head`: the cursors moved to their heads as one batch; a
/// dry run is the same batch, rolled back.
fn to_head(ctx: &Context, args: &Args) -> CliResult<()> {
    let Some(reason) = args.write.reason.as_deref() else {
        return Err(Failure::usage(
            "--to-head skips every message between the cursor and the head: give --reason TEXT",
        )
        .into());
    };
    let cursors = match (&args.channel, &args.consumer) {
        (None, _) => Cursors::One(args.consumer.key(args.partition_key.as_ref())?),
        (Some(channel), ConsumerArg::Consumer(consumer)) => {
            Cursors::OnChannel(consumer.clone(), channel.clone())
        }
        (Some(_), ConsumerArg::Key(_)) => {
            return Err(
                Failure::usage("--channel goes with a consumer, not a full cursor key").into(),
            )
        }
    };
    let label = match &args.channel {
        Some(channel) => format!(
            "advance --to-head {} --channel {channel}",
            args.consumer_text()
        ),
        None => "advance --to-head".to_owned(),
    };
    let user = Context::user();
    let request = ToHead {
        cursors,
        expect: args.write.expect,
        create: args.write.create,
        reason,
        user: &user,
        label: &label,
    };
    let outcome = Outcome::of_dry_run(args.write.dry_run);
    let store = ctx.open_write()?;
    let finished = to_head::run(
        &*store,
        &request,
        outcome,
        batch::printer(ctx, outcome, "change(s)"),
    )?;
    batch::note(
        ctx,
        outcome,
        finished,
        [
            "moved",
            "move",
            "cursor(s) to their heads",
            "no cursor to move",
        ],
    );
    Ok(())
}

impl Args {
    /// The consumer (or full key) as given, for the batch's label.
    fn consumer_text(&self) -> String {
        match &self.consumer {
            ConsumerArg::Consumer(c) => c.to_string(),
            ConsumerArg::Key(k) => k.to_string(),
        }
    }
}
