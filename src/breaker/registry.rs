//! The `CircuitBreakerRegistry` class.

use napi::bindgen_prelude::{JsObjectValue, Object};
use napi::{Env, JsValue, Property, Result, Unknown};
use napi_derive::napi;
use neural_trader_resilience as core;

use super::class::read_config;
use super::{CircuitBreaker, CircuitBreakerMetrics};
use crate::js::options::read_name;
use crate::js::Arg;

/// Breakers by name. `CircuitBreakerRegistry.global()` is the process-wide registry: every
/// worker thread that asks it for a name gets the same breaker.
#[napi]
pub struct CircuitBreakerRegistry {
    inner: core::CircuitBreakerRegistry,
}

impl CircuitBreakerRegistry {
    /// Wraps a client built elsewhere (by the trading system, say).
    pub(crate) fn wrap(inner: core::CircuitBreakerRegistry) -> Self {
        Self { inner }
    }
}

#[napi]
impl CircuitBreakerRegistry {
    /// A new, empty, private registry.
    #[napi(constructor)]
    pub fn new() -> Self {
        Self {
            inner: core::CircuitBreakerRegistry::new(),
        }
    }

    /// The process-wide registry, shared by every worker thread.
    #[napi(factory)]
    pub fn global() -> Self {
        Self {
            inner: core::CircuitBreakerRegistry::global().clone(),
        }
    }

    /// Creates a breaker under `name`, replacing any breaker registered under that name.
    #[napi(ts_args_type = "name: string, options?: CircuitBreakerOptions")]
    pub fn register(&self, env: Env, name: Arg, options: Arg) -> Result<CircuitBreaker> {
        let name = read_name(&env, name)?;
        let config = read_config(&env, options)?;
        Ok(CircuitBreaker::wrap(self.inner.insert(name, config)))
    }

    /// The breaker registered under `name`, or `null`.
    #[napi(ts_args_type = "name: string")]
    pub fn get(&self, env: Env, name: Arg) -> Result<Option<CircuitBreaker>> {
        let name = read_name(&env, name)?;
        Ok(self.inner.lookup(&name).map(CircuitBreaker::wrap))
    }

    /// The breaker under `name`, created with `options` if there is none (an existing breaker
    /// keeps its options; the given ones are still checked).
    #[napi(ts_args_type = "name: string, options?: CircuitBreakerOptions")]
    pub fn get_or_create(&self, env: Env, name: Arg, options: Arg) -> Result<CircuitBreaker> {
        let name = read_name(&env, name)?;
        let config = read_config(&env, options)?;
        Ok(CircuitBreaker::wrap(
            self.inner.lookup_or_insert(name, config),
        ))
    }

    /// Removes the breaker under `name`; returns whether there was one. Holders of the breaker
    /// keep a working breaker.
    #[napi(ts_args_type = "name: string")]
    pub fn remove(&self, env: Env, name: Arg) -> Result<bool> {
        let name = read_name(&env, name)?;
        Ok(self.inner.remove(&name).is_some())
    }

    /// Removes every breaker; returns how many there were. For tests: `afterEach(() =>
    /// CircuitBreakerRegistry.global().clear())` keeps one test file's breakers (an OPEN one,
    /// say) from the next. Holders of a removed breaker keep a working breaker.
    #[napi]
    pub fn clear(&self) -> u32 {
        u32::try_from(self.inner.clear()).unwrap_or(u32::MAX)
    }

    /// The registered names, sorted as JavaScript's `Array.prototype.sort` would.
    #[napi]
    pub fn list_names(&self) -> Vec<String> {
        let mut names = self.inner.names();
        names.sort_by(|a, b| a.encode_utf16().cmp(b.encode_utf16()));
        names
    }

    /// Metrics of every registered breaker, by name.
    #[napi(ts_return_type = "Record<string, CircuitBreakerMetrics>")]
    pub fn get_all_metrics<'e>(&self, env: &'e Env) -> Result<Unknown<'e>> {
        // Own data properties, defined rather than assigned, so that any name (`__proto__`
        // included) becomes a key.
        let mut properties = Vec::new();
        for (name, metrics) in self.inner.all_metrics() {
            let property = Property::new().with_name(env, name)?;
            properties.push(property.with_napi_value(env, CircuitBreakerMetrics::from(metrics))?);
        }
        let mut object = Object::new(env)?;
        object.define_properties(&properties)?;
        Ok(object.to_unknown())
    }

    /// The number of registered breakers.
    #[napi(getter)]
    pub fn size(&self) -> u32 {
        u32::try_from(self.inner.len()).unwrap_or(u32::MAX)
    }
}

impl Default for CircuitBreakerRegistry {
    fn default() -> Self {
        Self::new()
    }
}
