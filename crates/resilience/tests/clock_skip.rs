//! `MonotonicClock::skip`: moving every default clock forward, as the Node binding does when a
//! test's fake timers advance. In a test binary of its own, as it moves time for the whole process.

use std::time::Duration;

use neural_trader_resilience::{
    CircuitBreaker, CircuitBreakerConfig, Clock, MonotonicClock, State,
};

#[test]
fn circuit_breaker_skip_ends_the_open_period_of_breakers_on_the_default_clock() {
    let cb = CircuitBreaker::new(
        "skip",
        CircuitBreakerConfig {
            failure_threshold: 1,
            success_threshold: 1,
            reset_timeout: Duration::from_secs(60),
            ..Default::default()
        },
    );
    cb.try_acquire().expect("closed").failure();
    assert_eq!(cb.state(), State::Open);
    assert!(cb.try_acquire().is_err(), "still open before the skip");

    let before = MonotonicClock.now_ms();
    MonotonicClock::skip(Duration::from_millis(60_001));
    assert!(MonotonicClock.now_ms() >= before + 60_001);
    assert_eq!(MonotonicClock::skipped(), Duration::from_millis(60_001));

    let probe = cb.try_acquire().expect("the skip ended the open period");
    assert!(probe.is_probe());
    probe.success();
    assert_eq!(cb.state(), State::Closed);
}
