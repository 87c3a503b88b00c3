//! The `CircuitBreaker` class.
//!
//! `call(fn)` is not a method of this class: it runs in JavaScript (`lib/call.js`) and reads the
//! breaker's state from memory shared with Rust (see `fast_path.rs`), so a call through a closed
//! circuit never crosses into native code. Its typing comes from `dts-header.d.ts`.

use std::sync::Arc;

use napi::bindgen_prelude::External;
use napi::{Env, Result};
use napi_derive::napi;
use neural_trader_resilience as core;

use super::fast_path::BreakerHandle;
use super::{CircuitBreakerMetrics, CircuitBreakerOptions};
use crate::js::errors::OrThrow;
use crate::js::options::{self, read_name};
use crate::js::Arg;

/// A circuit breaker (CLOSED / OPEN / HALF_OPEN) whose state lives in Rust and is shared by every
/// worker thread that holds it. Wrap async calls with `call(fn)`.
#[napi]
pub struct CircuitBreaker {
    pub(crate) inner: Arc<core::CircuitBreaker>,
}

impl CircuitBreaker {
    pub(crate) fn wrap(inner: Arc<core::CircuitBreaker>) -> Self {
        Self { inner }
    }
}

#[napi]
impl CircuitBreaker {
    /// Creates a breaker. Throws `TypeError` (`ERR_INVALID_ARG_TYPE`, `ERR_INVALID_ARG_VALUE`)
    /// or `RangeError` (`ERR_OUT_OF_RANGE`) for a bad name or options.
    #[napi(
        constructor,
        ts_args_type = "name: string, options?: CircuitBreakerOptions"
    )]
    pub fn new(env: Env, name: Arg, options: Arg) -> Result<Self> {
        let name = read_name(&env, name)?;
        Ok(Self::wrap(Arc::new(core::CircuitBreaker::new(
            name,
            read_config(&env, options)?,
        ))))
    }

    /// The breaker's name.
    #[napi(getter)]
    pub fn name(&self) -> String {
        self.inner.name().to_string()
    }

    /// The current state. An open circuit whose reset timeout has passed reads `'OPEN'` until the
    /// next call half-opens it.
    #[napi(getter, ts_return_type = "'CLOSED' | 'OPEN' | 'HALF_OPEN'")]
    pub fn state(&self) -> &'static str {
        self.inner.state().as_str()
    }

    /// The options in force, with every default filled in.
    #[napi(getter)]
    pub fn options(&self) -> CircuitBreakerOptions {
        self.inner.config().into()
    }

    /// The current state (same as the `state` getter).
    #[napi(ts_return_type = "'CLOSED' | 'OPEN' | 'HALF_OPEN'")]
    pub fn get_state(&self) -> &'static str {
        self.inner.state().as_str()
    }

    /// A snapshot of the counters, including calls made from every worker thread.
    #[napi]
    pub fn get_metrics(&self) -> CircuitBreakerMetrics {
        self.inner.metrics().into()
    }

    /// Successful calls as a percentage of all calls (100 when there were none).
    #[napi]
    pub fn get_success_rate(&self) -> f64 {
        self.inner.success_rate()
    }

    /// Sets every counter to zero; the state is kept.
    #[napi]
    pub fn reset_metrics(&self) {
        self.inner.clear_metrics()
    }

    /// A number that identifies the Rust breaker while any JS object of it lives (its address):
    /// `lib/identity.js` keeps one JS object per breaker with it.
    #[napi(skip_typescript, js_name = "__key")]
    pub fn key(&self) -> f64 {
        Arc::as_ptr(&self.inner) as usize as f64
    }

    /// The handle `lib/call.js` uses for the per-call path.
    #[napi(skip_typescript, js_name = "__handle")]
    pub fn handle(&self) -> External<BreakerHandle> {
        External::new(BreakerHandle(Arc::clone(&self.inner)))
    }
}

/// Reads a breaker's options argument into the core's config.
pub(crate) fn read_config(env: &Env, options: Arg) -> Result<core::CircuitBreakerConfig> {
    let options: CircuitBreakerOptions = options::read(env, "options", options)?;
    options.config(Default::default()).or_throw(env)
}
