//! `cursorctl history`: the audit trail of changes made through the tool.

use std::time::{Duration, UNIX_EPOCH};

use cursorctl::key::PartitionKey;
use cursorctl::parse_duration;
use cursorctl::store::sqlite::{now_ms, HistoryFilter};

use super::key_arg::{consumer_arg, ConsumerArg};
use super::output::Shape;
use super::records::HistoryRecord;
use super::Context;

/// Show the recorded changes, oldest first
///
/// Every change made by cursorctl is recorded in the same transaction as
/// the change: when, which cursor, old and new offset, the command, the
/// --reason and the user. Changes of one bulk write (`set --from-file`,
/// `undo --batch`) share a batch id. A removed cursor has no new offset; a
/// created one has no old offset. Listings stream.
#[derive(Debug, clap::Args)]
#[command(after_help = "\
Examples:
  cursorctl history                                  every recorded change
  cursorctl history billing orders:3 --limit 5       the last five changes of one cursor
  cursorctl history billing --since 1h               a consumer's changes in the last hour
  cursorctl history --since 2024-05-01T00:00:00Z -o ndjson
  cursorctl history --batch 7                        the changes of one bulk write")]
pub struct Args {
    /// Only this consumer (or only this cursor, by its full key
    /// CONSUMER:CHANNEL:INDEX)
    #[arg(value_name = "CONSUMER", value_parser = consumer_arg)]
    pub consumer: Option<ConsumerArg>,

    /// Only this partition key, CHANNEL:INDEX (needs CONSUMER)
    #[arg(requires = "consumer")]
    pub partition_key: Option<PartitionKey>,

    /// Only the newest N changes (still printed oldest first)
    #[arg(long, value_name = "N")]
    pub limit: Option<u64>,

    /// Only changes at or after TIME: RFC 3339 (2024-05-01T12:00:00Z), or a
    /// duration meaning that long ago (1h, 2days)
    #[arg(long, value_name = "TIME", value_parser = parse_since)]
    pub since: Option<i64>,

    /// Only the changes of this batch
    #[arg(long, value_name = "ID")]
    pub batch: Option<i64>,
}

/// Parse `--since`: a duration ago, or an RFC 3339 time (UTC `Z` or an
/// offset such as `+02:00`); milliseconds since the Unix epoch.
fn parse_since(input: &str) -> Result<i64, String> {
    let input = input.trim();
    if let Ok(ago) = parse_duration(input) {
        let ms = i64::try_from(ago.as_millis()).unwrap_or(i64::MAX);
        return Ok(now_ms().saturating_sub(ms));
    }
    let (base, shift_s) = split_utc_offset(input);
    let bad = || {
        format!(
            "invalid time {input:?}: use RFC 3339 (for example 2024-05-01T12:00:00Z) or a duration meaning that long ago (for example 1h)"
        )
    };
    let t = humantime::parse_rfc3339_weak(base).map_err(|_| bad())?;
    let ms = t
        .duration_since(UNIX_EPOCH)
        .unwrap_or(Duration::ZERO)
        .as_millis();
    let ms = i64::try_from(ms).map_err(|_| bad())?;
    Ok(ms - shift_s * 1000)
}

/// Split a trailing `+HH:MM` / `-HH:MM` / `Z` off an RFC 3339 time; returns
/// the rest and the offset east of UTC in seconds.
fn split_utc_offset(input: &str) -> (&str, i64) {
    if let Some(base) = input.strip_suffix(['Z', 'z']) {
        return (base, 0);
    }
    let bytes = input.as_bytes();
    if bytes.len() > 6 && input.is_char_boundary(bytes.len() - 6) {
        let (base, tail) = input.split_at(bytes.len() - 6);
        let t = tail.as_bytes();
        let digits = |a: u8, b: u8| -> Option<i64> {
            (a.is_ascii_digit() && b.is_ascii_digit())
                .then(|| i64::from(a - b'0') * 10 + i64::from(b - b'0'))
        };
        if matches!(t[0], b'+' | b'-') && t[3] == b':' && base.contains('T') {
            if let (Some(h), Some(m)) = (digits(t[1], t[2]), digits(t[4], t[5])) {
                let sign = if t[0] == b'-' { -1 } else { 1 };
                return (base, sign * (h * 3600 + m * 60));
            }
        }
    }
    (input, 0)
}

pub fn run(ctx: &Context, args: &Args) -> anyhow::Result<()> {
    let (consumer, partition_key) = match &args.consumer {
        Some(c) => {
            let (consumer, pk) = c.split(args.partition_key.as_ref())?;
            (Some(consumer), pk)
        }
        None => (None, None),
    };
    let store = ctx.open_read()?;
    let filter = HistoryFilter {
        consumer: consumer.as_ref().map(|c| c.as_str().to_owned()),
        partition_key,
        since: args.since,
        batch: args.batch,
        limit: args.limit,
    };
    let mut printer = ctx.printer(Shape::List);
    let mut key = String::new();
    store.for_each_change(&filter, |row| -> anyhow::Result<()> {
        printer.record(&HistoryRecord::new(row, &mut key))?;
        Ok(())
    })?;
    let count = printer.count();
    printer.finish()?;
    if count == 0 {
        ctx.note("no recorded change matches");
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn since_accepts_rfc3339_and_durations() {
        assert_eq!(parse_since("1970-01-01T00:00:01Z"), Ok(1000));
        assert_eq!(parse_since("1970-01-01T01:00:01+01:00"), Ok(1000));
        assert_eq!(parse_since("1970-01-01T00:00:01.500Z"), Ok(1500));
        let hour_ago = parse_since("1h").unwrap();
        assert!((now_ms() - 3_600_000 - hour_ago).abs() < 5_000);
        assert!(parse_since("yesterday").is_err());
        assert!(parse_since("").is_err());
    }
}
