//! Many heads recorded at once (`head set --from-file`): every line read
//! and checked first (bad lines and partition keys given twice are
//! listed), then every head written in one transaction, committed only when
//! no line fails (a dry run is rolled back either way). Every failing line
//! is listed, with its number.

use std::collections::HashMap;

use super::bulk::Invalid;
use super::error::{ErrorKind, OpError, OpResult};
use super::failures::Failures;
use crate::heads::{require_heads, write_head, HeadAudit, HeadError, HeadWrite};
use crate::key::PartitionKey;
use crate::store::{Outcome, Store, StoreExt};

/// One valid input line: a partition and its head.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HeadEntry {
    /// The partition.
    pub key: PartitionKey,
    /// Its head.
    pub head: u64,
}

/// One input line: its number (1-based) and what it holds.
pub type HeadLine = (u64, Result<HeadEntry, Invalid>);

/// What applies to every head of the input.
#[derive(Clone, Copy, Debug)]
pub struct HeadSet<'a> {
    /// Whether a head may move back.
    pub allow_rewind: bool,
    /// Why (recorded in the head history).
    pub reason: Option<&'a str>,
    /// Who.
    pub user: &'a str,
    /// Commit, or roll back (a dry run).
    pub outcome: Outcome,
}

/// A head written (or, in a dry run, that would be).
#[derive(Clone, Debug)]
pub struct HeadWritten {
    /// The partition.
    pub key: PartitionKey,
    /// What the write did.
    pub write: HeadWrite,
}

/// Record one head (a dry run: the same write, rolled back).
///
/// # Errors
///
/// A regression without `allow_rewind`, a head above the largest offset,
/// a store that keeps no heads, and store failures.
pub fn set_head(
    store: &dyn Store,
    opts: &HeadSet<'_>,
    key: &PartitionKey,
    head: u64,
) -> OpResult<HeadWrite> {
    require_heads(store)?;
    let audit = audit(opts);
    Ok(store.write_then(opts.outcome, |txn| {
        write_head(txn, key, head, opts.allow_rewind, audit)
    })?)
}

/// What the head history records of a head written with `opts`.
const fn audit<'a>(opts: &HeadSet<'a>) -> HeadAudit<'a> {
    HeadAudit {
        command: "head set",
        reason: opts.reason,
        user: opts.user,
    }
}

/// Record the heads of `lines` in `store`, in one transaction.
///
/// # Errors
///
/// The failing lines (as one error, in line order), a store that keeps no
/// heads, read failures of `lines`, and store failures.
pub fn set_heads(
    store: &dyn Store,
    opts: &HeadSet<'_>,
    lines: impl Iterator<Item = OpResult<HeadLine>>,
) -> OpResult<Vec<HeadWritten>> {
    require_heads(store)?;
    // (line, key, kind, reason) of the lines refused before the store.
    let mut refused: Vec<(u64, Option<String>, ErrorKind, String)> = Vec::new();
    let mut planned: Vec<(u64, HeadEntry)> = Vec::new();
    let mut seen: HashMap<PartitionKey, u64> = HashMap::new();
    let mut total = 0u64;
    for read in lines {
        let (line, parsed) = read?;
        total += 1;
        let entry = match parsed {
            Ok(entry) => entry,
            Err(bad) => {
                refused.push((line, bad.key, ErrorKind::Usage, bad.reason));
                continue;
            }
        };
        if let Some(first) = seen.get(&entry.key) {
            let key = entry.key.to_string();
            let reason =
                format!("partition key {key} appears twice in the input: first on line {first}");
            refused.push((line, Some(key), ErrorKind::Usage, reason));
            continue;
        }
        seen.insert(entry.key.clone(), line);
        planned.push((line, entry));
    }
    drop(seen);
    let audit = audit(opts);
    store.write_then(opts.outcome, |txn| -> OpResult<Vec<HeadWritten>> {
        // Failures in line order: those refused before the store, and
        // those the store refuses, merged.
        let mut failed = Vec::new();
        let mut written = Vec::with_capacity(planned.len());
        for (line, p) in &planned {
            match write_head(txn, &p.key, p.head, opts.allow_rewind, audit) {
                Ok(write) => written.push(HeadWritten {
                    key: p.key.clone(),
                    write,
                }),
                Err(HeadError::Store(e)) => return Err(e.into()),
                Err(e) => {
                    let err = OpError::from(e);
                    failed.push((*line, Some(p.key.to_string()), err.kind(), err.to_string()));
                }
            }
        }
        if refused.is_empty() && failed.is_empty() {
            return Ok(written);
        }
        failed.extend(refused.iter().cloned());
        failed.sort_by_key(|f| f.0);
        let mut failures = Failures::new("line");
        for (line, key, kind, reason) in &failed {
            failures.add(*line, key.as_deref(), *kind, reason);
        }
        let nothing = if opts.outcome.is_dry_run() {
            "nothing would be written"
        } else {
            "nothing was written"
        };
        Err(failures.into_error(total, nothing))
    })
}
