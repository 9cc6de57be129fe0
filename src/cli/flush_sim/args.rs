//! The arguments of `flush-sim` and their parsers.

use std::num::NonZeroU64;
use std::path::PathBuf;

use cursorctl::key::PartitionKey;
use cursorctl::sim::SimConfig;
use cursorctl::{CheckpointPolicy, DurabilityError};

use super::super::error::{CliResult, Failure};
use super::super::key_arg::{consumer_arg, ConsumerArg};
use super::super::reason_arg;

/// The policies `--compare` runs, in this order.
const COMPARED: [CheckpointPolicy; 5] = [
    CheckpointPolicy::PerMessage,
    CheckpointPolicy::PerBatch(10),
    CheckpointPolicy::PerBatch(100),
    CheckpointPolicy::PerBatch(1000),
    CheckpointPolicy::ExplicitFlush,
];

/// Simulate a checkpoint policy against a cursor: store writes, durable
/// offset, messages processed again after a crash
///
/// Runs the library's checkpoint driver, with the same regression-checked
/// compare-and-swap checkpoints as a live consumer, over --messages N
/// processed messages (next offsets current+1 ... current+N, where current is
/// the cursor's offset, 0 if absent) or over the next offsets read from
/// --offsets, one a line. --flush-every M also flushes every M messages.
///
/// The run ends with a clean shutdown, which flushes once more (as a
/// consumer stopped cleanly does), or, with --crash-after K, with a crash
/// after K messages and no flush: the summary then gives the offset a
/// restarted consumer resumes from (final_offset) and how many messages it
/// processes again (redelivered_after_crash).
///
/// A dry run by default: the cursor is read once and the simulation runs on
/// a copy in memory; the store is not changed and no write lock is taken.
/// With --commit every checkpoint is its own short transaction on the real
/// store, recorded in the history (command flush-sim); if a live consumer
/// moves the cursor meanwhile, the run stops with exit 3 and says what it
/// had committed.
///
/// -o ndjson prints one line per checkpoint, flush, error and crash (never
/// one per message), then the summary; -o json and table print the summary
/// (with --compare, one row per policy); -o value prints final_offset. A
/// backwards offset in the input is refused as a regression, reported, and
/// the run goes on as the driver does (the refused offset is dropped: the
/// cursor is already past it). With
/// --compare, -o value prints POLICY<TAB>FINAL_OFFSET, one line a policy.
#[derive(Debug, clap::Args)]
#[command(
    group(clap::ArgGroup::new("input").required(true).args(["messages", "offsets"])),
    after_help = "\
Examples:
  cursorctl flush-sim billing orders:3 --policy per-batch:100 --messages 1000000
  cursorctl flush-sim billing orders:3 --compare --messages 100000 --flush-every 500
  cursorctl flush-sim billing orders:3 --policy per-batch:3 --messages 10 -o ndjson
  cursorctl flush-sim billing orders:3 --policy explicit-flush --flush-every 50 \\
      --messages 1000 --crash-after 420
  consumer-log | cursorctl flush-sim billing orders:3 --policy per-message --offsets -
  cursorctl flush-sim billing orders:3 --policy per-batch:10 --messages 50 --commit \\
      --reason 'load test'"
)]
pub struct Args {
    /// Consumer id, or the full key CONSUMER:CHANNEL:INDEX (billing:orders:3)
    #[arg(value_name = "CONSUMER", value_parser = consumer_arg, add = clap_complete::engine::ArgValueCompleter::new(super::super::complete::consumers))]
    pub consumer: ConsumerArg,

    /// Partition key, CHANNEL:INDEX (for example orders:3); not after a
    /// full key
    #[arg(add = clap_complete::engine::ArgValueCompleter::new(super::super::complete::partition_keys))]
    pub partition_key: Option<PartitionKey>,

    /// Checkpoint policy: per-message, per-batch:N (N >= 1) or explicit-flush
    #[arg(long, value_name = "POLICY", value_parser = PolicyParser::new(), hide_possible_values = true, required_unless_present = "compare")]
    pub policy: Option<CheckpointPolicy>,

    /// Simulate N processed messages after the cursor's offset
    #[arg(long, value_name = "N", value_parser = count_arg)]
    pub messages: Option<u64>,

