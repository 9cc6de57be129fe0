//! Failover: a write whose connection was lost while committing is settled
//! by its write id on whichever server now accepts writes (the primary, the
//! same one or a promoted standby), before the commit returns.
//!
//! Every write transaction inserts its row into `writes` in the message
//! that commits it. To settle one, a new connection inserts the id marked
//! `not_written`, doing nothing when the id is there: a transaction of the
//! write still finishing on the server holds the id's index entry, so the
//! insert waits for it to end. Then the row tells: the write's own row
//! (committed), or the mark (not written; the write can no longer commit,
//! as its own insert would now fail on the id).

use std::time::{Duration, Instant};

use super::connect::{self, SessionAttrs};
use super::PostgresStore;
use crate::backoff::Backoff;
use crate::error::{StoreError, StoreErrorKind};
use crate::store::{Access, CommitLost, SettledWrite};

/// The mark of a write proven not written; nothing when the write's row is
/// there.
const MARK_NOT_WRITTEN: &str = "INSERT INTO writes (write_id, at, not_written) \
     VALUES ($1, (extract(epoch from clock_timestamp()) * 1000)::bigint, true) \
     ON CONFLICT (write_id) DO NOTHING";

const FIND_WRITE: &str = "SELECT batch, change, not_written FROM writes WHERE write_id = $1";

/// The statements that record a write when it commits: its row in
/// `writes`, then `COMMIT`, sent as one message (no round trip more than a
/// plain `COMMIT`).
pub(super) fn commit_sql(write_id: &str, batch: Option<i64>, change: Option<i64>) -> String {
    let id = |v: Option<i64>| v.map_or_else(|| "NULL".to_owned(), |v| v.to_string());
    debug_assert!(crate::store::is_write_id(write_id));
    format!(
        "INSERT INTO writes (write_id, at, batch, change) \
         SELECT '{write_id}', (extract(epoch from clock_timestamp()) * 1000)::bigint, {}, {} \
         WHERE txid_current_if_assigned() IS NOT NULL; COMMIT",
        id(batch),
        id(change)
    )
}

/// Settle a write by its id on the store's connection (outside any
/// transaction): committed, or not written (and marked so).
pub(super) fn settle(store: &PostgresStore, write_id: &str) -> Result<SettledWrite, StoreError> {
    if store.version.get() < crate::store::WRITE_IDS_VERSION {
        return Err(StoreError::Unsupported {
            location: store.location.clone(),
            detail: "this store keeps no write ids (schema version 4 and later do: `cursorctl init` upgrades a store)".to_owned(),
        });
    }
    let mut client = store.client.borrow_mut();
    client
        .execute(MARK_NOT_WRITTEN, &[&write_id])
        .map_err(|e| store.error("looking up a write id", e))?;
    let row = client
        .query_opt(FIND_WRITE, &[&write_id])
        .map_err(|e| store.error("looking up a write id", e))?;
    match row {
        Some(row) if row.get::<_, bool>(2) => Ok(SettledWrite::NotWritten),
        Some(row) => Ok(SettledWrite::Committed {
            batch: row.get(0),
            change: row.get(1),
        }),
        None => Err(StoreError::Database {
            context: format!("looking up a write id ({})", store.describe),
            kind: StoreErrorKind::Other,
            source: "the write id is neither recorded nor marked not written".into(),
        }),
    }
}

/// Connect the store again, to a server that accepts writes, whatever the
/// location asks for (a write is settled on the primary). A connection
/// that fails is tried again with its caller's `backoff`: the reconnect
/// spends the budget of the whole settling, never one of its own.
fn reconnect(store: &PostgresStore, backoff: &mut Backoff) -> Result<(), StoreError> {
    let target = connect::target(&store.origin, Access::ReadWrite, store.busy_timeout)?;
    let client = retry_within(
        backoff,
        || connect::connect_as(&target, SessionAttrs::ReadWrite, true),
        |e| e.kind() == StoreErrorKind::Connection,
    )?;
    store.reconnected(client);
    store.statements.borrow_mut().clear();
    store.in_transaction.set(false);
    Ok(())
}

