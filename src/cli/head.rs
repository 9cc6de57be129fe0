//! `cursorctl head`: the heads of partitions (where each partition ends),
//! recorded by the message system or from its tooling, and their history.

use std::io;
use std::path::PathBuf;

use cursorctl::heads::{require_heads, HeadWrite};
use cursorctl::key::{ChannelId, PartitionKey};
use cursorctl::ops::head_set::{set_head, set_heads, HeadSet};
use cursorctl::store::{HeadChangeRow, HeadFilter, HeadRow, Outcome, StoreReadExt};

use super::error::{CliResult, Failure};
use super::head_input::HeadReader;
use super::output::{Field, Record, Shape};
use super::{offset_arg, reason_arg, Context};
use cursorctl::ops::OpError;

/// Record and list the heads of partitions (where each partition ends)
///
/// A head is the offset the next message appended to a partition will get
/// (its log end offset), known per partition key CHANNEL:INDEX with the
/// store-clock time it was recorded. With heads, `get` and `describe` show
/// each cursor's lag (head - offset, never negative) and `status` says
/// which cursors need attention. The message system (or a job that reads
/// its own tooling) records heads; cursorctl never guesses them.
///
/// Heads move forward only: a lower head is refused (exit 4) unless
/// --allow-rewind --reason (a log truncated or recreated). Every change is
/// recorded in the head history (`head history`), in the transaction of
/// the change; recording the same head again only renews its time.
#[derive(Debug, clap::Args)]
#[command(after_help = "\
Examples:
  cursorctl head set orders:3 5000                   record the head of one partition
  cursorctl head set --from-file heads.ndjson        many heads, all or nothing
  printf 'partition_key,head\\norders:3,5000\\n' | cursorctl head set --from-file -
  cursorctl head set orders:3 10 --allow-rewind --reason 'topic recreated'
  cursorctl head get orders                          the heads of a channel
  cursorctl head history orders:3                    how a head moved")]
pub struct Args {
    #[command(subcommand)]
    pub action: Action,
}

#[derive(Debug, clap::Subcommand)]
pub enum Action {
    /// Record the head of a partition, or many heads from a file
    ///
    /// One head: `head set PARTITION_KEY HEAD`. Many: `--from-file FILE` (or
    /// `-` for stdin) with NDJSON lines such as
    /// {"partition_key":"orders:3","head":5000} (what `head get -o ndjson`
    /// prints), or CSV or TSV with a header line (partition_key,head), in
    /// one transaction, all or nothing: every failing line is listed with
    /// its number, a partition key given twice is refused, and so is an
    /// unknown field.
    #[command(after_help = "\
Examples:
  cursorctl head set orders:3 5000                   record the head of one partition
  cursorctl head set --from-file heads.ndjson        many heads, all or nothing
  printf 'partition_key,head\\norders:3,5000\\n' | cursorctl head set --from-file -
  cursorctl head set orders:3 10 --allow-rewind --reason 'topic recreated'")]
    Set {
        /// Partition key, CHANNEL:INDEX (for example orders:3)
        #[arg(required_unless_present = "from_file", conflicts_with = "from_file")]
        partition_key: Option<PartitionKey>,
        /// The head: the offset the next message appended to it will get
        #[arg(value_parser = offset_arg, required_unless_present = "from_file", allow_hyphen_values = true)]
        head: Option<u64>,
        /// Read many heads from FILE (`-`: stdin)
        #[arg(long, value_name = "FILE", value_hint = clap::ValueHint::FilePath)]
        from_file: Option<PathBuf>,
        /// Allow a head to move back (a log truncated or recreated); needs --reason
        #[arg(long, requires = "reason")]
        allow_rewind: bool,
        /// Why (recorded in the head history; needed with --allow-rewind)
        #[arg(long, value_name = "TEXT", value_parser = reason_arg, allow_hyphen_values = true)]
        reason: Option<String>,
        /// Show what would be recorded; write nothing
        #[arg(long)]
        dry_run: bool,
    },
    /// List heads: partition_key, head, recorded_at
    #[command(after_help = "\
Examples:
  cursorctl head get                                 every head
  cursorctl head get orders                          the heads of a channel
  cursorctl head get orders:3 -o value               one partition's head, for $(...)")]
    Get {
        /// Only this channel, or only this partition (CHANNEL:INDEX)
        #[arg(value_name = "CHANNEL")]
        channel: Option<String>,
    },
    /// List recorded head changes, oldest first
    #[command(after_help = "\
Examples:
  cursorctl head history                             every recorded head change
  cursorctl head history orders:3                    how one head moved")]
    History {
        /// Only this channel, or only this partition (CHANNEL:INDEX)
        #[arg(value_name = "CHANNEL")]
        channel: Option<String>,
    },
}

