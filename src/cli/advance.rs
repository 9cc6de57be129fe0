//! `cursorctl advance`: move a cursor forward, or to its partition's head.

use cursorctl::key::{ChannelId, CursorKey, PartitionKey};
use cursorctl::store::{CursorFilter, Outcome, StoreRead, StoreReadExt};

use super::batch::{self, BatchRun};
use super::bulk::Failures;
use super::change::{apply_in, run_one, Audit, Move, Target};
use super::error::{ExitKind, Failure};
use super::key_arg::{consumer_arg, ConsumerArg};
use super::set::WriteArgs;
use super::{offset_arg, Context};

/// Move a cursor forward by N (default 1) or to an offset; never backwards
///
/// Compare-and-swap guarded like `set`. --to below the current offset is
/// refused (exit 4); --by past the largest offset is exit 2.
///
/// --to-head moves the cursor to its partition's head (see `head set`),
/// skipping the backlog, so --reason is required; with CONSUMER --channel
/// CHANNEL it moves every cursor of the consumer on the channel. Either is
/// one batch, all or nothing (undo it with `undo --batch`): a partition
/// with no head known is exit 5, a cursor past its head is refused (exit
/// 4).
#[derive(Debug, clap::Args)]
#[command(after_help = "\
Examples:
  cursorctl advance billing orders:3                  skip one message (the poison one)
  cursorctl advance billing:orders:3                  the same, by the cursor's full key
  cursorctl advance billing orders:3 --by 10 --reason 'skip corrupt batch'
  cursorctl advance billing orders:3 --to 5000
  cursorctl advance billing orders:3 --expect 1041    only if it still holds 1041
  cursorctl advance billing orders:3 --to-head --reason 'INC-7: skip the backlog'
  cursorctl advance billing --channel orders --to-head --reason 'INC-7' --dry-run")]
pub struct Args {
    /// Consumer id, or the full key CONSUMER:CHANNEL:INDEX (billing:orders:3)
    #[arg(value_name = "CONSUMER", value_parser = consumer_arg, add = clap_complete::engine::ArgValueCompleter::new(super::complete::consumers))]
    pub consumer: ConsumerArg,

    /// Partition key, CHANNEL:INDEX (for example orders:3); not after a
    /// full key
    #[arg(add = clap_complete::engine::ArgValueCompleter::new(super::complete::partition_keys))]
    pub partition_key: Option<PartitionKey>,

    /// Move forward by this many offsets
    #[arg(long, value_name = "N", value_parser = offset_arg, allow_hyphen_values = true, default_value = "1", conflicts_with = "to")]
    pub by: u64,

    /// Move to this offset (not below the current one)
    #[arg(long, value_name = "OFFSET", value_parser = offset_arg, allow_hyphen_values = true)]
    pub to: Option<u64>,

    /// Move to the partition's head (needs --reason)
    #[arg(long, conflicts_with_all = ["to", "by"])]
    pub to_head: bool,

    /// With --to-head and no PARTITION_KEY: every cursor of CONSUMER on
    /// this channel
    #[arg(
        long,
        value_name = "CHANNEL",
        requires = "to_head",
        conflicts_with = "partition_key"
    )]
    pub channel: Option<ChannelId>,

    #[command(flatten)]
    pub write: WriteArgs,
}

pub fn run(ctx: &Context, args: &Args) -> anyhow::Result<()> {
    if args.to_head {
        return to_head(ctx, args);
    }
    let key = args.consumer.key(args.partition_key.as_ref())?;
    let w = &args.write;
    super::lookalike::check_one(ctx, w.create, w.allow_confusable, key.consumer().as_str())?;
    let user = Context::user();
    let target = args.to.map_or(Target::By(args.by), Target::To);
    run_one(
        ctx,
        &Move {
            key: &key,
            target,
            expect: args.write.expect,
            create: args.write.create,
            allow_rewind: false,
        },
        &Audit {
            command: "advance",
            reason: args.write.reason.as_deref(),
            user: &user,
            batch: None,
        },
        args.write.dry_run,
    )
}

