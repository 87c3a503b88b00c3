//! The breaker's errors and the operation's errors, kept apart, and what errors, states and
//! breakers print.
//!
//! Helpers and conventions: see `common/mod.rs`.

mod common;

use neural_trader_resilience::{CircuitBreakerError, Clock, Rejected, State};

use common::{breaker, config};

#[test]
fn circuit_breaker_rejected_error_displays() {
    assert_eq!(Rejected.to_string(), "circuit breaker rejected the call");
}

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
