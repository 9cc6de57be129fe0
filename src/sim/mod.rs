//! Simulate a checkpoint policy over a stream of processed messages.
//!
//! A [`Simulation`] runs the real [`CheckpointDriver`] and [`ConsumerCursor`]
//! against any [`DurableStore`]: every checkpoint goes through the same
//! regression check and compare-and-swap as a live consumer's. Against a
//! [`MemoryStore`](crate::MemoryStore) copy of one cursor it is a dry run;
//! against the real store it commits.
//!
//! The input is an iterator of next offsets (the offset a consumer resumes
//! from after each processed message), consumed one at a time, so memory does
//! not grow with the number of messages. An [`Observer`] hears about each
//! checkpoint, flush, error and crash, never about each message.
//!
//! The run ends in one of two ways:
//! - a **clean shutdown** (no `crash_after`): the input ends and the consumer
//!   flushes once, as a consumer does when it is stopped cleanly;
//! - a **crash** after `crash_after` messages: no final flush; whatever was
//!   processed but not checkpointed is processed again by the restarted
//!   consumer, which resumes from the durable offset.

use std::num::NonZeroU64;

use crate::cursor::ConsumerCursor;
use crate::driver::{CheckpointDriver, CheckpointPolicy};
use crate::error::DurabilityError;
use crate::parse::MAX_OFFSET;
use crate::store::DurableStore;

/// How often, in messages, [`Observer::progress`] is called.
pub const PROGRESS_STEP: u64 = 1 << 16;

/// What to simulate.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SimConfig {
    /// The checkpoint policy of the driver.
    pub policy: CheckpointPolicy,
    /// Call [`CheckpointDriver::flush`] after every this many messages,
    /// whatever the policy.
    pub flush_every: Option<NonZeroU64>,
    /// Crash after this many messages (after the message's own checkpoint
    /// and flush, if any), with no final flush.
    pub crash_after: Option<u64>,
}

impl SimConfig {
    /// A configuration with only a policy: no periodic flush, no crash.
    #[must_use]
    pub const fn new(policy: CheckpointPolicy) -> Self {
        Self {
            policy,
            flush_every: None,
            crash_after: None,
        }
    }
}

/// What a failed checkpoint was attempted for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Step {
    /// The policy's checkpoint after a processed message.
    Message,
    /// A periodic flush (`flush_every`).
    Flush,
    /// The flush of a clean shutdown, at the end of the input.
    FinalFlush,
}

impl Step {
    /// `message`, `flush` or `final-flush`.
    #[must_use]
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Message => "message",
            Self::Flush => "flush",
            Self::FinalFlush => "final-flush",
        }
    }
}

/// Something that happened during a simulation. `message` is the number of
/// messages processed when it happened.
#[derive(Clone, Copy, Debug)]
pub enum Event<'a> {
    /// The policy checkpointed after a message (one store write).
    Checkpoint {
        /// Messages processed so far.
        message: u64,
        /// The durable offset before.
        old_offset: u64,
        /// The durable offset after.
        new_offset: u64,
    },
    /// A flush succeeded. It wrote only if an offset was pending.
    Flush {
        /// Messages processed so far.
        message: u64,
        /// Whether this is the flush of a clean shutdown.
        is_final: bool,
        /// Whether it wrote (one store write).
        wrote: bool,
        /// The durable offset before.
        old_offset: u64,
        /// The durable offset after.
        new_offset: u64,
    },
    /// A checkpoint was refused or failed; nothing was written. A
    /// regression lets the simulation go on (the driver drops the refused
    /// offset, keeps the count, and writes what is pending at the next
    /// checkpoint); any other error stops it.
    Error {
        /// Messages processed so far.
        message: u64,
        /// What the checkpoint was for.
        during: Step,
        /// The durable offset.
        old_offset: u64,
        /// The offset that could not be checkpointed.
        attempted: u64,
        /// Why.
        error: &'a DurabilityError,
    },
    /// The consumer crashed.
    Crash {
        /// Messages processed before the crash.
        message: u64,
        /// The offset a restarted consumer resumes from (the durable one).
        resume_offset: u64,
        /// How many processed messages it processes again.
        redelivered: u64,
    },
}

