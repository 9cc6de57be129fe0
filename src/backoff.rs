//! The one backoff of every retry loop: a write the store aborted (busy,
//! serialization), a move whose cursor another writer moved in between, a
//! bulk write run again, a reconnect. Pauses double from a first pause up
//! to a largest one, and all of them together stay within one budget (the
//! busy timeout): a loop inside a loop shares its caller's `Backoff`, so
//! that the budget is never counted twice.

use std::time::{Duration, Instant};

/// The first pause of a write's retries.
pub const WRITE_FIRST_PAUSE: Duration = Duration::from_millis(2);
/// The largest pause of a write's retries.
pub const WRITE_MAX_PAUSE: Duration = Duration::from_millis(100);

/// Pauses between tries, doubling, until a deadline.
#[derive(Clone, Debug)]
pub struct Backoff {
    deadline: Instant,
    next: Duration,
    max: Duration,
}

/// The budget of a backoff asked for one too large to add to a time: a
/// year, longer than any backend takes as a busy timeout.
const LONGEST_BUDGET: Duration = Duration::from_secs(365 * 24 * 3600);

impl Backoff {
    /// Tries for `budget` from now, with the pauses of a write (2 ms
    /// doubling up to 100 ms).
    #[must_use]
    pub fn new(budget: Duration) -> Self {
        Self::starting(Instant::now(), budget)
    }

    /// Tries for `budget` from `now`, with the pauses of a write.
    #[must_use]
    pub fn starting(now: Instant, budget: Duration) -> Self {
        Self {
            deadline: now.checked_add(budget).unwrap_or(now + LONGEST_BUDGET),
            next: WRITE_FIRST_PAUSE,
            max: WRITE_MAX_PAUSE,
        }
    }

    /// With pauses from `first` doubling up to `max`.
    #[must_use]
    pub const fn pauses(mut self, first: Duration, max: Duration) -> Self {
        self.next = first;
        self.max = max;
        self
    }

    /// The pause before the next try at `now`, or `None` when the budget
    /// is spent. A pause never runs past the deadline; the one after it
    /// is twice as long (up to the largest).
    pub fn next_pause(&mut self, now: Instant) -> Option<Duration> {
        let left = self.deadline.checked_duration_since(now)?;
        if left.is_zero() {
            return None;
        }
        let pause = self.next.min(left);
        self.next = (self.next * 2).min(self.max);
        Some(pause)
    }

    /// Whether the budget is spent at `now`.
    #[must_use]
    pub fn is_spent(&self, now: Instant) -> bool {
        now >= self.deadline
    }

    /// Pause before the next try: `false` (without pausing) when the
    /// budget is spent.
    pub fn wait(&mut self) -> bool {
        match self.next_pause(Instant::now()) {
            Some(pause) => {
                std::thread::sleep(pause);
                true
            }
            None => false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MS: Duration = Duration::from_millis(1);

    #[test]
    fn pauses_double_up_to_the_largest() {
        let start = Instant::now();
        let mut b = Backoff::starting(start, 10 * 1000 * MS);
        let pauses: Vec<_> = (0..9).map(|_| b.next_pause(start).unwrap()).collect();
        assert_eq!(
            pauses,
            [2, 4, 8, 16, 32, 64, 100, 100, 100]
                .map(|n| n * MS)
                .to_vec()
        );
    }

    #[test]
    fn the_budget_bounds_the_sum_of_pauses() {
        let start = Instant::now();
        let mut b = Backoff::starting(start, 250 * MS);
        let mut now = start;
        let mut total = Duration::ZERO;
        while let Some(pause) = b.next_pause(now) {
            now += pause;
            total += pause;
        }
        assert_eq!(total, 250 * MS, "the last pause is cut at the deadline");
        assert!(b.is_spent(now));
        assert_eq!(b.next_pause(now), None);
    }

    #[test]
    fn a_spent_budget_gives_no_pause() {
        let start = Instant::now();
        let mut b = Backoff::starting(start, Duration::ZERO);
        assert_eq!(b.next_pause(start), None);
        assert_eq!(b.next_pause(start + MS), None);
        assert!(b.is_spent(start));
    }

    #[test]
    fn one_backoff_shared_by_nested_loops_counts_the_budget_once() {
        let start = Instant::now();
        let mut b = Backoff::starting(start, 10 * MS);
        // An inner loop spends part of the budget...
        let mut now = start;
        for _ in 0..2 {
            now += b.next_pause(now).unwrap();
        }
        assert_eq!(now - start, 6 * MS);
        // ...and the outer loop has only what is left.
        assert_eq!(b.next_pause(now), Some(4 * MS));
        now += 4 * MS;
        assert_eq!(b.next_pause(now), None);
    }

    #[test]
    fn other_pauses_for_reconnects() {
        let start = Instant::now();
        let mut b = Backoff::starting(start, 10_000 * MS).pauses(20 * MS, 1000 * MS);
        let pauses: Vec<_> = (0..8).map(|_| b.next_pause(start).unwrap()).collect();
        assert_eq!(
            pauses,
            [20, 40, 80, 160, 320, 640, 1000, 1000]
                .map(|n| n * MS)
                .to_vec()
        );
    }

    #[test]
    fn a_huge_budget_does_not_overflow() {
        let start = Instant::now();
        let mut b = Backoff::starting(start, Duration::MAX);
        assert_eq!(b.next_pause(start), Some(2 * MS));
    }
}
