//! Integration tests of the circuit breaker, driven by a [`ManualClock`]: no test sleeps.
//!
//! Where a call timeout needs Tokio's timer, the test runs on a paused runtime
//! (`start_paused = true`), whose clock jumps ahead as soon as every task is idle.
//!
//! Every test name starts with `circuit_breaker_`, so `cargo test -p neural-trader-resilience
//! circuit_breaker` selects them.

use std::future::Future;
use std::pin::pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, LazyLock};
use std::task::{Context, Poll, Waker};
use std::time::Duration;

use neural_trader_resilience::{
    CallError, CircuitBreaker, CircuitBreakerConfig, CircuitBreakerError, CircuitBreakerMetrics,
    CircuitBreakerRegistry, Clock, ManualClock, Outcome, PermitToken, Rejected, State,
    MAX_DURATION_MS, MAX_HALF_OPEN_CALLS, MAX_THRESHOLD,
};

const RESET_MS: u64 = 1_000;

fn config(failure_threshold: u32, success_threshold: u32) -> CircuitBreakerConfig {
    CircuitBreakerConfig {
        failure_threshold,
        success_threshold,
        timeout: Duration::from_millis(100),
        reset_timeout: Duration::from_millis(RESET_MS),
        half_open_max_calls: None,
    }
}

/// A breaker on a manual clock that starts at 10 s (so that "time 0" is never special).
fn breaker(config: CircuitBreakerConfig) -> (CircuitBreaker, ManualClock) {
    let clock = ManualClock::new();
    clock.set_ms(10_000);
    let cb = CircuitBreaker::try_with_clock("svc", config, Arc::new(clock.clone())).unwrap();
    (cb, clock)
}

fn advance_ms(clock: &ManualClock, ms: u64) {
    clock.advance(Duration::from_millis(ms));
}

fn succeed(cb: &CircuitBreaker) {
    cb.try_acquire().expect("admitted").success();
}

fn fail(cb: &CircuitBreaker) {
    cb.try_acquire().expect("admitted").failure();
}

/// Opens the circuit of a breaker whose failure threshold is `threshold`.
fn trip(cb: &CircuitBreaker, threshold: u32) {
    for _ in 0..threshold {
        fail(cb);
    }
    assert_eq!(cb.state(), State::Open);
}

fn assert_totals_add_up(m: &CircuitBreakerMetrics) {
    assert_eq!(
        m.total_calls,
        m.successful_calls + m.failed_calls + m.rejected_calls + m.ignored_calls,
        "{m:?}"
    );
}

/// Polls `f` once with a no-op waker (no runtime needed for a future that is ready at once).
fn poll_once<F: Future>(f: F) -> Poll<F::Output> {
    let mut f = pin!(f);
    f.as_mut().poll(&mut Context::from_waker(Waker::noop()))
}

async fn ok_op(value: i32) -> anyhow::Result<i32> {
    Ok(value)
}

async fn failing_op() -> anyhow::Result<i32> {
    Err(anyhow::anyhow!("boom"))
}

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

#[test]
fn circuit_breaker_rejected_error_displays() {
    assert_eq!(Rejected.to_string(), "circuit breaker rejected the call");
}

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

// ---------------------------------------------------------------------------------------------
// Cancellation
// ---------------------------------------------------------------------------------------------

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

// ---------------------------------------------------------------------------------------------
// Timeouts
// ---------------------------------------------------------------------------------------------

#[tokio::test(start_paused = true)]
async fn circuit_breaker_pending_call_times_out_counts_as_failure_and_trips() {
    let (cb, _clock) = breaker(config(2, 1));
    let started = tokio::time::Instant::now();
    let err = cb
        .call(std::future::pending::<anyhow::Result<()>>())
        .await
        .unwrap_err();
    let waited = started.elapsed();
    assert!(
        waited >= Duration::from_millis(100) && waited < Duration::from_millis(102),
        "{waited:?}"
    );
    assert_eq!(
        err.to_string(),
        "Circuit breaker 'svc' timed out after 100 ms"
    );
    let typed = err.downcast_ref::<CircuitBreakerError>().unwrap();
    assert_eq!(
        typed,
        &CircuitBreakerError::Timeout {
            name: Arc::from("svc"),
            timeout: Duration::from_millis(100)
        }
    );
    assert_eq!(typed.code(), "ERR_CIRCUIT_TIMEOUT");
    assert!(typed.is_timeout());
    assert_eq!(cb.metrics().failed_calls, 1);
    assert_eq!(cb.state(), State::Closed);

    // A slow operation is dropped at the deadline.
    let finished = Arc::new(AtomicBool::new(false));
    let flag = Arc::clone(&finished);
    let err = cb
        .call(async move {
            tokio::time::sleep(Duration::from_secs(5)).await;
            flag.store(true, Ordering::SeqCst);
            Ok::<_, anyhow::Error>(())
        })
        .await
        .unwrap_err();
    assert_eq!(
        err.downcast_ref::<CircuitBreakerError>().unwrap().code(),
        "ERR_CIRCUIT_TIMEOUT"
    );
    assert!(!finished.load(Ordering::SeqCst));
    assert_eq!(cb.state(), State::Open, "2 timeouts trip a threshold of 2");
    assert_eq!(cb.metrics().times_opened, 1);
}

