//! How failures become exit codes and messages.

use std::fmt;
use std::io;

use cursorctl::ops::failures::kind_name;
use cursorctl::ops::{Detail, Details, ErrorKind, OpError};
use cursorctl::{DurabilityError, KeyError, OffsetError, StoreError};
use serde_json::{json, Map, Value};

/// The classes of failure, each with its exit code.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ExitKind {
    /// 1: a bug.
    Internal,
    /// 1: stdout could not be written (what was committed stays committed).
    Output,
    /// 2: bad arguments or invalid input values; nothing written.
    Usage,
    /// 3: the stored offset differs from the expected one; nothing written.
    Stale,
    /// 4: the new offset is below the stored one; nothing written.
    Regression,
    /// 5: the cursor is absent where it must exist.
    NotFound,
    /// 6: the store stayed locked past the busy timeout; nothing written.
    Busy,
    /// 7: the store is unusable.
    Store,
    /// 8: `status` only: a listed cursor needs attention (stalled, ahead).
    Attention,
    /// 128 + N: ended by signal N (SIGINT, SIGTERM) after rolling back.
    Interrupted(u8),
}

impl ExitKind {
    /// The process exit code.
    pub const fn code(self) -> u8 {
        match self {
            Self::Internal | Self::Output => 1,
            Self::Usage => 2,
            Self::Stale => 3,
            Self::Regression => 4,
            Self::NotFound => 5,
            Self::Busy => 6,
            Self::Store => 7,
            Self::Attention => 8,
            Self::Interrupted(sig) => 128u8.saturating_add(sig),
        }
    }

    /// The name used in JSON errors and bulk reports.
    pub const fn name(self) -> &'static str {
        match self {
            Self::Internal => "internal",
            Self::Output => "output-failed",
            Self::Usage => "usage",
            Self::Stale => "stale",
            Self::Regression => "regression",
            Self::NotFound => "not-found",
            Self::Busy => "busy",
            Self::Store => "store",
            Self::Attention => "attention",
            Self::Interrupted(_) => "interrupted",
        }
    }

    /// What an operator does next.
    const fn hint(self) -> Option<&'static str> {
        match self {
            Self::Stale => Some("the cursor moved since it was read: re-read it and retry"),
            Self::Regression => Some(
                "use a higher offset, or `set --allow-rewind --reason TEXT` to move the cursor back on purpose",
            ),
            Self::NotFound => Some("check the consumer and partition key, or pass --create to make a new cursor"),
            Self::Busy => Some("another writer holds the store: retry, or raise --busy-timeout"),
            Self::Output => Some("check where stdout goes (a full disk, a closed file)"),
            Self::Attention => Some(
                "see `cursorctl describe` and `cursorctl get --watch`, then `advance` or `advance --to-head` (docs/operator-guide.md, \"Find and fix stuck consumers\")",
            ),
            _ => None,
        }
    }
}

/// A failure with a chosen exit class, for conditions the library does not
/// name (a missing cursor, bad input lines, ...).
#[derive(Debug)]
pub struct Failure {
    pub kind: ExitKind,
    pub message: String,
    /// Extra fields for the JSON error object.
    pub details: Map<String, Value>,
    /// What to do next, when the exit class's usual hint does not fit.
    pub hint: Option<&'static str>,
}

impl Failure {
    pub fn new(kind: ExitKind, message: impl Into<String>) -> Self {
        Self {
            kind,
            message: message.into(),
            details: Map::new(),
            hint: None,
        }
    }

    pub fn usage(message: impl Into<String>) -> Self {
        Self::new(ExitKind::Usage, message)
    }

    pub const fn with_hint(mut self, hint: &'static str) -> Self {
        self.hint = Some(hint);
        self
    }

    pub fn with(mut self, field: &str, value: impl Into<Value>) -> Self {
        self.details.insert(field.to_owned(), value.into());
        self
    }
}

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for Failure {}

/// A busy store is exit 6, a location that cannot be read (a malformed
/// connection string, a bad parameter in it) is a usage error, exit 2;
/// every other store failure is exit 7.
const fn store_kind(err: &StoreError) -> ExitKind {
    if err.is_busy() {
        ExitKind::Busy
    } else if matches!(err, StoreError::InvalidLocation { .. }) {
        ExitKind::Usage
    } else {
        ExitKind::Store
    }
}

/// The exit class of an error, and the JSON fields that describe it.
pub fn classify(err: &anyhow::Error) -> (ExitKind, Map<String, Value>) {
    for cause in err.chain() {
        if let Some(e) = cause.downcast_ref::<OpError>() {
            return (exit_kind(e.kind()), json_details(&e.details()));
        }
        if let Some(f) = cause.downcast_ref::<Failure>() {
            return (f.kind, f.details.clone());
        }
        if let Some(e) = cause.downcast_ref::<DurabilityError>() {
            return describe_durability(e);
        }
        if let Some(e) = cause.downcast_ref::<StoreError>() {
            return (store_kind(e), Map::new());
        }
        if cause.downcast_ref::<OutputError>().is_some() {
            return (ExitKind::Output, Map::new());
        }
        if cause.downcast_ref::<KeyError>().is_some()
            || cause.downcast_ref::<OffsetError>().is_some()
        {
            return (ExitKind::Usage, Map::new());
        }
    }
    (ExitKind::Internal, Map::new())
}

