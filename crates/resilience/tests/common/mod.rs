//! Helpers shared by the integration tests of the circuit breaker.
//!
//! The tests are driven by a [`ManualClock`]: no test sleeps. Where a call timeout needs Tokio's
//! timer, the test runs on a paused runtime (`start_paused = true`), whose clock jumps ahead as
//! soon as every task is idle.
//!
//! Every test name starts with `circuit_breaker_`, so `cargo test -p neural-trader-resilience
//! circuit_breaker` selects them.

// Each test file is its own crate and uses only some of these helpers.
#![allow(dead_code)]

use std::future::Future;
use std::pin::pin;
use std::sync::Arc;
use std::task::{Context, Poll, Waker};
use std::time::Duration;

use neural_trader_resilience::{
    CircuitBreaker, CircuitBreakerConfig, CircuitBreakerMetrics, ManualClock, State,
};

pub const RESET_MS: u64 = 1_000;

pub fn config(failure_threshold: u32, success_threshold: u32) -> CircuitBreakerConfig {
    CircuitBreakerConfig {
        failure_threshold,
        success_threshold,
        timeout: Duration::from_millis(100),
        reset_timeout: Duration::from_millis(RESET_MS),
        half_open_max_calls: None,
        stack_trace: true,
    }
}

/// A breaker on a manual clock that starts at 10 s (so that "time 0" is never special).
pub fn breaker(config: CircuitBreakerConfig) -> (CircuitBreaker, ManualClock) {
    let clock = ManualClock::new();
    clock.set_ms(10_000);
    let cb = CircuitBreaker::try_with_clock("svc", config, Arc::new(clock.clone())).unwrap();
    (cb, clock)
}

pub fn advance_ms(clock: &ManualClock, ms: u64) {
    clock.advance(Duration::from_millis(ms));
}

pub fn succeed(cb: &CircuitBreaker) {
    cb.try_acquire().expect("admitted").success();
}

pub fn fail(cb: &CircuitBreaker) {
    cb.try_acquire().expect("admitted").failure();
}

/// Opens the circuit of a breaker whose failure threshold is `threshold`.
pub fn trip(cb: &CircuitBreaker, threshold: u32) {
    for _ in 0..threshold {
        fail(cb);
    }
    assert_eq!(cb.state(), State::Open);
}

pub fn assert_totals_add_up(m: &CircuitBreakerMetrics) {
    assert_eq!(
        m.total_calls,
        m.successful_calls + m.failed_calls + m.rejected_calls + m.ignored_calls,
        "{m:?}"
    );
}

/// Polls `f` once with a no-op waker (no runtime needed for a future that is ready at once).
pub fn poll_once<F: Future>(f: F) -> Poll<F::Output> {
    let mut f = pin!(f);
    f.as_mut().poll(&mut Context::from_waker(Waker::noop()))
}

pub async fn ok_op(value: i32) -> anyhow::Result<i32> {
    Ok(value)
}

pub async fn failing_op() -> anyhow::Result<i32> {
    Err(anyhow::anyhow!("boom"))
}
