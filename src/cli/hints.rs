//! Hints that name the command that would work, where the usual hint of
//! the exit class names another.

use super::error::{CliError, ExitKind};

/// `err` with `hint` when it is of class `kind` and has no hint of its own.
pub fn when(err: CliError, kind: ExitKind, hint: &'static str) -> CliError {
    if err.exit_kind() != kind {
        return err;
    }
    err.with_hint(hint)
}

/// A copy refused because it would move cursors of TO back.
pub const COPY_REGRESSION: &str = "TO is ahead of FROM there: to move its cursors back on purpose, run the same `cursorctl copy` with --allow-rewind --reason TEXT (--dry-run first shows every partition)";
