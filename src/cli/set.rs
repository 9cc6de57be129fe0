//! `cursorctl set`: checkpoint a cursor to an offset, or many from a file.

use std::path::PathBuf;

use cursorctl::key::{CursorKey, PartitionKey};
use cursorctl::parse_offset;

use super::bulk;
use super::change::run_one;
use super::error::{CliError, CliResult, Failure};
use super::input::InputFormat;
use super::key_arg::{consumer_arg, ConsumerArg};
use super::{offset_arg, reason_arg, Context};
use cursorctl::ops::moves::{Audit, Move, Target};

/// Checkpoint a cursor to OFFSET, or many cursors from a file
///
/// A compare-and-swap against the offset just read (or --expect): if the
/// cursor moved meanwhile, nothing is written (exit 3). Moving backwards is
/// refused (exit 4) unless --allow-rewind with a --reason. A cursor that does
/// not exist needs --create (exit 5 otherwise). Every change is recorded in
/// the history with its reason and user.
///
/// With --from-file, every record is validated and checked in one
/// transaction. Every listing format cursorctl writes reads back: NDJSON
/// and the JSON array (as `get -o ndjson|json` print them), TSV (as `get -o
/// tsv` prints it), and CSV with a header such as
/// consumer,partition_key,offset[,expect]. An optional `expect` per record
/// is the offset its compare-and-swap expects; a `channel` or `partition`
/// that disagrees with the key is refused. Stdin is read to its end before
/// the write lock is taken. If any record fails, nothing is written, every
/// failing line is listed on stderr, and the exit code is that of the first
/// failing line. The changes share one batch id (see `history --batch` and
/// `undo --batch`). With --dry-run the write runs and is rolled back: it
/// prints the records the write would print (without ids), the same
/// failures and the same exit code.
///
/// Offsets and partition indexes are written without leading zeros (0150
/// and orders:03 are refused; 0 is 0).
#[derive(Debug, clap::Args)]
#[command(after_help = "\
Examples:
  cursorctl set billing orders:3 1042                       move past a poison message at 1041
  cursorctl set billing:orders:3 1042                       the same, by the cursor's full key
  cursorctl set billing orders:3 1042 --expect 1041         only if it still holds 1041
  cursorctl set billing orders:3 900 --allow-rewind --reason 'replay INC-123'
  cursorctl set newsvc orders:0 0 --create                  start a new consumer at 0
  cursorctl set billing orders:3 1042 --dry-run             show the plan, write nothing
  cursorctl get billing -o ndjson | jq -c '.expect = .offset | .offset += 1' | cursorctl set --from-file -
  cursorctl get billing -o json | jq 'map(.offset += 1)' | cursorctl set --from-file -
  cursorctl set --from-file moves.csv --dry-run             check a CSV file, write nothing")]
pub struct Args {
    /// Consumer id, or the full key CONSUMER:CHANNEL:INDEX (billing:orders:3)
    #[arg(
        value_name = "CONSUMER",
        value_parser = consumer_arg,
        add = clap_complete::engine::ArgValueCompleter::new(super::complete::consumers),
        required_unless_present = "from_file",
        conflicts_with = "from_file"
    )]
    pub consumer: Option<ConsumerArg>,

    /// Partition key, CHANNEL:INDEX (for example orders:3); after a full
    /// key, the offset
    #[arg(value_name = "PARTITION_KEY", allow_hyphen_values = true, add = clap_complete::engine::ArgValueCompleter::new(super::complete::partition_keys))]
    pub partition_key: Option<String>,

    /// The new offset (0 to 9223372036854775807)
    #[arg(value_name = "OFFSET", allow_hyphen_values = true)]
    pub offset: Option<String>,

    /// Read many cursors from PATH (- for stdin): NDJSON, JSON, TSV or CSV,
    /// all or nothing
    #[arg(long, value_name = "PATH", conflicts_with = "expect")]
    pub from_file: Option<PathBuf>,

    /// The format of --from-file (default: detected: `{` starts NDJSON, a
    /// `{` alone or `[` JSON, a header with a tab TSV, anything else CSV)
    #[arg(long, value_enum, value_name = "FORMAT", requires = "from_file")]
    pub input_format: Option<InputFormat>,

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

    /// With --create: create a consumer even when its name looks like an
    /// existing one's (svc and svс, with a Cyrillic с), which is refused
    /// otherwise
    #[arg(long, requires = "create")]
    pub allow_confusable: bool,

    /// Show what the write would do: the same records and exit code; the
    /// write runs and is rolled back, so nothing is kept
    #[arg(long)]
    pub dry_run: bool,

    /// Why (recorded in the history)
    #[arg(long, value_name = "TEXT", value_parser = reason_arg, allow_hyphen_values = true)]
    pub reason: Option<String>,
}

const USAGE: &str = "set takes CONSUMER PARTITION_KEY OFFSET (billing orders:3 1042), KEY OFFSET (billing:orders:3 1042), or --from-file PATH";

/// The cursor and the offset the positional arguments name.
fn target(args: &Args) -> CliResult<(CursorKey, u64)> {
    let missing =
        |what: &str| -> CliError { Failure::usage(format!("{what} is missing: {USAGE}")).into() };
    let (key, offset) = match (&args.consumer, &args.partition_key, &args.offset) {
        (Some(ConsumerArg::Key(key)), Some(offset), None) => (key.clone(), offset),
        (Some(ConsumerArg::Key(key)), Some(_), Some(_)) => {
            return Err(Failure::usage(format!(
                "after the full key {key} comes only OFFSET: {USAGE}"
            ))
            .into())
        }
        (Some(ConsumerArg::Consumer(consumer)), Some(pk), Some(offset)) => {
            let pk = PartitionKey::parse(pk)?;
            (CursorKey::new(consumer.clone(), pk), offset)
        }
        (Some(ConsumerArg::Consumer(_)), None, _) => return Err(missing("PARTITION_KEY")),
        (Some(_), _, _) => return Err(missing("OFFSET")),
        (None, _, _) => return Err(missing("CONSUMER")),
    };
    Ok((key, parse_offset(offset)?))
}

pub fn run(ctx: &Context, args: &Args) -> CliResult<()> {
    if let Some(path) = &args.from_file {
        return bulk::run(
            ctx,
            &bulk::Options {
                path,
                format: args.input_format,
                create: args.write.create,
                allow_confusable: args.write.allow_confusable,
                allow_rewind: args.allow_rewind,
                reason: args.write.reason.as_deref(),
                dry_run: args.write.dry_run,
            },
        );
    }
    let (key, offset) = target(args)?;
    let w = &args.write;
    super::lookalike::check_one(ctx, w.create, w.allow_confusable, key.consumer().as_str())?;
    let user = Context::user();
    run_one(
        ctx,
        &Move {
            key: &key,
            target: Target::To(offset),
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
