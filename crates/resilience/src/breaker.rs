//! The circuit breaker: a name, a config, the lock-free state machine, counters and a clock.

use std::fmt;
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use crate::clock::{Clock, MonotonicClock};
use crate::config::{duration_ms_ceil, validate_name, CircuitBreakerConfig, ConfigError};
use crate::deadline::{with_deadline, DeadlineError};
use crate::error::{CallError, CircuitBreakerError, Rejected};
use crate::metrics::{CircuitBreakerMetrics, Counters};
use crate::permit::{Outcome, Permit};
use crate::state::{Admission, Limits, PermitToken, State, StateMachine, Transition};

/// A circuit breaker (CLOSED / OPEN / HALF_OPEN) whose state is a lock-free atomic word.
///
/// It is `Send + Sync`: share it with `Arc` (the [`crate::CircuitBreakerRegistry`] does) and
/// call it from any thread.
///
/// ```
/// use neural_trader_resilience::{CircuitBreaker, CircuitBreakerConfig};
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() {
/// let cb = CircuitBreaker::new("my_service".to_string(), CircuitBreakerConfig::default());
/// let result = cb.call(async { Ok::<i32, anyhow::Error>(42) }).await;
/// assert_eq!(result.unwrap(), 42);
/// assert_eq!(cb.get_state().await, "CLOSED");
/// # }
/// ```
pub struct CircuitBreaker {
    state: StateMachine,
    counters: Counters,
    limits: Limits,
    config: CircuitBreakerConfig,
    name: Arc<str>,
    clock: Arc<dyn Clock>,
}

impl fmt::Debug for CircuitBreaker {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CircuitBreaker")
            .field("name", &self.name)
            .field("state", &self.state())
            .field("config", &self.config)
            .finish()
    }
}

impl CircuitBreaker {
    /// A breaker with the monotonic clock. Out-of-range config values are clamped into range
    /// (see [`CircuitBreakerConfig::clamped`]); use [`CircuitBreaker::try_new`] to refuse them.
    pub fn new(name: impl Into<Arc<str>>, config: CircuitBreakerConfig) -> Self {
        Self::with_clock(name, config, Arc::new(MonotonicClock))
    }

    /// A breaker with the monotonic clock, refusing an empty name or an out-of-range config.
    pub fn try_new(
        name: impl Into<Arc<str>>,
        config: CircuitBreakerConfig,
    ) -> Result<Self, ConfigError> {
        Self::try_with_clock(name, config, Arc::new(MonotonicClock))
    }

    /// A breaker reading time from `clock` (a [`crate::ManualClock`] in tests); clamps the config.
    pub fn with_clock(
        name: impl Into<Arc<str>>,
        config: CircuitBreakerConfig,
        clock: Arc<dyn Clock>,
    ) -> Self {
        let config = config.clamped();
        let limits = Limits {
            failure_threshold: config.failure_threshold,
            success_threshold: config.success_threshold,
            half_open_max_calls: config.half_open_max_calls(),
            reset_timeout_ms: duration_ms_ceil(config.reset_timeout),
        };
        Self {
            state: StateMachine::new(),
            counters: Counters::new(clock.now_ms()),
            limits,
            config,
            name: name.into(),
            clock,
        }
    }

    /// Like [`CircuitBreaker::with_clock`], but refuses an empty name or an out-of-range config.
    pub fn try_with_clock(
        name: impl Into<Arc<str>>,
        config: CircuitBreakerConfig,
        clock: Arc<dyn Clock>,
    ) -> Result<Self, ConfigError> {
        let name = name.into();
        validate_name(&name)?;
        config.validate()?;
        Ok(Self::with_clock(name, config, clock))
    }

    /// The breaker's name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The configuration in force.
    pub fn config(&self) -> &CircuitBreakerConfig {
        &self.config
    }

    /// The current state. Reading never makes a transition: an open circuit whose reset timeout
    /// has passed still reads OPEN until the next call half-opens it.
    pub fn state(&self) -> State {
        self.state.state()
    }

    /// A snapshot of the counters.
    pub fn metrics(&self) -> CircuitBreakerMetrics {
        self.counters.snapshot(
            &self.state.shared.fast_successes,
            || self.state.open_since_ms(),
            || self.clock.now_ms(),
        )
    }

    /// Successful calls as a percentage of all calls (100 when there were none).
    pub fn success_rate(&self) -> f64 {
        self.metrics().success_rate()
    }

    /// Sets every counter to zero (the state is kept).
    pub fn clear_metrics(&self) {
        self.counters
            .reset(&self.state.shared.fast_successes, self.clock.now_ms());
    }

    /// The state as a string starting with `CLOSED`, `OPEN` or `HALF_OPEN`.
    pub async fn get_state(&self) -> String {
        self.state().as_str().to_string()
    }

    /// A snapshot of the counters.
    pub async fn get_metrics(&self) -> CircuitBreakerMetrics {
        self.metrics()
    }

    /// Successful calls as a percentage of all calls (100 when there were none).
    pub async fn get_success_rate(&self) -> f64 {
        self.success_rate()
    }

    /// Sets every counter to zero (the state is kept).
    pub async fn reset_metrics(&self) {
        self.clear_metrics()
    }

    /// The error a rejected call gets.
    pub fn open_error(&self) -> CircuitBreakerError {
        CircuitBreakerError::Open {
            name: Arc::clone(&self.name),
        }
    }

