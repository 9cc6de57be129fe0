//! `cursorctl history`: the audit trail of changes made through the tool.

use std::time::{Duration, UNIX_EPOCH};

use cursorctl::key::{ConsumerId, PartitionKey};
use cursorctl::parse_duration;
use cursorctl::store::{HistoryFilter, Store, StoreReadExt};

use super::error::CliResult;
use super::key_arg::{consumer_arg, ConsumerArg};
use super::output::Shape;
use super::records::HistoryRecord;
use super::Context;
use super::{id_arg, limit_arg};

/// Show the recorded changes, oldest first
///
/// Every change made by cursorctl is recorded in the same transaction as
/// the change: when, which cursor, old and new offset, the command, the
/// --reason and the user. On PostgreSQL each change also shows its role:
/// the database role that wrote it, proven by the server (SQLite has no
/// roles). Changes of one bulk write (`set --from-file`, `undo --batch`)
/// share a batch id. A removed cursor has no new offset; a created one has
/// no old offset. Listings stream (with --user, --role or --command and
/// --limit, the newest N matches are gathered first).
///
/// `history prune` and `history verify` are always those commands, and
/// `history help` the help: a consumer named like one of them is given with
/// --consumer NAME (`history --consumer prune`), or one of its cursors by
/// its full key (`history prune:orders:3`).
#[derive(Debug, clap::Args)]
#[command(after_help = "\
Examples:
  cursorctl history                                  every recorded change
  cursorctl history billing orders:3 --limit 5       the last five changes of one cursor
  cursorctl history billing --since 1h               a consumer's changes in the last hour
  cursorctl history --since 2024-05-01T00:00:00Z -o ndjson
  cursorctl history --batch 7                        the changes of one bulk write
  cursorctl history --role cursorctl_operator        the changes one database role wrote
  cursorctl history verify                           check that no change was altered behind the tool
  cursorctl history --consumer prune                 the changes of a consumer named prune
  cursorctl history prune --before 90d --dry-run     how much history is older than 90 days")]
#[command(args_conflicts_with_subcommands = true)]
pub struct Args {
    #[command(subcommand)]
    pub action: Option<Action>,

    /// Only this consumer (or only this cursor, by its full key
    /// CONSUMER:CHANNEL:INDEX)
    #[arg(value_name = "CONSUMER", value_parser = consumer_arg, add = clap_complete::engine::ArgValueCompleter::new(super::complete::consumers))]
    pub consumer: Option<ConsumerArg>,

    /// Only this consumer, whatever its name: a consumer named like a
    /// subcommand (prune, verify, help) is listed this way
    #[arg(long = "consumer", value_name = "CONSUMER", conflicts_with = "consumer", add = clap_complete::engine::ArgValueCompleter::new(super::complete::consumers))]
    pub consumer_named: Option<ConsumerId>,

    /// Only this partition key, CHANNEL:INDEX (needs CONSUMER)
    #[arg(requires = "consumer", add = clap_complete::engine::ArgValueCompleter::new(super::complete::partition_keys))]
    pub partition_key: Option<PartitionKey>,

    /// Only the newest N changes (still printed oldest first)
    #[arg(long, value_name = "N", value_parser = limit_arg, allow_hyphen_values = true)]
    pub limit: Option<u64>,

    /// Only changes at or after TIME: a duration meaning that long ago (1h,
    /// 30m, 2d), a date (2024-05-01, midnight UTC), or a time with its zone
    /// (2024-05-01T12:00:00Z, 2024-05-01T14:00:00+02:00); a time without a
    /// zone is refused
    #[arg(long, value_name = "TIME", value_parser = parse_since, allow_hyphen_values = true)]
    pub since: Option<Since>,

    /// Only the changes of this batch
    #[arg(long, value_name = "ID", value_parser = id_arg, allow_hyphen_values = true)]
    pub batch: Option<i64>,

    /// Only the changes recorded with this user (the name the writer gave)
    #[arg(long, value_name = "NAME")]
    pub user: Option<String>,

