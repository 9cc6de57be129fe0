//! `cursorctl lease`: who holds each cursor's lease (`lease list`), and the
//! operator's way to end one (`lease break`); and what every operator write
//! does about a leased cursor (a note naming the holder, or `--fence`).

use std::collections::HashSet;
use std::io;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Mutex;

use cursorctl::key::{ConsumerId, CursorKey};
use cursorctl::ops::lease::{self as op, require_leases};
use cursorctl::store::{LeaseRow, Visit};

use super::error::CliResult;
use super::output::{format_time, Field, Record, Shape};
use super::{reason_arg, Context};

/// Show and break the leases consumers hold on cursors
///
/// A consumer instance may hold a cursor's lease: an owner (such as
/// host-7:pid-4121), an expiry on the store's clock, and a fencing epoch
/// that grows by one at every acquisition and every break. While a lease
/// is live, only checkpoints that carry its epoch are written; the others
/// are refused as fenced. Consumers acquire, renew and release leases
/// through the library; operators see them here and break them.
///
/// An operator's write (set, advance, undo, delete, copy, snapshot
/// restore) to a cursor with a live lease goes through, compare-and-swap
/// guarded, with a note naming the holder; with --fence it also breaks
/// that lease in the same transaction.
#[derive(Debug, clap::Args)]
#[command(after_help = "\
Examples:
  cursorctl lease list                          every lease, live or expired
  cursorctl lease list billing -o ndjson        one consumer's leases
  cursorctl lease break billing:orders:3 --reason 'host-7 hung'")]
pub struct Args {
    #[command(subcommand)]
    pub action: Action,
}

#[derive(Debug, clap::Subcommand)]
pub enum Action {
    /// List leases: key, owner, epoch, acquired_at, expires_at, state (live/expired)
    #[command(after_help = "\
Examples:
  cursorctl lease list                          every lease, live or expired
  cursorctl lease list billing -o ndjson        one consumer's leases")]
    List {
        /// Only this consumer's leases
        consumer: Option<ConsumerId>,
    },
    /// End a cursor's live lease: its epoch grows by one, and its holder's
    /// next checkpoint is refused as fenced. Recorded in the history
    #[command(after_help = "\
Examples:
  cursorctl lease break billing:orders:3 --reason 'host-7 hung'
  cursorctl lease break billing:orders:3 --reason 'host-7 hung' --dry-run")]
    Break {
        /// The cursor, CONSUMER:CHANNEL:INDEX
        key: CursorKey,
        /// Why (recorded in the history)
        #[arg(long, value_name = "TEXT", value_parser = reason_arg, allow_hyphen_values = true, required = true)]
        reason: String,
        /// Show what would be broken; write nothing
        #[arg(long)]
        dry_run: bool,
    },
}

pub fn run(ctx: &Context, args: &Args) -> CliResult<()> {
    match &args.action {
        Action::List { consumer } => list(ctx, consumer.as_ref().map(ConsumerId::as_str)),
        Action::Break {
            key,
            reason,
            dry_run,
        } => break_one(ctx, key, reason, *dry_run),
    }
}

/// A lease as listed.
struct LeaseRecord<'a> {
    row: &'a LeaseRow,
    key: String,
    now: i64,
}

impl LeaseRecord<'_> {
    const FIELDS: &'static [&'static str] = &[
        "key",
        "owner",
        "epoch",
        "acquired_at",
        "expires_at",
        "state",
    ];

    fn state(&self) -> &'static str {
        if self.row.is_live(self.now) {
            "live"
        } else {
            "expired"
        }
    }
}

