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
mod tests {
    use std::cell::Cell;
    use std::convert::Infallible;

    use super::*;
    use crate::store::memory::MemoryStore;

    const KEY: &str = "billing:orders:3";

    /// An event reduced to comparable parts.
    #[derive(Clone, Debug, PartialEq, Eq)]
    enum Seen {
        Checkpoint(u64, u64, u64),
        Flush(u64, bool, bool, u64),
        Error(u64, Step, u64, u64, &'static str),
        Crash(u64, u64, u64),
    }

    fn seen(event: &Event<'_>) -> Seen {
        match *event {
            Event::Checkpoint {
                message,
                old_offset,
                new_offset,
            } => Seen::Checkpoint(message, old_offset, new_offset),
            Event::Flush {
                message,
                is_final,
                wrote,
                new_offset,
                ..
            } => Seen::Flush(message, is_final, wrote, new_offset),
            Event::Error {
                message,
                during,
                old_offset,
                attempted,
                error,
            } => {
                let kind = match error {
                    DurabilityError::CursorRegression { .. } => "regression",
                    DurabilityError::StaleCheckpoint { .. } => "stale",
                    _ => "other",
                };
                Seen::Error(message, during, old_offset, attempted, kind)
            }
            Event::Crash {
                message,
                resume_offset,
                redelivered,
            } => Seen::Crash(message, resume_offset, redelivered),
        }
    }

    fn config(policy: &str) -> SimConfig {
        SimConfig::new(policy.parse().unwrap())
    }

    /// Run over explicit offsets on a memory store; return the summary, the
    /// events and the values the store was written with.
    fn run_offsets(
        config: SimConfig,
        start: Option<u64>,
        offsets: &[u64],
    ) -> (Summary, Vec<Seen>, Vec<u64>) {
        let store = MemoryStore::new();
        if let Some(start) = start {
            store.put(KEY, start);
        }
        let sim = Simulation::resume(&store, "billing", "orders:3", config).unwrap();
        let mut events = Vec::new();
        let summary = sim
            .run(
                offsets.iter().map(|&o| Ok::<_, Infallible>(o)),
                &mut |e: &Event<'_>| {
                    events.push(seen(e));
                    Ok::<_, Infallible>(())
                },
            )
            .unwrap();
        assert_eq!(
            store.get(KEY).unwrap_or(0),
            summary.final_offset,
            "the store holds the final offset"
        );
        (summary, events, store.writes(KEY))
    }

    fn run_messages(config: SimConfig, n: u64) -> (Summary, Vec<Seen>, Vec<u64>) {
        let offsets: Vec<u64> = message_offsets(0, n).unwrap().collect();
        run_offsets(config, None, &offsets)
    }

    #[test]
    fn per_batch_checkpoints_every_batch_and_the_final_flush_writes_the_rest() {
        let (summary, events, writes) = run_messages(config("per-batch:3"), 10);
        assert_eq!(
            events,
            vec![
                Seen::Checkpoint(3, 0, 3),
                Seen::Checkpoint(6, 3, 6),
                Seen::Checkpoint(9, 6, 9),
                Seen::Flush(10, true, true, 10),
            ]
        );
        assert_eq!(writes, vec![3, 6, 9, 10]);
        assert_eq!(summary.messages, 10);
        assert_eq!(summary.start_offset, 0);
        assert_eq!(summary.checkpoints, 4);
        assert_eq!(summary.flushes, 1);
        assert_eq!(summary.errors, 0);
        assert_eq!(summary.final_offset, 10);
        assert_eq!(summary.last_offset, Some(10));
        assert_eq!(summary.pending_offset, None);
        assert_eq!(summary.pending_at_end, 0);
        assert_eq!(summary.max_redelivery_window, 3);
        assert!(!summary.crashed);
        assert_eq!(summary.redelivered_after_crash, None);
    }

