//! `cursorctl advance`: move a cursor forward, or to its partition's head.

use cursorctl::key::{ChannelId, CursorKey, PartitionKey};
use cursorctl::store::{CursorFilter, StoreExt, StoreRead, StoreReadExt};

use super::batch::{Apply, BatchRun, Done};
use super::bulk::{print_batch, Failures};
use super::change::{apply_in, move_cursor, run_one, Audit, Move, Target};
use super::error::{committed_but_unprinted, ExitKind, Failure};
use super::key_arg::{consumer_arg, ConsumerArg};
use super::output::Shape;
use super::records::{PlanRecord, Status};
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

/// The items of a batch that changed nothing: (position, cursor, offset).
type Unchanged = Vec<(u64, CursorKey, u64)>;

/// `advance --to-head`: the cursors moved to their heads as one batch.
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
    if args.write.dry_run {
        return plan_to_head(ctx, args);
    }
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
    let (done, unchanged) = store.write(|txn| -> anyhow::Result<(Done, Unchanged)> {
        let keys = cursors_to_move(args, txn)?;
        let mut run = BatchRun::begin(txn, &label, Some(reason), &user, Failures::new("cursor"))?;
        let audit = Audit {
            command: "advance",
            reason: Some(reason),
            user: &user,
            batch: None,
        };
        let mut unchanged = Vec::new();
        for (n, key) in keys.iter().enumerate() {
            let status = run.item(
                n as u64 + 1,
                Some(key as &dyn std::fmt::Display),
                &audit,
                |apply| match apply {
                    Apply::Write(txn, audit) => {
                        let m = movement(args, key, head_of(txn, key)?);
                        apply_in(txn, &m, audit).map(|r| Some(r.status))
                    }
                    Apply::Check(view) => {
                        let m = movement(args, key, head_of(txn, key)?);
                        move_cursor(view, &m).map(|_| None)
                    }
                },
            )?;
            if status == Some(Status::Unchanged) {
                let offset = txn.read_value(&key.to_string())?.unwrap_or(0);
                unchanged.push((n as u64, key.clone(), offset));
            }
        }
        Ok((run.finish()?, unchanged))
    })?;
    print_batch(ctx, &*store, Some(done.id), unchanged).map_err(|e| {
        committed_but_unprinted(
            e,
            &format!("batch {} ({} change(s))", done.id, done.changed),
            ("batch", done.id),
        )
    })?;
    if done.changed == 0 {
        ctx.note(&format!(
            "every one of the {} cursor(s) is at its head already: nothing moved",
            done.total
        ));
    } else {
        ctx.note(&format!(
            "moved {} of {} cursor(s) to their heads ({} already there), in batch {} (undo with `cursorctl undo --batch {}`)",
            done.changed, done.total, done.unchanged, done.id, done.id
        ));
    }
    Ok(())
}

/// `advance --to-head --dry-run`: each cursor and what would happen to it.
fn plan_to_head(ctx: &Context, args: &Args) -> anyhow::Result<()> {
    let store = ctx.open_read()?;
    cursorctl::heads::require_heads(&**store).map_err(super::head::head_failure)?;
    store.snapshot(|store| -> anyhow::Result<()> {
        let keys = cursors_to_move(args, store)?;
        let view = cursorctl::store::DryRun::new(store);
        let mut printer = (!ctx.global.quiet).then(|| {
            ctx.printer(Shape::List)
                .with_header(PlanRecord::fields("cursor"))
        });
        let mut failures = Failures::new("cursor");
        let mut changed = 0u64;
        for (n, key) in keys.iter().enumerate() {
            let number = n as u64 + 1;
            let mut row = PlanRecord {
                source: ("cursor", number),
                key: Some(key.to_string()),
                old_offset: None,
                new_offset: None,
                status: "invalid",
                reason: None,
            };
            let planned = head_of(store, key).and_then(|head| {
                row.new_offset = Some(head);
                move_cursor(&view, &movement(args, key, head))
            });
            match planned {
                Ok((old, new)) => {
                    let status = Status::of(old, Some(new));
                    if status != Status::Unchanged {
                        changed += 1;
                    }
                    row.old_offset = old;
                    row.status = status.as_str();
                }
                Err(e) => failures.plan_failure(&mut row, &key.to_string(), e, store)?,
            }
            if let Some(p) = printer.as_mut() {
                p.record(&row)?;
            }
        }
        if let Some(p) = printer {
            p.finish()?;
        }
        if !failures.is_empty() {
            return Err(failures.into_error(
                keys.len() as u64,
                "the move would be refused and nothing written",
            ));
        }
        ctx.note(&format!(
            "dry run: {changed} of {} cursor(s) would move to their heads; nothing was written",
            keys.len()
        ));
        Ok(())
    })
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
