//! Reads the options of `new NeuralCircuitBreaker(modelName, options)`, strictly (wrong types,
//! out-of-range numbers and unknown keys throw `TypeError` / `RangeError` with a Node.js-style
//! `code`, as the `CircuitBreaker` options do), and declares the option and result shapes for
//! the typings.

use std::collections::HashMap;

use napi::bindgen_prelude::Object;
use napi::{Env, Result, Unknown, ValueType};
use napi_derive::napi;
use neural_trader_clients::neural::{NeuralOptions, RemoteOptions, RemoteProtocol};
use neural_trader_resilience::ConfigError;

use crate::error::throw_config_error;
use crate::http_options::read_string;
use crate::options::{read_breaker_option, read_duration, read_object, type_error};

/// Options of a `NeuralCircuitBreaker`. Durations are in milliseconds. Without `endpoint` the
/// model is the built-in one (trained with `train`); with it, a model server.
// For the typings only: options are read key by key (unknown keys refused), not converted.
#[allow(dead_code)]
#[napi(object)]
pub struct NeuralCircuitBreakerOptions {
    /// Consecutive failures that open the circuit (default 5).
    pub failure_threshold: Option<u32>,
    /// Consecutive successes in half-open that close the circuit (default 2).
    pub success_threshold: Option<u32>,
    /// How long the circuit stays open before a probe is let through, in ms (default 60000).
    pub reset_timeout: Option<f64>,
    /// Probe calls admitted at once while half-open (default: `successThreshold`).
    pub half_open_max_calls: Option<u32>,
    /// The deadline of a prediction, in ms (default 30000). An overrun rejects with
    /// `CircuitTimeoutError` and counts as a failure.
    pub predict_timeout: Option<f64>,
    /// The deadline of a training, in ms (default 120000). An overrun rejects with
    /// `CircuitTimeoutError`, counts as a failure, stops the training and keeps the model in use.
    pub train_timeout: Option<f64>,
    /// The base URL of a model server (`http://127.0.0.1:8000`): predictions go there.
    pub endpoint: Option<String>,
    /// The protocol the server speaks: `'v2'` (Open Inference Protocol: Triton, KServe,
    /// MLServer; the default) or `'tfserving'` (TensorFlow Serving REST).
    #[napi(ts_type = "'v2' | 'tfserving'")]
    pub protocol: Option<String>,
    /// The model's name on the server (default: the breaker's name).
    pub model: Option<String>,
    /// The model version to ask for (default: the server's choice, usually the latest).
    #[napi(ts_type = "string | number")]
    pub version: Option<String>,
    /// Headers sent with every request to the server (authorization, say; never shown in errors).
    pub headers: Option<HashMap<String, String>>,
    /// How long a connection attempt to the server may take, in ms (default 5000).
    pub connect_timeout: Option<f64>,
    /// Whether `HTTP_PROXY`, `HTTPS_PROXY`, `ALL_PROXY` and `NO_PROXY` apply (default `true`).
    pub proxy_from_env: Option<bool>,
}

/// Options of `train(data, labels, options)`.
// For the typings only, as `NeuralCircuitBreakerOptions`.
#[allow(dead_code)]
#[napi(object)]
pub struct NeuralTrainOptions {
    /// Passes over the training data (default 200; an integer from 1 to 1000000).
    pub epochs: Option<u32>,
    /// The AdamW learning rate (default 0.01; > 0 and <= 10).
    pub learning_rate: Option<f64>,
    /// Widths of the hidden layers, ReLU between them (default `[32, 32]`; `[]`: a linear
    /// model; at most 16 layers of 1 to 4096).
    pub hidden_sizes: Option<Vec<u32>>,
}

/// What a training achieved.
#[napi(object)]
pub struct NeuralTrainResult {
    /// Mean squared error on the training data after the last epoch, in the labels' units
    /// (averaged over the outputs).
    pub loss: f64,
    /// Epochs run.
    pub epochs: u32,
}

/// The input and output sizes of a trained or loaded built-in model.
#[napi(object)]
pub struct NeuralModelDimensions {
    /// Features per prediction.
    pub inputs: u32,
    /// Values per prediction.
    pub outputs: u32,
}

const NEURAL_OPTION_NAMES: &str = "failureThreshold, successThreshold, resetTimeout, \
halfOpenMaxCalls, predictTimeout, trainTimeout, endpoint, protocol, model, version, headers, \
connectTimeout, proxyFromEnv";

/// A `TypeError` (`ERR_INVALID_ARG_VALUE`) with `message`, thrown now.
fn invalid_value(env: &Env, field: &'static str, message: String) -> napi::Error {
    throw_config_error(
        env,
        &ConfigError::invalid_value(field, message.clone()),
        &message,
    )
}

/// The remote options as given, before `endpoint` is known to be there.
#[derive(Default)]
struct Remote {
    endpoint: Option<String>,
    protocol: Option<RemoteProtocol>,
    model: Option<String>,
    version: Option<String>,
    headers: Vec<(String, String)>,
    connect_timeout: Option<std::time::Duration>,
    proxy_from_env: Option<bool>,
    /// The first remote-only key seen.
    first_key: Option<&'static str>,
}