#[tokio::test(start_paused = true)]
async fn circuit_breaker_operation_within_timeout_succeeds() {
    let (cb, _clock) = breaker(config(1, 1));
    let value = cb
        .call(async {
            tokio::time::sleep(Duration::from_millis(99)).await;
            Ok::<_, anyhow::Error>(3)
        })
        .await
        .unwrap();
    assert_eq!(value, 3);
    assert_eq!(cb.metrics().successful_calls, 1);
}

#[tokio::test(start_paused = true)]
async fn circuit_breaker_probe_timeout_reopens() {
    let (cb, clock) = breaker(config(1, 1));
    trip(&cb, 1);
    advance_ms(&clock, RESET_MS);
    let err = cb
        .call(std::future::pending::<anyhow::Result<()>>())
        .await
        .unwrap_err();
    assert!(err
        .downcast_ref::<CircuitBreakerError>()
        .unwrap()
        .is_timeout());
    assert_eq!(cb.state(), State::Open);
    assert_eq!(cb.metrics().times_opened, 2);
}

#[tokio::test(start_paused = true)]
async fn circuit_breaker_timeout_max_disables_the_deadline() {
    let (cb, _clock) = breaker(CircuitBreakerConfig {
        timeout: Duration::MAX,
        ..config(1, 1)
    });
    assert!(!cb.config().has_timeout());
    let started = tokio::time::Instant::now();
    let value = cb
        .call(async {
            tokio::time::sleep(Duration::from_secs(365 * 24 * 3600)).await;
            Ok::<_, anyhow::Error>("late")
        })
        .await
        .unwrap();
    assert_eq!(value, "late");
    assert!(started.elapsed() >= Duration::from_secs(365 * 24 * 3600));
    assert_eq!(cb.state(), State::Closed);
    assert_eq!(cb.metrics().successful_calls, 1);
}

#[test]
fn circuit_breaker_timeout_max_needs_no_runtime() {
    let (cb, _clock) = breaker(CircuitBreakerConfig {
        timeout: Duration::MAX,
        ..config(1, 1)
    });
    let mut call = pin!(cb.call(std::future::pending::<anyhow::Result<()>>()));
    assert!(
        poll_once(call.as_mut()).is_pending(),
        "no deadline, no error"
    );
}

#[test]
fn circuit_breaker_pending_call_without_runtime_reports_no_timer() {
    let (cb, _clock) = breaker(config(1, 1));
    let Poll::Ready(Err(err)) = poll_once(cb.call(std::future::pending::<anyhow::Result<()>>()))
    else {
        panic!("expected an error")
    };
    let typed = err.downcast_ref::<CircuitBreakerError>().unwrap();
    assert_eq!(typed.code(), "ERR_CIRCUIT_NO_TIMER");
    assert_eq!(cb.state(), State::Closed, "not the service's fault");
    assert_eq!(cb.metrics().failed_calls, 1);
}

#[test]
fn circuit_breaker_ready_call_needs_no_runtime() {
    let (cb, _clock) = breaker(config(1, 1));
    assert!(matches!(poll_once(cb.call(ok_op(4))), Poll::Ready(Ok(4))));
    assert!(matches!(
        poll_once(cb.execute(async { Ok::<_, ()>(5) })),
        Poll::Ready(Ok(5))
    ));
    assert_eq!(cb.metrics().successful_calls, 2);
}

// ---------------------------------------------------------------------------------------------
// Errors of the operation
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn circuit_breaker_execute_keeps_operation_errors_apart() {
    let (cb, _clock) = breaker(config(5, 1));
    let err = cb.execute(async { Err::<(), _>("bad") }).await.unwrap_err();
    assert!(err.breaker_error().is_none());
    assert_eq!(err.to_string(), "bad");
    assert_eq!(err.into_operation_error(), Some("bad"));
    assert_eq!(cb.metrics().failed_calls, 1);
}

