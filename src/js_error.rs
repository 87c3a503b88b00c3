//! Errors that reach JavaScript as rejections of the domain breakers' promises, and the helper
//! that runs a Rust future and settles a promise with its result.
//!
//! Errors are real instances of the classes `resilience.js` defines (`CircuitOpenError`,
//! `CircuitTimeoutError`, `HttpError`, `DatabaseError`), registered per JS environment (main
//! thread or worker, see `js_helpers.rs`), each with a stable `code` and its own fields.

use std::ffi::CString;
use std::future::Future;
use std::ptr;

use napi::bindgen_prelude::{JsObjectValue, Object, PromiseRaw, ToNapiValue};
use napi::{sys, Env, Error, Result, Status, Unknown};
use neural_trader_resilience::{CallError, CircuitBreakerError};

use crate::settle::{self, FirstPoll};

/// The class a JS error is an instance of.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ErrorClass {
    Error,
    TypeError,
    RangeError,
    CircuitOpen,
    CircuitTimeout,
    Http,
    Database,
}

impl ErrorClass {
    /// Classes registered by `resilience.js`, by the key it registers them under.
    pub(crate) const REGISTERED: [(ErrorClass, &'static str); 4] = [
        (ErrorClass::CircuitOpen, "CircuitOpenError"),
        (ErrorClass::CircuitTimeout, "CircuitTimeoutError"),
        (ErrorClass::Http, "HttpError"),
        (ErrorClass::Database, "DatabaseError"),
    ];
}

/// A value of an error's own field.
// Not every kind is used by the domain errors written so far.
#[allow(dead_code)]
#[derive(Debug, Clone)]
pub(crate) enum Prop {
    Str(String),
    Num(f64),
    Bool(bool),
    Null,
    /// Bytes, as a `Buffer`.
    Bytes(Vec<u8>),
}

/// An error to create in JavaScript: class, `code`, message and extra fields.
#[derive(Debug, Clone)]
pub(crate) struct JsErrorSpec {
    pub(crate) class: ErrorClass,
    pub(crate) code: &'static str,
    pub(crate) message: String,
    pub(crate) props: Vec<(&'static str, Prop)>,
}

impl JsErrorSpec {
    pub(crate) fn new(class: ErrorClass, code: &'static str, message: impl Into<String>) -> Self {
        Self {
            class,
            code,
            message: message.into(),
            props: Vec::new(),
        }
    }

    pub(crate) fn with(mut self, name: &'static str, value: Prop) -> Self {
        self.props.push((name, value));
        self
    }

    /// Creates the JS error object.
    pub(crate) fn create<'env>(&self, env: &'env Env) -> Result<Unknown<'env>> {
        let raw_env = env.raw();
        let message = unsafe { String::to_napi_value(raw_env, self.message.clone())? };
        let mut error = ptr::null_mut();
        let registered = crate::js_helpers::error_class(env, self.class)?;
        let status = match (registered, self.class) {
            (Some(ctor), _) => unsafe {
                sys::napi_new_instance(raw_env, ctor, 1, [message].as_ptr(), &mut error)
            },
            (None, ErrorClass::TypeError) => unsafe {
                sys::napi_create_type_error(raw_env, ptr::null_mut(), message, &mut error)
            },
            (None, ErrorClass::RangeError) => unsafe {
                sys::napi_create_range_error(raw_env, ptr::null_mut(), message, &mut error)
            },
            (None, _) => unsafe {
                sys::napi_create_error(raw_env, ptr::null_mut(), message, &mut error)
            },
        };
        check(status, "create an error")?;
        set(env, error, "code", &Prop::Str(self.code.to_string()))?;
        for (name, value) in &self.props {
            set(env, error, name, value)?;
        }
        Ok(unsafe { Unknown::from_raw_unchecked(raw_env, error) })
    }

    /// A `napi::Error` that rejects (or throws) with the JS error object itself.
    pub(crate) fn into_napi_error(self, env: &Env) -> Error {
        match self.create(env) {
            Ok(value) => Error::from(value),
            Err(_) => Error::new(
                Status::GenericFailure,
                format!("{}: {}", self.code, self.message),
            ),
        }
    }
}

