//! What a run prints: its events and its summary.

use std::io::{self};
use std::num::NonZeroU64;

use cursorctl::sim::{Event, Summary};

use super::super::error::durability_exit_kind;
use super::super::output::{Field, Record};

/// One event, as `-o ndjson` prints it.
pub(super) struct EventRecord<'a, 'e>(pub(super) &'a Event<'e>);

impl Record for EventRecord<'_, '_> {
    fn fields(
        &self,
        visit: &mut dyn FnMut(&'static str, Field<'_>) -> io::Result<()>,
    ) -> io::Result<()> {
        match *self.0 {
            Event::Checkpoint {
                message,
                old_offset,
                new_offset,
            } => {
                visit("event", Field::Str("checkpoint"))?;
                visit("message", Field::U64(message))?;
                visit("old_offset", Field::U64(old_offset))?;
                visit("new_offset", Field::U64(new_offset))
            }
            Event::Flush {
                message,
                is_final,
                wrote,
                old_offset,
                new_offset,
            } => {
                visit("event", Field::Str("flush"))?;
                visit("message", Field::U64(message))?;
                visit("final", Field::Bool(is_final))?;
                visit("wrote", Field::Bool(wrote))?;
                visit("old_offset", Field::U64(old_offset))?;
                visit("new_offset", Field::U64(new_offset))
            }
            Event::Error {
                message,
                during,
                old_offset,
                attempted,
                error,
            } => {
                visit("event", Field::Str("error"))?;
                visit("message", Field::U64(message))?;
                visit("during", Field::Str(during.as_str()))?;
                visit("kind", Field::Str(durability_exit_kind(error).name()))?;
                visit("old_offset", Field::U64(old_offset))?;
                visit("attempted", Field::U64(attempted))?;
                visit("error", Field::Str(&error.to_string()))
            }
            Event::Crash {
                message,
                resume_offset,
                redelivered,
            } => {
                visit("event", Field::Str("crash"))?;
                visit("message", Field::U64(message))?;
                visit("resume_offset", Field::U64(resume_offset))?;
                visit("redelivered", Field::U64(redelivered))
            }
        }
    }

    fn table_columns(&self) -> &'static [&'static str] {
        &["event", "message"]
    }

    fn value(&self) -> Field<'_> {
        match *self.0 {
            Event::Checkpoint { message, .. }
            | Event::Flush { message, .. }
            | Event::Error { message, .. }
            | Event::Crash { message, .. } => Field::U64(message),
        }
    }
}

/// The summary of one run.
pub(super) struct SummaryRecord<'a> {
    pub(super) key: &'a str,
    pub(super) policy: String,
    pub(super) summary: &'a Summary,
    pub(super) committed: bool,
    pub(super) stopped: Option<&'static str>,
    /// What `-o value` prints instead of the bare final offset.
    pub(super) value: Option<String>,
}

impl<'a> SummaryRecord<'a> {
    pub(super) fn new(
        key: &'a str,
        summary: &'a Summary,
        committed: bool,
        stopped: Option<&'static str>,
    ) -> Self {
        Self {
            key,
            policy: summary.policy.to_string(),
            summary,
            committed,
            stopped,
            value: None,
        }
    }
}

impl Record for SummaryRecord<'_> {
    fn fields(
        &self,
        visit: &mut dyn FnMut(&'static str, Field<'_>) -> io::Result<()>,
    ) -> io::Result<()> {
        let s = self.summary;
        visit("key", Field::Str(self.key))?;
        visit("policy", Field::Str(&self.policy))?;
        visit(
            "flush_every",
            Field::OptU64(s.flush_every.map(NonZeroU64::get)),
        )?;
        visit("crash_after", Field::OptU64(s.crash_after))?;
        visit("messages", Field::U64(s.messages))?;
        visit("start_offset", Field::U64(s.start_offset))?;
        visit("checkpoints", Field::U64(s.checkpoints))?;
        visit("flushes", Field::U64(s.flushes))?;
        visit("errors", Field::U64(s.errors))?;
        visit("final_offset", Field::U64(s.final_offset))?;
        visit("last_offset", Field::OptU64(s.last_offset))?;
        visit("pending_offset", Field::OptU64(s.pending_offset))?;
        visit("pending_at_end", Field::U64(s.pending_at_end))?;
        visit("max_redelivery_window", Field::U64(s.max_redelivery_window))?;
        visit("crashed", Field::Bool(s.crashed))?;
        visit(
            "redelivered_after_crash",
            Field::OptU64(s.redelivered_after_crash),
        )?;
        visit("committed", Field::Bool(self.committed))?;
        visit("stopped", Field::OptStr(self.stopped))
    }

    fn table_columns(&self) -> &'static [&'static str] {
        &[
            "policy",
            "messages",
            "checkpoints",
            "final_offset",
            "pending_at_end",
            "max_redelivery_window",
            "redelivered_after_crash",
        ]
    }

    fn value(&self) -> Field<'_> {
        self.value
            .as_deref()
            .map_or(Field::U64(self.summary.final_offset), Field::Str)
    }
}
