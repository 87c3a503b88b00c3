//! `E2BError` as JavaScript errors. HTTP failures are the `HttpError`s of `ApiCircuitBreaker`
//! (same mapping, `status`, `headers` with credentials masked, E2B's `{code, message}` body);
//! the breaker's are `CircuitOpenError` / `CircuitTimeoutError`; the E2B-specific ones are
//! `Error`s with a `code`: `ERR_E2B_NO_API_KEY`, `ERR_SANDBOX_NOT_FOUND` (with `sandboxId`),
//! `ERR_E2B_STREAM`, `ERR_E2B_RESPONSE`; bad arguments are `TypeError`s.

use neural_trader_clients::e2b::E2BError;
use neural_trader_clients::http::ApiError;

use crate::http::error::CarriesApi;
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

impl CarriesApi for E2BError {
    fn api_mut(&mut self) -> Option<&mut ApiError> {
        match self {
            E2BError::Api(api) => Some(api),
            _ => None,
        }
    }
}