/// `Ok` when an N-API call succeeded, otherwise an `Error` saying it could not `what`.
pub(crate) fn check(status: sys::napi_status, what: &str) -> Result<()> {
    if status == sys::Status::napi_ok {
        Ok(())
    } else {
        Err(Error::new(
            Status::GenericFailure,
            format!("could not {what}"),
        ))
    }
}

fn set(env: &Env, object: sys::napi_value, name: &str, value: &Prop) -> Result<()> {
    let raw_env = env.raw();
    let value = unsafe {
        match value {
            Prop::Str(s) => String::to_napi_value(raw_env, s.clone())?,
            Prop::Num(n) => f64::to_napi_value(raw_env, *n)?,
            Prop::Bool(b) => bool::to_napi_value(raw_env, *b)?,
            Prop::Null => {
                napi::bindgen_prelude::Null::to_napi_value(raw_env, napi::bindgen_prelude::Null)?
            }
            Prop::Bytes(bytes) => {
                napi::bindgen_prelude::Buffer::to_napi_value(raw_env, bytes.clone().into())?
            }
        }
    };
    let name = CString::new(name).map_err(|_| Error::from_reason("a field name has a NUL"))?;
    check(
        unsafe { sys::napi_set_named_property(raw_env, object, name.as_ptr(), value) },
        "set an error field",
    )
}

/// What a Rust error becomes in JavaScript.
pub(crate) trait IntoJsError {
    fn into_js_error(self) -> JsErrorSpec;
}

impl IntoJsError for CircuitBreakerError {
    fn into_js_error(self) -> JsErrorSpec {
        let message = self.to_string();
        match self {
            CircuitBreakerError::Open { name } => {
                JsErrorSpec::new(ErrorClass::CircuitOpen, "ERR_CIRCUIT_OPEN", message)
                    .with("breaker", Prop::Str(name.to_string()))
            }
            CircuitBreakerError::Timeout { name, timeout } => {
                JsErrorSpec::new(ErrorClass::CircuitTimeout, "ERR_CIRCUIT_TIMEOUT", message)
                    .with("breaker", Prop::Str(name.to_string()))
                    .with("timeout", Prop::Num(timeout.as_nanos() as f64 / 1e6))
            }
            other @ CircuitBreakerError::TimerUnavailable { .. } => {
                JsErrorSpec::new(ErrorClass::Error, other.code(), message)
            }
        }
    }
}

impl<E: IntoJsError> IntoJsError for CallError<E> {
    fn into_js_error(self) -> JsErrorSpec {
        match self {
            CallError::Breaker(e) => e.into_js_error(),
            CallError::Operation(e) => e.into_js_error(),
        }
    }
}

/// Runs `future` (an I/O client's operation: its first poll runs on the JS thread, see
/// `settle.rs`) and returns a promise that resolves with `convert(value)` (run on the JS
/// thread) or rejects with the error as its JS class.
pub(crate) fn spawn<'env, T, E, F, V, C>(
    env: &'env Env,
    future: F,
    convert: C,
) -> Result<PromiseRaw<'env, V>>
where
    T: Send + 'static,
    E: IntoJsError + Send + 'static,
    F: Future<Output = std::result::Result<T, E>> + Send + 'static,
    V: ToNapiValue,
    C: FnOnce(&'env Env, T) -> Result<V> + Send + 'static,
{
    settle::spawn(env, FirstPoll::JsThread, future, convert, reject::<E>)
}

/// The rejection of a promise that failed with `error`: the error as its JS class.
pub(crate) fn reject<E: IntoJsError>(env: &Env, error: E) -> Error {
    error.into_js_error().into_napi_error(env)
}

/// Parses JSON text into a JS value with the engine's own `JSON.parse` (faster than building
/// the value property by property through N-API). Text that is not JSON is an `Err` carrying
/// the `SyntaxError`, with no exception left pending (`call` clears it; `apply` would not).
pub(crate) fn parse_json<'env>(env: &'env Env, text: &str) -> Result<Unknown<'env>> {
    let global = env.get_global()?;
    let json: Object = global.get_named_property("JSON")?;
    let parse: napi::bindgen_prelude::Function<String, Unknown> =
        json.get_named_property("parse")?;
    parse.call(text.to_string())
}
