//! `set --from-file`: many cursors in one all-or-nothing transaction, and
//! the pieces batch writes share (failure lists, batch printing, progress).

use std::io::{self, IsTerminal};
use std::path::Path;

use cursorctl::key::CursorKey;
use cursorctl::store::{ChangeInput, DurableStore, Outcome, StoreExt, StoreRead, WriteTxn};
use cursorctl::{DurabilityError, StoreError};
use indicatif::ProgressBar;

use super::batch::{note_done, note_unwritten};
use super::error::{classify, committed_but_unprinted, ExitKind, Failure};
use super::input::{Entry, InputFormat, Line, LineReader};
use super::interrupt::Interrupt;
use super::output::Shape;
use super::records::{Status, CHANGE_FIELDS};
use super::Context;
use super::{progress, source};
use cursorctl::ops::batch::{visit_batch, BatchRun, Finished};
use cursorctl::ops::failures::Failures;
use cursorctl::ops::moves::{
    apply_in, expected_move, expected_move_failure, move_cursor, Audit, Move, Target,
};
use cursorctl::ops::ErrorKind;

/// What applies to every line of a bulk write.
pub struct Options<'a> {
    pub path: &'a Path,
    pub format: Option<InputFormat>,
    pub create: bool,
    /// With `create`: a look-alike of an existing consumer is created too.
    pub allow_confusable: bool,
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

/// The keys seen so far in one batch, with the line each first appeared on,
/// in memory that does not grow with the input.
///
/// While the keys come in ascending order (the order listings print them
/// in), a key can only repeat the one just before it, so that one is all
/// that is kept. From the first key out of order on, the keys go into the
/// store's set of seen keys (SQLite keeps it in a temporary table, outside
/// memory); the set is first filled with the keys of the lines already
/// read, read again from the input file. An input that cannot be read twice
/// (standard input, a pipe) uses the set from its first line.
struct SeenKeys<'a> {
    store: &'a dyn StoreRead,
    input: &'a Path,
    format: Option<InputFormat>,
    rereadable: bool,
    /// The last key while every key so far was above the one before.
    last: Option<(CursorKey, u64)>,
    set: Option<Box<dyn cursorctl::store::SeenKeySet + 'a>>,
}

impl<'a> SeenKeys<'a> {
    fn new(store: &'a dyn StoreRead, opts: &'a Options<'_>) -> Self {
        let rereadable =
            opts.path.as_os_str() != "-" && std::fs::metadata(opts.path).is_ok_and(|m| m.is_file());
        Self {
            store,
            input: opts.path,
            format: opts.format,
            rereadable,
            last: None,
            set: None,
        }
    }

    /// Record `key` on `line`; returns the line it was first seen on if it
    /// was seen before.
    fn first_line(&mut self, key: &CursorKey, line: u64) -> anyhow::Result<Option<u64>> {
        if self.set.is_none() {
            match &self.last {
                Some((last, first)) if key == last => return Ok(Some(*first)),
                Some((last, _)) if key < last => self.start_set(line)?,
                _ if self.rereadable => {
                    self.last = Some((key.clone(), line));
                    return Ok(None);
                }
                _ => self.start_set(line)?,
            }
        }
        let set = self.set.as_mut().expect("the set was just started");
        Ok(set.first_line(key, line)?)
    }

    /// Start the set, with the keys of the lines before `line`.
    fn start_set(&mut self, line: u64) -> anyhow::Result<()> {
        let mut set = self.store.seen_keys()?;
        if let Some((last, last_line)) = self.last.take() {
            let source = source::open(self.input, "--from-file", false)?;
            let mut lines = LineReader::new(source.reader, self.format);
            let mut found_last = false;
            while let Some((number, parsed)) = lines.next_line()? {
                if number >= line {
                    break;
                }
                if let Ok(entry) = parsed {
                    found_last |= number == last_line && entry.key == last;
                    set.first_line(&entry.key, number)?;
                }
            }
            if !found_last {
                return Err(Failure::usage(format!(
                    "the input {} changed while it was being read",
                    self.input.display()
                ))
                .into());
            }
        }
        self.set = Some(set);
        Ok(())
    }
}

/// A progress bar on stderr, only when stderr is a terminal.
pub struct Progress(Option<ProgressBar>);

impl Progress {
    pub fn new(ctx: &Context, total_bytes: Option<u64>) -> Self {
        if ctx.global.quiet || !io::stderr().is_terminal() {
            return Self(None);
        }
        // The bar runs over bytes read; its message counts lines.
        let bar = progress::bar(total_bytes, "set --from-file");
        Self(Some(bar))
    }

