//! The circuit breaker's options, declared once: the typings, the reader and the unknown-key
//! check all come from this declaration; the ranges are the core's
//! (`CircuitBreakerConfig::validate`). Every domain breaker takes these options too.

use std::time::Duration;

use napi::bindgen_prelude::Either;
use napi_derive::napi;
use neural_trader_binding_derive::OptionSet;
use neural_trader_resilience::{
    validate_duration, CircuitBreakerConfig, ConfigError, MAX_DURATION_MS,
};

use crate::js::options::{given, Merge, ToField};

/// Options of a circuit breaker. Durations are in milliseconds.
#[napi(object, object_from_js = false)]
#[derive(Default, OptionSet)]
#[option_set(what = "a circuit breaker option", into = CircuitBreakerConfig)]
pub struct CircuitBreakerOptions {
    /// Consecutive failures that open the circuit (default 5).
    pub failure_threshold: Option<f64>,
    /// Consecutive successes in half-open that close the circuit (default 2).
    pub success_threshold: Option<f64>,
    /// Deadline of each call in ms (default 30000); `false` disables it.
    #[napi(ts_type = "number | false")]
    pub timeout: Option<Either<f64, bool>>,
    /// How long the circuit stays open before a probe is let through, in ms (default 60000).
    pub reset_timeout: Option<f64>,
    /// Probe calls admitted at once while half-open (default: `successThreshold`).
    pub half_open_max_calls: Option<f64>,
    /// Whether a `CircuitOpenError` carries a stack that starts at the caller of `call` (default
    /// true); `false` where open-circuit rejections are hot (a stack is most of their cost).
    pub stack_trace: Option<bool>,
}

impl CircuitBreakerOptions {
    /// `base` with the options given here, checked by the core.
    pub(crate) fn config(
        &self,
        mut base: CircuitBreakerConfig,
    ) -> Result<CircuitBreakerConfig, ConfigError> {
        self.merge(&mut base);
        base.validate().map_err(|e| given(e, self))?;
        Ok(base)
    }
}

impl From<&CircuitBreakerConfig> for CircuitBreakerOptions {
    fn from(c: &CircuitBreakerConfig) -> Self {
        Self {
            failure_threshold: Some(f64::from(c.failure_threshold)),
            success_threshold: Some(f64::from(c.success_threshold)),
            timeout: Some(if c.has_timeout() {
                Either::A(as_millis(c.timeout))
            } else {
                Either::B(false)
            }),
            reset_timeout: Some(as_millis(c.reset_timeout)),
            half_open_max_calls: Some(f64::from(c.half_open_max_calls())),
            stack_trace: Some(c.stack_trace),
        }
    }
}

/// A per-call `timeout` option (`number | false`) as the deadline it sets, if any:
/// `Duration::MAX` for `false`.
pub(crate) fn call_timeout(
    value: Option<Either<f64, bool>>,
) -> Result<Option<Duration>, ConfigError> {
    match value {
        None => Ok(None),
        Some(Either::B(_)) => Ok(Some(Duration::MAX)),
        Some(Either::A(ms)) => {
            let timeout = millis(ms);
            validate_duration("timeout", timeout)?;
            Ok(Some(timeout))
        }
    }
}

/// A JS count as the core's integer: one that is not a whole number in `u32`'s range becomes
/// 0, which the core refuses (with the value as given, see [`given`]).
pub(crate) fn count(n: f64) -> u32 {
    if n.fract() == 0.0 && (0.0..=f64::from(u32::MAX)).contains(&n) {
        n as u32
    } else {
        0
    }
}

impl ToField<u32> for f64 {
    fn to_field(&self) -> u32 {
        count(*self)
    }
}

impl ToField<Option<u32>> for f64 {
    fn to_field(&self) -> Option<u32> {
        Some(count(*self))
    }
}

/// A byte count: 0 (refused by the client) when it is not a whole number below `u64::MAX`.
impl ToField<u64> for f64 {
    fn to_field(&self) -> u64 {
        let n = *self;
        if n.fract() == 0.0 && n >= 1.0 && n < u64::MAX as f64 {
            n as u64
        } else {
            0
        }
    }
}

impl ToField<Duration> for f64 {
    fn to_field(&self) -> Duration {
        millis(*self)
    }
}

/// `timeout`: milliseconds, or `false` for none.
impl ToField<Duration> for Either<f64, bool> {
    fn to_field(&self) -> Duration {
        match *self {
            Either::A(ms) => millis(ms),
            Either::B(_) => Duration::MAX,
        }
    }
}

/// JS milliseconds as a `Duration`, to the nanosecond. What is not a positive finite number
/// becomes zero and what is too long becomes one millisecond too long, so that the core's range
/// check refuses both.
pub(crate) fn millis(ms: f64) -> Duration {
    if !(ms.is_finite() && ms > 0.0) {
        Duration::ZERO
    } else if ms > MAX_DURATION_MS as f64 {
        Duration::from_millis(MAX_DURATION_MS + 1)
    } else {
        Duration::from_nanos((ms * 1e6).round() as u64)
    }
}

/// A `Duration` in JS milliseconds: exact for any value given with up to six decimals.
pub(crate) fn as_millis(d: Duration) -> f64 {
    d.as_nanos() as f64 / 1e6
}
