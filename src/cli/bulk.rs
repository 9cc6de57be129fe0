//! `set --from-file`: many cursors in one all-or-nothing transaction, and
//! the pieces batch writes share (failure lists, batch printing, progress).

use std::fs::File;
use std::io::{self, BufRead, BufReader, IsTerminal};
use std::path::Path;

use cursorctl::key::CursorKey;
use cursorctl::store::sqlite::{HistoryFilter, SqliteStore};
use cursorctl::store::{DryRun, DurableStore};
use cursorctl::{DurabilityError, StoreError};
use indicatif::{ProgressBar, ProgressStyle};
use rusqlite::{params, Connection};
use serde_json::json;

use super::change::{apply_in, move_cursor, Audit, Move, Target};
use super::error::{classify, ExitKind, Failure};
use super::input::{Entry, InputFormat, LineReader};
use super::interrupt::Interrupt;
use super::output::Shape;
use super::records::{ChangeRecord, PlanRecord, Status};
use super::Context;

/// How many failing lines an error lists; the total is always given.
const SHOWN_FAILURES: usize = 100;

/// What applies to every line of a bulk write.
pub struct Options<'a> {
    pub path: &'a Path,
    pub format: Option<InputFormat>,
    pub create: bool,
    pub allow_rewind: bool,
    pub reason: Option<&'a str>,
    pub dry_run: bool,
}

impl Options<'_> {
    /// The move one input line asks for, with the options every line shares.
    fn move_for<'e>(&self, entry: &'e Entry) -> Move<'e> {
        Move {
            key: &entry.key,
            target: Target::To(entry.offset),
            expect: entry.expect,
            create: self.create,
            allow_rewind: self.allow_rewind,
        }
    }
}

/// Why a line that repeats a cursor is refused.
fn duplicate_reason(key: &str, first: u64) -> String {
    format!("cursor {key} appears twice in the input: first on line {first}")
}

/// The failing items of a batch (input lines, or changes to undo): the
/// first few in full, and how many in all.
pub struct Failures {
    label: &'static str,
    stale_hint: Option<&'static str>,
    total: u64,
    first_kind: Option<ExitKind>,
    shown: Vec<serde_json::Value>,
    text: String,
}

impl Failures {
    pub const fn new(label: &'static str) -> Self {
        Self {
            label,
            stale_hint: None,
            total: 0,
            first_kind: None,
            shown: Vec::new(),
            text: String::new(),
        }
    }

    /// What to suggest when the first failure is a stale cursor.
    pub const fn with_stale_hint(mut self, hint: &'static str) -> Self {
        self.stale_hint = Some(hint);
        self
    }

    pub const fn is_empty(&self) -> bool {
        self.total == 0
    }

    pub fn add(&mut self, number: u64, key: Option<&str>, kind: ExitKind, reason: &str) {
        self.total += 1;
        self.first_kind.get_or_insert(kind);
        if self.shown.len() < SHOWN_FAILURES {
            self.shown.push(json!({
                self.label: number,
                "key": key,
                "kind": kind.name(),
                "code": kind.code(),
                "reason": reason,
            }));
            let label = self.label;
            self.text.push_str(&match key {
                Some(k) => format!("\n  {label} {number}: {k}: {reason}"),
                None => format!("\n  {label} {number}: {reason}"),
            });
        }
    }

    /// The error for the whole batch: exit code of the first failure, every
    /// shown failure in the message and in the JSON details.
    pub fn into_error(self, of: u64, written: &str) -> anyhow::Error {
        let kind = self.first_kind.unwrap_or(ExitKind::Internal);
        let label = self.label;
        let mut message = format!(
            "{} of {of} {label}s fail; {written}:{}",
            self.total, self.text
        );
        let hidden = self.total - self.shown.len() as u64;
        if hidden > 0 {
            message.push_str(&format!("\n  ... and {hidden} more failing {label}s"));
        }
        let mut failure = Failure::new(kind, message)
            .with("failed", self.total)
            .with("failures", self.shown);
        if let (ExitKind::Stale, Some(hint)) = (kind, self.stale_hint) {
            failure = failure.with_hint(hint);
        }
        failure.into()
    }
}