    pub fn update(&self, lines: u64, bytes: u64) {
        if let Some(bar) = &self.0 {
            if lines % 4096 == 0 {
                bar.set_position(bytes);
                bar.set_message(format!("{lines} lines"));
            }
        }
    }

    pub fn finish(&self) {
        if let Some(bar) = &self.0 {
            bar.finish_and_clear();
        }
    }
}

/// Print the change records of a batch, in order, from the history;
/// `unchanged` are the lines that changed nothing, with their positions
/// among the printed records. A dry run prints them from inside its
/// transaction, before the roll-back (`dry_run`): the same records, without
/// ids, as none was kept.
pub fn print_batch(
    ctx: &Context,
    store: &dyn StoreRead,
    batch: Option<i64>,
    unchanged: Vec<(u64, CursorKey, u64)>,
    dry_run: bool,
) -> anyhow::Result<()> {
    if ctx.global.quiet {
        return Ok(());
    }
    let mut printer = ctx.printer(Shape::List).with_header(CHANGE_FIELDS);
    visit_batch(
        store,
        batch,
        unchanged,
        dry_run,
        |change| -> anyhow::Result<()> { Ok(printer.record(change)?) },
    )?;
    printer.finish()?;
    Ok(())
}

/// Run `set --from-file` (a dry run: the same run, rolled back).
pub fn run(ctx: &Context, opts: &Options<'_>) -> anyhow::Result<()> {
    let outcome = Outcome::of_dry_run(opts.dry_run);
    // Stdin is read to its end before the write lock is taken: other
    // writers must not wait on input that trickles in.
    let mut source = source::open(opts.path, "--from-file", true)?;
    let size = source.size;
    let reader = std::mem::replace(&mut source.reader, Box::new(io::empty()));
    let mut lines = LineReader::new(reader, opts.format).named(source.name.clone());
    let progress = Progress::new(ctx, size);
    // Take the write lock only once there is something to write.
    let mut first = lines.next_line()?;
    if first.is_none() {
        progress.finish();
        note_unwritten(ctx, outcome, "the input holds no cursor lines");
        return Ok(());
    }
    let store = ctx.open_write()?;
    let user = Context::user();
    let mut total: u64;
    let mut kept = Vec::new();
    // From here on SIGINT and SIGTERM roll the transaction back.
    let interrupt = Interrupt::install()?;
    const ROLLED_BACK: &str = "the bulk write was rolled back; nothing was written";
    // A write the store aborted to keep transactions serializable, or one
    // that found a cursor moved by another writer since it read it (a line
    // without `expect`), runs again from the first line, while the input
    // can be read again and until the busy timeout.
    let deadline = std::time::Instant::now() + ctx.global.busy_timeout;
    let mut pause = std::time::Duration::from_millis(2);
    let mut reader = Some(lines);
    let mut runs = 0u32;
    let result = loop {
        runs += 1;
        let mut lines = match reader.take() {
            Some(lines) => lines,
            None => match source.reread()? {
                Some(again) => LineReader::new(again, opts.format).named(source.name.clone()),
                None => unreachable!("a write runs again only when its input can be read again"),
            },
        };
        total = 0;
        kept.clear();
        let attempt = store.write_once_deciding(|txn| -> anyhow::Result<(Finished, Outcome)> {
            let failures = Failures::new("line");
            let mut run = BatchRun::begin(txn, "set --from-file", opts.reason, &user, failures)?;
            let audit = Audit {
                command: "set",
                reason: opts.reason,
                user: &user,
                batch: None,
            };
            let mut seen = SeenKeys::new(txn, opts);
            let mut lookalikes = super::lookalike::Lookalikes::new(opts.allow_confusable);
            let mut chunk = Chunk::new(txn, source.again.is_some())?;
            loop {
                let next = match first.take() {
                    Some(line) => Some(line),
                    None => lines.next_line()?,
                };
                let Some((line_no, parsed)) = next else { break };
                total += 1;
                progress.update(total, lines.bytes_read());
                interrupt.check(ROLLED_BACK)?;
                if let (true, Ok(entry)) = (opts.create, &parsed) {
                    lookalikes.check(txn, entry.key.consumer().as_str(), Some(line_no))?;
                }
                chunk.lines.push((line_no, parsed));
                if chunk.lines.len() == chunk.size {
                    chunk.apply(ctx, opts, txn, &mut run, &audit, &mut seen, &mut kept)?;
                }
            }
            chunk.apply(ctx, opts, txn, &mut run, &audit, &mut seen, &mut kept)?;
            let finished = run.finish()?;
            interrupt.check(ROLLED_BACK)?;
            if let (Finished::Done(done), true) = (finished, outcome.is_dry_run()) {
                // The plan is read before the roll-back.
                progress.finish();
                print_batch(ctx, txn, Some(done.id), std::mem::take(&mut kept), true)?;
            }
            // A batch that changed nothing is never recorded.
            let end = match finished {
                Finished::Done(_) => outcome,
                Finished::Nothing { .. } => Outcome::RollBack,
            };
            Ok((finished, end))
        });
        match attempt {
            Err(e)
                if may_run_again(&e)
                    && source.again.is_some()
                    && std::time::Instant::now() < deadline =>
            {
                std::thread::sleep(pause);
                pause = (pause * 2).min(std::time::Duration::from_millis(100));
            }
            Err(e) if e.downcast_ref::<Raced>().is_some() => {
                break Err(Failure::new(
                    ExitKind::Busy,
                    format!(
                        "other writers kept moving cursors of this bulk write until the busy \
                         timeout ({}); nothing was written",
                        humantime::format_duration(ctx.global.busy_timeout)
                    ),
                )
                .into())
            }
            other => break other,
        }
    };
    progress.finish();
    if runs > 1 {
        ctx.note(&format!(
            "the bulk write ran {runs} times: other writers moved its cursors or the store \
             aborted it to keep transactions serializable; only the last run {}",
            if outcome.is_dry_run() {
                "was shown"
            } else {
                "committed"
            }
        ));
    }
    match result {
        Ok(Finished::Done(done)) => {
            if !outcome.is_dry_run() {
                print_batch(ctx, &*store, Some(done.id), kept, false).map_err(|e| {
                    committed_but_unprinted(
                        e,
                        &format!("batch {} ({} change(s))", done.id, done.changed),
                        ("batch", done.id),
                    )
                })?;
            }
            note_done(ctx, outcome, &done, "applied", "apply", "change(s)");
            Ok(())
        }
        Ok(Finished::Nothing { .. }) => {
            print_batch(ctx, &*store, None, kept, outcome.is_dry_run())?;
            note_unwritten(
                ctx,
                outcome,
                &format!("nothing changed: all {total} cursor(s) already hold their offsets"),
            );
            Ok(())
        }
        Err(e) => Err(e),
    }
}

