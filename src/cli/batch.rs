//! Batches from the command line: the library's batch engine
//! (`cursorctl::ops::batch`) run with the changes printed, and the notes
//! that say what was done (or, for a dry run, what the write would do).

use cursorctl::ops::batch::{Done, Finished};
use cursorctl::store::{Outcome, StoreRead};

use super::bulk::print_batch;
use super::error::{committed_but_unprinted, CliResult};
use super::Context;

/// What shows a batch's changes: printed after the commit, or from inside
/// a dry run's transaction before its roll-back (see [`run`]).
pub fn printer<'c>(
    ctx: &'c Context,
    outcome: Outcome,
    what: &'c str,
) -> impl FnMut(&dyn StoreRead, &Done) -> CliResult<()> + 'c {
    move |view: &dyn StoreRead, done: &Done| {
        let printed = print_batch(ctx, view, Some(done.id), Vec::new(), outcome.is_dry_run());
        if outcome.is_dry_run() {
            return printed;
        }
        printed.map_err(|e| {
            committed_but_unprinted(
                e,
                &format!("batch {} ({} {what})", done.id, done.changed),
                ("batch", done.id),
            )
        })
    }
}

/// The note after a batch: what was done and how to undo it, or, for a dry
/// run, what the write would do. `did` is the past tense (`removed`),
/// `would` the plan (`remove`), `items` what was counted (`cursor(s)`).
pub fn note_done(
    ctx: &Context,
    outcome: Outcome,
    done: &Done,
    did: &str,
    would: &str,
    items: &str,
) {
    let unchanged = if done.unchanged > 0 {
        format!(", {} unchanged", done.unchanged)
    } else {
        String::new()
    };
    if outcome.is_dry_run() {
        ctx.note(&format!(
            "dry run: the write would {would} {} {items}{unchanged}; nothing was written",
            done.changed
        ));
    } else {
        ctx.note(&format!(
            "{did} {} {items}{unchanged} in batch {} (undo with `cursorctl undo --batch {}`)",
            done.changed, done.id, done.id
        ));
    }
}

/// The note when a batch changed nothing (nothing is recorded, in a write
/// as in a dry run). `none` is said when there was no item at all.
pub fn note_nothing(ctx: &Context, outcome: Outcome, total: u64, none: &str) {
    let what = if total == 0 {
        none.to_owned()
    } else {
        format!("nothing changed: all {total} cursor(s) already hold their offsets")
    };
    note_unwritten(ctx, outcome, &what);
}

/// Say `what` and that nothing was written (a dry run: would be).
pub fn note_unwritten(ctx: &Context, outcome: Outcome, what: &str) {
    if outcome.is_dry_run() {
        ctx.note(&format!("dry run: {what}; nothing would be written"));
    } else {
        ctx.note(&format!("{what}; nothing was written"));
    }
}

/// The note of a finished batch.
pub fn note(ctx: &Context, outcome: Outcome, finished: Finished, words: [&str; 4]) {
    let [did, would, items, none] = words;
    match finished {
        Finished::Done(done) => note_done(ctx, outcome, &done, did, would, items),
        Finished::Nothing { total } => note_nothing(ctx, outcome, total, none),
    }
}