pub fn run(ctx: &Context, args: &Args) -> CliResult<()> {
    match &args.action {
        Action::Set {
            partition_key,
            head,
            from_file,
            allow_rewind,
            reason,
            dry_run,
        } => {
            let opts = SetOptions {
                allow_rewind: *allow_rewind,
                reason: reason.as_deref(),
                dry_run: *dry_run,
            };
            match (from_file, partition_key, head) {
                (Some(path), _, _) => set_many(ctx, path, &opts),
                (None, Some(key), Some(head)) => set_one(ctx, key, *head, &opts),
                _ => Err(Failure::usage("give PARTITION_KEY HEAD, or --from-file FILE").into()),
            }
        }
        Action::Get { channel } => get(ctx, &filter_of(channel.as_deref())?),
        Action::History { channel } => history(ctx, &filter_of(channel.as_deref())?),
    }
}

/// `CHANNEL` or `CHANNEL:INDEX` as a filter.
fn filter_of(arg: Option<&str>) -> CliResult<HeadFilter> {
    let Some(arg) = arg else {
        return Ok(HeadFilter::default());
    };
    if arg.contains(':') {
        let key = PartitionKey::parse(arg).map_err(|e| Failure::usage(e.to_string()))?;
        return Ok(HeadFilter {
            channel: Some(key.channel().as_str().to_owned()),
            partition: Some(key.index()),
        });
    }
    let channel = ChannelId::new(arg).map_err(|e| Failure::usage(e.to_string()))?;
    Ok(HeadFilter {
        channel: Some(channel.as_str().to_owned()),
        partition: None,
    })
}

struct SetOptions<'a> {
    allow_rewind: bool,
    reason: Option<&'a str>,
    dry_run: bool,
}

/// What `head set` prints for each head: `{id, partition_key, old_head,
/// new_head, delta, status, dry_run}` (`id`: the head history row, null
/// when the head stayed the same, and in a dry run, which keeps none).
struct HeadChangeRecord {
    id: Option<i64>,
    partition_key: String,
    write: HeadWrite,
    dry_run: bool,
}

impl HeadChangeRecord {
    const FIELDS: &'static [&'static str] = &[
        "id",
        "partition_key",
        "old_head",
        "new_head",
        "delta",
        "status",
        "dry_run",
    ];

    fn of(key: &PartitionKey, write: &HeadWrite, dry_run: bool) -> Self {
        Self {
            id: if dry_run { None } else { write.change_id },
            partition_key: key.to_string(),
            write: *write,
            dry_run,
        }
    }
}

impl Record for HeadChangeRecord {
    fn fields(
        &self,
        visit: &mut dyn FnMut(&'static str, Field<'_>) -> io::Result<()>,
    ) -> io::Result<()> {
        let signed = |v: u64| i64::try_from(v).unwrap_or(i64::MAX);
        let w = &self.write;
        visit("id", Field::OptI64(self.id))?;
        visit("partition_key", Field::Str(&self.partition_key))?;
        visit("old_head", Field::OptU64(w.old))?;
        visit("new_head", Field::U64(w.new))?;
        visit(
            "delta",
            Field::I64(signed(w.new) - signed(w.old.unwrap_or(0))),
        )?;
        visit("status", Field::Str(w.status()))?;
        visit("dry_run", Field::Bool(self.dry_run))
    }

    fn table_columns(&self) -> &'static [&'static str] {
        &[
            "id",
            "partition_key",
            "old_head",
            "new_head",
            "delta",
            "status",
        ]
    }

    fn value(&self) -> Field<'_> {
        Field::U64(self.write.new)
    }
}

fn head_set<'a>(opts: &SetOptions<'a>, user: &'a str) -> HeadSet<'a> {
    HeadSet {
        allow_rewind: opts.allow_rewind,
        reason: opts.reason,
        user,
        outcome: Outcome::of_dry_run(opts.dry_run),
    }
}

/// A dry run is the write itself, rolled back: the same checks, records
/// and exit code, and nothing kept.
fn set_one(ctx: &Context, key: &PartitionKey, head: u64, opts: &SetOptions<'_>) -> CliResult<()> {
    let user = Context::user();
    let store = ctx.open_write()?;
    let write = set_head(&*store, &head_set(opts, &user), key, head)?;
    ctx.print_one(&HeadChangeRecord::of(key, &write, opts.dry_run))?;
    if opts.dry_run {
        ctx.note("dry run: nothing was written");
    }
    Ok(())
}

