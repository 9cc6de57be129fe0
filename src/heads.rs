//! Heads, lag and status: where each partition ends, and how far behind
//! each cursor is.
//!
//! A **head** is the offset the next message appended to a partition will
//! get (its log end offset), recorded per partition key with the store-clock
//! time it was recorded. The message system (its producers, or a bridge
//! from its own tooling) records heads with [`record_head`]; cursorctl
//! never guesses them. **Lag** is `head - offset`, never negative
//! ([`lag`]); [`CursorStatus`] says whether a cursor needs attention.
//!
//! Heads only move forward: a lower head is refused as a regression unless
//! the write allows a rewind (a log truncated or recreated). Every head
//! change is recorded in the head history in the transaction of the change.

use std::time::Duration;

use crate::error::StoreError;
use crate::key::{CursorKey, PartitionKey};
use crate::parse::MAX_OFFSET;
use crate::store::{HeadChangeInput, Store, StoreExt, StoreRead, WriteTxn, HEADS_VERSION};

/// The default of `status --stall-after`: a cursor with lag that has not
/// moved for this long is stalled.
pub const DEFAULT_STALL_AFTER: Duration = Duration::from_secs(300);

/// A cursor's lag: `head - offset`, never negative (`None` without a
/// head). A cursor past its head has lag 0.
#[must_use]
pub const fn lag(offset: u64, head: Option<u64>) -> Option<u64> {
    match head {
        Some(head) => Some(head.saturating_sub(offset)),
        None => None,
    }
}

/// Where a cursor stands against its partition's head.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum CursorStatus {
    /// No head is known for its partition.
    NoHead,
    /// Its offset is past the head: the log or the store is wrong.
    Ahead,
    /// Lag 0.
    Ok,
    /// Lag above 0, and it moved within the stall time.
    Behind,
    /// Lag above 0, and it has not moved for the stall time.
    Stalled,
    /// Lag above 0, and no live lease on it while its consumer uses leases
    /// (schema version 4): no instance is consuming it.
    Orphaned,
}

impl CursorStatus {
    /// Every status, in the order they are listed.
    pub const ALL: [Self; 6] = [
        Self::NoHead,
        Self::Ahead,
        Self::Ok,
        Self::Behind,
        Self::Stalled,
        Self::Orphaned,
    ];

    /// The status as it is written: `no-head`, `ahead`, `ok`, `behind`,
    /// `stalled`.
    #[must_use]
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::NoHead => "no-head",
            Self::Ahead => "ahead",
            Self::Ok => "ok",
            Self::Behind => "behind",
            Self::Stalled => "stalled",
            Self::Orphaned => "orphaned",
        }
    }

    /// Whether an operator must look at the cursor (`stalled`, `ahead`,
    /// `orphaned`).
    #[must_use]
    pub const fn needs_attention(self) -> bool {
        matches!(self, Self::Stalled | Self::Ahead | Self::Orphaned)
    }

    /// The status with the cursor's lease taken into account: a cursor
    /// with lag (`behind` or `stalled`) whose consumer uses leases
    /// (`consumer_uses_leases`) and that has no live lease (`leased`) is
    /// `orphaned`.
    #[must_use]
    pub const fn with_lease(self, consumer_uses_leases: bool, leased: bool) -> Self {
        match self {
            Self::Behind | Self::Stalled if consumer_uses_leases && !leased => Self::Orphaned,
            other => other,
        }
    }

    /// The status of a cursor at `offset`, last moved at `since` (ms on the
    /// store's clock; `None`: unknown, counted as long ago), against `head`,
    /// judged at `now` (the store's clock) with `stall_after`.
    #[must_use]
    pub fn of(
        offset: u64,
        head: Option<u64>,
        since: Option<i64>,
        now: i64,
        stall_after: Duration,
    ) -> Self {
        let Some(head) = head else {
            return Self::NoHead;
        };
        if offset > head {
            return Self::Ahead;
        }
        if offset == head {
            return Self::Ok;
        }
        let stall_ms = i64::try_from(stall_after.as_millis()).unwrap_or(i64::MAX);
        match since {
            Some(since) if now.saturating_sub(since) < stall_ms => Self::Behind,
            _ => Self::Stalled,
        }
    }
}

