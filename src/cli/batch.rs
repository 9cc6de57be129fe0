//! The one batch engine: every command that moves many cursors in one
//! all-or-nothing transaction (`set --from-file`, `undo --batch`/`--since`,
//! `delete`, `copy`, `snapshot restore`) runs its items through it. It
//! starts the batch, writes every item through the transaction (after a
//! failure too: nothing will be committed, and each later item still sees
//! what the earlier ones did), and ends with the batch's counts or with one
//! error that lists every failure.
//!
//! A dry run is the same run in a transaction that is rolled back
//! ([`run`]): the plan it prints is read from that transaction before the
//! roll-back, so it holds exactly the records, statuses and failures of the
//! write.

use cursorctl::store::{Outcome, Store, StoreExt, StoreRead, WriteTxn};

use super::bulk::{is_item_failure, print_batch, Failures};
use super::change::Audit;
use super::error::{classify, committed_but_unprinted, ExitKind};
use super::records::Status;
use super::Context;

/// One batch being written.
pub struct BatchRun<'t> {
    txn: &'t dyn WriteTxn,
    /// The batch id.
    pub id: i64,
    failures: Failures,
    /// Items that changed their cursor.
    pub changed: u64,
    /// Items that left their cursor as it was.
    pub unchanged: u64,
    /// Items seen.
    pub total: u64,
}

impl<'t> BatchRun<'t> {
    /// Start a batch in `txn`; `failures` names the items in failure lists
    /// (`line`, `change`, `cursor`).
    pub fn begin(
        txn: &'t dyn WriteTxn,
        command: &str,
        reason: Option<&str>,
        user: &str,
        failures: Failures,
    ) -> anyhow::Result<Self> {
        let id = txn.new_batch(command, reason, user)?;
        Ok(Self {
            txn,
            id,
            failures,
            changed: 0,
            unchanged: 0,
            total: 0,
        })
    }