/// Whether an error is about one line (and the batch goes on being checked)
/// rather than about the store as a whole (and the batch stops).
pub fn is_item_failure(err: &anyhow::Error) -> bool {
    let invalid_value = err.chain().any(|c| {
        matches!(
            c.downcast_ref::<StoreError>(),
            Some(StoreError::InvalidValue { .. })
        ) || matches!(
            c.downcast_ref::<DurabilityError>(),
            Some(DurabilityError::Store(StoreError::InvalidValue { .. }))
        )
    });
    match classify(err).0 {
        ExitKind::Store => invalid_value,
        ExitKind::Busy | ExitKind::Internal => false,
        _ => true,
    }
}

/// The plan status of a failure.
pub fn failure_status(kind: ExitKind) -> &'static str {
    match kind {
        ExitKind::Usage => "invalid",
        other => other.name(),
    }
}

/// The keys seen so far in one batch, with the line each first appeared on,
/// in memory that does not grow with the input.
///
/// While the keys come in ascending order (the order listings print them
/// in), a key can only repeat the one just before it, so that one is all
/// that is kept. From the first key out of order on, the keys go into a
/// temporary table of the store's connection, which SQLite keeps in a
/// temporary file behind its own small page cache; the table is first filled
/// with the keys of the lines already read, read again from the input file.
/// An input that cannot be read twice (standard input, a pipe) uses the
/// table from its first line.
struct SeenKeys<'a> {
    conn: &'a Connection,
    input: &'a Path,
    format: Option<InputFormat>,
    rereadable: bool,
    /// The last key while every key so far was above the one before.
    last: Option<(CursorKey, u64)>,
    in_table: bool,
}

/// The temporary table of seen keys (a name no store table has, since a
/// temporary table hides a main table of the same name).
const CREATE_SEEN: &str = "
CREATE TEMP TABLE IF NOT EXISTS cursorctl_seen_keys (
    consumer  TEXT    NOT NULL,
    channel   TEXT    NOT NULL,
    partition INTEGER NOT NULL,
    line      INTEGER NOT NULL,
    PRIMARY KEY (consumer, channel, partition)
) WITHOUT ROWID;
DELETE FROM temp.cursorctl_seen_keys;";
const INSERT_SEEN: &str =
    "INSERT INTO temp.cursorctl_seen_keys VALUES (?1, ?2, ?3, ?4) ON CONFLICT DO NOTHING";
const SELECT_SEEN: &str = "SELECT line FROM temp.cursorctl_seen_keys \
     WHERE consumer = ?1 AND channel = ?2 AND partition = ?3";

fn seen_err(source: rusqlite::Error) -> StoreError {
    StoreError::Database {
        context: "keeping the keys seen in the input".to_owned(),
        source,
    }
}

impl<'a> SeenKeys<'a> {
    fn new(conn: &'a Connection, opts: &'a Options<'_>) -> Self {
        let rereadable =
            opts.path.as_os_str() != "-" && std::fs::metadata(opts.path).is_ok_and(|m| m.is_file());
        Self {
            conn,
            input: opts.path,
            format: opts.format,
            rereadable,
            last: None,
            in_table: false,
        }
    }

    /// Record `key` on `line`; returns the line it was first seen on if it
    /// was seen before.
    fn first_line(&mut self, key: &CursorKey, line: u64) -> anyhow::Result<Option<u64>> {
        if !self.in_table {
            match &self.last {
                Some((last, first)) if key == last => return Ok(Some(*first)),
                Some((last, _)) if key < last => self.start_table(line)?,
                _ if self.rereadable => {
                    self.last = Some((key.clone(), line));
                    return Ok(None);
                }
                _ => self.start_table(line)?,
            }
        }
        self.insert(key, line)
    }

