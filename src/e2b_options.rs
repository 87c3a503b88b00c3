//! Reads the options of `E2BSandboxCircuitBreaker` and of its calls, strictly (wrong types,
//! out-of-range numbers and unknown keys are `TypeError` / `RangeError` with a Node.js-style
//! `code`), and declares their typings and those of what the calls resolve with.
//!
//! Defaults come from `process.env` (`E2B_API_KEY`, `E2B_API_URL`, `E2B_DOMAIN`,
//! `E2B_SANDBOX_URL`), read through JavaScript so that a worker thread sees its own `env`.

use std::collections::{BTreeMap, HashMap};

use napi::bindgen_prelude::{JsObjectValue, Object};
use napi::{Env, Result, Unknown, ValueType};
use napi_derive::napi;
use neural_trader_clients::e2b::{CreateOptions, E2BOptions, ExecuteOptions};
use neural_trader_resilience::ConfigError;

use crate::error::throw_config_error;
use crate::http_options::{entries, read_bool, read_string, unknown_key};
use crate::options::{
    describe, range_error, read_breaker_option, read_duration, read_object, type_error,
    OPTION_NAMES,
};

/// Options of an `E2BSandboxCircuitBreaker`. Durations are in milliseconds.
// For the typings only: options are read key by key (unknown keys refused), not converted.
#[allow(dead_code)]
#[napi(object)]
pub struct E2BSandboxCircuitBreakerOptions {
    /// The breaker's name (default 'e2b_sandbox').
    pub name: Option<String>,
    /// The API key (default `process.env.E2B_API_KEY`); `null` or '' for none. Sent in
    /// `X-API-Key` to the control plane only, never shown.
    #[napi(ts_type = "string | null")]
    pub api_key: Option<String>,
    /// The control plane (default `process.env.E2B_API_URL`, else `https://api.${domain}`).
    pub api_url: Option<String>,
    /// E2B's domain (default `process.env.E2B_DOMAIN`, else 'e2b.app').
    pub domain: Option<String>,
    /// Where every sandbox's code interpreter is reached instead of
    /// `https://49999-${sandboxId}.${domain}` (self-hosting, tests; default
    /// `process.env.E2B_SANDBOX_URL`); the sandbox is named in the `E2b-Sandbox-Id` header.
    #[napi(ts_type = "string | null")]
    pub sandbox_url: Option<String>,
    /// The deadline of each request in ms, an execution's whole output included (default
    /// 60000); `false` disables it. An overrun rejects with `CircuitTimeoutError`.
    #[napi(ts_type = "number | false")]
    pub timeout: Option<napi::Either<f64, bool>>,
    /// Consecutive failures that open the circuit (default 3).
    pub failure_threshold: Option<u32>,
    /// Consecutive successes in half-open that close the circuit (default 2).
    pub success_threshold: Option<u32>,
    /// How long the circuit stays open before a probe is let through, in ms (default 120000).
    pub reset_timeout: Option<f64>,
    /// Probe calls admitted at once while half-open (default: `successThreshold`).
    pub half_open_max_calls: Option<u32>,
    /// How long a connection attempt may take, in ms (default 5000).
    pub connect_timeout: Option<f64>,
    /// The longest `Retry-After` honoured, in ms (default 3600000).
    pub max_retry_after: Option<f64>,
    /// Whether `HTTP_PROXY` / `HTTPS_PROXY` / `ALL_PROXY` / `NO_PROXY` apply (default `true`).
    pub proxy_from_env: Option<bool>,
}

/// Options of `createSandbox(template, options)`.
#[allow(dead_code)]
#[napi(object)]
pub struct E2BCreateSandboxOptions {
    /// How long the sandbox lives, in **seconds** as E2B counts it (default 300); E2B kills it
    /// then. Extend it with `setSandboxTimeout`.
    pub timeout: Option<u32>,
    /// Metadata to find the sandbox by (listed with it).
    pub metadata: Option<HashMap<String, String>>,
    /// Environment variables of every process in the sandbox.
    pub env_vars: Option<HashMap<String, String>>,
}

/// Options of `executeCode(sandboxId, code, options)`.
#[allow(dead_code)]
#[napi(object)]
pub struct E2BExecuteOptions {
    /// The language ('python', 'javascript', 'r', 'java', 'bash', ...; default: the sandbox's
    /// default Python context). Not together with `contextId`.
    pub language: Option<String>,
    /// A code context created with an E2B SDK's `createCodeContext`. Not with `language`.
    pub context_id: Option<String>,
    /// Environment variables of this execution only.
    pub env_vars: Option<HashMap<String, String>>,
    /// The deadline of this call in ms, output included (default: the breaker's `timeout`);
    /// `false` disables it.
    #[napi(ts_type = "number | false")]
    pub timeout: Option<napi::Either<f64, bool>>,
}