/// A line without `expect` whose cursor another writer moved between the
/// read-ahead and the write: the whole write may run again.
#[derive(Debug)]
struct Raced;

impl std::fmt::Display for Raced {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("a cursor was moved by another writer during the bulk write")
    }
}

impl std::error::Error for Raced {}

/// Whether a bulk write that failed with `err` may run again: the store
/// aborted it to keep transactions serializable (or gave up a lock wait),
/// or another writer moved a cursor it read.
fn may_run_again(err: &anyhow::Error) -> bool {
    err.downcast_ref::<Raced>().is_some() || classify(err).0 == ExitKind::Busy
}

/// How many lines a bulk write reads ahead and writes as one set.
const CHUNK_LINES: usize = 8192;

/// The lines of a chunk for `store`: [`CHUNK_LINES`] where it reads many
/// cursors in one query, one where it reads each when needed.
fn chunk_lines(store: &dyn StoreRead) -> Result<usize, StoreError> {
    Ok(if store.capabilities().reads_ahead {
        CHUNK_LINES
    } else {
        1
    })
}

/// The lines of a chunk of a write through `txn`: [`CHUNK_LINES`] also
/// where the store reads each cursor when needed but writes many changes
/// as one set.
fn write_chunk_lines(txn: &dyn WriteTxn) -> Result<usize, StoreError> {
    if txn.capabilities().writes_changes_as_set {
        return Ok(CHUNK_LINES);
    }
    chunk_lines(txn)
}

/// Lines of a bulk write read but not yet applied.
struct Chunk {
    lines: Vec<Line>,
    /// Lines a chunk holds: [`CHUNK_LINES`] where the store reads cursors
    /// ahead or writes changes as one set, one otherwise (each line is then
    /// written as it is checked, as a single `set` is).
    size: usize,
    /// Whether the write can run again from the first line: a line without
    /// `expect` that finds its cursor moved since it was read ahead then
    /// ends this run (as [`Raced`]) instead of failing as stale.
    can_run_again: bool,
}

