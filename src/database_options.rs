//! Reads the options of `new DatabaseCircuitBreaker(name, options)`: `url`, `maxConnections`,
//! `acquireTimeout`, and the circuit breaker options (checked by `options.rs`). Unknown keys,
//! wrong types and out-of-range values throw `TypeError` / `RangeError` with a Node.js code.

use std::time::Duration;

use napi::bindgen_prelude::{JsObjectValue, Object};
use napi::{Env, JsValue, Result, Unknown, ValueType};
use neural_trader_clients::database::{DatabaseOptions, MAX_CONNECTIONS};
use neural_trader_resilience::{ConfigError, MAX_DURATION_MS};

use crate::database_params::kind_of;
use crate::error::throw_config_error;
use crate::options::read_options;

const BREAKER_KEYS: [&str; 5] = [
    "failureThreshold",
    "successThreshold",
    "timeout",
    "resetTimeout",
    "halfOpenMaxCalls",
];

const DATABASE_KEYS: &str = "url, maxConnections, acquireTimeout, failureThreshold, successThreshold, timeout, resetTimeout, halfOpenMaxCalls";

fn throw(env: &Env, err: ConfigError) -> napi::Error {
    let message = err.message.clone();
    throw_config_error(env, &err, &message)
}

fn number(env: &Env, field: &'static str, value: &Unknown<'_>) -> Result<f64> {
    if value.get_type()? != ValueType::Number {
        return Err(throw(
            env,
            ConfigError::invalid_type(
                field,
                format!(
                    "The \"{field}\" option must be of type number. Received {}",
                    kind_of(value)
                ),
            ),
        ));
    }
    unsafe { value.cast::<f64>() }
}

/// Reads the options (`undefined` or `null`: an in-memory SQLite database, all defaults).
pub(crate) fn read_database_options(
    env: &Env,
    options: Option<Unknown<'_>>,
) -> Result<DatabaseOptions> {
    let mut out = DatabaseOptions::default();
    let Some(options) = options else {
        return Ok(out);
    };
    match options.get_type()? {
        ValueType::Undefined | ValueType::Null => return Ok(out),
        ValueType::Object if !options.is_array()? => {}
        _ => {
            return Err(throw(
                env,
                ConfigError::invalid_type(
                    "options",
                    format!(
                        "The \"options\" argument must be of type object. Received {}",
                        kind_of(&options)
                    ),
                ),
            ))
        }
    }
    let object: Object = unsafe { options.cast()? };
    // The breaker's own options go to `read_options`, in a copy without the database keys.
    let mut breaker = Object::new(env)?;
    for key in Object::keys(&object)? {
        let Some(value) = object.get::<Unknown>(&key)? else {
            continue;
        };
        if value.get_type()? == ValueType::Undefined {
            continue;
        }
        match key.as_str() {
            "url" => {
                if value.get_type()? != ValueType::String {
                    return Err(throw(
                        env,
                        ConfigError::invalid_type(
                            "url",
                            format!(
                                "The \"url\" option must be of type string. Received {}",
                                kind_of(&value)
                            ),
                        ),
                    ));
                }
                out.url = Some(unsafe { value.cast::<String>()? });
            }
            "maxConnections" => {
                let n = number(env, "maxConnections", &value)?;
                if n.fract() != 0.0 || !(1.0..=MAX_CONNECTIONS as f64).contains(&n) {
                    return Err(throw(
                        env,
                        ConfigError::out_of_range(
                            "maxConnections",
                            format!(
                                "The value of \"maxConnections\" is out of range. It must be an integer >= 1 and <= {MAX_CONNECTIONS}. Received {n}"
                            ),
                        ),
                    ));
                }
                out.max_connections = n as u32;
            }
            "acquireTimeout" => {
                let ms = number(env, "acquireTimeout", &value)?;
                if !(ms.is_finite() && ms > 0.0 && ms <= MAX_DURATION_MS as f64) {
                    return Err(throw(
                        env,
                        ConfigError::out_of_range(
                            "acquireTimeout",
                            format!(
                                "The value of \"acquireTimeout\" is out of range. It must be a finite number of milliseconds > 0 and <= {MAX_DURATION_MS}. Received {ms}"
                            ),
                        ),
                    ));
                }
                out.acquire_timeout = Duration::from_nanos((ms * 1e6).round() as u64);
            }
            k if BREAKER_KEYS.contains(&k) => breaker.set_named_property(k, value)?,
            unknown => {
                return Err(throw(
                    env,
                    ConfigError::invalid_value(
                        "options",
                        format!(
                            "The option \"{unknown}\" is not a database breaker option (expected one of {DATABASE_KEYS})"
                        ),
                    ),
                ))
            }
        }
    }
    out.breaker = read_options(env, Some(breaker.to_unknown()))?;
    Ok(out)
}
