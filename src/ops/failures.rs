//! The failing items of a batch (input lines, changes to undo, cursors):
//! the first few in full, and how many in all, as one error.

use super::error::{Detail, Details, ErrorKind, OpError, Refusal};

/// How many failing items an error lists; the total is always given.
pub const SHOWN_FAILURES: usize = 100;

/// The name of a kind in failure lists (and JSON errors).
#[must_use]
pub const fn kind_name(kind: ErrorKind) -> &'static str {
    match kind {
        ErrorKind::Usage => "usage",
        ErrorKind::Stale => "stale",
        ErrorKind::Regression => "regression",
        ErrorKind::NotFound => "not-found",
        ErrorKind::Busy => "busy",
        ErrorKind::Store => "store",
        ErrorKind::Interrupted(_) => "interrupted",
        ErrorKind::Internal => "internal",
    }
}

/// The failing items of a batch.
#[derive(Debug)]
pub struct Failures {
    label: &'static str,
    stale_hint: Option<&'static str>,
    total: u64,
    first_kind: Option<ErrorKind>,
    shown: Vec<Details>,
    text: String,
}

impl Failures {
    /// No failure yet; `label` names the items (`line`, `change`, `cursor`).
    #[must_use]
    pub const fn new(label: &'static str) -> Self {
        Self {
            label,
            stale_hint: None,
            total: 0,
            first_kind: None,
            shown: Vec::new(),
            text: String::new(),
        }
    }

    /// What to suggest when the first failure is a stale cursor.
    #[must_use]
    pub const fn with_stale_hint(mut self, hint: &'static str) -> Self {
        self.stale_hint = Some(hint);
        self
    }

    /// Whether nothing failed.
    #[must_use]
    pub const fn is_empty(&self) -> bool {
        self.total == 0
    }

    /// List item `number` (its cursor `key`, if known) as failed.
    pub fn add(&mut self, number: u64, key: Option<&str>, kind: ErrorKind, reason: &str) {
        self.total += 1;
        self.first_kind.get_or_insert(kind);
        if self.shown.len() < SHOWN_FAILURES {
            self.shown.push(vec![
                (self.label.to_owned(), Detail::UInt(number)),
                ("key".to_owned(), Detail::from(key)),
                ("kind".to_owned(), Detail::from(kind_name(kind))),
                ("reason".to_owned(), Detail::from(reason)),
            ]);
            let label = self.label;
            self.text.push_str(&match key {
                Some(k) => format!("\n  {label} {number}: {k}: {reason}"),
                None => format!("\n  {label} {number}: {reason}"),
            });
        }
    }

    /// List an item that failed with `err`.
    pub fn add_error(&mut self, number: u64, key: Option<&str>, err: &OpError) {
        self.add(number, key, err.kind(), &err.to_string());
    }

    /// The error for the whole batch: the kind of the first failure, every
    /// shown failure in the message and in the details.
    #[must_use]
    pub fn into_error(self, of: u64, written: &str) -> OpError {
        let kind = self.first_kind.unwrap_or(ErrorKind::Internal);
        let label = self.label;
        let mut message = format!(
            "{} of {of} {label}s fail; {written}:{}",
            self.total, self.text
        );
        let hidden = self.total - self.shown.len() as u64;
        if hidden > 0 {
            message.push_str(&format!("\n  ... and {hidden} more failing {label}s"));
        }
        let mut refusal = Refusal::new(kind, message)
            .with("failed", self.total)
            .with("failures", Detail::List(self.shown));
        if let (ErrorKind::Stale, Some(hint)) = (kind, self.stale_hint) {
            refusal = refusal.with_hint(hint);
        }
        refusal.into()
    }
}