impl std::fmt::Display for CursorStatus {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Why a head was not written.
#[derive(Debug, thiserror::Error)]
pub enum HeadError {
    /// The new head is below the recorded one and no rewind was allowed;
    /// nothing was written.
    #[error("head regression refused on {partition_key}: head {attempted} is below the recorded head {current}")]
    Regression {
        /// The partition key.
        partition_key: String,
        /// The recorded head.
        current: u64,
        /// The head that was asked for.
        attempted: u64,
    },
    /// The recorded head kept changing under concurrent writers; nothing
    /// was written.
    #[error("the head of {partition_key} changed while it was written (it holds {}); nothing was written, retry", describe(*actual))]
    Stale {
        /// The partition key.
        partition_key: String,
        /// The head the store holds.
        actual: Option<u64>,
    },
    /// The head is above the largest offset a store can hold.
    #[error("head {head} is above the limit {MAX_OFFSET}")]
    TooLarge {
        /// The head that was asked for.
        head: u64,
    },
    /// The store is of a schema version that keeps no heads.
    #[error("the store has schema version {version}, which keeps no heads: upgrade it with init")]
    NoHeads {
        /// The store's schema version.
        version: i64,
    },
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

fn describe(head: Option<u64>) -> String {
    head.map_or_else(|| "no head".to_owned(), |h| format!("head {h}"))
}

/// Who writes a head and why: what the head history records.
#[derive(Clone, Copy, Debug)]
pub struct HeadAudit<'a> {
    /// The command (`head set`, or what a recorder calls itself).
    pub command: &'a str,
    /// Why (a rewind needs one on the command line).
    pub reason: Option<&'a str>,
    /// Who.
    pub user: &'a str,
}

/// What a head write did (or, planned against a read view, would do).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct HeadWrite {
    /// The head before (`None`: none was recorded).
    pub old: Option<u64>,
    /// The head after.
    pub new: u64,
    /// The id of the head history row (`None`: the head stayed the same,
    /// only its time was renewed, or nothing was written).
    pub change_id: Option<i64>,
}

impl HeadWrite {
    /// `created`, `rewound`, `moved` or `unchanged`.
    #[must_use]
    pub const fn status(&self) -> &'static str {
        match self.old {
            None => "created",
            Some(old) if self.new < old => "rewound",
            Some(old) if self.new > old => "moved",
            Some(_) => "unchanged",
        }
    }
}

/// Check a head write against what `view` holds, writing nothing: the
/// plan of a dry run, and the first step of [`write_head`].
///
/// # Errors
///
/// [`HeadError::Regression`], [`HeadError::TooLarge`], store failures.
pub fn plan_head(
    view: &dyn StoreRead,
    key: &PartitionKey,
    new: u64,
    allow_rewind: bool,
) -> Result<HeadWrite, HeadError> {
    let old = view.head(key)?.map(|h| h.head);
    check(key, old, new, allow_rewind)?;
    Ok(HeadWrite {
        old,
        new,
        change_id: None,
    })
}

fn check(
    key: &PartitionKey,
    old: Option<u64>,
    new: u64,
    allow_rewind: bool,
) -> Result<(), HeadError> {
    if new > MAX_OFFSET {
        return Err(HeadError::TooLarge { head: new });
    }
    match old {
        Some(current) if new < current && !allow_rewind => Err(HeadError::Regression {
            partition_key: key.to_string(),
            current,
            attempted: new,
        }),
        _ => Ok(()),
    }
}