pub fn describe_durability(e: &DurabilityError) -> (ExitKind, Map<String, Value>) {
    let mut details = Map::new();
    let kind = match e {
        DurabilityError::CursorRegression {
            key,
            current,
            attempted,
        } => {
            details.insert("key".into(), json!(key));
            details.insert("current".into(), json!(current));
            details.insert("attempted".into(), json!(attempted));
            ExitKind::Regression
        }
        DurabilityError::StaleCheckpoint {
            key,
            expected,
            actual,
        } => {
            details.insert("key".into(), json!(key));
            details.insert("expected".into(), json!(expected));
            details.insert("actual".into(), json!(actual));
            ExitKind::Stale
        }
        DurabilityError::Fenced { key, epoch, .. } => {
            details.insert("key".into(), json!(key));
            details.insert("epoch".into(), json!(epoch));
            ExitKind::Stale
        }
        DurabilityError::LeaseHeld {
            key,
            owner,
            expires_at,
        } => {
            details.insert("key".into(), json!(key));
            details.insert("owner".into(), json!(owner));
            details.insert("expires_at".into(), json!(expires_at));
            ExitKind::Stale
        }
        DurabilityError::ConfigError(_)
        | DurabilityError::InvalidKey(_)
        | DurabilityError::OffsetTooLarge { .. } => ExitKind::Usage,
        DurabilityError::Store(s) => store_kind(s),
    };
    (kind, details)
}

/// Stdout could not be written.
#[derive(Debug, thiserror::Error)]
#[error("writing to stdout failed: {0}")]
pub struct OutputError(#[source] pub io::Error);

impl From<io::Error> for OutputError {
    fn from(e: io::Error) -> Self {
        Self(e)
    }
}

/// The record of a committed change could not be printed: say that the
/// change stands, with its id, so that nobody runs it again.
/// `id` names what was committed for the JSON error: `("change", 7)` or
/// `("batch", 3)`.
pub fn committed_but_unprinted(err: anyhow::Error, what: &str, id: (&str, i64)) -> anyhow::Error {
    if is_broken_pipe(&err) {
        return err;
    }
    let cause = err
        .chain()
        .find_map(|c| c.downcast_ref::<io::Error>())
        .map_or_else(|| format!("{err:#}"), ToString::to_string);
    Failure::new(
        ExitKind::Output,
        format!("{what} was committed, but writing its record to stdout failed: {cause}"),
    )
    .with("committed", true)
    .with(id.0, id.1)
    .with_hint("do not run the command again: the change is made; `cursorctl history` shows it")
    .into()
}

/// A write sent to a PostgreSQL server that does not accept writes (a
/// standby): where the primary is found.
fn read_only_server_hint(err: &anyhow::Error) -> Option<&'static str> {
    err.chain()
        .any(|c| c.to_string().contains("the server is read-only"))
        .then_some(
            "writes need the primary: name every host of the cluster with target_session_attrs=read-write (host=db1,db2 target_session_attrs=read-write), and cursorctl connects to the one that accepts writes",
        )
}

/// Whether the error is a closed output pipe (which ends the run quietly).
pub fn is_broken_pipe(err: &anyhow::Error) -> bool {
    err.chain().any(|c| {
        c.downcast_ref::<io::Error>()
            .is_some_and(|e| e.kind() == io::ErrorKind::BrokenPipe)
    })
}

/// The exit class of each kind of an operation's failure: the one place
/// where the library's kinds become exit codes.
pub const fn exit_kind(kind: ErrorKind) -> ExitKind {
    match kind {
        ErrorKind::Usage => ExitKind::Usage,
        ErrorKind::Stale => ExitKind::Stale,
        ErrorKind::Regression => ExitKind::Regression,
        ErrorKind::NotFound => ExitKind::NotFound,
        ErrorKind::Busy => ExitKind::Busy,
        ErrorKind::Store => ExitKind::Store,
        ErrorKind::Interrupted(signal) => ExitKind::Interrupted(signal),
        ErrorKind::Internal => ExitKind::Internal,
    }
}

/// An operation's details as JSON fields; each failing item of a list
/// also gets the exit code of its kind.
fn json_details(details: &Details) -> Map<String, Value> {
    fn value(detail: &Detail) -> Value {
        match detail {
            Detail::Null => Value::Null,
            Detail::Int(v) => json!(v),
            Detail::UInt(v) => json!(v),
            Detail::Text(v) => json!(v),
            Detail::List(items) => Value::Array(
                items
                    .iter()
                    .map(|item| {
                        let mut fields = json_details(item);
                        let code = ErrorKind::ALL
                            .iter()
                            .find(|k| {
                                fields.get("kind").and_then(Value::as_str) == Some(kind_name(**k))
                            })
                            .map(|k| exit_kind(*k).code());
                        if let Some(code) = code {
                            fields.insert("code".into(), json!(code));
                        }
                        Value::Object(fields)
                    })
                    .collect(),
            ),
        }
    }
    details
        .iter()
        .map(|(name, detail)| (name.clone(), value(detail)))
        .collect()
}

