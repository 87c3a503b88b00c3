//! `ApiError` as JavaScript errors: `HttpError` (`ERR_HTTP_*`), `CircuitOpenError`,
//! `CircuitTimeoutError`, and `TypeError` / `RangeError` for the caller's mistakes.
//!
//! An `HttpError` for a status carries `status`, `statusText`, `headers` (credential-looking
//! values masked: errors end up in logs), `body` (parsed JSON when the response says JSON and
//! is, else text, or a `Buffer` for binary), `url` (secrets masked), `method` and, for a 429 or
//! 503 with `Retry-After`, `retryAfter` in ms.

use napi::bindgen_prelude::Object;
use napi::{Env, Error, Result, Unknown};
use neural_trader_clients::http::{header_pairs, ApiError, HeaderMap};

use super::body::Payload;
use crate::js::errors::{ErrorClass, IntoJsError, JsErrorSpec, Prop};
use crate::runtime::Rejection;

impl IntoJsError for ApiError {
    fn into_js_error(self) -> JsErrorSpec {
        let code = self.code();
        let message = self.to_string();
        match self {
            ApiError::Circuit(e) => e.into_js_error(),
            ApiError::InvalidUrl { .. } | ApiError::InvalidArgument { .. } => {
                JsErrorSpec::new(ErrorClass::TypeError, code, message)
            }
            ApiError::Config(e) => (*e).into_js_error(),
            ApiError::Status(e) => JsErrorSpec::new(ErrorClass::Http, code, message)
                .with("status", Prop::Num(f64::from(e.status.as_u16())))
                .with("url", Prop::Str(e.url))
                .with("method", Prop::Str(e.method.to_string())),
            ApiError::BodyTooLarge { limit, .. } => {
                JsErrorSpec::new(ErrorClass::Http, code, message)
                    .with("limit", Prop::Num(limit as f64))
            }
            _ => JsErrorSpec::new(ErrorClass::Http, code, message),
        }
    }
}

/// An error that may be an `ApiError` (E2B's and a model server's carry one).
pub(crate) trait CarriesApi: IntoJsError + Send + 'static {
    fn api_mut(&mut self) -> Option<&mut ApiError>;
}

impl CarriesApi for ApiError {
    fn api_mut(&mut self) -> Option<&mut ApiError> {
        Some(self)
    }
}

/// What a failed request becomes, prepared on the Tokio thread: the error, and for a status
/// its body already decoded as far as Rust can (the JSON itself is parsed on the JS thread).
pub(crate) enum Failure<E = ApiError> {
    /// A response with a status of 400 or more.
    Status {
        error: E,
        status_text: &'static str,
        headers: HeaderMap,
        body: Payload,
        retry_after_ms: Option<f64>,
    },
    /// Anything else.
    Other(E),
}

impl<E: CarriesApi> From<E> for Failure<E> {
    fn from(mut error: E) -> Self {
        let Some(ApiError::Status(status)) = error.api_mut() else {
            return Failure::Other(error);
        };
        let headers = std::mem::take(&mut status.headers);
        let body = Payload::auto(&headers, std::mem::take(&mut status.body));
        let retry_after_ms = status.retry_after.map(|d| d.as_secs_f64() * 1000.0);
        let status_text = status.status.canonical_reason().unwrap_or("");
        Failure::Status {
            error,
            status_text,
            headers,
            body,
            retry_after_ms,
        }
    }
}

impl<E: CarriesApi> Rejection for Failure<E> {
    fn reject(self, env: &Env) -> Error {
        match self {
            Failure::Other(error) => error.reject(env),
            Failure::Status {
                error,
                status_text,
                headers,
                body,
                retry_after_ms,
            } => {
                let mut spec = error
                    .into_js_error()
                    .with("statusText", Prop::Str(status_text.into()));
                if let Some(ms) = retry_after_ms {
                    spec = spec.with("retryAfter", Prop::Num(ms));
                }
                // A body announced as JSON that is not stays text: the status is the news.
                let body = body.into_js(env).or_else(|failed| failed.text(env));
                with_response(env, spec, &headers, body)
            }
        }
    }
}

/// The JS error `spec`, with the response's `headers` (credentials masked) and `body` as
/// fields: the one builder of an `HttpError` that carries a response.
pub(crate) fn with_response(
    env: &Env,
    spec: JsErrorSpec,
    headers: &HeaderMap,
    body: Result<Unknown<'_>>,
) -> Error {
    let built = spec.create(env).and_then(|error| {
        let mut object: Object = unsafe { error.cast()? };
        object.set("headers", headers_object(env, headers, true)?)?;
        object.set("body", body?)?;
        Ok(error)
    });
    match built {
        Ok(error) => Error::from(error),
        Err(e) => e,
    }
}

/// `headers` as a plain object (lower-case names, repeated values joined with `", "`); with
/// `mask_secrets`, credential-looking values are `***`.
pub(crate) fn headers_object<'env>(
    env: &'env Env,
    headers: &HeaderMap,
    mask_secrets: bool,
) -> Result<Object<'env>> {
    let mut object = Object::new(env)?;
    for (name, value) in header_pairs(headers, mask_secrets) {
        object.set(name, value)?;
    }
    Ok(object)
}
