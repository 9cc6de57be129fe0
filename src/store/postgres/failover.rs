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
use crate::error::{StoreError, StoreErrorKind};
use crate::store::{Access, CommitLost, SettledWrite};

/// The mark of a write proven not written; nothing when the write's row is
/// there.
const MARK_NOT_WRITTEN: &str = "INSERT INTO writes (write_id, at, not_written) \
     VALUES ($1, (extract(epoch from clock_timestamp()) * 1000)::bigint, true) \
     ON CONFLICT (write_id) DO NOTHING";

const FIND_WRITE: &str = "SELECT batch, change, not_written FROM writes WHERE write_id = $1";

/// How long to wait between attempts to reach a server that accepts
/// writes.
const PAUSE: Duration = Duration::from_millis(200);

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
/// location asks for (a write is settled on the primary).
fn reconnect(store: &PostgresStore) -> Result<(), StoreError> {
    let target = connect::target(&store.origin, Access::ReadWrite, store.busy_timeout)?;
    let client = connect::connect_as(&target, SessionAttrs::ReadWrite, true)?;
    *store.client.borrow_mut() = client;
    store.statements.borrow_mut().clear();
    store.in_transaction.set(false);
    Ok(())
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
    let deadline = started + store.busy_timeout;
    let context = format!("committing ({})", store.describe);
    let lost_detail = match lost {
        StoreError::Database { source, .. } => source.to_string(),
        other => other.to_string(),
    };
    loop {
        let last = match reconnect(store).and_then(|()| settle(store, write_id)) {
            Ok(SettledWrite::Committed {
                batch: found_batch,
                change: found_change,
            }) => {
                if (found_batch, found_change) == (batch, change) {
                    return Ok(());
                }
                return Err(StoreError::Database {
                    context,
                    kind: StoreErrorKind::Other,
                    source: format!(
                        "the write id {write_id} is recorded with another batch or change than this write made"
                    )
                    .into(),
                });
            }
            Ok(SettledWrite::NotWritten) => {
                return Err(StoreError::Database {
                    context: format!(
                        "{context}: the connection was lost while committing ({lost_detail}), and the server that accepts writes now does not hold the write: not written (nothing of it was written, and it never will be)"
                    ),
                    kind: StoreErrorKind::Connection,
                    source: Box::new(CommitLost {
                        write_id: write_id.to_owned(),
                        not_written: true,
                        detail: format!("write id {write_id}: not written"),
                    }),
                });
            }
            Err(e) if crate::store::write_id::reachable_later(&e) || e.is_busy() => e,
            Err(e) => return Err(unknown(&context, write_id, &lost_detail, &e, started)),
        };
        if Instant::now() + PAUSE >= deadline {
            return Err(unknown(&context, write_id, &lost_detail, &last, started));
        }
        std::thread::sleep(PAUSE);
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
