//! Calls abandoned before they end: dropped permits and dropped call futures.
//!
//! Helpers and conventions: see `common/mod.rs`.

mod common;

use std::pin::pin;

use neural_trader_resilience::{CircuitBreakerConfig, Outcome, State};

use common::{advance_ms, assert_totals_add_up, breaker, config, ok_op, succeed, trip, RESET_MS};

#[test]
fn circuit_breaker_dropped_probe_permit_frees_its_slot_and_counts_as_failed() {
    let (cb, clock) = breaker(CircuitBreakerConfig {
        half_open_max_calls: Some(1),
        ..config(1, 1)
    });
    trip(&cb, 1);
    advance_ms(&clock, RESET_MS);

    let probe = cb.try_acquire().unwrap();
    assert!(cb.try_acquire().is_err());
    drop(probe);
    let m = cb.metrics();
    assert_eq!(m.failed_calls, 2, "the trip and the cancelled probe");
    assert_eq!(
        cb.state(),
        State::HalfOpen,
        "a cancelled probe neither closes nor reopens"
    );

    let probe = cb.try_acquire().expect("the slot was given back");
    probe.finish(Outcome::Cancelled);
    succeed(&cb);
    assert_eq!(cb.state(), State::Closed);
    let m = cb.metrics();
    assert_eq!(
        (m.successful_calls, m.failed_calls, m.rejected_calls),
        (1, 3, 1)
    );
    assert_totals_add_up(&m);
}

#[test]
fn circuit_breaker_dropped_closed_permit_counts_as_failed_but_does_not_trip() {
    let (cb, _clock) = breaker(config(1, 1));
    drop(cb.try_acquire().unwrap());
    assert_eq!(cb.state(), State::Closed);
    assert_eq!(cb.metrics().failed_calls, 1);
}

#[tokio::test(start_paused = true)]
async fn circuit_breaker_dropped_call_future_frees_the_probe_slot() {
    let (cb, clock) = breaker(CircuitBreakerConfig {
        half_open_max_calls: Some(1),
        ..config(1, 1)
    });
    trip(&cb, 1);
    advance_ms(&clock, RESET_MS);

    {
        let mut call = pin!(cb.call(std::future::pending::<anyhow::Result<()>>()));
        assert!(futures::poll!(call.as_mut()).is_pending());
        assert_eq!(cb.state(), State::HalfOpen);
        assert!(
            cb.try_acquire().is_err(),
            "the in-flight call holds the probe slot"
        );
    } // the call future is dropped here, before its deadline
    assert_eq!(cb.metrics().failed_calls, 2);
    assert_eq!(cb.state(), State::HalfOpen);
    assert_eq!(cb.call(ok_op(5)).await.unwrap(), 5);
    assert_eq!(cb.state(), State::Closed);
}
