//! The options of `ApiCircuitBreaker` and of its requests, declared once (see
//! `js/options.rs`); ranges are checked by the client's `ApiOptions::validate`.

use napi::bindgen_prelude::{Either, JsObjectValue, Object};
use napi::{Env, JsValue, Result, Unknown, ValueType};
use napi_derive::napi;
use neural_trader_binding_derive::OptionSet;
use neural_trader_clients::http::{ApiOptions, Body, Method, Request};
use neural_trader_resilience::ConfigError;

use super::body::{read_body, ResponseType};
use crate::breaker::{call_timeout, CircuitBreakerOptions};
use crate::js::errors::OrThrow;
use crate::js::options::{
    entries, given, one_of, read, read_object, At, Both, FromJs, Merge, StringMap,
};
use crate::js::Arg;

/// The options of an `ApiCircuitBreaker` beside the circuit breaker's (whose `timeout` is
/// the deadline of each request, body included: default 10000 ms; `resetTimeout` defaults
/// to 30000 ms). Durations are in milliseconds.
#[napi(object, object_to_js = false, object_from_js = false)]
#[derive(Default, OptionSet)]
#[option_set(what = "an ApiCircuitBreaker option", into = ApiOptions)]
pub struct ApiClientOptions {
    /// The URL relative request URLs resolve against, as `new URL(url, baseUrl)` does: keep
    /// a trailing `/` and use paths without a leading `/` to stay under its path.
    pub base_url: Option<String>,
    /// How long a connection attempt may take, in ms (default 5000; `ERR_HTTP_CONNECT`).
    pub connect_timeout: Option<f64>,
    /// Headers sent with every request.
    #[napi(ts_type = "Record<string, string>")]
    pub headers: Option<StringMap>,
    /// The longest `Retry-After` honoured, in ms (default 3600000; longer ones are capped).
    pub max_retry_after: Option<f64>,
    /// The largest response body read, in bytes (default 67108864, 64 MiB; at most 4294967296,
    /// 4 GiB); a larger one rejects with `HttpError` `ERR_HTTP_BODY_TOO_LARGE` and does not
    /// count against the service.
    pub max_response_bytes: Option<f64>,
    /// Whether `HTTP_PROXY`, `HTTPS_PROXY`, `ALL_PROXY` and `NO_PROXY` apply (default
    /// `true`; loopback addresses are not exempt unless `NO_PROXY` says so).
    pub proxy_from_env: Option<bool>,
    /// Query parameters whose values errors may show (names compared exactly). Every other
    /// query value is `***` in an error's `message` and `url`: an allow-list, because a list
    /// of secret-looking names always misses one.
    pub safe_query_params: Option<Vec<String>>,
    /// Headers that are secrets besides the credential-like ones (`authorization`, `cookie`,
    /// names containing `key`, `token`, `secret`, `auth`, `credential`, `session`,
    /// `signature`, `password`): dropped on a redirect to another origin, never shown.
    pub secret_headers: Option<Vec<String>>,
}

impl ApiClientOptions {
    /// The client's options: `base` with these and the breaker's, checked.
    pub(crate) fn options(
        self,
        breaker: &CircuitBreakerOptions,
        mut base: ApiOptions,
    ) -> std::result::Result<ApiOptions, ConfigError> {
        base.breaker = breaker.config(base.breaker)?;
        self.merge(&mut base);
        base.validate().map_err(|e| given(e, &self))?;
        Ok(base)
    }
}

/// Options of one request.
#[napi(object, object_to_js = false, object_from_js = false)]
#[derive(Default, OptionSet)]
#[option_set(what = "a request option")]
pub struct ApiRequestOptions {
    /// Headers of this request (they override the breaker's `headers`).
    #[napi(ts_type = "Record<string, string>")]
    pub headers: Option<StringMap>,
    /// Query parameters, appended to the URL's own; an array value repeats the parameter.
    #[napi(
        ts_type = "Record<string, string | number | boolean | Array<string | number | boolean>>"
    )]
    pub query: Option<Query>,
    /// The deadline of this request in ms (default: the breaker's `timeout`); `false`
    /// disables it.
    #[napi(ts_type = "number | false")]
    pub timeout: Option<Either<f64, bool>>,
    /// How to return the body: `'auto'` (default: by `content-type`, JSON parsed, text as
    /// a string, binary as a `Buffer`, empty as `null`), `'json'`, `'text'` or `'buffer'`.
    #[napi(ts_type = "'auto' | 'json' | 'text' | 'buffer'")]
    pub response_type: Option<ResponseType>,
}

