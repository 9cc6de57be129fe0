//! `cursorctl flush-sim`: what a checkpoint policy costs and risks, found by
//! running the real checkpoint driver against a cursor.
//!
//! - `args.rs`: the arguments and their parsers;
//! - `input.rs`: where the next offsets come from (`--messages`, `--offsets`);
//! - `report.rs`: events, regression warnings and the progress bar during a run;
//! - `records.rs`: what a run prints.

mod args;
mod input;
mod records;
mod report;

use cursorctl::key::CursorKey;
use cursorctl::ops::audited::Audited;
use cursorctl::sim::{Simulation, Stop, Summary};
use cursorctl::{CheckpointPolicy, MemoryStore};

use super::error::{
    committed_but_unprinted, durability_exit_kind, CliError, CliResult, ExitKind, Failure,
};
use super::interrupt::Interrupt;
use super::output::{Format, Shape};
use super::Context;

pub use args::Args;
use args::{config, policies};
use input::Input;
use records::SummaryRecord;
use report::Reporter;

pub fn run(ctx: &Context, args: &Args) -> CliResult<()> {
    let key = args.consumer.key(args.partition_key.as_ref())?;
    if let (Some(k), Some(n)) = (args.crash_after, args.messages) {
        if k > n {
            return Err(Failure::usage(format!(
                "--crash-after {k} is past the end of the input (--messages {n})"
            ))
            .into());
        }
    }
    let policies = policies(args)?;
    // A commit must not start on input that turns out to be bad, and
    // --compare replays the input: both validate and keep it first.
    let mut input = Input::open(args, args.commit || args.compare)?;
    if args.commit {
        commit(ctx, args, &key, policies[0], &mut input)
    } else {
        dry_run(ctx, args, &key, &policies, &mut input)
    }
}

fn dry_run(
    ctx: &Context,
    args: &Args,
    key: &CursorKey,
    policies: &[CheckpointPolicy],
    input: &mut Input,
) -> CliResult<()> {
    // Read the one cursor and let the store go: the simulation needs no
    // connection, let alone a lock.
    let stored = ctx.open_read()?.cursor(key)?.map(|row| row.offset);
    if stored.is_none() {
        ctx.note(&format!(
            "cursor {key} does not exist; simulating a new cursor from offset 0"
        ));
    }
    let key_text = key.to_string();
    let consumer = key.consumer().as_str();
    let partition_key = key.partition_key().to_string();
    let shape = if args.compare {
        Shape::List
    } else {
        Shape::One
    };
    let mut printer = ctx.printer(shape);
    let stream_events = ctx.global.output == Format::Ndjson && !args.compare;
    for &policy in policies {
        let copy = MemoryStore::without_log();
        if let Some(offset) = stored {
            copy.put(&key_text, offset);
        }
        let sim = Simulation::resume(&copy, consumer, &partition_key, config(args, policy))?;
        let mut reporter = Reporter::new(ctx, stream_events.then_some(&mut printer), policy);
        reporter.total = input.len();
        let offsets = input.offsets(sim.start_offset())?;
        let result = sim.run(offsets, &mut reporter);
        reporter.finish();
        let summary = match result {
            Ok(summary) => summary,
            Err(stopped) => {
                return Err(match stopped.reason {
                    Stop::Interrupted(e) => e,
                    Stop::Failed(e) => e.into(),
                })
            }
        };
        note_short_input(ctx, &summary);
        let mut record = SummaryRecord::new(&key_text, &summary, false, None);
        if args.compare {
            // One bare offset per policy would not say which is which.
            record.value = Some(format!("{}\t{}", record.policy, summary.final_offset));
        }
        printer.record(&record)?;
    }
    printer.finish()?;
    ctx.note("dry run: nothing was written; --commit writes the checkpoints");
    Ok(())
}