    #[test]
    fn per_message_checkpoints_each_message_and_the_final_flush_writes_nothing() {
        let (summary, events, writes) = run_messages(config("per-message"), 4);
        assert_eq!(
            events,
            vec![
                Seen::Checkpoint(1, 0, 1),
                Seen::Checkpoint(2, 1, 2),
                Seen::Checkpoint(3, 2, 3),
                Seen::Checkpoint(4, 3, 4),
                Seen::Flush(4, true, false, 4),
            ]
        );
        assert_eq!(writes, vec![1, 2, 3, 4]);
        assert_eq!(summary.checkpoints, 4);
        assert_eq!(summary.max_redelivery_window, 1);
    }

    #[test]
    fn explicit_flush_writes_only_on_flushes() {
        let mut cfg = config("explicit-flush");
        cfg.flush_every = NonZeroU64::new(4);
        let (summary, events, writes) = run_messages(cfg, 10);
        assert_eq!(
            events,
            vec![
                Seen::Flush(4, false, true, 4),
                Seen::Flush(8, false, true, 8),
                Seen::Flush(10, true, true, 10),
            ]
        );
        assert_eq!(writes, vec![4, 8, 10]);
        assert_eq!(summary.checkpoints, 3);
        assert_eq!(summary.flushes, 3);
        assert_eq!(summary.max_redelivery_window, 4);

        // Without periodic flushes everything waits for the final one.
        let (summary, events, _) = run_messages(config("explicit-flush"), 10);
        assert_eq!(events, vec![Seen::Flush(10, true, true, 10)]);
        assert_eq!(summary.max_redelivery_window, 10);
    }

    #[test]
    fn flush_every_applies_to_any_policy() {
        let mut cfg = config("per-batch:3");
        cfg.flush_every = NonZeroU64::new(4);
        let (summary, events, writes) = run_messages(cfg, 10);
        // 1..3 batch, 4 flush, 5..7 batch, 8 flush, 9..10 final flush.
        assert_eq!(
            events,
            vec![
                Seen::Checkpoint(3, 0, 3),
                Seen::Flush(4, false, true, 4),
                Seen::Checkpoint(7, 4, 7),
                Seen::Flush(8, false, true, 8),
                Seen::Flush(10, true, true, 10),
            ]
        );
        assert_eq!(writes, vec![3, 4, 7, 8, 10]);
        assert_eq!(summary.checkpoints, 5);
        assert_eq!(summary.max_redelivery_window, 3);
    }

    #[test]
    fn a_crash_skips_the_final_flush_and_counts_the_redelivery() {
        let mut cfg = config("per-batch:3");
        cfg.crash_after = Some(7);
        let (summary, events, writes) = run_messages(cfg, 10);
        assert_eq!(
            events,
            vec![
                Seen::Checkpoint(3, 0, 3),
                Seen::Checkpoint(6, 3, 6),
                Seen::Crash(7, 6, 1),
            ]
        );
        assert_eq!(writes, vec![3, 6]);
        assert_eq!(summary.messages, 7);
        assert_eq!(summary.final_offset, 6);
        assert_eq!(summary.last_offset, Some(7));
        assert_eq!(summary.pending_offset, Some(7));
        assert_eq!(summary.pending_at_end, 1);
        assert!(summary.crashed);
        assert_eq!(summary.redelivered_after_crash, Some(1));
        assert_eq!(summary.flushes, 0);

        let mut cfg = config("explicit-flush");
        cfg.crash_after = Some(7);
        let (summary, events, _) = run_messages(cfg, 10);
        assert_eq!(events, vec![Seen::Crash(7, 0, 7)]);
        assert_eq!(summary.redelivered_after_crash, Some(7));
        assert_eq!(summary.max_redelivery_window, 7);
    }

    #[test]
    fn the_crash_comes_after_the_messages_own_flush() {
        let mut cfg = config("explicit-flush");
        cfg.flush_every = NonZeroU64::new(5);
        cfg.crash_after = Some(10);
        let (summary, events, _) = run_messages(cfg, 12);
        assert_eq!(
            events,
            vec![
                Seen::Flush(5, false, true, 5),
                Seen::Flush(10, false, true, 10),
                Seen::Crash(10, 10, 0),
            ]
        );
        assert_eq!(summary.redelivered_after_crash, Some(0));
        assert_eq!(summary.max_redelivery_window, 5);
    }

