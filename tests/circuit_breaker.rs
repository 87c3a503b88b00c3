//! The original design's Rust snippets (`ARCHITECTURE.md`, "The original design"), through the
//! path it uses
//! (`neural_trader_napi::resilience`). Run with `cargo test -p neural-trader-napi circuit_breaker`.

use std::sync::{Arc, LazyLock};
use std::time::Duration;

use neural_trader_napi::resilience::{
    CircuitBreaker, CircuitBreakerConfig, CircuitBreakerError, CircuitBreakerRegistry, ManualClock,
};

#[tokio::test]
async fn circuit_breaker_basic_usage() {
    let cb = CircuitBreaker::new("my_service".to_string(), CircuitBreakerConfig::default());

    // Execute operation through circuit breaker
    let result = cb
        .call(async {
            // Your operation here
            Ok::<i32, anyhow::Error>(42)
        })
        .await;

    match result {
        Ok(value) => assert_eq!(value, 42),
        Err(e) => panic!("Failed: {}", e),
    }
}

#[test]
fn circuit_breaker_default_configuration() {
    let c = CircuitBreakerConfig::default();
    assert_eq!(
        (
            c.failure_threshold,
            c.success_threshold,
            c.timeout,
            c.reset_timeout
        ),
        (5, 2, Duration::from_secs(30), Duration::from_secs(60))
    );
}

#[tokio::test]
async fn circuit_breaker_registry() {
    let registry = CircuitBreakerRegistry::new();

    // Register circuit breakers
    let api_cb = registry
        .register("api".to_string(), CircuitBreakerConfig::default())
        .await;

    let db_cb = registry
        .register(
            "database".to_string(),
            CircuitBreakerConfig {
                failure_threshold: 3,
                ..Default::default()
            },
        )
        .await;
    assert_eq!(db_cb.config().failure_threshold, 3);

    // Get existing circuit breaker
    if let Some(cb) = registry.get("api").await {
        let result = cb.call(async { Ok::<_, anyhow::Error>(()) }).await;
        assert!(result.is_ok());
    }
    assert!(registry.get("nope").await.is_none());

    // Get or create
    let cb = registry
        .get_or_create("cache".to_string(), CircuitBreakerConfig::default())
        .await;
    let again = registry
        .get_or_create("cache".to_string(), CircuitBreakerConfig::default())
        .await;
    assert!(Arc::ptr_eq(&cb, &again));

    // List all circuit breakers
    let mut names = registry.list_names().await;
    names.sort();
    assert_eq!(names, ["api", "cache", "database"]);

    // Get all metrics
    let all_metrics = registry.get_all_metrics().await;
    assert_eq!(all_metrics["api"].successful_calls, 1);
    assert_eq!(api_cb.get_metrics().await.total_calls, 1);
}

#[tokio::test]
async fn circuit_breaker_metrics() {
    let cb = CircuitBreaker::new("metrics".to_string(), CircuitBreakerConfig::default());
    for i in 0..4 {
        let _ = cb
            .call(async move {
                if i == 0 {
                    Err(anyhow::anyhow!("one failure"))
                } else {
                    Ok(i)
                }
            })
            .await;
    }

    // Get current metrics
    let metrics = cb.get_metrics().await;
    assert_eq!(metrics.total_calls, 4);
    let rate = (metrics.successful_calls as f64 / metrics.total_calls as f64) * 100.0;

    // Get success rate directly
    let success_rate = cb.get_success_rate().await;
    assert_eq!(success_rate, rate);
    assert_eq!(success_rate, 75.0);

    // Reset metrics
    cb.reset_metrics().await;
    assert_eq!(cb.get_metrics().await.total_calls, 0);
}

