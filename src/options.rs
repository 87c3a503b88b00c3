//! Reads breaker names and options from JS values, strictly: wrong types, out-of-range numbers
//! and unknown keys are thrown as `TypeError` / `RangeError` with a Node.js-style `code`.

use std::time::Duration;

use napi::bindgen_prelude::{Either, Object, Utf16String};
use napi::{Env, JsValue, Result, Unknown, ValueType};
use napi_derive::napi;
use neural_trader_resilience::{
    CircuitBreakerConfig, ConfigError, MAX_DURATION_MS, MAX_HALF_OPEN_CALLS, MAX_THRESHOLD,
};

use crate::error::throw_config_error;

/// Options of a circuit breaker. Durations are in milliseconds.
#[napi(object)]
pub struct CircuitBreakerOptions {
    /// Consecutive failures that open the circuit (default 5).
    pub failure_threshold: Option<u32>,
    /// Consecutive successes in half-open that close the circuit (default 2).
    pub success_threshold: Option<u32>,
    /// Deadline of each call in ms (default 30000); `false` disables it.
    #[napi(ts_type = "number | false")]
    pub timeout: Option<Either<f64, bool>>,
    /// How long the circuit stays open before a probe is let through, in ms (default 60000).
    pub reset_timeout: Option<f64>,
    /// Probe calls admitted at once while half-open (default: `successThreshold`).
    pub half_open_max_calls: Option<u32>,
}

impl From<&CircuitBreakerConfig> for CircuitBreakerOptions {
    fn from(c: &CircuitBreakerConfig) -> Self {
        Self {
            failure_threshold: Some(c.failure_threshold),
            success_threshold: Some(c.success_threshold),
            timeout: Some(if c.has_timeout() {
                Either::A(duration_ms(c.timeout))
            } else {
                Either::B(false)
            }),
            reset_timeout: Some(duration_ms(c.reset_timeout)),
            half_open_max_calls: Some(c.half_open_max_calls()),
        }
    }
}

/// Milliseconds as given: durations are read to the nanosecond, so this is exact for any
/// value given with up to six decimals.
fn duration_ms(d: Duration) -> f64 {
    d.as_nanos() as f64 / 1e6
}

pub(crate) const OPTION_NAMES: &str =
    "failureThreshold, successThreshold, timeout, resetTimeout, halfOpenMaxCalls";

pub(crate) fn describe(value: &Unknown<'_>) -> String {
    match value.get_type() {
        Ok(ValueType::Number) => match unsafe { value.cast::<f64>() } {
            Ok(n) => format!("{n}"),
            Err(_) => "a number".into(),
        },
        Ok(ValueType::String) => "a string".into(),
        Ok(ValueType::Boolean) => match unsafe { value.cast::<bool>() } {
            Ok(b) => format!("{b}"),
            Err(_) => "a boolean".into(),
        },
        Ok(ValueType::Null) => "null".into(),
        Ok(ValueType::Undefined) => "undefined".into(),
        Ok(ValueType::Function) => "a function".into(),
        Ok(ValueType::BigInt) => "a bigint".into(),
        Ok(ValueType::Symbol) => "a symbol".into(),
        _ => "an object".into(),
    }
}

/// Reads a breaker name: a non-empty string.
pub(crate) fn read_name(env: &Env, name: Option<Unknown<'_>>) -> Result<String> {
    let name = match name {
        Some(v) if v.get_type()? == ValueType::String => {
            let units = unsafe { v.cast::<Utf16String>()? };
            match String::from_utf16(&units) {
                Ok(name) => name,
                Err(_) => {
                    let message =
                        "The \"name\" argument must be a well-formed string (it has a lone surrogate)"
                            .to_string();
                    return Err(throw_config_error(
                        env,
                        &ConfigError::invalid_value("name", message.clone()),
                        &message,
                    ));
                }
            }
        }
        other => {
            let received = other.as_ref().map_or("undefined".to_string(), describe);
            let message =
                format!("The \"name\" argument must be of type string. Received {received}");
            return Err(throw_config_error(
                env,
                &ConfigError::invalid_type("name", message.clone()),
                &message,
            ));
        }
    };
    if name.is_empty() {
        let message = "The \"name\" argument must be a non-empty string".to_string();
        return Err(throw_config_error(
            env,
            &ConfigError::invalid_value("name", message.clone()),
            &message,
        ));
    }
    Ok(name)
}

/// Reads an options object (`undefined` or `null`: all defaults).
pub(crate) fn read_options(
    env: &Env,
    options: Option<Unknown<'_>>,
) -> Result<CircuitBreakerConfig> {
    let mut config = CircuitBreakerConfig::default();
    let Some(object) = read_object(env, "options", options)? else {
        return Ok(config);
    };
    for key in Object::keys(&object)? {
        let Some(value) = object.get::<Unknown>(&key)? else {
            continue;
        };
        if value.get_type()? == ValueType::Undefined {
            continue;
        }
        if !read_breaker_option(env, &mut config, &key, &value)? {
            let message = format!(
                "The option \"{key}\" is not a circuit breaker option (expected one of {OPTION_NAMES})"
            );
            return Err(throw_config_error(
                env,
                &ConfigError::invalid_value("options", message.clone()),
                &message,
            ));
        }
    }
    Ok(config)
}

