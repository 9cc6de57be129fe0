//! `delete --raw-key KEY`: a cursor another program wrote under names
//! cursorctl refuses (`sp ace:orders:0`, `bad:name:orders:0`), found by the
//! key as the listings show it.

use cursorctl::key::CursorKey;
use cursorctl::store::{CursorFilter, StoreRead, StoreReadExt};

use super::error::{CliResult, ExitKind, Failure};
use super::output::quote;

/// The stored cursor whose key is `raw`. The key splits at its last `:`
/// into the partition index; the rest may split into consumer and channel
/// at any of its `:`, and each way is looked up: exactly one stored cursor
/// must have the key.
pub fn find(store: &dyn StoreRead, raw: &str) -> CliResult<CursorKey> {
    let shape = || {
        Failure::usage(format!(
            "invalid raw key {}: expected CONSUMER:CHANNEL:INDEX as `cursorctl get` lists it",
            quote(raw)
        ))
    };
    let (names, index) = raw.rsplit_once(':').ok_or_else(shape)?;
    let index: u32 = index.parse().map_err(|_| shape())?;
    let mut found = Vec::new();
    for (at, _) in names.match_indices(':') {
        let (consumer, channel) = (&names[..at], &names[at + 1..]);
        let filter = CursorFilter {
            consumer: Some(consumer.to_owned()),
            channel: Some(channel.to_owned()),
            updated_before: None,
        };
        store.for_each_cursor(&filter, |row| -> CliResult<()> {
            let row = row?;
            if row.consumer == consumer && row.channel == channel && row.partition == index {
                found.push(CursorKey::stored(consumer, channel, index));
            }
            Ok(())
        })?;
    }
    match found.len() {
        0 => Err(Failure::new(
            ExitKind::NotFound,
            format!("no stored cursor has the key {}; nothing was removed", quote(raw)),
        )
        .with_hint("copy the key from `cursorctl get -o tsv` (its first column)")
        .with("key", raw)
        .into()),
        1 => Ok(found.swap_remove(0)),
        n => Err(Failure::usage(format!(
            "{n} stored cursors have the key {} (their names hold `:`, so it splits more than one way); nothing was removed",
            quote(raw)
        ))
        .with_hint("remove them with the tool that wrote them")
        .into()),
    }
}

/// The note after a raw-key removal: no `undo --batch` is offered, as undo
/// cannot write a cursor under names cursorctl refuses.
pub fn note_removed(ctx: &super::Context, raw: &str, batch: i64) {
    ctx.note(&format!(
        "removed cursor {} in batch {batch} (recorded in the history; undo cannot put it back, as cursorctl does not write such names)",
        quote(raw)
    ));
}
