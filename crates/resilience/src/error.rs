//! Errors the breaker itself produces, each with a stable code.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

/// Why the breaker refused or ended a call.
///
/// `call` returns it inside an [`anyhow::Error`]; get it back with `downcast_ref`:
///
/// ```
/// # use neural_trader_resilience::{CircuitBreaker, CircuitBreakerConfig, CircuitBreakerError};
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() {
/// let cb = CircuitBreaker::new("feed".to_string(), CircuitBreakerConfig {
///     failure_threshold: 1,
///     ..Default::default()
/// });
/// let _ = cb.call(async { Err::<(), _>(anyhow::anyhow!("down")) }).await;
/// let err = cb.call(async { Ok::<_, anyhow::Error>(1) }).await.unwrap_err();
/// assert!(err.to_string().contains("is OPEN"));
/// let typed = err.downcast_ref::<CircuitBreakerError>().unwrap();
/// assert_eq!(typed.code(), "ERR_CIRCUIT_OPEN");
/// # }
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CircuitBreakerError {
    /// The circuit is open (or half-open with every probe slot taken): the call did not run.
    Open {
        /// The breaker's name.
        name: Arc<str>,
    },
    /// The call did not finish within the configured timeout; it was dropped.
    Timeout {
        /// The breaker's name.
        name: Arc<str>,
        /// The timeout that elapsed.
        timeout: Duration,
    },
    /// The call needed a deadline but no Tokio runtime was running to provide one.
    TimerUnavailable {
        /// The breaker's name.
        name: Arc<str>,
    },
}

impl CircuitBreakerError {
    /// The stable code: `ERR_CIRCUIT_OPEN`, `ERR_CIRCUIT_TIMEOUT` or `ERR_CIRCUIT_NO_TIMER`.
    pub fn code(&self) -> &'static str {
        match self {
            CircuitBreakerError::Open { .. } => "ERR_CIRCUIT_OPEN",
            CircuitBreakerError::Timeout { .. } => "ERR_CIRCUIT_TIMEOUT",
            CircuitBreakerError::TimerUnavailable { .. } => "ERR_CIRCUIT_NO_TIMER",
        }
    }

    /// Whether the circuit was open (the call never ran).
    pub fn is_open(&self) -> bool {
        matches!(self, CircuitBreakerError::Open { .. })
    }

    /// Whether the call timed out.
    pub fn is_timeout(&self) -> bool {
        matches!(self, CircuitBreakerError::Timeout { .. })
    }
}

impl fmt::Display for CircuitBreakerError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CircuitBreakerError::Open { name } => write!(f, "Circuit breaker '{name}' is OPEN"),
            CircuitBreakerError::Timeout { name, timeout } => write!(
                f,
                "Circuit breaker '{name}' timed out after {} ms",
                timeout.as_millis()
            ),
            CircuitBreakerError::TimerUnavailable { name } => write!(
                f,
                "Circuit breaker '{name}' needs a Tokio runtime with timers to enforce its timeout"
            ),
        }
    }
}

impl std::error::Error for CircuitBreakerError {}

/// The error of [`crate::CircuitBreaker::execute`]: the breaker's own, or the operation's.
#[derive(Debug)]
pub enum CallError<E> {
    /// The breaker refused or ended the call.
    Breaker(CircuitBreakerError),
    /// The operation ran and returned this error.
    Operation(E),
}

impl<E> CallError<E> {
    /// The breaker's error, if it was one.
    pub fn breaker_error(&self) -> Option<&CircuitBreakerError> {
        match self {
            CallError::Breaker(e) => Some(e),
            CallError::Operation(_) => None,
        }
    }

    /// The operation's error, if it was one.
    pub fn into_operation_error(self) -> Option<E> {
        match self {
            CallError::Breaker(_) => None,
            CallError::Operation(e) => Some(e),
        }
    }
}

impl<E: fmt::Display> fmt::Display for CallError<E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CallError::Breaker(e) => e.fmt(f),
            CallError::Operation(e) => e.fmt(f),
        }
    }
}

impl<E: std::error::Error + 'static> std::error::Error for CallError<E> {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            CallError::Breaker(e) => Some(e),
            CallError::Operation(e) => Some(e),
        }
    }
}

/// The cheap, nameless refusal of [`crate::CircuitBreaker::try_acquire`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rejected;

impl fmt::Display for Rejected {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("circuit breaker rejected the call")
    }
}

impl std::error::Error for Rejected {}
