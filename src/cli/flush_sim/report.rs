//! What a run reports while it runs: events, regression warnings, the
//! progress bar.

use std::io::{self, IsTerminal, Write};

use cursorctl::sim::{Event, Observer};
use cursorctl::{CheckpointPolicy, DurabilityError};
use indicatif::ProgressBar;

use super::super::error::{CliError, CliResult};
use super::super::interrupt::Interrupt;
use super::super::output::Printer;
use super::super::progress;
use super::super::Context;
use super::records::EventRecord;

/// Runs at least this long (in messages) get a progress bar on a terminal.
const PROGRESS_MIN: u64 = 1_000_000;

/// Regression warnings printed on stderr per run; the rest are counted.
const MAX_WARNINGS: u64 = 10;

/// Prints events (with `-o ndjson`), warns about regressions on stderr and
/// draws the progress bar.
pub(super) struct Reporter<'p> {
    pub(super) events: Option<&'p mut Printer>,
    pub(super) quiet: bool,
    pub(super) terminal: bool,
    pub(super) policy: CheckpointPolicy,
    pub(super) total: Option<u64>,
    pub(super) warned: u64,
    pub(super) bar: Option<ProgressBar>,
    /// With --commit: stop between checkpoints on SIGINT or SIGTERM.
    pub(super) interrupt: Option<Interrupt>,
}

impl<'p> Reporter<'p> {
    pub(super) fn new(
        ctx: &Context,
        events: Option<&'p mut Printer>,
        policy: CheckpointPolicy,
    ) -> Self {
        Self {
            events,
            quiet: ctx.global.quiet,
            terminal: io::stderr().is_terminal(),
            policy,
            total: None,
            warned: 0,
            bar: None,
            interrupt: None,
        }
    }

    /// Say something on stderr without tearing the progress bar.
    pub(super) fn say(&self, text: &str) {
        let say = || {
            let _ = writeln!(io::stderr(), "cursorctl: {text}");
        };
        match &self.bar {
            Some(bar) => bar.suspend(say),
            None => say(),
        }
    }

    pub(super) fn finish(&mut self) {
        if let Some(bar) = self.bar.take() {
            bar.finish_and_clear();
        }
        if self.warned > MAX_WARNINGS {
            self.say(&format!(
                "warning: {} more regression(s) not shown; -o ndjson lists every one",
                self.warned - MAX_WARNINGS
            ));
        }
    }

    pub(super) fn check_interrupt(&self) -> CliResult<()> {
        self.interrupt.as_ref().map_or(Ok(()), |i| {
            i.check("every checkpoint before the signal is committed; no further checkpoint was written")
        })
    }

    pub(super) fn new_bar(&self) -> ProgressBar {
        progress::bar(self.total, &self.policy.to_string())
    }
}

impl Observer<CliError> for Reporter<'_> {
    fn event(&mut self, event: &Event<'_>) -> CliResult<()> {
        self.check_interrupt()?;
        if let Event::Error {
            message,
            error: error @ DurabilityError::CursorRegression { .. },
            ..
        } = event
        {
            self.warned += 1;
            if !self.quiet && self.warned <= MAX_WARNINGS {
                self.say(&format!(
                    "warning: {}: message {message}: {error}; the offset is dropped (the cursor is past it)",
                    self.policy
                ));
            }
        }
        if let Some(printer) = self.events.as_deref_mut() {
            printer.record(&EventRecord(event))?;
        }
        Ok(())
    }

    fn progress(&mut self, messages: u64) -> CliResult<()> {
        self.check_interrupt()?;
        if self.bar.is_none()
            && self.terminal
            && !self.quiet
            && self.total.unwrap_or(messages) >= PROGRESS_MIN
        {
            self.bar = Some(self.new_bar());
        }
        if let Some(bar) = &self.bar {
            bar.set_position(messages);
            bar.set_message(format!("{messages} messages"));
        }
        Ok(())
    }
}
