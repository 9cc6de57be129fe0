//! `cursorctl flush-sim`: what a checkpoint policy costs and risks, found by
//! running the real checkpoint driver against a cursor.

use std::cell::Cell;
use std::fs::File;
use std::io::{self, BufRead, BufReader, BufWriter, IsTerminal, Read, Seek, SeekFrom, Write};
use std::num::NonZeroU64;
use std::path::PathBuf;

use anyhow::Context as _;
use cursorctl::key::{CursorKey, PartitionKey};
use cursorctl::sim::{message_offsets, Event, Observer, SimConfig, Simulation, Stop, Summary};
use cursorctl::store::{ChangeInput, DurableStore, Store, StoreExt};
use cursorctl::{parse_offset, CheckpointPolicy, DurabilityError, MemoryStore};
use indicatif::ProgressBar;

use super::error::{committed_but_unprinted, describe_durability, ExitKind, Failure};
use super::interrupt::Interrupt;
use super::key_arg::{consumer_arg, ConsumerArg};
use super::output::{Field, Format, Printer, Record, Shape};
use super::progress;
use super::source::{self, read_failed, Source};
use super::{reason_arg, Context};

/// The policies `--compare` runs, in this order.
const COMPARED: [CheckpointPolicy; 5] = [
    CheckpointPolicy::PerMessage,
    CheckpointPolicy::PerBatch(10),
    CheckpointPolicy::PerBatch(100),
    CheckpointPolicy::PerBatch(1000),
    CheckpointPolicy::ExplicitFlush,
];

/// Runs at least this long (in messages) get a progress bar on a terminal.
const PROGRESS_MIN: u64 = 1_000_000;

/// Regression warnings printed on stderr per run; the rest are counted.
const MAX_WARNINGS: u64 = 10;

/// Simulate a checkpoint policy against a cursor: store writes, durable
/// offset, messages processed again after a crash
///
/// Runs the library's checkpoint driver, with the same regression-checked
/// compare-and-swap checkpoints as a live consumer, over --messages N
/// processed messages (next offsets current+1 ... current+N, where current is
/// the cursor's offset, 0 if absent) or over the next offsets read from
/// --offsets, one a line. --flush-every M also flushes every M messages.
///
/// The run ends with a clean shutdown, which flushes once more (as a
/// consumer stopped cleanly does), or, with --crash-after K, with a crash
/// after K messages and no flush: the summary then gives the offset a
/// restarted consumer resumes from (final_offset) and how many messages it
/// processes again (redelivered_after_crash).
///
/// A dry run by default: the cursor is read once and the simulation runs on
/// a copy in memory; the store is not changed and no write lock is taken.
/// With --commit every checkpoint is its own short transaction on the real
/// store, recorded in the history (command flush-sim); if a live consumer
/// moves the cursor meanwhile, the run stops with exit 3 and says what it
/// had committed.
///
/// -o ndjson prints one line per checkpoint, flush, error and crash (never
/// one per message), then the summary; -o json and table print the summary
/// (with --compare, one row per policy); -o value prints final_offset. A
/// backwards offset in the input is refused as a regression, reported, and
/// the run goes on as the driver does (the offset stays pending). With
/// --compare, -o value prints POLICY<TAB>FINAL_OFFSET, one line a policy.
#[derive(Debug, clap::Args)]
#[command(
    group(clap::ArgGroup::new("input").required(true).args(["messages", "offsets"])),
    after_help = "\
Examples:
  cursorctl flush-sim billing orders:3 --policy per-batch:100 --messages 1000000
  cursorctl flush-sim billing orders:3 --compare --messages 100000 --flush-every 500
  cursorctl flush-sim billing orders:3 --policy per-batch:3 --messages 10 -o ndjson
  cursorctl flush-sim billing orders:3 --policy explicit-flush --flush-every 50 \\
      --messages 1000 --crash-after 420
  consumer-log | cursorctl flush-sim billing orders:3 --policy per-message --offsets -
  cursorctl flush-sim billing orders:3 --policy per-batch:10 --messages 50 --commit \\
      --reason 'load test'"
)]
pub struct Args {
    /// Consumer id, or the full key CONSUMER:CHANNEL:INDEX (billing:orders:3)
    #[arg(value_name = "CONSUMER", value_parser = consumer_arg)]
    pub consumer: ConsumerArg,

