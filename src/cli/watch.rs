//! `cursorctl get --watch`: re-read a listing every interval and show how
//! each cursor moves, and, where its partition has a head, its lag and the
//! time it needs to catch up at the rates measured.

use std::collections::{HashMap, HashSet};
use std::io::{self, IsTerminal, Write};
use std::time::{Duration, Instant};

use cursorctl::store::{CursorFilter, Store, StoreReadExt};

use super::error::CliResult;
use super::interrupt::Interrupt;
use super::output::{Field, Format, Record, Shape};
use super::Context;

/// One cursor at one read.
struct WatchRecord {
    tick: u64,
    /// When the read was made, on the store's clock.
    read_at: i64,
    key: String,
    /// `present`, `absent` (a cursor watched by its key that is not there)
    /// or `deleted` (there at the previous read, gone at this one).
    status: &'static str,
    /// 0 for a cursor that is not there, as `get` reads it.
    offset: u64,
    /// Since the previous read (`None`: first seen at this read, or gone).
    change: Option<i64>,
    /// Offsets per second since the previous read (shown with one
    /// decimal, a JSON number).
    rate: Option<f64>,
    /// Milliseconds since the cursor was last written, on the store's clock.
    idle_ms: Option<i64>,
    updated_at: Option<i64>,
    /// Its partition's head (`None`: none is known).
    head: Option<u64>,
    /// Seconds to catch up with the head at the rates measured since the
    /// previous read (`None`: unknown, or never at these rates).
    catch_up: Option<f64>,
}

impl WatchRecord {
    const FIELDS: &'static [&'static str] = &[
        "tick",
        "read_at",
        "key",
        "exists",
        "status",
        "offset",
        "change",
        "rate",
        "idle_seconds",
        "updated_at",
        "head",
        "lag",
        "catch_up_seconds",
    ];

    /// Columns shown only when a partition has a head.
    const OPTIONAL: &'static [&'static str] = &["head", "lag", "catch_up_seconds"];

    /// A cursor that is not there at this read.
    fn gone(tick: u64, read_at: i64, key: String, status: &'static str) -> Self {
        Self {
            tick,
            read_at,
            key,
            status,
            offset: 0,
            change: None,
            rate: None,
            idle_ms: None,
            updated_at: None,
            head: None,
            catch_up: None,
        }
    }
}

impl Record for WatchRecord {
    fn fields(
        &self,
        visit: &mut dyn FnMut(&'static str, Field<'_>) -> io::Result<()>,
    ) -> io::Result<()> {
        visit("tick", Field::U64(self.tick))?;
        visit("read_at", Field::Time(Some(self.read_at)))?;
        visit("key", Field::Str(&self.key))?;
        visit("exists", Field::Bool(self.status == PRESENT))?;
        visit("status", Field::Str(self.status))?;
        visit("offset", Field::U64(self.offset))?;
        visit("change", Field::OptI64(self.change))?;
        let rate = self.rate.map(|r| format!("{r:.1}"));
        visit("rate", Field::OptNumber(rate.as_deref()))?;
        visit(
            "idle_seconds",
            Field::OptI64(self.idle_ms.map(|ms| ms / 1000)),
        )?;
        visit("updated_at", Field::Time(self.updated_at))?;
        visit("head", Field::OptU64(self.head))?;
        visit(
            "lag",
            Field::OptU64(cursorctl::heads::lag(self.offset, self.head)),
        )?;
        #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
        let catch_up = self.catch_up.map(|s| s.ceil() as u64);
        visit("catch_up_seconds", Field::OptU64(catch_up))
    }

    fn table_columns(&self) -> &'static [&'static str] {
        &[
            "key",
            "status",
            "offset",
            "head",
            "lag",
            "change",
            "rate",
            "catch_up_seconds",
            "idle_seconds",
            "updated_at",
        ]
    }

    fn value(&self) -> Field<'_> {
        Field::U64(self.offset)
    }
}

const PRESENT: &str = "present";
const ABSENT: &str = "absent";
const DELETED: &str = "deleted";

/// What the watch needs of `get`'s arguments.
pub struct Watch {
    pub interval: Duration,
    pub count: Option<u64>,
    /// Only this cursor (the listing is of its consumer and channel).
    pub only: Option<cursorctl::key::CursorKey>,
}