#[tokio::test]
async fn circuit_breaker_call_passes_the_operation_error_through() {
    #[derive(Debug, PartialEq)]
    struct MyError(u8);
    impl std::fmt::Display for MyError {
        fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            write!(f, "my error {}", self.0)
        }
    }
    impl std::error::Error for MyError {}

    let (cb, _clock) = breaker(config(5, 1));
    let err = cb
        .call(async { Err::<(), _>(MyError(7)) })
        .await
        .unwrap_err();
    assert_eq!(err.to_string(), "my error 7");
    assert!(err.downcast_ref::<CircuitBreakerError>().is_none());
    assert_eq!(err.downcast_ref::<MyError>(), Some(&MyError(7)));
}

// ---------------------------------------------------------------------------------------------
// Metrics
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn circuit_breaker_metrics_count_every_call_exactly_once() {
    let (cb, clock) = breaker(config(2, 1));
    succeed(&cb);
    succeed(&cb);
    succeed(&cb);
    fail(&cb);
    let m = cb.metrics();
    assert_eq!(
        (m.total_calls, m.successful_calls, m.failed_calls),
        (4, 3, 1)
    );
    assert_eq!(m.success_rate(), 75.0);
    assert_eq!(cb.success_rate(), 75.0);
    assert_eq!(cb.get_success_rate().await, 75.0);

    fail(&cb); // opens
    for _ in 0..5 {
        assert!(cb.try_acquire().is_err());
    }
    assert!(cb.call(ok_op(1)).await.is_err());
    advance_ms(&clock, RESET_MS);
    assert!(cb.call(failing_op()).await.is_err()); // probe fails, reopens
    let m = cb.get_metrics().await;
    assert_totals_add_up(&m);
    assert_eq!(
        (
            m.total_calls,
            m.successful_calls,
            m.failed_calls,
            m.rejected_calls
        ),
        (12, 3, 3, 6)
    );
    assert_eq!(m.success_rate(), 25.0);
    assert_eq!((m.times_opened, m.times_half_opened), (2, 1));
}

#[test]
fn circuit_breaker_total_open_time_counts_the_period_in_progress() {
    let (cb, clock) = breaker(config(1, 1));
    assert_eq!(cb.metrics().total_open_time_ms, 0);
    trip(&cb, 1);
    assert_eq!(cb.metrics().total_open_time_ms, 0);
    advance_ms(&clock, 300);
    assert_eq!(cb.metrics().total_open_time_ms, 300, "in progress");
    advance_ms(&clock, 2_000);
    assert_eq!(
        cb.metrics().total_open_time_ms,
        2_300,
        "keeps growing until the next call, even past the reset timeout"
    );

    // The next call half-opens: the period ends there.
    let probe = cb.try_acquire().unwrap();
    advance_ms(&clock, 500);
    assert_eq!(
        cb.metrics().total_open_time_ms,
        2_300,
        "half-open time is not open time"
    );
    probe.failure(); // reopens at +2_800
    advance_ms(&clock, 250);
    assert_eq!(cb.metrics().total_open_time_ms, 2_550);
    advance_ms(&clock, RESET_MS - 250);
    succeed(&cb); // half-opens at +3_800 and closes
    assert_eq!(cb.state(), State::Closed);
    advance_ms(&clock, 10_000);
    let m = cb.metrics();
    assert_eq!(
        m.total_open_time_ms,
        2_300 + RESET_MS,
        "closed time is not open time"
    );
    assert_eq!((m.times_opened, m.times_half_opened), (2, 2));
}

#[tokio::test]
async fn circuit_breaker_reset_metrics_zeroes_counters_and_keeps_the_state() {
    let (cb, clock) = breaker(config(1, 1));
    succeed(&cb);
    trip(&cb, 1);
    assert!(cb.try_acquire().is_err());
    advance_ms(&clock, 400);
    assert_eq!(cb.metrics().total_open_time_ms, 400);

    cb.reset_metrics().await;
    let m = cb.metrics();
    assert_eq!(m, CircuitBreakerMetrics::default());
    assert_eq!(cb.state(), State::Open, "the state is kept");
    assert_eq!(m.success_rate(), 100.0);

    // The open period in progress counts from the reset on.
    advance_ms(&clock, 250);
    assert_eq!(cb.metrics().total_open_time_ms, 250);
    advance_ms(&clock, RESET_MS - 650);
    succeed(&cb); // half-opens and closes at +RESET_MS
    let m = cb.metrics();
    assert_eq!(m.total_open_time_ms, RESET_MS - 400);
    assert_eq!((m.times_opened, m.times_half_opened), (0, 1));
    assert_eq!((m.total_calls, m.successful_calls), (1, 1));

    cb.clear_metrics();
    assert_eq!(cb.metrics(), CircuitBreakerMetrics::default());
}