/// Run `attempt` until it succeeds, fails for good (`again` says no), or
/// `backoff` is spent (the last failure is returned).
fn retry_within<T>(
    backoff: &mut Backoff,
    mut attempt: impl FnMut() -> Result<T, StoreError>,
    again: impl Fn(&StoreError) -> bool,
) -> Result<T, StoreError> {
    retry_with_clock(
        backoff,
        &mut Instant::now,
        &mut std::thread::sleep,
        |_| attempt(),
        again,
    )
}

/// [`retry_within`] with its clock and its sleep given, and the backoff
/// lent to each attempt (which may spend part of it in a loop of its own).
fn retry_with_clock<T>(
    backoff: &mut Backoff,
    now: &mut dyn FnMut() -> Instant,
    sleep: &mut dyn FnMut(Duration),
    mut attempt: impl FnMut(&mut Backoff) -> Result<T, StoreError>,
    again: impl Fn(&StoreError) -> bool,
) -> Result<T, StoreError> {
    loop {
        match attempt(backoff) {
            Ok(v) => return Ok(v),
            Err(e) if again(&e) => match backoff.next_pause(now()) {
                Some(pause) => sleep(pause),
                None => return Err(e),
            },
            Err(e) => return Err(e),
        }
    }
}

/// The write of `write_id` lost its connection while committing (`lost`):
/// reach a server that accepts writes within the busy timeout and settle
/// it. `Ok` when it was committed (its batch and first change as the
/// transaction recorded them); an error saying "not written" when it was
/// not; "unknown" only when no such server answered in time.
pub(super) fn settle_lost_commit(
    store: &PostgresStore,
    write_id: &str,
    batch: Option<i64>,
    change: Option<i64>,
    lost: &StoreError,
) -> Result<(), StoreError> {
    let started = Instant::now();
    // One budget, the busy timeout, for the whole settling: its reconnects
    // pause with the same backoff.
    let mut backoff = super::reconnect_backoff(store.busy_timeout);
    let context = format!("committing ({})", store.describe);
    let lost_detail = match lost {
        StoreError::Database { source, .. } | StoreError::ConnectionLost { source, .. } => {
            source.to_string()
        }
        other => other.to_string(),
    };
    let settled = retry_with_clock(
        &mut backoff,
        &mut Instant::now,
        &mut std::thread::sleep,
        |backoff| reconnect(store, backoff).and_then(|()| settle(store, write_id)),
        |e| crate::store::write_id::reachable_later(e) || e.is_busy(),
    );
    match settled {
        Ok(SettledWrite::Committed {
            batch: found_batch,
            change: found_change,
        }) => {
            if (found_batch, found_change) == (batch, change) {
                return Ok(());
            }
            Err(StoreError::Database {
                context,
                kind: StoreErrorKind::Other,
                source: format!(
                    "the write id {write_id} is recorded with another batch or change than this write made"
                )
                .into(),
            })
        }
        Ok(SettledWrite::NotWritten) => Err(StoreError::Database {
            context: format!(
                "{context}: the connection was lost while committing ({lost_detail}), and the server that accepts writes now does not hold the write: not written (nothing of it was written, and it never will be)"
            ),
            kind: StoreErrorKind::Connection,
            source: Box::new(CommitLost {
                write_id: write_id.to_owned(),
                not_written: true,
                detail: format!("write id {write_id}: not written"),
            }),
        }),
        Err(e) => Err(unknown(&context, write_id, &lost_detail, &e, started)),
    }
}

