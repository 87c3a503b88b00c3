//! Recording how an admitted call ended: a success, a failure (which may open the circuit and
//! publish the new open period, or extend the one in progress), or a cancellation.
//!
//! Each outcome first checks that its token names the current period (see `token.rs`); a
//! stale outcome changes nothing in the word. Every change is one compare-and-swap from the
//! word the decision was made on, retried from the actual word if another thread got there
//! first, so exactly one thread makes each transition and reports it.

use super::machine::{Limits, StateMachine, Transition};
use super::word::{Word, MODE_CLOSED, MODE_OPEN};
use super::{PermitToken, State};

impl StateMachine {
    /// Records a success of the call admitted with `token`.
    pub(crate) fn on_success(&self, token: PermitToken, limits: &Limits) -> Option<Transition> {
        let mut w = self.load();
        loop {
            let next = if token.is_probe() {
                if w.state() != State::HalfOpen || w.generation() != token.generation() {
                    return None;
                }
                let successes = w.count() + 1;
                if successes >= limits.success_threshold {
                    w.next(MODE_CLOSED, 0)
                } else {
                    w.with_counts(successes, w.probes().saturating_sub(1))
                }
            } else {
                if w.state() != State::Closed || w.count() == 0 || token.is_stale_closed(w) {
                    return None;
                }
                w.with_counts(0, 0)
            };
            match self.cas(w, next) {
                Ok(()) => {
                    return (next.state() == State::Closed && w.state() == State::HalfOpen)
                        .then_some(Transition::Closed)
                }
                Err(actual) => w = actual,
            }
        }
    }

    /// Records a failure of the call admitted with `token`.
    ///
    /// `opening` is called only when this failure opens the circuit, once, after the transition
    /// and before the new open period is published: it returns the time the period starts, and
    /// whatever it counts is visible to the thread that later half-opens this period (so
    /// `times_half_opened` can never be seen ahead of `times_opened`).
    ///
    /// `min_open_ms` (from a `Retry-After`, say) makes the open period last at least that long
    /// from now: the period this failure opens, or the one in progress if the circuit is open.
    pub(crate) fn on_failure(
        &self,
        token: PermitToken,
        limits: &Limits,
        min_open_ms: Option<u64>,
        opening: impl FnOnce() -> u64,
        now_ms: impl FnOnce() -> u64,
    ) -> Option<Transition> {
        let mut w = self.load();
        loop {
            let opens = if token.is_probe() {
                if w.state() != State::HalfOpen || w.generation() != token.generation() {
                    return self.extend_if_open(w, min_open_ms, now_ms);
                }
                true
            } else {
                if w.state() != State::Closed || token.is_stale_closed(w) {
                    return self.extend_if_open(w, min_open_ms, now_ms);
                }
                w.count() + 1 >= limits.failure_threshold
            };
            let next = if opens {
                w.next(MODE_OPEN, 0)
            } else {
                w.with_counts(w.count() + 1, 0)
            };
            match self.cas(w, next) {
                Ok(()) if opens => {
                    // This thread made the transition: it alone publishes the new period.
                    let now = opening();
                    let open_ms = limits.reset_timeout_ms.max(min_open_ms.unwrap_or(0));
                    self.period.publish(next.generation(), now, open_ms);
                    return Some(Transition::Opened);
                }
                Ok(()) => return None,
                Err(actual) => w = actual,
            }
        }
    }

    /// Makes the open period in progress (if `w` is open) last at least `min_open_ms` from now.
    ///
    /// `w` may be out of date by now: extending a period that has already ended changes a slot
    /// nobody reads any more (see `period.rs`).
    fn extend_if_open(
        &self,
        w: Word,
        min_open_ms: Option<u64>,
        now_ms: impl FnOnce() -> u64,
    ) -> Option<Transition> {
        let (Some(min_open_ms), State::Open) = (min_open_ms, w.state()) else {
            return None;
        };
        self.period
            .extend(w.generation(), now_ms().saturating_add(min_open_ms));
        None
    }

    /// Gives back the probe slot of a call that ended with no outcome (it was cancelled, or its
    /// outcome is ignored).
    pub(crate) fn on_cancel(&self, token: PermitToken) {
        if !token.is_probe() {
            return;
        }
        let mut w = self.load();
        while w.state() == State::HalfOpen && w.generation() == token.generation() {
            let next = w.with_counts(w.count(), w.probes().saturating_sub(1));
            match self.cas(w, next) {
                Ok(()) => return,
                Err(actual) => w = actual,
            }
        }
    }
}