    /// Partition key, CHANNEL:INDEX (for example orders:3); not after a
    /// full key
    pub partition_key: Option<PartitionKey>,

    /// Checkpoint policy: per-message, per-batch:N (N >= 1) or explicit-flush
    #[arg(long, value_name = "POLICY", value_parser = PolicyParser::new(), hide_possible_values = true, required_unless_present = "compare")]
    pub policy: Option<CheckpointPolicy>,

    /// Simulate N processed messages after the cursor's offset
    #[arg(long, value_name = "N", value_parser = count_arg)]
    pub messages: Option<u64>,

    /// Read the next offset of each processed message from PATH, one a line
    /// (- for stdin)
    #[arg(long, value_name = "PATH")]
    pub offsets: Option<PathBuf>,

    /// Also flush every M messages, whatever the policy
    #[arg(long, value_name = "M", value_parser = flush_every_arg)]
    pub flush_every: Option<NonZeroU64>,

    /// Crash after K messages: no final flush; report what a restarted
    /// consumer processes again
    #[arg(long, value_name = "K", value_parser = count_arg)]
    pub crash_after: Option<u64>,

    /// Run the same input under per-message, per-batch:10, per-batch:100,
    /// per-batch:1000 and explicit-flush (and --policy, if another), one row
    /// each
    #[arg(long, conflicts_with = "commit")]
    pub compare: bool,

    /// Write the checkpoints to the store, each in its own transaction,
    /// recorded in the history
    #[arg(long)]
    pub commit: bool,

    /// With --commit: create the cursor if it does not exist
    #[arg(long, requires = "commit")]
    pub create: bool,

    /// With --commit: why (recorded in the history)
    #[arg(long, value_name = "TEXT", value_parser = reason_arg, allow_hyphen_values = true, requires = "commit")]
    pub reason: Option<String>,
}

/// Parses `--policy`, and offers the usual policies to shell completion
/// (instead of file names).
#[derive(Clone)]
struct PolicyParser(
    clap::builder::TryMapValueParser<clap::builder::StringValueParser, ParsePolicy>,
);

type ParsePolicy = fn(String) -> Result<CheckpointPolicy, String>;

impl PolicyParser {
    fn new() -> Self {
        let parse: ParsePolicy = |s| policy_arg(&s);
        Self(clap::builder::TypedValueParser::try_map(
            clap::builder::StringValueParser::new(),
            parse,
        ))
    }
}

impl clap::builder::TypedValueParser for PolicyParser {
    type Value = CheckpointPolicy;

    fn parse_ref(
        &self,
        cmd: &clap::Command,
        arg: Option<&clap::Arg>,
        value: &std::ffi::OsStr,
    ) -> Result<CheckpointPolicy, clap::Error> {
        self.0.parse_ref(cmd, arg, value)
    }

    fn possible_values(
        &self,
    ) -> Option<Box<dyn Iterator<Item = clap::builder::PossibleValue> + '_>> {
        // The policies of --compare, as completions offer them.
        const OFFERED: [&str; 5] = [
            "per-message",
            "per-batch:10",
            "per-batch:100",
            "per-batch:1000",
            "explicit-flush",
        ];
        Some(Box::new(
            OFFERED.into_iter().map(clap::builder::PossibleValue::new),
        ))
    }
}

fn policy_arg(s: &str) -> Result<CheckpointPolicy, String> {
    s.parse().map_err(|e: DurabilityError| {
        let text = e.to_string();
        let text = text.strip_prefix("configuration error: ").unwrap_or(&text);
        if text.contains("explicit-flush") {
            text.to_owned()
        } else {
            format!("{text}; use per-message, per-batch:N (N >= 1) or explicit-flush")
        }
    })
}

fn count_arg(s: &str) -> Result<u64, String> {
    if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit()) {
        return Err(format!(
            "invalid count {s:?}: use a whole number, for example 1000000"
        ));
    }
    s.parse()
        .map_err(|_| format!("invalid count {s:?}: it is above the limit {}", u64::MAX))
}

fn flush_every_arg(s: &str) -> Result<NonZeroU64, String> {
    NonZeroU64::new(count_arg(s)?)
        .ok_or_else(|| "invalid interval \"0\": flush every 1 message or more".to_owned())
}

