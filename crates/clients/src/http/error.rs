//! The error of every [`super::ApiCircuitBreaker`] request, with a stable code per kind.
//!
//! No message ever shows a secret: URLs appear with their userinfo and credential-looking query
//! values masked ([`crate::redact`]), header values never appear, and messages of third-party
//! errors are scrubbed of the request's secrets before they are kept.

use std::fmt;
use std::time::Duration;

use bytes::Bytes;
use neural_trader_resilience::{CircuitBreakerError, ConfigError};
use reqwest::header::HeaderMap;
use reqwest::{Method, StatusCode};

/// A response whose status the caller must handle (400 and above).
#[derive(Debug, Clone)]
pub struct StatusError {
    /// The request method.
    pub method: Method,
    /// The URL that answered (after redirects), secrets masked.
    pub url: String,
    /// The response status.
    pub status: StatusCode,
    /// The response headers.
    pub headers: HeaderMap,
    /// The response body.
    pub body: Bytes,
    /// The `Retry-After` of a 429 or 503 (delta-seconds or HTTP-date), capped at the client's
    /// `max_retry_after`.
    pub retry_after: Option<Duration>,
}

/// Why an HTTP request through an [`super::ApiCircuitBreaker`] failed. [`ApiError::code`] is
/// stable; messages are for people.
#[derive(Debug)]
#[non_exhaustive]
pub enum ApiError {
    /// `ERR_HTTP_STATUS`: the service answered with a status of 400 or more. 5xx, 408 and 429
    /// count as failures of the service; other 4xx are the caller's and do not.
    Status(Box<StatusError>),
    /// `ERR_HTTP_CONNECT`: no connection could be made (refused, DNS, TLS handshake, connect
    /// timeout).
    Connect {
        /// What happened, secrets masked.
        message: String,
    },
    /// `ERR_HTTP_IO`: the connection failed while sending the request or reading the response
    /// (reset, closed mid-response, malformed HTTP).
    Io {
        /// What happened, secrets masked.
        message: String,
    },
    /// `ERR_HTTP_REDIRECT`: the service redirected too many times (more than 10), or to a
    /// `Location` that is not an `http:` / `https:` URL.
    Redirect {
        /// What happened, secrets masked.
        message: String,
    },
    /// `ERR_HTTP_CLOSED`: the client was closed ([`super::ApiCircuitBreaker::close`]) before or
    /// while the request ran; nothing more was sent. Not the service's fault: the circuit does
    /// not move.
    Closed {
        /// What happened.
        message: String,
    },
    /// `ERR_HTTP_BODY_TOO_LARGE`: the response body is larger than the client's
    /// `max_response_bytes` (by its `Content-Length`, or as it arrived); the rest was not read.
    /// The service answered, so the exchange does not move the circuit.
    BodyTooLarge {
        /// What happened, secrets masked.
        message: String,
        /// The limit, in bytes.
        limit: u64,
    },
    /// `ERR_HTTP_DECODE`: the response body is not what the caller asked for (not JSON, or not
    /// the expected shape). The exchange itself counted as a success.
    Decode {
        /// What happened.
        message: String,
    },
    /// `ERR_INVALID_URL`: a URL that does not parse, is relative without a base URL, or is not
    /// `http:` / `https:`. The request was not sent and the breaker did not count it.
    InvalidUrl {
        /// What is wrong, secrets masked.
        message: String,
    },
    /// `ERR_INVALID_ARG_VALUE`: a bad header name or value, method or body. The request was not
    /// sent and the breaker did not count it.
    InvalidArgument {
        /// What is wrong (never a header value).
        message: String,
    },
    /// A breaker configuration out of range (its code: `ERR_OUT_OF_RANGE`, ...).
    Config(Box<ConfigError>),
    /// `ERR_CIRCUIT_OPEN` (the request was not sent) or `ERR_CIRCUIT_TIMEOUT` (the request,
    /// body included, outlived its deadline and was dropped; counted as a failure).
    Circuit(CircuitBreakerError),
}

