//! Out-of-range configurations: refused by the fallible constructors, clamped by the others.
//!
//! Helpers and conventions: see `common/mod.rs`.

mod common;

use std::sync::Arc;
use std::time::Duration;

use neural_trader_resilience::{
    CircuitBreaker, CircuitBreakerConfig, ManualClock, State, MAX_DURATION_MS, MAX_HALF_OPEN_CALLS,
    MAX_THRESHOLD,
};

use common::{advance_ms, config, fail, trip};

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
        stack_trace: true,
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
            stack_trace: true,
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
