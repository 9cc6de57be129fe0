//! Tests of the simulation: the real driver over memory stores.
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
    let sim = Simulation::resume(&store, "billing", "orders:3", config("explicit-flush")).unwrap();
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
    let sim = Simulation::resume(&store, "billing", "orders:3", config("per-batch:1000")).unwrap();
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
