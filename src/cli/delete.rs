//! `cursorctl delete`: remove one cursor, or a consumer's cursors, as one
//! batch.

use std::time::Duration;

use cursorctl::key::{ChannelId, CursorKey, PartitionKey};
use cursorctl::parse_duration;
use cursorctl::store::{CursorFilter, Outcome, StoreRead, StoreReadExt, WriteTxn};

use super::batch::{self, BatchRun};
use super::bulk::Failures;
use super::change::{remove_in, Audit};
use super::error::{ExitKind, Failure};
use super::key_arg::{consumer_arg, ConsumerArg};
use super::records::Status;
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

/// The cursors the arguments name, with the offset each is expected to
/// hold.
fn targets(
    args: &Args,
    single: Option<&CursorKey>,
    store: &dyn StoreRead,
    now_ms: i64,
) -> anyhow::Result<Vec<(CursorKey, u64)>> {
    if let Some(raw) = &args.raw_key {
        return super::raw_key::targets(store, raw, args.expect);
    }
    if let Some(key) = single {
        let row = store.cursor(key)?.ok_or_else(|| {
            Failure::new(
                ExitKind::NotFound,
                format!("cursor {key} does not exist; nothing was removed"),
            )
            .with_hint("list a consumer's cursors with `cursorctl get CONSUMER`")
            .with("key", key.to_string())
        })?;
        return Ok(vec![(key.clone(), args.expect.unwrap_or(row.offset))]);
    }
    let Some(consumer) = &args.consumer else {
        return Err(Failure::usage("name a consumer, a cursor, or --raw-key KEY").into());
    };
    let (consumer, _) = consumer.split(None)?;
    let filter = CursorFilter {
        consumer: Some(consumer.as_str().to_owned()),
        channel: args.channel.as_ref().map(|c| c.as_str().to_owned()),
        updated_before: args
            .idle_for
            .map(|d| now_ms.saturating_sub(i64::try_from(d.as_millis()).unwrap_or(i64::MAX))),
    };
    let mut found = Vec::new();
    store.for_each_cursor(&filter, |row| -> anyhow::Result<()> {
        let row = row?;
        let key = CursorKey::parse(&row.key()).map_err(|e| {
            Failure::new(
                ExitKind::Store,
                format!("the store holds a cursor cursorctl cannot name: {e}"),
            )
        })?;
        found.push((key, row.offset));
        Ok(())
    })?;
    Ok(found)
}

/// Why removing a cursor at `offset` is refused without a reason.
fn rewind_refusal(key: &CursorKey, offset: u64, reason: Option<&str>) -> Option<anyhow::Error> {
    (offset > 0 && reason.is_none()).then(|| {
        Failure::usage(format!(
            "removing cursor {key} at offset {offset} rewinds it to 0: a rewind needs --reason TEXT"
        ))
        .into()
    })
}

/// Remove one cursor in the transaction and record it.
fn remove(
    txn: &dyn WriteTxn,
    key: &CursorKey,
    expected: u64,
    audit: &Audit<'_>,
) -> anyhow::Result<Option<Status>> {
    if let Some(refused) = rewind_refusal(key, expected, audit.reason) {
        return Err(refused);
    }
    remove_in(txn, key, expected, audit).map(|r| Some(r.status))
}

pub fn run(ctx: &Context, args: &Args) -> anyhow::Result<()> {
    let single = match (&args.consumer, &args.partition_key) {
        (None, _) => None,
        (Some(ConsumerArg::Key(k)), None) => Some(k.clone()),
        (Some(c), Some(pk)) => Some(c.key(Some(pk))?),
        (Some(ConsumerArg::Consumer(_)), None) => None,
    };
    if single.is_some() && (args.channel.is_some() || args.idle_for.is_some()) {
        return Err(Failure::usage(
            "--channel and --idle-for select among a consumer's cursors: give a consumer, not one cursor",
        )
        .into());
    }
    if single.is_none() && args.raw_key.is_none() && args.expect.is_some() {
        return Err(
            Failure::usage("--expect guards one cursor: name it (CONSUMER PARTITION_KEY)").into(),
        );
    }
    let reason = args.reason.as_deref();
    let outcome = Outcome::of_dry_run(args.dry_run);
    let store = ctx.open_write()?;
    let user = Context::user();
    let now = store.clock_ms()?;
    let done = batch::run(ctx, &*store, outcome, "removal(s)", |txn| {
        let targets = targets(args, single.as_ref(), txn, now)?;
        let mut run = BatchRun::begin(txn, "delete", reason, &user, Failures::new("cursor"))?;
        let audit = Audit {
            command: "delete",
            reason,
            user: &user,
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
        run.finish()
    })?;
    match done {
        Ok(done) => batch::note_done(ctx, outcome, &done, "removed", "remove", "cursor(s)"),
        Err(nothing) => batch::note_nothing(ctx, outcome, &nothing, "no cursor matches"),
    }
    Ok(())
}
