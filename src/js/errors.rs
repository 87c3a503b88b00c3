//! The one place JS errors are made: [`JsErrorSpec`] (class, `code`, message, fields), what a
//! Rust error becomes ([`IntoJsError`]), and a [`ConfigError`] rendered in Node's words.
//!
//! Errors are real instances of the classes `lib/errors.js` defines (`CircuitOpenError`,
//! `CircuitTimeoutError`, `HttpError`, `DatabaseError`), registered per JS environment (main
//! thread or worker, see `helpers.rs`), or the engine's own `Error` / `TypeError` /
//! `RangeError`, each with a stable `code` and its own fields.

use std::ptr;

use napi::bindgen_prelude::{Object, ToNapiValue};
use napi::{sys, Env, Error, Result, Status, Unknown};
use neural_trader_resilience::{CallError, CircuitBreakerError, ConfigError, ConfigErrorKind};

use super::check;

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
    /// The name `resilience.js` registers the class under: our classes, and the realm's own
    /// `Error`, `TypeError`, `RangeError` (made with napi's functions when none is registered).
    fn registered_name(self) -> &'static str {
        match self {
            ErrorClass::CircuitOpen => "CircuitOpenError",
            ErrorClass::CircuitTimeout => "CircuitTimeoutError",
            ErrorClass::Http => "HttpError",
            ErrorClass::Database => "DatabaseError",
            ErrorClass::Error => "Error",
            ErrorClass::TypeError => "TypeError",
            ErrorClass::RangeError => "RangeError",
        }
    }
}

/// A value of an error's own field.
#[derive(Debug, Clone)]
pub(crate) enum Prop {
    Str(String),
    Num(f64),
}

impl ToNapiValue for Prop {
    unsafe fn to_napi_value(env: sys::napi_env, prop: Self) -> Result<sys::napi_value> {
        match prop {
            Prop::Str(s) => unsafe { String::to_napi_value(env, s) },
            Prop::Num(n) => unsafe { f64::to_napi_value(env, n) },
        }
    }
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

    pub(crate) fn type_error(code: &'static str, message: impl Into<String>) -> Self {
        Self::new(ErrorClass::TypeError, code, message)
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
        let registered = super::helpers::registered(env, self.class.registered_name())?;
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
        let error = unsafe { Unknown::from_raw_unchecked(raw_env, error) };
        let mut object: Object = unsafe { error.cast()? };
        object.set("code", self.code)?;
        for (name, value) in &self.props {
            object.set(name, value.clone())?;
        }
        Ok(error)
    }

    /// A `napi::Error` that rejects (or throws) with the JS error object itself.
    pub(crate) fn throw(self, env: &Env) -> Error {
        match self.create(env) {
            Ok(value) => Error::from(value),
            Err(_) => Error::new(
                Status::GenericFailure,
                format!("{}: {}", self.code, self.message),
            ),
        }
    }
}

/// What a Rust error becomes in JavaScript.
pub(crate) trait IntoJsError {
    fn into_js_error(self) -> JsErrorSpec;
}

/// A result whose error becomes its JS error, to throw or reject with.
pub(crate) trait OrThrow<T> {
    fn or_throw(self, env: &Env) -> Result<T>;
}

impl<T, E: IntoJsError> OrThrow<T> for std::result::Result<T, E> {
    fn or_throw(self, env: &Env) -> Result<T> {
        self.map_err(|e| reject(env, e))
    }
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

/// The rejection of a promise that failed with `error`: the error as its JS class.
pub(crate) fn reject<E: IntoJsError>(env: &Env, error: E) -> Error {
    error.into_js_error().throw(env)
}

/// Whether a [`ConfigError`] is about an option (a key of an options object) or an argument.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Noun {
    Option,
    Argument,
}

/// A [`ConfigError`] in Node's words, as a `TypeError` or `RangeError` with its `code`. Fields
/// named in Rust (`failure_threshold`) are shown as JS spells them (`failureThreshold`).
pub(crate) fn config_error(error: &ConfigError, noun: Noun) -> JsErrorSpec {
    let field = camel_case(&error.field);
    let noun = match noun {
        Noun::Option => "option",
        Noun::Argument => "argument",
    };
    let received = match error.received.as_str() {
        "" => String::new(),
        text => format!(". Received {text}"),
    };
    let (class, message) = match error.kind {
        ConfigErrorKind::OutOfRange => (
            ErrorClass::RangeError,
            format!(
                "The value of \"{field}\" is out of range. It must be {}{received}",
                error.expected
            ),
        ),
        ConfigErrorKind::InvalidType | ConfigErrorKind::InvalidValue => (
            ErrorClass::TypeError,
            format!(
                "The \"{field}\" {noun} must be {}{received}",
                error.expected
            ),
        ),
    };
    JsErrorSpec::new(class, error.code(), message)
}

impl IntoJsError for ConfigError {
    fn into_js_error(self) -> JsErrorSpec {
        config_error(&self, Noun::Option)
    }
}

/// `failure_threshold` as `failureThreshold` (napi's spelling of field names; a name without
/// `_` is returned as it is).
pub(crate) fn camel_case(name: &str) -> String {
    let mut out = String::with_capacity(name.len());
    let mut upper = false;
    for c in name.chars() {
        if c == '_' {
            upper = true;
        } else if upper {
            out.extend(c.to_uppercase());
            upper = false;
        } else {
            out.push(c);
        }
    }
    out
}
