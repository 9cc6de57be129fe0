//! `cursorctl status`: each cursor against its partition's head, and which
//! ones need attention (exit 8).

use std::io::{self, Write as _};
use std::time::Duration;

use cursorctl::heads::{CursorStatus, DEFAULT_STALL_AFTER};
use cursorctl::key::{ChannelId, PartitionKey};
use cursorctl::parse_duration;
use cursorctl::store::{
    CursorFilter, CursorHeadRow, HeadFilter, StoreRead, StoreReadExt, HEADS_VERSION,
};

use super::error::{CliResult, ExitKind, Failure};
use super::key_arg::{consumer_arg, ConsumerArg};
use super::output::{Field, Format, Record, Shape};
use super::Context;

/// Show each cursor's lag and status; exit 8 when one needs attention
///
/// One record per cursor: its offset, its partition's head, the lag (the
/// head minus the offset, never negative), the status and since when the
/// cursor has not moved (`since`: its last write, on the store's clock).
/// Statuses:
///
///   no-head  no head is known for its partition (see `head set`)
///   ahead    its offset is past the head: the log or the store is wrong
///   ok       lag 0
///   behind   lag > 0, and it moved within --stall-after
///   stalled  lag > 0, and it has not moved for --stall-after
///
/// Exit 0, or 8 when any listed cursor is stalled or ahead (for cron and
/// alerting); the records are printed either way, and a stalled consumer
/// is listed for as long as it stays stalled. Filters as `get`; listings
/// stream, and `-o prometheus` writes the metrics of the same cursors.
#[derive(Debug, clap::Args)]
#[command(after_help = "\
Examples:
  cursorctl status                                 every cursor; exit 8 if one needs attention
  cursorctl status billing                         one consumer
  cursorctl status --channel orders --stall-after 15m
  cursorctl status -o ndjson | jq 'select(.status == \"stalled\")'
  cursorctl status -o prometheus > metrics.prom    for node_exporter's textfile collector")]
pub struct Args {
    /// Consumer id, or the full key CONSUMER:CHANNEL:INDEX (billing:orders:3)
    #[arg(value_name = "CONSUMER", value_parser = consumer_arg, add = clap_complete::engine::ArgValueCompleter::new(super::complete::consumers))]
    pub consumer: Option<ConsumerArg>,

    /// Partition key, CHANNEL:INDEX (for example orders:3)
    #[arg(requires = "consumer", add = clap_complete::engine::ArgValueCompleter::new(super::complete::partition_keys))]
    pub partition_key: Option<PartitionKey>,

    /// Only cursors on this channel
    #[arg(long, value_name = "CHANNEL", conflicts_with = "partition_key")]
    pub channel: Option<ChannelId>,

    /// Only cursors not written for at least this long (for example 15m)
    #[arg(long, value_name = "DURATION", value_parser = parse_duration, allow_hyphen_values = true, conflicts_with = "partition_key")]
    pub idle_for: Option<Duration>,

    /// A cursor with lag that has not moved for this long is stalled
    #[arg(long, value_name = "DURATION", value_parser = parse_duration, allow_hyphen_values = true, default_value = "5m")]
    pub stall_after: Duration,

    /// Fail with exit 5 when no cursor matches
    #[arg(long)]
    pub must_exist: bool,
}

/// Which cursors a status listing covers.
pub struct Selection {
    pub filter: CursorFilter,
    /// Only this partition index (of the filter's channel).
    pub partition: Option<u32>,
}

/// How many cursors of each status a listing held.
#[derive(Debug, Default)]
pub struct Tally {
    counts: [u64; CursorStatus::ALL.len()],
    /// Rows whose offset is not valid (reported on stderr).
    pub invalid: u64,
}

impl Tally {
    fn add(&mut self, status: CursorStatus) {
        if let Some(i) = CursorStatus::ALL.iter().position(|s| *s == status) {
            self.counts[i] += 1;
        }
    }

    pub fn count(&self, status: CursorStatus) -> u64 {
        CursorStatus::ALL
            .iter()
            .position(|s| *s == status)
            .map_or(0, |i| self.counts[i])
    }

    pub fn total(&self) -> u64 {
        self.counts.iter().sum()
    }

    /// How many need attention (`stalled`, `ahead`, `orphaned`).
    pub fn attention(&self) -> u64 {
        CursorStatus::ALL
            .iter()
            .filter(|s| s.needs_attention())
            .map(|s| self.count(*s))
            .sum()
    }

    /// `2 ok, 1 stalled`: the statuses that occur.
    fn describe(&self, only_attention: bool) -> String {
        CursorStatus::ALL
            .iter()
            .filter(|s| !only_attention || s.needs_attention())
            .filter(|s| self.count(**s) > 0)
            .map(|s| format!("{} {s}", self.count(*s)))
            .collect::<Vec<_>>()
            .join(", ")
    }
}

