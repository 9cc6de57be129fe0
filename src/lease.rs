//! Leases: one live owner per cursor, with a fencing epoch.
//!
//! A consumer instance that holds a cursor's **lease** is its one live
//! owner: the lease names the owner (free text, such as `host-7:pid-4121`),
//! its expiry on the **store's clock**, and a **fencing epoch** that grows by
//! one at every acquisition and every break. A checkpoint through a lease
//! ([`Lease::guard`], or a [`CheckpointDriver`](crate::CheckpointDriver)
//! that holds one) is written only while that lease is live and of that
//! epoch; otherwise it is refused as [`DurabilityError::Fenced`] and writes
//! nothing. A holder that was paused (a stopped process, a cut link) past
//! its expiry thus cannot write over the progress of the owner that took
//! over.
//!
//! Expiry is decided by the store, in the statement that checks it: the
//! library never compares a lease's expiry with the local clock. The only
//! local clock it reads is a monotonic one, to decide *when* to renew
//! ([`Lease::renew_due`]): a wrong guess there costs one statement, never a
//! checkpoint accepted on an expired lease.
//!
//! - [`acquire`]: take a cursor's lease, refused with
//!   [`DurabilityError::LeaseHeld`] while another owner's lease is live;
//! - [`Lease::renew`]: push the expiry on, one statement;
//! - [`Lease::release`]: end it now (the next owner need not wait);
//! - [`break_lease`]: an operator ends a live lease (epoch + 1), in the
//!   caller's write transaction.

use std::time::{Duration, Instant};

use crate::error::{DurabilityError, StoreError};
use crate::key::CursorKey;
use crate::store::{DurableStore, LeaseRow, Store, StoreExt, Visit, WriteTxn, LEASES_VERSION};

/// A lease a consumer instance holds on one cursor.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Lease {
    key: String,
    owner: String,
    epoch: u64,
    ttl: Duration,
    expires_at: i64,
    renewed: Instant,
}

/// A lease's time to live in milliseconds, as the store adds it.
fn ttl_ms(ttl: Duration) -> i64 {
    i64::try_from(ttl.as_millis()).unwrap_or(i64::MAX).max(1)
}

/// Acquire the lease on `key` for `owner`, live for `ttl` from now on the
/// store's clock, in one write transaction. The epoch is one more than the
/// cursor's last (1 for the first). An expired lease, a released or broken
/// one, or a live one of the same `owner`, is taken over.
///
/// # Errors
///
/// [`DurabilityError::LeaseHeld`] (naming the owner and the expiry) while
/// another owner's lease is live; store failures, among them a store older
/// than schema version 4.
pub fn acquire(
    store: &dyn Store,
    key: &CursorKey,
    owner: &str,
    ttl: Duration,
) -> Result<Lease, DurabilityError> {
    let row = store.write(|txn| acquire_in(txn, key, owner, ttl))?;
    Ok(Lease {
        key: key.to_string(),
        owner: row.owner,
        epoch: row.epoch,
        ttl,
        expires_at: row.expires_at,
        renewed: Instant::now(),
    })
}

/// [`acquire`] inside a write transaction; the lease as written.
///
/// # Errors
///
/// As [`acquire`].
pub fn acquire_in(
    txn: &dyn WriteTxn,
    key: &CursorKey,
    owner: &str,
    ttl: Duration,
) -> Result<LeaseRow, DurabilityError> {
    let previous = txn.lock_lease(key)?;
    let now = txn.clock_now_ms()?;
    if let Some(held) = &previous {
        if held.is_live(now) && held.owner != owner {
            return Err(DurabilityError::LeaseHeld {
                key: key.to_string(),
                owner: held.owner.clone(),
                expires_at: held.expires_at,
            });
        }
    }
    let pk = key.partition_key();
    let row = LeaseRow {
        consumer: key.consumer().as_str().to_owned(),
        channel: pk.channel().as_str().to_owned(),
        partition: pk.index(),
        owner: owner.to_owned(),
        epoch: previous.map_or(0, |p| p.epoch) + 1,
        acquired_at: now,
        expires_at: now.saturating_add(ttl_ms(ttl)),
    };
    txn.put_lease(&row)?;
    Ok(row)
}

impl Lease {
    /// The cursor key.
    #[must_use]
    pub fn key(&self) -> &str {
        &self.key
    }

    /// Who holds it.
    #[must_use]
    pub fn owner(&self) -> &str {
        &self.owner
    }

    /// Its fencing epoch.
    #[must_use]
    pub const fn epoch(&self) -> u64 {
        self.epoch
    }

    /// Its time to live at each acquisition and renewal.
    #[must_use]
    pub const fn ttl(&self) -> Duration {
        self.ttl
    }