pub fn run(ctx: &Context, args: &Args) -> anyhow::Result<()> {
    let key = args.consumer.key(args.partition_key.as_ref())?;
    if let (Some(k), Some(n)) = (args.crash_after, args.messages) {
        if k > n {
            return Err(Failure::usage(format!(
                "--crash-after {k} is past the end of the input (--messages {n})"
            ))
            .into());
        }
    }
    let policies = policies(args)?;
    // A commit must not start on input that turns out to be bad, and
    // --compare replays the input: both validate and keep it first.
    let mut input = Input::open(args, args.commit || args.compare)?;
    if args.commit {
        commit(ctx, args, &key, policies[0], &mut input)
    } else {
        dry_run(ctx, args, &key, &policies, &mut input)
    }
}

fn policies(args: &Args) -> anyhow::Result<Vec<CheckpointPolicy>> {
    if !args.compare {
        let policy = args
            .policy
            .ok_or_else(|| Failure::usage("--policy is required (or --compare)"))?;
        return Ok(vec![policy]);
    }
    let mut list = COMPARED.to_vec();
    if let Some(policy) = args.policy.filter(|p| !list.contains(p)) {
        list.push(policy);
    }
    Ok(list)
}

const fn config(args: &Args, policy: CheckpointPolicy) -> SimConfig {
    SimConfig {
        policy,
        flush_every: args.flush_every,
        crash_after: args.crash_after,
    }
}

fn dry_run(
    ctx: &Context,
    args: &Args,
    key: &CursorKey,
    policies: &[CheckpointPolicy],
    input: &mut Input,
) -> anyhow::Result<()> {
    // Read the one cursor and let the store go: the simulation needs no
    // connection, let alone a lock.
    let stored = ctx.open_read()?.cursor(key)?.map(|row| row.offset);
    if stored.is_none() {
        ctx.note(&format!(
            "cursor {key} does not exist; simulating a new cursor from offset 0"
        ));
    }
    let key_text = key.to_string();
    let consumer = key.consumer().as_str();
    let partition_key = key.partition_key().to_string();
    let shape = if args.compare {
        Shape::List
    } else {
        Shape::One
    };
    let mut printer = ctx.printer(shape);
    let stream_events = ctx.global.output == Format::Ndjson && !args.compare;
    for &policy in policies {
        let copy = MemoryStore::without_log();
        if let Some(offset) = stored {
            copy.put(&key_text, offset);
        }
        let sim = Simulation::resume(&copy, consumer, &partition_key, config(args, policy))?;
        let mut reporter = Reporter::new(ctx, stream_events.then_some(&mut printer), policy);
        reporter.total = input.len();
        let offsets = input.offsets(sim.start_offset())?;
        let result = sim.run(offsets, &mut reporter);
        reporter.finish();
        let summary = match result {
            Ok(summary) => summary,
            Err(stopped) => {
                return Err(match stopped.reason {
                    Stop::Interrupted(e) => e,
                    Stop::Failed(e) => e.into(),
                })
            }
        };
        note_short_input(ctx, &summary);
        let mut record = SummaryRecord::new(&key_text, &summary, false, None);
        if args.compare {
            // One bare offset per policy would not say which is which.
            record.value = Some(format!("{}\t{}", record.policy, summary.final_offset));
        }
        printer.record(&record)?;
    }
    printer.finish()?;
    ctx.note("dry run: nothing was written; --commit writes the checkpoints");
    Ok(())
}

