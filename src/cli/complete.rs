//! Completion from the store: consumer names and partition keys, read from
//! the store that `--db` (or `CURSORCTL_DB`) names, for shells set up with
//! `source <(COMPLETE=bash cursorctl)` (zsh, fish: the same with their
//! name). A slow, missing or unreadable store gives no candidates, and
//! never more than [`LIMIT`] of waiting.

use std::ffi::{OsStr, OsString};
use std::time::Duration;

use clap_complete::engine::CompletionCandidate;
use cursorctl::store::{self, Access, ConsumerFilter, CursorFilter, StoreLocation, Visit};

/// The longest a completion may wait for the store.
pub const LIMIT: Duration = Duration::from_millis(500);

/// The words being completed: what follows `--` in `COMPLETE=shell
/// cursorctl -- WORDS`.
fn words() -> Vec<OsString> {
    let args: Vec<OsString> = std::env::args_os().collect();
    match args.iter().position(|a| a == "--") {
        Some(i) => args[i + 1..].to_vec(),
        None => Vec::new(),
    }
}

/// The store the command line names: `--db X`, `--db=X`, `CURSORCTL_DB`,
/// or the default.
fn location(words: &[OsString]) -> StoreLocation {
    let found = super::raw_args::option_values(words, "db", None)
        .last()
        .map(OsStr::to_os_string);
    let db = found
        .or_else(|| std::env::var_os("CURSORCTL_DB").filter(|v| !v.is_empty()))
        .unwrap_or_else(|| OsString::from("cursors.db"));
    StoreLocation::parse(&db)
}

/// Run `read` against the store with a time limit: past it the process
/// ends, having offered nothing.
fn with_store(
    read: impl FnOnce(&dyn store::Store) -> Vec<CompletionCandidate>,
) -> Vec<CompletionCandidate> {
    std::thread::spawn(|| {
        std::thread::sleep(LIMIT);
        std::process::exit(0);
    });
    let words = words();
    match store::open(
        &location(&words),
        Access::ReadOnly,
        Duration::from_millis(100),
    ) {
        Ok(store) => read(&*store),
        Err(_) => Vec::new(),
    }
}

/// Consumer names starting with what is typed (or, once it holds a `:`,
/// full cursor keys).
pub fn consumers(current: &OsStr) -> Vec<CompletionCandidate> {
    let Some(prefix) = current.to_str().map(str::to_owned) else {
        return Vec::new();
    };
    with_store(|store| {
        let mut out = Vec::new();
        if let Some((consumer, _)) = prefix.split_once(':') {
            let filter = CursorFilter {
                consumer: Some(consumer.to_owned()),
                ..CursorFilter::default()
            };
            let _ = store.visit_cursors(&filter, &mut |row| {
                if let Ok(row) = row {
                    let key = row.key();
                    if key.starts_with(&prefix) {
                        out.push(CompletionCandidate::new(key));
                    }
                }
                Visit::Continue(())
            });
        } else {
            let _ = store.visit_consumers(&ConsumerFilter::default(), &mut |s| {
                if s.consumer.starts_with(&prefix) {
                    out.push(CompletionCandidate::new(s.consumer.clone()));
                }
                Visit::Continue(())
            });
        }
        out
    })
}

/// The consumer typed before the partition key: the first word after the
/// command that is not an option.
fn typed_consumer(words: &[OsString]) -> Option<String> {
    const COMMANDS: [&str; 7] = [
        "get",
        "set",
        "advance",
        "history",
        "delete",
        "flush-sim",
        "describe",
    ];
    let words: Vec<&str> = words.iter().filter_map(|w| w.to_str()).collect();
    let at = words.iter().position(|w| COMMANDS.contains(w))?;
    words[at + 1..words.len().saturating_sub(1)]
        .iter()
        .find(|w| !w.starts_with('-'))
        .map(|w| (*w).to_owned())
}

/// Partition keys of the consumer typed before, starting with what is
/// typed.
pub fn partition_keys(current: &OsStr) -> Vec<CompletionCandidate> {
    let Some(prefix) = current.to_str().map(str::to_owned) else {
        return Vec::new();
    };
    let Some(consumer) = typed_consumer(&words()) else {
        return Vec::new();
    };
    with_store(|store| {
        let mut out = Vec::new();
        let filter = CursorFilter {
            consumer: Some(consumer),
            ..CursorFilter::default()
        };
        let _ = store.visit_cursors(&filter, &mut |row| {
            if let Ok(row) = row {
                let pk = row.partition_key();
                if pk.starts_with(&prefix) {
                    out.push(CompletionCandidate::new(pk));
                }
            }
            Visit::Continue(())
        });
        out
    })
}