    /// Its expiry as the store last set it (store-clock ms since the Unix
    /// epoch). Whether it has passed is for the store to say.
    #[must_use]
    pub const fn expires_at(&self) -> i64 {
        self.expires_at
    }

    /// Whether half the time to live has gone by since the lease was
    /// acquired or last renewed, by the local monotonic clock: the time to
    /// renew. This schedules renewals only; expiry itself is judged by the
    /// store.
    #[must_use]
    pub fn renew_due(&self) -> bool {
        self.renewed.elapsed() >= self.ttl / 2
    }

    /// Renew the lease for its time to live from now on the store's clock:
    /// one statement, which succeeds only on the live lease of this owner
    /// and epoch.
    ///
    /// # Errors
    ///
    /// [`DurabilityError::Fenced`] when the lease expired, was broken or
    /// was taken over (stop processing, acquire again, resynchronise);
    /// store failures.
    pub fn renew(&mut self, store: &dyn DurableStore) -> Result<(), DurabilityError> {
        let started = Instant::now();
        self.expires_at =
            store.renew_lease(&self.key, &self.owner, self.epoch, ttl_ms(self.ttl))?;
        self.renewed = started;
        Ok(())
    }

    /// End the lease now, so the next owner need not wait for its expiry.
    /// Its epoch stays; the next acquisition takes the next one.
    ///
    /// # Errors
    ///
    /// [`DurabilityError::Fenced`] when this lease was no longer the live
    /// one (nothing to release); store failures.
    pub fn release(self, store: &dyn Store) -> Result<(), DurabilityError> {
        let key = CursorKey::parse(&self.key)?;
        store.write(|txn| {
            let current = txn.lock_lease(&key)?;
            let now = txn.clock_now_ms()?;
            check_live(&self.key, self.epoch, current.as_ref(), now)?;
            if let Some(mut row) = current {
                row.expires_at = now;
                txn.put_lease(&row)?;
            }
            Ok::<_, DurabilityError>(())
        })
    }

    /// A view of `store` whose compare-and-swap goes through this lease:
    /// give it to [`ConsumerCursor::checkpoint`](crate::ConsumerCursor::checkpoint).
    #[must_use]
    pub fn guard<'a>(&'a self, store: &'a dyn DurableStore) -> Guarded<'a> {
        Guarded { lease: self, store }
    }
}

/// A store seen through a lease: reads pass through, every
/// compare-and-swap is [`DurableStore::leased_cas`] with the lease's epoch.
pub struct Guarded<'a> {
    lease: &'a Lease,
    store: &'a dyn DurableStore,
}

impl DurableStore for Guarded<'_> {
    fn read_value(&self, key: &str) -> Result<Option<u64>, DurabilityError> {
        self.store.read_value(key)
    }

    fn cas(&self, key: &str, expected: u64, new: u64) -> Result<(), DurabilityError> {
        if key != self.lease.key {
            return Err(DurabilityError::Fenced {
                key: key.to_owned(),
                epoch: self.lease.epoch,
                detail: format!(
                    "the lease held is on {}, not on this cursor",
                    self.lease.key
                ),
            });
        }
        self.store.leased_cas(key, self.lease.epoch, expected, new)
    }

    fn read_value_keyed(&self, key: &CursorKey) -> Result<Option<u64>, DurabilityError> {
        self.store.read_value_keyed(key)
    }

    fn cas_keyed(&self, key: &CursorKey, expected: u64, new: u64) -> Result<(), DurabilityError> {
        if !key.is_text(&self.lease.key) {
            return self.cas(&key.to_string(), expected, new);
        }
        self.store
            .leased_cas_keyed(key, self.lease.epoch, expected, new)
    }
}

/// Why a checkpoint of epoch `epoch` on `key` is fenced, judged against the
/// lease the store holds at `now` (store-clock ms); `Ok` when it is not.
///
/// # Errors
///
/// [`DurabilityError::Fenced`] saying why.
pub fn check_live(
    key: &str,
    epoch: u64,
    current: Option<&LeaseRow>,
    now: i64,
) -> Result<(), DurabilityError> {
    let detail = match current {
        None => "no lease is held on it".to_owned(),
        Some(row) if row.epoch != epoch => format!(
            "the lease is now of epoch {} (owner {}), not {epoch}: it was broken or taken over",
            row.epoch, row.owner
        ),
        Some(row) if !row.is_live(now) => format!(
            "the lease of epoch {epoch} expired at {} (store clock {now})",
            row.expires_at
        ),
        Some(_) => return Ok(()),
    };
    Err(DurabilityError::Fenced {
        key: key.to_owned(),
        epoch,
        detail,
    })
}

