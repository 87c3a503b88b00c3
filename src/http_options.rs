//! Reads the options of `ApiCircuitBreaker` and of its requests, strictly: wrong types,
//! out-of-range numbers and unknown keys are `TypeError` / `RangeError` with a Node.js-style
//! `code`, exactly as the `CircuitBreaker` options are (whose reader this reuses).

use std::collections::HashMap;
use std::time::Duration;

use napi::bindgen_prelude::{JsObjectValue, Object};
use napi::{Env, JsValue, Result, Unknown, ValueType};
use napi_derive::napi;
use neural_trader_clients::http::{ApiOptions, Method};
use neural_trader_resilience::ConfigError;

use crate::error::throw_config_error;
use crate::http_body::ResponseType;
use crate::options::{
    read_breaker_option, read_byte_count, read_duration, read_object, type_error, OPTION_NAMES,
};

/// Options of an `ApiCircuitBreaker`. Durations are in milliseconds.
// For the typings only: options are read key by key (unknown keys refused), not converted.
#[allow(dead_code)]
#[napi(object)]
pub struct ApiCircuitBreakerOptions {
    /// The URL relative request URLs resolve against, as `new URL(url, baseUrl)` does: keep a
    /// trailing `/` and use paths without a leading `/` to stay under its path.
    pub base_url: Option<String>,
    /// The deadline of each request, body included, in ms (default 10000); `false` disables it.
    /// An overrun rejects with `CircuitTimeoutError` and counts as a failure.
    #[napi(ts_type = "number | false")]
    pub timeout: Option<napi::Either<f64, bool>>,
    /// How long a connection attempt may take, in ms (default 5000; `ERR_HTTP_CONNECT`).
    pub connect_timeout: Option<f64>,
    /// Headers sent with every request.
    pub headers: Option<HashMap<String, String>>,
    /// Consecutive failures that open the circuit (default 5).
    pub failure_threshold: Option<u32>,
    /// Consecutive successes in half-open that close the circuit (default 2).
    pub success_threshold: Option<u32>,
    /// How long the circuit stays open before a probe is let through, in ms (default 30000).
    pub reset_timeout: Option<f64>,
    /// Probe calls admitted at once while half-open (default: `successThreshold`).
    pub half_open_max_calls: Option<u32>,
    /// The longest `Retry-After` honoured, in ms (default 3600000; longer ones are capped).
    pub max_retry_after: Option<f64>,
    /// The largest response body read, in bytes (default 67108864, 64 MiB); a larger one
    /// rejects with `HttpError` `ERR_HTTP_BODY_TOO_LARGE` and does not count against the
    /// service.
    pub max_response_bytes: Option<f64>,
    /// Whether `HTTP_PROXY`, `HTTPS_PROXY`, `ALL_PROXY` and `NO_PROXY` apply (default `true`;
    /// loopback addresses are not exempt unless `NO_PROXY` says so).
    pub proxy_from_env: Option<bool>,
}

/// Options of one request.
// For the typings only, as `ApiCircuitBreakerOptions`.
#[allow(dead_code)]
#[napi(object)]
pub struct ApiRequestOptions {
    /// Headers of this request (they override the breaker's `headers`).
    pub headers: Option<HashMap<String, String>>,
    /// Query parameters, appended to the URL's own; an array value repeats the parameter.
    #[napi(
        ts_type = "Record<string, string | number | boolean | Array<string | number | boolean>>"
    )]
    pub query: Option<HashMap<String, String>>,
    /// The deadline of this request in ms (default: the breaker's `timeout`); `false` disables it.
    #[napi(ts_type = "number | false")]
    pub timeout: Option<napi::Either<f64, bool>>,
    /// How to return the body: `'auto'` (default: by `content-type`, JSON parsed, text as a
    /// string, binary as a `Buffer`, empty as `null`), `'json'`, `'text'` or `'buffer'`.
    #[napi(ts_type = "'auto' | 'json' | 'text' | 'buffer'")]
    pub response_type: Option<String>,
}

const API_OPTION_NAMES: &str =
    "baseUrl, headers, connectTimeout, maxRetryAfter, maxResponseBytes, proxyFromEnv";
const REQUEST_OPTION_NAMES: &str = "headers, query, timeout, responseType";

/// A `TypeError` (`ERR_INVALID_ARG_VALUE`) for an unknown key of `what`.
pub(crate) fn unknown_key(env: &Env, what: &'static str, key: &str, expected: &str) -> napi::Error {
    let message = format!("The option \"{key}\" is not {what} (expected one of {expected})");
    throw_config_error(
        env,
        &ConfigError::invalid_value("options", message.clone()),
        &message,
    )
}