#[test]
fn circuit_breaker_metrics_are_serializable() {
    let m = CircuitBreakerMetrics {
        total_calls: 3,
        successful_calls: 1,
        failed_calls: 1,
        rejected_calls: 1,
        ignored_calls: 0,
        total_open_time_ms: 9,
        times_opened: 1,
        times_half_opened: 0,
    };
    fn is_serialize<T: serde::Serialize>(_: &T) {}
    is_serialize(&m);
    assert_totals_add_up(&m);
}

// ---------------------------------------------------------------------------------------------
// Configuration
// ---------------------------------------------------------------------------------------------

#[test]
fn circuit_breaker_try_new_refuses_out_of_range_config() {
    let base = CircuitBreakerConfig::default();
    let cases: Vec<(CircuitBreakerConfig, &str)> = vec![
        (
            CircuitBreakerConfig {
                failure_threshold: 0,
                ..base
            },
            "failure_threshold",
        ),
        (
            CircuitBreakerConfig {
                failure_threshold: MAX_THRESHOLD + 1,
                ..base
            },
            "failure_threshold",
        ),
        (
            CircuitBreakerConfig {
                success_threshold: 0,
                ..base
            },
            "success_threshold",
        ),
        (
            CircuitBreakerConfig {
                half_open_max_calls: Some(0),
                ..base
            },
            "half_open_max_calls",
        ),
        (
            CircuitBreakerConfig {
                half_open_max_calls: Some(MAX_HALF_OPEN_CALLS + 1),
                ..base
            },
            "half_open_max_calls",
        ),
        (
            CircuitBreakerConfig {
                timeout: Duration::ZERO,
                ..base
            },
            "timeout",
        ),
        (
            CircuitBreakerConfig {
                timeout: Duration::from_millis(MAX_DURATION_MS + 1),
                ..base
            },
            "timeout",
        ),
        (
            CircuitBreakerConfig {
                reset_timeout: Duration::ZERO,
                ..base
            },
            "reset_timeout",
        ),
        (
            CircuitBreakerConfig {
                reset_timeout: Duration::MAX,
                ..base
            },
            "reset_timeout",
        ),
    ];
    for (config, field) in cases {
        let err = CircuitBreaker::try_new("svc", config).unwrap_err();
        assert_eq!(err.field, field, "{config:?}");
        assert_eq!(err.code(), "ERR_OUT_OF_RANGE");
        assert!(err.to_string().starts_with(field), "{err}");
    }

    let err = CircuitBreaker::try_new("", base).unwrap_err();
    assert_eq!(err.field, "name");
    assert_eq!(err.code(), "ERR_INVALID_ARG_VALUE");

    // The edges of every range are accepted.
    let edge = CircuitBreakerConfig {
        failure_threshold: MAX_THRESHOLD,
        success_threshold: 1,
        timeout: Duration::MAX,
        reset_timeout: Duration::from_millis(MAX_DURATION_MS),
        half_open_max_calls: Some(MAX_HALF_OPEN_CALLS),
    };
    let cb = CircuitBreaker::try_new("edge", edge).unwrap();
    assert_eq!(*cb.config(), edge);
}

#[test]
fn circuit_breaker_new_clamps_out_of_range_config() {
    let clock = ManualClock::new();
    let cb = CircuitBreaker::with_clock(
        "clamped",
        CircuitBreakerConfig {
            failure_threshold: 0,
            success_threshold: u32::MAX,
            timeout: Duration::ZERO,
            reset_timeout: Duration::ZERO,
            half_open_max_calls: Some(u32::MAX),
        },
        Arc::new(clock.clone()),
    );
    let c = cb.config();
    assert_eq!(c.failure_threshold, 1);
    assert_eq!(c.success_threshold, MAX_THRESHOLD);
    assert_eq!(c.timeout, Duration::from_millis(1));
    assert_eq!(c.reset_timeout, Duration::from_millis(1));
    assert_eq!(c.half_open_max_calls, Some(MAX_HALF_OPEN_CALLS));
    assert!(c.validate().is_ok());

    // The clamped values are the ones in force.
    fail(&cb);
    assert_eq!(cb.state(), State::Open, "threshold 0 became 1");
    advance_ms(&clock, 1);
    assert!(cb.try_acquire().unwrap().is_probe(), "reset 0 became 1 ms");

    let cb = CircuitBreaker::new("monotonic", CircuitBreakerConfig::default());
    assert_eq!(*cb.config(), CircuitBreakerConfig::default());
}

