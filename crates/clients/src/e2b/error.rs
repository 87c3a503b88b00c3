//! The error of every [`super::E2BSandboxCircuitBreaker`] call, with a stable code, and what
//! each one means for the circuit.
//!
//! Messages never show the API key or a sandbox's access tokens: HTTP errors come from the HTTP
//! layer, which scrubs every credential-looking header value from its messages, and the errors
//! made here name sandboxes and templates only.

use std::fmt;

use neural_trader_resilience::{CircuitBreakerError, Outcome};
use reqwest::StatusCode;

use crate::http::classify::error_outcome;
use crate::http::ApiError;

/// The message of the 502 with which E2B's edge answers for a sandbox that no longer exists.
const SANDBOX_NOT_FOUND_MESSAGE: &str = "the sandbox was not found";

/// Why an E2B call failed. [`E2BError::code`] is stable; messages are for people.
#[derive(Debug)]
#[non_exhaustive]
pub enum E2BError {
    /// `ERR_E2B_NO_API_KEY`: no API key (option or `E2B_API_KEY`); nothing was sent.
    NoApiKey,
    /// `ERR_SANDBOX_NOT_FOUND`: the sandbox does not exist (any more): it expired, was stopped,
    /// or never existed. The caller's problem, not the service's: it does not trip the breaker.
    SandboxNotFound {
        /// The sandbox asked for.
        sandbox_id: String,
    },
    /// `ERR_E2B_STREAM`: an execution's output stream broke off before `end_of_execution`, or
    /// carried a line that is not JSON. Counts as a failure.
    Stream {
        /// What happened.
        message: String,
    },
    /// `ERR_E2B_RESPONSE`: the control plane answered with a body the protocol does not allow
    /// (a created sandbox without an id, say). Counts as a failure.
    Response {
        /// What is wrong.
        message: String,
    },
    /// `ERR_INVALID_ARG_VALUE`: a bad argument or option (an empty template, a sandbox id that
    /// cannot be a host name label, both `language` and `context_id`, ...). Nothing was sent.
    InvalidArgument {
        /// What is wrong.
        message: String,
    },
    /// The HTTP layer's error: `ERR_HTTP_STATUS` (with the status, headers and E2B's
    /// `{code, message}` body), `ERR_HTTP_CONNECT`, `ERR_HTTP_IO`, `ERR_INVALID_URL`, a
    /// configuration error's code, or the breaker's `ERR_CIRCUIT_OPEN` / `ERR_CIRCUIT_TIMEOUT`.
    Api(ApiError),
}

impl E2BError {
    /// The stable code: `ERR_E2B_NO_API_KEY`, `ERR_SANDBOX_NOT_FOUND`, `ERR_E2B_STREAM`,
    /// `ERR_E2B_RESPONSE`, `ERR_INVALID_ARG_VALUE`, or the HTTP layer's code.
    pub fn code(&self) -> &'static str {
        match self {
            E2BError::NoApiKey => "ERR_E2B_NO_API_KEY",
            E2BError::SandboxNotFound { .. } => "ERR_SANDBOX_NOT_FOUND",
            E2BError::Stream { .. } => "ERR_E2B_STREAM",
            E2BError::Response { .. } => "ERR_E2B_RESPONSE",
            E2BError::InvalidArgument { .. } => "ERR_INVALID_ARG_VALUE",
            E2BError::Api(e) => e.code(),
        }
    }

    /// The HTTP status, for an `ERR_HTTP_STATUS`.
    pub fn status(&self) -> Option<StatusCode> {
        match self {
            E2BError::Api(e) => e.status(),
            _ => None,
        }
    }

    /// Whether the circuit was open (nothing was sent).
    pub fn is_circuit_open(&self) -> bool {
        matches!(self, E2BError::Api(e) if e.is_circuit_open())
    }

    /// Whether the call outlived its deadline.
    pub fn is_timeout(&self) -> bool {
        matches!(self, E2BError::Api(e) if e.is_timeout())
    }

    /// What a call that ended with this error means for the circuit: connection errors, 5xx,
    /// 408, 429 (with its `Retry-After`), broken streams and malformed answers count; 4xx and a
    /// vanished sandbox do not.
    pub(crate) fn outcome(&self) -> Outcome {
        match self {
            E2BError::Stream { .. } | E2BError::Response { .. } => Outcome::Failure,
            E2BError::Api(e) => error_outcome(e),
            E2BError::NoApiKey
            | E2BError::SandboxNotFound { .. }
            | E2BError::InvalidArgument { .. } => Outcome::Ignored,
        }
    }

    pub(crate) fn invalid_argument(message: impl Into<String>) -> Self {
        E2BError::InvalidArgument {
            message: message.into(),
        }
    }

    pub(crate) fn response(message: impl Into<String>) -> Self {
        E2BError::Response {
            message: message.into(),
        }
    }
}

