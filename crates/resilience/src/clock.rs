//! Time sources for the breaker.
//!
//! Every time-dependent decision of the breaker (is the open period over? how long was the
//! circuit open?) reads a [`Clock`]. Production code uses [`MonotonicClock`], a cheap monotonic
//! clock; tests inject a [`ManualClock`] and move time by hand instead of sleeping.
//!
//! Why a coarse clock: the open-circuit path reads the time on every rejected call, and
//! `Instant::now()` dominates that path (about 25 ns). The breaker works in whole milliseconds,
//! so a clock that ticks every few milliseconds but costs a few nanoseconds is the better trade:
//! an open period may end up to one tick (1-4 ms on Linux) early or late, as both its start and
//! its end are read from the same coarse clock.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use crate::sync::{AtomicU64, Ordering};

/// A monotonic source of milliseconds.
///
/// Implementations must never go backwards. The epoch is arbitrary but fixed for the lifetime of
/// the clock; readings must fit in 48 bits (about 8,900 years of milliseconds).
pub trait Clock: Send + Sync + fmt::Debug {
    /// Milliseconds elapsed since this clock's epoch.
    fn now_ms(&self) -> u64;
}

/// The default clock: the operating system's cheap coarse monotonic clock.
///
/// On Linux it reads `CLOCK_MONOTONIC_COARSE` (a few nanoseconds through the vDSO, resolution of
/// one scheduler tick); on macOS `CLOCK_MONOTONIC_RAW_APPROX`; elsewhere `std::time::Instant`.
#[derive(Debug, Clone, Copy, Default)]
pub struct MonotonicClock;

/// How far every [`MonotonicClock`] of the process has been moved ahead of the OS clock, in ms.
// A std atomic even under loom: a static needs a const constructor, and no model checks it.
static SKIPPED_MS: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
use std::sync::atomic::Ordering::Relaxed;

impl MonotonicClock {
    /// Creates the clock (it has no state).
    pub const fn new() -> Self {
        MonotonicClock
    }

    /// Moves every `MonotonicClock` of the process forward by `by` (whole milliseconds; never
    /// back), so that open periods end as if that time had passed. For tests driven by a fake
    /// clock: the Node binding calls it when jest, vitest or sinon fake timers advance, so that
    /// `advanceTimersByTime(resetTimeout)` half-opens a circuit. Breakers with another clock (a
    /// [`ManualClock`]) are not affected.
    pub fn skip(by: Duration) {
        let ms = u64::try_from(by.as_millis()).unwrap_or(u64::MAX);
        let _ = SKIPPED_MS.fetch_update(Relaxed, Relaxed, |t| {
            Some(t.saturating_add(ms).min(MAX_SKIP_MS))
        });
    }

    /// The total moved ahead by [`MonotonicClock::skip`].
    pub fn skipped() -> Duration {
        Duration::from_millis(SKIPPED_MS.load(Relaxed))
    }
}

/// A cap on [`MonotonicClock::skip`] that keeps readings within 48 bits (about 4,400 years of
/// skipping on top of the OS clock's own reading).
const MAX_SKIP_MS: u64 = 1 << 47;

#[cfg(any(
    target_os = "linux",
    target_os = "android",
    target_os = "macos",
    target_os = "ios"
))]
impl Clock for MonotonicClock {
    #[inline]
    fn now_ms(&self) -> u64 {
        #[cfg(any(target_os = "linux", target_os = "android"))]
        const CLOCK: libc::clockid_t = libc::CLOCK_MONOTONIC_COARSE;
        #[cfg(any(target_os = "macos", target_os = "ios"))]
        const CLOCK: libc::clockid_t = libc::CLOCK_MONOTONIC_RAW_APPROX;
        let mut ts = libc::timespec {
            tv_sec: 0,
            tv_nsec: 0,
        };
        // SAFETY: `ts` is a valid, writable timespec and CLOCK is a clock id this OS supports;
        // clock_gettime cannot fail for it, and if it did `ts` would stay zero (never a panic).
        unsafe { libc::clock_gettime(CLOCK, &mut ts) };
        (ts.tv_sec as u64) * 1_000 + (ts.tv_nsec as u64) / 1_000_000 + SKIPPED_MS.load(Relaxed)
    }
}

#[cfg(not(any(
    target_os = "linux",
    target_os = "android",
    target_os = "macos",
    target_os = "ios"
)))]
impl Clock for MonotonicClock {
    #[inline]
    fn now_ms(&self) -> u64 {
        use std::sync::OnceLock;
        use std::time::Instant;
        static EPOCH: OnceLock<Instant> = OnceLock::new();
        EPOCH.get_or_init(Instant::now).elapsed().as_millis() as u64 + SKIPPED_MS.load(Relaxed)
    }
}

/// A clock that only moves when told to: for tests of time-dependent behaviour without sleeping.
///
/// Clones share the same time, so a test keeps one clone and hands another to the breaker.
///
/// ```
/// use neural_trader_resilience::{Clock, ManualClock};
/// use std::time::Duration;
///
/// let clock = ManualClock::new();
/// clock.advance(Duration::from_secs(60));
/// assert_eq!(clock.now_ms(), 60_000);
/// ```
#[derive(Debug, Clone, Default)]
pub struct ManualClock {
    now_ms: Arc<AtomicU64>,
}

impl ManualClock {
    /// A clock standing at 0 ms.
    pub fn new() -> Self {
        Self::default()
    }

    /// Moves the clock forward by `by` (rounded down to whole milliseconds).
    pub fn advance(&self, by: Duration) {
        let ms = u64::try_from(by.as_millis()).unwrap_or(u64::MAX);
        let _ = self
            .now_ms
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |t| {
                Some(t.saturating_add(ms))
            });
    }

    /// Sets the clock to `ms` milliseconds, unless that would move it backwards.
    pub fn set_ms(&self, ms: u64) {
        self.now_ms.fetch_max(ms, Ordering::SeqCst);
    }
}

impl Clock for ManualClock {
    fn now_ms(&self) -> u64 {
        self.now_ms.load(Ordering::SeqCst)
    }
}
