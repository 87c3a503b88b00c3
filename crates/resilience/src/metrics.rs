//! Call counters and the metrics snapshot built from them.
//!
//! Every call is counted exactly once, when it finishes: as a success, a failure (including
//! timeouts and cancelled calls), a rejection, or an ignored outcome (an error that is not the
//! service's fault). `total_calls` is their sum, so `total_calls == successful_calls +
//! failed_calls + rejected_calls + ignored_calls` holds in every snapshot; calls still in flight
//! are not counted yet.

use serde::Serialize;

use crate::sync::{AtomicU32, AtomicU64, Ordering};

/// A snapshot of a breaker's counters.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct CircuitBreakerMetrics {
    /// Calls that finished or were rejected (the sum of the four counts below).
    pub total_calls: u64,
    /// Calls that succeeded.
    pub successful_calls: u64,
    /// Calls that failed, timed out or were cancelled.
    pub failed_calls: u64,
    /// Calls rejected without running because the circuit was open (or half-open and full).
    pub rejected_calls: u64,
    /// Calls that ended with an error that is not the service's fault (see
    /// [`crate::Outcome::Ignored`]); they neither open nor close the circuit.
    pub ignored_calls: u64,
    /// Milliseconds spent open, including the open period in progress.
    pub total_open_time_ms: u64,
    /// Transitions to OPEN.
    pub times_opened: u32,
    /// Transitions to HALF_OPEN.
    pub times_half_opened: u32,
}

impl CircuitBreakerMetrics {
    /// Successful calls as a percentage of all calls; 100 when there were none.
    pub fn success_rate(&self) -> f64 {
        if self.total_calls == 0 {
            100.0
        } else {
            self.successful_calls as f64 / self.total_calls as f64 * 100.0
        }
    }
}

/// The live counters behind [`CircuitBreakerMetrics`].
#[derive(Debug)]
pub(crate) struct Counters {
    successes: AtomicU64,
    failures: AtomicU64,
    rejections: AtomicU64,
    ignored: AtomicU64,
    /// Open time of finished open periods since the last reset.
    open_ms: AtomicU64,
    /// When the metrics were last reset (open periods are counted from then on).
    reset_at_ms: AtomicU64,
    times_opened: AtomicU32,
    times_half_opened: AtomicU32,
}

impl Counters {
    pub(crate) fn new(now_ms: u64) -> Self {
        Self {
            successes: AtomicU64::new(0),
            failures: AtomicU64::new(0),
            rejections: AtomicU64::new(0),
            ignored: AtomicU64::new(0),
            open_ms: AtomicU64::new(0),
            reset_at_ms: AtomicU64::new(now_ms),
            times_opened: AtomicU32::new(0),
            times_half_opened: AtomicU32::new(0),
        }
    }

    #[inline]
    pub(crate) fn success(&self) {
        self.successes.fetch_add(1, Ordering::Relaxed);
    }

    pub(crate) fn failure(&self) {
        self.failures.fetch_add(1, Ordering::Relaxed);
    }

    pub(crate) fn rejection(&self) {
        self.rejections.fetch_add(1, Ordering::Relaxed);
    }

    pub(crate) fn ignored(&self) {
        self.ignored.fetch_add(1, Ordering::Relaxed);
    }

    pub(crate) fn opened(&self) {
        self.times_opened.fetch_add(1, Ordering::Relaxed);
    }

    /// The circuit half-opened at `now_ms` after being open since `opened_at_ms`.
    pub(crate) fn half_opened(&self, opened_at_ms: u64, now_ms: u64) {
        // Release: a snapshot that sees this half-opening also sees the opening before it.
        self.times_half_opened.fetch_add(1, Ordering::Release);
        let from = opened_at_ms.max(self.reset_at_ms.load(Ordering::Relaxed));
        // Release, after the transition that ended the period: see `snapshot`.
        self.open_ms
            .fetch_add(now_ms.saturating_sub(from), Ordering::Release);
    }