    /// Only the changes written by this database role, proven by the server
    /// (PostgreSQL; on SQLite, which has no roles, a usage error)
    #[arg(long, value_name = "ROLE")]
    pub role: Option<String>,

    /// Only the changes of this command (`set`, `advance`, `delete`, ...:
    /// the first word of the recorded command)
    #[arg(long, value_name = "NAME")]
    pub command: Option<String>,
}

#[derive(Debug, clap::Subcommand)]
pub enum Action {
    Prune(PruneArgs),
    Verify(VerifyArgs),
}

/// Check that no recorded change was altered behind the tool's back
///
/// Every change carries a hash chained to the change before it; the store
/// keeps the chain's head. `history verify` recomputes the chain over the
/// whole history and names the first broken link: a change altered,
/// inserted or removed since it was written, by anyone (the owner of the
/// store included), short of rewriting the whole chain from that change
/// on. Exit 7 when the chain is broken. Keep the head it prints
/// (`head_hash`) somewhere else, and compare it with --head, to see a
/// rewritten chain too. Needs schema version 4 (`cursorctl init` upgrades).
#[derive(Debug, clap::Args)]
#[command(after_help = "\
Examples:
  cursorctl history verify
  cursorctl history verify --head 3f1c...   also check the head kept from an earlier run")]
pub struct VerifyArgs {
    /// The head hash an earlier `history verify` printed (hexadecimal): also
    /// check that the chain still holds that head's change as it was, i.e.
    /// that the chain was extended, not rewritten, since (only while that
    /// change is the newest: otherwise check it is in the chain)
    #[arg(long, value_name = "HASH")]
    pub head: Option<String>,
}

struct VerifyRecord {
    report: cursorctl::store::chain::ChainReport,
}

impl super::output::Record for VerifyRecord {
    fn fields(
        &self,
        visit: &mut dyn FnMut(&'static str, super::output::Field<'_>) -> std::io::Result<()>,
    ) -> std::io::Result<()> {
        use super::output::Field;
        let r = &self.report;
        visit("verified", Field::Bool(r.broken.is_none()))?;
        visit("changes", Field::U64(r.rows))?;
        visit("before_chain", Field::U64(r.pre_chain_rows))?;
        visit("head_id", Field::OptI64(r.head_id))?;
        visit("head_hash", Field::Str(&r.head_hash))?;
        visit(
            "broken_at",
            Field::OptI64(r.broken.as_ref().and_then(|b| b.id)),
        )?;
        visit(
            "problem",
            Field::OptStr(r.broken.as_ref().map(|b| b.detail.as_str())),
        )
    }

    fn table_columns(&self) -> &'static [&'static str] {
        &["verified", "changes", "head_id", "head_hash", "broken_at"]
    }

    fn value(&self) -> super::output::Field<'_> {
        super::output::Field::Bool(self.report.broken.is_none())
    }
}

fn verify(ctx: &Context, args: &VerifyArgs) -> CliResult<()> {
    let store = ctx.open_read()?;
    let Some(mut report) = store.verify_history()? else {
        return Err(super::error::Failure::new(
            super::error::ExitKind::Store,
            "this store keeps no hash chain of its history (schema version 4 does): run `cursorctl init` to upgrade it",
        )
        .into());
    };
    if let Some(head) = &args.head {
        if report.broken.is_none() && !head.eq_ignore_ascii_case(&report.head_hash) {
            report.broken = Some(cursorctl::store::chain::BrokenLink {
                id: None,
                detail: format!(
                    "the chain's head is {}, not the head given with --head: changes were written since, or the chain was rewritten",
                    report.head_hash
                ),
            });
        }
    }
    let broken = report.broken.clone();
    ctx.print_one(&VerifyRecord { report })?;
    match broken {
        None => Ok(()),
        Some(b) => Err(super::error::Failure::new(
            super::error::ExitKind::Store,
            match b.id {
                Some(id) => format!(
                    "the history's hash chain is broken at change {id}: {}",
                    b.detail
                ),
                None => format!("the history's hash chain is broken: {}", b.detail),
            },
        )
        .into()),
    }
}