    /// Read the next offset of each processed message from PATH, one a line
    /// (- for stdin)
    #[arg(long, value_name = "PATH")]
    pub offsets: Option<PathBuf>,

    /// Also flush every M messages, whatever the policy
    #[arg(long, value_name = "M", value_parser = flush_every_arg)]
    pub flush_every: Option<NonZeroU64>,

    /// Crash after K messages: no final flush; report what a restarted
    /// consumer processes again
    #[arg(long, value_name = "K", value_parser = count_arg)]
    pub crash_after: Option<u64>,

    /// Run the same input under per-message, per-batch:10, per-batch:100,
    /// per-batch:1000 and explicit-flush (and --policy, if another), one row
    /// each
    #[arg(long, conflicts_with = "commit")]
    pub compare: bool,

    /// Write the checkpoints to the store, each in its own transaction,
    /// recorded in the history
    #[arg(long)]
    pub commit: bool,

    /// With --commit: create the cursor if it does not exist
    #[arg(long, requires = "commit")]
    pub create: bool,

    /// With --commit: why (recorded in the history)
    #[arg(long, value_name = "TEXT", value_parser = reason_arg, allow_hyphen_values = true, requires = "commit")]
    pub reason: Option<String>,
}

/// Parses `--policy`, and offers the usual policies to shell completion
/// (instead of file names).
#[derive(Clone)]
struct PolicyParser(
    clap::builder::TryMapValueParser<clap::builder::StringValueParser, ParsePolicy>,
);

type ParsePolicy = fn(String) -> Result<CheckpointPolicy, String>;

impl PolicyParser {
    fn new() -> Self {
        let parse: ParsePolicy = |s| policy_arg(&s);
        Self(clap::builder::TypedValueParser::try_map(
            clap::builder::StringValueParser::new(),
            parse,
        ))
    }
}

impl clap::builder::TypedValueParser for PolicyParser {
    type Value = CheckpointPolicy;

    fn parse_ref(
        &self,
        cmd: &clap::Command,
        arg: Option<&clap::Arg>,
        value: &std::ffi::OsStr,
    ) -> Result<CheckpointPolicy, clap::Error> {
        self.0.parse_ref(cmd, arg, value)
    }

    fn possible_values(
        &self,
    ) -> Option<Box<dyn Iterator<Item = clap::builder::PossibleValue> + '_>> {
        // The policies of --compare, as completions offer them.
        const OFFERED: [&str; 5] = [
            "per-message",
            "per-batch:10",
            "per-batch:100",
            "per-batch:1000",
            "explicit-flush",
        ];
        Some(Box::new(
            OFFERED.into_iter().map(clap::builder::PossibleValue::new),
        ))
    }
}

fn policy_arg(s: &str) -> Result<CheckpointPolicy, String> {
    s.parse().map_err(|e: DurabilityError| {
        let text = e.to_string();
        let text = text.strip_prefix("configuration error: ").unwrap_or(&text);
        if text.contains("explicit-flush") {
            text.to_owned()
        } else {
            format!("{text}; use per-message, per-batch:N (N >= 1) or explicit-flush")
        }
    })
}

fn count_arg(s: &str) -> Result<u64, String> {
    if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit()) {
        return Err(format!(
            "invalid count {s:?}: use a whole number, for example 1000000"
        ));
    }
    s.parse()
        .map_err(|_| format!("invalid count {s:?}: it is above the limit {}", u64::MAX))
}

fn flush_every_arg(s: &str) -> Result<NonZeroU64, String> {
    NonZeroU64::new(count_arg(s)?)
        .ok_or_else(|| "invalid interval \"0\": flush every 1 message or more".to_owned())
}

pub(super) fn policies(args: &Args) -> CliResult<Vec<CheckpointPolicy>> {
    if !args.compare {
        let policy = args
            .policy
            .ok_or_else(|| Failure::usage("--policy is required (or --compare)"))?;
        return Ok(vec![policy]);
    }
    let mut list = COMPARED.to_vec();
    if let Some(policy) = args.policy.filter(|p| !list.contains(p)) {
        list.push(policy);
    }
    Ok(list)
}

pub(super) const fn config(args: &Args, policy: CheckpointPolicy) -> SimConfig {
    SimConfig {
        policy,
        flush_every: args.flush_every,
        crash_after: args.crash_after,
    }
}
