//! `cursorctl advance`: move a cursor forward.

use cursorctl::key::PartitionKey;

use super::change::{run_one, Audit, Move, Target};
use super::key_arg::{consumer_arg, ConsumerArg};
use super::set::WriteArgs;
use super::{offset_arg, Context};

/// Move a cursor forward by N (default 1) or to an offset; never backwards
///
/// Compare-and-swap guarded like `set`. --to below the current offset is
/// refused (exit 4); --by past the largest offset is exit 2.
#[derive(Debug, clap::Args)]
#[command(after_help = "\
Examples:
  cursorctl advance billing orders:3                  skip one message (the poison one)
  cursorctl advance billing:orders:3                  the same, by the cursor's full key
  cursorctl advance billing orders:3 --by 10 --reason 'skip corrupt batch'
  cursorctl advance billing orders:3 --to 5000
  cursorctl advance billing orders:3 --expect 1041    only if it still holds 1041")]
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

    #[command(flatten)]
    pub write: WriteArgs,
}

pub fn run(ctx: &Context, args: &Args) -> anyhow::Result<()> {
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