    /// Create the table, with the keys of the lines before `line`.
    fn start_table(&mut self, line: u64) -> anyhow::Result<()> {
        self.conn.execute_batch(CREATE_SEEN).map_err(seen_err)?;
        self.in_table = true;
        let Some((last, last_line)) = self.last.take() else {
            return Ok(());
        };
        let (reader, _) = open_input(self.input)?;
        let mut lines = LineReader::new(reader, self.format);
        let mut found_last = false;
        while let Some((number, parsed)) = lines.next_line()? {
            if number >= line {
                break;
            }
            if let Ok(entry) = parsed {
                found_last |= number == last_line && entry.key == last;
                self.insert(&entry.key, number)?;
            }
        }
        if !found_last {
            return Err(Failure::usage(format!(
                "the input {} changed while it was being read",
                self.input.display()
            ))
            .into());
        }
        Ok(())
    }

    fn insert(&self, key: &CursorKey, line: u64) -> anyhow::Result<Option<u64>> {
        let pk = key.partition_key();
        let key_params = params![key.consumer().as_str(), pk.channel().as_str(), pk.index()];
        let added = self
            .conn
            .prepare_cached(INSERT_SEEN)
            .and_then(|mut s| {
                s.execute(params![
                    key.consumer().as_str(),
                    pk.channel().as_str(),
                    pk.index(),
                    line
                ])
            })
            .map_err(seen_err)?;
        if added == 1 {
            return Ok(None);
        }
        let first = self
            .conn
            .prepare_cached(SELECT_SEEN)
            .and_then(|mut s| s.query_row(key_params, |r| r.get(0)))
            .map_err(seen_err)?;
        Ok(Some(first))
    }
}

/// A progress bar on stderr, only when stderr is a terminal.
pub struct Progress(Option<ProgressBar>);

impl Progress {
    pub fn new(ctx: &Context, total_bytes: Option<u64>) -> Self {
        if ctx.global.quiet || !io::stderr().is_terminal() {
            return Self(None);
        }
        let bar = match total_bytes {
            Some(n) => ProgressBar::new(n).with_style(
                ProgressStyle::with_template("{bar:40} {percent:>3}% {msg} lines, {elapsed}")
                    .unwrap_or_else(|_| ProgressStyle::default_bar()),
            ),
            None => ProgressBar::new_spinner().with_style(
                ProgressStyle::with_template("{spinner} {msg} lines, {elapsed}")
                    .unwrap_or_else(|_| ProgressStyle::default_spinner()),
            ),
        };
        Self(Some(bar))
    }

    pub fn update(&self, lines: u64, bytes: u64) {
        if let Some(bar) = &self.0 {
            if lines % 4096 == 0 {
                bar.set_position(bytes);
                bar.set_message(lines.to_string());
            }
        }
    }

    pub fn finish(&self) {
        if let Some(bar) = &self.0 {
            bar.finish_and_clear();
        }
    }
}

/// Print the change records of a committed batch, in order, from the
/// history; `unchanged` are the lines that changed nothing, with their
/// positions among the printed records.
pub fn print_batch(
    ctx: &Context,
    store: &SqliteStore,
    batch: Option<i64>,
    unchanged: Vec<(u64, CursorKey, u64)>,
) -> anyhow::Result<()> {
    if ctx.global.quiet {
        return Ok(());
    }
    let mut printer = ctx.printer(Shape::List);
    let mut pending = unchanged.into_iter().peekable();
    let mut position = 0;
    let mut print_unchanged_up_to = |printer: &mut super::output::Printer,
                                     position: &mut u64,
                                     last: bool|
     -> io::Result<()> {
        while let Some((_, key, offset)) = pending.next_if(|(at, _, _)| last || *at == *position) {
            printer.record(&ChangeRecord {
                id: None,
                key,
                old_offset: Some(offset),
                new_offset: Some(offset),
                status: Status::Unchanged,
                dry_run: false,
            })?;
            *position += 1;
        }
        Ok(())
    };
    if let Some(batch) = batch {
        let filter = HistoryFilter {
            batch: Some(batch),
            ..HistoryFilter::default()
        };
        store.for_each_change(&filter, |row| -> anyhow::Result<()> {
            print_unchanged_up_to(&mut printer, &mut position, false)?;
            printer.record(&ChangeRecord::from_history(row)?)?;
            position += 1;
            Ok(())
        })?;
    }
    print_unchanged_up_to(&mut printer, &mut position, true)?;
    printer.finish()?;
    Ok(())
}

