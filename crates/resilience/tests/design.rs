//! The original design's snippets (`ARCHITECTURE.md`, "The original design"), run as they are
//! written there.
//!
//! Helpers and conventions: see `common/mod.rs`.

mod common;

use std::future::Future;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, LazyLock};
use std::time::Duration;

use neural_trader_resilience::{
    CircuitBreaker, CircuitBreakerConfig, CircuitBreakerRegistry, ManualClock,
};

use common::{breaker, config, failing_op, ok_op};

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