#[test]
fn circuit_breaker_longest_reset_timeout_never_ends_early() {
    // Regression: an open period ending past 2^48 ms used to wrap around and end at once.
    for reset_timeout in [Duration::from_millis(MAX_DURATION_MS), Duration::MAX] {
        let clock = ManualClock::new();
        clock.set_ms(10_000);
        let cb = CircuitBreaker::with_clock(
            "longest",
            CircuitBreakerConfig {
                reset_timeout,
                ..config(1, 1)
            },
            Arc::new(clock.clone()),
        );
        assert_eq!(
            cb.config().reset_timeout,
            Duration::from_millis(MAX_DURATION_MS)
        );
        trip(&cb, 1);
        for _ in 0..3 {
            advance_ms(&clock, 100 * 365 * 24 * 3600 * 1_000); // a century at a time
            assert!(cb.try_acquire().is_err(), "{reset_timeout:?}");
        }
        assert_eq!(cb.state(), State::Open);
    }
}

// ---------------------------------------------------------------------------------------------
// Registry
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn circuit_breaker_registry_register_replaces() {
    let registry = CircuitBreakerRegistry::new();
    let first = registry.register("api".to_string(), config(1, 1)).await;
    fail(&first);
    assert_eq!(first.state(), State::Open);

    let second = registry.register("api".to_string(), config(3, 1)).await;
    assert!(!Arc::ptr_eq(&first, &second));
    assert_eq!(second.state(), State::Closed, "a fresh breaker");
    assert_eq!(second.config().failure_threshold, 3);
    let got = registry.get("api").await.unwrap();
    assert!(Arc::ptr_eq(&got, &second));
    assert_eq!(registry.len(), 1);
    // The replaced breaker keeps working for whoever holds it.
    assert_eq!(first.state(), State::Open);
}

#[tokio::test]
async fn circuit_breaker_registry_get_returns_none_when_absent() {
    let registry = CircuitBreakerRegistry::new();
    assert!(registry.is_empty());
    assert!(registry.get("nope").await.is_none());
    assert!(registry.lookup("nope").is_none());
}

#[tokio::test]
async fn circuit_breaker_registry_get_or_create_returns_the_same_breaker() {
    let registry = CircuitBreakerRegistry::new();
    let a = registry
        .get_or_create("cache".to_string(), config(2, 1))
        .await;
    let b = registry
        .get_or_create("cache".to_string(), config(9, 9))
        .await;
    assert!(Arc::ptr_eq(&a, &b));
    assert_eq!(b.config().failure_threshold, 2, "the first config is kept");
    assert_eq!(registry.len(), 1);
    let c = registry.lookup_or_insert("cache", config(9, 9));
    assert!(Arc::ptr_eq(&a, &c));
}

#[tokio::test]
async fn circuit_breaker_registry_lists_measures_and_removes() {
    let clock = ManualClock::new();
    let registry = CircuitBreakerRegistry::with_clock(Arc::new(clock.clone()));
    let api = registry.register("api".to_string(), config(1, 1)).await;
    let db = registry
        .register("database".to_string(), config(3, 1))
        .await;
    let _cache = registry
        .get_or_create("cache".to_string(), config(1, 1))
        .await;

    let mut names = registry.list_names().await;
    names.sort();
    assert_eq!(names, ["api", "cache", "database"]);

    succeed(&api);
    fail(&db);
    fail(&api);
    advance_ms(&clock, 50);
    let all = registry.get_all_metrics().await;
    assert_eq!(all.len(), 3);
    assert_eq!(all["api"].successful_calls, 1);
    assert_eq!(all["api"].times_opened, 1);
    assert_eq!(
        all["api"].total_open_time_ms, 50,
        "the registry's clock is used"
    );
    assert_eq!(all["database"].failed_calls, 1);
    assert_eq!(all["cache"], CircuitBreakerMetrics::default());

    let removed = registry.remove("api").unwrap();
    assert!(Arc::ptr_eq(&removed, &api));
    assert!(registry.get("api").await.is_none());
    assert!(registry.remove("api").is_none());
    assert_eq!(registry.len(), 2);
    assert_eq!(
        api.state(),
        State::Open,
        "a removed breaker still works for its holders"
    );

    // Clones share the set.
    let clone = registry.clone();
    clone.insert("extra", config(1, 1));
    assert_eq!(registry.names().len(), 3);
}

