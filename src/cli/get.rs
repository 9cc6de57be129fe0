//! `cursorctl get`: one cursor, or a listing.

use std::io::Write as _;
use std::time::Duration;

use cursorctl::key::{ChannelId, ConsumerId, CursorKey, PartitionKey};
use cursorctl::parse_duration;
use cursorctl::store::{CursorFilter, HeadFilter, StoreReadExt};

use super::error::{CliResult, ExitKind, Failure};
use super::key_arg::{consumer_arg, ConsumerArg};
use super::output::{Format, Shape};
use super::records::CursorRecord;
use super::Context;

/// What to do when `--must-exist` finds nothing: a read cannot create.
const GET_HINT: &str = "check the names: `cursorctl describe` lists the consumers, `cursorctl get CONSUMER` a consumer's cursors";

/// Show one cursor, or list cursors
///
/// With CONSUMER and PARTITION_KEY, shows that cursor; an absent cursor reads
/// as offset 0 (exists: false) unless --must-exist makes it an error (exit 5).
/// Otherwise lists cursors in key order, filtered by CONSUMER, --channel and
/// --idle-for. Listings stream: memory does not grow with the store.
#[derive(Debug, clap::Args)]
#[command(after_help = "\
Examples:
  cursorctl get billing orders:3                 one cursor
  cursorctl get billing:orders:3                 the same, by its full key
  cursorctl get billing orders:3 -o value        just its offset, for $(...)
  cursorctl get billing                          every cursor of a consumer
  cursorctl get --channel orders -o ndjson       every cursor on a channel, one JSON object a line
  cursorctl get --idle-for 15m                   cursors not written for 15 minutes (stuck consumers)
  cursorctl get billing --watch                  offsets, change and rate, redrawn every 2s
  cursorctl get billing --watch=10s --count 6 -o ndjson   one record set every 10s, six times")]
pub struct Args {
    /// Consumer id, or the full key CONSUMER:CHANNEL:INDEX (billing:orders:3)
    #[arg(value_name = "CONSUMER", value_parser = consumer_arg, add = clap_complete::engine::ArgValueCompleter::new(super::complete::consumers))]
    pub consumer: Option<ConsumerArg>,

    /// Partition key, CHANNEL:INDEX (for example orders:3)
    #[arg(requires = "consumer", add = clap_complete::engine::ArgValueCompleter::new(super::complete::partition_keys))]
    pub partition_key: Option<PartitionKey>,

    /// List only cursors on this channel
    #[arg(long, value_name = "CHANNEL", conflicts_with = "partition_key")]
    pub channel: Option<ChannelId>,

    /// List only cursors not written for at least this long (for example 15m)
    #[arg(long, value_name = "DURATION", value_parser = parse_duration, allow_hyphen_values = true, conflicts_with = "partition_key")]
    pub idle_for: Option<Duration>,

    /// Fail with exit 5 when the cursor is absent (or, for a listing, when
    /// nothing matches)
    #[arg(long)]
    pub must_exist: bool,

    /// Re-read every INTERVAL (--watch alone: 2s) and show each cursor's
    /// offset, its change since the last read, the rate (offsets/s) and how
    /// long it has been idle, and where its partition has a head (`head
    /// set`) its lag and the seconds it needs to catch up at the rates
    /// measured; each read is stamped with its time (read_at), and a cursor
    /// that is not there is shown with status absent (watched by its key)
    /// or deleted (gone since the last read). On a terminal the table is
    /// redrawn in place, elsewhere one record set is written per read.
    /// Ctrl-C stops (exit 0)
    #[arg(long, value_name = "INTERVAL", num_args = 0..=1, require_equals = true, default_missing_value = "2s", value_parser = cursorctl::parse_interval, conflicts_with = "must_exist")]
    pub watch: Option<Duration>,

    /// With --watch: stop after N reads
    #[arg(long, value_name = "N", requires = "watch", value_parser = super::limit_arg)]
    pub count: Option<u64>,
}

