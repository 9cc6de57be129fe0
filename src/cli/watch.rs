//! `cursorctl get --watch`: re-read a listing every interval and show how
//! each cursor moves.

use std::collections::{HashMap, HashSet};
use std::io::{self, IsTerminal, Write};
use std::time::{Duration, Instant};

use cursorctl::store::{CursorFilter, Store, StoreReadExt};

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
    /// Offsets per second since the previous read, one decimal.
    rate: Option<String>,
    /// Milliseconds since the cursor was last written, on the store's clock.
    idle_ms: Option<i64>,
    updated_at: Option<i64>,
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
    ];

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
        visit("rate", Field::OptNumber(self.rate.as_deref()))?;
        visit(
            "idle_seconds",
            Field::OptI64(self.idle_ms.map(|ms| ms / 1000)),
        )?;
        visit("updated_at", Field::Time(self.updated_at))
    }

    fn table_columns(&self) -> &'static [&'static str] {
        &[
            "key",
            "status",
            "offset",
            "change",
            "rate",
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
) -> anyhow::Result<()> {
    let interrupt = Interrupt::install()?;
    let redraw = ctx.global.output == Format::Table && io::stdout().is_terminal();
    let mut previous: HashMap<String, (u64, Instant)> = HashMap::new();
    let mut tick = 0u64;
    loop {
        tick += 1;
        let now = store.clock_ms()?;
        let read_at = Instant::now();
        let mut rows = Vec::new();
        store.for_each_cursor(filter, |row| -> anyhow::Result<()> {
            let row = row?;
            let key = row.key();
            if watch
                .only
                .as_ref()
                .is_some_and(|only| only.to_string() != key)
            {
                return Ok(());
            }
            let (change, rate) = match previous.get(&key) {
                Some((offset, at)) => {
                    let change = i64::try_from(row.offset)
                        .unwrap_or(i64::MAX)
                        .saturating_sub(i64::try_from(*offset).unwrap_or(i64::MAX));
                    let seconds = read_at.duration_since(*at).as_secs_f64();
                    #[allow(clippy::cast_precision_loss)]
                    let rate = (seconds > 0.0).then(|| format!("{:.1}", change as f64 / seconds));
                    (Some(change), rate)
                }
                None => (None, None),
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
            .map(|r| (r.key.clone(), (r.offset, read_at)))
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
        let mut printer = ctx.printer(Shape::List).with_header(WatchRecord::FIELDS);
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