#[tokio::test]
async fn circuit_breaker_best_practices_thresholds_and_state() {
    // For critical services - more tolerant
    let critical = CircuitBreakerConfig {
        failure_threshold: 10,
        success_threshold: 3,
        timeout: Duration::from_secs(5),
        reset_timeout: Duration::from_secs(30),
        ..Default::default()
    };
    // For non-critical services - fail faster
    let non_critical = CircuitBreakerConfig {
        failure_threshold: 3,
        success_threshold: 2,
        timeout: Duration::from_secs(2),
        reset_timeout: Duration::from_secs(60),
        ..Default::default()
    };
    assert!(critical.validate().is_ok() && non_critical.validate().is_ok());

    let cb = CircuitBreaker::new("non_critical".to_string(), non_critical);
    for _ in 0..3 {
        let _ = cb
            .call(async { Err::<(), _>(anyhow::anyhow!("down")) })
            .await;
    }
    // Alert on open circuits
    let state = cb.get_state().await;
    assert!(state.starts_with("OPEN"));
}

// Centralized registry
static CIRCUIT_BREAKERS: LazyLock<CircuitBreakerRegistry> =
    LazyLock::new(CircuitBreakerRegistry::new);

async fn make_api_call() -> anyhow::Result<u32> {
    let cb = CIRCUIT_BREAKERS
        .get_or_create("api".to_string(), CircuitBreakerConfig::default())
        .await;

    cb.call(async { Ok::<_, anyhow::Error>(7) }).await
}

#[tokio::test]
async fn circuit_breaker_global_registry() {
    assert_eq!(make_api_call().await.unwrap(), 7);
    assert_eq!(make_api_call().await.unwrap(), 7);
    assert_eq!(
        CIRCUIT_BREAKERS
            .get("api")
            .await
            .unwrap()
            .metrics()
            .successful_calls,
        2
    );
}

fn get_cached_data() -> anyhow::Result<&'static str> {
    Ok("cached")
}

async fn with_fallback(cb: &CircuitBreaker, fail: bool) -> anyhow::Result<&'static str> {
    let operation = async move {
        if fail {
            Err(anyhow::anyhow!("upstream error"))
        } else {
            Ok("fresh")
        }
    };
    match cb.call(operation).await {
        Ok(result) => Ok(result),
        Err(e) if e.to_string().contains("is OPEN") => {
            // Circuit is open - use fallback
            Ok(get_cached_data()?)
        }
        Err(e) => {
            // Actual operation failure
            Err(e)
        }
    }
}

#[tokio::test]
async fn circuit_breaker_handle_failures_gracefully() {
    let clock = ManualClock::new();
    let cb = CircuitBreaker::with_clock(
        "graceful",
        CircuitBreakerConfig {
            failure_threshold: 2,
            success_threshold: 1,
            ..Default::default()
        },
        Arc::new(clock.clone()),
    );
    assert_eq!(with_fallback(&cb, false).await.unwrap(), "fresh");
    assert!(with_fallback(&cb, true).await.is_err());
    assert!(with_fallback(&cb, true).await.is_err());
    assert_eq!(with_fallback(&cb, false).await.unwrap(), "cached");

    let err = cb
        .call(async { Ok::<_, anyhow::Error>(1) })
        .await
        .unwrap_err();
    let typed = err.downcast_ref::<CircuitBreakerError>().unwrap();
    assert!(typed.is_open());

    // After the reset timeout, one successful probe closes it again.
    clock.advance(Duration::from_secs(60));
    assert_eq!(with_fallback(&cb, false).await.unwrap(), "fresh");
    assert_eq!(cb.get_state().await, "CLOSED");
    let m = cb.get_metrics().await;
    assert_eq!((m.times_opened, m.times_half_opened), (1, 1));
    assert_eq!(m.total_open_time_ms, 60_000);
}

#[tokio::test(start_paused = true)]
async fn circuit_breaker_timeout_is_a_typed_failure() {
    let cb = CircuitBreaker::new(
        "slow".to_string(),
        CircuitBreakerConfig {
            timeout: Duration::from_secs(2),
            ..Default::default()
        },
    );
    let err = cb
        .call(async {
            tokio::time::sleep(Duration::from_secs(10)).await;
            Ok::<_, anyhow::Error>(())
        })
        .await
        .unwrap_err();
    let typed = err.downcast_ref::<CircuitBreakerError>().unwrap();
    assert_eq!(typed.code(), "ERR_CIRCUIT_TIMEOUT");
    assert_eq!(cb.get_metrics().await.failed_calls, 1);
}