fn commit(
    ctx: &Context,
    args: &Args,
    key: &CursorKey,
    policy: CheckpointPolicy,
    input: &mut Input,
) -> anyhow::Result<()> {
    let store = ctx.open_write()?;
    if store.cursor(key)?.is_none() && !args.create {
        return Err(Failure::new(
            ExitKind::NotFound,
            format!("cursor {key} does not exist (pass --create to create it)"),
        )
        .with("key", key.to_string())
        .into());
    }
    let user = Context::user();
    let audited = Audited {
        store: &*store,
        reason: args.reason.as_deref(),
        user: &user,
        batch: Cell::new(None),
    };
    let partition_key = key.partition_key().to_string();
    let sim = Simulation::resume(
        &audited,
        key.consumer().as_str(),
        &partition_key,
        config(args, policy),
    )?;
    let start = sim.start_offset();
    ctx.note(&format!(
        "committing the checkpoints of {key} from offset {start} with policy {policy}, each in its own transaction"
    ));
    let key_text = key.to_string();
    let mut printer = ctx.printer(Shape::One);
    let stream_events = ctx.global.output == Format::Ndjson;
    let mut reporter = Reporter::new(ctx, stream_events.then_some(&mut printer), policy);
    reporter.total = input.len();
    reporter.interrupt = Some(Interrupt::install()?);
    let offsets = input.offsets(start)?;
    let result = sim.run(offsets, &mut reporter);
    reporter.finish();
    let batch = audited.batch.get();
    let undo = batch.map_or_else(String::new, |b| {
        format!(" in batch {b} (undo with `cursorctl undo --batch {b} --reason TEXT`)")
    });
    // Once a checkpoint is committed, a summary that cannot be printed must
    // not read as if nothing happened.
    let unprinted = |e: anyhow::Error, summary: &Summary| match batch {
        Some(b) => committed_but_unprinted(
            e,
            &format!(
                "batch {b} ({} checkpoint(s) moving {key} from {} to {})",
                summary.checkpoints, summary.start_offset, summary.final_offset
            ),
            ("batch", b),
        ),
        None => e,
    };
    match result {
        Ok(summary) => {
            note_short_input(ctx, &summary);
            printer
                .record(&SummaryRecord::new(&key_text, &summary, true, None))
                .and_then(|()| printer.finish())
                .map_err(|e| unprinted(e.into(), &summary))?;
            ctx.note(&format!(
                "committed {} checkpoint(s){undo}; {key} is at offset {}",
                summary.checkpoints, summary.final_offset
            ));
            Ok(())
        }
        Err(stopped) => {
            let so_far = so_far(&stopped.summary, batch);
            match stopped.reason {
                Stop::Interrupted(e) => Err(e.context(so_far)),
                Stop::Failed(e) => {
                    let kind = describe_durability(&e).0;
                    let record =
                        SummaryRecord::new(&key_text, &stopped.summary, true, Some(kind.name()));
                    printer
                        .record(&record)
                        .and_then(|()| printer.finish())
                        .map_err(|e| unprinted(e.into(), &stopped.summary))?;
                    Err(anyhow::Error::new(e).context(so_far))
                }
            }
        }
    }
}

/// What a stopped commit had done, for the error message.
fn so_far(summary: &Summary, batch: Option<i64>) -> String {
    let done = match (summary.checkpoints, batch) {
        (0, _) => format!(
            "no checkpoint was committed (the cursor was at {})",
            summary.start_offset
        ),
        (n, batch) => format!(
            "{n} checkpoint(s) were committed{}, moving the cursor from {} to {}",
            batch.map_or_else(String::new, |b| format!(" in batch {b}")),
            summary.start_offset,
            summary.final_offset
        ),
    };
    format!("flush-sim stopped at message {}; {done}", summary.messages)
}

fn note_short_input(ctx: &Context, summary: &Summary) {
    if let Some(k) = summary.crash_after.filter(|k| summary.messages < *k) {
        ctx.note(&format!(
            "the input ended after {} message(s), before --crash-after {k}; the crash was simulated there",
            summary.messages
        ));
    }
}

/// The real store for `--commit`: each compare-and-swap is its own
/// `BEGIN IMMEDIATE` transaction and is recorded in the history with it.
/// The run's changes share one batch, made with the first change, so that
/// `undo --batch` reverts a run (even an interrupted one) as a whole.
struct Audited<'a> {
    store: &'a dyn Store,
    reason: Option<&'a str>,
    user: &'a str,
    /// The run's batch, once its first change is committed.
    batch: Cell<Option<i64>>,
}

impl DurableStore for Audited<'_> {
    fn read_value(&self, key: &str) -> Result<Option<u64>, DurabilityError> {
        self.store.read_value(key)
    }

    fn cas(&self, key: &str, expected: u64, new: u64) -> Result<(), DurabilityError> {
        let parsed = CursorKey::parse(key)?;
        let batch = self.store.write(|txn| -> Result<_, DurabilityError> {
            let old = txn.cursor(&parsed)?.map(|row| row.offset);
            txn.cas(key, expected, new)?;
            // As with every command, a checkpoint to the offset the cursor
            // already holds changes nothing and records nothing.
            if old == Some(new) {
                return Ok(self.batch.get());
            }
            let batch = match self.batch.get() {
                Some(b) => b,
                None => txn.new_batch("flush-sim --commit", self.reason, self.user)?,
            };
            txn.record_change(&ChangeInput {
                key: &parsed,
                old_offset: old,
                new_offset: Some(new),
                command: "flush-sim",
                reason: self.reason,
                user: self.user,
                batch: Some(batch),
            })?;
            Ok(Some(batch))
        })?;
        // Kept only once committed: a rolled-back first change takes its
        // batch with it.
        self.batch.set(batch);
        Ok(())
    }
}

