//! Hints that name the command that would work, where the usual hint of
//! the exit class names another.

use cursorctl::ops::OpError;

use super::error::{classify, ExitKind, Failure};

/// `err` with `hint` when it is of class `kind` and has no hint of its own.
pub fn when(err: anyhow::Error, kind: ExitKind, hint: &'static str) -> anyhow::Error {
    let (class, details) = classify(&err);
    if class != kind {
        return err;
    }
    let mut err = err;
    if let Some(failure) = err.downcast_mut::<Failure>() {
        failure.hint.get_or_insert(hint);
        return err;
    }
    if let Some(OpError::Refused(refusal)) = err.downcast_mut::<OpError>() {
        refusal.hint.get_or_insert(hint);
        return err;
    }
    let mut failure = Failure::new(kind, err.to_string()).with_hint(hint);
    failure.details = details;
    err.context(failure)
}

/// A copy refused because it would move cursors of TO back.
pub const COPY_REGRESSION: &str = "TO is ahead of FROM there: to move its cursors back on purpose, run the same `cursorctl copy` with --allow-rewind --reason TEXT (--dry-run first shows every partition)";