/// What `executeCode` resolves with. An exception in the code is `error`, not a rejection.
#[allow(dead_code)]
#[napi(object)]
pub struct E2BExecution {
    /// What the code printed to stdout, one entry per chunk the interpreter sent.
    pub stdout: Vec<String>,
    /// What the code printed to stderr.
    pub stderr: Vec<String>,
    /// Rich results: `display(...)` calls and the value of the last expression.
    pub results: Vec<E2BExecutionResult>,
    /// The exception the code raised, or `null`.
    #[napi(ts_type = "E2BExecutionError | null")]
    pub error: E2BExecutionError,
    /// The execution counter of the context (`In [n]`), or `null`.
    #[napi(ts_type = "number | null")]
    pub execution_count: f64,
}

/// An exception raised by the executed code.
#[allow(dead_code)]
#[napi(object)]
pub struct E2BExecutionError {
    /// Its class ('ZeroDivisionError').
    pub name: String,
    /// Its message ('division by zero').
    pub value: String,
    /// The traceback as the kernel prints it.
    pub traceback: String,
}

/// One rich result; only the representations present are set (images base64-encoded).
#[allow(dead_code)]
#[napi(object)]
pub struct E2BExecutionResult {
    /// Whether this is the value of the last expression.
    pub is_main_result: bool,
    /// `text/plain`.
    pub text: Option<String>,
    /// `text/html`.
    pub html: Option<String>,
    /// `text/markdown`.
    pub markdown: Option<String>,
    /// `image/svg+xml`.
    pub svg: Option<String>,
    /// `image/png`, base64.
    pub png: Option<String>,
    /// `image/jpeg`, base64.
    pub jpeg: Option<String>,
    /// `application/pdf`, base64.
    pub pdf: Option<String>,
    /// `text/latex`.
    pub latex: Option<String>,
    /// `application/javascript`.
    pub javascript: Option<String>,
    /// `application/json`.
    #[napi(ts_type = "unknown")]
    pub json: Option<String>,
    /// Data of a DataFrame-like value.
    #[napi(ts_type = "unknown")]
    pub data: Option<String>,
    /// A chart extracted from a plot.
    #[napi(ts_type = "unknown")]
    pub chart: Option<String>,
    /// Other representations, by MIME type.
    #[napi(ts_type = "Record<string, unknown>")]
    pub extra: Option<String>,
}

const E2B_OPTION_NAMES: &str =
    "name, apiKey, apiUrl, domain, sandboxUrl, connectTimeout, maxRetryAfter, proxyFromEnv";
const CREATE_OPTION_NAMES: &str = "timeout, metadata, envVars";
const EXECUTE_OPTION_NAMES: &str = "language, contextId, envVars, timeout";

/// The E2B variables of `process.env`.
fn process_env(env: &Env) -> Result<HashMap<&'static str, String>> {
    let mut vars = HashMap::new();
    let process: Unknown = env.get_global()?.get_named_property("process")?;
    if process.get_type()? != ValueType::Object {
        return Ok(vars);
    }
    let process: Object = unsafe { process.cast()? };
    let penv: Unknown = process.get_named_property("env")?;
    if penv.get_type()? != ValueType::Object {
        return Ok(vars);
    }
    let penv: Object = unsafe { penv.cast()? };
    for name in [
        "E2B_API_KEY",
        "E2B_API_URL",
        "E2B_DOMAIN",
        "E2B_SANDBOX_URL",
    ] {
        if let Some(value) = penv.get::<Unknown>(name)? {
            if value.get_type()? == ValueType::String {
                vars.insert(name, unsafe { value.cast::<String>()? });
            }
        }
    }
    Ok(vars)
}

/// A string option that may be `null` (none).
fn read_nullable_string(
    env: &Env,
    field: &'static str,
    value: &Unknown<'_>,
) -> Result<Option<String>> {
    if value.get_type()? == ValueType::Null {
        return Ok(None);
    }
    if value.get_type()? != ValueType::String {
        return Err(type_error(env, field, "a string or null", value));
    }
    Ok(Some(unsafe { value.cast::<String>()? }).filter(|s| !s.is_empty()))
}

/// Reads the options of `new E2BSandboxCircuitBreaker(options)`.
pub(crate) fn read_e2b_options(env: &Env, options: Option<Unknown<'_>>) -> Result<E2BOptions> {
    let vars = process_env(env)?;
    let mut o = E2BOptions::from_lookup(|name| vars.get(name).cloned());
    let Some(object) = read_object(env, "options", options)? else {
        return Ok(o);
    };
    for (key, value) in entries(&object)? {
        if read_breaker_option(env, &mut o.breaker, &key, &value)? {
            continue;
        }
        match key.as_str() {
            "name" => o.name = read_string(env, "name", &value)?,
            "apiKey" => o.api_key = read_nullable_string(env, "apiKey", &value)?,
            "apiUrl" => o.api_url = Some(read_string(env, "apiUrl", &value)?),
            "domain" => o.domain = read_string(env, "domain", &value)?,
            "sandboxUrl" => o.sandbox_url = read_nullable_string(env, "sandboxUrl", &value)?,
            "connectTimeout" => {
                o.connect_timeout = read_duration(env, "connectTimeout", &value, false)?
            }
            "maxRetryAfter" => {
                o.max_retry_after = read_duration(env, "maxRetryAfter", &value, false)?
            }
            "proxyFromEnv" => o.proxy_from_env = read_bool(env, "proxyFromEnv", &value)?,
            other => {
                return Err(unknown_key(
                    env,
                    "an E2BSandboxCircuitBreaker option",
                    other,
                    &format!("{E2B_OPTION_NAMES}, {OPTION_NAMES}"),
                ))
            }
        }
    }
    Ok(o)
}