/// Delete the history older than a time, never half a batch
///
/// Deletes the recorded changes made before --before, and the batches left
/// with no change. A batch with any change at or after --before is kept
/// whole, so `undo --batch` never meets half a batch. The prune itself is
/// recorded, as a batch of its own with no changes (`history prune
/// --before TIME` in its command). Cursors are not touched.
#[derive(Debug, clap::Args)]
#[command(after_help = "\
Examples:
  cursorctl history prune --before 90d --dry-run
  cursorctl history prune --before 2024-01-01 --reason 'keep one quarter of history'")]
pub struct PruneArgs {
    /// Delete the changes made before TIME: a duration meaning that long ago
    /// (90d), a date (2024-05-01, midnight UTC) or a time with its zone
    /// (required)
    // Checked when the command runs rather than by clap, so that a missing
    // one can say how to list a consumer named prune.
    #[arg(long, value_name = "TIME", value_parser = parse_since, allow_hyphen_values = true)]
    pub before: Option<Since>,

    /// Why (recorded with the prune)
    #[arg(long, value_name = "TEXT", value_parser = super::reason_arg, allow_hyphen_values = true)]
    pub reason: Option<String>,

    /// Say how much would be deleted; delete nothing
    #[arg(long)]
    pub dry_run: bool,
}

struct PruneRecord {
    before: i64,
    changes: u64,
    batches: u64,
    batch: Option<i64>,
    dry_run: bool,
}

impl super::output::Record for PruneRecord {
    fn fields(
        &self,
        visit: &mut dyn FnMut(&'static str, super::output::Field<'_>) -> std::io::Result<()>,
    ) -> std::io::Result<()> {
        use super::output::Field;
        visit("before", Field::Time(Some(self.before)))?;
        visit("changes", Field::U64(self.changes))?;
        visit("batches", Field::U64(self.batches))?;
        visit("batch", Field::OptI64(self.batch))?;
        visit("dry_run", Field::Bool(self.dry_run))
    }

    fn table_columns(&self) -> &'static [&'static str] {
        &["before", "changes", "batches", "batch"]
    }

    fn value(&self) -> super::output::Field<'_> {
        super::output::Field::U64(self.changes)
    }
}

fn prune(ctx: &Context, args: &PruneArgs) -> CliResult<()> {
    let Some(before) = &args.before else {
        return Err(super::error::Failure::usage(
            "history prune deletes old history and needs --before TIME (for example --before 90d)",
        )
        .with_hint(
            "to list the changes of a consumer named prune: `cursorctl history --consumer prune`",
        )
        .into());
    };
    let outcome = cursorctl::store::Outcome::of_dry_run(args.dry_run);
    let store = ctx.open_write()?;
    let before = before.resolve(&*store)?;
    let when = super::output::format_time(before);
    let user = Context::user();
    // A dry run is the prune itself, rolled back.
    let cursorctl::ops::prune::Pruned {
        changes,
        batches,
        batch,
    } = cursorctl::ops::prune::run(&*store, before, args.reason.as_deref(), &user, outcome)?;
    if outcome.is_dry_run() {
        ctx.note(&format!(
            "dry run: the prune would delete {changes} change(s) and {batches} batch(es) older than {when}; nothing was deleted"
        ));
    } else {
        ctx.note(&format!(
            "deleted {changes} change(s) and {batches} batch(es) older than {when}; the prune is recorded as batch {batch}"
        ));
    }
    ctx.print_one(&PruneRecord {
        before,
        changes,
        batches,
        batch: (!outcome.is_dry_run()).then_some(batch),
        dry_run: outcome.is_dry_run(),
    })
}

/// A TIME argument (`--since`, `--before`) as given: a time, or a duration
/// ago that is measured on the store's clock once the store is open.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Since {
    /// Milliseconds since the Unix epoch.
    At(i64),
    /// That long before the store's clock.
    Ago(Duration),
}

