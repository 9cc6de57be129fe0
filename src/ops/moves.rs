//! The one write path every operation uses to move a cursor: existence,
//! regression and compare-and-swap checks through [`ConsumerCursor`], then
//! the history record in the same transaction.

use super::change::{Change, Status};
use super::error::{ErrorKind, OpError, OpResult, Refusal};
use crate::backoff::Backoff;
use crate::key::CursorKey;
use crate::store::{ChangeInput, DurableStore, Outcome, Store, StoreExt, WriteTxn};
use crate::{ConsumerCursor, DurabilityError, MAX_OFFSET};

/// Where a cursor moves to.
#[derive(Clone, Copy, Debug)]
pub enum Target {
    /// To this offset.
    To(u64),
    /// Forward by this many from the current offset.
    By(u64),
}

/// One requested cursor move.
#[derive(Clone, Debug)]
pub struct Move<'a> {
    /// The cursor.
    pub key: &'a CursorKey,
    /// Where it moves to.
    pub target: Target,
    /// The offset the compare-and-swap expects instead of the one just read.
    pub expect: Option<u64>,
    /// Whether an absent cursor may be created.
    pub create: bool,
    /// Whether the cursor may move backwards.
    pub allow_rewind: bool,
}

/// How the change is recorded.
#[derive(Clone, Copy, Debug)]
pub struct Audit<'a> {
    /// The command recorded (`set`, `undo`, ...).
    pub command: &'a str,
    /// Why (`--reason`).
    pub reason: Option<&'a str>,
    /// Who.
    pub user: &'a str,
    /// The batch the change belongs to.
    pub batch: Option<i64>,
}

/// Check and perform a move against `store`; returns the old (absent:
/// `None`) and new offsets. On a view that only checks (a bulk write's
/// read-ahead) nothing is written.
///
/// # Errors
///
/// Not found (exit 5), overflow (exit 2), and the library's regression,
/// stale and store errors.
pub fn move_cursor(store: &dyn DurableStore, m: &Move<'_>) -> OpResult<(Option<u64>, u64)> {
    if let Some(moved) = move_expected(store, m)? {
        return Ok(moved);
    }
    let stored = store.read_value_keyed(m.key)?;
    let key = m.key.to_string();
    if stored.is_none() && !m.create {
        return Err(not_found(key));
    }
    // Under `expect` the cursor must hold what the operator looked at:
    // anything else is stale, whatever the direction of the move.
    if let Some(expect) = m.expect {
        if stored.unwrap_or(0) != expect {
            return Err(DurabilityError::StaleCheckpoint {
                key,
                expected: expect,
                actual: stored,
            }
            .into());
        }
    }
    let current = m.expect.unwrap_or(stored.unwrap_or(0));
    let new = match m.target {
        Target::To(n) => n,
        Target::By(by) => current
            .checked_add(by)
            .filter(|n| *n <= MAX_OFFSET)
            .ok_or_else(|| {
                Refusal::usage(format!(
                    "advancing {key} from {current} by {by} would pass the largest offset 9223372036854775807"
                ))
            })?,
    };
    let mut cursor = ConsumerCursor::from_persisted(
        m.key.consumer().as_str(),
        m.key.partition_key().to_string(),
        current,
    );
    if m.allow_rewind && new < current {
        cursor.rewind_keyed(store, m.key, new)?;
    } else {
        cursor.checkpoint_keyed(store, m.key, new)?;
    }
    Ok((stored, new))
}

/// A move to an offset with `expect` N (not 0, not the new offset itself)
/// that is not a refused regression: the compare-and-swap alone decides it,
/// without reading the cursor first. If it succeeds the cursor held N; if
/// it finds the cursor absent, that is "not found" unless creating (the
/// order of the checks and every outcome are those of the full path).
/// `None` when the move is not of this kind.
fn move_expected(store: &dyn DurableStore, m: &Move<'_>) -> OpResult<Option<(Option<u64>, u64)>> {
    let Some((expect, new)) = expected_move(m) else {
        return Ok(None);
    };
    let mut cursor = ConsumerCursor::from_persisted(
        m.key.consumer().as_str(),
        m.key.partition_key().to_string(),
        expect,
    );
    let swapped = if new < expect {
        cursor.rewind_keyed(store, m.key, new)
    } else {
        cursor.checkpoint_keyed(store, m.key, new)
    };
    match swapped {
        Ok(()) => Ok(Some((Some(expect), new))),
        Err(DurabilityError::StaleCheckpoint { actual: None, .. }) if !m.create => {
            Err(not_found(m.key.to_string()))
        }
        Err(e) => Err(e.into()),
    }
}