#[test]
fn circuit_breaker_registry_try_methods_validate() {
    let registry = CircuitBreakerRegistry::default();
    let bad = CircuitBreakerConfig {
        failure_threshold: 0,
        ..Default::default()
    };
    assert_eq!(
        registry.try_insert("x", bad).unwrap_err().field,
        "failure_threshold"
    );
    assert_eq!(
        registry
            .try_insert("", CircuitBreakerConfig::default())
            .unwrap_err()
            .field,
        "name"
    );
    let ok = registry
        .try_lookup_or_insert("x", CircuitBreakerConfig::default())
        .unwrap();
    // Checked even when the breaker exists.
    assert!(registry.try_lookup_or_insert("x", bad).is_err());
    assert!(Arc::ptr_eq(
        &ok,
        &registry
            .try_lookup_or_insert("x", CircuitBreakerConfig::default())
            .unwrap()
    ));
    assert_eq!(registry.len(), 1);
}

#[tokio::test]
async fn circuit_breaker_registry_global_is_one_instance() {
    let a = CircuitBreakerRegistry::global();
    let b = CircuitBreakerRegistry::global();
    assert!(std::ptr::eq(a, b));
    let name = "circuit_breaker_registry_global_is_one_instance".to_string();
    let cb = a.get_or_create(name.clone(), config(1, 1)).await;
    let from_thread = std::thread::spawn({
        let name = name.clone();
        move || CircuitBreakerRegistry::global().lookup(&name).unwrap()
    })
    .join()
    .unwrap();
    assert!(Arc::ptr_eq(&cb, &from_thread));
    assert!(b.remove(&name).is_some());
}

// ---------------------------------------------------------------------------------------------
// The design document's snippets
// ---------------------------------------------------------------------------------------------

/// Best practice 5, "Handle failures gracefully".
async fn fetch_with_fallback(
    cb: &CircuitBreaker,
    operation: impl Future<Output = anyhow::Result<String>>,
    fallbacks: &AtomicBool,
) -> anyhow::Result<String> {
    fn get_cached_data() -> anyhow::Result<String> {
        Ok("cached".to_string())
    }
    match cb.call(operation).await {
        Ok(result) => Ok(result),
        Err(e) if e.to_string().contains("is OPEN") => {
            // Circuit is open - use fallback
            fallbacks.store(true, Ordering::SeqCst);
            Ok(get_cached_data()?)
        }
        Err(e) => {
            // Actual operation failure
            Err(e)
        }
    }
}

#[tokio::test]
async fn circuit_breaker_design_best_practice_5_fallback_when_open() {
    let (cb, _clock) = breaker(config(2, 1));
    let fell_back = AtomicBool::new(false);

    let live = fetch_with_fallback(&cb, async { Ok("live".to_string()) }, &fell_back).await;
    assert_eq!(live.unwrap(), "live");

    for _ in 0..2 {
        let err = fetch_with_fallback(&cb, async { Err(anyhow::anyhow!("down")) }, &fell_back)
            .await
            .unwrap_err();
        assert_eq!(err.to_string(), "down", "an operation failure is passed on");
    }
    assert!(!fell_back.load(Ordering::SeqCst));

    let cached = fetch_with_fallback(&cb, async { Ok("live".to_string()) }, &fell_back).await;
    assert_eq!(cached.unwrap(), "cached");
    assert!(fell_back.load(Ordering::SeqCst));
}

/// Best practice 1, "Choose appropriate thresholds", and 3, "Monitor circuit state".
#[tokio::test]
async fn circuit_breaker_design_best_practices_1_and_3() {
    let critical = CircuitBreakerConfig {
        failure_threshold: 10,
        success_threshold: 3,
        timeout: Duration::from_secs(5),
        reset_timeout: Duration::from_secs(30),
        ..Default::default()
    };
    let non_critical = CircuitBreakerConfig {
        failure_threshold: 3,
        success_threshold: 2,
        timeout: Duration::from_secs(2),
        reset_timeout: Duration::from_secs(60),
        ..Default::default()
    };
    let mut alerts = Vec::new();
    for (name, config) in [("critical", critical), ("non_critical", non_critical)] {
        let clock = ManualClock::new();
        let cb = CircuitBreaker::try_with_clock(name, config, Arc::new(clock.clone())).unwrap();
        for _ in 0..3 {
            let _ = cb.call(failing_op()).await;
        }
        let state = cb.get_state().await;
        if state.starts_with("OPEN") {
            alerts.push(format!("Circuit {name} is OPEN"));
        }
    }
    assert_eq!(alerts, ["Circuit non_critical is OPEN"]);
}

