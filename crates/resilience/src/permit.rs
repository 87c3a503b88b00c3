//! Permission to run one call, and the report of how it ended.

use crate::breaker::CircuitBreaker;
use crate::state::PermitToken;

/// How an admitted call ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Outcome {
    /// The call succeeded: resets the failure count (closed) or counts toward closing (half-open).
    Success,
    /// The call failed or timed out: counts toward opening; reopens a half-open circuit.
    Failure,
    /// A failure that also says how long the service wants to be left alone (an HTTP 429 or
    /// 503 with `Retry-After`): if the circuit is open, or this failure opens it, it stays open
    /// at least this long from now, even past its reset timeout.
    FailureRetryAfter(std::time::Duration),
    /// The call ended with an error that is not the service's fault (an HTTP 404, a constraint
    /// violation): the caller gets the error, the circuit does not move, the call is counted in
    /// `ignored_calls`, and a half-open probe slot is given back.
    Ignored,
    /// The call was abandoned before it ended: counted as failed in the metrics, but it does not
    /// move the circuit; a half-open probe slot is given back.
    Cancelled,
}

/// Permission to run one call through a [`CircuitBreaker`] (the two-step API).
///
/// Report the outcome with [`Permit::success`] or [`Permit::failure`]; a permit dropped without
/// either counts as [`Outcome::Cancelled`].
///
/// ```
/// use neural_trader_resilience::{CircuitBreaker, CircuitBreakerConfig};
///
/// let cb = CircuitBreaker::new("orders", CircuitBreakerConfig::default());
/// if let Ok(permit) = cb.try_acquire() {
///     // ... run the call ...
///     permit.success();
/// }
/// assert_eq!(cb.metrics().successful_calls, 1);
/// ```
#[must_use = "a permit dropped without an outcome counts as a cancelled call"]
#[derive(Debug)]
pub struct Permit<'a> {
    breaker: &'a CircuitBreaker,
    token: PermitToken,
    reported: bool,
}

impl<'a> Permit<'a> {
    pub(crate) fn new(breaker: &'a CircuitBreaker, token: PermitToken) -> Self {
        Self {
            breaker,
            token,
            reported: false,
        }
    }

    /// Whether this call is a half-open probe.
    pub fn is_probe(&self) -> bool {
        self.token.is_probe()
    }

    /// Reports a success.
    #[inline]
    pub fn success(self) {
        self.finish(Outcome::Success)
    }

    /// Reports a failure.
    pub fn failure(self) {
        self.finish(Outcome::Failure)
    }

    /// Reports `outcome`.
    #[inline]
    pub fn finish(mut self, outcome: Outcome) {
        self.reported = true;
        self.breaker.complete(self.token, outcome);
    }
}

impl Drop for Permit<'_> {
    fn drop(&mut self) {
        if !self.reported {
            self.breaker.complete(self.token, Outcome::Cancelled);
        }
    }
}