    /// Apply one item through the transaction, recorded in the batch. It
    /// returns the item's status (`None`: it wrote nothing and is not
    /// counted). A failure of the item is listed and the batch goes on; a
    /// failure of the store ends it.
    pub fn item(
        &mut self,
        number: u64,
        key: Option<&dyn std::fmt::Display>,
        audit: &Audit<'_>,
        apply: impl FnOnce(&dyn WriteTxn, &Audit<'_>) -> anyhow::Result<Option<Status>>,
    ) -> anyhow::Result<Option<Status>> {
        self.total += 1;
        let audit = Audit {
            batch: Some(self.id),
            ..*audit
        };
        match apply(self.txn, &audit) {
            Ok(status) => {
                match status {
                    Some(Status::Unchanged) => self.unchanged += 1,
                    Some(_) => self.changed += 1,
                    None => {}
                }
                Ok(status)
            }
            Err(e) if is_item_failure(&e) => {
                let key = key.map(ToString::to_string);
                self.failures
                    .add(number, key.as_deref(), classify(&e).0, &format!("{e:#}"));
                Ok(None)
            }
            Err(e) => Err(e),
        }
    }

    /// Whether an item has failed: nothing will be committed.
    pub const fn has_failed(&self) -> bool {
        !self.failures.is_empty()
    }

    /// List an item that failed when its write was made (after it was
    /// counted).
    pub fn fail(&mut self, number: u64, key: Option<&str>, err: anyhow::Error) {
        self.failures
            .add(number, key, classify(&err).0, &format!("{err:#}"));
    }

    /// List an item refused before it reached the store (bad input, a
    /// duplicate).
    pub fn refuse(&mut self, number: u64, key: Option<&str>, kind: ExitKind, reason: &str) {
        self.total += 1;
        self.failures.add(number, key, kind, reason);
    }

    /// End the batch: the error listing every failure, [`NothingChanged`]
    /// when no item changed its cursor (the transaction must then not be
    /// committed: a batch is never empty), or what it did.
    pub fn finish(self) -> anyhow::Result<Done> {
        if !self.failures.is_empty() {
            return Err(self.failures.into_error(self.total, "nothing was written"));
        }
        if self.changed == 0 {
            return Err(NothingChanged { total: self.total }.into());
        }
        Ok(Done {
            id: self.id,
            changed: self.changed,
            unchanged: self.unchanged,
        })
    }
}

/// What a batch that failed nowhere did.
#[derive(Clone, Copy, Debug)]
pub struct Done {
    /// The batch id.
    pub id: i64,
    /// Items that changed their cursor.
    pub changed: u64,
    /// Items that left their cursor as it was.
    pub unchanged: u64,
}

/// Why a batch's transaction ends without committing although nothing
/// failed: no item changed its cursor (or there was no item), and a batch
/// with no change is never recorded.
#[derive(Debug, thiserror::Error)]
#[error("nothing changed")]
pub struct NothingChanged {
    /// Items seen.
    pub total: u64,
}

/// The [`NothingChanged`] in `err`, if that is what it is.
pub fn nothing_changed(err: &anyhow::Error) -> Option<&NothingChanged> {
    err.downcast_ref::<NothingChanged>()
}

/// Run a batch command: `body` in one write transaction, committed (the
/// write) or rolled back (a dry run, by `outcome`), and the records of its
/// batch printed -- after the commit for the write, from inside the
/// transaction before it is rolled back for a dry run, so that both print
/// the same records. `what` names the batch's work in the message of a
/// write whose records could not be printed.
///
/// Returns `None` when nothing changed (nothing was recorded; the items
/// seen are in the [`NothingChanged`]).
///
/// # Errors
///
/// Whatever `body` returns, store failures, and output failures.
pub fn run(
    ctx: &Context,
    store: &dyn Store,
    outcome: Outcome,
    what: &str,
    mut body: impl FnMut(&dyn WriteTxn) -> anyhow::Result<Done>,
) -> anyhow::Result<Result<Done, NothingChanged>> {
    let result = match outcome {
        Outcome::Commit => store.write(&mut body),
        Outcome::RollBack => store.write_rolled_back(|txn| {
            let done = body(txn)?;
            print_batch(ctx, txn, Some(done.id), Vec::new(), true)?;
            Ok(done)
        }),
    };
    let done = match result {
        Ok(done) => done,
        Err(e) => {
            return match e.downcast::<NothingChanged>() {
                Ok(nothing) => Ok(Err(nothing)),
                Err(e) => Err(e),
            }
        }
    };
    if outcome == Outcome::Commit {
        print_committed_batch(ctx, store, &done, what)?;
    }
    Ok(Ok(done))
}

/// Print the records of a committed batch; a failure to print says that
/// the batch was committed.
fn print_committed_batch(
    ctx: &Context,
    store: &dyn StoreRead,
    done: &Done,
    what: &str,
) -> anyhow::Result<()> {
    print_batch(ctx, store, Some(done.id), Vec::new(), false).map_err(|e| {
        committed_but_unprinted(
            e,
            &format!("batch {} ({} {what})", done.id, done.changed),
            ("batch", done.id),
        )
    })
}

/// The note after a batch: what was done and how to undo it, or, for a dry
/// run, what the write would do. `did` is the past tense (`removed`),
/// `would` the plan (`remove`), `items` what was counted (`cursor(s)`).
pub fn note_done(
    ctx: &Context,
    outcome: Outcome,
    done: &Done,
    did: &str,
    would: &str,
    items: &str,
) {
    let unchanged = if done.unchanged > 0 {
        format!(", {} unchanged", done.unchanged)
    } else {
        String::new()
    };
    if outcome.is_dry_run() {
        ctx.note(&format!(
            "dry run: the write would {would} {} {items}{unchanged}; nothing was written",
            done.changed
        ));
    } else {
        ctx.note(&format!(
            "{did} {} {items}{unchanged} in batch {} (undo with `cursorctl undo --batch {}`)",
            done.changed, done.id, done.id
        ));
    }
}

/// The note when a batch changed nothing (nothing is recorded, in a write
/// as in a dry run). `none` is said when there was no item at all.
pub fn note_nothing(ctx: &Context, outcome: Outcome, nothing: &NothingChanged, none: &str) {
    let what = if nothing.total == 0 {
        none.to_owned()
    } else {
        format!(
            "nothing changed: all {} cursor(s) already hold their offsets",
            nothing.total
        )
    };
    if outcome.is_dry_run() {
        ctx.note(&format!("dry run: {what}; nothing would be written"));
    } else {
        ctx.note(&format!("{what}; nothing was written"));
    }
}