impl Record for LeaseRecord<'_> {
    fn fields(
        &self,
        visit: &mut dyn FnMut(&'static str, Field<'_>) -> io::Result<()>,
    ) -> io::Result<()> {
        visit("key", Field::Str(&self.key))?;
        visit("owner", Field::Str(&self.row.owner))?;
        visit("epoch", Field::U64(self.row.epoch))?;
        visit("acquired_at", Field::Time(Some(self.row.acquired_at)))?;
        visit("expires_at", Field::Time(Some(self.row.expires_at)))?;
        visit("state", Field::Str(self.state()))
    }

    fn table_columns(&self) -> &'static [&'static str] {
        Self::FIELDS
    }

    fn value(&self) -> Field<'_> {
        Field::Str(&self.row.owner)
    }
}

fn list(ctx: &Context, consumer: Option<&str>) -> CliResult<()> {
    let store = ctx.open_read()?;
    require_leases(&**store)?;
    let now = store.clock_ms()?;
    let mut printer = ctx.printer(Shape::List).with_header(LeaseRecord::FIELDS);
    let mut failed = None;
    store.visit_leases(consumer, &mut |row| {
        let record = LeaseRecord {
            row,
            key: row.key(),
            now,
        };
        match printer.record(&record) {
            Ok(()) => Visit::Continue(()),
            Err(e) => {
                failed = Some(e);
                Visit::Break(())
            }
        }
    })?;
    if let Some(e) = failed {
        return Err(e.into());
    }
    let count = printer.count();
    printer.finish()?;
    if count == 0 {
        ctx.note("no lease is held or was held on these cursors");
    }
    Ok(())
}

fn break_one(ctx: &Context, key: &CursorKey, reason: &str, dry_run: bool) -> CliResult<()> {
    let store = ctx.open_write()?;
    let outcome = cursorctl::store::Outcome::of_dry_run(dry_run);
    let broken = op::break_one(&*store, key, reason, &Context::user(), outcome)?;
    let was = &broken.was;
    ctx.print_one(&LeaseRecord {
        row: &broken.now,
        key: key.to_string(),
        now: broken.at,
    })?;
    let would = if dry_run { "would break" } else { "broke" };
    let recorded = if dry_run {
        String::new()
    } else {
        format!(", recorded as change {}", broken.change)
    };
    ctx.note(&format!(
        "{would} the lease of {} on {key} (epoch {} -> {}; it was live until {}){recorded}",
        was.owner,
        was.epoch,
        was.epoch + 1,
        format_time(was.expires_at)
    ));
    Ok(())
}

static QUIET: AtomicBool = AtomicBool::new(false);
/// The cursors a note was printed for (a transaction may run again).
static NOTED: Mutex<Option<HashSet<String>>> = Mutex::new(None);

/// Set once, before a command runs: operator writes break the live lease
/// of each cursor they write with `--fence` (in the operations layer), and
/// a note names each holder met unless `--quiet`.
pub fn configure(fence: bool, quiet: bool) {
    QUIET.store(quiet, Ordering::Relaxed);
    op::register_write_hook(fence, Context::user(), note_once);
}

fn note_once(key: &CursorKey, held: &LeaseRow, fenced: bool) {
    if QUIET.load(Ordering::Relaxed) {
        return;
    }
    let mut noted = NOTED
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    if !noted
        .get_or_insert_with(HashSet::new)
        .insert(key.to_string())
    {
        return;
    }
    let message = if fenced {
        format!(
            "cursorctl: note: {key} is leased by {} (epoch {}); --fence breaks that lease in this write (epoch {} after it): its holder's next checkpoint is refused as fenced",
            held.owner,
            held.epoch,
            held.epoch + 1
        )
    } else {
        format!(
            "cursorctl: note: {key} is leased by {} (epoch {}, until {}): the write goes through, compare-and-swap guarded; that consumer's next checkpoint may be stale (--fence breaks its lease too)",
            held.owner,
            held.epoch,
            format_time(held.expires_at)
        )
    };
    let _ = std::io::Write::write_all(
        &mut io::stderr(),
        format!("{}\n", super::output::escape_text(&message, false, &['\n'])).as_bytes(),
    );
}
