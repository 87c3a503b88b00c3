//! Named breakers in a registry.
//!
//! Helpers and conventions: see `common/mod.rs`.

mod common;

use std::sync::Arc;

use neural_trader_resilience::{
    CircuitBreakerConfig, CircuitBreakerMetrics, CircuitBreakerRegistry, ManualClock, State,
};

use common::{advance_ms, config, fail, succeed};

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

#[test]
fn circuit_breaker_registry_clear_removes_every_breaker_and_holders_keep_theirs() {
    let registry = neural_trader_resilience::CircuitBreakerRegistry::new();
    let a = registry.lookup_or_insert("a", config(1, 1));
    registry.lookup_or_insert("b", config(1, 1));
    fail(&a);
    assert_eq!(registry.clear(), 2);
    assert!(registry.is_empty());
    assert!(registry.lookup("a").is_none());
    assert_eq!(a.state(), State::Open, "a holder keeps a working breaker");
    let fresh = registry.lookup_or_insert("a", config(1, 1));
    assert!(!Arc::ptr_eq(&fresh, &a));
    assert_eq!(fresh.state(), State::Closed);
    assert_eq!(registry.clear(), 1);
    assert_eq!(registry.clear(), 0);
}
