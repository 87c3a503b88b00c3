//! Permit tokens name the period they were admitted in: stale outcomes cannot act on a later
//! period, and tokens survive the round trip through the foreign API.
//!
//! Helpers and conventions: see `common/mod.rs`.

mod common;

use neural_trader_resilience::{CircuitBreakerConfig, Outcome, PermitToken, State};

use common::{advance_ms, breaker, config, fail, succeed, trip, RESET_MS};

#[test]
fn circuit_breaker_stale_outcomes_cannot_act_on_a_later_period() {
    let (cb, clock) = breaker(CircuitBreakerConfig {
        half_open_max_calls: Some(2),
        ..config(1, 1)
    });
    // A call admitted while closed, finishing after the circuit opened, changes nothing.
    let closed_call = cb.try_acquire().unwrap();
    trip(&cb, 1);
    closed_call.failure();
    assert_eq!(
        cb.metrics().times_opened,
        1,
        "a stale failure cannot reopen"
    );

    // Two probes; the first closes the circuit, the other's failure comes too late to reopen it.
    advance_ms(&clock, RESET_MS);
    let p1 = cb.try_acquire().unwrap();
    let p2 = cb.try_acquire().unwrap();
    p1.success();
    assert_eq!(cb.state(), State::Closed);
    p2.failure();
    assert_eq!(
        cb.state(),
        State::Closed,
        "a stale probe failure cannot reopen"
    );
    assert_eq!(cb.metrics().times_opened, 1);
    assert_eq!(cb.metrics().failed_calls, 3, "but it is still counted");

    // A closed-period failure reported while half-open does not reopen either.
    let closed_call = cb.try_acquire().unwrap();
    trip(&cb, 1);
    advance_ms(&clock, RESET_MS);
    let probe = cb.try_acquire().unwrap();
    closed_call.failure();
    assert_eq!(cb.state(), State::HalfOpen);
    probe.success();
    assert_eq!(cb.state(), State::Closed);
}

#[test]
fn circuit_breaker_stale_closed_outcomes_cannot_act_on_a_later_closed_period() {
    let (cb, clock) = breaker(config(2, 1));
    // Admitted in the first closed period, reported after the circuit opened and closed again.
    let stale_failure = cb.try_acquire().unwrap();
    let stale_success = cb.try_acquire().unwrap();
    let stale_token = cb.acquire_token().unwrap();
    trip(&cb, 2);
    advance_ms(&clock, RESET_MS);
    succeed(&cb);
    assert_eq!(cb.state(), State::Closed);

    fail(&cb); // 1 of 2 in the new period
    stale_failure.failure();
    cb.complete(stale_token, Outcome::Failure);
    assert_eq!(cb.state(), State::Closed, "stale failures cannot reopen");
    stale_success.success();
    fail(&cb); // 2 of 2: the stale success did not reset the new period's count
    assert_eq!(cb.state(), State::Open);
    let m = cb.metrics();
    assert_eq!(m.times_opened, 2);
    assert_eq!(
        m.failed_calls, 6,
        "stale outcomes are still counted as calls"
    );
    assert_eq!(m.successful_calls, 2);

    // The period-less CLOSED token (a foreign fast path's) acts on the current closed period.
    advance_ms(&clock, RESET_MS);
    succeed(&cb);
    cb.complete(PermitToken::CLOSED, Outcome::Failure);
    cb.complete(PermitToken::CLOSED, Outcome::Failure);
    assert_eq!(cb.state(), State::Open);
}

#[test]
fn circuit_breaker_tokens_round_trip_through_the_foreign_api() {
    let (cb, clock) = breaker(config(1, 1));
    let token = cb.acquire_token().unwrap();
    assert!(!token.is_probe());
    cb.complete(token, Outcome::Failure);
    assert_eq!(cb.state(), State::Open);
    advance_ms(&clock, RESET_MS);
    let probe = cb.acquire_token().unwrap();
    assert!(probe.is_probe());
    let raw = probe.to_raw();
    let back = PermitToken::from_raw(raw).unwrap();
    cb.complete(back, Outcome::Success);
    assert_eq!(cb.state(), State::Closed);
}
