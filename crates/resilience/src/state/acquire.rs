//! Admitting calls: the closed fast path, the lazy OPEN -> HALF_OPEN transition, and the probe
//! budget of a half-open period.
//!
//! OPEN -> HALF_OPEN is decided by the next [`StateMachine::acquire`] once the open period is
//! over, so a breaker costs no timer and no thread. The thread whose CAS makes that transition
//! is admitted as the period's first probe; others take a probe slot by CAS while one is free.
//!
//! A generation wrap can fool the compare-and-swap (ABA): words of the same mode and generation
//! with the same counts are equal, and an OPEN word always has zero counts. A thread that loads
//! an OPEN word and finds its period over, then stalls until 65,536 transitions have brought the
//! same OPEN word back, succeeds with its CAS and half-opens the new period before its deadline.
//! As for tokens (see `token.rs`), that takes more than 21,000 reset timeouts on the breaker's
//! clock between the load and the CAS. A stalled thread taking a probe slot is not affected:
//! the word it compares with is the current one in every field.

use super::machine::{Limits, StateMachine, Transition};
use super::word::{Word, MODE_HALF_OPEN};
use super::{PermitToken, State};

/// What `acquire` decided.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Admission {
    /// Run the call; report its outcome with the token.
    Admitted(PermitToken),
    /// The circuit is open (or half-open with every probe slot taken).
    Rejected,
}

impl StateMachine {
    /// Asks to run one call. `now_ms` is read only if the circuit is open.
    #[inline]
    pub(crate) fn acquire(
        &self,
        limits: &Limits,
        now_ms: impl FnOnce() -> u64,
    ) -> (Admission, Option<Transition>) {
        let w = self.load();
        if w.state() == State::Closed {
            return (
                Admission::Admitted(PermitToken::closed(w.generation())),
                None,
            );
        }
        self.acquire_slow(w, limits, now_ms)
    }

    #[cold]
    fn acquire_slow(
        &self,
        mut w: Word,
        limits: &Limits,
        now_ms: impl FnOnce() -> u64,
    ) -> (Admission, Option<Transition>) {
        let mut now_ms = Some(now_ms);
        let mut now: Option<u64> = None;
        loop {
            match w.state() {
                State::Closed => {
                    return (
                        Admission::Admitted(PermitToken::closed(w.generation())),
                        None,
                    )
                }
                State::Open => {
                    // Not yet tagged with this generation: the opener is storing it right now,
                    // so the period has just begun.
                    let Some(until) = self.period.until(w.generation()) else {
                        return (Admission::Rejected, None);
                    };
                    let t = *now.get_or_insert_with(|| now_ms.take().map_or(0, |f| f()));
                    if t < until {
                        return (Admission::Rejected, None);
                    }
                    let next = w.next(MODE_HALF_OPEN, 1);
                    match self.cas(w, next) {
                        Ok(()) => {
                            // The start of the period just ended, for the open-time metric. It
                            // is read after the CAS: if meanwhile another probe of the new
                            // half-open period failed and its opener published the next period,
                            // the tag no longer matches and the ended period counts as 0 ms long
                            // (`unwrap_or(t)`). Read before the CAS, it would be this period's
                            // start whenever the CAS succeeds.
                            let opened_at_ms = self.period.started(w.generation()).unwrap_or(t);
                            return (
                                Admission::Admitted(PermitToken::probe(next.generation())),
                                Some(Transition::HalfOpened {
                                    opened_at_ms,
                                    now_ms: t,
                                }),
                            );
                        }
                        Err(actual) => w = actual,
                    }
                }
                State::HalfOpen => {
                    if w.probes() >= limits.half_open_max_calls {
                        return (Admission::Rejected, None);
                    }
                    let next = w.with_counts(w.count(), w.probes() + 1);
                    match self.cas(w, next) {
                        Ok(()) => {
                            return (
                                Admission::Admitted(PermitToken::probe(w.generation())),
                                None,
                            )
                        }
                        Err(actual) => w = actual,
                    }
                }
            }
        }
    }
}
