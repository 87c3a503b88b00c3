//! The `ApiCircuitBreaker` class: an HTTP/JSON client behind its own circuit breaker, running
//! on the binding's Tokio runtime (reqwest, one keep-alive pool per breaker). Its options are
//! in `options.rs`, bodies in `body.rs`, errors in `error.rs`.

use std::sync::Arc;

pub(crate) mod body;
pub(crate) mod error;
mod options;

use napi::bindgen_prelude::Object;
use napi::{Env, JsValue, Result, Unknown};
use napi_derive::napi;
use neural_trader_clients::http::{self as client, ApiError, Body, Method, Request};
use neural_trader_resilience as core;

use self::body::{read_body, Payload, ResponseType};
use self::error::{headers_object, with_response, Failure};
pub(crate) use self::options::ApiClientOptions;
use self::options::{build, read_request_init, ApiRequestOptions};
use crate::breaker::{breaker_accessors, CircuitBreakerOptions};
use crate::js::errors::{IntoJsError, OrThrow, Prop};
use crate::js::options::{argument, read, read_name, Both};
use crate::js::promise::promise;
use crate::js::{Arg, Async};
use crate::runtime::spawn_io;

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
    pub fn new(env: Env, service_name: Arg, options: Arg) -> Result<Self> {
        let name = read_name(&env, service_name)?;
        let Both(own, breaker): Both<ApiClientOptions, CircuitBreakerOptions> =
            read(&env, "options", options)?;
        let options = own
            .options(&breaker, client::ApiOptions::default())
            .or_throw(&env)?;
        let inner = client::ApiCircuitBreaker::with_options(&name, options).or_throw(&env)?;
        Ok(Self::wrap(Arc::new(inner)))
    }

    /// `GET url`, resolving with the body (parsed JSON, text, a `Buffer` or `null`; see
    /// `responseType`).
    #[napi(
        ts_generic_types = "T = any",
        ts_args_type = "url: string, options?: ApiRequestOptions",
        ts_return_type = "Promise<T>"
    )]
    pub fn get<'e>(&self, env: &'e Env, url: Arg<'e>, options: Arg<'e>) -> Async<'e> {
        self.simple(env, Method::GET, url, None, options)
    }

    /// `POST url` with `body` (an object is sent as JSON, a string as text, a `Buffer` as
    /// bytes), resolving with the response body.
    #[napi(
        ts_generic_types = "T = any",
        ts_args_type = "url: string, body?: unknown, options?: ApiRequestOptions",
        ts_return_type = "Promise<T>"
    )]
    pub fn post<'e>(
        &self,
        env: &'e Env,
        url: Arg<'e>,
        body: Arg<'e>,
        options: Arg<'e>,
    ) -> Async<'e> {
        self.simple(env, Method::POST, url, Some(body), options)
    }

    /// `PUT url` with `body`, resolving with the response body.
    #[napi(
        ts_generic_types = "T = any",
        ts_args_type = "url: string, body?: unknown, options?: ApiRequestOptions",
        ts_return_type = "Promise<T>"
    )]
    pub fn put<'e>(
        &self,
        env: &'e Env,
        url: Arg<'e>,
        body: Arg<'e>,
        options: Arg<'e>,
    ) -> Async<'e> {
        self.simple(env, Method::PUT, url, Some(body), options)
    }

    /// `DELETE url`, resolving with the response body (`null` for a 204).
    #[napi(
        ts_generic_types = "T = any",
        ts_args_type = "url: string, options?: ApiRequestOptions",
        ts_return_type = "Promise<T>"
    )]
    pub fn delete<'e>(&self, env: &'e Env, url: Arg<'e>, options: Arg<'e>) -> Async<'e> {
        self.simple(env, Method::DELETE, url, None, options)
    }

    /// Any request, resolving with `{ status, headers, body }` (a status of 400 or more rejects
    /// with an `HttpError`, as the other methods do).
    #[napi(
        ts_generic_types = "T = any",
        ts_args_type = "init: ApiRequestInit",
        ts_return_type = "Promise<ApiResponse<T>>"
    )]
    pub fn request<'e>(&self, env: &'e Env, init: Arg<'e>) -> Async<'e> {
        promise(env, || {
            let (request, kind) = read_request_init(env, init)?;
            self.send(env, request, kind, Shape::Response)
        })
    }

    /// Closes the client: requests in flight reject with an `HttpError` `ERR_HTTP_CLOSED`
    /// (not counted against the service), so does every later request, and the keep-alive
    /// connections are dropped (their sockets are shut right after the promise resolves).
    /// Calling it again resolves at once. `await using api = new ApiCircuitBreaker(..)` calls
    /// it when the scope ends.
    #[napi(ts_return_type = "Promise<void>")]
    pub fn close<'e>(&self, env: &'e Env) -> Async<'e, ()> {
        let api = Arc::clone(&self.inner);
        let close = async move {
            api.close().await;
            Ok::<_, ApiError>(())
        };
        promise(env, || spawn_io(env, close, |_, ()| Ok(())))
    }
}

breaker_accessors!(ApiCircuitBreaker);

impl ApiCircuitBreaker {
    fn core_breaker(&self) -> Arc<core::CircuitBreaker> {
        self.inner.breaker()
    }

    /// Wraps a client built elsewhere (by the trading system, say).
    pub(crate) fn wrap(inner: Arc<client::ApiCircuitBreaker>) -> Self {
        Self { inner }
    }

    fn simple<'e>(
        &self,
        env: &'e Env,
        method: Method,
        url: Arg<'e>,
        body: Option<Arg<'e>>,
        options: Arg<'e>,
    ) -> Async<'e> {
        promise(env, || {
            let url = argument(env, "url", url)?;
            let body = body.map_or(Ok(Body::Empty), |body| read_body(env, body))?;
            let options: ApiRequestOptions = read(env, "options", options)?;
            let (request, kind) = build(env, method, url, body, options)?;
            self.send(env, request, kind, Shape::Body)
        })
    }

    fn send<'e>(
        &self,
        env: &'e Env,
        request: Request,
        kind: ResponseType,
        shape: Shape,
    ) -> Async<'e> {
        let api = Arc::clone(&self.inner);
        let method = request.method.clone();
        let response = async move {
            let response = api.request(request).await.map_err(Failure::from)?;
            Ok::<_, Failure>(Decoded {
                status: response.status.as_u16(),
                body: Payload::decode(kind, &response.headers, response.body),
                headers: response.headers,
                method,
                url: response.url,
            })
        };
        spawn_io(env, response, move |env, decoded: Decoded| {
            decoded.into_js(env, shape)
        })
    }
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
                let spec = error
                    .into_js_error()
                    .with("status", Prop::Num(f64::from(self.status)))
                    .with("url", Prop::Str(self.url.clone()))
                    .with("method", Prop::Str(self.method.to_string()));
                let body = not_json.text(env);
                return Err(with_response(env, spec, &self.headers, body));
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
