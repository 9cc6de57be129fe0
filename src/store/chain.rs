//! The hash chain of the history (schema version 4), on every backend: what
//! `history verify` recomputes.
//!
//! Each history row carries `hash = sha256(prev || encoding(row))`, where
//! `prev` is the hash of the row before it (by id) and the encoding is each
//! field as `length:text` (length in bytes) or `~` when NULL, concatenated.
//! The rows written before the chain started (when `init` upgraded an older
//! store) are hashed together: `pre_hash = sha256(encoding(row 1) ||
//! encoding(row 2) ...)` over the rows up to `pre_id`, and `pre_hash` is the
//! `prev` of the first chained row. The store keeps the chain's head
//! (`last_id`, `last_hash`), updated in the transaction of each row, so that
//! removing the newest rows is seen; a prune records the links it cut
//! (`gaps`: the `prev` of each row kept after a removed one) and, when it
//! removed the newest rows, makes the newest chained row left the head.

use std::collections::HashMap;

use sha2::{Digest, Sha256};

/// The chain's start and head as the store keeps them.
#[derive(Clone, Debug, Default)]
pub struct ChainState {
    /// The newest row written before the chain started (0: none).
    pub pre_id: i64,
    /// The hash of the rows up to `pre_id`.
    pub pre_hash: Vec<u8>,
    /// The newest row of the chain (`None`: none written yet).
    pub last_id: Option<i64>,
    /// Its hash (`pre_hash` when none).
    pub last_hash: Vec<u8>,
}

/// The first broken link found.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BrokenLink {
    /// The row at which the chain breaks (`None`: the chain's start or head).
    pub id: Option<i64>,
    /// What is wrong, in words.
    pub detail: String,
}

/// What `history verify` found.
#[derive(Clone, Debug)]
pub struct ChainReport {
    /// The rows read.
    pub rows: u64,
    /// Of them, the rows written before the chain started.
    pub pre_chain_rows: u64,
    /// The chain's head as the store keeps it: the newest row's id.
    pub head_id: Option<i64>,
    /// And its hash, in hexadecimal.
    pub head_hash: String,
    /// The first broken link (`None`: the chain holds).
    pub broken: Option<BrokenLink>,
}

/// The hash of a history row, chained to `prev`.
#[must_use]
pub fn link(prev: &[u8], encoding: &[u8]) -> Vec<u8> {
    let mut h = Sha256::new();
    h.update(prev);
    h.update(encoding);
    h.finalize().to_vec()
}

/// The hash of no rows: the `pre_hash` of a store created at version 4.
#[must_use]
pub fn empty_hash() -> Vec<u8> {
    Sha256::digest(b"").to_vec()
}

/// Append the encoding of one field to `out`.
pub fn encode_field(out: &mut Vec<u8>, field: Option<&str>) {
    match field {
        None => out.push(b'~'),
        Some(text) => {
            out.extend_from_slice(text.len().to_string().as_bytes());
            out.push(b':');
            out.extend_from_slice(text.as_bytes());
        }
    }
}

/// Hexadecimal of a hash.
#[must_use]
pub fn hex(bytes: &[u8]) -> String {
    use std::fmt::Write;
    bytes.iter().fold(String::new(), |mut s, b| {
        let _ = write!(s, "{b:02x}");
        s
    })
}

/// The hash over the rows before the chain started, fed row by row.
pub struct PreHasher(Sha256);

impl PreHasher {
    #[must_use]
    pub fn new() -> Self {
        Self(Sha256::new())
    }

    pub fn row(&mut self, encoding: &[u8]) {
        self.0.update(encoding);
    }

    #[must_use]
    pub fn finish(self) -> Vec<u8> {
        self.0.finalize().to_vec()
    }
}

impl Default for PreHasher {
    fn default() -> Self {
        Self::new()
    }
}

/// Recomputes the chain over the rows given in the order of ids.
pub struct Verifier {
    state: ChainState,
    gaps: HashMap<i64, Vec<u8>>,
    pre: Option<PreHasher>,
    prev: Vec<u8>,
    rows: u64,
    pre_rows: u64,
    newest: Option<(i64, Option<Vec<u8>>)>,
    broken: Option<BrokenLink>,
}

impl Verifier {
    #[must_use]
    pub fn new(state: ChainState, gaps: HashMap<i64, Vec<u8>>) -> Self {
        let prev = state.pre_hash.clone();
        Self {
            state,
            gaps,
            pre: Some(PreHasher::new()),
            prev,
            rows: 0,
            pre_rows: 0,
            newest: None,
            broken: None,
        }
    }

    /// Whether a broken link was found (the rest need not be read).
    #[must_use]
    pub fn is_broken(&self) -> bool {
        self.broken.is_some()
    }

    fn close_pre(&mut self, next_id: Option<i64>) {
        if let Some(pre) = self.pre.take() {
            if self.broken.is_none() && pre.finish() != self.state.pre_hash {
                self.broken = Some(BrokenLink {
                    id: next_id,
                    detail: format!(
                        "the changes recorded before the hash chain started (ids up to {}) are not the ones that were there when it started: one was changed, inserted or removed",
                        self.state.pre_id
                    ),
                });
            }
        }
    }

    /// One row: its id, its encoding and its stored hash.
    pub fn row(&mut self, id: i64, encoding: &[u8], stored: Option<&[u8]>) {
        if self.broken.is_some() {
            return;
        }
        self.rows += 1;
        if id <= self.state.pre_id {
            self.pre_rows += 1;
            if let Some(pre) = &mut self.pre {
                pre.row(encoding);
            }
            return;
        }
        self.close_pre(Some(id));
        if self.broken.is_some() {
            return;
        }
        if let Some(gap) = self.gaps.get(&id) {
            self.prev.clone_from(gap);
        }
        let expected = link(&self.prev, encoding);
        match stored {
            None => {
                self.broken = Some(BrokenLink {
                    id: Some(id),
                    detail: format!(
                        "change {id} has no hash: it was written behind the store's rules"
                    ),
                });
                return;
            }
            Some(h) if h != expected.as_slice() => {
                self.broken = Some(BrokenLink {
                    id: Some(id),
                    detail: format!(
                        "change {id} does not follow the change before it in the chain: it was changed or inserted, or the change before it was changed or removed"
                    ),
                });
                return;
            }
            Some(h) => self.prev = h.to_vec(),
        }
        self.newest = Some((id, Some(expected)));
    }

    /// The end of the rows: the head check.
    #[must_use]
    pub fn finish(mut self) -> ChainReport {
        self.close_pre(None);
        if self.broken.is_none() {
            let newest_id = self.newest.as_ref().map(|(id, _)| *id);
            let newest_hash = self.newest.as_ref().and_then(|(_, h)| h.clone());
            let problem = match self.state.last_id {
                None => newest_id
                    .is_some()
                    .then(|| "changes were added after the chain's head".to_owned()),
                Some(last) => (newest_id != Some(last)
                    || newest_hash.as_deref() != Some(self.state.last_hash.as_slice()))
                .then(|| {
                    format!(
                        "the chain's head is change {last}, but the newest change is {}: changes were removed or added at the end",
                        newest_id.map_or("none".to_owned(), |i| i.to_string())
                    )
                }),
            };
            if let Some(detail) = problem {
                self.broken = Some(BrokenLink { id: None, detail });
            }
        }
        ChainReport {
            rows: self.rows,
            pre_chain_rows: self.pre_rows,
            head_id: self.state.last_id,
            head_hash: hex(&self.state.last_hash),
            broken: self.broken,
        }
    }
}