    /// Moves successes counted by a foreign fast path into the totals.
    pub(crate) fn fold_fast_successes(&self, fast: &AtomicU32) {
        let n = fast.swap(0, Ordering::AcqRel);
        if n != 0 {
            self.successes.fetch_add(n as u64, Ordering::Relaxed);
        }
    }

    /// A snapshot; `open_since_ms` reads the start of the open period in progress, if any, and
    /// `now_ms` the clock.
    pub(crate) fn snapshot(
        &self,
        fast: &AtomicU32,
        open_since_ms: impl FnOnce() -> Option<u64>,
        now_ms: impl FnOnce() -> u64,
    ) -> CircuitBreakerMetrics {
        self.fold_fast_successes(fast);
        // The finished periods first, then the period in progress. A period is added to
        // `open_ms` (Release) only after the transition that ended it, so if this load sees it,
        // the state read below sees the period ended: no period is counted both as finished and
        // as in progress. (A snapshot racing with a half-opening may instead miss the period
        // that is just ending, until the half-opening thread has added it.)
        let finished_open_ms = self.open_ms.load(Ordering::Acquire);
        let open_since_ms = open_since_ms();
        let now_ms = now_ms();
        // Half-openings first (Acquire), then openings: every opening counted before a
        // half-opening we see is seen too, so `times_half_opened <= times_opened` between resets.
        let times_half_opened = self.times_half_opened.load(Ordering::Acquire);
        let times_opened = self.times_opened.load(Ordering::Relaxed);
        let successful_calls = self.successes.load(Ordering::Relaxed);
        let failed_calls = self.failures.load(Ordering::Relaxed);
        let rejected_calls = self.rejections.load(Ordering::Relaxed);
        let ignored_calls = self.ignored.load(Ordering::Relaxed);
        let in_progress = open_since_ms.map_or(0, |since| {
            now_ms.saturating_sub(since.max(self.reset_at_ms.load(Ordering::Relaxed)))
        });
        CircuitBreakerMetrics {
            total_calls: successful_calls + failed_calls + rejected_calls + ignored_calls,
            successful_calls,
            failed_calls,
            rejected_calls,
            ignored_calls,
            total_open_time_ms: finished_open_ms + in_progress,
            times_opened,
            times_half_opened,
        }
    }

    /// Sets every counter back to zero; an open period in progress counts from `now_ms` on.
    pub(crate) fn reset(&self, fast: &AtomicU32, now_ms: u64) {
        fast.store(0, Ordering::Release);
        self.successes.store(0, Ordering::Relaxed);
        self.failures.store(0, Ordering::Relaxed);
        self.rejections.store(0, Ordering::Relaxed);
        self.ignored.store(0, Ordering::Relaxed);
        self.open_ms.store(0, Ordering::Relaxed);
        self.reset_at_ms.store(now_ms, Ordering::Relaxed);
        self.times_opened.store(0, Ordering::Relaxed);
        self.times_half_opened.store(0, Ordering::Relaxed);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn success_rate_is_a_percentage() {
        let m = CircuitBreakerMetrics {
            total_calls: 4,
            successful_calls: 3,
            ..Default::default()
        };
        assert_eq!(m.success_rate(), 75.0);
        assert_eq!(CircuitBreakerMetrics::default().success_rate(), 100.0);
    }

    #[test]
    fn fast_successes_are_folded_once() {
        let c = Counters::new(0);
        let fast = AtomicU32::new(5);
        c.success();
        let m = c.snapshot(&fast, || None, || 0);
        assert_eq!(m.successful_calls, 6);
        assert_eq!(c.snapshot(&fast, || None, || 0).successful_calls, 6);
    }

    #[test]
    fn open_time_counts_the_period_in_progress_from_the_last_reset() {
        let c = Counters::new(0);
        let fast = AtomicU32::new(0);
        let open_since = || Some(100);
        assert_eq!(
            c.snapshot(&fast, open_since, || 250).total_open_time_ms,
            150
        );
        c.reset(&fast, 200);
        assert_eq!(c.snapshot(&fast, open_since, || 250).total_open_time_ms, 50);
        c.half_opened(100, 300);
        assert_eq!(c.snapshot(&fast, || None, || 900).total_open_time_ms, 100);
    }
}