pub fn run(ctx: &Context, args: &Args) -> CliResult<()> {
    let (consumer, partition_key) = match &args.consumer {
        Some(c) => {
            let (consumer, pk) = c.split(args.partition_key.as_ref())?;
            (Some(consumer), pk)
        }
        None => (None, None),
    };
    if partition_key.is_some() && (args.channel.is_some() || args.idle_for.is_some()) {
        return Err(Failure::usage(
            "--channel and --idle-for filter a listing; they do not go with one cursor",
        )
        .into());
    }
    if ctx.global.output == Format::Prometheus && (partition_key.is_some() || args.watch.is_some())
    {
        return Err(Failure::usage(
            "-o prometheus is for listings: it does not go with one cursor or --watch",
        )
        .into());
    }
    let store = ctx.open_read()?;
    if let Some(interval) = args.watch {
        let filter = CursorFilter {
            consumer: consumer.as_ref().map(|c| c.as_str().to_owned()),
            channel: match &partition_key {
                Some(pk) => Some(pk.channel().as_str().to_owned()),
                None => args.channel.as_ref().map(|c| c.as_str().to_owned()),
            },
            updated_before: None,
        };
        let only = match (&consumer, &partition_key) {
            (Some(c), Some(pk)) => Some(CursorKey::new(c.clone(), pk.clone())),
            _ => None,
        };
        let watch = super::watch::Watch {
            interval,
            count: args.count,
            only,
        };
        return super::watch::run(ctx, &**store, &filter, &watch);
    }
    if let (Some(consumer), Some(pk)) = (&consumer, &partition_key) {
        let key = CursorKey::new(consumer.clone(), pk.clone());
        let (cursor, head) = store.cursor_head(&key)?;
        let mut record = match cursor {
            Some(row) => {
                let mut record = CursorRecord::default();
                record.fill(&row);
                record
            }
            None if args.must_exist => {
                return Err(Failure::new(
                    ExitKind::NotFound,
                    format!("cursor {key} does not exist"),
                )
                .with("key", key.to_string())
                .with_hint(GET_HINT)
                .into())
            }
            None => {
                ctx.note(&format!(
                    "cursor {key} does not exist; it reads as offset 0"
                ));
                CursorRecord::absent(&key)
            }
        };
        record.set_head(head.map(|h| h.head));
        if let Some(lease) = store.lease(&key)? {
            if lease.is_live(store.clock_ms()?) {
                record.set_lease(Some(&lease.owner), Some(lease.expires_at));
            }
        }
        let mut printer = ctx
            .printer(Shape::One)
            .with_optional_columns(CursorRecord::OPTIONAL_COLUMNS);
        printer.record(&record)?;
        printer.finish()?;
        return Ok(());
    }

    let idle_ms = args
        .idle_for
        .map(|d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX));
    let filter = CursorFilter {
        consumer: consumer.as_ref().map(|c| c.as_str().to_owned()),
        channel: args.channel.as_ref().map(|c| c.as_str().to_owned()),
        updated_before: match idle_ms {
            Some(ms) => Some(store.clock_ms()?.saturating_sub(ms)),
            None => None,
        },
    };
    if ctx.global.output == Format::Prometheus {
        let heads = HeadFilter {
            channel: filter.channel.clone(),
            partition: None,
        };
        let selection = super::status::Selection {
            filter,
            partition: None,
        };
        let now = store.clock_ms()?;
        let tally = super::prometheus::write(
            &**store,
            &selection,
            &heads,
            now,
            super::status::STALL_AFTER,
        )?;
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
        if tally.total() == 0 && args.must_exist {
            return Err(Failure::new(ExitKind::NotFound, "no cursor matches").into());
        }
        return Ok(());
    }
    let mut printer = ctx
        .printer(Shape::List)
        .with_header(CursorRecord::FIELDS)
        .with_optional_columns(CursorRecord::OPTIONAL_COLUMNS);
    let mut record = CursorRecord::default();
    let mut invalid = 0u64;
    let mut unwritable = 0u64;
    store.for_each_cursor_head(&filter, |row| -> CliResult<()> {
        match row {
            Ok(row) => {
                let (head, row) = (row, &row.cursor);
                if let Err(e) = ConsumerId::check(&row.consumer)
                    .and_then(|()| ChannelId::check(&row.channel))
                {
                    unwritable += 1;
                    let _ = writeln!(
                        std::io::stderr(),
                        "cursorctl: warning: cursor {} is listed, but cursorctl cannot write it back: {e} (it was written by another program)",
                        row.key()
                    );
                }
                printer.record(record.fill_with_head(head))?;
            }
            Err(e) => {
                invalid += 1;
                let _ = writeln!(std::io::stderr(), "cursorctl: warning: {e}");
            }
        }
        Ok(())
    })?;
    let count = printer.count();
    printer.finish()?;
    if unwritable > 0 {
        ctx.note(&format!(
            "{unwritable} listed cursor(s) have names cursorctl refuses (see the warnings above): `set --from-file` will refuse those lines"
        ));
    }
    if invalid > 0 {
        return Err(Failure::new(
            ExitKind::Store,
            format!(
                "{invalid} cursor(s) hold invalid offsets written by something else (listed above)"
            ),
        )
        .into());
    }
    if count == 0 {
        if args.must_exist {
            return Err(Failure::new(ExitKind::NotFound, "no cursor matches")
                .with_hint(GET_HINT)
                .into());
        }
        ctx.note("no cursor matches");
    }
    Ok(())
}
