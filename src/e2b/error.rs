//! `E2BError` as JavaScript errors. HTTP failures are the `HttpError`s of `ApiCircuitBreaker`
//! (same mapping, `status`, `headers` with credentials masked, E2B's `{code, message}` body);
//! the breaker's are `CircuitOpenError` / `CircuitTimeoutError`; the E2B-specific ones are
//! `Error`s with a `code`: `ERR_E2B_NO_API_KEY`, `ERR_SANDBOX_NOT_FOUND` (with `sandboxId`),
//! `ERR_E2B_STREAM`, `ERR_E2B_RESPONSE`; bad arguments are `TypeError`s.

use napi::{Env, Error};
use neural_trader_clients::e2b::E2BError;

use crate::http::error::Failure;
use crate::js::errors::{ErrorClass, IntoJsError, JsErrorSpec, Prop};

impl IntoJsError for E2BError {
    fn into_js_error(self) -> JsErrorSpec {
        let code = self.code();
        let message = self.to_string();
        match self {
            E2BError::Api(e) => e.into_js_error(),
            E2BError::InvalidArgument { .. } => {
                JsErrorSpec::new(ErrorClass::TypeError, code, message)
            }
            E2BError::SandboxNotFound { sandbox_id } => {
                JsErrorSpec::new(ErrorClass::Error, code, message)
                    .with("sandboxId", Prop::Str(sandbox_id))
            }
            _ => JsErrorSpec::new(ErrorClass::Error, code, message),
        }
    }
}

/// A failed E2B call, prepared on the Tokio thread: HTTP failures keep their response (decoded
/// on the JS thread as `ApiCircuitBreaker`'s are).
pub(crate) enum E2BFailure {
    Http(Failure),
    Other(E2BError),
}

impl From<E2BError> for E2BFailure {
    fn from(error: E2BError) -> Self {
        match error {
            E2BError::Api(e) => E2BFailure::Http(Failure::from(e)),
            other => E2BFailure::Other(other),
        }
    }
}

impl E2BFailure {
    /// The JS error (on the JS thread), as a `napi::Error` that rejects with it.
    pub(crate) fn into_js(self, env: &Env) -> Error {
        match self {
            E2BFailure::Http(failure) => failure.into_js(env),
            E2BFailure::Other(error) => error.into_js_error().throw(env),
        }
    }
}
