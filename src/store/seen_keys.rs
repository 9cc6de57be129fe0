//! Cursor keys met in one input (a bulk write's duplicate check).

use super::*;

/// Cursor keys met in one input, each with the line it first appeared on.
pub trait SeenKeySet {
    /// Record `key` on `line`; the line it was first met on, if it was met
    /// before.
    ///
    /// # Errors
    ///
    /// Store failures.
    fn first_line(&mut self, key: &CursorKey, line: u64) -> Result<Option<u64>, StoreError>;
}

/// [`SeenKeySet`] in memory: a 128-bit fingerprint of each key (a false match
/// is about 1 in 10^26 for a million keys), 24 bytes a key.
#[derive(Default)]
pub(super) struct MemorySeenKeySet {
    hashers: (std::hash::RandomState, std::hash::RandomState),
    lines: std::collections::HashMap<(u64, u64), u64>,
}

impl SeenKeySet for MemorySeenKeySet {
    fn first_line(&mut self, key: &CursorKey, line: u64) -> Result<Option<u64>, StoreError> {
        use std::hash::BuildHasher;
        let fingerprint = (self.hashers.0.hash_one(key), self.hashers.1.hash_one(key));
        Ok(match self.lines.entry(fingerprint) {
            std::collections::hash_map::Entry::Occupied(o) => Some(*o.get()),
            std::collections::hash_map::Entry::Vacant(v) => {
                v.insert(line);
                None
            }
        })
    }
}