/// Write a partition's head in a write transaction, guarded like a
/// compare-and-swap against the head just read, and record the change in
/// the head history (a head that stays the same only renews its
/// `recorded_at`, with no history row). Heads move forward only, unless
/// `allow_rewind`. When another writer moves the head between the read and
/// the write, the head is read again and the checks made again.
///
/// # Errors
///
/// [`HeadError::Regression`], [`HeadError::TooLarge`],
/// [`HeadError::Stale`] when the head keeps changing, store failures.
pub fn write_head(
    txn: &dyn WriteTxn,
    key: &PartitionKey,
    new: u64,
    allow_rewind: bool,
    audit: HeadAudit<'_>,
) -> Result<HeadWrite, HeadError> {
    let mut old = txn.head(key)?.map(|h| h.head);
    for _ in 0..5 {
        check(key, old, new, allow_rewind)?;
        match txn.swap_head(key, old, new)? {
            Ok(()) => {
                let change_id = if old == Some(new) {
                    None
                } else {
                    Some(txn.record_head_change(&HeadChangeInput {
                        key,
                        old_head: old,
                        new_head: new,
                        command: audit.command,
                        reason: audit.reason,
                        user: audit.user,
                    })?)
                };
                return Ok(HeadWrite {
                    old,
                    new,
                    change_id,
                });
            }
            Err(actual) => old = actual,
        }
    }
    Err(HeadError::Stale {
        partition_key: key.to_string(),
        actual: old,
    })
}

/// Check that `store` keeps heads (schema version 3 or later).
///
/// # Errors
///
/// [`HeadError::NoHeads`], store failures.
pub fn require_heads(store: &dyn Store) -> Result<(), HeadError> {
    let version = store.schema_version()?;
    if version < HEADS_VERSION {
        return Err(HeadError::NoHeads { version });
    }
    Ok(())
}

/// Record one partition's head, forward only, in its own transaction: what
/// the message system (or a bridge from its tooling) calls as its
/// partitions grow.
///
/// # Errors
///
/// As [`write_head`], and [`HeadError::NoHeads`].
pub fn record_head(
    store: &dyn Store,
    key: &PartitionKey,
    head: u64,
    audit: HeadAudit<'_>,
) -> Result<HeadWrite, HeadError> {
    require_heads(store)?;
    store.write(|txn| write_head(txn, key, head, false, audit))
}

/// A cursor's offset against its partition's head.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CursorLag {
    /// The cursor's offset (0 for an absent cursor).
    pub offset: u64,
    /// The head (`None`: none is known).
    pub head: Option<u64>,
    /// `head - offset`, never negative.
    pub lag: Option<u64>,
}

/// Read one cursor's lag.
///
/// # Errors
///
/// Store failures.
pub fn read_lag(view: &dyn StoreRead, key: &CursorKey) -> Result<CursorLag, StoreError> {
    let offset = view.cursor(key)?.map_or(0, |c| c.offset);
    let head = view.head(key.partition_key())?.map(|h| h.head);
    Ok(CursorLag {
        offset,
        head,
        lag: lag(offset, head),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lag_is_never_negative() {
        assert_eq!(lag(5, Some(10)), Some(5));
        assert_eq!(lag(10, Some(5)), Some(0));
        assert_eq!(lag(10, None), None);
    }

    #[test]
    fn statuses_follow_the_rules() {
        let five_min = Duration::from_secs(300);
        let now = 1_000_000;
        assert_eq!(
            CursorStatus::of(1, None, Some(now), now, five_min),
            CursorStatus::NoHead
        );
        assert_eq!(
            CursorStatus::of(9, Some(5), Some(now), now, five_min),
            CursorStatus::Ahead
        );
        assert_eq!(
            CursorStatus::of(5, Some(5), Some(0), now, five_min),
            CursorStatus::Ok
        );
        assert_eq!(
            CursorStatus::of(1, Some(5), Some(now - 299_999), now, five_min),
            CursorStatus::Behind
        );
        assert_eq!(
            CursorStatus::of(1, Some(5), Some(now - 300_000), now, five_min),
            CursorStatus::Stalled
        );
        assert_eq!(
            CursorStatus::of(1, Some(5), None, now, five_min),
            CursorStatus::Stalled
        );
    }
}