/// Hears about a simulation as it runs.
pub trait Observer<E> {
    /// One checkpoint, flush, error or crash.
    ///
    /// # Errors
    ///
    /// An error stops the simulation ([`Stop::Interrupted`]).
    fn event(&mut self, event: &Event<'_>) -> Result<(), E>;

    /// Called every [`PROGRESS_STEP`] messages with the count so far.
    ///
    /// # Errors
    ///
    /// An error stops the simulation ([`Stop::Interrupted`]).
    fn progress(&mut self, messages: u64) -> Result<(), E> {
        let _ = messages;
        Ok(())
    }
}

impl<E, F: FnMut(&Event<'_>) -> Result<(), E>> Observer<E> for F {
    fn event(&mut self, event: &Event<'_>) -> Result<(), E> {
        self(event)
    }
}

/// What a simulation found.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Summary {
    /// The policy simulated.
    pub policy: CheckpointPolicy,
    /// The periodic flush interval, in messages.
    pub flush_every: Option<NonZeroU64>,
    /// The crash point, in messages.
    pub crash_after: Option<u64>,
    /// Messages processed.
    pub messages: u64,
    /// The durable offset the cursor resumed from.
    pub start_offset: u64,
    /// Successful checkpoints (store writes), by the policy and by flushes.
    pub checkpoints: u64,
    /// Flushes called (periodic and final), whether or not they wrote.
    pub flushes: u64,
    /// Checkpoints refused or failed.
    pub errors: u64,
    /// The durable offset at the end.
    pub final_offset: u64,
    /// The next offset of the last processed message.
    pub last_offset: Option<u64>,
    /// The offset processed but not durable at the end, if any.
    pub pending_offset: Option<u64>,
    /// Messages processed but not durable at the end.
    pub pending_at_end: u64,
    /// The most messages processed but not durable at any moment: the worst
    /// case a crash makes a restarted consumer process again. Counted right
    /// after each message is processed, before its checkpoint.
    pub max_redelivery_window: u64,
    /// Whether the run ended in a crash.
    pub crashed: bool,
    /// After a crash: how many processed messages a restarted consumer
    /// processes again.
    pub redelivered_after_crash: Option<u64>,
}

/// Why a simulation stopped before its end.
#[derive(Debug)]
pub enum Stop<E> {
    /// The input or the observer failed.
    Interrupted(E),
    /// A checkpoint failed with something other than a regression (stale,
    /// store error): going on could not succeed.
    Failed(DurabilityError),
}

/// A simulation that stopped early, with what it had done so far.
#[derive(Debug)]
pub struct Stopped<E> {
    /// The counts up to the stop; `final_offset` is the last offset this run
    /// made durable.
    pub summary: Summary,
    /// Why it stopped.
    pub reason: Stop<E>,
}

/// The next offsets of `count` messages after `start`: `start + 1 ..= start + count`.
///
/// # Errors
///
/// [`DurabilityError::OffsetTooLarge`] when the last one would pass
/// [`MAX_OFFSET`].
pub fn message_offsets(
    start: u64,
    count: u64,
) -> Result<impl Iterator<Item = u64> + Clone, DurabilityError> {
    match start.checked_add(count) {
        Some(last) if last <= MAX_OFFSET => Ok(start + 1..=last),
        _ => Err(DurabilityError::OffsetTooLarge {
            offset: start.saturating_add(count),
        }),
    }
}

/// One run of the checkpoint driver over one cursor.
pub struct Simulation<'s> {
    store: &'s dyn DurableStore,
    cursor: ConsumerCursor,
    driver: CheckpointDriver,
    config: SimConfig,
    start_offset: u64,
    messages: u64,
    checkpoints: u64,
    flushes: u64,
    errors: u64,
    last_offset: Option<u64>,
    max_window: u64,
    crashed: bool,
}

impl<'s> Simulation<'s> {
    /// Resume the cursor from `store` (absent: offset 0) and prepare a run.
    ///
    /// # Errors
    ///
    /// [`DurabilityError::ConfigError`] for `per-batch:0`; store read errors.
    pub fn resume(
        store: &'s dyn DurableStore,
        consumer_id: &str,
        partition_key: &str,
        config: SimConfig,
    ) -> Result<Self, DurabilityError> {
        config.policy.validate()?;
        let cursor = ConsumerCursor::resume(consumer_id, partition_key, store)?;
        Ok(Self {
            store,
            start_offset: cursor.current_offset(),
            cursor,
            driver: CheckpointDriver::from_policy(config.policy),
            config,
            messages: 0,
            checkpoints: 0,
            flushes: 0,
            errors: 0,
            last_offset: None,
            max_window: 0,
            crashed: false,
        })
    }

    /// The durable offset the cursor resumed from.
    #[must_use]
    pub const fn start_offset(&self) -> u64 {
        self.start_offset
    }

    /// Feed every next offset to the driver, then shut down cleanly (final
    /// flush) or crash, and report.
    ///
    /// # Errors
    ///
    /// [`Stopped`] with the counts so far when the input or the observer
    /// fails, or when a checkpoint fails with anything but a regression.
    pub fn run<E>(
        mut self,
        offsets: impl IntoIterator<Item = Result<u64, E>>,
        observer: &mut dyn Observer<E>,
    ) -> Result<Summary, Box<Stopped<E>>> {
        match self.drive(offsets.into_iter(), observer) {
            Ok(()) => Ok(self.summary()),
            Err(reason) => Err(Box::new(Stopped {
                summary: self.summary(),
                reason,
            })),
        }
    }

