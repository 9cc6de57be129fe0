//! Leases as an operator writes them: `lease break` (the live lease of a
//! cursor ended, its epoch grown by one, recorded in the history), and
//! what every operator write does about a leased cursor it writes (the
//! hook: nothing, or with fencing on, that lease broken in the write's
//! transaction). Nothing here prints: the holder of a lease an operator
//! write meets is handed to the front end's notice.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::OnceLock;

use super::error::{ErrorKind, OpResult, Refusal};
use crate::key::CursorKey;
use crate::lease::{break_lease, live_lease, set_operator_write_hook};
use crate::store::{ChangeInput, LeaseRow, Outcome, Store, StoreExt, WriteTxn};
use crate::StoreError;

/// The command recorded in the history for a break.
pub const BREAK_COMMAND: &str = "lease break";

/// Refuse a store whose schema keeps no leases.
///
/// # Errors
///
/// Store: a schema version before leases; store failures.
pub fn require_leases(store: &dyn Store) -> OpResult<()> {
    let version = store.schema_version()?;
    if version < crate::store::LEASES_VERSION {
        return Err(Refusal::new(
            ErrorKind::Store,
            format!("the store has schema version {version}, which keeps no leases: run `cursorctl init` to upgrade it"),
        )
        .into());
    }
    Ok(())
}

/// A lease broken (or, in a dry run, that would be).
#[derive(Clone, Debug)]
pub struct Broken {
    /// The lease as it was, live.
    pub was: LeaseRow,
    /// The lease after the break: epoch + 1, expired at the break.
    pub now: LeaseRow,
    /// The store's clock at the break, in milliseconds.
    pub at: i64,
    /// The change that records the break (rolled back in a dry run).
    pub change: i64,
}

/// End the live lease of `key` (`outcome`: the write, or its dry run,
/// the very same write rolled back), recorded in the history with
/// `reason` by `user`.
///
/// # Errors
///
/// Store: a schema without leases; not found: no live lease on `key`;
/// store failures.
pub fn break_one(
    store: &dyn Store,
    key: &CursorKey,
    reason: &str,
    user: &str,
    outcome: Outcome,
) -> OpResult<Broken> {
    require_leases(store)?;
    store.write_then(outcome, |txn| -> OpResult<Broken> {
        let Some(was) = break_lease(txn, key)? else {
            return Err(Refusal::new(
                ErrorKind::NotFound,
                format!("no live lease is held on {key}: nothing to break"),
            )
            .with("key", key.to_string())
            .into());
        };
        let change = record_break(txn, key, &was, reason, user)?;
        let at = txn.now_ms();
        let now = LeaseRow {
            epoch: was.epoch + 1,
            expires_at: at,
            ..was.clone()
        };
        Ok(Broken {
            was,
            now,
            at,
            change,
        })
    })
}

/// Record a break in the history: a change of the cursor that keeps its
/// offset (old = new; both absent when the cursor does not exist), with
/// the command `lease break` and the reason, which names the holder.
fn record_break(
    txn: &dyn WriteTxn,
    key: &CursorKey,
    was: &LeaseRow,
    reason: &str,
    user: &str,
) -> Result<i64, StoreError> {
    let offset = txn.cursor(key)?.map(|c| c.offset);
    let reason = format!(
        "{reason} (lease of {} at epoch {} broken, now epoch {})",
        was.owner,
        was.epoch,
        was.epoch + 1
    );
    txn.record_change(&ChangeInput {
        key,
        old_offset: offset,
        new_offset: offset,
        command: BREAK_COMMAND,
        reason: Some(&reason),
        user,
        batch: None,
    })
}

/// What the front end is told when an operator write meets a live lease:
/// the cursor, the lease as it was, and whether the write broke it.
pub type LeaseNotice = fn(&CursorKey, &LeaseRow, bool);

/// How operator writes treat leased cursors, set once for the process.
struct Policy {
    user: String,
    notice: LeaseNotice,
}

static FENCE: AtomicBool = AtomicBool::new(false);
static POLICY: OnceLock<Policy> = OnceLock::new();

/// Register [`on_write`] as the operator write hook of the process: with
/// `fence`, every operator write breaks the live lease of each cursor it
/// writes, in its transaction, recorded as by `user`; `notice` hears of
/// each live lease met (a transaction run again may tell it twice).
pub fn register_write_hook(fence: bool, user: String, notice: LeaseNotice) {
    FENCE.store(fence, Ordering::Relaxed);
    let _ = POLICY.set(Policy { user, notice });
    set_operator_write_hook(on_write);
}

/// What an operator write does about the cursor `key` it writes, in its
/// transaction: nothing without a live lease; with one, the notice is
/// told, and with fencing on the lease is broken (epoch + 1, recorded in
/// the history) so that its holder's next checkpoint is fenced.
///
/// # Errors
///
/// Store failures.
pub fn on_write(txn: &dyn WriteTxn, key: &CursorKey, command: &str) -> Result<(), StoreError> {
    let fence = FENCE.load(Ordering::Relaxed);
    let held = if fence {
        break_lease(txn, key)?
    } else {
        live_lease(txn, key)?
    };
    if let Some(held) = held {
        let policy = POLICY.get();
        if fence {
            let user = policy.map_or("unknown", |p| p.user.as_str());
            record_break(txn, key, &held, &format!("--fence by {command}"), user)?;
        }
        if let Some(policy) = policy {
            (policy.notice)(key, &held, fence);
        }
    }
    Ok(())
}