impl Chunk {
    fn new(txn: &dyn WriteTxn, can_run_again: bool) -> anyhow::Result<Self> {
        let size = write_chunk_lines(txn)?;
        Ok(Self {
            lines: Vec::with_capacity(size),
            size,
            can_run_again,
        })
    }

    /// Check every line of the chunk against the cursors read ahead for
    /// it, then write its changes as one set, while no line has failed.
    /// Each cursor appears once in a batch (a repeat is refused), so no
    /// line's check depends on another line's write.
    #[allow(clippy::too_many_arguments)]
    fn apply(
        &mut self,
        ctx: &Context,
        opts: &Options<'_>,
        txn: &dyn WriteTxn,
        run: &mut BatchRun<'_>,
        audit: &Audit<'_>,
        seen: &mut SeenKeys<'_>,
        kept: &mut Vec<(u64, CursorKey, u64)>,
    ) -> anyhow::Result<()> {
        let result = self.check_and_write(ctx, opts, txn, run, audit, seen, kept);
        self.lines.clear();
        result
    }

    #[allow(clippy::too_many_arguments)]
    fn check_and_write(
        &self,
        ctx: &Context,
        opts: &Options<'_>,
        txn: &dyn WriteTxn,
        run: &mut BatchRun<'_>,
        audit: &Audit<'_>,
        seen: &mut SeenKeys<'_>,
        kept: &mut Vec<(u64, CursorKey, u64)>,
    ) -> anyhow::Result<()> {
        let lines = &self.lines;
        // A move the compare-and-swap alone decides (see `expected_move`)
        // is not read, but checked when it is written. Every other line is
        // checked against the cursors read ahead, or, where the store reads
        // each cursor when needed but writes sets, against the cursor read
        // then.
        let sets = self.size > 1;
        let view = ReadAhead::load(txn, txn, lines, self.size, |entry| {
            !sets || expected_move(&opts.move_for(entry)).is_none()
        })?;
        // The changes are held back and written as one set. Before a line
        // that could fail, the unchecked ones are written, so that the
        // failures keep the order of the input.
        let mut changes = Changes::default();
        let batch = Some(run.id);
        for (line_no, parsed) in lines {
            let entry = match parsed {
                Ok(entry) => entry,
                Err(bad) => {
                    self.write_unchecked(txn, run, &mut changes)?;
                    run.refuse(*line_no, bad.key.as_deref(), ErrorKind::Usage, &bad.reason);
                    continue;
                }
            };
            if let Some(first) = seen.first_line(&entry.key, *line_no)? {
                self.write_unchecked(txn, run, &mut changes)?;
                let key = entry.key.to_string();
                let reason = duplicate_reason(&key, first);
                run.refuse(*line_no, Some(&key), ErrorKind::Usage, &reason);
                continue;
            }
            let m = opts.move_for(entry);
            let unchecked = (sets && !run.has_failed())
                .then(|| expected_move(&m))
                .flatten();
            if unchecked.is_none() {
                self.write_unchecked(txn, run, &mut changes)?;
            }
            let position = run.changed + run.unchanged;
            let held = &mut changes.held;
            let status = run.item(*line_no, Some(&entry.key), audit, |txn, in_batch| {
                // A store that neither reads ahead nor writes sets writes
                // each line as it is checked.
                if !sets {
                    return apply_in(txn, &m, in_batch).map(|r| Some(r.status));
                }
                let (old, new) = match unchecked {
                    Some((expect, new)) => (Some(expect), new),
                    None => move_cursor(&view, &m)?,
                };
                let status = Status::of(old, Some(new));
                if status != Status::Unchanged {
                    held.push(Held {
                        line: *line_no,
                        m: m.clone(),
                        checked: unchecked.is_none(),
                        change: ChangeInput {
                            key: &entry.key,
                            old_offset: old,
                            new_offset: Some(new),
                            command: audit.command,
                            reason: audit.reason,
                            user: audit.user,
                            batch,
                        },
                    });
                }
                Ok(Some(status))
            })?;
            changes.unchecked |= unchecked.is_some();
            if status == Some(Status::Unchanged) && !ctx.global.quiet {
                kept.push((position, entry.key.clone(), entry.offset));
            }
        }
        self.write(txn, run, &mut changes)
    }

    /// [`Chunk::write`] when some change held back is still unchecked.
    fn write_unchecked(
        &self,
        txn: &dyn WriteTxn,
        run: &mut BatchRun<'_>,
        changes: &mut Changes<'_>,
    ) -> anyhow::Result<()> {
        if changes.unchecked {
            self.write(txn, run, changes)?;
        }
        Ok(())
    }