    #[test]
    fn a_crash_after_zero_messages_processes_nothing() {
        let mut cfg = config("per-message");
        cfg.crash_after = Some(0);
        let (summary, events, writes) = run_offsets(cfg, Some(40), &[41, 42]);
        assert_eq!(events, vec![Seen::Crash(0, 40, 0)]);
        assert!(writes.is_empty());
        assert_eq!(summary.messages, 0);
        assert_eq!(summary.max_redelivery_window, 0);
    }

    #[test]
    fn the_input_ending_before_the_crash_point_crashes_at_its_end() {
        let mut cfg = config("per-batch:2");
        cfg.crash_after = Some(100);
        let (summary, events, _) = run_messages(cfg, 5);
        assert_eq!(
            events,
            vec![
                Seen::Checkpoint(2, 0, 2),
                Seen::Checkpoint(4, 2, 4),
                Seen::Crash(5, 4, 1),
            ]
        );
        assert_eq!(summary.messages, 5);
    }

    #[test]
    fn the_run_resumes_from_the_stored_offset() {
        let offsets: Vec<u64> = message_offsets(100, 5).unwrap().collect();
        assert_eq!(offsets, vec![101, 102, 103, 104, 105]);
        let (summary, events, writes) = run_offsets(config("per-batch:2"), Some(100), &offsets);
        assert_eq!(summary.start_offset, 100);
        assert_eq!(
            events,
            vec![
                Seen::Checkpoint(2, 100, 102),
                Seen::Checkpoint(4, 102, 104),
                Seen::Flush(5, true, true, 105),
            ]
        );
        assert_eq!(writes, vec![102, 104, 105]);
    }

    #[test]
    fn a_backwards_offset_is_a_regression_and_the_run_goes_on() {
        // per-message: 1, 2, 5, then 4 goes backwards; 6 moves on.
        let (summary, events, writes) = run_offsets(config("per-message"), None, &[1, 2, 5, 4, 6]);
        assert_eq!(
            events,
            vec![
                Seen::Checkpoint(1, 0, 1),
                Seen::Checkpoint(2, 1, 2),
                Seen::Checkpoint(3, 2, 5),
                Seen::Error(4, Step::Message, 5, 4, "regression"),
                Seen::Checkpoint(5, 5, 6),
                Seen::Flush(5, true, false, 6),
            ]
        );
        assert_eq!(writes, vec![1, 2, 5, 6]);
        assert_eq!(summary.checkpoints, 4);
        assert_eq!(summary.errors, 1);
        // Message 4 stayed pending until message 5 was checkpointed.
        assert_eq!(summary.max_redelivery_window, 2);
        assert_eq!(summary.final_offset, 6);
    }

    #[test]
    fn a_regression_drops_the_refused_offset_and_keeps_the_count() {
        // per-batch:2: the batch ending at 3 (below the durable 4) is refused
        // once; the final flush has nothing left to write.
        let (summary, events, writes) = run_offsets(config("per-batch:2"), None, &[2, 4, 5, 3]);
        assert_eq!(
            events,
            vec![
                Seen::Checkpoint(2, 0, 4),
                Seen::Error(4, Step::Message, 4, 3, "regression"),
                Seen::Flush(4, true, false, 4),
            ]
        );
        assert_eq!(writes, vec![4]);
        assert_eq!(summary.checkpoints, 1);
        assert_eq!(summary.errors, 1);
        assert_eq!(summary.final_offset, 4);
        assert_eq!(summary.pending_offset, None);
        assert_eq!(summary.pending_at_end, 2);
    }

    /// A store where a live consumer moves the cursor to 1000 just before
    /// the compare-and-swap number `at`.
    struct LiveConsumer {
        inner: MemoryStore,
        calls: Cell<u64>,
        at: u64,
    }

    impl DurableStore for LiveConsumer {
        fn read_value(&self, key: &str) -> Result<Option<u64>, DurabilityError> {
            self.inner.read_value(key)
        }

        fn cas(&self, key: &str, expected: u64, new: u64) -> Result<(), DurabilityError> {
            self.calls.set(self.calls.get() + 1);
            if self.calls.get() == self.at {
                self.inner.put(key, 1000);
            }
            self.inner.cas(key, expected, new)
        }
    }