/// A compare-and-swap through a lease inside a write transaction: the lease
/// is read and locked, checked (live, of `epoch`), then the guarded
/// compare-and-swap runs. The general path every backend falls back to
/// when its one-statement path wrote nothing.
///
/// # Errors
///
/// As [`DurableStore::leased_cas`].
pub fn leased_cas_in(
    txn: &dyn WriteTxn,
    key: &CursorKey,
    epoch: u64,
    expected: u64,
    new: u64,
) -> Result<(), DurabilityError> {
    let current = txn.lock_lease(key)?;
    check_live(
        &key.to_string(),
        epoch,
        current.as_ref(),
        txn.clock_now_ms()?,
    )?;
    txn.cas_keyed(key, expected, new)
}

/// The fenced error of a store that keeps no leases.
pub(crate) fn no_leases(key: &str, epoch: u64) -> DurabilityError {
    DurabilityError::Fenced {
        key: key.to_owned(),
        epoch,
        detail: format!(
            "the store keeps no leases (schema version {LEASES_VERSION} or later does: run `cursorctl init` to upgrade it)"
        ),
    }
}

/// The error of a lease write on a store older than schema version 4.
#[must_use]
pub fn older_store(version: i64) -> StoreError {
    StoreError::Database {
        context: format!(
            "the store has schema version {version}, which keeps no leases: upgrade it with `cursorctl init`"
        ),
        kind: crate::error::StoreErrorKind::Other,
        source: "no leases table".into(),
    }
}

/// End the live lease on `key` in the caller's write transaction: its epoch
/// grows by one and it expires now, so its holder's next checkpoint is
/// fenced. Returns the lease as it was before (`None`, and nothing written,
/// when no live lease is held).
///
/// # Errors
///
/// Store failures.
pub fn break_lease(txn: &dyn WriteTxn, key: &CursorKey) -> Result<Option<LeaseRow>, StoreError> {
    let current = txn.lock_lease(key)?;
    let now = txn.clock_now_ms()?;
    match current {
        Some(row) if row.is_live(now) => {
            let broken = LeaseRow {
                epoch: row.epoch + 1,
                expires_at: now,
                ..row.clone()
            };
            txn.put_lease(&broken)?;
            Ok(Some(row))
        }
        _ => Ok(None),
    }
}

/// The live lease on `key` at the transaction's time, if any.
///
/// # Errors
///
/// Store failures.
pub fn live_lease(txn: &dyn WriteTxn, key: &CursorKey) -> Result<Option<LeaseRow>, StoreError> {
    let Some(row) = txn.lease(key)? else {
        return Ok(None);
    };
    let now = txn.clock_now_ms()?;
    Ok(row.is_live(now).then_some(row))
}

/// What an operator's write does about a leased cursor, set by the front
/// end (the command line registers `ops::lease::on_write`: a note naming
/// the holder, and with `--fence` the lease broken in the write's
/// transaction).
pub type OperatorWriteHook = fn(&dyn WriteTxn, &CursorKey, &str) -> Result<(), StoreError>;

static OPERATOR_WRITE_HOOK: std::sync::OnceLock<OperatorWriteHook> = std::sync::OnceLock::new();

/// Set the [`OperatorWriteHook`] once for the process.
pub fn set_operator_write_hook(hook: OperatorWriteHook) {
    let _ = OPERATOR_WRITE_HOOK.set(hook);
}

/// Called by every operator write (the operations layer) in its
/// transaction, before it writes the cursor `key` for `command`.
///
/// # Errors
///
/// What the hook returns.
pub fn operator_write(
    txn: &dyn WriteTxn,
    key: &CursorKey,
    command: &str,
) -> Result<(), StoreError> {
    OPERATOR_WRITE_HOOK
        .get()
        .map_or(Ok(()), |hook| hook(txn, key, command))
}

/// [`operator_write`] for the cursors of a write that changes many at once
/// (the set of changes a bulk write makes in one statement), before it
/// writes them: the store's leases are read once, and the hook runs for
/// each cursor that has one (whether it is live is the hook's to judge, in
/// the transaction). Without a hook, or without leases, one read.
///
/// # Errors
///
/// Store failures, and what the hook returns.
pub fn operator_writes<'k>(
    txn: &dyn WriteTxn,
    changes: impl IntoIterator<Item = (&'k CursorKey, &'k str)>,
) -> Result<(), StoreError> {
    if OPERATOR_WRITE_HOOK.get().is_none() {
        return Ok(());
    }
    let mut leased = std::collections::HashSet::new();
    txn.visit_leases(None, &mut |row| {
        leased.insert(row.key());
        Visit::Continue(())
    })?;
    if leased.is_empty() {
        return Ok(());
    }
    for (key, command) in changes {
        if leased.contains(&key.to_string()) {
            operator_write(txn, key, command)?;
        }
    }
    Ok(())
}
