//! Metrics as a plain JS object.

use napi_derive::napi;
use neural_trader_resilience as core;

/// A snapshot of a breaker's counters. `totalCalls` is the sum of the successful, failed,
/// rejected and ignored calls; calls still in flight are counted once they finish.
#[napi(object)]
pub struct CircuitBreakerMetrics {
    /// Calls that finished or were rejected.
    pub total_calls: i64,
    /// Calls that succeeded.
    pub successful_calls: i64,
    /// Calls that failed (threw, rejected or timed out).
    pub failed_calls: i64,
    /// Calls rejected without running because the circuit was open.
    pub rejected_calls: i64,
    /// Calls that ended with an error that is not the service's fault (an HTTP 404, a
    /// constraint violation): they neither open nor close the circuit.
    pub ignored_calls: i64,
    /// Milliseconds spent open, including the open period in progress.
    pub total_open_time_ms: i64,
    /// Transitions to OPEN.
    pub times_opened: u32,
    /// Transitions to HALF_OPEN.
    pub times_half_opened: u32,
}

fn count(n: u64) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}

impl From<core::CircuitBreakerMetrics> for CircuitBreakerMetrics {
    fn from(m: core::CircuitBreakerMetrics) -> Self {
        Self {
            total_calls: count(m.total_calls),
            successful_calls: count(m.successful_calls),
            failed_calls: count(m.failed_calls),
            rejected_calls: count(m.rejected_calls),
            ignored_calls: count(m.ignored_calls),
            total_open_time_ms: count(m.total_open_time_ms),
            times_opened: m.times_opened,
            times_half_opened: m.times_half_opened,
        }
    }
}