    #[test]
    fn a_stale_checkpoint_stops_the_run_with_what_was_done() {
        let store = LiveConsumer {
            inner: MemoryStore::new(),
            calls: Cell::new(0),
            at: 3,
        };
        let sim = Simulation::resume(&store, "billing", "orders:3", config("per-batch:3")).unwrap();
        let mut events = Vec::new();
        let stopped = sim
            .run(
                message_offsets(0, 20).unwrap().map(Ok::<_, Infallible>),
                &mut |e: &Event<'_>| {
                    events.push(seen(e));
                    Ok::<_, Infallible>(())
                },
            )
            .unwrap_err();
        assert_eq!(
            events,
            vec![
                Seen::Checkpoint(3, 0, 3),
                Seen::Checkpoint(6, 3, 6),
                Seen::Error(9, Step::Message, 6, 9, "stale"),
            ]
        );
        assert!(matches!(
            stopped.reason,
            Stop::Failed(DurabilityError::StaleCheckpoint {
                expected: 6,
                actual: Some(1000),
                ..
            })
        ));
        assert_eq!(stopped.summary.messages, 9);
        assert_eq!(stopped.summary.checkpoints, 2);
        assert_eq!(stopped.summary.final_offset, 6);
        assert_eq!(
            store.inner.get(KEY),
            Some(1000),
            "the live value is left alone"
        );
    }

    #[test]
    fn a_failing_input_stops_the_run_before_any_final_flush() {
        let store = MemoryStore::new();
        let sim =
            Simulation::resume(&store, "billing", "orders:3", config("explicit-flush")).unwrap();
        let mut events = Vec::new();
        let input = vec![Ok(1), Err("line 2 is bad"), Ok(3)];
        let stopped = sim
            .run(input, &mut |e: &Event<'_>| {
                events.push(seen(e));
                Ok(())
            })
            .unwrap_err();
        assert!(matches!(stopped.reason, Stop::Interrupted("line 2 is bad")));
        assert!(events.is_empty());
        assert_eq!(stopped.summary.messages, 1);
        assert_eq!(store.cas_calls(), 0);
    }

    #[test]
    fn long_runs_report_events_not_messages() {
        struct Count {
            events: u64,
            progress: Vec<u64>,
        }
        impl Observer<Infallible> for Count {
            fn event(&mut self, _: &Event<'_>) -> Result<(), Infallible> {
                self.events += 1;
                Ok(())
            }
            fn progress(&mut self, messages: u64) -> Result<(), Infallible> {
                self.progress.push(messages);
                Ok(())
            }
        }
        let store = MemoryStore::without_log();
        let sim =
            Simulation::resume(&store, "billing", "orders:3", config("per-batch:1000")).unwrap();
        let mut count = Count {
            events: 0,
            progress: Vec::new(),
        };
        let n = 3 * PROGRESS_STEP + 5;
        let summary = sim
            .run(message_offsets(0, n).unwrap().map(Ok), &mut count)
            .unwrap();
        assert_eq!(summary.checkpoints, n / 1000 + 1);
        assert_eq!(count.events, n / 1000 + 1);
        assert_eq!(
            count.progress,
            vec![PROGRESS_STEP, 2 * PROGRESS_STEP, 3 * PROGRESS_STEP]
        );
        assert_eq!(store.get(KEY), Some(n));
    }

    #[test]
    fn bad_configurations_and_offsets_are_refused() {
        let store = MemoryStore::new();
        assert!(matches!(
            Simulation::resume(
                &store,
                "billing",
                "orders:3",
                SimConfig::new(CheckpointPolicy::PerBatch(0))
            ),
            Err(DurabilityError::ConfigError(_))
        ));
        assert!(message_offsets(MAX_OFFSET - 5, 5).is_ok());
        assert!(matches!(
            message_offsets(MAX_OFFSET - 5, 6),
            Err(DurabilityError::OffsetTooLarge { .. })
        ));
        assert!(message_offsets(u64::MAX, 1).is_err());
    }
}