fn open_input(path: &Path) -> anyhow::Result<(Box<dyn BufRead>, Option<u64>)> {
    const BUFFER: usize = 1 << 20;
    if path.as_os_str() == "-" {
        return Ok((
            Box::new(BufReader::with_capacity(BUFFER, io::stdin().lock())),
            None,
        ));
    }
    let file = File::open(path)
        .map_err(|e| Failure::usage(format!("cannot read the input {}: {e}", path.display())))?;
    let size = file.metadata().ok().map(|m| m.len());
    Ok((Box::new(BufReader::with_capacity(BUFFER, file)), size))
}

/// Why a write transaction ended without committing although nothing
/// failed: every line left its cursor as it was.
#[derive(Debug, thiserror::Error)]
#[error("nothing changed")]
struct NothingChanged;

/// What a committed bulk write did.
struct Applied {
    batch: i64,
    changed: u64,
    unchanged: u64,
}

/// Run `set --from-file`.
pub fn run(ctx: &Context, opts: &Options<'_>) -> anyhow::Result<()> {
    let (reader, size) = open_input(opts.path)?;
    let mut lines = LineReader::new(reader, opts.format);
    let progress = Progress::new(ctx, size);
    if opts.dry_run {
        let result = plan(ctx, opts, &mut lines, &progress);
        progress.finish();
        return result;
    }
    // Take the write lock only once there is something to write.
    let mut first = lines.next_line()?;
    if first.is_none() {
        progress.finish();
        ctx.note("the input holds no cursor lines; nothing was written");
        return Ok(());
    }
    let store = ctx.open_write()?;
    let user = Context::user();
    let mut total = 0u64;
    let mut kept = Vec::new();
    // From here on SIGINT and SIGTERM roll the transaction back.
    let interrupt = Interrupt::install()?;
    const ROLLED_BACK: &str = "the bulk write was rolled back; nothing was written";
    let result = store.write(|txn| -> anyhow::Result<Applied> {
        let batch = txn.new_batch("set --from-file", opts.reason, &user)?;
        let audit = Audit {
            command: "set",
            reason: opts.reason,
            user: &user,
            batch: Some(batch),
        };
        let mut seen = SeenKeys::new(txn.connection(), opts);
        let mut failures = Failures::new("line");
        let (mut changed, mut unchanged) = (0u64, 0u64);
        loop {
            let next = match first.take() {
                Some(line) => Some(line),
                None => lines.next_line()?,
            };
            let Some((line_no, parsed)) = next else { break };
            total += 1;
            progress.update(total, lines.bytes_read());
            interrupt.check(ROLLED_BACK)?;
            let entry = match parsed {
                Ok(entry) => entry,
                Err(bad) => {
                    failures.add(line_no, bad.key.as_deref(), ExitKind::Usage, &bad.reason);
                    continue;
                }
            };
            if let Some(first) = seen.first_line(&entry.key, line_no)? {
                let key = entry.key.to_string();
                let reason = duplicate_reason(&key, first);
                failures.add(line_no, Some(&key), ExitKind::Usage, &reason);
                continue;
            }
            let m = opts.move_for(&entry);
            // After a failure nothing will be committed: keep checking the
            // remaining lines, but through a view that writes nothing.
            let outcome = if failures.is_empty() {
                apply_in(txn, &m, &audit).map(|r| Some(r.status))
            } else {
                move_cursor(&DryRun::new(txn), &m).map(|_| None)
            };
            match outcome {
                Ok(Some(Status::Unchanged)) => {
                    if !ctx.global.quiet {
                        kept.push((changed + unchanged, entry.key, entry.offset));
                    }
                    unchanged += 1;
                }
                Ok(Some(_)) => changed += 1,
                Ok(None) => {}
                Err(e) if is_item_failure(&e) => {
                    let kind = classify(&e).0;
                    failures.add(
                        line_no,
                        Some(&entry.key.to_string()),
                        kind,
                        &format!("{e:#}"),
                    );
                }
                Err(e) => return Err(e),
            }
        }
        if !failures.is_empty() {
            return Err(failures.into_error(total, "nothing was written"));
        }
        if changed == 0 {
            return Err(NothingChanged.into());
        }
        interrupt.check(ROLLED_BACK)?;
        Ok(Applied {
            batch,
            changed,
            unchanged,
        })
    });
    progress.finish();
    match result {
        Ok(applied) => {
            print_batch(ctx, &store, Some(applied.batch), kept)?;
            ctx.note(&format!(
                "applied {} change(s), {} unchanged, in batch {} (undo with `cursorctl undo --batch {}`)",
                applied.changed, applied.unchanged, applied.batch, applied.batch
            ));
            Ok(())
        }
        Err(e) if e.downcast_ref::<NothingChanged>().is_some() => {
            print_batch(ctx, &store, None, kept)?;
            ctx.note(&format!(
                "nothing changed: all {total} cursor(s) already hold their offsets; nothing was written"
            ));
            Ok(())
        }
        Err(e) => Err(e),
    }
}

