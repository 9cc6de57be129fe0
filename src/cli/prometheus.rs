//! `-o prometheus`: `get` listings and `status` in the Prometheus text
//! exposition format, for node_exporter's textfile collector.
//!
//! Every sample of a metric family must come together under its HELP and
//! TYPE lines, while the listing streams one cursor at a time: the first
//! family goes straight to stdout and the others to unnamed temporary
//! files, appended at the end, so memory does not grow with the store and
//! the store is read once.

use std::fs::File;
use std::io::{self, BufWriter, Seek, SeekFrom, Write};
use std::time::Duration;

use cursorctl::heads::CursorStatus;
use cursorctl::store::{CursorHeadRow, HeadFilter, StoreRead, StoreReadExt};

use super::error::{CliError, CliResult, OutputError};
use super::status::{visit_statuses, Selection, Tally};

/// One metric family: its name, type and help.
struct Family {
    name: &'static str,
    help: &'static str,
}

const OFFSET: Family = Family {
    name: "cursorctl_cursor_offset",
    help: "The cursor's offset: where its consumer resumes.",
};
const LAG: Family = Family {
    name: "cursorctl_cursor_lag",
    help: "Messages between the cursor and its partition's head (head - offset, never negative); absent when no head is known.",
};
const LAST_MOVE: Family = Family {
    name: "cursorctl_cursor_last_move_timestamp_seconds",
    help:
        "When the cursor was last written, in seconds since the Unix epoch, on the store's clock.",
};
const STATUS: Family = Family {
    name: "cursorctl_cursor_status",
    help:
        "The cursor's status (no-head, ahead, ok, behind, stalled): one series per cursor, value 1.",
};
const HEAD: Family = Family {
    name: "cursorctl_partition_head",
    help: "The partition's head: the offset the next message appended to it will get.",
};

fn family_header(out: &mut impl Write, family: &Family) -> io::Result<()> {
    writeln!(out, "# HELP {} {}", family.name, family.help)?;
    writeln!(out, "# TYPE {} gauge", family.name)
}

/// A label value escaped as the text format wants: backslash, double
/// quote and line feed.
pub fn escape_label(value: &str, out: &mut impl Write) -> io::Result<()> {
    if !value.contains(['\\', '"', '\n']) {
        return out.write_all(value.as_bytes());
    }
    for c in value.chars() {
        match c {
            '\\' => out.write_all(b"\\\\")?,
            '"' => out.write_all(b"\\\"")?,
            '\n' => out.write_all(b"\\n")?,
            c => write!(out, "{c}")?,
        }
    }
    Ok(())
}

/// `name{consumer="..",channel="..",partition=".."`, without the closing
/// brace (a status adds its label).
fn cursor_series(out: &mut impl Write, name: &str, row: &CursorHeadRow) -> io::Result<()> {
    let c = &row.cursor;
    write!(out, "{name}{{consumer=\"")?;
    escape_label(&c.consumer, out)?;
    out.write_all(b"\",channel=\"")?;
    escape_label(&c.channel, out)?;
    write!(out, "\",partition=\"{}\"", c.partition)
}

fn seconds(ms: i64) -> String {
    format!("{}.{:03}", ms.div_euclid(1000), ms.rem_euclid(1000))
}

/// A family written to a temporary file, appended to stdout at the end.
struct Spool(BufWriter<File>);

impl Spool {
    fn new(family: &Family) -> CliResult<Self> {
        let file = tempfile::tempfile()
            .map_err(|e| CliError::local("creating a temporary file for -o prometheus", e))?;
        let mut out = BufWriter::with_capacity(64 * 1024, file);
        family_header(&mut out, family)?;
        Ok(Self(out))
    }

    fn append_to(self, out: &mut impl Write) -> CliResult<()> {
        let mut file = self
            .0
            .into_inner()
            .map_err(|e| CliError::local("writing a temporary file", e.into_error()))?;
        file.seek(SeekFrom::Start(0))?;
        io::copy(&mut file, out).map_err(OutputError)?;
        Ok(())
    }
}

/// Write the cursors of `selection` (and the heads of `heads`) as
/// Prometheus metrics on stdout; the statuses are judged at `now` with
/// `stall_after`. A cursor deleted since the last run is simply absent.
pub fn write(
    view: &dyn StoreRead,
    selection: &Selection,
    heads: &HeadFilter,
    now: i64,
    stall_after: Duration,
) -> CliResult<Tally> {
    let stdout = io::stdout();
    let mut out = BufWriter::with_capacity(64 * 1024, stdout.lock());
    family_header(&mut out, &OFFSET).map_err(OutputError)?;
    let mut lag = Spool::new(&LAG)?;
    let mut last_move = Spool::new(&LAST_MOVE)?;
    let mut status = Spool::new(&STATUS)?;
    let tally = visit_statuses(view, selection, now, stall_after, |row, s| {
        cursor_series(&mut out, OFFSET.name, row).map_err(OutputError)?;
        writeln!(out, "}} {}", row.cursor.offset).map_err(OutputError)?;
        if let Some(l) = row.lag() {
            cursor_series(&mut lag.0, LAG.name, row)?;
            writeln!(lag.0, "}} {l}")?;
        }
        if let Some(at) = row.cursor.updated_at {
            cursor_series(&mut last_move.0, LAST_MOVE.name, row)?;
            writeln!(last_move.0, "}} {}", seconds(at))?;
        }
        cursor_series(&mut status.0, STATUS.name, row)?;
        writeln!(status.0, ",status=\"{}\"}} 1", CursorStatus::as_str(s))?;
        Ok(())
    })?;
    lag.append_to(&mut out)?;
    last_move.append_to(&mut out)?;
    status.append_to(&mut out)?;
    family_header(&mut out, &HEAD).map_err(OutputError)?;
    view.for_each_head(heads, |h| -> CliResult<()> {
        out.write_all(HEAD.name.as_bytes()).map_err(OutputError)?;
        out.write_all(b"{channel=\"").map_err(OutputError)?;
        escape_label(&h.channel, &mut out).map_err(OutputError)?;
        writeln!(out, "\",partition=\"{}\"}} {}", h.partition, h.head).map_err(OutputError)?;
        Ok(())
    })?;
    out.flush().map_err(OutputError)?;
    Ok(tally)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn label_values_are_escaped() {
        let mut out = Vec::new();
        escape_label("a\\b\"c\nd", &mut out).unwrap();
        assert_eq!(String::from_utf8(out).unwrap(), "a\\\\b\\\"c\\nd");
    }

    #[test]
    fn seconds_keep_milliseconds() {
        assert_eq!(seconds(1_700_000_000_123), "1700000000.123");
        assert_eq!(seconds(5), "0.005");
    }
}
