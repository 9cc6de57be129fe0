//! `cursorctl set`: checkpoint a cursor to an offset.

use cursorctl::key::{ConsumerId, CursorKey, PartitionKey};

use super::change::{run_one, Audit, Move, Target};
use super::{offset_arg, Context};

/// Checkpoint a cursor to OFFSET
///
/// A compare-and-swap against the offset just read (or --expect): if the
/// cursor moved meanwhile, nothing is written (exit 3). Moving backwards is
/// refused (exit 4) unless --allow-rewind with a --reason. A cursor that does
/// not exist needs --create (exit 5 otherwise). Every change is recorded in
/// the history with its reason and user.
#[derive(Debug, clap::Args)]
#[command(after_help = "\
Examples:
  cursorctl set billing orders:3 1042                       move past a poison message at 1041
  cursorctl set billing orders:3 1042 --expect 1041         only if it still holds 1041
  cursorctl set billing orders:3 900 --allow-rewind --reason 'replay INC-123'
  cursorctl set newsvc orders:0 0 --create                  start a new consumer at 0
  cursorctl set billing orders:3 1042 --dry-run             show the plan, write nothing")]
pub struct Args {
    /// Consumer id
    pub consumer: ConsumerId,

    /// Partition key, CHANNEL:INDEX (for example orders:3)
    pub partition_key: PartitionKey,

    /// The new offset (0 to 9223372036854775807)
    #[arg(value_parser = offset_arg, allow_hyphen_values = true)]
    pub offset: u64,

    #[command(flatten)]
    pub write: WriteArgs,

    /// Allow moving the cursor backwards (needs --reason)
    #[arg(long, requires = "reason")]
    pub allow_rewind: bool,
}

/// Options shared by the commands that move one cursor.
#[derive(Debug, clap::Args)]
pub struct WriteArgs {
    /// Compare-and-swap against this offset instead of the one just read
    #[arg(long, value_name = "OFFSET", value_parser = offset_arg, allow_hyphen_values = true)]
    pub expect: Option<u64>,

    /// Create the cursor if it does not exist
    #[arg(long)]
    pub create: bool,

    /// Show what would happen; write nothing and take no write lock
    #[arg(long)]
    pub dry_run: bool,

    /// Why (recorded in the history)
    #[arg(long, value_name = "TEXT")]
    pub reason: Option<String>,
}

pub fn run(ctx: &Context, args: &Args) -> anyhow::Result<()> {
    let key = CursorKey::new(args.consumer.clone(), args.partition_key.clone());
    let user = Context::user();
    run_one(
        ctx,
        &Move {
            key: &key,
            target: Target::To(args.offset),
            expect: args.write.expect,
            create: args.write.create,
            allow_rewind: args.allow_rewind,
        },
        &Audit {
            command: "set",
            reason: args.write.reason.as_deref(),
            user: &user,
            batch: None,
        },
        args.write.dry_run,
    )
}