impl ApiError {
    /// The stable code: `ERR_HTTP_STATUS`, `ERR_HTTP_CONNECT`, `ERR_HTTP_IO`,
    /// `ERR_HTTP_REDIRECT`, `ERR_HTTP_CLOSED`, `ERR_HTTP_BODY_TOO_LARGE`, `ERR_HTTP_DECODE`, `ERR_INVALID_URL`, `ERR_INVALID_ARG_VALUE`, a
    /// configuration error's code, `ERR_CIRCUIT_OPEN` or `ERR_CIRCUIT_TIMEOUT`.
    pub fn code(&self) -> &'static str {
        match self {
            ApiError::Status(_) => "ERR_HTTP_STATUS",
            ApiError::Connect { .. } => "ERR_HTTP_CONNECT",
            ApiError::Io { .. } => "ERR_HTTP_IO",
            ApiError::Redirect { .. } => "ERR_HTTP_REDIRECT",
            ApiError::Closed { .. } => "ERR_HTTP_CLOSED",
            ApiError::BodyTooLarge { .. } => "ERR_HTTP_BODY_TOO_LARGE",
            ApiError::Decode { .. } => "ERR_HTTP_DECODE",
            ApiError::InvalidUrl { .. } => "ERR_INVALID_URL",
            ApiError::InvalidArgument { .. } => "ERR_INVALID_ARG_VALUE",
            ApiError::Config(e) => e.code(),
            ApiError::Circuit(e) => e.code(),
        }
    }

    /// The response status, for [`ApiError::Status`].
    pub fn status(&self) -> Option<StatusCode> {
        match self {
            ApiError::Status(e) => Some(e.status),
            _ => None,
        }
    }

    /// Whether the circuit was open (the request was not sent).
    pub fn is_circuit_open(&self) -> bool {
        matches!(self, ApiError::Circuit(e) if e.is_open())
    }

    /// Whether the request outlived its deadline.
    pub fn is_timeout(&self) -> bool {
        matches!(self, ApiError::Circuit(e) if e.is_timeout())
    }

    pub(crate) fn closed(name: &str) -> Self {
        ApiError::Closed {
            message: format!("the HTTP client '{name}' is closed"),
        }
    }

    pub(crate) fn invalid_url(message: impl Into<String>) -> Self {
        ApiError::InvalidUrl {
            message: message.into(),
        }
    }

    pub(crate) fn invalid_argument(message: impl Into<String>) -> Self {
        ApiError::InvalidArgument {
            message: message.into(),
        }
    }
}

impl fmt::Display for StatusError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {} responded {}", self.method, self.url, self.status)
    }
}

impl fmt::Display for ApiError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ApiError::Status(e) => e.fmt(f),
            ApiError::Connect { message }
            | ApiError::Io { message }
            | ApiError::Redirect { message }
            | ApiError::Closed { message }
            | ApiError::BodyTooLarge { message, .. }
            | ApiError::Decode { message }
            | ApiError::InvalidUrl { message }
            | ApiError::InvalidArgument { message } => f.write_str(message),
            ApiError::Config(e) => e.fmt(f),
            ApiError::Circuit(e) => e.fmt(f),
        }
    }
}

impl std::error::Error for ApiError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            ApiError::Config(e) => Some(e.as_ref()),
            ApiError::Circuit(e) => Some(e),
            _ => None,
        }
    }
}

impl From<CircuitBreakerError> for ApiError {
    fn from(e: CircuitBreakerError) -> Self {
        ApiError::Circuit(e)
    }
}

impl From<ConfigError> for ApiError {
    fn from(e: ConfigError) -> Self {
        ApiError::Config(Box::new(e))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_stable() {
        let status = ApiError::Status(Box::new(StatusError {
            method: Method::GET,
            url: "http://127.0.0.1/x".into(),
            status: StatusCode::NOT_FOUND,
            headers: HeaderMap::new(),
            body: Bytes::new(),
            retry_after: None,
        }));
        assert_eq!(status.code(), "ERR_HTTP_STATUS");
        assert_eq!(status.status(), Some(StatusCode::NOT_FOUND));
        assert_eq!(
            status.to_string(),
            "GET http://127.0.0.1/x responded 404 Not Found"
        );
        assert_eq!(ApiError::invalid_url("bad").code(), "ERR_INVALID_URL");
        let too_large = ApiError::BodyTooLarge {
            message: "GET http://127.0.0.1/x: too large".into(),
            limit: 10,
        };
        assert_eq!(too_large.code(), "ERR_HTTP_BODY_TOO_LARGE");
        assert_eq!(too_large.to_string(), "GET http://127.0.0.1/x: too large");
        assert_eq!(
            ApiError::invalid_argument("bad").code(),
            "ERR_INVALID_ARG_VALUE"
        );
        let open = ApiError::from(CircuitBreakerError::Open { name: "a".into() });
        assert!(open.is_circuit_open() && !open.is_timeout());
        assert_eq!(open.code(), "ERR_CIRCUIT_OPEN");
    }

    #[test]
    fn is_small() {
        assert!(std::mem::size_of::<ApiError>() <= 48);
    }
}
