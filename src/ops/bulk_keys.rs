//! The keys a bulk write has seen, to refuse a cursor given twice.

use super::bulk::BulkSource;
use super::error::{OpResult, Refusal};
use crate::key::CursorKey;
use crate::store::StoreRead;

/// Why a line that repeats a cursor is refused.
pub(super) fn duplicate_reason(key: &str, first: u64) -> String {
    format!("cursor {key} appears twice in the input: first on line {first}")
}

/// The keys seen so far in one batch, with the line each first appeared on,
/// in memory that does not grow with the input.
///
/// While the keys come in ascending order (the order listings print them
/// in), a key can only repeat the one just before it, so that one is all
/// that is kept. From the first key out of order on, the keys go into the
/// store's set of seen keys (SQLite keeps it in a temporary table, outside
/// memory); the set is first filled with the keys of the lines already
/// read, read again from the input. An input that cannot be read twice at
/// once (standard input, a pipe) uses the set from its first line.
pub(super) struct SeenKeys<'a> {
    store: &'a dyn StoreRead,
    source: &'a dyn BulkSource,
    /// Whether the input can be read again beside this reading (asked once:
    /// it is a file system call).
    rereadable: bool,
    /// The last key while every key so far was above the one before.
    last: Option<(CursorKey, u64)>,
    set: Option<Box<dyn crate::store::SeenKeySet + 'a>>,
}

impl<'a> SeenKeys<'a> {
    pub(super) fn new(store: &'a dyn StoreRead, source: &'a dyn BulkSource) -> Self {
        Self {
            store,
            source,
            rereadable: source.can_read_beside(),
            last: None,
            set: None,
        }
    }

    /// Record `key` on `line`; returns the line it was first seen on if it
    /// was seen before.
    pub(super) fn first_line(&mut self, key: &CursorKey, line: u64) -> OpResult<Option<u64>> {
        if self.set.is_none() {
            match &self.last {
                Some((last, first)) if key == last => return Ok(Some(*first)),
                Some((last, _)) if key < last => self.start_set(line)?,
                _ if self.rereadable => {
                    self.last = Some((key.clone(), line));
                    return Ok(None);
                }
                _ => self.start_set(line)?,
            }
        }
        let set = self.set.as_mut().expect("the set was just started");
        Ok(set.first_line(key, line)?)
    }

    /// Start the set, with the keys of the lines before `line`.
    fn start_set(&mut self, line: u64) -> OpResult<()> {
        let mut set = self.store.seen_keys()?;
        if let Some((last, last_line)) = self.last.take() {
            let mut found_last = false;
            if let Some(mut lines) = self.source.beside()? {
                while let Some((number, parsed)) = lines.next_line()? {
                    if number >= line {
                        break;
                    }
                    if let Ok(entry) = parsed {
                        found_last |= number == last_line && entry.key == last;
                        set.first_line(&entry.key, number)?;
                    }
                }
            }
            if !found_last {
                return Err(Refusal::usage(
                    "the input changed while it was being read; nothing was written",
                )
                .into());
            }
        }
        self.set = Some(set);
        Ok(())
    }
}