    /// Write the changes held back as one set, while no line has failed,
    /// and list the lines whose cursor held something else.
    fn write(
        &self,
        txn: &dyn WriteTxn,
        run: &mut BatchRun<'_>,
        changes: &mut Changes<'_>,
    ) -> anyhow::Result<()> {
        let held = std::mem::take(&mut changes.held);
        changes.unchecked = false;
        if held.is_empty() {
            return Ok(());
        }
        let stale = if run.has_failed() {
            // Nothing will be written: check the unchecked ones.
            let mut stale = Vec::new();
            for (position, h) in held.iter().enumerate() {
                if !h.checked && txn.read_value_keyed(h.change.key)? != h.change.old_offset {
                    stale.push(position);
                }
            }
            stale
        } else {
            let inputs: Vec<ChangeInput<'_>> = held.iter().map(|h| h.change).collect();
            txn.apply_changes(&inputs)?
        };
        // A cursor read (ahead) and then found moved: another writer moved
        // it in between.
        let raced = |h: &Held<'_>| h.checked && h.m.expect.is_none();
        if self.can_run_again && stale.iter().any(|p| raced(&held[*p])) {
            return Err(Raced.into());
        }
        for position in stale {
            let Held {
                line,
                m,
                checked,
                change,
            } = &held[position];
            let actual = txn.read_value_keyed(change.key)?;
            let key = change.key.to_string();
            let expected = change.old_offset.unwrap_or(0);
            let err = if *checked {
                DurabilityError::StaleCheckpoint {
                    actual,
                    key: key.clone(),
                    expected,
                }
                .into()
            } else {
                expected_move_failure(m, expected, actual)
            };
            run.fail(*line, Some(&key), &err);
        }
        Ok(())
    }
}

/// The changes of a chunk not written yet.
#[derive(Default)]
struct Changes<'a> {
    held: Vec<Held<'a>>,
    /// Whether some are unchecked.
    unchecked: bool,
}

/// One change not written yet, with the line and the move it comes from.
struct Held<'a> {
    line: u64,
    m: Move<'a>,
    /// Checked against the cursor read (ahead); otherwise an
    /// [`expected_move`] that its write checks.
    checked: bool,
    change: ChangeInput<'a>,
}

/// The cursors of one chunk as read ahead (or, where the store reads each
/// when needed, the transaction itself), behind compare-and-swaps that
/// check and write nothing: the chunk's writes are made as one set after.
struct ReadAhead<'a> {
    txn: &'a dyn DurableStore,
    offsets: Option<std::collections::HashMap<String, Option<u64>>>,
}

impl<'a> ReadAhead<'a> {
    /// The view of `lines` (a chunk of `size`): the cursors of the lines
    /// `needs_read` picks read ahead through `reads` when the chunk holds
    /// more than one line; reads through `txn` otherwise, and for whatever
    /// was not read ahead.
    fn load(
        reads: &dyn StoreRead,
        txn: &'a dyn DurableStore,
        lines: &[Line],
        size: usize,
        needs_read: impl Fn(&Entry) -> bool,
    ) -> Result<Self, StoreError> {
        if size <= 1 || !reads.capabilities().reads_ahead {
            return Ok(Self { txn, offsets: None });
        }
        let keys: Vec<&CursorKey> = lines
            .iter()
            .filter_map(|(_, parsed)| parsed.as_ref().ok())
            .filter(|e| needs_read(e))
            .map(|e| &e.key)
            .collect();
        let found = reads.read_ahead(&keys)?;
        let offsets = Some(keys.iter().map(ToString::to_string).zip(found).collect());
        Ok(Self { txn, offsets })
    }
}

impl DurableStore for ReadAhead<'_> {
    fn read_value(&self, key: &str) -> Result<Option<u64>, DurabilityError> {
        match self.offsets.as_ref().and_then(|o| o.get(key)) {
            Some(offset) => Ok(*offset),
            None => self.txn.read_value(key),
        }
    }

    /// Check only: the chunk's changes are written as one set after.
    fn cas(&self, key: &str, expected: u64, _new: u64) -> Result<(), DurabilityError> {
        let actual = self.read_value(key)?;
        if actual.unwrap_or(0) != expected {
            return Err(DurabilityError::StaleCheckpoint {
                key: key.to_owned(),
                expected,
                actual,
            });
        }
        Ok(())
    }
}