/// Best practice 4, "Use registry for global management" (`LazyLock` for `once_cell::Lazy`).
static CIRCUIT_BREAKERS: LazyLock<CircuitBreakerRegistry> =
    LazyLock::new(CircuitBreakerRegistry::new);

async fn make_api_call() -> anyhow::Result<u32> {
    let cb = CIRCUIT_BREAKERS
        .get_or_create("api".to_string(), CircuitBreakerConfig::default())
        .await;
    cb.call(async { Ok::<_, anyhow::Error>(200) }).await
}

#[tokio::test]
async fn circuit_breaker_design_best_practice_4_static_registry() {
    assert_eq!(make_api_call().await.unwrap(), 200);
    assert_eq!(make_api_call().await.unwrap(), 200);
    let metrics = CIRCUIT_BREAKERS.get_all_metrics().await;
    assert_eq!(metrics["api"].successful_calls, 2);
}

/// "Accessing metrics" and the end-to-end scenario (5 failures with the default config open).
#[tokio::test]
async fn circuit_breaker_design_metrics_and_end_to_end() {
    let clock = ManualClock::new();
    let cb = CircuitBreaker::with_clock(
        "market_data_api".to_string(),
        CircuitBreakerConfig::default(),
        Arc::new(clock.clone()),
    );
    assert!(cb.call(ok_op(1)).await.is_ok());
    for _ in 0..5 {
        let _ = cb.call(failing_op()).await;
    }
    assert!(cb.get_state().await.starts_with("OPEN"));

    let metrics = cb.get_metrics().await;
    assert_eq!(metrics.total_calls, 6);
    let rate = (metrics.successful_calls as f64 / metrics.total_calls as f64) * 100.0;
    assert_eq!(cb.get_success_rate().await, rate);
    cb.reset_metrics().await;
    assert_eq!(cb.get_metrics().await.total_calls, 0);

    // Default reset timeout: 60 s.
    clock.advance(Duration::from_secs(59));
    assert!(cb.call(ok_op(1)).await.is_err());
    clock.advance(Duration::from_secs(1));
    assert!(cb.call(ok_op(1)).await.is_ok());
    assert!(
        cb.get_state().await.starts_with("HALF_OPEN"),
        "2 successes needed"
    );
    assert!(cb.call(ok_op(1)).await.is_ok());
    assert!(cb.get_state().await.starts_with("CLOSED"));
}

#[test]
fn circuit_breaker_debug_and_display() {
    let (cb, clock) = breaker(config(1, 1));
    let debug = format!("{cb:?}");
    assert!(
        debug.contains("\"svc\"") && debug.contains("Closed"),
        "{debug}"
    );
    assert_eq!(State::HalfOpen.to_string(), "HALF_OPEN");
    assert_eq!(State::Open.as_str(), "OPEN");
    assert_eq!(clock.now_ms(), 10_000);
}

#[test]
fn circuit_breaker_manual_clock_never_goes_backwards() {
    let clock = ManualClock::new();
    clock.set_ms(500);
    clock.set_ms(100);
    assert_eq!(clock.now_ms(), 500);
    clock.advance(Duration::from_micros(2_999));
    assert_eq!(clock.now_ms(), 502, "rounded down to whole milliseconds");
    clock.advance(Duration::MAX);
    assert_eq!(clock.now_ms(), u64::MAX, "saturates");
}

mod classification {
    use std::sync::Arc;
    use std::time::Duration;

    use neural_trader_resilience::{
        CallError, CircuitBreaker, CircuitBreakerConfig, CircuitBreakerError, ManualClock, Outcome,
        State,
    };

    fn breaker(failures: u32) -> (CircuitBreaker, ManualClock) {
        let clock = ManualClock::new();
        let cb = CircuitBreaker::with_clock(
            "classified",
            CircuitBreakerConfig {
                failure_threshold: failures,
                success_threshold: 1,
                reset_timeout: Duration::from_secs(30),
                ..Default::default()
            },
            Arc::new(clock.clone()),
        );
        (cb, clock)
    }

