//! How failures become exit codes and messages.

use std::io;

use cursorctl::heads::HeadError;
use cursorctl::ops::failures::kind_name;
use cursorctl::ops::{Detail, Details, ErrorKind, OpError, Refusal};
use cursorctl::{DurabilityError, KeyError, OffsetError, StoreError, StoreErrorKind};
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
/// name (bad arguments, an interruption, cursors that need attention, a
/// committed change whose record was not printed): the library's refusal,
/// with the command line's exit classes.
pub type Failure = Refusal<ExitKind>;

impl From<ErrorKind> for ExitKind {
    fn from(kind: ErrorKind) -> Self {
        exit_kind(kind)
    }
}

/// Every failure of a command, typed: its exit class and its JSON fields
/// come from what it is ([`CliError::exit_kind`]), never from its text.
#[derive(Debug, thiserror::Error)]
pub enum CliError {
    /// An operation's failure, and every failure of the library (the
    /// store, a cursor's checks, names, offsets).
    #[error(transparent)]
    Op(#[from] OpError),
    /// A failure the command line names itself (bad arguments it checks,
    /// an interruption, a committed change whose record was not printed,
    /// cursors that need attention).
    #[error(transparent)]
    Failure(#[from] Failure),
    /// Stdout could not be written.
    #[error(transparent)]
    Output(#[from] OutputError),
    /// Something of this machine's the command needs failed (a temporary
    /// file, a signal handler): exit 1.
    #[error("{what}")]
    Local {
        what: String,
        #[source]
        source: io::Error,
    },
    /// A read or write of this machine's failed (a temporary file being
    /// written): exit 1.
    #[error(transparent)]
    Io(#[from] io::Error),
    /// A failure, after what was done before it.
    #[error("{context}")]
    Context {
        context: String,
        #[source]
        source: Box<CliError>,
    },
    /// A failure with a hint of the command line's (see `hints`).
    #[error("{error}")]
    Hinted {
        hint: &'static str,
        #[source]
        error: Box<CliError>,
    },
}

/// The result of a command.
pub type CliResult<T = ()> = Result<T, CliError>;

impl CliError {
    /// A failure of this machine's (`what` failed).
    pub fn local(what: impl Into<String>, source: io::Error) -> Self {
        Self::Local {
            what: what.into(),
            source,
        }
    }

    /// This failure after `context` (what was done before it).
    #[must_use]
    pub fn context(self, context: impl Into<String>) -> Self {
        Self::Context {
            context: context.into(),
            source: Box::new(self),
        }
    }

    /// The exit class: the one place where a failure becomes an exit code.
    pub fn exit_kind(&self) -> ExitKind {
        match self {
            Self::Op(e) => exit_kind(e.kind()),
            Self::Failure(f) => f.kind,
            Self::Output(_) => ExitKind::Output,
            Self::Local { .. } | Self::Io(_) => ExitKind::Internal,
            Self::Context { source, .. } => source.exit_kind(),
            Self::Hinted { error, .. } => error.exit_kind(),
        }
    }

    /// The fields of the JSON error that describe the failure.
    pub fn details(&self) -> Map<String, Value> {
        match self {
            Self::Op(e) => json_details(&e.details()),
            Self::Failure(f) => json_details(&f.details),
            Self::Output(_) | Self::Local { .. } | Self::Io(_) => Map::new(),
            Self::Context { source, .. } => source.details(),
            Self::Hinted { error, .. } => error.details(),
        }
    }

    /// What to do next, when the failure names it.
    pub fn hint(&self) -> Option<&'static str> {
        match self {
            Self::Op(e) => e.hint(),
            Self::Failure(f) => f.hint,
            Self::Output(_) | Self::Local { .. } | Self::Io(_) => None,
            Self::Context { source, .. } => source.hint(),
            Self::Hinted { hint, .. } => Some(hint),
        }
    }

    /// Give a hint of the command line's where the failure has none of its
    /// own.
    pub fn with_hint(self, hint: &'static str) -> Self {
        match self {
            Self::Failure(mut f) => {
                f.hint.get_or_insert(hint);
                Self::Failure(f)
            }
            Self::Op(OpError::Refused(mut r)) => {
                r.hint.get_or_insert(hint);
                Self::Op(OpError::Refused(r))
            }
            other => Self::Hinted {
                hint,
                error: Box::new(other),
            },
        }
    }

    /// The store's class of failure, when the store failed.
    pub fn store_kind(&self) -> Option<StoreErrorKind> {
        match self {
            Self::Op(e) => e.store_kind(),
            Self::Failure(_) | Self::Output(_) | Self::Local { .. } | Self::Io(_) => None,
            Self::Context { source, .. } => source.store_kind(),
            Self::Hinted { error, .. } => error.store_kind(),
        }
    }

    /// The failed read or write of this machine's, if that is the failure.
    fn io_error(&self) -> Option<&io::Error> {
        match self {
            Self::Output(OutputError(e)) | Self::Local { source: e, .. } | Self::Io(e) => Some(e),
            Self::Op(_) | Self::Failure(_) => None,
            Self::Context { source, .. } => source.io_error(),
            Self::Hinted { error, .. } => error.io_error(),
        }
    }

    /// Whether the failure is a closed output pipe (which ends the run
    /// quietly).
    pub fn is_broken_pipe(&self) -> bool {
        self.io_error()
            .is_some_and(|e| e.kind() == io::ErrorKind::BrokenPipe)
    }

    /// How deep in the chain of causes the store's database error stands,
    /// if it is one: its own cause is the last worth saying.
    pub(super) fn database_depth(&self) -> Option<usize> {
        match self {
            Self::Op(e) => e.is_database_failure().then_some(0),
            Self::Failure(_) | Self::Output(_) | Self::Local { .. } | Self::Io(_) => None,
            Self::Context { source, .. } => source.database_depth().map(|d| d + 1),
            Self::Hinted { error, .. } => error.database_depth().map(|d| d + 1),
        }
    }
}

/// Every failure of the library converts into an operation's error.
macro_rules! via_op_error {
    ($($from:ty),*) => {$(
        impl From<$from> for CliError {
            fn from(e: $from) -> Self {
                Self::Op(e.into())
            }
        }
    )*};
}

via_op_error!(
    Refusal,
    StoreError,
    DurabilityError,
    KeyError,
    OffsetError,
    HeadError
);

/// The exit class of a library error (as `flush-sim` reports a stopped
/// checkpoint).
pub fn durability_exit_kind(e: &DurabilityError) -> ExitKind {
    exit_kind(ErrorKind::of_durability(e))
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
pub fn committed_but_unprinted(err: CliError, what: &str, id: (&str, i64)) -> CliError {
    if err.is_broken_pipe() {
        return err;
    }
    let cause = err
        .io_error()
        .map_or_else(|| message(&err), ToString::to_string);
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
fn read_only_server_hint(err: &CliError, postgres: bool) -> Option<&'static str> {
    (postgres && err.store_kind() == Some(StoreErrorKind::ReadOnly)).then_some(
        "writes need the primary: name every host of the cluster with target_session_attrs=read-write (host=db1,db2 target_session_attrs=read-write), and cursorctl connects to the one that accepts writes",
    )
}

/// The exit class of each kind of an operation's failure: where the
/// library's kinds become exit codes.
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
            Detail::Bool(v) => json!(v),
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

/// How errors are shown: one JSON object (`-o json`/`ndjson`) or text, in
/// color or not; `postgres` when the store is a PostgreSQL server.
#[derive(Clone, Copy, Debug)]
pub struct ReportStyle {
    pub json: bool,
    pub color: bool,
    pub postgres: bool,
}

/// Print an error to stderr: text, or one JSON object.
pub fn report(err: &CliError, style: ReportStyle) -> ExitKind {
    let kind = err.exit_kind();
    let message = message(err);
    let hint = err
        .hint()
        .or_else(|| read_only_server_hint(err, style.postgres))
        .or_else(|| kind.hint());
    let mut stderr = io::stderr().lock();
    let _ = if style.json {
        let mut body = Map::new();
        body.insert("code".into(), json!(kind.code()));
        body.insert("kind".into(), json!(kind.name()));
        body.insert("message".into(), json!(message));
        if let Some(hint) = hint {
            body.insert("hint".into(), json!(hint));
        }
        body.extend(err.details());
        writeln_json(&mut stderr, &json!({ "error": body }))
    } else {
        write_text(&mut stderr, hint, &message, style.color)
    };
    kind
}

/// The error and its causes on one line, each said once: a cause whose
/// text the line already holds is left out, and the causes of a database
/// error's own cause (its bare result code) add nothing to its message.
fn message(err: &CliError) -> String {
    let last = err.database_depth().map(|depth| depth + 1);
    let mut text = String::new();
    let mut cause: Option<&dyn std::error::Error> = Some(err);
    let mut depth = 0;
    while let Some(c) = cause {
        let part = c.to_string();
        if !text.contains(&part) {
            if !text.is_empty() {
                text.push_str(": ");
            }
            text.push_str(&part);
        }
        if last == Some(depth) {
            break;
        }
        depth += 1;
        cause = c.source();
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

    fn stale() -> CliError {
        OpError::from(DurabilityError::StaleCheckpoint {
            key: "a:o:1".into(),
            expected: 1,
            actual: Some(2),
        })
        .into()
    }

    /// One failure of every variant of the command line's error.
    fn one_of_each() -> Vec<CliError> {
        vec![
            stale(),
            Failure::new(ExitKind::Attention, "stalled").into(),
            OutputError(io::Error::from(io::ErrorKind::WriteZero)).into(),
            CliError::local("creating a temporary file", io::Error::other("full")),
            io::Error::other("a temporary file").into(),
            CliError::from(Refusal::new(ErrorKind::NotFound, "gone")).context("so far"),
            CliError::from(StoreError::Busy).with_hint("retry"),
        ]
    }

    /// Every variant has its exit code; a new variant fails to compile
    /// here until its code is said.
    #[test]
    fn every_variant_maps_to_its_exit_code() {
        let mut seen = 0;
        for err in one_of_each() {
            let expected = match &err {
                CliError::Op(_) => 3,
                CliError::Failure(_) => 8,
                CliError::Output(_) | CliError::Local { .. } | CliError::Io(_) => 1,
                CliError::Context { .. } => 5,
                CliError::Hinted { .. } => 6,
            };
            assert_eq!(err.exit_kind().code(), expected, "{err:?}");
            seen += 1;
        }
        assert_eq!(seen, 7);
    }

    /// A library failure converts into the operation's error, with its
    /// kind and details, wherever it is wrapped.
    #[test]
    fn failures_are_classified_by_what_they_are() {
        let err = stale().context("moving a cursor");
        assert_eq!(err.exit_kind(), ExitKind::Stale);
        assert_eq!(err.details()["actual"], json!(2));
        assert_eq!(
            message(&err),
            "moving a cursor: stale checkpoint on a:o:1: expected offset 1, but the store holds 2"
        );
        assert_eq!(CliError::from(StoreError::Busy).exit_kind(), ExitKind::Busy);
        let hinted = CliError::from(StoreError::Busy).with_hint("retry");
        assert_eq!(hinted.hint(), Some("retry"));
        let pipe = CliError::from(OutputError(io::Error::from(io::ErrorKind::BrokenPipe)));
        assert!(pipe.is_broken_pipe());
        assert!(!stale().is_broken_pipe());
    }
}