/// Prints events (with `-o ndjson`), warns about regressions on stderr and
/// draws the progress bar.
struct Reporter<'p> {
    events: Option<&'p mut Printer>,
    quiet: bool,
    terminal: bool,
    policy: CheckpointPolicy,
    total: Option<u64>,
    warned: u64,
    bar: Option<ProgressBar>,
    /// With --commit: stop between checkpoints on SIGINT or SIGTERM.
    interrupt: Option<Interrupt>,
}

impl<'p> Reporter<'p> {
    fn new(ctx: &Context, events: Option<&'p mut Printer>, policy: CheckpointPolicy) -> Self {
        Self {
            events,
            quiet: ctx.global.quiet,
            terminal: io::stderr().is_terminal(),
            policy,
            total: None,
            warned: 0,
            bar: None,
            interrupt: None,
        }
    }

    /// Say something on stderr without tearing the progress bar.
    fn say(&self, text: &str) {
        let say = || {
            let _ = writeln!(io::stderr(), "cursorctl: {text}");
        };
        match &self.bar {
            Some(bar) => bar.suspend(say),
            None => say(),
        }
    }

    fn finish(&mut self) {
        if let Some(bar) = self.bar.take() {
            bar.finish_and_clear();
        }
        if self.warned > MAX_WARNINGS {
            self.say(&format!(
                "warning: {} more regression(s) not shown; -o ndjson lists every one",
                self.warned - MAX_WARNINGS
            ));
        }
    }

    fn check_interrupt(&self) -> anyhow::Result<()> {
        self.interrupt.as_ref().map_or(Ok(()), |i| {
            i.check("every checkpoint before the signal is committed; no further checkpoint was written")
        })
    }

    fn new_bar(&self) -> ProgressBar {
        progress::bar(self.total, &self.policy.to_string())
    }
}

impl Observer<anyhow::Error> for Reporter<'_> {
    fn event(&mut self, event: &Event<'_>) -> anyhow::Result<()> {
        self.check_interrupt()?;
        if let Event::Error {
            message,
            error: error @ DurabilityError::CursorRegression { .. },
            ..
        } = event
        {
            self.warned += 1;
            if !self.quiet && self.warned <= MAX_WARNINGS {
                self.say(&format!(
                    "warning: {}: message {message}: {error}; the offset stays pending",
                    self.policy
                ));
            }
        }
        if let Some(printer) = self.events.as_deref_mut() {
            printer.record(&EventRecord(event))?;
        }
        Ok(())
    }

    fn progress(&mut self, messages: u64) -> anyhow::Result<()> {
        self.check_interrupt()?;
        if self.bar.is_none()
            && self.terminal
            && !self.quiet
            && self.total.unwrap_or(messages) >= PROGRESS_MIN
        {
            self.bar = Some(self.new_bar());
        }
        if let Some(bar) = &self.bar {
            bar.set_position(messages);
            bar.set_message(format!("{messages} messages"));
        }
        Ok(())
    }
}

/// Where the next offsets come from.
enum Input {
    /// `--messages N`.
    Messages(u64),
    /// `--offsets`, parsed as it is simulated (read once).
    Stream {
        name: String,
        reader: Box<dyn BufRead>,
    },
    /// `--offsets`, validated up front and kept in an unnamed temporary
    /// file, 8 bytes an offset, to be replayed.
    Kept { file: File, count: u64 },
}

impl Input {
    fn open(args: &Args, keep: bool) -> anyhow::Result<Self> {
        let Some(path) = &args.offsets else {
            return Ok(Self::Messages(args.messages.unwrap_or(0)));
        };
        let Source { reader, name, .. } = source::open(path, "--offsets", false)?;
        if !keep {
            return Ok(Self::Stream { name, reader });
        }
        let file = tempfile::tempfile().context("creating a temporary file for the offsets")?;
        let mut out = BufWriter::with_capacity(1 << 16, &file);
        let mut count = 0u64;
        for offset in LineOffsets::new(name, reader) {
            out.write_all(&offset?.to_le_bytes())
                .context("keeping the offsets in a temporary file")?;
            count += 1;
        }
        out.flush()
            .context("keeping the offsets in a temporary file")?;
        drop(out);
        Ok(Self::Kept { file, count })
    }