/// Reads `createSandbox`'s `template` (`undefined`: 'base').
pub(crate) fn read_template(env: &Env, template: Option<Unknown<'_>>) -> Result<String> {
    match template {
        None => Ok("base".to_string()),
        Some(value) if value.get_type()? == ValueType::Undefined => Ok("base".to_string()),
        Some(value) => read_argument(env, "template", Some(value)),
    }
}

/// Reads a string argument (`sandboxId`, `code`, `template`).
pub(crate) fn read_argument(
    env: &Env,
    argument: &'static str,
    value: Option<Unknown<'_>>,
) -> Result<String> {
    match value {
        Some(value) if value.get_type()? == ValueType::String => unsafe { value.cast::<String>() },
        other => {
            let received = other.as_ref().map_or("undefined".to_string(), describe);
            let message =
                format!("The \"{argument}\" argument must be of type string. Received {received}");
            Err(throw_config_error(
                env,
                &ConfigError::invalid_type(argument, message.clone()),
                &message,
            ))
        }
    }
}

/// Reads a number of seconds: an integer from 0 to 2^31-1 (E2B's `int32`).
pub(crate) fn read_seconds(
    env: &Env,
    field: &'static str,
    value: Option<Unknown<'_>>,
) -> Result<u32> {
    let value = match value {
        Some(value) if value.get_type()? == ValueType::Number => value,
        other => {
            let received = other.as_ref().map_or("undefined".to_string(), describe);
            let message =
                format!("The \"{field}\" argument must be of type number. Received {received}");
            return Err(throw_config_error(
                env,
                &ConfigError::invalid_type(field, message.clone()),
                &message,
            ));
        }
    };
    let n = unsafe { value.cast::<f64>()? };
    if n.fract() != 0.0 || !(0.0..=f64::from(i32::MAX)).contains(&n) {
        return Err(range_error(
            env,
            field,
            "an integer number of seconds >= 0 and <= 2147483647",
            &value,
        ));
    }
    Ok(n as u32)
}

/// Reads an object of strings (`metadata`, `envVars`).
fn read_string_map(
    env: &Env,
    field: &'static str,
    value: Unknown<'_>,
) -> Result<BTreeMap<String, String>> {
    let Some(object) = read_object(env, field, Some(value))? else {
        return Ok(BTreeMap::new());
    };
    let mut map = BTreeMap::new();
    for (name, value) in entries(&object)? {
        if value.get_type()? != ValueType::String {
            return Err(type_error(env, field, "an object of strings", &value));
        }
        map.insert(name, unsafe { value.cast::<String>()? });
    }
    Ok(map)
}

/// Reads the options of `createSandbox(template, options)`.
pub(crate) fn read_create_options(
    env: &Env,
    options: Option<Unknown<'_>>,
) -> Result<CreateOptions> {
    let mut o = CreateOptions::default();
    let Some(object) = read_object(env, "options", options)? else {
        return Ok(o);
    };
    for (key, value) in entries(&object)? {
        match key.as_str() {
            "timeout" => o.timeout_secs = read_seconds(env, "timeout", Some(value))?,
            "metadata" => o.metadata = read_string_map(env, "metadata", value)?,
            "envVars" => o.env_vars = read_string_map(env, "envVars", value)?,
            other => {
                return Err(unknown_key(
                    env,
                    "a createSandbox option",
                    other,
                    CREATE_OPTION_NAMES,
                ))
            }
        }
    }
    Ok(o)
}

/// Reads the options of `executeCode(sandboxId, code, options)`.
pub(crate) fn read_execute_options(
    env: &Env,
    options: Option<Unknown<'_>>,
) -> Result<ExecuteOptions> {
    let mut o = ExecuteOptions::default();
    let Some(object) = read_object(env, "options", options)? else {
        return Ok(o);
    };
    for (key, value) in entries(&object)? {
        match key.as_str() {
            "language" => o.language = Some(read_string(env, "language", &value)?),
            "contextId" => o.context_id = Some(read_string(env, "contextId", &value)?),
            "envVars" => o.env_vars = read_string_map(env, "envVars", value)?,
            "timeout" => o.timeout = Some(read_duration(env, "timeout", &value, true)?),
            other => {
                return Err(unknown_key(
                    env,
                    "an executeCode option",
                    other,
                    EXECUTE_OPTION_NAMES,
                ))
            }
        }
    }
    Ok(o)
}