/// Whether `error` is E2B's answer for a sandbox that is gone: a 502 whose JSON body says
/// `"The sandbox was not found"` (a closed port is also a 502, with a different message).
/// Returns the sandbox id the body names, if any.
fn vanished_sandbox(error: &ApiError) -> Option<String> {
    let ApiError::Status(status) = error else {
        return None;
    };
    if status.status != StatusCode::BAD_GATEWAY {
        return None;
    }
    let body: serde_json::Value = serde_json::from_slice(&status.body).ok()?;
    let message = body.get("message")?.as_str()?;
    if !message
        .to_ascii_lowercase()
        .contains(SANDBOX_NOT_FOUND_MESSAGE)
    {
        return None;
    }
    Some(
        body.get("sandboxId")
            .and_then(|id| id.as_str())
            .unwrap_or_default()
            .to_string(),
    )
}

impl From<ApiError> for E2BError {
    fn from(error: ApiError) -> Self {
        match vanished_sandbox(&error) {
            Some(sandbox_id) => E2BError::SandboxNotFound { sandbox_id },
            None => E2BError::Api(error),
        }
    }
}

impl From<CircuitBreakerError> for E2BError {
    fn from(error: CircuitBreakerError) -> Self {
        E2BError::Api(ApiError::Circuit(error))
    }
}

impl fmt::Display for E2BError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            E2BError::NoApiKey => f.write_str(
                "no E2B API key: pass the apiKey option or set E2B_API_KEY \
                 (https://e2b.dev/dashboard?tab=keys)",
            ),
            E2BError::SandboxNotFound { sandbox_id } if sandbox_id.is_empty() => {
                f.write_str("the sandbox was not found (it expired, was stopped or never existed)")
            }
            E2BError::SandboxNotFound { sandbox_id } => write!(
                f,
                "sandbox '{sandbox_id}' was not found (it expired, was stopped or never existed)"
            ),
            E2BError::Stream { message }
            | E2BError::Response { message }
            | E2BError::InvalidArgument { message } => f.write_str(message),
            E2BError::Api(e) => e.fmt(f),
        }
    }
}

impl std::error::Error for E2BError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            E2BError::Api(e) => Some(e),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::http::{HeaderMap, Method, StatusError};
    use std::time::Duration;

    fn status(code: u16, body: &str, retry_after: Option<Duration>) -> ApiError {
        ApiError::Status(Box::new(StatusError {
            method: Method::POST,
            url: "https://49999-sbx.e2b.app/execute".into(),
            status: StatusCode::from_u16(code).unwrap(),
            headers: HeaderMap::new(),
            body: body.to_string().into_bytes().into(),
            retry_after,
        }))
    }

    #[test]
    fn a_vanished_sandbox_is_not_found_and_does_not_count() {
        let e = E2BError::from(status(
            502,
            r#"{"sandboxId":"abc","message":"The sandbox was not found","code":502}"#,
            None,
        ));
        assert_eq!(e.code(), "ERR_SANDBOX_NOT_FOUND");
        assert_eq!(e.outcome(), Outcome::Ignored);
        assert!(e.to_string().contains("'abc'"), "{e}");
    }

    #[test]
    fn a_closed_port_and_other_5xx_count() {
        let port = E2BError::from(status(
            502,
            r#"{"sandboxId":"abc","message":"The sandbox is running but port is not open","port":49999,"code":502}"#,
            None,
        ));
        assert_eq!(port.code(), "ERR_HTTP_STATUS");
        assert_eq!(port.outcome(), Outcome::Failure);
        assert_eq!(
            E2BError::from(status(502, "not json", None)).outcome(),
            Outcome::Failure
        );
        assert_eq!(
            E2BError::from(status(500, "{}", None)).outcome(),
            Outcome::Failure
        );
    }

    #[test]
    fn throttling_holds_the_circuit_and_caller_errors_do_not_count() {
        let wait = Duration::from_secs(3);
        assert_eq!(
            E2BError::from(status(429, "{}", Some(wait))).outcome(),
            Outcome::FailureRetryAfter(wait)
        );
        for code in [400, 401, 404, 409, 422] {
            assert_eq!(
                E2BError::from(status(code, "{}", None)).outcome(),
                Outcome::Ignored,
                "{code}"
            );
        }
        assert_eq!(
            E2BError::Stream {
                message: "cut".into()
            }
            .outcome(),
            Outcome::Failure
        );
        assert_eq!(E2BError::NoApiKey.code(), "ERR_E2B_NO_API_KEY");
    }
}
