//! Named breakers: private registries and the one process-wide registry.

use std::collections::HashMap;
use std::sync::{Arc, OnceLock};

use parking_lot::RwLock;

use crate::breaker::CircuitBreaker;
use crate::clock::{Clock, MonotonicClock};
use crate::config::{validate_name, CircuitBreakerConfig, ConfigError};
use crate::metrics::CircuitBreakerMetrics;

type Breakers = HashMap<Arc<str>, Arc<CircuitBreaker>>;

/// A set of breakers by name. Clones share the same set.
///
/// The registry is not on the call path: look a breaker up once and keep the `Arc`.
///
/// ```
/// use neural_trader_resilience::{CircuitBreakerConfig, CircuitBreakerRegistry};
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() {
/// let registry = CircuitBreakerRegistry::new();
/// let api_cb = registry.register("api".to_string(), CircuitBreakerConfig::default()).await;
/// let db_cb = registry
///     .register(
///         "database".to_string(),
///         CircuitBreakerConfig { failure_threshold: 3, ..Default::default() },
///     )
///     .await;
/// if let Some(cb) = registry.get("api").await {
///     let _ = cb.call(async { Ok::<_, anyhow::Error>(()) }).await;
/// }
/// let cache = registry.get_or_create("cache".to_string(), CircuitBreakerConfig::default()).await;
/// let mut names = registry.list_names().await;
/// names.sort();
/// assert_eq!(names, ["api", "cache", "database"]);
/// let all = registry.get_all_metrics().await;
/// assert_eq!(all["api"].successful_calls, 1);
/// # let _ = (api_cb, db_cb, cache);
/// # }
/// ```
#[derive(Clone, Debug)]
pub struct CircuitBreakerRegistry {
    breakers: Arc<RwLock<Breakers>>,
    clock: Arc<dyn Clock>,
}

impl Default for CircuitBreakerRegistry {
    fn default() -> Self {
        Self::new()
    }
}

impl CircuitBreakerRegistry {
    /// An empty registry whose breakers use the monotonic clock.
    pub fn new() -> Self {
        Self::with_clock(Arc::new(MonotonicClock))
    }

    /// An empty registry whose breakers read time from `clock`.
    pub fn with_clock(clock: Arc<dyn Clock>) -> Self {
        Self {
            breakers: Arc::default(),
            clock,
        }
    }

    /// The process-wide registry: every thread (and every Node.js worker) that asks for a name
    /// here gets the same breaker.
    pub fn global() -> &'static CircuitBreakerRegistry {
        static GLOBAL: OnceLock<CircuitBreakerRegistry> = OnceLock::new();
        GLOBAL.get_or_init(CircuitBreakerRegistry::new)
    }

    fn build(&self, name: Arc<str>, config: CircuitBreakerConfig) -> Arc<CircuitBreaker> {
        Arc::new(CircuitBreaker::with_clock(
            name,
            config,
            Arc::clone(&self.clock),
        ))
    }

    /// Creates a breaker under `name`, replacing (and returning a new breaker instead of) any
    /// breaker registered under that name before. The config is clamped into range.
    pub fn insert(
        &self,
        name: impl Into<Arc<str>>,
        config: CircuitBreakerConfig,
    ) -> Arc<CircuitBreaker> {
        let name = name.into();
        let cb = self.build(Arc::clone(&name), config);
        self.breakers.write().insert(name, Arc::clone(&cb));
        cb
    }

    /// Registers an existing breaker under its own name, replacing any breaker registered under
    /// that name before (for clients that build their breaker themselves and are grouped
    /// later, like the trading system's).
    pub fn adopt(&self, breaker: Arc<CircuitBreaker>) -> Arc<CircuitBreaker> {
        let name: Arc<str> = Arc::from(breaker.name());
        self.breakers.write().insert(name, Arc::clone(&breaker));
        breaker
    }

    /// Like [`CircuitBreakerRegistry::insert`], refusing an empty name or an invalid config.
    pub fn try_insert(
        &self,
        name: impl Into<Arc<str>>,
        config: CircuitBreakerConfig,
    ) -> Result<Arc<CircuitBreaker>, ConfigError> {
        let name = name.into();
        validate_name(&name)?;
        config.validate()?;
        Ok(self.insert(name, config))
    }

    /// The breaker registered under `name`.
    pub fn lookup(&self, name: &str) -> Option<Arc<CircuitBreaker>> {
        self.breakers.read().get(name).cloned()
    }

    /// The breaker under `name`, created with `config` if there is none (an existing breaker
    /// keeps its own config).
    pub fn lookup_or_insert(
        &self,
        name: impl Into<Arc<str>>,
        config: CircuitBreakerConfig,
    ) -> Arc<CircuitBreaker> {
        let name = name.into();
        if let Some(cb) = self.lookup(&name) {
            return cb;
        }
        let mut breakers = self.breakers.write();
        Arc::clone(
            breakers
                .entry(Arc::clone(&name))
                .or_insert_with(|| self.build(name, config)),
        )
    }

    /// Like [`CircuitBreakerRegistry::lookup_or_insert`], refusing an empty name or an invalid
    /// config (checked even when the breaker exists, so a bad call never passes silently).
    pub fn try_lookup_or_insert(
        &self,
        name: impl Into<Arc<str>>,
        config: CircuitBreakerConfig,
    ) -> Result<Arc<CircuitBreaker>, ConfigError> {
        let name = name.into();
        validate_name(&name)?;
        config.validate()?;
        Ok(self.lookup_or_insert(name, config))
    }

    /// Removes the breaker under `name`; holders of its `Arc` keep a working breaker.
    pub fn remove(&self, name: &str) -> Option<Arc<CircuitBreaker>> {
        self.breakers.write().remove(name)
    }

    /// Removes every breaker and returns how many there were (for tests: a clean global
    /// registry between test files). Holders of a removed breaker keep a working breaker.
    pub fn clear(&self) -> usize {
        let removed = std::mem::take(&mut *self.breakers.write());
        removed.len()
    }

    /// The registered names, in no particular order.
    pub fn names(&self) -> Vec<String> {
        self.breakers.read().keys().map(|k| k.to_string()).collect()
    }

    /// The number of registered breakers.
    pub fn len(&self) -> usize {
        self.breakers.read().len()
    }

    /// Whether no breaker is registered.
    pub fn is_empty(&self) -> bool {
        self.breakers.read().is_empty()
    }

    /// Metrics of every registered breaker, by name.
    pub fn all_metrics(&self) -> HashMap<String, CircuitBreakerMetrics> {
        self.breakers
            .read()
            .iter()
            .map(|(name, cb)| (name.to_string(), cb.metrics()))
            .collect()
    }

    /// Creates a breaker under `name`, replacing any earlier one (see
    /// [`CircuitBreakerRegistry::insert`]).
    pub async fn register(
        &self,
        name: String,
        config: CircuitBreakerConfig,
    ) -> Arc<CircuitBreaker> {
        self.insert(name, config)
    }

    /// The breaker registered under `name`.
    pub async fn get(&self, name: &str) -> Option<Arc<CircuitBreaker>> {
        self.lookup(name)
    }

    /// The breaker under `name`, created with `config` if there is none.
    pub async fn get_or_create(
        &self,
        name: String,
        config: CircuitBreakerConfig,
    ) -> Arc<CircuitBreaker> {
        self.lookup_or_insert(name, config)
    }

    /// The registered names.
    pub async fn list_names(&self) -> Vec<String> {
        self.names()
    }

    /// Metrics of every registered breaker, by name.
    pub async fn get_all_metrics(&self) -> HashMap<String, CircuitBreakerMetrics> {
        self.all_metrics()
    }
}
