//! `advance --to-head`: cursors moved to their partitions' heads as one
//! batch, skipping the backlog.

use super::batch::{self, BatchRun, Done, Finished};
use super::change::named;
use super::error::{ErrorKind, OpError, OpResult, Refusal};
use super::failures::Failures;
use super::moves::{apply_in, Audit, Move, Target};
use crate::key::{ChannelId, ConsumerId, CursorKey};
use crate::store::{CursorFilter, Outcome, Store, StoreRead, StoreReadExt};
use crate::StoreError;

/// Which cursors move to their heads.
#[derive(Clone, Debug)]
pub enum Cursors {
    /// One cursor.
    One(CursorKey),
    /// Every cursor of a consumer on a channel.
    OnChannel(ConsumerId, ChannelId),
}

/// What to move.
#[derive(Clone, Debug)]
pub struct ToHead<'a> {
    /// The cursors.
    pub cursors: Cursors,
    /// The offset the one cursor must hold.
    pub expect: Option<u64>,
    /// Create a cursor that does not exist.
    pub create: bool,
    /// Why (required: the messages in between are skipped).
    pub reason: &'a str,
    /// Who.
    pub user: &'a str,
    /// The command recorded for the batch.
    pub label: &'a str,
}

/// Move the cursors to their heads as one batch (`outcome`: the write, or
/// its dry run); `show` sees the batch (see [`batch::run`]).
///
/// # Errors
///
/// Not found (no head known, no cursor), stale, store failures (a store
/// without heads), and whatever `show` returns.
pub fn run<E: From<OpError> + From<StoreError>>(
    store: &dyn Store,
    request: &ToHead<'_>,
    outcome: Outcome,
    show: impl FnMut(&dyn StoreRead, &Done) -> Result<(), E>,
) -> Result<Finished, E> {
    if matches!(request.cursors, Cursors::OnChannel(..)) && request.expect.is_some() {
        return Err(OpError::from(Refusal::usage(
            "--expect names one cursor's offset: it does not go with --channel",
        ))
        .into());
    }
    crate::heads::require_heads(store).map_err(OpError::from)?;
    batch::run(
        store,
        outcome,
        |txn| {
            let keys = cursors(&request.cursors, txn)?;
            let mut run = BatchRun::begin(
                txn,
                request.label,
                Some(request.reason),
                request.user,
                Failures::new("cursor"),
            )?;
            let audit = Audit {
                command: "advance",
                reason: Some(request.reason),
                user: request.user,
                batch: None,
            };
            for (n, key) in keys.iter().enumerate() {
                run.item(
                    n as u64 + 1,
                    Some(key as &dyn std::fmt::Display),
                    &audit,
                    |txn, audit| {
                        let m = Move {
                            key,
                            target: Target::To(head_of(txn, key)?),
                            expect: request.expect,
                            create: request.create,
                            allow_rewind: false,
                        };
                        apply_in(txn, &m, audit).map(|r| Some(r.status))
                    },
                )?;
            }
            Ok(run.finish()?)
        },
        show,
    )
}

/// The cursors to move, in key order.
fn cursors(which: &Cursors, view: &dyn StoreRead) -> OpResult<Vec<CursorKey>> {
    let (consumer, channel) = match which {
        Cursors::One(key) => return Ok(vec![key.clone()]),
        Cursors::OnChannel(consumer, channel) => (consumer, channel),
    };
    let filter = CursorFilter {
        consumer: Some(consumer.as_str().to_owned()),
        channel: Some(channel.as_str().to_owned()),
        updated_before: None,
    };
    let mut keys = Vec::new();
    view.for_each_cursor(&filter, |row| -> OpResult<()> {
        keys.push(named(row?)?);
        Ok(())
    })?;
    if keys.is_empty() {
        return Err(Refusal::new(
            ErrorKind::NotFound,
            format!("consumer {consumer} has no cursors on channel {channel}"),
        )
        .with_hint("list the consumer's cursors with `cursorctl get CONSUMER`")
        .into());
    }
    Ok(keys)
}

/// The head of `key`'s partition, or not found.
fn head_of(view: &dyn StoreRead, key: &CursorKey) -> OpResult<u64> {
    let pk = key.partition_key();
    match view.head(pk)? {
        Some(h) => Ok(h.head),
        None => Err(Refusal::new(
            ErrorKind::NotFound,
            format!("no head is recorded for partition {pk}, so {key} has no head to move to"),
        )
        .with("key", key.to_string())
        .with_hint("record the partition's head with `cursorctl head set PARTITION_KEY HEAD`")
        .into()),
    }
}
