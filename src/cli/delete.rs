//! `cursorctl delete`: remove one cursor, or a consumer's cursors, as one
//! batch.

use std::time::Duration;

use cursorctl::key::{ChannelId, PartitionKey};
use cursorctl::ops::delete::{self, Delete};
use cursorctl::parse_duration;
use cursorctl::store::Outcome;

use super::batch;
use super::error::{CliResult, Failure};
use super::key_arg::{consumer_arg, ConsumerArg};
use super::{offset_arg, reason_arg, Context};

/// Remove one cursor, or every cursor of a consumer that matches
///
/// A removed cursor reads as offset 0 again, so removing a cursor above 0 is
/// a rewind and needs --reason. With PARTITION_KEY (or the full key) it
/// removes that cursor (exit 5 if it does not exist); --expect N removes it
/// only if it still holds N (exit 3 otherwise). Without one it removes every
/// cursor of CONSUMER that matches --channel and --idle-for: stale consumer
/// groups that raise false lag alarms. A consumer must always be named.
/// Every removal is compare-and-swap guarded and recorded in the history as
/// one batch, all or nothing: `cursorctl undo --batch ID` puts the cursors
/// back.
#[derive(Debug, clap::Args)]
#[command(after_help = "\
Examples:
  cursorctl delete oldsvc orders:3 --reason 'consumer retired'
  cursorctl delete oldsvc:orders:3 --expect 1041 --reason 'retired'
  cursorctl delete oldsvc --idle-for 30days --dry-run      what a cleanup of a stale group would remove
  cursorctl delete oldsvc --channel orders --reason 'INC-812: stale group raises lag alarms'
  cursorctl delete --raw-key 'sp ace:orders:0' --reason 'written by the old importer'")]
pub struct Args {
    /// Consumer id, or the full key CONSUMER:CHANNEL:INDEX (billing:orders:3)
    #[arg(value_name = "CONSUMER", value_parser = consumer_arg, required_unless_present = "raw_key", add = clap_complete::engine::ArgValueCompleter::new(super::complete::consumers))]
    pub consumer: Option<ConsumerArg>,

    /// Remove the one cursor stored under this key, as `get` lists it, even
    /// when its names are ones cursorctl refuses (written by another
    /// program: `sp ace:orders:0`); needs --reason
    #[arg(long, value_name = "KEY", conflicts_with_all = ["consumer", "partition_key", "channel", "idle_for"], requires = "reason")]
    pub raw_key: Option<String>,

    /// Partition key, CHANNEL:INDEX (for example orders:3)
    #[arg(add = clap_complete::engine::ArgValueCompleter::new(super::complete::partition_keys))]
    pub partition_key: Option<PartitionKey>,

    /// Remove the cursor only if it holds this offset (exit 3 otherwise)
    #[arg(long, value_name = "OFFSET", value_parser = offset_arg, allow_hyphen_values = true)]
    pub expect: Option<u64>,

    /// Only cursors on this channel
    #[arg(long, value_name = "CHANNEL", conflicts_with = "partition_key")]
    pub channel: Option<ChannelId>,

    /// Only cursors not written for at least this long (for example 30days)
    #[arg(long, value_name = "DURATION", value_parser = parse_duration, allow_hyphen_values = true, conflicts_with = "partition_key")]
    pub idle_for: Option<Duration>,

    /// Why (recorded in the history; needed to remove a cursor above 0)
    #[arg(long, value_name = "TEXT", value_parser = reason_arg, allow_hyphen_values = true)]
    pub reason: Option<String>,

    /// Show what would be removed; write nothing
    #[arg(long)]
    pub dry_run: bool,
}

pub fn run(ctx: &Context, args: &Args) -> CliResult<()> {
    let (consumer, single) = match (&args.consumer, &args.partition_key, &args.raw_key) {
        (None, _, Some(raw)) => {
            // Closed before the write opens (see `lookalike::check_one`).
            let read = std::mem::ManuallyDrop::into_inner(ctx.open_read()?);
            let key = super::raw_key::find(&*read, raw)?;
            drop(read);
            (key.consumer().clone(), Some(key))
        }
        (None, _, None) => {
            return Err(Failure::usage("name a consumer, a cursor, or --raw-key KEY").into())
        }
        (Some(ConsumerArg::Key(k)), None, _) => (k.consumer().clone(), Some(k.clone())),
        (Some(c), Some(pk), _) => (c.split(None)?.0, Some(c.key(Some(pk))?)),
        (Some(c @ ConsumerArg::Consumer(_)), None, _) => (c.split(None)?.0, None),
    };
    if single.is_some() && (args.channel.is_some() || args.idle_for.is_some()) {
        return Err(Failure::usage(
            "--channel and --idle-for select among a consumer's cursors: give a consumer, not one cursor",
        )
        .into());
    }
    if single.is_none() && args.expect.is_some() {
        return Err(
            Failure::usage("--expect guards one cursor: name it (CONSUMER PARTITION_KEY)").into(),
        );
    }
    let user = Context::user();
    let request = Delete {
        consumer,
        cursor: single,
        expect: args.expect,
        channel: args.channel.clone(),
        idle_for: args.idle_for,
        reason: args.reason.as_deref(),
        user: &user,
    };
    let outcome = Outcome::of_dry_run(args.dry_run);
    let store = ctx.open_write()?;
    let finished = delete::run(
        &*store,
        &request,
        outcome,
        batch::printer(ctx, outcome, "removal(s)"),
    )?;
    if let (Some(raw), cursorctl::ops::batch::Finished::Done(done)) = (&args.raw_key, &finished) {
        // Not `undo --batch`: undo cannot write the names back.
        if !outcome.is_dry_run() {
            super::raw_key::note_removed(ctx, raw, done.id);
            return Ok(());
        }
    }
    batch::note(
        ctx,
        outcome,
        finished,
        ["removed", "remove", "cursor(s)", "no cursor matches"],
    );
    Ok(())
}
