//! The `ApiCircuitBreaker` class: an HTTP/JSON client behind its own circuit breaker, running
//! on the binding's Tokio runtime (reqwest, one keep-alive pool per breaker).
//!
//! Every request method returns a Promise. Bad arguments reject it (never throw) with a
//! `TypeError` / `RangeError`, like `CircuitBreaker.prototype.call` does; only the constructor
//! throws.

use std::sync::Arc;

use napi::bindgen_prelude::{Object, PromiseRaw, ToNapiValue};
use napi::{sys, Env, Error, JsValue, Result, Status, Unknown};
use napi_derive::napi;
use neural_trader_clients::http::{self as client, ApiError, Body, Method, Request};

use crate::breaker::CircuitBreaker;
use crate::http_body::{read_body, Payload, ResponseType};
use crate::http_error::{headers_object, throw_api_error, Failure};
use crate::http_options::{
    read_api_options, read_call_options, read_request_init, read_url, CallOptions,
};
use crate::js_error::spawn;
use crate::metrics::CircuitBreakerMetrics;
use crate::options::read_name;

/// An HTTP/JSON client whose every request goes through one circuit breaker. Connection
/// errors, timeouts, 5xx, 408 and 429 count against the service (a 429 or 503 with
/// `Retry-After` keeps the circuit open at least that long); other 4xx reject with an
/// `HttpError` (`ERR_HTTP_STATUS`) without moving the circuit.
#[napi]
pub struct ApiCircuitBreaker {
    inner: Arc<client::ApiCircuitBreaker>,
}

/// What a request resolves with.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Shape {
    /// The body alone (`get`, `post`, `put`, `delete`).
    Body,
    /// `{ status, headers, body }` (`request`).
    Response,
}

/// A response decoded on the Tokio thread.
struct Decoded {
    status: u16,
    headers: client::HeaderMap,
    method: Method,
    url: String,
    body: Payload,
}

#[napi]
impl ApiCircuitBreaker {
    /// Creates a client and its breaker. Throws `TypeError` (`ERR_INVALID_ARG_TYPE`,
    /// `ERR_INVALID_ARG_VALUE`, `ERR_INVALID_URL` for `baseUrl`) or `RangeError`
    /// (`ERR_OUT_OF_RANGE`) for a bad name or options.
    #[napi(
        constructor,
        ts_args_type = "serviceName: string, options?: ApiCircuitBreakerOptions"
    )]
    pub fn new(env: Env, service_name: Option<Unknown>, options: Option<Unknown>) -> Result<Self> {
        let name = read_name(&env, service_name)?;
        let options = read_api_options(&env, options)?;
        let inner = client::ApiCircuitBreaker::with_options(&name, options)
            .map_err(|e| throw_api_error(&env, e))?;
        Ok(Self {
            inner: Arc::new(inner),
        })
    }

    /// The breaker's name.
    #[napi(getter)]
    pub fn name(&self) -> String {
        self.inner.name().to_string()
    }

    /// The current state of the breaker.
    #[napi(getter, ts_return_type = "'CLOSED' | 'OPEN' | 'HALF_OPEN'")]
    pub fn state(&self) -> &'static str {
        self.inner.breaker().state().as_str()
    }

    /// The current state (same as the `state` getter).
    #[napi(ts_return_type = "'CLOSED' | 'OPEN' | 'HALF_OPEN'")]
    pub fn get_state(&self) -> &'static str {
        self.state()
    }

    /// A snapshot of the breaker's counters (`ignoredCalls`: 4xx other than 408 and 429).
    #[napi]
    pub fn get_metrics(&self) -> CircuitBreakerMetrics {
        self.inner.metrics().into()
    }

    /// The underlying breaker (the same one on every read, in a new wrapper object): its
    /// `options`, metrics and state; `breaker.call(fn)` shares the circuit with the requests.
    #[napi(getter)]
    pub fn breaker(&self) -> CircuitBreaker {
        CircuitBreaker::wrap(self.inner.breaker())
    }

    /// `GET url`, resolving with the body (parsed JSON, text, a `Buffer` or `null`; see
    /// `responseType`).
    #[napi(
        ts_generic_types = "T = any",
        ts_args_type = "url: string, options?: ApiRequestOptions",
        ts_return_type = "Promise<T>"
    )]
    pub fn get<'env>(
        &self,
        env: &'env Env,
        url: Option<Unknown<'env>>,
        options: Option<Unknown<'env>>,
    ) -> Result<PromiseRaw<'env, Unknown<'env>>> {
        self.simple(env, Method::GET, url, None, options)
    }

    /// `POST url` with `body` (an object is sent as JSON, a string as text, a `Buffer` as
    /// bytes), resolving with the response body.
    #[napi(
        ts_generic_types = "T = any",
        ts_args_type = "url: string, body?: unknown, options?: ApiRequestOptions",
        ts_return_type = "Promise<T>"
    )]
    pub fn post<'env>(
        &self,
        env: &'env Env,
        url: Option<Unknown<'env>>,
        body: Option<Unknown<'env>>,
        options: Option<Unknown<'env>>,
    ) -> Result<PromiseRaw<'env, Unknown<'env>>> {
        self.simple(env, Method::POST, url, Some(body), options)
    }

    /// `PUT url` with `body`, resolving with the response body.
    #[napi(
        ts_generic_types = "T = any",
        ts_args_type = "url: string, body?: unknown, options?: ApiRequestOptions",
        ts_return_type = "Promise<T>"
    )]
    pub fn put<'env>(
        &self,
        env: &'env Env,
        url: Option<Unknown<'env>>,
        body: Option<Unknown<'env>>,
        options: Option<Unknown<'env>>,
    ) -> Result<PromiseRaw<'env, Unknown<'env>>> {
        self.simple(env, Method::PUT, url, Some(body), options)
    }

    /// `DELETE url`, resolving with the response body (`null` for a 204).
    #[napi(
        ts_generic_types = "T = any",
        ts_args_type = "url: string, options?: ApiRequestOptions",
        ts_return_type = "Promise<T>"
    )]
    pub fn delete<'env>(
        &self,
        env: &'env Env,
        url: Option<Unknown<'env>>,
        options: Option<Unknown<'env>>,
    ) -> Result<PromiseRaw<'env, Unknown<'env>>> {
        self.simple(env, Method::DELETE, url, None, options)
    }

    /// Any request, resolving with `{ status, headers, body }` (a status of 400 or more rejects
    /// with an `HttpError`, as the other methods do).
    #[napi(
        ts_generic_types = "T = any",
        ts_args_type = "init: ApiRequestInit",
        ts_return_type = "Promise<ApiResponse<T>>"
    )]
    pub fn request<'env>(
        &self,
        env: &'env Env,
        init: Option<Unknown<'env>>,
    ) -> Result<PromiseRaw<'env, Unknown<'env>>> {
        let read = read_request_init(env, init).and_then(|init| {
            let body = read_body(env, init.body)?;
            Ok(build(init.method, init.url, body, init.options))
        });
        match read {
            Ok((request, kind)) => self.send(env, request, kind, Shape::Response),
            Err(e) => rejected(env, e),
        }
    }
}