/// `--dry-run`: check every line against the store through a view that
/// writes nothing, print the plan, and fail as the write would.
fn plan(
    ctx: &Context,
    opts: &Options<'_>,
    lines: &mut LineReader<Box<dyn BufRead>>,
    progress: &Progress,
) -> anyhow::Result<()> {
    let store = ctx.open_read()?;
    store.snapshot(|store| plan_in(ctx, opts, lines, progress, store))
}

fn plan_in(
    ctx: &Context,
    opts: &Options<'_>,
    lines: &mut LineReader<Box<dyn BufRead>>,
    progress: &Progress,
    store: &SqliteStore,
) -> anyhow::Result<()> {
    let mut printer = (!ctx.global.quiet).then(|| ctx.printer(Shape::List));
    let mut seen = SeenKeys::new(store.connection(), opts);
    let mut failures = Failures::new("line");
    let (mut total, mut changed, mut unchanged) = (0u64, 0u64, 0u64);
    while let Some((line_no, parsed)) = lines.next_line()? {
        total += 1;
        progress.update(total, lines.bytes_read());
        let mut row = PlanRecord {
            source: ("line", line_no),
            key: None,
            old_offset: None,
            new_offset: None,
            status: "invalid",
            reason: None,
        };
        match parsed {
            Err(bad) => {
                failures.add(line_no, bad.key.as_deref(), ExitKind::Usage, &bad.reason);
                row.key = bad.key;
                row.reason = Some(bad.reason);
            }
            Ok(entry) => {
                let key = entry.key.to_string();
                row.new_offset = Some(entry.offset);
                if let Some(first) = seen.first_line(&entry.key, line_no)? {
                    let reason = duplicate_reason(&key, first);
                    failures.add(line_no, Some(&key), ExitKind::Usage, &reason);
                    row.reason = Some(reason);
                } else {
                    let m = opts.move_for(&entry);
                    match move_cursor(&DryRun::new(store), &m) {
                        Ok((old, new)) => {
                            let status = Status::of(old, Some(new));
                            if status == Status::Unchanged {
                                unchanged += 1;
                            } else {
                                changed += 1;
                            }
                            row.old_offset = old;
                            row.status = status.as_str();
                        }
                        Err(e) if is_item_failure(&e) => {
                            let kind = classify(&e).0;
                            let reason = format!("{e:#}");
                            failures.add(line_no, Some(&key), kind, &reason);
                            row.old_offset = store.read_value(&key).ok().flatten();
                            row.status = failure_status(kind);
                            row.reason = Some(reason);
                        }
                        Err(e) => return Err(e),
                    }
                }
                row.key = Some(key);
            }
        }
        if let Some(p) = printer.as_mut() {
            p.record(&row)?;
        }
    }
    if let Some(p) = printer {
        p.finish()?;
    }
    progress.finish();
    if total == 0 {
        ctx.note("dry run: the input holds no cursor lines; nothing would be written");
        return Ok(());
    }
    if !failures.is_empty() {
        return Err(failures.into_error(total, "the write would be refused and nothing written"));
    }
    ctx.note(&format!(
        "dry run: {changed} change(s), {unchanged} unchanged would be applied; nothing was written"
    ));
    Ok(())
}
