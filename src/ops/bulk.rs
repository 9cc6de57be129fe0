//! Bulk writes (`set --from-file`): many cursors moved in one
//! all-or-nothing transaction, from input lines read in chunks. Each chunk
//! is checked against its cursors read ahead (where the store reads many
//! in one query) and written as one set ([`super::bulk_chunk`]); a cursor
//! given twice is refused ([`super::bulk_keys`]). A write the store aborted
//! to keep transactions serializable, or one that found a cursor moved by
//! another writer since it read it, runs again from the first line, while
//! the input can be read again and within the busy timeout.
//!
//! The input is the front end's: it reads and parses lines ([`BulkInput`],
//! [`BulkSource`]) and sees each line as it is read, and a dry run's plan
//! before the roll-back ([`BulkHooks`]). Nothing here prints.

use super::batch::{end_batch, BatchRun, Done, Finished};
use super::bulk_chunk::Chunk;
use super::bulk_keys::SeenKeys;
use super::error::{ErrorKind, OpError, OpResult, Refusal};
use super::failures::Failures;
use super::moves::{Audit, Move, Target};
use crate::backoff::Backoff;
use crate::key::CursorKey;
use crate::store::{Outcome, Store, StoreExt, StoreRead};
use crate::StoreError;

/// One valid input line: a cursor, the offset it moves to, and the offset
/// the compare-and-swap expects, if the line gives one.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Entry {
    /// The cursor.
    pub key: CursorKey,
    /// Where it moves to.
    pub offset: u64,
    /// The offset it must hold, if given.
    pub expect: Option<u64>,
}

/// Why an input line was refused, with its key when the key could be read.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Invalid {
    /// The key as the line gives it.
    pub key: Option<String>,
    /// What is wrong with the line.
    pub reason: String,
}

/// One input line: its number (1-based) and what it holds.
pub type Line = (u64, Result<Entry, Invalid>);

/// A line that changed nothing, where it stands among the batch's changes:
/// (position, key, offset).
pub type Unchanged = (u64, CursorKey, u64);

/// The lines of a bulk write, in order.
pub trait BulkInput {
    /// The next line, or `None` at the end.
    ///
    /// # Errors
    ///
    /// A failed read, or input that cannot be read on (a usage error).
    fn next_line(&mut self) -> OpResult<Option<Line>>;

    /// Bytes read so far (for progress).
    fn bytes_read(&self) -> u64;
}

/// Where the lines come from, when they can be read again.
pub trait BulkSource {
    /// The lines from the first again, for a write that runs again (the
    /// reader before it is dropped first); `None` when the input cannot be
    /// read again (a pipe).
    ///
    /// # Errors
    ///
    /// A failed read.
    fn again(&self) -> OpResult<Option<Box<dyn BulkInput>>>;

    /// A second reader of the lines from the first, read beside the one in
    /// use (the keys of the lines already read, once a key comes out of
    /// order); `None` when the input cannot be read twice at once.
    ///
    /// # Errors
    ///
    /// A failed read.
    fn beside(&self) -> OpResult<Option<Box<dyn BulkInput>>>;

    /// Whether [`BulkSource::again`] gives a reader.
    fn can_run_again(&self) -> bool;

    /// Whether [`BulkSource::beside`] gives a reader.
    fn can_read_beside(&self) -> bool;
}

/// What the front end does while a bulk write runs.
pub trait BulkHooks {
    /// The front end's error (printing, interruption, its own checks).
    type Error: From<OpError> + From<StoreError>;

    /// A line read (`lines` so far, `bytes` of input), before it is
    /// checked: progress, interruption, checks of the front end's own.
    ///
    /// # Errors
    ///
    /// Ends the write (rolled back).
    fn line(
        &mut self,
        view: &dyn StoreRead,
        line: u64,
        entry: Option<&Entry>,
        lines: u64,
        bytes: u64,
    ) -> Result<(), Self::Error>;

    /// Every line is read and checked, the transaction not yet ended.
    ///
    /// # Errors
    ///
    /// Ends the write (rolled back).
    fn before_end(&mut self) -> Result<(), Self::Error>;

    /// A dry run's batch, read from its transaction before the roll-back,
    /// with the lines that changed nothing.
    ///
    /// # Errors
    ///
    /// Ends the write (rolled back, as it is anyway).
    fn plan(
        &mut self,
        view: &dyn StoreRead,
        done: &Done,
        unchanged: Vec<Unchanged>,
    ) -> Result<(), Self::Error>;
}

/// What applies to every line of a bulk write.
#[derive(Clone, Copy, Debug)]
pub struct BulkSet<'a> {
    /// Whether an absent cursor may be created.
    pub create: bool,
    /// Whether a cursor may move back.
    pub allow_rewind: bool,
    /// Why (recorded with every change).
    pub reason: Option<&'a str>,
    /// Who.
    pub user: &'a str,
    /// Commit, or roll back (a dry run).
    pub outcome: Outcome,
    /// Whether the lines that changed nothing are kept for the front end.
    pub keep_unchanged: bool,
}

impl BulkSet<'_> {
    /// The move one input line asks for, with the options every line shares.
    pub(super) fn move_for<'e>(&self, entry: &'e Entry) -> Move<'e> {
        Move {
            key: &entry.key,
            target: Target::To(entry.offset),
            expect: entry.expect,
            create: self.create,
            allow_rewind: self.allow_rewind,
        }
    }
}