/// Reads the options of `new NeuralCircuitBreaker(modelName, options)`.
pub(crate) fn read_neural_options(
    env: &Env,
    model_name: &str,
    options: Option<Unknown<'_>>,
) -> Result<NeuralOptions> {
    let mut o = NeuralOptions::default();
    let Some(object) = read_object(env, "options", options)? else {
        return Ok(o);
    };
    let mut remote = Remote::default();
    for key in Object::keys(&object)? {
        let Some(value) = object.get::<Unknown>(&key)? else {
            continue;
        };
        if value.get_type()? == ValueType::Undefined {
            continue;
        }
        if key == "timeout" {
            return Err(invalid_value(
                env,
                "options",
                "The option \"timeout\" is not a NeuralCircuitBreaker option: use \
                 \"predictTimeout\" and \"trainTimeout\""
                    .into(),
            ));
        }
        if read_breaker_option(env, &mut o.breaker, &key, &value)? {
            continue;
        }
        let remote_key: Option<&'static str> = match key.as_str() {
            "predictTimeout" => {
                o.predict_timeout = read_duration(env, "predictTimeout", &value, false)?;
                None
            }
            "trainTimeout" => {
                o.train_timeout = read_duration(env, "trainTimeout", &value, false)?;
                None
            }
            "endpoint" => {
                remote.endpoint = Some(read_string(env, "endpoint", &value)?);
                None
            }
            "protocol" => {
                remote.protocol = Some(read_protocol(env, &value)?);
                Some("protocol")
            }
            "model" => {
                remote.model = Some(read_non_empty(env, "model", &value)?);
                Some("model")
            }
            "version" => {
                remote.version = Some(read_version(env, &value)?);
                Some("version")
            }
            "headers" => {
                remote.headers = read_headers(env, &value)?;
                Some("headers")
            }
            "connectTimeout" => {
                remote.connect_timeout = Some(read_duration(env, "connectTimeout", &value, false)?);
                Some("connectTimeout")
            }
            "proxyFromEnv" => {
                if value.get_type()? != ValueType::Boolean {
                    return Err(type_error(env, "proxyFromEnv", "of type boolean", &value));
                }
                remote.proxy_from_env = Some(unsafe { value.cast::<bool>()? });
                Some("proxyFromEnv")
            }
            other => {
                return Err(invalid_value(
                    env,
                    "options",
                    format!(
                        "The option \"{other}\" is not a NeuralCircuitBreaker option (expected \
                         one of {NEURAL_OPTION_NAMES})"
                    ),
                ))
            }
        };
        remote.first_key = remote.first_key.or(remote_key);
    }
    let Some(endpoint) = remote.endpoint else {
        if let Some(key) = remote.first_key {
            return Err(invalid_value(
                env,
                key,
                format!("The option \"{key}\" applies to a model server: give \"endpoint\" too"),
            ));
        }
        return Ok(o);
    };
    let mut r = RemoteOptions::new(
        endpoint,
        remote.protocol.unwrap_or(RemoteProtocol::V2),
        remote.model.unwrap_or_else(|| model_name.to_string()),
    );
    r.version = remote.version;
    r.headers = remote.headers;
    if let Some(timeout) = remote.connect_timeout {
        r.connect_timeout = timeout;
    }
    if let Some(proxy) = remote.proxy_from_env {
        r.proxy_from_env = proxy;
    }
    o.remote = Some(r);
    Ok(o)
}

fn read_protocol(env: &Env, value: &Unknown<'_>) -> Result<RemoteProtocol> {
    match read_string(env, "protocol", value)?.as_str() {
        "v2" => Ok(RemoteProtocol::V2),
        "tfserving" => Ok(RemoteProtocol::TfServing),
        other => Err(invalid_value(
            env,
            "protocol",
            format!("The \"protocol\" option must be 'v2' or 'tfserving'. Received {other:?}"),
        )),
    }
}

fn read_non_empty(env: &Env, field: &'static str, value: &Unknown<'_>) -> Result<String> {
    let text = read_string(env, field, value)?;
    if text.is_empty() {
        return Err(invalid_value(
            env,
            field,
            format!("The \"{field}\" option must be a non-empty string"),
        ));
    }
    Ok(text)
}

/// A version: a non-empty string, or a non-negative integer (as TF Serving numbers them).
fn read_version(env: &Env, value: &Unknown<'_>) -> Result<String> {
    if value.get_type()? == ValueType::Number {
        let n = unsafe { value.cast::<f64>()? };
        if n.fract() != 0.0 || !(0.0..=9_007_199_254_740_991.0).contains(&n) {
            return Err(crate::options::range_error(
                env,
                "version",
                "a non-negative integer",
                value,
            ));
        }
        return Ok(format!("{}", n as u64));
    }
    if value.get_type()? != ValueType::String {
        return Err(type_error(env, "version", "a string or an integer", value));
    }
    read_non_empty(env, "version", value)
}

/// `headers`: an object of strings. Names and values are checked by the HTTP layer, whose
/// messages never show a value.
fn read_headers(env: &Env, value: &Unknown<'_>) -> Result<Vec<(String, String)>> {
    let Some(object) = read_object(env, "headers", Some(*value))? else {
        return Ok(Vec::new());
    };
    let mut headers = Vec::new();
    for name in Object::keys(&object)? {
        let Some(v) = object.get::<Unknown>(&name)? else {
            continue;
        };
        match v.get_type()? {
            ValueType::Undefined => {}
            ValueType::String => headers.push((name, unsafe { v.cast::<String>()? })),
            _ => return Err(type_error(env, "headers", "an object of strings", &v)),
        }
    }
    Ok(headers)
}
