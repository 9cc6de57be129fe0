//! Remove one cursor, or a consumer's cursors, as one batch.

use std::time::Duration;

use super::batch::{self, BatchRun, Done, Finished};
use super::change::{named, Status};
use super::error::{ErrorKind, OpError, OpResult, Refusal};
use super::failures::Failures;
use super::moves::{remove_in, Audit};
use crate::key::{ChannelId, ConsumerId, CursorKey};
use crate::store::{CursorFilter, Outcome, Store, StoreRead, StoreReadExt, WriteTxn};
use crate::StoreError;

/// What to remove.
#[derive(Clone, Debug)]
pub struct Delete<'a> {
    /// The consumer (always named).
    pub consumer: ConsumerId,
    /// One cursor of it; otherwise every cursor that matches.
    pub cursor: Option<CursorKey>,
    /// Remove the one cursor only if it holds this offset.
    pub expect: Option<u64>,
    /// Only cursors on this channel.
    pub channel: Option<ChannelId>,
    /// Only cursors not written for this long.
    pub idle_for: Option<Duration>,
    /// Why (needed to remove a cursor above 0: a rewind).
    pub reason: Option<&'a str>,
    /// Who.
    pub user: &'a str,
}

/// Remove the cursors `request` names, as one batch (`outcome`: the write,
/// or its dry run); `show` sees the batch (see [`batch::run`]).
///
/// # Errors
///
/// Not found (one cursor), usage (a rewind without a reason), stale (a
/// cursor that moved), store failures, and whatever `show` returns.
pub fn run<E: From<OpError> + From<StoreError>>(
    store: &dyn Store,
    request: &Delete<'_>,
    outcome: Outcome,
    show: impl FnMut(&dyn StoreRead, &Done) -> Result<(), E>,
) -> Result<Finished, E> {
    let now = store.clock_ms()?;
    batch::run(
        store,
        outcome,
        |txn| {
            let targets = targets(request, txn, now)?;
            let mut run = BatchRun::begin(
                txn,
                "delete",
                request.reason,
                request.user,
                Failures::new("cursor"),
            )?;
            let audit = Audit {
                command: "delete",
                reason: request.reason,
                user: request.user,
                batch: None,
            };
            for (n, (key, expected)) in targets.iter().enumerate() {
                run.item(
                    n as u64 + 1,
                    Some(key as &dyn std::fmt::Display),
                    &audit,
                    |txn, audit| remove(txn, key, *expected, audit),
                )?;
            }
            Ok(run.finish()?)
        },
        show,
    )
}

/// The cursors the request names, with the offset each is expected to
/// hold.
fn targets(
    request: &Delete<'_>,
    store: &dyn StoreRead,
    now_ms: i64,
) -> OpResult<Vec<(CursorKey, u64)>> {
    if let Some(key) = &request.cursor {
        let row = store.cursor(key)?.ok_or_else(|| {
            Refusal::new(
                ErrorKind::NotFound,
                format!("cursor {key} does not exist; nothing was removed"),
            )
            .with_hint("list a consumer's cursors with `cursorctl get CONSUMER`")
            .with("key", key.to_string())
        })?;
        return Ok(vec![(key.clone(), request.expect.unwrap_or(row.offset))]);
    }
    let filter = CursorFilter {
        consumer: Some(request.consumer.as_str().to_owned()),
        channel: request.channel.as_ref().map(|c| c.as_str().to_owned()),
        updated_before: request
            .idle_for
            .map(|d| now_ms.saturating_sub(i64::try_from(d.as_millis()).unwrap_or(i64::MAX))),
    };
    let mut found = Vec::new();
    store.for_each_cursor(&filter, |row| -> OpResult<()> {
        let row = row?;
        found.push((named(row)?, row.offset));
        Ok(())
    })?;
    Ok(found)
}

/// Remove one cursor in the transaction and record it; removing a cursor
/// above 0 is a rewind and needs a reason.
fn remove(
    txn: &dyn WriteTxn,
    key: &CursorKey,
    expected: u64,
    audit: &Audit<'_>,
) -> OpResult<Option<Status>> {
    if expected > 0 && audit.reason.is_none() {
        return Err(Refusal::usage(format!(
            "removing cursor {key} at offset {expected} rewinds it to 0: a rewind needs --reason TEXT"
        ))
        .into());
    }
    remove_in(txn, key, expected, audit).map(|r| Some(r.status))
}