/// The cursors `advance --to-head` moves: one, or a consumer's on a
/// channel, in key order.
fn cursors_to_move(args: &Args, view: &dyn StoreRead) -> anyhow::Result<Vec<CursorKey>> {
    let Some(channel) = &args.channel else {
        return Ok(vec![args.consumer.key(args.partition_key.as_ref())?]);
    };
    let ConsumerArg::Consumer(consumer) = &args.consumer else {
        return Err(Failure::usage("--channel goes with a consumer, not a full cursor key").into());
    };
    let filter = CursorFilter {
        consumer: Some(consumer.as_str().to_owned()),
        channel: Some(channel.as_str().to_owned()),
        updated_before: None,
    };
    let mut keys = Vec::new();
    view.for_each_cursor(&filter, |row| -> anyhow::Result<()> {
        let row = row?;
        keys.push(CursorKey::parse(&row.key()).map_err(|e| {
            Failure::new(
                ExitKind::Store,
                format!("the store holds a cursor cursorctl cannot name: {e}"),
            )
        })?);
        Ok(())
    })?;
    if keys.is_empty() {
        return Err(Failure::new(
            ExitKind::NotFound,
            format!("consumer {consumer} has no cursors on channel {channel}"),
        )
        .with_hint("list the consumer's cursors with `cursorctl get CONSUMER`")
        .into());
    }
    Ok(keys)
}

/// The head of `key`'s partition, or exit 5.
fn head_of(view: &dyn StoreRead, key: &CursorKey) -> anyhow::Result<u64> {
    let pk = key.partition_key();
    match view.head(pk)? {
        Some(h) => Ok(h.head),
        None => Err(Failure::new(
            ExitKind::NotFound,
            format!("no head is recorded for partition {pk}, so {key} has no head to move to"),
        )
        .with("key", key.to_string())
        .with_hint("record the partition's head with `cursorctl head set PARTITION_KEY HEAD`")
        .into()),
    }
}

fn movement<'k>(args: &Args, key: &'k CursorKey, head: u64) -> Move<'k> {
    Move {
        key,
        target: Target::To(head),
        expect: args.write.expect,
        create: args.write.create,
        allow_rewind: false,
    }
}

/// `advance --to-head`: the cursors moved to their heads as one batch; a
/// dry run is the same batch, rolled back.
fn to_head(ctx: &Context, args: &Args) -> anyhow::Result<()> {
    let Some(reason) = args.write.reason.as_deref() else {
        return Err(Failure::usage(
            "--to-head skips every message between the cursor and the head: give --reason TEXT",
        )
        .into());
    };
    if args.channel.is_some() && args.write.expect.is_some() {
        return Err(Failure::usage(
            "--expect names one cursor's offset: it does not go with --channel",
        )
        .into());
    }
    let outcome = Outcome::of_dry_run(args.write.dry_run);
    let store = ctx.open_write()?;
    cursorctl::heads::require_heads(&*store).map_err(super::head::head_failure)?;
    let user = Context::user();
    let label = match &args.channel {
        Some(channel) => format!(
            "advance --to-head {} --channel {channel}",
            args.consumer_text()
        ),
        None => "advance --to-head".to_owned(),
    };
    let done = batch::run(ctx, &*store, outcome, "change(s)", |txn| {
        let keys = cursors_to_move(args, txn)?;
        let mut run = BatchRun::begin(txn, &label, Some(reason), &user, Failures::new("cursor"))?;
        let audit = Audit {
            command: "advance",
            reason: Some(reason),
            user: &user,
            batch: None,
        };
        for (n, key) in keys.iter().enumerate() {
            run.item(
                n as u64 + 1,
                Some(key as &dyn std::fmt::Display),
                &audit,
                |txn, audit| {
                    let m = movement(args, key, head_of(txn, key)?);
                    apply_in(txn, &m, audit).map(|r| Some(r.status))
                },
            )?;
        }
        run.finish()
    })?;
    match done {
        Ok(done) => batch::note_done(
            ctx,
            outcome,
            &done,
            "moved",
            "move",
            "cursor(s) to their heads",
        ),
        Err(nothing) => batch::note_nothing(ctx, outcome, &nothing, "no cursor to move"),
    }
    Ok(())
}

impl Args {
    /// The consumer (or full key) as given, for the batch's label.
    fn consumer_text(&self) -> String {
        match &self.consumer {
            ConsumerArg::Consumer(c) => c.to_string(),
            ConsumerArg::Key(k) => k.to_string(),
        }
    }
}
