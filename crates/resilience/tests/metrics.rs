//! Counters, open time and their reset.
//!
//! Helpers and conventions: see `common/mod.rs`.

mod common;

use neural_trader_resilience::{CircuitBreakerMetrics, State};

use common::{
    advance_ms, assert_totals_add_up, breaker, config, fail, failing_op, ok_op, succeed, trip,
    RESET_MS,
};

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