/// What a bulk write did.
#[derive(Debug)]
pub struct BulkDone {
    /// The batch, or nothing changed.
    pub finished: Finished,
    /// How many times it ran (more than once: it ran again, see the
    /// module's documentation; only the last run counts).
    pub runs: u32,
    /// The lines read in the last run.
    pub lines: u64,
    /// The lines that changed nothing, unless a dry run's plan took them.
    pub unchanged: Vec<Unchanged>,
}

/// The command a bulk write records.
const COMMAND: &str = "set";

/// Why one run of a bulk write stopped.
pub(super) enum Stop<E> {
    /// A line without `expect` found its cursor moved since it was read:
    /// the write may run again.
    Raced,
    /// The store gave up a lock wait or aborted the transaction to keep
    /// transactions serializable: the write may run again.
    Busy(E),
    /// Anything else.
    Failed(E),
}

impl<E: From<OpError>> From<OpError> for Stop<E> {
    fn from(e: OpError) -> Self {
        if e.kind() == ErrorKind::Busy {
            Self::Busy(e.into())
        } else {
            Self::Failed(e.into())
        }
    }
}

impl<E: From<OpError>> From<StoreError> for Stop<E> {
    fn from(e: StoreError) -> Self {
        OpError::from(e).into()
    }
}

/// A line without `expect` found its cursor moved by another writer.
pub(super) struct Raced;

impl<E> From<Raced> for Stop<E> {
    fn from(_: Raced) -> Self {
        Self::Raced
    }
}

/// Run a bulk write of the lines of `input` into `store` (a dry run: the
/// same run, rolled back).
///
/// # Errors
///
/// The failing lines (as one error), store failures, a write that other
/// writers kept from finishing within the busy timeout (busy), and the
/// hooks' errors.
pub fn run<H: BulkHooks>(
    store: &dyn Store,
    opts: &BulkSet<'_>,
    input: Box<dyn BulkInput>,
    source: &dyn BulkSource,
    hooks: &mut H,
) -> Result<BulkDone, H::Error> {
    let mut backoff = Backoff::new(store.busy_timeout());
    let mut reader = Some(input);
    let mut runs = 0u32;
    loop {
        runs += 1;
        let lines = match reader.take() {
            Some(lines) => lines,
            None => source.again()?.ok_or_else(|| {
                OpError::from(Refusal::new(
                    ErrorKind::Internal,
                    "a bulk write runs again only when its input can be read again",
                ))
            })?,
        };
        let mut unchanged = Vec::new();
        let mut total = 0;
        let attempt = store.write_once_deciding(|txn| -> Result<_, Stop<H::Error>> {
            let finished = run_once(txn, opts, lines, source, hooks, &mut unchanged, &mut total)?;
            end_batch(finished, opts.outcome, |done| {
                hooks.plan(txn, done, std::mem::take(&mut unchanged))
            })
            .map_err(Stop::Failed)
        });
        let again = source.can_run_again();
        match attempt {
            Ok(finished) => {
                return Ok(BulkDone {
                    finished,
                    runs,
                    lines: total,
                    unchanged,
                })
            }
            Err(Stop::Raced | Stop::Busy(_)) if again && backoff.wait() => {}
            Err(Stop::Raced) => {
                return Err(OpError::from(Refusal::new(
                    ErrorKind::Busy,
                    format!(
                        "other writers kept moving cursors of this bulk write until the busy \
                         timeout ({}); nothing was written",
                        humantime::format_duration(store.busy_timeout())
                    ),
                ))
                .into())
            }
            Err(Stop::Busy(e) | Stop::Failed(e)) => return Err(e),
        }
    }
}

/// One run: every line read, checked and written in `txn`, chunk by chunk.
fn run_once<H: BulkHooks>(
    txn: &dyn crate::store::WriteTxn,
    opts: &BulkSet<'_>,
    mut lines: Box<dyn BulkInput>,
    source: &dyn BulkSource,
    hooks: &mut H,
    unchanged: &mut Vec<Unchanged>,
    total: &mut u64,
) -> Result<Finished, Stop<H::Error>> {
    let failures = Failures::new("line");
    let mut run = BatchRun::begin(txn, "set --from-file", opts.reason, opts.user, failures)?;
    let audit = Audit {
        command: COMMAND,
        reason: opts.reason,
        user: opts.user,
        batch: None,
    };
    let mut seen = SeenKeys::new(txn, source);
    let mut chunk = Chunk::new(txn, source.can_run_again())?;
    while let Some((line_no, parsed)) = lines.next_line()? {
        *total += 1;
        hooks
            .line(
                txn,
                line_no,
                parsed.as_ref().ok(),
                *total,
                lines.bytes_read(),
            )
            .map_err(Stop::Failed)?;
        chunk.lines.push((line_no, parsed));
        if chunk.lines.len() == chunk.size {
            chunk.apply(opts, txn, &mut run, &audit, &mut seen, unchanged)?;
        }
    }
    chunk.apply(opts, txn, &mut run, &audit, &mut seen, unchanged)?;
    let finished = run.finish()?;
    hooks.before_end().map_err(Stop::Failed)?;
    Ok(finished)
}