    /// Asks to run one call now (the two-step API; [`CircuitBreaker::execute`] does both steps).
    /// A rejection is counted in the metrics.
    #[inline]
    pub fn try_acquire(&self) -> Result<Permit<'_>, Rejected> {
        self.acquire_token().map(|token| Permit::new(self, token))
    }

    /// Like [`CircuitBreaker::try_acquire`], returning a plain token for foreign callers, which
    /// must hand it back to [`CircuitBreaker::complete`] exactly once.
    #[inline]
    pub fn acquire_token(&self) -> Result<PermitToken, Rejected> {
        let (admission, transition) = self.state.acquire(&self.limits, || self.clock.now_ms());
        if let Some(t) = transition {
            self.on_transition(t);
        }
        match admission {
            Admission::Admitted(token) => Ok(token),
            Admission::Rejected => {
                self.counters.rejection();
                Err(Rejected)
            }
        }
    }

    /// Reports how the call admitted with `token` ended.
    #[inline]
    pub fn complete(&self, token: PermitToken, outcome: Outcome) {
        let transition = match outcome {
            Outcome::Success => {
                self.counters.success();
                if token.is_probe() || self.state.closed_success_needs_update() {
                    self.state.on_success(token, &self.limits)
                } else {
                    None
                }
            }
            Outcome::Failure | Outcome::FailureRetryAfter(_) => {
                self.counters.failure();
                let min_open_ms = match outcome {
                    Outcome::FailureRetryAfter(d) => Some(duration_ms_ceil(d)),
                    _ => None,
                };
                // The opening is counted before the open period is published, so that no
                // snapshot shows the half-opening of a period whose opening it does not count.
                self.state.on_failure(
                    token,
                    &self.limits,
                    min_open_ms,
                    || {
                        self.counters.opened();
                        self.clock.now_ms()
                    },
                    || self.clock.now_ms(),
                )
            }
            Outcome::Ignored => {
                self.counters.ignored();
                self.state.on_cancel(token);
                None
            }
            Outcome::Cancelled => {
                self.counters.failure();
                self.state.on_cancel(token);
                None
            }
        };
        if let Some(t) = transition {
            self.on_transition(t);
        }
    }

    /// Counts a transition; exactly one thread sees each.
    fn on_transition(&self, transition: Transition) {
        match transition {
            Transition::Opened => {}
            Transition::HalfOpened {
                opened_at_ms,
                now_ms,
            } => self.counters.half_opened(opened_at_ms, now_ms),
            Transition::Closed => {}
        }
    }

    /// Runs `operation` through the breaker, keeping the breaker's and the operation's errors
    /// apart. The operation is dropped, and counted as a failure, if it outlives the timeout.
    pub async fn execute<F, T, E>(&self, operation: F) -> Result<T, CallError<E>>
    where
        F: Future<Output = Result<T, E>>,
    {
        self.execute_with(operation, None, |result| match result {
            Ok(_) => Outcome::Success,
            Err(_) => Outcome::Failure,
        })
        .await
    }

    /// Runs `operation` through the breaker with a per-call `timeout` (`None`: the configured
    /// one) and a `classify` function that decides what its result means for the circuit: this
    /// is how a domain client says that an HTTP 404 is [`Outcome::Ignored`], or that a 429 is
    /// [`Outcome::FailureRetryAfter`]. The result itself is returned as it is.
    pub async fn execute_with<F, T, E, C>(
        &self,
        operation: F,
        timeout: Option<Duration>,
        classify: C,
    ) -> Result<T, CallError<E>>
    where
        F: Future<Output = Result<T, E>>,
        C: FnOnce(&Result<T, E>) -> Outcome,
    {
        let permit = self
            .try_acquire()
            .map_err(|Rejected| CallError::Breaker(self.open_error()))?;
        let timeout = timeout.unwrap_or(self.config.timeout);
        match with_deadline(operation, timeout).await {
            Ok(result) => {
                permit.finish(classify(&result));
                result.map_err(CallError::Operation)
            }
            Err(DeadlineError::Elapsed) => {
                permit.failure();
                Err(CallError::Breaker(CircuitBreakerError::Timeout {
                    name: Arc::clone(&self.name),
                    timeout,
                }))
            }
            Err(DeadlineError::NoTimer) => {
                drop(permit);
                Err(CallError::Breaker(CircuitBreakerError::TimerUnavailable {
                    name: Arc::clone(&self.name),
                }))
            }
        }
    }

    /// Runs `operation` through the breaker. Breaker errors ([`CircuitBreakerError`]: open,
    /// timeout) come back inside the `anyhow::Error` and can be recovered with `downcast_ref`;
    /// the operation's own error is passed through.
    pub async fn call<F, T, E>(&self, operation: F) -> anyhow::Result<T>
    where
        F: Future<Output = Result<T, E>>,
        E: Into<anyhow::Error>,
    {
        self.execute(operation).await.map_err(|e| match e {
            CallError::Breaker(e) => anyhow::Error::new(e),
            CallError::Operation(e) => e.into(),
        })
    }

    /// Folds the successes counted by a foreign fast path into the totals (bindings call this
    /// when their 32-bit counter gets large).
    pub fn fold_fast_successes(&self) {
        self.counters
            .fold_fast_successes(&self.state.shared.fast_successes);
    }

    /// The words shared with a foreign runtime: [`crate::shared::LEN`] bytes laid out as
    /// [`crate::shared`] describes. The pointer stays valid, and the words keep their address,
    /// for as long as this breaker is alive and not moved (keep it in an `Arc`).
    #[cfg(not(resilience_loom))]
    pub fn shared_words_ptr(&self) -> *const u8 {
        std::ptr::from_ref(&self.state.shared).cast()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn breaker_state_fits_in_200_bytes() {
        assert!(
            std::mem::size_of::<CircuitBreaker>() <= 200,
            "{}",
            std::mem::size_of::<CircuitBreaker>()
        );
    }

    #[test]
    fn is_send_and_sync() {
        fn check<T: Send + Sync>() {}
        check::<CircuitBreaker>();
    }
}