    #[tokio::test]
    async fn circuit_breaker_ignored_outcomes_neither_trip_nor_reset() {
        let (cb, _clock) = breaker(2);
        cb.try_acquire().unwrap().failure();
        for _ in 0..10 {
            let r = cb
                .execute_with(async { Err::<(), _>("404") }, None, |_| Outcome::Ignored)
                .await;
            assert!(matches!(r, Err(CallError::Operation("404"))));
        }
        assert_eq!(cb.state(), State::Closed);
        // The failure before the ignored calls still counts: one more opens the circuit.
        cb.try_acquire().unwrap().failure();
        assert_eq!(cb.state(), State::Open);
        let m = cb.metrics();
        assert_eq!((m.ignored_calls, m.failed_calls), (10, 2));
        assert_eq!(
            m.total_calls,
            m.successful_calls + m.failed_calls + m.rejected_calls + m.ignored_calls
        );
    }

    #[tokio::test]
    async fn circuit_breaker_ignored_probe_gives_its_slot_back() {
        let (cb, clock) = breaker(1);
        cb.try_acquire().unwrap().failure();
        clock.advance(Duration::from_secs(30));
        let probe = cb.try_acquire().unwrap();
        assert!(probe.is_probe());
        assert!(cb.try_acquire().is_err(), "one probe at a time");
        probe.finish(Outcome::Ignored);
        assert_eq!(cb.state(), State::HalfOpen);
        cb.try_acquire().unwrap().success();
        assert_eq!(cb.state(), State::Closed);
    }

    #[tokio::test]
    async fn circuit_breaker_retry_after_keeps_the_circuit_open_longer_than_reset_timeout() {
        let (cb, clock) = breaker(1);
        cb.try_acquire()
            .unwrap()
            .finish(Outcome::FailureRetryAfter(Duration::from_secs(120)));
        assert_eq!(cb.state(), State::Open);
        clock.advance(Duration::from_secs(30));
        assert!(
            cb.try_acquire().is_err(),
            "reset timeout passed, Retry-After not yet"
        );
        clock.advance(Duration::from_secs(89));
        assert!(cb.try_acquire().is_err());
        clock.advance(Duration::from_secs(1));
        assert!(cb.try_acquire().unwrap().is_probe());
    }

    #[tokio::test]
    async fn circuit_breaker_retry_after_shorter_than_reset_timeout_changes_nothing() {
        let (cb, clock) = breaker(1);
        cb.try_acquire()
            .unwrap()
            .finish(Outcome::FailureRetryAfter(Duration::from_secs(1)));
        clock.advance(Duration::from_secs(29));
        assert!(cb.try_acquire().is_err());
        clock.advance(Duration::from_secs(1));
        assert!(cb.try_acquire().unwrap().is_probe());
    }

    #[tokio::test]
    async fn circuit_breaker_retry_after_arriving_while_open_extends_the_open_period() {
        let (cb, clock) = breaker(1);
        let late = cb.try_acquire().unwrap();
        cb.try_acquire().unwrap().failure(); // opens; reset at 30 s
        clock.advance(Duration::from_secs(10));
        late.finish(Outcome::FailureRetryAfter(Duration::from_secs(60))); // until 70 s
        clock.advance(Duration::from_secs(25));
        assert!(
            cb.try_acquire().is_err(),
            "35 s: extended past the 30 s reset"
        );
        clock.advance(Duration::from_secs(35));
        assert!(cb.try_acquire().unwrap().is_probe(), "70 s: over");
    }

    #[tokio::test(start_paused = true)]
    async fn circuit_breaker_per_call_timeout_overrides_the_config() {
        let (cb, _clock) = breaker(5);
        let r = cb
            .execute_with(
                async {
                    tokio::time::sleep(Duration::from_secs(5)).await;
                    Ok::<_, ()>(())
                },
                Some(Duration::from_secs(1)),
                |_| Outcome::Success,
            )
            .await;
        match r {
            Err(CallError::Breaker(CircuitBreakerError::Timeout { timeout, .. })) => {
                assert_eq!(timeout, Duration::from_secs(1))
            }
            other => panic!("expected a timeout, got {other:?}"),
        }
        assert_eq!(cb.metrics().failed_calls, 1);
    }
}

#[test]
fn circuit_breaker_registry_adopts_an_existing_breaker() {
    use std::sync::Arc;
    let registry = neural_trader_resilience::CircuitBreakerRegistry::new();
    let cb = Arc::new(neural_trader_resilience::CircuitBreaker::new(
        "adopted",
        neural_trader_resilience::CircuitBreakerConfig::default(),
    ));
    registry.adopt(Arc::clone(&cb));
    assert!(Arc::ptr_eq(&registry.lookup("adopted").unwrap(), &cb));
    cb.try_acquire().unwrap().success();
    assert_eq!(registry.all_metrics()["adopted"].successful_calls, 1);
}