/// `head set --from-file`: the lines read here, checked and written by
/// the library (`ops::head_set`), the heads printed.
fn set_many(ctx: &Context, path: &std::path::Path, opts: &SetOptions<'_>) -> CliResult<()> {
    let source = super::source::open(path, "--from-file", true)?;
    let user = Context::user();
    let store = ctx.open_write()?;
    let mut reader = HeadReader::new(source.reader, source.name.clone());
    let lines = std::iter::from_fn(|| reader.next_line().transpose());
    let written = set_heads(&*store, &head_set(opts, &user), lines)?;
    let changed = written
        .iter()
        .filter(|w| w.write.change_id.is_some())
        .count();
    if !ctx.global.quiet {
        let mut printer = ctx
            .printer(Shape::List)
            .with_header(HeadChangeRecord::FIELDS);
        for w in &written {
            printer.record(&HeadChangeRecord::of(&w.key, &w.write, opts.dry_run))?;
        }
        printer.finish()?;
    }
    let unchanged = written.len() - changed;
    if opts.dry_run {
        ctx.note(&format!(
            "dry run: {} head(s) would be recorded: {changed} changed, {unchanged} unchanged; nothing was written",
            written.len()
        ));
    } else {
        ctx.note(&format!(
            "recorded {} head(s): {changed} changed, {unchanged} unchanged",
            written.len()
        ));
    }
    Ok(())
}

/// A head as listed: `{partition_key, channel, partition, head, recorded_at}`.
struct HeadRecord<'a>(&'a HeadRow, String);

impl HeadRecord<'_> {
    const FIELDS: &'static [&'static str] = &[
        "partition_key",
        "channel",
        "partition",
        "head",
        "recorded_at",
    ];
}

impl Record for HeadRecord<'_> {
    fn fields(
        &self,
        visit: &mut dyn FnMut(&'static str, Field<'_>) -> io::Result<()>,
    ) -> io::Result<()> {
        visit("partition_key", Field::Str(&self.1))?;
        visit("channel", Field::Str(&self.0.channel))?;
        visit("partition", Field::U64(u64::from(self.0.partition)))?;
        visit("head", Field::U64(self.0.head))?;
        visit("recorded_at", Field::Time(Some(self.0.recorded_at)))
    }

    fn table_columns(&self) -> &'static [&'static str] {
        &["partition_key", "head", "recorded_at"]
    }

    fn value(&self) -> Field<'_> {
        Field::U64(self.0.head)
    }
}

fn get(ctx: &Context, filter: &HeadFilter) -> CliResult<()> {
    let store = ctx.open_read()?;
    require_heads(&**store).map_err(OpError::from)?;
    let mut printer = ctx.printer(Shape::List).with_header(HeadRecord::FIELDS);
    store.for_each_head(filter, |row| -> CliResult<()> {
        Ok(printer.record(&HeadRecord(row, row.partition_key()))?)
    })?;
    let count = printer.count();
    printer.finish()?;
    if count == 0 {
        ctx.note("no head is recorded for these partitions");
    }
    Ok(())
}

/// A recorded head change: `{id, at, partition_key, old_head, new_head,
/// delta, command, reason, user}`.
struct HeadHistoryRecord<'a>(&'a HeadChangeRow, String);

impl HeadHistoryRecord<'_> {
    const FIELDS: &'static [&'static str] = &[
        "id",
        "at",
        "partition_key",
        "old_head",
        "new_head",
        "delta",
        "command",
        "reason",
        "user",
    ];
}

impl Record for HeadHistoryRecord<'_> {
    fn fields(
        &self,
        visit: &mut dyn FnMut(&'static str, Field<'_>) -> io::Result<()>,
    ) -> io::Result<()> {
        let row = self.0;
        let signed = |v: u64| i64::try_from(v).unwrap_or(i64::MAX);
        visit("id", Field::I64(row.id))?;
        visit("at", Field::Time(Some(row.at)))?;
        visit("partition_key", Field::Str(&self.1))?;
        visit("old_head", Field::OptU64(row.old_head))?;
        visit("new_head", Field::U64(row.new_head))?;
        visit(
            "delta",
            Field::I64(signed(row.new_head) - signed(row.old_head.unwrap_or(0))),
        )?;
        visit("command", Field::Str(&row.command))?;
        visit("reason", Field::OptStr(row.reason.as_deref()))?;
        visit("user", Field::Str(&row.user))
    }

    fn table_columns(&self) -> &'static [&'static str] {
        &[
            "id",
            "at",
            "partition_key",
            "old_head",
            "new_head",
            "command",
            "reason",
            "user",
        ]
    }

    fn value(&self) -> Field<'_> {
        Field::U64(self.0.new_head)
    }
}

fn history(ctx: &Context, filter: &HeadFilter) -> CliResult<()> {
    let store = ctx.open_read()?;
    require_heads(&**store).map_err(OpError::from)?;
    let mut printer = ctx
        .printer(Shape::List)
        .with_header(HeadHistoryRecord::FIELDS);
    store.for_each_head_change(filter, |row| -> CliResult<()> {
        Ok(printer.record(&HeadHistoryRecord(row, row.partition_key()))?)
    })?;
    let count = printer.count();
    printer.finish()?;
    if count == 0 {
        ctx.note("no recorded head change matches");
    }
    Ok(())
}
