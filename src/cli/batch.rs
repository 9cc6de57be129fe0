//! The one batch engine: every command that moves many cursors in one
//! all-or-nothing transaction (`set --from-file`, `undo --batch`, `delete`,
//! `copy`) runs its items through it. It starts the batch, applies items
//! until the first failure, checks the rest through a view that writes
//! nothing (so every failing item is listed), and ends with the batch's
//! counts or with one error that lists the failures.

use cursorctl::store::{DryRun, DurableStore, WriteTxn};

use super::bulk::{is_item_failure, Failures};
use super::change::Audit;
use super::error::{classify, ExitKind};
use super::records::Status;

/// Where an item goes: the transaction while nothing has failed, a view
/// that only checks afterwards.
pub enum Apply<'a> {
    /// Write through the transaction, recorded in the batch.
    Write(&'a dyn WriteTxn, &'a Audit<'a>),
    /// Check only: nothing will be committed.
    Check(&'a dyn DurableStore),
}

/// One batch being written.
pub struct BatchRun<'t> {
    txn: &'t dyn WriteTxn,
    check: DryRun<'t>,
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
    /// Start a batch in `txn`; `label` names the items in failure lists
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
            check: DryRun::new(txn),
            id,
            failures,
            changed: 0,
            unchanged: 0,
            total: 0,
        })
    }

    /// Apply one item: `apply` writes through [`Apply::Write`] while no
    /// item has failed, and only checks through [`Apply::Check`] after.
    /// It returns the item's status (`None`: checked only). A failure of
    /// the item is listed and the batch goes on; a failure of the store
    /// ends it.
    pub fn item(
        &mut self,
        number: u64,
        key: Option<&dyn std::fmt::Display>,
        audit: &Audit<'_>,
        apply: impl FnOnce(Apply<'_>) -> anyhow::Result<Option<Status>>,
    ) -> anyhow::Result<Option<Status>> {
        self.total += 1;
        let audit = Audit {
            batch: Some(self.id),
            ..*audit
        };
        let target = if self.failures.is_empty() {
            Apply::Write(self.txn, &audit)
        } else {
            Apply::Check(&self.check)
        };
        match apply(target) {
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

    /// End the batch: the error listing every failure, or what it did.
    pub fn finish(self) -> anyhow::Result<Done> {
        if !self.failures.is_empty() {
            return Err(self.failures.into_error(self.total, "nothing was written"));
        }
        Ok(Done {
            id: self.id,
            changed: self.changed,
            unchanged: self.unchanged,
            total: self.total,
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
    /// Items in all.
    pub total: u64,
}