fn commit(
    ctx: &Context,
    args: &Args,
    key: &CursorKey,
    policy: CheckpointPolicy,
    input: &mut Input,
) -> CliResult<()> {
    let store = ctx.open_write()?;
    if store.cursor(key)?.is_none() && !args.create {
        return Err(Failure::new(
            ExitKind::NotFound,
            format!("cursor {key} does not exist (pass --create to create it)"),
        )
        .with("key", key.to_string())
        .into());
    }
    let user = Context::user();
    let audited = Audited::new(&*store, "flush-sim", args.reason.as_deref(), &user);
    let partition_key = key.partition_key().to_string();
    let sim = Simulation::resume(
        &audited,
        key.consumer().as_str(),
        &partition_key,
        config(args, policy),
    )?;
    let start = sim.start_offset();
    ctx.note(&format!(
        "committing the checkpoints of {key} from offset {start} with policy {policy}, each in its own transaction"
    ));
    let key_text = key.to_string();
    let mut printer = ctx.printer(Shape::One);
    let stream_events = ctx.global.output == Format::Ndjson;
    let mut reporter = Reporter::new(ctx, stream_events.then_some(&mut printer), policy);
    reporter.total = input.len();
    reporter.interrupt = Some(Interrupt::install()?);
    let offsets = input.offsets(start)?;
    let result = sim.run(offsets, &mut reporter);
    reporter.finish();
    let batch = audited.batch();
    let undo = batch.map_or_else(String::new, |b| {
        format!(" in batch {b} (undo with `cursorctl undo --batch {b} --reason TEXT`)")
    });
    // Once a checkpoint is committed, a summary that cannot be printed must
    // not read as if nothing happened.
    let unprinted = |e: CliError, summary: &Summary| match batch {
        Some(b) => committed_but_unprinted(
            e,
            &format!(
                "batch {b} ({} checkpoint(s) moving {key} from {} to {})",
                summary.checkpoints, summary.start_offset, summary.final_offset
            ),
            ("batch", b),
        ),
        None => e,
    };
    match result {
        Ok(summary) => {
            note_short_input(ctx, &summary);
            printer
                .record(&SummaryRecord::new(&key_text, &summary, true, None))
                .and_then(|()| printer.finish())
                .map_err(|e| unprinted(e.into(), &summary))?;
            ctx.note(&format!(
                "committed {} checkpoint(s){undo}; {key} is at offset {}",
                summary.checkpoints, summary.final_offset
            ));
            Ok(())
        }
        Err(stopped) => {
            let so_far = so_far(&stopped.summary, batch);
            match stopped.reason {
                Stop::Interrupted(e) => Err(e.context(so_far)),
                Stop::Failed(e) => {
                    let kind = durability_exit_kind(&e);
                    let record =
                        SummaryRecord::new(&key_text, &stopped.summary, true, Some(kind.name()));
                    printer
                        .record(&record)
                        .and_then(|()| printer.finish())
                        .map_err(|e| unprinted(e.into(), &stopped.summary))?;
                    Err(CliError::from(e).context(so_far))
                }
            }
        }
    }
}

/// What a stopped commit had done, for the error message.
fn so_far(summary: &Summary, batch: Option<i64>) -> String {
    let done = match (summary.checkpoints, batch) {
        (0, _) => format!(
            "no checkpoint was committed (the cursor was at {})",
            summary.start_offset
        ),
        (n, batch) => format!(
            "{n} checkpoint(s) were committed{}, moving the cursor from {} to {}",
            batch.map_or_else(String::new, |b| format!(" in batch {b}")),
            summary.start_offset,
            summary.final_offset
        ),
    };
    format!("flush-sim stopped at message {}; {done}", summary.messages)
}

fn note_short_input(ctx: &Context, summary: &Summary) {
    if let Some(k) = summary.crash_after.filter(|k| summary.messages < *k) {
        ctx.note(&format!(
            "the input ended after {} message(s), before --crash-after {k}; the crash was simulated there",
            summary.messages
        ));
    }
}