impl Since {
    /// The time in milliseconds since the Unix epoch, a duration ago
    /// measured from `now_ms`.
    #[must_use]
    pub fn at_clock(self, now_ms: i64) -> i64 {
        match self {
            Self::At(ms) => ms,
            Self::Ago(ago) => {
                now_ms.saturating_sub(i64::try_from(ago.as_millis()).unwrap_or(i64::MAX))
            }
        }
    }

    /// The time on the store's clock (read only for a duration ago).
    ///
    /// # Errors
    ///
    /// Failures to read the store's clock.
    pub fn resolve(self, store: &dyn Store) -> CliResult<i64> {
        let at = match self {
            Self::At(ms) => ms,
            Self::Ago(_) => self.at_clock(store.clock_ms()?),
        };
        if at < 0 {
            return Err(super::error::Failure::usage(
                "invalid time: that long ago is before 1970-01-01T00:00:00Z, the earliest time a store records; use a shorter duration",
            )
            .into());
        }
        Ok(at)
    }

    /// The time on the clock of the store at `--db`, which is opened to
    /// read it only for a duration ago.
    ///
    /// # Errors
    ///
    /// Failures to open the store or read its clock.
    pub fn resolve_at_db(self, ctx: &Context) -> CliResult<i64> {
        match self {
            Self::At(ms) => Ok(ms),
            Self::Ago(_) => self.resolve(&**ctx.open_read()?),
        }
    }
}

/// Parse `--since`: a duration ago, a date (midnight UTC), or an RFC 3339
/// time with its zone (`Z` or an offset such as `+02:00`).
pub fn parse_since(input: &str) -> Result<Since, String> {
    let input = input.trim();
    let b = input.as_bytes();
    let is_date =
        b.len() >= 10 && b[4] == b'-' && b[7] == b'-' && b[..4].iter().all(u8::is_ascii_digit);
    if !is_date {
        let ago = parse_duration(input).map_err(|e| {
            format!("{e}; or a date (2024-05-01) or a time with its zone (2024-05-01T12:00:00Z)")
        })?;
        return Ok(Since::Ago(ago));
    }
    let bad = |why: &str| {
        format!(
            "invalid time {input:?}: {why}; use a date (2024-05-01, taken as midnight UTC), a time with its zone (2024-05-01T12:00:00Z or 2024-05-01T14:00:00+02:00), or a duration meaning that long ago (1h)"
        )
    };
    let (base, shift_s) = if b.len() == 10 {
        (format!("{input}T00:00:00"), 0)
    } else {
        let (base, shift) = split_utc_offset(input);
        let Some(shift) = shift else {
            return Err(bad(
                "it has no zone: add Z for UTC, or an offset such as +02:00",
            ));
        };
        (base.to_owned(), shift)
    };
    let t =
        humantime::parse_rfc3339_weak(&base).map_err(|_| bad("it is not a valid date and time"))?;
    let ms = t
        .duration_since(UNIX_EPOCH)
        .unwrap_or(Duration::ZERO)
        .as_millis();
    let ms = i64::try_from(ms).map_err(|_| bad("it is out of range"))?;
    Ok(Since::At(ms - shift_s * 1000))
}

/// Split a trailing `+HH:MM` / `-HH:MM` / `Z` off an RFC 3339 time; returns
/// the rest and the offset east of UTC in seconds (`None`: no zone).
fn split_utc_offset(input: &str) -> (&str, Option<i64>) {
    if let Some(base) = input.strip_suffix(['Z', 'z']) {
        return (base, Some(0));
    }
    let bytes = input.as_bytes();
    if bytes.len() > 6 && input.is_char_boundary(bytes.len() - 6) {
        let (base, tail) = input.split_at(bytes.len() - 6);
        let t = tail.as_bytes();
        let digits = |a: u8, b: u8| -> Option<i64> {
            (a.is_ascii_digit() && b.is_ascii_digit())
                .then(|| i64::from(a - b'0') * 10 + i64::from(b - b'0'))
        };
        if matches!(t[0], b'+' | b'-') && t[3] == b':' && base.contains(['T', 't', ' ']) {
            if let (Some(h), Some(m)) = (digits(t[1], t[2]), digits(t[4], t[5])) {
                let sign = if t[0] == b'-' { -1 } else { 1 };
                return (base, Some(sign * (h * 3600 + m * 60)));
            }
        }
    }
    (input, None)
}

