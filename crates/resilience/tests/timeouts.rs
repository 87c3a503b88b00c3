//! The per-call deadline: on a paused Tokio runtime, or with no runtime at all.
//!
//! Helpers and conventions: see `common/mod.rs`.

mod common;

use std::pin::pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::task::Poll;
use std::time::Duration;

use neural_trader_resilience::{CircuitBreakerConfig, CircuitBreakerError, State};

use common::{advance_ms, breaker, config, ok_op, poll_once, trip, RESET_MS};

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