/// The expected and new offsets of a move the compare-and-swap alone
/// decides (see [`move_expected`]): it succeeds exactly when the cursor
/// holds the expected offset, and then changes it.
pub fn expected_move(m: &Move<'_>) -> Option<(u64, u64)> {
    let (Some(expect), Target::To(new)) = (m.expect, m.target) else {
        return None;
    };
    if expect == 0 || new == expect || (new < expect && !m.allow_rewind) {
        return None;
    }
    Some((expect, new))
}

/// The failure of an [`expected_move`] whose cursor holds `actual`
/// (anything but the expected offset), as the move itself reports it.
pub fn expected_move_failure(m: &Move<'_>, expect: u64, actual: Option<u64>) -> OpError {
    if actual.is_none() && !m.create {
        return not_found(m.key.to_string());
    }
    DurabilityError::StaleCheckpoint {
        key: m.key.to_string(),
        expected: expect,
        actual,
    }
    .into()
}

fn not_found(key: String) -> OpError {
    Refusal::new(
        ErrorKind::NotFound,
        format!("cursor {key} does not exist (pass --create to create it)"),
    )
    .with("key", key)
    .into()
}

/// Perform a move inside a write transaction and record it.
pub fn apply_in(txn: &dyn WriteTxn, m: &Move<'_>, audit: &Audit<'_>) -> OpResult<Change> {
    crate::lease::operator_write(txn, m.key, audit.command)?;
    let (old, new) = move_cursor(txn, m)?;
    let status = Status::of(old, Some(new));
    let id = if status == Status::Unchanged {
        None
    } else {
        Some(txn.record_change(&ChangeInput {
            key: m.key,
            old_offset: old,
            new_offset: Some(new),
            command: audit.command,
            reason: audit.reason,
            user: audit.user,
            batch: audit.batch,
        })?)
    };
    Ok(Change {
        id,
        key: m.key.clone(),
        old_offset: old,
        new_offset: Some(new),
        status,
        dry_run: false,
    })
}

/// Remove a cursor inside a write transaction, if it still holds
/// `expected`, and record it.
///
/// # Errors
///
/// Stale (exit 3) when it holds something else or is absent; store
/// failures.
pub fn remove_in(
    txn: &dyn WriteTxn,
    key: &CursorKey,
    expected: u64,
    audit: &Audit<'_>,
) -> OpResult<Change> {
    crate::lease::operator_write(txn, key, audit.command)?;
    txn.remove_if(key, expected)?;
    let id = txn.record_change(&ChangeInput {
        key,
        old_offset: Some(expected),
        new_offset: None,
        command: audit.command,
        reason: audit.reason,
        user: audit.user,
        batch: audit.batch,
    })?;
    Ok(Change {
        id: Some(id),
        key: key.clone(),
        old_offset: Some(expected),
        new_offset: None,
        status: Status::Removed,
        dry_run: false,
    })
}

/// Perform one move in its own write transaction (rolled back by
/// `outcome` for a dry run). Without `--expect` the compare-and-swap
/// expects the offset just read: when another writer moved the cursor in
/// between (possible on a store where writers do not lock each other out),
/// the move is read and tried again, until the busy timeout. With
/// `--expect` a stale cursor is the answer.
///
/// # Errors
///
/// As [`move_cursor`], and store failures.
pub fn write_one(
    store: &dyn Store,
    m: &Move<'_>,
    audit: &Audit<'_>,
    outcome: Outcome,
) -> OpResult<Change> {
    // One budget for the store's own retries and the stale ones here: the
    // busy timeout, in total.
    let mut backoff = Backoff::new(store.busy_timeout());
    loop {
        match store.write_then_within(&mut backoff, outcome, |txn| apply_in(txn, m, audit)) {
            Err(e) if m.expect.is_none() && e.is_stale() => {
                if !backoff.wait() {
                    return Err(e);
                }
            }
            result => return result,
        }
    }
}