pub fn run(ctx: &Context, args: &Args) -> CliResult<()> {
    match &args.action {
        Some(Action::Prune(prune_args)) => return prune(ctx, prune_args),
        Some(Action::Verify(verify_args)) => return verify(ctx, verify_args),
        None => {}
    }
    let records_roles = ctx.global.db.backend().capabilities().records_roles;
    if args.role.is_some() && !records_roles {
        return Err(super::error::Failure::usage(
            "--role needs a PostgreSQL store: a SQLite store records no database role (use --user)",
        )
        .into());
    }
    let matching = |row: &cursorctl::store::HistoryRow| {
        args.user.as_ref().is_none_or(|u| *u == row.user)
            && args
                .role
                .as_ref()
                .is_none_or(|r| Some(r) == row.role.as_ref())
            && args.command.as_ref().is_none_or(|c| {
                row.command == *c
                    || row
                        .command
                        .strip_prefix(c.as_str())
                        .is_some_and(|rest| rest.starts_with(' '))
            })
    };
    let filtered = args.user.is_some() || args.role.is_some() || args.command.is_some();
    let (consumer, partition_key) = match &args.consumer {
        Some(c) => {
            let (consumer, pk) = c.split(args.partition_key.as_ref())?;
            (Some(consumer), pk)
        }
        None => (args.consumer_named.clone(), None),
    };
    let store = ctx.open_read()?;
    let since = args.since.map(|s| s.resolve(&**store)).transpose()?;
    let filter = HistoryFilter {
        consumer: consumer.as_ref().map(|c| c.as_str().to_owned()),
        partition_key,
        since,
        batch: args.batch,
        // The newest N matches are kept below when rows are filtered here.
        limit: if filtered { None } else { args.limit },
    };
    let fields = if records_roles {
        HistoryRecord::FIELDS_WITH_ROLE
    } else {
        HistoryRecord::FIELDS
    };
    let mut printer = ctx.printer(Shape::List).with_header(fields);
    let mut key = String::new();
    let mut newest = std::collections::VecDeque::new();
    store.for_each_change(&filter, |row| -> CliResult<()> {
        if !matching(row) {
            return Ok(());
        }
        match args.limit.filter(|_| filtered) {
            Some(limit) => {
                if limit > 0 {
                    if newest.len() as u64 == limit {
                        newest.pop_front();
                    }
                    newest.push_back(row.clone());
                }
            }
            None => printer.record(&HistoryRecord::new(row, &mut key).with_role(records_roles))?,
        }
        Ok(())
    })?;
    for row in &newest {
        printer.record(&HistoryRecord::new(row, &mut key).with_role(records_roles))?;
    }
    let count = printer.count();
    printer.finish()?;
    if count == 0 {
        ctx.note("no recorded change matches");
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn since_accepts_rfc3339_and_durations() {
        assert_eq!(parse_since("1970-01-01T00:00:01Z"), Ok(Since::At(1000)));
        assert_eq!(
            parse_since("1970-01-01T01:00:01+01:00"),
            Ok(Since::At(1000))
        );
        assert_eq!(parse_since("1970-01-01T00:00:01.500Z"), Ok(Since::At(1500)));
        let hour_ago = parse_since("1h").unwrap();
        assert_eq!(hour_ago, Since::Ago(Duration::from_secs(3600)));
        assert_eq!(hour_ago.at_clock(5_000_000), 1_400_000);
        assert_eq!(Since::At(7).at_clock(5_000_000), 7);
        assert!(parse_since("yesterday").is_err());
        assert!(parse_since("").is_err());
        assert_eq!(parse_since("1970-01-02"), Ok(Since::At(86_400_000)));
        assert!(parse_since("1970-01-01T00:00:01")
            .unwrap_err()
            .contains("no zone"));
        assert!(parse_since("5M").unwrap_err().contains("ambiguous"));
    }
}