/// Reads an argument that must be a plain object: `None` for `undefined` or `null`, a
/// `TypeError` (`ERR_INVALID_ARG_TYPE`) for anything else that is not an object.
pub(crate) fn read_object<'a>(
    env: &Env,
    argument: &'static str,
    value: Option<Unknown<'a>>,
) -> Result<Option<Object<'a>>> {
    let Some(value) = value else {
        return Ok(None);
    };
    match value.get_type()? {
        ValueType::Undefined | ValueType::Null => Ok(None),
        ValueType::Object if !value.is_array()? => Ok(Some(unsafe { value.cast()? })),
        _ => {
            let message = format!(
                "The \"{argument}\" argument must be of type object. Received {}",
                describe(&value)
            );
            Err(throw_config_error(
                env,
                &ConfigError::invalid_type(argument, message.clone()),
                &message,
            ))
        }
    }
}

/// Reads one circuit breaker option (`failureThreshold`, `successThreshold`, `timeout`,
/// `resetTimeout`, `halfOpenMaxCalls`) into `config`; `Ok(false)` when `key` is none of them,
/// so that a domain breaker can read its own options around these.
pub(crate) fn read_breaker_option(
    env: &Env,
    config: &mut CircuitBreakerConfig,
    key: &str,
    value: &Unknown<'_>,
) -> Result<bool> {
    match key {
        "failureThreshold" => {
            config.failure_threshold = read_count(env, "failureThreshold", value, MAX_THRESHOLD)?
        }
        "successThreshold" => {
            config.success_threshold = read_count(env, "successThreshold", value, MAX_THRESHOLD)?
        }
        "halfOpenMaxCalls" => {
            config.half_open_max_calls = Some(read_count(
                env,
                "halfOpenMaxCalls",
                value,
                MAX_HALF_OPEN_CALLS,
            )?)
        }
        "resetTimeout" => config.reset_timeout = read_duration(env, "resetTimeout", value, false)?,
        "timeout" => config.timeout = read_duration(env, "timeout", value, true)?,
        _ => return Ok(false),
    }
    Ok(true)
}

pub(crate) fn type_error(
    env: &Env,
    field: &'static str,
    expected: &str,
    value: &Unknown<'_>,
) -> napi::Error {
    let message = format!(
        "The \"{field}\" option must be {expected}. Received {}",
        describe(value)
    );
    throw_config_error(
        env,
        &ConfigError::invalid_type(field, message.clone()),
        &message,
    )
}

pub(crate) fn range_error(
    env: &Env,
    field: &'static str,
    expected: &str,
    value: &Unknown<'_>,
) -> napi::Error {
    let message = format!(
        "The value of \"{field}\" is out of range. It must be {expected}. Received {}",
        describe(value)
    );
    throw_config_error(
        env,
        &ConfigError::out_of_range(field, message.clone()),
        &message,
    )
}

fn read_number(env: &Env, field: &'static str, value: &Unknown<'_>, expected: &str) -> Result<f64> {
    if value.get_type()? != ValueType::Number {
        return Err(type_error(env, field, expected, value));
    }
    unsafe { value.cast::<f64>() }
}

fn read_count(env: &Env, field: &'static str, value: &Unknown<'_>, max: u32) -> Result<u32> {
    let n = read_number(env, field, value, "of type number")?;
    if n.fract() != 0.0 || !(1.0..=max as f64).contains(&n) {
        return Err(range_error(
            env,
            field,
            &format!("an integer >= 1 and <= {max}"),
            value,
        ));
    }
    Ok(n as u32)
}

/// A size in bytes: an integer >= 1 and <= `Number.MAX_SAFE_INTEGER`.
pub(crate) fn read_byte_count(env: &Env, field: &'static str, value: &Unknown<'_>) -> Result<u64> {
    const MAX_SAFE: f64 = 9_007_199_254_740_991.0;
    let n = read_number(env, field, value, "of type number")?;
    if n.fract() != 0.0 || !(1.0..=MAX_SAFE).contains(&n) {
        return Err(range_error(
            env,
            field,
            "an integer >= 1 and <= 9007199254740991",
            value,
        ));
    }
    Ok(n as u64)
}

pub(crate) fn read_duration(
    env: &Env,
    field: &'static str,
    value: &Unknown<'_>,
    may_disable: bool,
) -> Result<Duration> {
    if may_disable && value.get_type()? == ValueType::Boolean {
        if !unsafe { value.cast::<bool>()? } {
            return Ok(Duration::MAX);
        }
        return Err(type_error(
            env,
            field,
            "a number of milliseconds or false",
            value,
        ));
    }
    let expected = if may_disable {
        "a number of milliseconds or false"
    } else {
        "a number of milliseconds"
    };
    let ms = read_number(env, field, value, expected)?;
    if !(ms.is_finite() && ms > 0.0 && ms <= MAX_DURATION_MS as f64) {
        return Err(range_error(
            env,
            field,
            &format!("a finite number of milliseconds > 0 and <= {MAX_DURATION_MS}"),
            value,
        ));
    }
    Ok(Duration::from_nanos((ms * 1e6).round() as u64))
}
