//! Write ids: every write transaction carries an id made by the client (128
//! random bits from the operating system, as 32 hex digits), stored with
//! the write in the `writes` table (schema version 4) in the transaction
//! itself. When the connection is lost while committing, the id tells
//! whether the write was committed: found, it was; absent, it is marked
//! "not written" so that it never can be (a transaction still finishing
//! on the server then fails on the mark), and the write was not made.

use std::time::Duration;

use super::{Access, HistoryFilter, HistoryRow, Store, StoreLocation};
use crate::backoff::Backoff;
use crate::error::{StoreError, StoreErrorKind};

/// The first schema version that stores write ids.
pub const WRITE_IDS_VERSION: i64 = 4;

/// A new write id: 128 random bits from the operating system
/// (`/dev/urandom`), as 32 lower-case hex digits. Where that cannot be
/// read, the bits come from the standard library's randomly keyed hasher
/// (itself seeded by the operating system), the time and the process.
#[must_use]
pub fn new_write_id() -> String {
    let mut bytes = [0u8; 16];
    let read = std::fs::File::open("/dev/urandom")
        .and_then(|mut f| std::io::Read::read_exact(&mut f, &mut bytes));
    if read.is_err() {
        use std::hash::{BuildHasher, Hasher};
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos());
        for (i, half) in bytes.chunks_mut(8).enumerate() {
            let mut h = std::collections::hash_map::RandomState::new().build_hasher();
            h.write_u128(nanos);
            h.write_u32(std::process::id());
            h.write_usize(i);
            half.copy_from_slice(&h.finish().to_le_bytes());
        }
    }
    let mut id = String::with_capacity(32);
    for b in bytes {
        use std::fmt::Write as _;
        let _ = write!(id, "{b:02x}");
    }
    id
}

/// Whether `text` is a write id as [`new_write_id`] makes them (so that it
/// can be put in SQL as it is).
#[must_use]
pub fn is_write_id(text: &str) -> bool {
    text.len() == 32 && text.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
}

/// What a store holds of a write, by its id (see [`Store::settle_write`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SettledWrite {
    /// Committed: its batch, and its first change outside a batch.
    Committed {
        /// The batch the write started, if any.
        batch: Option<i64>,
        /// The first change it recorded outside a batch, if any.
        change: Option<i64>,
    },
    /// Not written, and marked so: it never will be.
    NotWritten,
}

/// Whether a write was committed, with its records read back from the
/// store.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum WriteResolution {
    /// Committed: its batch (if it started one) and its changes (the
    /// batch's, and those it recorded outside a batch), read back.
    Committed {
        /// The batch the write started, if any.
        batch: Option<i64>,
        /// Its changes, oldest first.
        changes: Vec<HistoryRow>,
    },
    /// Not written: the store holds nothing of it, and never will.
    NotWritten,
}

/// The cause of a commit whose connection was lost: the write's id and what
/// became of it. It is the [`source`](std::error::Error::source) of the
/// [`StoreError`] the commit returns ([`commit_lost`] finds it).
#[derive(Debug)]
pub struct CommitLost {
    /// The write's id.
    pub write_id: String,
    /// `true`: proven not written (the store has it marked so). `false`:
    /// unknown, as no server that accepts writes answered in time; resolve
    /// it later with [`resolve_write_at`].
    pub not_written: bool,
    /// What happened, for messages.
    pub detail: String,
}

impl std::fmt::Display for CommitLost {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.detail)
    }
}

impl std::error::Error for CommitLost {}

/// The [`CommitLost`] behind a store error, if it is one.
#[must_use]
pub fn commit_lost(e: &StoreError) -> Option<&CommitLost> {
    match e {
        StoreError::Database { source, .. } => source.downcast_ref::<CommitLost>(),
        _ => None,
    }
}

/// Whether a store error is a write proven not written (its commit was
/// lost, and the store holds nothing of it): running it again is safe.
#[must_use]
pub fn is_not_written(e: &StoreError) -> bool {
    commit_lost(e).is_some_and(|c| c.not_written)
}

/// Settle a write by its id on an open store, and read its records back.
///
/// # Errors
///
/// Store failures; [`StoreError::Unsupported`] for a store that keeps no
/// write ids (older than schema version 4, or in memory).
pub fn resolve_write(store: &dyn Store, write_id: &str) -> Result<WriteResolution, StoreError> {
    match store.settle_write(write_id)? {
        SettledWrite::NotWritten => Ok(WriteResolution::NotWritten),
        SettledWrite::Committed { batch, change } => {
            let mut changes = Vec::new();
            if let Some(batch) = batch {
                let filter = HistoryFilter {
                    batch: Some(batch),
                    ..HistoryFilter::default()
                };
                store.visit_changes(&filter, &mut |row| {
                    changes.push(row.clone());
                    std::ops::ControlFlow::Continue(())
                })?;
            }
            if let Some(id) = change {
                if !changes.iter().any(|c| c.id == id) {
                    changes.extend(store.change(id)?);
                }
            }
            Ok(WriteResolution::Committed { batch, changes })
        }
    }
}

/// Open the store at `location` for writing and settle a write by its id
/// ([`resolve_write`]), trying again while the store cannot be reached
/// (a failover under way), until `busy_timeout` has passed. On PostgreSQL
/// the store opened is the one on a server that accepts writes (the
/// primary).
///
/// # Errors
///
/// The last failure to reach the store once `busy_timeout` has passed, and
/// as [`resolve_write`].
pub fn resolve_write_at(
    location: &StoreLocation,
    write_id: &str,
    busy_timeout: Duration,
) -> Result<WriteResolution, StoreError> {
    let pause = Duration::from_millis(200);
    let mut backoff = Backoff::new(busy_timeout).pauses(pause, pause);
    loop {
        let attempt = super::open(location, Access::ReadWrite, busy_timeout)
            .and_then(|store| resolve_write(&*store, write_id));
        match attempt {
            Err(e) if reachable_later(&e) && backoff.wait() => {}
            other => return other,
        }
    }
}

/// Whether a failure may pass once a failover is over: the connection, a
/// read-only server (a standby not yet promoted).
pub(crate) fn reachable_later(e: &StoreError) -> bool {
    matches!(
        e.kind(),
        StoreErrorKind::Connection | StoreErrorKind::ReadOnly
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn write_ids_are_32_hex_digits_and_differ() {
        let a = new_write_id();
        let b = new_write_id();
        assert!(is_write_id(&a), "{a}");
        assert!(is_write_id(&b), "{b}");
        assert_ne!(a, b);
        assert!(!is_write_id("x'; DROP TABLE writes; --"));
        assert!(!is_write_id(&a.to_uppercase()));
    }
}