    /// How many messages, when known before the run.
    const fn len(&self) -> Option<u64> {
        match self {
            Self::Messages(n) | Self::Kept { count: n, .. } => Some(*n),
            Self::Stream { .. } => None,
        }
    }

    /// The next offsets, from the start: `start` is the cursor's offset.
    fn offsets(
        &mut self,
        start: u64,
    ) -> anyhow::Result<Box<dyn Iterator<Item = anyhow::Result<u64>> + '_>> {
        Ok(match self {
            Self::Messages(n) => {
                let offsets = message_offsets(start, *n).map_err(|_| {
                    Failure::usage(format!(
                        "--messages {n} from offset {start} would pass the largest offset 9223372036854775807"
                    ))
                })?;
                Box::new(offsets.map(Ok))
            }
            Self::Stream { name, reader } => Box::new(LineOffsets::new(name.clone(), reader)),
            Self::Kept { file, count } => {
                let mut file: &File = file;
                file.seek(SeekFrom::Start(0))
                    .context("rewinding the kept offsets")?;
                Box::new(KeptOffsets {
                    reader: BufReader::with_capacity(1 << 16, file),
                    remaining: *count,
                })
            }
        })
    }
}

/// Offsets parsed from lines, with line numbers in errors; one line buffer
/// is reused, so reading allocates nothing per line.
struct LineOffsets<R> {
    name: String,
    reader: R,
    buf: Vec<u8>,
    line: u64,
    done: bool,
}

impl<R: BufRead> LineOffsets<R> {
    fn new(name: String, reader: R) -> Self {
        Self {
            name,
            reader,
            buf: Vec::with_capacity(32),
            line: 0,
            done: false,
        }
    }

    fn bad(&mut self, message: String) -> anyhow::Error {
        self.done = true;
        Failure::usage(format!("{} line {}: {message}", self.name, self.line))
            .with("line", self.line)
            .into()
    }
}

impl<R: BufRead> Iterator for LineOffsets<R> {
    type Item = anyhow::Result<u64>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.done {
            return None;
        }
        // Blank lines (a trailing newline, an empty line between blocks) are
        // skipped, as in `set --from-file`.
        loop {
            self.buf.clear();
            match self.reader.read_until(b'\n', &mut self.buf) {
                Ok(0) => {
                    self.done = true;
                    return None;
                }
                Ok(_) => self.line += 1,
                Err(e) => {
                    self.done = true;
                    return Some(Err(read_failed(&self.name, &e)));
                }
            }
            if !self.buf.iter().all(u8::is_ascii_whitespace) {
                break;
            }
        }
        let mut text = self.buf.as_slice();
        text = text.strip_suffix(b"\n").unwrap_or(text);
        text = text.strip_suffix(b"\r").unwrap_or(text);
        let parsed = match std::str::from_utf8(text) {
            Ok(text) => parse_offset(text).map_err(|e| e.to_string()),
            Err(_) => Err("it is not UTF-8 text".to_owned()),
        };
        Some(parsed.map_err(|message| self.bad(message)))
    }
}

/// Offsets replayed from the temporary file.
struct KeptOffsets<R> {
    reader: R,
    remaining: u64,
}

impl<R: Read> Iterator for KeptOffsets<R> {
    type Item = anyhow::Result<u64>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.remaining == 0 {
            return None;
        }
        self.remaining -= 1;
        let mut bytes = [0; 8];
        Some(match self.reader.read_exact(&mut bytes) {
            Ok(()) => Ok(u64::from_le_bytes(bytes)),
            Err(e) => {
                self.remaining = 0;
                Err(anyhow::Error::new(e).context("reading the kept offsets"))
            }
        })
    }
}

/// One event, as `-o ndjson` prints it.
struct EventRecord<'a, 'e>(&'a Event<'e>);

