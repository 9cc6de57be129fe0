//! `cursorctl describe`: one row per consumer.

use std::io;
use std::time::Duration;

use cursorctl::parse_duration;
use cursorctl::store::{ConsumerFilter, ConsumerSummary, StoreReadExt};

use super::error::{CliResult, ExitKind, Failure};
use super::key_arg::{consumer_arg, ConsumerArg};
use super::output::{Field, Record, Shape};
use super::Context;

/// Sum up each consumer's cursors: one row per consumer
///
/// For each consumer: how many cursors, on how many channels, the lowest
/// and highest offset, the oldest and newest write, and how many cursors
/// were not written for --idle-for (default 1h): a consumer whose cursors
/// are all idle has probably stopped. Where partitions have heads (`head
/// set`): the total and highest lag of its cursors, and how many are
/// behind (lag, moved within --stall-after) or stalled (lag, not moved for
/// --stall-after); null for a consumer none of whose partitions has a head.
/// The store computes the rows in its own query, so memory does not grow
/// with the store.
#[derive(Debug, clap::Args)]
#[command(after_help = "\
Examples:
  cursorctl describe                       every consumer
  cursorctl describe billing               one consumer
  cursorctl describe --idle-for 30days     which consumers have stopped writing
  cursorctl describe -o ndjson | jq 'select(.idle == .cursors) | .consumer'")]
pub struct Args {
    /// Only this consumer
    #[arg(value_name = "CONSUMER", value_parser = consumer_arg, add = clap_complete::engine::ArgValueCompleter::new(super::complete::consumers))]
    pub consumer: Option<ConsumerArg>,

    /// Count a cursor as idle when it was not written for this long
    #[arg(long, value_name = "DURATION", value_parser = parse_duration, allow_hyphen_values = true, default_value = "1h")]
    pub idle_for: Duration,

    /// Count a cursor with lag as stalled when it was not written for this long
    #[arg(long, value_name = "DURATION", value_parser = parse_duration, allow_hyphen_values = true, default_value = "5m")]
    pub stall_after: Duration,

    /// Fail with exit 5 when no consumer matches
    #[arg(long)]
    pub must_exist: bool,
}

struct ConsumerSummaryRecord<'a>(&'a ConsumerSummary);

impl ConsumerSummaryRecord<'_> {
    const FIELDS: &'static [&'static str] = &[
        "consumer",
        "cursors",
        "channels",
        "lowest_offset",
        "highest_offset",
        "oldest_updated_at",
        "newest_updated_at",
        "idle",
        "total_lag",
        "highest_lag",
        "behind",
        "stalled",
        "live_leases",
    ];

    /// Columns shown only when a consumer's partitions have heads.
    const OPTIONAL: &'static [&'static str] = &["total_lag", "highest_lag", "behind", "stalled"];
}

impl Record for ConsumerSummaryRecord<'_> {
    fn fields(
        &self,
        visit: &mut dyn FnMut(&'static str, Field<'_>) -> io::Result<()>,
    ) -> io::Result<()> {
        let s = self.0;
        visit("consumer", Field::Str(&s.consumer))?;
        visit("cursors", Field::U64(s.cursors))?;
        visit("channels", Field::U64(s.channels))?;
        visit("lowest_offset", Field::U64(s.lowest_offset))?;
        visit("highest_offset", Field::U64(s.highest_offset))?;
        visit("oldest_updated_at", Field::Time(s.oldest_update))?;
        visit("newest_updated_at", Field::Time(s.newest_update))?;
        visit("idle", Field::U64(s.idle))?;
        let known = |v: u64| (s.with_head > 0).then_some(v);
        visit("total_lag", Field::OptU64(known(s.total_lag)))?;
        visit("highest_lag", Field::OptU64(s.highest_lag))?;
        visit("behind", Field::OptU64(known(s.behind)))?;
        visit("stalled", Field::OptU64(known(s.stalled)))?;
        visit("live_leases", Field::U64(s.live_leases))
    }

    fn table_columns(&self) -> &'static [&'static str] {
        Self::FIELDS
    }

    fn value(&self) -> Field<'_> {
        Field::Str(&self.0.consumer)
    }
}

pub fn run(ctx: &Context, args: &Args) -> CliResult<()> {
    let consumer = match &args.consumer {
        Some(ConsumerArg::Consumer(c)) => Some(c.as_str().to_owned()),
        Some(ConsumerArg::Key(_)) => {
            return Err(Failure::usage("describe takes a consumer, not a cursor key").into())
        }
        None => None,
    };
    let store = ctx.open_read()?;
    let idle_ms = i64::try_from(args.idle_for.as_millis()).unwrap_or(i64::MAX);
    let stall_ms = i64::try_from(args.stall_after.as_millis()).unwrap_or(i64::MAX);
    let now = store.clock_ms()?;
    let filter = ConsumerFilter {
        consumer,
        idle_before: Some(now.saturating_sub(idle_ms)),
        stall_before: Some(now.saturating_sub(stall_ms)),
    };
    let mut printer = ctx
        .printer(Shape::List)
        .with_header(ConsumerSummaryRecord::FIELDS)
        .with_optional_columns(ConsumerSummaryRecord::OPTIONAL);
    store.for_each_consumer(&filter, |summary| -> CliResult<()> {
        Ok(printer.record(&ConsumerSummaryRecord(summary))?)
    })?;
    let count = printer.count();
    printer.finish()?;
    if count == 0 {
        if args.must_exist {
            return Err(Failure::new(ExitKind::NotFound, "no consumer matches")
                .with_hint(
                    "check the name, or --idle-for: `cursorctl describe` lists every consumer",
                )
                .into());
        }
        ctx.note("no consumer matches");
    }
    Ok(())
}
