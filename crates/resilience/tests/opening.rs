//! CLOSED -> OPEN on consecutive failures, and what an open circuit does with calls.
//!
//! Helpers and conventions: see `common/mod.rs`.

mod common;

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use neural_trader_resilience::{
    CallError, CircuitBreakerError, CircuitBreakerMetrics, Rejected, State,
};

use common::{assert_totals_add_up, breaker, config, fail, failing_op, ok_op, succeed, trip};

// ---------------------------------------------------------------------------------------------
// CLOSED -> OPEN
// ---------------------------------------------------------------------------------------------

#[test]
fn circuit_breaker_starts_closed_with_empty_metrics() {
    let (cb, _clock) = breaker(config(3, 2));
    assert_eq!(cb.state(), State::Closed);
    assert_eq!(cb.name(), "svc");
    assert_eq!(cb.metrics(), CircuitBreakerMetrics::default());
    assert_eq!(cb.success_rate(), 100.0);
    let permit = cb.try_acquire().unwrap();
    assert!(!permit.is_probe());
    permit.success();
}

#[test]
fn circuit_breaker_opens_at_failure_threshold_consecutive_failures() {
    let (cb, _clock) = breaker(config(3, 2));
    fail(&cb);
    fail(&cb);
    assert_eq!(cb.state(), State::Closed, "2 of 3 failures");
    assert_eq!(cb.metrics().times_opened, 0);
    fail(&cb);
    assert_eq!(cb.state(), State::Open, "3 of 3 failures");
    let m = cb.metrics();
    assert_eq!(m.times_opened, 1);
    assert_eq!(m.failed_calls, 3);
    assert_eq!(m.times_half_opened, 0);
}

#[test]
fn circuit_breaker_threshold_of_one_opens_on_the_first_failure() {
    let (cb, _clock) = breaker(config(1, 1));
    fail(&cb);
    assert_eq!(cb.state(), State::Open);
}

#[test]
fn circuit_breaker_success_resets_the_consecutive_failure_count() {
    let (cb, _clock) = breaker(config(3, 2));
    for _ in 0..5 {
        fail(&cb);
        fail(&cb);
        succeed(&cb);
        assert_eq!(cb.state(), State::Closed);
    }
    fail(&cb);
    fail(&cb);
    assert_eq!(cb.state(), State::Closed);
    fail(&cb);
    assert_eq!(cb.state(), State::Open);
    assert_eq!(cb.metrics().times_opened, 1);
}

#[tokio::test]
async fn circuit_breaker_call_failures_open_and_successes_reset() {
    let (cb, _clock) = breaker(config(2, 1));
    assert_eq!(cb.call(ok_op(1)).await.unwrap(), 1);
    assert!(cb.call(failing_op()).await.is_err());
    assert_eq!(cb.call(ok_op(2)).await.unwrap(), 2);
    assert!(cb.call(failing_op()).await.is_err());
    assert_eq!(cb.get_state().await, "CLOSED");
    assert!(cb.call(failing_op()).await.is_err());
    assert_eq!(cb.get_state().await, "OPEN");
}

// ---------------------------------------------------------------------------------------------
// OPEN: rejections and their error
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn circuit_breaker_open_rejects_with_is_open_error() {
    let (cb, _clock) = breaker(config(1, 1));
    trip(&cb, 1);

    let ran = AtomicBool::new(false);
    let err = cb
        .call(async {
            ran.store(true, Ordering::SeqCst);
            Ok::<_, anyhow::Error>(1)
        })
        .await
        .unwrap_err();
    assert!(
        !ran.load(Ordering::SeqCst),
        "a rejected operation never runs"
    );
    assert!(err.to_string().contains("is OPEN"), "{err}");
    assert_eq!(err.to_string(), "Circuit breaker 'svc' is OPEN");
    let typed = err
        .downcast_ref::<CircuitBreakerError>()
        .expect("typed error");
    assert_eq!(
        typed,
        &CircuitBreakerError::Open {
            name: Arc::from("svc")
        }
    );
    assert_eq!(typed.code(), "ERR_CIRCUIT_OPEN");
    assert!(typed.is_open());
    assert!(!typed.is_timeout());
    assert_eq!(cb.open_error(), *typed);

    // The other entry points reject too.
    assert_eq!(cb.try_acquire().unwrap_err(), Rejected);
    assert_eq!(cb.acquire_token().unwrap_err(), Rejected);
    match cb.execute(ok_op(1)).await {
        Err(CallError::Breaker(e)) => assert_eq!(e.code(), "ERR_CIRCUIT_OPEN"),
        other => panic!("expected an open error, got {other:?}"),
    }

    let m = cb.metrics();
    assert_eq!(m.rejected_calls, 4);
    assert_eq!(m.failed_calls, 1);
    assert_eq!(m.successful_calls, 0);
    assert_totals_add_up(&m);
    assert_eq!(
        cb.state(),
        State::Open,
        "rejections do not move the circuit"
    );
}