/// The own keys of `object` with a value other than `undefined`.
pub(crate) fn entries<'a>(object: &Object<'a>) -> Result<Vec<(String, Unknown<'a>)>> {
    let mut out = Vec::new();
    for key in Object::keys(object)? {
        if let Some(value) = object.get::<Unknown>(&key)? {
            if value.get_type()? != ValueType::Undefined {
                out.push((key, value));
            }
        }
    }
    Ok(out)
}

/// Reads the options of `new ApiCircuitBreaker(name, options)`.
pub(crate) fn read_api_options(env: &Env, options: Option<Unknown<'_>>) -> Result<ApiOptions> {
    let mut o = ApiOptions::default();
    let Some(object) = read_object(env, "options", options)? else {
        return Ok(o);
    };
    for (key, value) in entries(&object)? {
        if read_breaker_option(env, &mut o.breaker, &key, &value)? {
            continue;
        }
        match key.as_str() {
            "baseUrl" => o.base_url = Some(read_string(env, "baseUrl", &value)?),
            "headers" => o.headers = read_headers(env, value)?,
            "connectTimeout" => {
                o.connect_timeout = read_duration(env, "connectTimeout", &value, false)?
            }
            "maxRetryAfter" => {
                o.max_retry_after = read_duration(env, "maxRetryAfter", &value, false)?
            }
            "maxResponseBytes" => {
                o.max_response_bytes = read_byte_count(env, "maxResponseBytes", &value)?
            }
            "proxyFromEnv" => o.proxy_from_env = read_bool(env, "proxyFromEnv", &value)?,
            other => {
                return Err(unknown_key(
                    env,
                    "an ApiCircuitBreaker option",
                    other,
                    &format!("{API_OPTION_NAMES}, {OPTION_NAMES}"),
                ))
            }
        }
    }
    Ok(o)
}

/// The options of one request.
pub(crate) struct CallOptions {
    pub(crate) headers: Vec<(String, String)>,
    pub(crate) query: Vec<(String, String)>,
    pub(crate) timeout: Option<Duration>,
    pub(crate) response_type: ResponseType,
}

impl CallOptions {
    fn new() -> Self {
        Self {
            headers: Vec::new(),
            query: Vec::new(),
            timeout: None,
            response_type: ResponseType::Auto,
        }
    }

    /// Reads `key` if it is a request option; `Ok(false)` if it is not.
    fn read(&mut self, env: &Env, key: &str, value: Unknown<'_>) -> Result<bool> {
        match key {
            "headers" => self.headers = read_headers(env, value)?,
            "query" => self.query = read_query(env, value)?,
            "timeout" => self.timeout = Some(read_duration(env, "timeout", &value, true)?),
            "responseType" => self.response_type = read_response_type(env, &value)?,
            _ => return Ok(false),
        }
        Ok(true)
    }
}

/// Reads the `options` of `get(url, options)` and the like.
pub(crate) fn read_call_options(env: &Env, options: Option<Unknown<'_>>) -> Result<CallOptions> {
    let mut call = CallOptions::new();
    let Some(object) = read_object(env, "options", options)? else {
        return Ok(call);
    };
    for (key, value) in entries(&object)? {
        if !call.read(env, &key, value)? {
            return Err(unknown_key(
                env,
                "a request option",
                &key,
                REQUEST_OPTION_NAMES,
            ));
        }
    }
    Ok(call)
}

/// What `request(init)` was given.
pub(crate) struct RequestInit<'a> {
    pub(crate) method: Method,
    pub(crate) url: String,
    pub(crate) body: Option<Unknown<'a>>,
    pub(crate) options: CallOptions,
}

/// Reads `request({ method, url, headers, query, body, timeout, responseType })`.
pub(crate) fn read_request_init<'a>(
    env: &Env,
    init: Option<Unknown<'a>>,
) -> Result<RequestInit<'a>> {
    let object = read_object(env, "init", init)?;
    let mut method = Method::GET;
    let mut url = None;
    let mut body = None;
    let mut options = CallOptions::new();
    for (key, value) in object
        .as_ref()
        .map(entries)
        .transpose()?
        .unwrap_or_default()
    {
        match key.as_str() {
            "method" => method = read_method(env, &value)?,
            "url" => url = Some(read_string(env, "url", &value)?),
            "body" => body = Some(value),
            other => {
                if !options.read(env, other, value)? {
                    return Err(unknown_key(
                        env,
                        "a request option",
                        other,
                        &format!("method, url, body, {REQUEST_OPTION_NAMES}"),
                    ));
                }
            }
        }
    }
    let Some(url) = url else {
        let message = "The \"url\" option must be of type string. Received undefined".to_string();
        return Err(throw_config_error(
            env,
            &ConfigError::invalid_type("url", message.clone()),
            &message,
        ));
    };
    Ok(RequestInit {
        method,
        url,
        body,
        options,
    })
}