/// No server that accepts writes settled the write in time.
fn unknown(
    context: &str,
    write_id: &str,
    lost: &str,
    last: &StoreError,
    started: Instant,
) -> StoreError {
    let last = match last {
        StoreError::Database {
            context, source, ..
        } => format!("{context}: {source}"),
        other => other.to_string(),
    };
    StoreError::Database {
        context: format!(
            "{context}: the connection was lost while committing ({lost}), and no server that accepts writes could settle the write in {} (the busy timeout; last: {last}): whether it was committed is unknown; its write id is {write_id}: read the store (`get`, `history`) before trying again",
            humantime::format_duration(Duration::from_millis(
                u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX)
            ))
        ),
        kind: StoreErrorKind::Connection,
        source: Box::new(CommitLost {
            write_id: write_id.to_owned(),
            not_written: false,
            detail: format!("write id {write_id}: unknown"),
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::cell::Cell;

    const MS: Duration = Duration::from_millis(1);

    fn lost() -> StoreError {
        StoreError::Database {
            context: "connecting".to_owned(),
            kind: StoreErrorKind::Connection,
            source: "refused".into(),
        }
    }

    /// An outer loop whose attempts run an inner loop (the reconnect) with
    /// the same backoff: the pauses of both together stay within the one
    /// budget, and the last failure is returned when it is spent.
    #[test]
    fn nested_retries_share_one_budget() {
        let start = Instant::now();
        let clock = Cell::new(start);
        let mut backoff = Backoff::starting(start, 250 * MS);
        let (mut outer, mut inner) = (0, 0);
        let result: Result<(), StoreError> = retry_with_clock(
            &mut backoff,
            &mut || clock.get(),
            &mut |pause| clock.set(clock.get() + pause),
            |backoff| {
                outer += 1;
                retry_with_clock(
                    backoff,
                    &mut || clock.get(),
                    &mut |pause| clock.set(clock.get() + pause),
                    |_| -> Result<(), StoreError> {
                        inner += 1;
                        Err(lost())
                    },
                    |e| e.kind() == StoreErrorKind::Connection,
                )
            },
            |e| e.kind() == StoreErrorKind::Connection,
        );
        assert!(result.is_err());
        assert_eq!(
            clock.get() - start,
            250 * MS,
            "all pauses, once, within the budget"
        );
        assert!(backoff.is_spent(clock.get()));
        assert!(
            inner > outer,
            "the inner loop retried within the shared budget"
        );
        assert_eq!(outer, 1, "the inner loop spent the budget: no outer retry");
    }

    #[test]
    fn a_failure_for_good_is_not_retried() {
        let start = Instant::now();
        let mut backoff = Backoff::starting(start, 250 * MS);
        let mut tries = 0;
        let mut slept = Duration::ZERO;
        let result: Result<(), StoreError> = retry_with_clock(
            &mut backoff,
            &mut || start,
            &mut |pause| slept += pause,
            |_| {
                tries += 1;
                Err(StoreError::Database {
                    context: "settling".to_owned(),
                    kind: StoreErrorKind::Other,
                    source: "no such table".into(),
                })
            },
            |e| e.kind() == StoreErrorKind::Connection,
        );
        assert_eq!(result.unwrap_err().kind(), StoreErrorKind::Other);
        assert_eq!((tries, slept), (1, Duration::ZERO));
    }

    #[test]
    fn an_answer_after_failures_ends_the_retries() {
        let start = Instant::now();
        let clock = Cell::new(start);
        let mut backoff = Backoff::starting(start, 250 * MS);
        let mut tries = 0;
        let result = retry_with_clock(
            &mut backoff,
            &mut || clock.get(),
            &mut |pause| clock.set(clock.get() + pause),
            |_| {
                tries += 1;
                if tries < 3 {
                    Err(lost())
                } else {
                    Ok(tries)
                }
            },
            |e| e.kind() == StoreErrorKind::Connection,
        );
        assert_eq!(result.unwrap(), 3);
        assert_eq!(clock.get() - start, 6 * MS, "two pauses: 2 ms, then 4 ms");
    }
}
