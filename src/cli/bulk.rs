//! `set --from-file` from the command line: the input opened and read
//! (formats in `input`), progress, interruption and look-alike checks as
//! the lines go by, and the changes printed. The write itself -- chunks,
//! checks, read-ahead, retries -- is the library's (`ops::bulk`).

use std::io::{self, IsTerminal};
use std::path::Path;

use cursorctl::key::CursorKey;
use cursorctl::ops::batch::{visit_batch, Done, Finished};
use cursorctl::ops::bulk::{self, BulkHooks, BulkInput, BulkSet, BulkSource, Unchanged};
use cursorctl::ops::OpResult;
use cursorctl::store::{Outcome, StoreRead};
use indicatif::ProgressBar;

use super::batch::{note_done, note_unwritten};
use super::error::{committed_but_unprinted, CliError, CliResult};
use super::input::{InputFormat, Line, LineReader};
use super::interrupt::Interrupt;
use super::lookalike::Lookalikes;
use super::output::Shape;
use super::records::CHANGE_FIELDS;
use super::source::{self, Source};
use super::{progress, Context};

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
) -> CliResult<()> {
    if ctx.global.quiet {
        return Ok(());
    }
    let mut printer = ctx.printer(Shape::List).with_header(CHANGE_FIELDS);
    visit_batch(
        store,
        batch,
        unchanged,
        dry_run,
        |change| -> CliResult<()> { Ok(printer.record(change)?) },
    )?;
    printer.finish()?;
    Ok(())
}

/// The input's lines as the library reads them, the first one (read
/// before the store is opened) given back first.
struct Reader {
    first: Option<Line>,
    lines: LineReader<Box<dyn io::BufRead>>,
}

fn entry_line((number, parsed): Line) -> bulk::Line {
    (
        number,
        parsed.map(|e| bulk::Entry {
            key: e.key,
            offset: e.offset,
            expect: e.expect,
        }),
    )
}

impl BulkInput for Reader {
    fn next_line(&mut self) -> OpResult<Option<bulk::Line>> {
        let line = match self.first.take() {
            Some(line) => Some(line),
            None => self.lines.next_line()?,
        };
        Ok(line.map(entry_line))
    }

    fn bytes_read(&self) -> u64 {
        self.lines.bytes_read()
    }
}

/// The input, read again from its start when it can be.
struct Input<'a> {
    source: &'a Source,
    opts: &'a Options<'a>,
}

impl Input<'_> {
    fn reader(&self, from: Box<dyn io::BufRead>) -> Box<dyn BulkInput> {
        Box::new(Reader {
            first: None,
            lines: LineReader::new(from, self.opts.format).named(self.source.name.clone()),
        })
    }
}

impl BulkSource for Input<'_> {
    fn again(&self) -> OpResult<Option<Box<dyn BulkInput>>> {
        Ok(self.source.reread()?.map(|r| self.reader(r)))
    }

    fn beside(&self) -> OpResult<Option<Box<dyn BulkInput>>> {
        if !self.can_read_beside() {
            return Ok(None);
        }
        let again = source::open(self.opts.path, "--from-file", false)?;
        Ok(Some(self.reader(again.reader)))
    }

    fn can_run_again(&self) -> bool {
        self.source.again.is_some()
    }

    /// A regular file, opened again with a position of its own.
    fn can_read_beside(&self) -> bool {
        self.opts.path.as_os_str() != "-"
            && std::fs::metadata(self.opts.path).is_ok_and(|m| m.is_file())
    }
}

/// Progress, interruption and look-alike consumers as the lines go by;
/// a dry run's plan printed.
struct Hooks<'a> {
    ctx: &'a Context,
    opts: &'a Options<'a>,
    progress: &'a Progress,
    interrupt: Interrupt,
    lookalikes: Lookalikes,
}

const ROLLED_BACK: &str = "the bulk write was rolled back; nothing was written";

impl BulkHooks for Hooks<'_> {
    type Error = CliError;

    fn line(
        &mut self,
        view: &dyn StoreRead,
        line: u64,
        entry: Option<&bulk::Entry>,
        lines: u64,
        bytes: u64,
    ) -> CliResult<()> {
        self.progress.update(lines, bytes);
        self.interrupt.check(ROLLED_BACK)?;
        if let (true, Some(entry)) = (self.opts.create, entry) {
            let consumer = entry.key.consumer().as_str();
            self.lookalikes.check(view, consumer, Some(line))?;
        }
        Ok(())
    }

    fn before_end(&mut self) -> CliResult<()> {
        self.interrupt.check(ROLLED_BACK)
    }

    fn plan(
        &mut self,
        view: &dyn StoreRead,
        done: &Done,
        unchanged: Vec<Unchanged>,
    ) -> CliResult<()> {
        self.progress.finish();
        print_batch(self.ctx, view, Some(done.id), unchanged, true)
    }
}

/// Run `set --from-file` (a dry run: the same run, rolled back).
pub fn run(ctx: &Context, opts: &Options<'_>) -> CliResult<()> {
    let outcome = Outcome::of_dry_run(opts.dry_run);
    // Stdin is read to its end before the write lock is taken: other
    // writers must not wait on input that trickles in.
    let mut source = source::open(opts.path, "--from-file", true)?;
    let reader = std::mem::replace(&mut source.reader, Box::new(io::empty()));
    let mut lines = LineReader::new(reader, opts.format).named(source.name.clone());
    let progress = Progress::new(ctx, source.size);
    // Take the write lock only once there is something to write.
    let first = lines.next_line()?;
    if first.is_none() {
        progress.finish();
        note_unwritten(ctx, outcome, "the input holds no cursor lines");
        return Ok(());
    }
    let store = ctx.open_write()?;
    let user = Context::user();
    let set = BulkSet {
        create: opts.create,
        allow_rewind: opts.allow_rewind,
        reason: opts.reason,
        user: &user,
        outcome,
        keep_unchanged: !ctx.global.quiet,
    };
    let input = Input {
        source: &source,
        opts,
    };
    // From here on SIGINT and SIGTERM roll the transaction back.
    let mut hooks = Hooks {
        ctx,
        opts,
        progress: &progress,
        interrupt: Interrupt::install()?,
        lookalikes: Lookalikes::new(opts.allow_confusable),
    };
    let result = bulk::run(
        &*store,
        &set,
        Box::new(Reader { first, lines }),
        &input,
        &mut hooks,
    );
    progress.finish();
    let done = result?;
    if done.runs > 1 {
        ctx.note(&format!(
            "the bulk write ran {} times: other writers moved its cursors or the store \
             aborted it to keep transactions serializable; only the last run {}",
            done.runs,
            if outcome.is_dry_run() {
                "was shown"
            } else {
                "committed"
            }
        ));
    }
    match done.finished {
        Finished::Done(batch) => {
            if !outcome.is_dry_run() {
                print_batch(ctx, &*store, Some(batch.id), done.unchanged, false).map_err(|e| {
                    committed_but_unprinted(
                        e,
                        &format!("batch {} ({} change(s))", batch.id, batch.changed),
                        ("batch", batch.id),
                    )
                })?;
            }
            note_done(ctx, outcome, &batch, "applied", "apply", "change(s)");
            Ok(())
        }
        Finished::Nothing { .. } => {
            print_batch(ctx, &*store, None, done.unchanged, outcome.is_dry_run())?;
            note_unwritten(
                ctx,
                outcome,
                &format!(
                    "nothing changed: all {} cursor(s) already hold their offsets",
                    done.lines
                ),
            );
            Ok(())
        }
    }
}