/// Reads a string argument or option.
pub(crate) fn read_string(env: &Env, field: &'static str, value: &Unknown<'_>) -> Result<String> {
    if value.get_type()? != ValueType::String {
        return Err(type_error(env, field, "of type string", value));
    }
    unsafe { value.cast::<String>() }
}

/// Reads the `url` argument of `get(url)` and the like.
pub(crate) fn read_url(env: &Env, url: Option<Unknown<'_>>) -> Result<String> {
    match url {
        Some(value) if value.get_type()? == ValueType::String => unsafe { value.cast::<String>() },
        other => {
            let received = other
                .as_ref()
                .map_or("undefined".to_string(), crate::options::describe);
            let message =
                format!("The \"url\" argument must be of type string. Received {received}");
            Err(throw_config_error(
                env,
                &ConfigError::invalid_type("url", message.clone()),
                &message,
            ))
        }
    }
}

pub(crate) fn read_bool(env: &Env, field: &'static str, value: &Unknown<'_>) -> Result<bool> {
    if value.get_type()? != ValueType::Boolean {
        return Err(type_error(env, field, "of type boolean", value));
    }
    unsafe { value.cast::<bool>() }
}

fn read_method(env: &Env, value: &Unknown<'_>) -> Result<Method> {
    let text = read_string(env, "method", value)?;
    const STANDARD: [&str; 7] = ["DELETE", "GET", "HEAD", "OPTIONS", "PATCH", "POST", "PUT"];
    let text = match STANDARD.iter().find(|m| m.eq_ignore_ascii_case(&text)) {
        Some(standard) => standard.to_string(),
        None => text,
    };
    Method::from_bytes(text.as_bytes()).map_err(|_| {
        let message = format!(
            "The \"method\" option must be an HTTP method token. Received {:?}",
            text.chars().take(32).collect::<String>()
        );
        throw_config_error(
            env,
            &ConfigError::invalid_value("method", message.clone()),
            &message,
        )
    })
}

fn read_response_type(env: &Env, value: &Unknown<'_>) -> Result<ResponseType> {
    let text = read_string(env, "responseType", value)?;
    match text.as_str() {
        "auto" => Ok(ResponseType::Auto),
        "json" => Ok(ResponseType::Json),
        "text" => Ok(ResponseType::Text),
        "buffer" => Ok(ResponseType::Buffer),
        _ => {
            let message = format!(
                "The \"responseType\" option must be 'auto', 'json', 'text' or 'buffer'. Received {text:?}"
            );
            Err(throw_config_error(
                env,
                &ConfigError::invalid_value("responseType", message.clone()),
                &message,
            ))
        }
    }
}

/// Reads `headers`: an object of strings. Names and values are checked by the client, whose
/// messages never show a value.
fn read_headers(env: &Env, value: Unknown<'_>) -> Result<Vec<(String, String)>> {
    let Some(object) = read_object(env, "headers", Some(value))? else {
        return Ok(Vec::new());
    };
    let mut headers = Vec::new();
    for (name, value) in entries(&object)? {
        if value.get_type()? != ValueType::String {
            return Err(type_error(env, "headers", "an object of strings", &value));
        }
        headers.push((name, unsafe { value.cast::<String>()? }));
    }
    Ok(headers)
}

/// Reads `query`: an object of strings, numbers and booleans (as `String(value)`), or arrays of
/// them (the parameter repeated).
fn read_query(env: &Env, value: Unknown<'_>) -> Result<Vec<(String, String)>> {
    let Some(object) = read_object(env, "query", Some(value))? else {
        return Ok(Vec::new());
    };
    let mut query = Vec::new();
    for (name, value) in entries(&object)? {
        if value.is_array()? {
            let array: Object = unsafe { value.cast()? };
            let length: u32 = array.get_named_property("length")?;
            for i in 0..length {
                let item: Unknown = array.get_element(i)?;
                query.push((name.clone(), query_value(env, &item)?));
            }
        } else {
            query.push((name, query_value(env, &value)?));
        }
    }
    Ok(query)
}

fn query_value(env: &Env, value: &Unknown<'_>) -> Result<String> {
    match value.get_type()? {
        ValueType::String => unsafe { value.cast::<String>() },
        ValueType::Number | ValueType::Boolean => {
            value.coerce_to_string()?.into_utf8()?.into_owned()
        }
        _ => Err(type_error(
            env,
            "query",
            "an object of strings, numbers, booleans or arrays of them",
            value,
        )),
    }
}