/// What `request(init)` sends besides its request options. Its typings are
/// `ApiRequestInit` in `dts-header.d.ts` (a required `url` and an `unknown` body, which a
/// generated interface cannot say).
#[derive(Default, OptionSet)]
#[option_set(what = "a request option")]
pub struct RequestTarget {
    /// The method (default 'GET'; standard methods in any case).
    pub method: Option<HttpMethod>,
    /// Absolute, or relative to the breaker's `baseUrl`.
    pub url: Option<String>,
    /// The request body (see `body.rs`).
    pub body: Option<RequestBody>,
}

/// Builds the request (and how its response body is wanted) from what was read.
pub(crate) fn build(
    env: &Env,
    method: Method,
    url: String,
    body: Body,
    options: ApiRequestOptions,
) -> Result<(Request, ResponseType)> {
    let timeout = call_timeout(options.timeout)
        .map_err(|e| given(e, &options))
        .or_throw(env)?;
    let request = Request {
        method,
        url,
        headers: options.headers.map(|h| h.0).unwrap_or_default(),
        query: options.query.map(|q| q.0).unwrap_or_default(),
        body,
        timeout,
    };
    Ok((request, options.response_type.unwrap_or(ResponseType::Auto)))
}

/// Reads `request({ method, url, headers, query, body, timeout, responseType })`.
pub(crate) fn read_request_init(env: &Env, init: Arg<'_>) -> Result<(Request, ResponseType)> {
    let Both(target, options): Both<RequestTarget, ApiRequestOptions> = read(env, "init", init)?;
    let Some(url) = target.url else {
        let error = ConfigError::invalid_type("url", "of type string", "undefined");
        return Err(At::option(env, "url").error(&error));
    };
    let method = target.method.map_or(Method::GET, |m| m.0);
    let body = target.body.map_or(Body::Empty, |b| b.0);
    build(env, method, url, body, options)
}

/// Query parameters: an object of strings, numbers and booleans (as `String(value)`), or
/// arrays of them (the parameter repeated).
#[derive(Default)]
pub(crate) struct Query(Vec<(String, String)>);

impl FromJs for Query {
    fn from_js(at: At<'_>, value: Unknown<'_>) -> Result<Self> {
        let Some(object) = read_object(at.env, at.name, Some(value))? else {
            return Ok(Self::default());
        };
        let mut query = Vec::new();
        for (name, value) in entries(at.env, at.name, &object)? {
            if value.is_array()? {
                let array: Object = unsafe { value.cast()? };
                let length: u32 = array.get_named_property("length")?;
                for i in 0..length {
                    let item: Unknown = array.get_element(i)?;
                    query.push((name.clone(), query_value(at, &item)?));
                }
            } else {
                query.push((name, query_value(at, &value)?));
            }
        }
        Ok(Self(query))
    }
}

fn query_value(at: At<'_>, value: &Unknown<'_>) -> Result<String> {
    match value.get_type()? {
        ValueType::String => at.string(value),
        ValueType::Number | ValueType::Boolean => {
            value.coerce_to_string()?.into_utf8()?.into_owned()
        }
        _ => Err(at.invalid_type(
            "an object of strings, numbers, booleans or arrays of them",
            value,
        )),
    }
}

impl FromJs for ResponseType {
    fn from_js(at: At<'_>, value: Unknown<'_>) -> Result<Self> {
        use ResponseType::*;
        one_of(
            at,
            value,
            &[
                ("auto", Auto),
                ("json", Json),
                ("text", Text),
                ("buffer", Buffer),
            ],
        )
    }
}

/// An HTTP method token (standard methods in any case).
pub(crate) struct HttpMethod(Method);

impl FromJs for HttpMethod {
    fn from_js(at: At<'_>, value: Unknown<'_>) -> Result<Self> {
        let text = String::from_js(at, value)?;
        const STANDARD: [&str; 7] = ["DELETE", "GET", "HEAD", "OPTIONS", "PATCH", "POST", "PUT"];
        let text = match STANDARD.iter().find(|m| m.eq_ignore_ascii_case(&text)) {
            Some(standard) => standard.to_string(),
            None => text,
        };
        Method::from_bytes(text.as_bytes())
            .map(HttpMethod)
            .map_err(|_| {
                let shown = format!("{:?}", text.chars().take(32).collect::<String>());
                at.invalid_value("an HTTP method token", shown)
            })
    }
}

/// A request body read from any JS value (see `body.rs`).
pub(crate) struct RequestBody(pub(crate) Body);

impl FromJs for RequestBody {
    fn from_js(at: At<'_>, value: Unknown<'_>) -> Result<Self> {
        read_body(at.env, Some(value)).map(RequestBody)
    }
}