impl ApiCircuitBreaker {
    /// Wraps a client built elsewhere (by the trading system, say).
    pub(crate) fn wrap(inner: Arc<client::ApiCircuitBreaker>) -> Self {
        Self { inner }
    }

    fn simple<'env>(
        &self,
        env: &'env Env,
        method: Method,
        url: Option<Unknown<'env>>,
        body: Option<Option<Unknown<'env>>>,
        options: Option<Unknown<'env>>,
    ) -> Result<PromiseRaw<'env, Unknown<'env>>> {
        let read = (|| {
            let url = read_url(env, url)?;
            let body = match body {
                Some(body) => read_body(env, body)?,
                None => Body::Empty,
            };
            let options = read_call_options(env, options)?;
            Ok(build(method, url, body, options))
        })();
        match read {
            Ok((request, kind)) => self.send(env, request, kind, Shape::Body),
            Err(e) => rejected(env, e),
        }
    }

    fn send<'env>(
        &self,
        env: &'env Env,
        request: Request,
        kind: ResponseType,
        shape: Shape,
    ) -> Result<PromiseRaw<'env, Unknown<'env>>> {
        let api = Arc::clone(&self.inner);
        let method = request.method.clone();
        spawn(
            env,
            async move {
                let result = api.request(request).await.map(|response| Decoded {
                    status: response.status.as_u16(),
                    body: Payload::decode(kind, &response.headers, response.body),
                    headers: response.headers,
                    method,
                    url: response.url,
                });
                Ok::<_, ApiError>(result.map_err(Failure::from))
            },
            move |env, result| match result {
                Ok(decoded) => decoded.into_js(env, shape),
                Err(failure) => Err(failure.into_js(env)),
            },
        )
    }
}

fn build(method: Method, url: String, body: Body, options: CallOptions) -> (Request, ResponseType) {
    let request = Request {
        method,
        url,
        headers: options.headers,
        query: options.query,
        body,
        timeout: options.timeout,
    };
    (request, options.response_type)
}

impl Decoded {
    fn into_js(self, env: &Env, shape: Shape) -> Result<Unknown<'_>> {
        let body = match self.body.into_js(env) {
            Ok(body) => body,
            Err(not_json) => {
                let message = format!(
                    "{} {}: the response body is not valid JSON ({})",
                    self.method, self.url, not_json.reason
                );
                let error = ApiError::Decode { message };
                let spec = crate::js_error::IntoJsError::into_js_error(error)
                    .with("status", crate::js_error::Prop::Num(f64::from(self.status)))
                    .with("url", crate::js_error::Prop::Str(self.url.clone()))
                    .with(
                        "method",
                        crate::js_error::Prop::Str(self.method.to_string()),
                    );
                let created = spec.create(env).and_then(|error| {
                    let mut object: Object = unsafe { error.cast()? };
                    object.set("headers", headers_object(env, &self.headers, true)?)?;
                    object.set("body", not_json.text)?;
                    Ok(error)
                });
                return Err(match created {
                    Ok(error) => Error::from(error),
                    Err(e) => e,
                });
            }
        };
        match shape {
            Shape::Body => Ok(body),
            Shape::Response => {
                let mut response = Object::new(env)?;
                response.set("status", self.status)?;
                response.set("headers", headers_object(env, &self.headers, false)?)?;
                response.set("body", body)?;
                Ok(response.to_unknown())
            }
        }
    }
}

/// A promise rejected with the exception that reading the arguments threw (or with `error`
/// when nothing was thrown), so that request methods never throw (the E2B methods share it).
pub(crate) fn rejected<'env, V: ToNapiValue>(
    env: &'env Env,
    error: Error,
) -> Result<PromiseRaw<'env, V>> {
    let raw = env.raw();
    let mut pending = false;
    unsafe { sys::napi_is_exception_pending(raw, &mut pending) };
    if !pending || error.status != Status::PendingException {
        return Err(error);
    }
    let mut reason = std::ptr::null_mut();
    let status = unsafe { sys::napi_get_and_clear_last_exception(raw, &mut reason) };
    if status != sys::Status::napi_ok {
        return Err(error);
    }
    PromiseRaw::reject(env, reason)
}
