//! How the operation's result is classified: ignored outcomes, `Retry-After` failures and a
//! per-call timeout (`execute_with`).

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