/// Visit the cursors of `selection` with their statuses at `now`: one
/// streamed listing joined with the heads. A row whose offset is invalid is
/// reported on stderr and counted, not visited.
///
/// # Errors
///
/// Store failures, and what `each` returns.
pub fn visit_statuses(
    view: &dyn StoreRead,
    selection: &Selection,
    now: i64,
    stall_after: Duration,
    mut each: impl FnMut(&CursorHeadRow, CursorStatus) -> CliResult<()>,
) -> CliResult<Tally> {
    let mut tally = Tally::default();
    view.for_each_cursor_head(&selection.filter, |row| -> CliResult<()> {
        match row {
            Ok(row) => {
                if selection
                    .partition
                    .is_some_and(|p| p != row.cursor.partition)
                {
                    return Ok(());
                }
                let c = &row.cursor;
                let status = CursorStatus::of(c.offset, row.head, c.updated_at, now, stall_after)
                    .with_lease(row.consumer_uses_leases, row.lease_owner.is_some());
                tally.add(status);
                each(row, status)
            }
            Err(e) => {
                tally.invalid += 1;
                let _ = writeln!(io::stderr(), "cursorctl: warning: {e}");
                Ok(())
            }
        }
    })?;
    Ok(tally)
}

/// A cursor's status: `{key, consumer, partition_key, offset, head, lag,
/// status, since}`.
struct StatusRecord<'a> {
    row: &'a CursorHeadRow,
    key: String,
    partition_key: String,
    status: CursorStatus,
}

impl StatusRecord<'_> {
    const FIELDS: &'static [&'static str] = &[
        "key",
        "consumer",
        "partition_key",
        "offset",
        "head",
        "lag",
        "status",
        "since",
    ];
}

impl Record for StatusRecord<'_> {
    fn fields(
        &self,
        visit: &mut dyn FnMut(&'static str, Field<'_>) -> io::Result<()>,
    ) -> io::Result<()> {
        let c = &self.row.cursor;
        visit("key", Field::Str(&self.key))?;
        visit("consumer", Field::Str(&c.consumer))?;
        visit("partition_key", Field::Str(&self.partition_key))?;
        visit("offset", Field::U64(c.offset))?;
        visit("head", Field::OptU64(self.row.head))?;
        visit("lag", Field::OptU64(self.row.lag()))?;
        visit("status", Field::Str(self.status.as_str()))?;
        visit("since", Field::Time(c.updated_at))
    }

    fn table_columns(&self) -> &'static [&'static str] {
        &["key", "offset", "head", "lag", "status", "since"]
    }

    fn value(&self) -> Field<'_> {
        Field::Str(self.status.as_str())
    }
}

pub fn run(ctx: &Context, args: &Args) -> CliResult<()> {
    let (consumer, partition_key) = match &args.consumer {
        Some(c) => {
            let (consumer, pk) = c.split(args.partition_key.as_ref())?;
            (Some(consumer), pk)
        }
        None => (None, None),
    };
    let store = ctx.open_read()?;
    let now = store.clock_ms()?;
    let idle_ms = args
        .idle_for
        .map(|d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX));
    let channel = match &partition_key {
        Some(pk) => Some(pk.channel().as_str().to_owned()),
        None => args.channel.as_ref().map(|c| c.as_str().to_owned()),
    };
    let selection = Selection {
        filter: CursorFilter {
            consumer: consumer.as_ref().map(|c| c.as_str().to_owned()),
            channel: channel.clone(),
            updated_before: idle_ms.map(|ms| now.saturating_sub(ms)),
        },
        partition: partition_key.as_ref().map(PartitionKey::index),
    };
    if store.schema_version()? < HEADS_VERSION {
        ctx.note("the store keeps no heads (an older schema version): every cursor is no-head; run `cursorctl init` to upgrade it");
    }
    let tally = if ctx.global.output == Format::Prometheus {
        let heads = HeadFilter {
            channel,
            partition: selection.partition,
        };
        super::prometheus::write(&**store, &selection, &heads, now, args.stall_after)?
    } else {
        let mut printer = ctx.printer(Shape::List).with_header(StatusRecord::FIELDS);
        let tally = visit_statuses(
            &**store,
            &selection,
            now,
            args.stall_after,
            |row, status| {
                printer.record(&StatusRecord {
                    row,
                    key: row.cursor.key(),
                    partition_key: row.cursor.partition_key(),
                    status,
                })?;
                Ok(())
            },
        )?;
        printer.finish()?;
        tally
    };
    finish(ctx, &tally, args.must_exist)
}

/// The end of a status listing: a summary on stderr, and the exit code.
pub fn finish(ctx: &Context, tally: &Tally, must_exist: bool) -> CliResult<()> {
    if tally.invalid > 0 {
        return Err(Failure::new(
            ExitKind::Store,
            format!(
                "{} cursor(s) hold invalid offsets written by something else (listed above)",
                tally.invalid
            ),
        )
        .into());
    }
    if tally.total() == 0 {
        if must_exist {
            return Err(Failure::new(ExitKind::NotFound, "no cursor matches").into());
        }
        ctx.note("no cursor matches");
        return Ok(());
    }
    if tally.attention() > 0 {
        let mut failure = Failure::new(
            ExitKind::Attention,
            format!(
                "{} of {} cursor(s) need attention: {}",
                tally.attention(),
                tally.total(),
                tally.describe(true)
            ),
        );
        for status in CursorStatus::ALL {
            failure = failure.with(status.as_str(), tally.count(status));
        }
        return Err(failure.into());
    }
    ctx.note(&format!(
        "{} cursor(s): {}",
        tally.total(),
        tally.describe(false)
    ));
    Ok(())
}

/// The default of `--stall-after`, for `get -o prometheus`.
pub const STALL_AFTER: Duration = DEFAULT_STALL_AFTER;