impl Record for EventRecord<'_, '_> {
    fn fields(
        &self,
        visit: &mut dyn FnMut(&'static str, Field<'_>) -> io::Result<()>,
    ) -> io::Result<()> {
        match *self.0 {
            Event::Checkpoint {
                message,
                old_offset,
                new_offset,
            } => {
                visit("event", Field::Str("checkpoint"))?;
                visit("message", Field::U64(message))?;
                visit("old_offset", Field::U64(old_offset))?;
                visit("new_offset", Field::U64(new_offset))
            }
            Event::Flush {
                message,
                is_final,
                wrote,
                old_offset,
                new_offset,
            } => {
                visit("event", Field::Str("flush"))?;
                visit("message", Field::U64(message))?;
                visit("final", Field::Bool(is_final))?;
                visit("wrote", Field::Bool(wrote))?;
                visit("old_offset", Field::U64(old_offset))?;
                visit("new_offset", Field::U64(new_offset))
            }
            Event::Error {
                message,
                during,
                old_offset,
                attempted,
                error,
            } => {
                visit("event", Field::Str("error"))?;
                visit("message", Field::U64(message))?;
                visit("during", Field::Str(during.as_str()))?;
                visit("kind", Field::Str(describe_durability(error).0.name()))?;
                visit("old_offset", Field::U64(old_offset))?;
                visit("attempted", Field::U64(attempted))?;
                visit("error", Field::Str(&error.to_string()))
            }
            Event::Crash {
                message,
                resume_offset,
                redelivered,
            } => {
                visit("event", Field::Str("crash"))?;
                visit("message", Field::U64(message))?;
                visit("resume_offset", Field::U64(resume_offset))?;
                visit("redelivered", Field::U64(redelivered))
            }
        }
    }

    fn table_columns(&self) -> &'static [&'static str] {
        &["event", "message"]
    }

    fn value(&self) -> Field<'_> {
        match *self.0 {
            Event::Checkpoint { message, .. }
            | Event::Flush { message, .. }
            | Event::Error { message, .. }
            | Event::Crash { message, .. } => Field::U64(message),
        }
    }
}

/// The summary of one run.
struct SummaryRecord<'a> {
    key: &'a str,
    policy: String,
    summary: &'a Summary,
    committed: bool,
    stopped: Option<&'static str>,
    /// What `-o value` prints instead of the bare final offset.
    value: Option<String>,
}

impl<'a> SummaryRecord<'a> {
    fn new(
        key: &'a str,
        summary: &'a Summary,
        committed: bool,
        stopped: Option<&'static str>,
    ) -> Self {
        Self {
            key,
            policy: summary.policy.to_string(),
            summary,
            committed,
            stopped,
            value: None,
        }
    }
}

impl Record for SummaryRecord<'_> {
    fn fields(
        &self,
        visit: &mut dyn FnMut(&'static str, Field<'_>) -> io::Result<()>,
    ) -> io::Result<()> {
        let s = self.summary;
        visit("key", Field::Str(self.key))?;
        visit("policy", Field::Str(&self.policy))?;
        visit(
            "flush_every",
            Field::OptU64(s.flush_every.map(NonZeroU64::get)),
        )?;
        visit("crash_after", Field::OptU64(s.crash_after))?;
        visit("messages", Field::U64(s.messages))?;
        visit("start_offset", Field::U64(s.start_offset))?;
        visit("checkpoints", Field::U64(s.checkpoints))?;
        visit("flushes", Field::U64(s.flushes))?;
        visit("errors", Field::U64(s.errors))?;
        visit("final_offset", Field::U64(s.final_offset))?;
        visit("last_offset", Field::OptU64(s.last_offset))?;
        visit("pending_offset", Field::OptU64(s.pending_offset))?;
        visit("pending_at_end", Field::U64(s.pending_at_end))?;
        visit("max_redelivery_window", Field::U64(s.max_redelivery_window))?;
        visit("crashed", Field::Bool(s.crashed))?;
        visit(
            "redelivered_after_crash",
            Field::OptU64(s.redelivered_after_crash),
        )?;
        visit("committed", Field::Bool(self.committed))?;
        visit("stopped", Field::OptStr(self.stopped))
    }

    fn table_columns(&self) -> &'static [&'static str] {
        &[
            "policy",
            "messages",
            "checkpoints",
            "final_offset",
            "pending_at_end",
            "max_redelivery_window",
            "redelivered_after_crash",
        ]
    }

    fn value(&self) -> Field<'_> {
        self.value
            .as_deref()
            .map_or(Field::U64(self.summary.final_offset), Field::Str)
    }
}
