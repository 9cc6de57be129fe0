//! Give one consumer the offsets of another, as one batch.

use super::batch::{self, BatchRun, Done, Finished};
use super::change::named;
use super::error::{ErrorKind, OpError, OpResult, Refusal};
use super::failures::Failures;
use super::moves::{apply_in, Audit, Move, Target};
use crate::key::{ChannelId, ConsumerId, CursorKey};
use crate::store::{CursorFilter, Outcome, Store, StoreRead, StoreReadExt};
use crate::StoreError;

/// What to copy.
#[derive(Clone, Debug)]
pub struct Copy<'a> {
    /// The consumer whose offsets are copied.
    pub from: ConsumerId,
    /// The consumer whose cursors are moved to them.
    pub to: ConsumerId,
    /// Only the partitions of this channel.
    pub channel: Option<ChannelId>,
    /// Create TO's cursors that do not exist.
    pub create: bool,
    /// Allow moving TO's cursors backwards (needs a reason).
    pub allow_rewind: bool,
    /// Why.
    pub reason: Option<&'a str>,
    /// Who.
    pub user: &'a str,
}

/// Move every cursor of TO to the offset of FROM's on the same partition,
/// as one batch (`outcome`: the write, or its dry run); `show` sees the
/// batch (see [`batch::run`]).
///
/// # Errors
///
/// Usage (FROM is TO), not found (FROM has no cursors; TO's cursor is
/// absent without `create`), regression, stale, store failures, and
/// whatever `show` returns.
pub fn run<E: From<OpError> + From<StoreError>>(
    store: &dyn Store,
    request: &Copy<'_>,
    outcome: Outcome,
    show: impl FnMut(&dyn StoreRead, &Done) -> Result<(), E>,
) -> Result<Finished, E> {
    if request.from == request.to {
        return Err(OpError::from(Refusal::usage("FROM and TO are the same consumer")).into());
    }
    let label = format!("copy {} {}", request.from, request.to);
    batch::run(
        store,
        outcome,
        |txn| {
            let pairs = pairs(request, txn)?;
            let mut run = BatchRun::begin(
                txn,
                &label,
                request.reason,
                request.user,
                Failures::new("cursor"),
            )?;
            let audit = Audit {
                command: "copy",
                reason: request.reason,
                user: request.user,
                batch: None,
            };
            for (n, (key, offset)) in pairs.iter().enumerate() {
                let m = Move {
                    key,
                    target: Target::To(*offset),
                    expect: None,
                    create: request.create,
                    allow_rewind: request.allow_rewind,
                };
                run.item(
                    n as u64 + 1,
                    Some(key as &dyn std::fmt::Display),
                    &audit,
                    |txn, audit| apply_in(txn, &m, audit).map(|r| Some(r.status)),
                )?;
            }
            Ok(run.finish()?)
        },
        show,
    )
}

/// TO's cursor for each of FROM's, with FROM's offset.
fn pairs(request: &Copy<'_>, store: &dyn StoreRead) -> OpResult<Vec<(CursorKey, u64)>> {
    let filter = CursorFilter {
        consumer: Some(request.from.as_str().to_owned()),
        channel: request.channel.as_ref().map(|c| c.as_str().to_owned()),
        updated_before: None,
    };
    let mut pairs = Vec::new();
    store.for_each_cursor(&filter, |row| -> OpResult<()> {
        let row = row?;
        let from = named(row)?;
        pairs.push((
            CursorKey::new(request.to.clone(), from.partition_key().clone()),
            row.offset,
        ));
        Ok(())
    })?;
    if pairs.is_empty() {
        let on = request
            .channel
            .as_ref()
            .map_or_else(String::new, |c| format!(" on channel {c}"));
        return Err(Refusal::new(
            ErrorKind::NotFound,
            format!(
                "consumer {} has no cursors{on}; nothing was copied",
                request.from
            ),
        )
        .with_hint("list the consumers with `cursorctl describe`")
        .into());
    }
    Ok(pairs)
}