    fn drive<E>(
        &mut self,
        mut offsets: impl Iterator<Item = Result<u64, E>>,
        observer: &mut dyn Observer<E>,
    ) -> Result<(), Stop<E>> {
        let flush_every = self.config.flush_every.map_or(0, NonZeroU64::get);
        loop {
            if self.config.crash_after == Some(self.messages) {
                break;
            }
            let Some(next) = offsets.next() else { break };
            self.process(next.map_err(Stop::Interrupted)?, observer)?;
            if flush_every != 0 && self.messages % flush_every == 0 {
                self.flush(Step::Flush, observer)?;
            }
            if self.messages % PROGRESS_STEP == 0 {
                observer
                    .progress(self.messages)
                    .map_err(Stop::Interrupted)?;
            }
        }
        if self.config.crash_after.is_some() {
            self.crashed = true;
            let event = Event::Crash {
                message: self.messages,
                resume_offset: self.cursor.current_offset(),
                redelivered: self.pending(),
            };
            observer.event(&event).map_err(Stop::Interrupted)
        } else {
            self.flush(Step::FinalFlush, observer)
        }
    }

    /// Messages processed since the last successful checkpoint.
    fn pending(&self) -> u64 {
        u64::try_from(self.driver.messages_since_last_checkpoint()).unwrap_or(u64::MAX)
    }

    fn process<E>(&mut self, next: u64, observer: &mut dyn Observer<E>) -> Result<(), Stop<E>> {
        self.messages += 1;
        self.last_offset = Some(next);
        // This message is processed and not yet durable, with every one
        // since the last checkpoint.
        self.max_window = self.max_window.max(self.pending() + 1);
        let old_offset = self.cursor.current_offset();
        match self
            .driver
            .record_processed(&mut self.cursor, self.store, next)
        {
            // Only a successful checkpoint clears the pending offset.
            Ok(()) if self.driver.pending_offset().is_none() => {
                self.checkpoints += 1;
                let event = Event::Checkpoint {
                    message: self.messages,
                    old_offset,
                    new_offset: self.cursor.current_offset(),
                };
                observer.event(&event).map_err(Stop::Interrupted)
            }
            Ok(()) => Ok(()),
            Err(error) => self.failed(Step::Message, old_offset, next, error, observer),
        }
    }

    fn flush<E>(&mut self, step: Step, observer: &mut dyn Observer<E>) -> Result<(), Stop<E>> {
        self.flushes += 1;
        let old_offset = self.cursor.current_offset();
        let pending = self.driver.pending_offset();
        match self.driver.flush(&mut self.cursor, self.store) {
            Ok(()) => {
                if pending.is_some() {
                    self.checkpoints += 1;
                }
                let event = Event::Flush {
                    message: self.messages,
                    is_final: step == Step::FinalFlush,
                    wrote: pending.is_some(),
                    old_offset,
                    new_offset: self.cursor.current_offset(),
                };
                observer.event(&event).map_err(Stop::Interrupted)
            }
            Err(error) => {
                let attempted = pending.unwrap_or(old_offset);
                self.failed(step, old_offset, attempted, error, observer)
            }
        }
    }

    fn failed<E>(
        &mut self,
        during: Step,
        old_offset: u64,
        attempted: u64,
        error: DurabilityError,
        observer: &mut dyn Observer<E>,
    ) -> Result<(), Stop<E>> {
        self.errors += 1;
        let event = Event::Error {
            message: self.messages,
            during,
            old_offset,
            attempted,
            error: &error,
        };
        observer.event(&event).map_err(Stop::Interrupted)?;
        match error {
            DurabilityError::CursorRegression { .. } => Ok(()),
            other => Err(Stop::Failed(other)),
        }
    }

    fn summary(&self) -> Summary {
        let pending_at_end = self.pending();
        Summary {
            policy: self.config.policy,
            flush_every: self.config.flush_every,
            crash_after: self.config.crash_after,
            messages: self.messages,
            start_offset: self.start_offset,
            checkpoints: self.checkpoints,
            flushes: self.flushes,
            errors: self.errors,
            final_offset: self.cursor.current_offset(),
            last_offset: self.last_offset,
            pending_offset: self.driver.pending_offset(),
            pending_at_end,
            max_redelivery_window: self.max_window,
            crashed: self.crashed,
            redelivered_after_crash: self.crashed.then_some(pending_at_end),
        }
    }
}

#[cfg(test)]
mod tests;