/// Re-read the listing every interval until `--count` reads or Ctrl-C
/// (which ends the watch with exit 0).
pub fn run(
    ctx: &Context,
    store: &dyn Store,
    filter: &CursorFilter,
    watch: &Watch,
) -> CliResult<()> {
    let interrupt = Interrupt::install()?;
    let redraw = ctx.global.output == Format::Table && io::stdout().is_terminal();
    let mut previous: HashMap<String, (u64, Option<u64>, Instant)> = HashMap::new();
    let mut tick = 0u64;
    loop {
        tick += 1;
        let now = store.clock_ms()?;
        let read_at = Instant::now();
        let mut rows = Vec::new();
        store.for_each_cursor_head(filter, |row| -> CliResult<()> {
            let row = row?;
            let head = row.head;
            let row = &row.cursor;
            let key = row.key();
            if watch
                .only
                .as_ref()
                .is_some_and(|only| only.to_string() != key)
            {
                return Ok(());
            }
            let (change, rate, catch_up) = match previous.get(&key) {
                Some((offset, old_head, at)) => {
                    let change = i64::try_from(row.offset)
                        .unwrap_or(i64::MAX)
                        .saturating_sub(i64::try_from(*offset).unwrap_or(i64::MAX));
                    let seconds = read_at.duration_since(*at).as_secs_f64();
                    #[allow(clippy::cast_precision_loss)]
                    let rate = (seconds > 0.0).then(|| change as f64 / seconds);
                    (
                        Some(change),
                        rate,
                        catch_up(row.offset, head, *old_head, rate, seconds),
                    )
                }
                None => (None, None, None),
            };
            rows.push(WatchRecord {
                tick,
                read_at: now,
                key,
                status: PRESENT,
                offset: row.offset,
                change,
                rate,
                idle_ms: row.updated_at.map(|t| now.saturating_sub(t).max(0)),
                updated_at: row.updated_at,
                head,
                catch_up,
            });
            Ok(())
        })?;
        // A cursor there at the previous read and gone now is shown once
        // as deleted; a cursor watched by its key that is not there is
        // shown as absent at every read.
        let seen: HashSet<&str> = rows.iter().map(|r| r.key.as_str()).collect();
        let mut deleted: Vec<String> = previous
            .keys()
            .filter(|k| !seen.contains(k.as_str()))
            .cloned()
            .collect();
        deleted.sort();
        let mut gone: Vec<WatchRecord> = deleted
            .into_iter()
            .map(|key| WatchRecord::gone(tick, now, key, DELETED))
            .collect();
        if let Some(only) = &watch.only {
            let key = only.to_string();
            if rows.is_empty() && gone.is_empty() {
                gone.push(WatchRecord::gone(tick, now, key, ABSENT));
            }
        }
        rows.extend(gone);
        previous = rows
            .iter()
            .filter(|r| r.status == PRESENT)
            .map(|r| (r.key.clone(), (r.offset, r.head, read_at)))
            .collect();
        if redraw {
            let mut out = io::stdout().lock();
            write!(out, "\x1b[H\x1b[2J")?;
            writeln!(
                out,
                "every {}s, read {tick} at {}; Ctrl-C to stop",
                watch.interval.as_secs_f64(),
                super::output::format_time(now)
            )?;
        }
        let mut printer = ctx
            .printer(Shape::List)
            .with_header(WatchRecord::FIELDS)
            .with_optional_columns(WatchRecord::OPTIONAL);
        for row in &rows {
            printer.record(row)?;
        }
        printer.finish()?;
        if watch.count.is_some_and(|n| tick >= n) {
            return Ok(());
        }
        // Sleep in small steps so that Ctrl-C ends the watch at once.
        let wake = Instant::now() + watch.interval;
        while Instant::now() < wake {
            if interrupt.received().is_some() {
                return Ok(());
            }
            std::thread::sleep(Duration::from_millis(50).min(watch.interval));
        }
        if interrupt.received().is_some() {
            return Ok(());
        }
    }
}

/// Seconds for a cursor at `offset` to reach `head`, when it moves at
/// `rate` offsets a second and the head grew from `old_head` over the last
/// `seconds`: the lag over the rate at which it shrinks. 0 without lag;
/// `None` without a head, a rate, or a lag that shrinks.
#[allow(clippy::cast_precision_loss)]
fn catch_up(
    offset: u64,
    head: Option<u64>,
    old_head: Option<u64>,
    rate: Option<f64>,
    seconds: f64,
) -> Option<f64> {
    let lag = cursorctl::heads::lag(offset, head)?;
    if lag == 0 {
        return Some(0.0);
    }
    let head_rate = match (head, old_head) {
        (Some(new), Some(old)) if seconds > 0.0 => new.saturating_sub(old) as f64 / seconds,
        _ => 0.0,
    };
    let closing = rate? - head_rate;
    (closing > 0.0).then(|| lag as f64 / closing)
}

#[cfg(test)]
mod tests {
    use super::catch_up;

    #[test]
    fn catch_up_is_the_lag_over_the_closing_rate() {
        assert_eq!(
            catch_up(100, Some(200), Some(200), Some(10.0), 1.0),
            Some(10.0)
        );
        // The head grows 5 a second: the lag shrinks by 5 a second.
        assert_eq!(
            catch_up(100, Some(200), Some(195), Some(10.0), 1.0),
            Some(20.0)
        );
        assert_eq!(catch_up(100, Some(200), Some(190), Some(10.0), 1.0), None);
        assert_eq!(catch_up(100, Some(200), Some(200), Some(0.0), 1.0), None);
        assert_eq!(catch_up(300, Some(200), None, None, 1.0), Some(0.0));
        assert_eq!(catch_up(100, None, None, Some(10.0), 1.0), None);
    }
}
