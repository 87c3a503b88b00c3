//! OPEN -> HALF_OPEN once the reset timeout is over, and how probes close or reopen the circuit.
//!
//! Helpers and conventions: see `common/mod.rs`.

mod common;

use std::time::Duration;

use neural_trader_resilience::{CircuitBreakerConfig, Rejected, State};

use common::{advance_ms, breaker, config, fail, failing_op, ok_op, succeed, trip, RESET_MS};

// ---------------------------------------------------------------------------------------------
// OPEN -> HALF_OPEN
// ---------------------------------------------------------------------------------------------

#[test]
fn circuit_breaker_half_opens_lazily_at_the_first_call_after_reset_timeout() {
    let (cb, clock) = breaker(config(1, 1));
    trip(&cb, 1);

    advance_ms(&clock, RESET_MS - 1);
    assert_eq!(
        cb.try_acquire().unwrap_err(),
        Rejected,
        "1 ms before the end"
    );
    assert_eq!(cb.state(), State::Open);

    advance_ms(&clock, 1);
    // Time alone does not move the circuit: reading the state makes no transition.
    assert_eq!(cb.state(), State::Open);
    advance_ms(&clock, 5_000);
    assert_eq!(cb.state(), State::Open);
    assert_eq!(cb.metrics().times_half_opened, 0);

    let probe = cb.try_acquire().expect("the next call is a probe");
    assert!(probe.is_probe());
    assert_eq!(cb.state(), State::HalfOpen);
    assert_eq!(cb.metrics().times_half_opened, 1);
    probe.success();
    assert_eq!(cb.state(), State::Closed);
}

#[tokio::test]
async fn circuit_breaker_half_opens_exactly_at_reset_timeout_through_call() {
    let (cb, clock) = breaker(config(1, 1));
    assert!(cb.call(failing_op()).await.is_err());
    advance_ms(&clock, RESET_MS - 1);
    let err = cb.call(ok_op(1)).await.unwrap_err();
    assert!(err.to_string().contains("is OPEN"));
    advance_ms(&clock, 1);
    assert_eq!(cb.call(ok_op(7)).await.unwrap(), 7);
    assert_eq!(cb.get_state().await, "CLOSED");
    let m = cb.get_metrics().await;
    assert_eq!((m.times_opened, m.times_half_opened), (1, 1));
}

#[test]
fn circuit_breaker_sub_millisecond_reset_timeout_rounds_up() {
    let (cb, clock) = breaker(CircuitBreakerConfig {
        reset_timeout: Duration::from_micros(1_500),
        ..config(1, 1)
    });
    trip(&cb, 1);
    advance_ms(&clock, 1);
    assert!(cb.try_acquire().is_err(), "1.5 ms is not over after 1 ms");
    advance_ms(&clock, 1);
    assert!(cb.try_acquire().unwrap().is_probe());
}

// ---------------------------------------------------------------------------------------------
// HALF_OPEN -> CLOSED / OPEN
// ---------------------------------------------------------------------------------------------

#[test]
fn circuit_breaker_closes_after_success_threshold_probe_successes() {
    let (cb, clock) = breaker(config(2, 3));
    trip(&cb, 2);
    advance_ms(&clock, RESET_MS);

    succeed(&cb);
    assert_eq!(cb.state(), State::HalfOpen, "1 of 3");
    succeed(&cb);
    assert_eq!(cb.state(), State::HalfOpen, "2 of 3");
    succeed(&cb);
    assert_eq!(cb.state(), State::Closed, "3 of 3");

    // Closed again with a fresh failure count.
    fail(&cb);
    assert_eq!(cb.state(), State::Closed);
    fail(&cb);
    assert_eq!(cb.state(), State::Open);
    let m = cb.metrics();
    assert_eq!((m.times_opened, m.times_half_opened), (2, 1));
}

#[test]
fn circuit_breaker_half_open_failure_reopens_with_a_fresh_reset_period() {
    let (cb, clock) = breaker(config(1, 2));
    trip(&cb, 1);
    advance_ms(&clock, RESET_MS);
    succeed(&cb);
    assert_eq!(cb.state(), State::HalfOpen);

    advance_ms(&clock, 400);
    fail(&cb);
    assert_eq!(cb.state(), State::Open, "any probe failure reopens");

    // The new open period counts from the probe failure, not from the first opening.
    advance_ms(&clock, RESET_MS - 1);
    assert!(cb.try_acquire().is_err());
    advance_ms(&clock, 1);
    let probe = cb.try_acquire().expect("probe after the fresh period");
    assert!(probe.is_probe());

    // The success counted before the failure does not carry over.
    probe.success();
    assert_eq!(cb.state(), State::HalfOpen);
    succeed(&cb);
    assert_eq!(cb.state(), State::Closed);
    let m = cb.metrics();
    assert_eq!((m.times_opened, m.times_half_opened), (2, 2));
}

#[test]
fn circuit_breaker_half_open_admits_at_most_max_calls_probes() {
    let (cb, clock) = breaker(CircuitBreakerConfig {
        half_open_max_calls: Some(2),
        ..config(1, 3)
    });
    trip(&cb, 1);
    advance_ms(&clock, RESET_MS);

    let p1 = cb.try_acquire().unwrap();
    let p2 = cb.try_acquire().unwrap();
    assert!(p1.is_probe() && p2.is_probe());
    for _ in 0..3 {
        assert_eq!(
            cb.try_acquire().unwrap_err(),
            Rejected,
            "probe slots are full"
        );
    }
    assert_eq!(cb.metrics().rejected_calls, 3);
    assert_eq!(cb.state(), State::HalfOpen);

    // A finished probe frees its slot.
    p1.success();
    let p3 = cb.try_acquire().expect("a slot was freed");
    assert!(cb.try_acquire().is_err());
    p2.success();
    p3.success();
    assert_eq!(cb.state(), State::Closed, "3 successes close");
    assert_eq!(cb.metrics().rejected_calls, 4);
}

#[test]
fn circuit_breaker_default_probe_budget_is_success_threshold() {
    let (cb, clock) = breaker(config(1, 2));
    assert_eq!(cb.config().half_open_max_calls(), 2);
    trip(&cb, 1);
    advance_ms(&clock, RESET_MS);
    let _p1 = cb.try_acquire().unwrap();
    let _p2 = cb.try_acquire().unwrap();
    assert!(cb.try_acquire().is_err());
}
