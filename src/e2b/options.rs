//! The options of `E2BSandboxCircuitBreaker` and of its calls, declared once (see
//! `js/options.rs`); ranges are checked by the client's `validate()`.
//!
//! Defaults come from `process.env` (`E2B_API_KEY`, `E2B_API_URL`, `E2B_DOMAIN`,
//! `E2B_SANDBOX_URL`), read through JavaScript so that a worker thread sees its own `env`.

use std::collections::HashMap;

use napi::bindgen_prelude::{Either, JsObjectValue, Object};
use napi::{Env, Result, Unknown, ValueType};
use napi_derive::napi;
use neural_trader_binding_derive::OptionSet;
use neural_trader_clients::e2b::{CreateOptions, E2BOptions, ExecuteOptions};

use crate::breaker::{call_timeout, CircuitBreakerOptions};
use crate::js::errors::OrThrow;
use crate::js::options::{argument, given, read, At, Both, Merge, OrNull, StringMap};
use crate::js::Arg;

/// The options of an `E2BSandboxCircuitBreaker` beside the circuit breaker's (whose
/// `timeout` is the deadline of each request, an execution's whole output included:
/// default 60000 ms; other defaults: `failureThreshold` 3, `resetTimeout` 120000 ms).
/// Durations are in milliseconds.
#[napi(object, object_to_js = false, object_from_js = false)]
#[derive(Default, OptionSet)]
#[option_set(what = "an E2BSandboxCircuitBreaker option", into = E2BOptions)]
pub struct E2BClientOptions {
    /// The breaker's name (default 'e2b_sandbox').
    pub name: Option<String>,
    /// The API key (default `process.env.E2B_API_KEY`); `null` or '' for none. Sent in
    /// `X-API-Key` to the control plane only, never shown.
    #[napi(ts_type = "string | null")]
    pub api_key: Option<OrNull<String>>,
    /// The control plane (default `process.env.E2B_API_URL`, else `https://api.${domain}`).
    pub api_url: Option<String>,
    /// E2B's domain (default `process.env.E2B_DOMAIN`, else 'e2b.app').
    pub domain: Option<String>,
    /// Where every sandbox's code interpreter is reached instead of
    /// `https://49999-${sandboxId}.${domain}` (self-hosting, tests; default
    /// `process.env.E2B_SANDBOX_URL`); the sandbox is named in the `E2b-Sandbox-Id` header.
    #[napi(ts_type = "string | null")]
    pub sandbox_url: Option<OrNull<String>>,
    /// How long a connection attempt may take, in ms (default 5000).
    pub connect_timeout: Option<f64>,
    /// The longest `Retry-After` honoured, in ms (default 3600000).
    pub max_retry_after: Option<f64>,
    /// Whether `HTTP_PROXY` / `HTTPS_PROXY` / `ALL_PROXY` / `NO_PROXY` apply (default
    /// `true`).
    pub proxy_from_env: Option<bool>,
}

/// Options of `createSandbox(template, options)`.
#[napi(object, object_to_js = false, object_from_js = false)]
#[derive(Default, OptionSet)]
#[option_set(what = "a createSandbox option", into = CreateOptions)]
pub struct E2BCreateSandboxOptions {
    /// How long the sandbox lives, in **seconds** as E2B counts it (default 300); E2B kills
    /// it then. Extend it with `setSandboxTimeout`.
    #[option(to = timeout_secs, with = seconds)]
    pub timeout: Option<f64>,
    /// Metadata to find the sandbox by (listed with it).
    #[napi(ts_type = "Record<string, string>")]
    pub metadata: Option<StringMap>,
    /// Environment variables of every process in the sandbox.
    #[napi(ts_type = "Record<string, string>")]
    pub env_vars: Option<StringMap>,
}

/// Options of `executeCode(sandboxId, code, options)`.
#[napi(object, object_to_js = false, object_from_js = false)]
#[derive(Default, OptionSet)]
#[option_set(what = "an executeCode option")]
pub struct E2BExecuteOptions {
    /// The language ('python', 'javascript', 'r', 'java', 'bash', ...; default: the
    /// sandbox's default Python context). Not together with `contextId`.
    pub language: Option<String>,
    /// A code context created with an E2B SDK's `createCodeContext`. Not with `language`.
    pub context_id: Option<String>,
    /// Environment variables of this execution only.
    #[napi(ts_type = "Record<string, string>")]
    pub env_vars: Option<StringMap>,
    /// The deadline of this call in ms, output included (default: the breaker's
    /// `timeout`); `false` disables it.
    #[napi(ts_type = "number | false")]
    pub timeout: Option<Either<f64, bool>>,
}

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

/// Reads the options of `new E2BSandboxCircuitBreaker(options)`.
pub(crate) fn read_e2b_options(env: &Env, options: Arg<'_>) -> Result<E2BOptions> {
    let Both(own, breaker): Both<E2BClientOptions, CircuitBreakerOptions> =
        read(env, "options", options)?;
    e2b_options(env, own, &breaker)
}

/// The client's options: these and the breaker's over the defaults of `process.env`, checked.
pub(crate) fn e2b_options(
    env: &Env,
    own: E2BClientOptions,
    breaker: &CircuitBreakerOptions,
) -> Result<E2BOptions> {
    let vars = process_env(env)?;
    let mut o = E2BOptions::from_lookup(|name| vars.get(name).cloned());
    o.breaker = breaker.config(o.breaker).or_throw(env)?;
    own.merge(&mut o);
    o.validate().map_err(|e| given(e, &own)).or_throw(env)?;
    Ok(o)
}

/// A number of seconds as the client's integer: what is not a whole number from 0 to
/// `u32::MAX` becomes `u32::MAX`, which the client's check refuses.
fn seconds(n: &f64) -> u32 {
    let n = *n;
    if n.fract() == 0.0 && (0.0..=f64::from(u32::MAX)).contains(&n) {
        n as u32
    } else {
        u32::MAX
    }
}

/// Reads the options of `createSandbox(template, options)`.
pub(crate) fn read_create_options(env: &Env, options: Arg<'_>) -> Result<CreateOptions> {
    let given_options: E2BCreateSandboxOptions = read(env, "options", options)?;
    let mut o = CreateOptions::default();
    given_options.merge(&mut o);
    o.validate()
        .map_err(|mut e| {
            e.field = "timeout".into(); // `timeout_secs` in Rust, the only field checked
            given(e, &given_options)
        })
        .or_throw(env)?;
    Ok(o)
}

/// Reads `setSandboxTimeout`'s `seconds` argument.
pub(crate) fn read_seconds_argument(env: &Env, value: Arg<'_>) -> Result<u32> {
    let n: f64 = argument(env, "seconds", value)?;
    let secs = seconds(&n);
    neural_trader_clients::e2b::validate_seconds("seconds", secs).map_err(|mut e| {
        e.received = crate::js::describe::number(n);
        At::argument(env, "seconds").error(&e)
    })?;
    Ok(secs)
}

/// Reads the options of `executeCode(sandboxId, code, options)`.
pub(crate) fn read_execute_options(env: &Env, options: Arg<'_>) -> Result<ExecuteOptions> {
    let given_options: E2BExecuteOptions = read(env, "options", options)?;
    let timeout = call_timeout(given_options.timeout)
        .map_err(|e| given(e, &given_options))
        .or_throw(env)?;
    Ok(ExecuteOptions {
        language: given_options.language,
        context_id: given_options.context_id,
        env_vars: given_options
            .env_vars
            .map(|m| m.0.into_iter().collect())
            .unwrap_or_default(),
        timeout,
    })
}