/// Print an error to stderr: text, or one JSON object.
pub fn report(err: &anyhow::Error, json_errors: bool, color: bool) -> ExitKind {
    let (kind, details) = classify(err);
    let message = message(err);
    let hint = err
        .chain()
        .find_map(|c| {
            c.downcast_ref::<Failure>()
                .map(|f| f.hint)
                .or_else(|| c.downcast_ref::<OpError>().map(OpError::hint))
        })
        .flatten()
        .or_else(|| read_only_server_hint(err))
        .or_else(|| kind.hint());
    let mut stderr = io::stderr().lock();
    let _ = if json_errors {
        let mut body = Map::new();
        body.insert("code".into(), json!(kind.code()));
        body.insert("kind".into(), json!(kind.name()));
        body.insert("message".into(), json!(message));
        if let Some(hint) = hint {
            body.insert("hint".into(), json!(hint));
        }
        body.extend(details);
        writeln_json(&mut stderr, &json!({ "error": body }))
    } else {
        write_text(&mut stderr, hint, &message, color)
    };
    kind
}

/// The error and its causes on one line, each said once: a cause whose
/// text the line already holds is left out, and a SQLite error's own cause
/// (its bare result code) adds nothing to its message.
fn message(err: &anyhow::Error) -> String {
    let mut text = String::new();
    // The backend's own error (the source of a database failure) is the
    // last cause worth saying: its own sources repeat it.
    let mut last = false;
    for cause in err.chain() {
        let part = cause.to_string();
        if !text.contains(&part) {
            if !text.is_empty() {
                text.push_str(": ");
            }
            text.push_str(&part);
        }
        if last {
            break;
        }
        last = matches!(
            cause.downcast_ref::<StoreError>(),
            Some(StoreError::Database { .. })
        ) || matches!(
            cause.downcast_ref::<OpError>(),
            Some(
                OpError::Store(StoreError::Database { .. })
                    | OpError::Cursor(DurabilityError::Store(StoreError::Database { .. }))
            )
        ) || matches!(
            cause.downcast_ref::<DurabilityError>(),
            Some(DurabilityError::Store(StoreError::Database { .. }))
        );
    }
    text
}

fn writeln_json(w: &mut impl io::Write, value: &Value) -> io::Result<()> {
    super::output::write_json(w, value)?;
    writeln!(w)
}

fn write_text(
    w: &mut impl io::Write,
    hint: Option<&str>,
    message: &str,
    color: bool,
) -> io::Result<()> {
    let (red, bold, reset) = if color {
        ("\x1b[1;31m", "\x1b[1m", "\x1b[0m")
    } else {
        ("", "", "")
    };
    // What a message echoes of the input is shown, never acted on.
    let message = super::output::escape_text(message, false, &['\n', '\t']);
    writeln!(w, "cursorctl: {red}error{reset}: {message}")?;
    if let Some(hint) = hint {
        let hint = super::output::escape_text(hint, false, &['\n', '\t']);
        writeln!(w, "cursorctl: {bold}hint{reset}: {hint}")?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every kind of an operation's failure has its documented exit code.
    #[test]
    fn every_operation_error_kind_maps_to_its_exit_code() {
        for kind in ErrorKind::ALL {
            let expected = match kind {
                ErrorKind::Usage => 2,
                ErrorKind::Stale => 3,
                ErrorKind::Regression => 4,
                ErrorKind::NotFound => 5,
                ErrorKind::Busy => 6,
                ErrorKind::Store => 7,
                ErrorKind::Interrupted(signal) => 128 + signal,
                ErrorKind::Internal => 1,
            };
            assert_eq!(exit_kind(kind).code(), expected, "{kind:?}");
            assert_eq!(exit_kind(kind).name(), kind_name(kind), "{kind:?}");
        }
    }

    /// An operation's error is classified by its kind, wherever it sits in
    /// the chain, with its details.
    #[test]
    fn operation_errors_are_classified_by_kind() {
        let stale: anyhow::Error = OpError::from(DurabilityError::StaleCheckpoint {
            key: "a:o:1".into(),
            expected: 1,
            actual: Some(2),
        })
        .into();
        let (kind, details) = classify(&stale.context("moving a cursor"));
        assert_eq!(kind, ExitKind::Stale);
        assert_eq!(details["actual"], json!(2));
        let refused: anyhow::Error =
            OpError::from(cursorctl::ops::Refusal::new(ErrorKind::NotFound, "gone")).into();
        assert_eq!(classify(&refused).0, ExitKind::NotFound);
    }
}
