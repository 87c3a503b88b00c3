//! The permit token: the ticket an admitted call hands back with its outcome.
//!
//! A token is a `u32` so that a foreign caller (the Node.js binding) can hold it:
//!
//! ```text
//! bit  0..16  generation of the word the call was admitted under
//! bit 16      PROBE_TAG: admitted as a half-open probe
//! bit 17      CLOSED_TAG: admitted while closed, in that generation's closed period
//! 0           PermitToken::CLOSED: admitted while closed, in no particular period
//! ```
//!
//! An outcome acts only on the period its token names: a probe token only on the HALF_OPEN word
//! of its generation, a closed token only on the CLOSED word of its generation, so an outcome
//! reported after the circuit moved on is ignored as stale (a stale failure may still extend an
//! open period with its `Retry-After`). [`PermitToken::CLOSED`] acts on whichever closed period
//! is current.
//!
//! # Generation wrap
//!
//! The generation is compared for equality only, and it has 16 bits: after 65,536 transitions
//! the same generation comes round again, and nothing records how many times it has. A token
//! reported a multiple of 65,536 transitions after it was handed out, while the word is again
//! in the mode it was admitted in, is taken for a token of the current period:
//! - a closed token then acts on the current closed period (a failure counts toward opening, a
//!   success clears the failure count). That is what [`PermitToken::CLOSED`] does for every
//!   call of the foreign fast path, so nothing new can happen.
//! - a probe token then acts as a probe of the current half-open period: a success counts
//!   toward closing, a failure reopens, and either (or a cancellation) gives back a probe slot
//!   it does not hold, so that period may admit one more probe than `half_open_max_calls`
//!   (`saturating_sub` keeps the count from going below zero).
//!
//! Nothing guards against this but time. In any run of transitions at least every third one is
//! OPEN -> HALF_OPEN, which ends an open period, and every open period lasts at least
//! `reset_timeout` (at least 1 ms) on the breaker's clock; so a token can be mistaken only
//! after staying out for more than 21,000 reset timeouts (over 21 s at 1 ms, about 15 days at
//! the default 60 s; a `ManualClock` can move that fast). A probe cannot go stale at all with
//! `half_open_max_calls` = 1: the circuit leaves HALF_OPEN only on a probe's outcome, and the
//! one slot is held. [`crate::CircuitBreaker::execute`] ends every call at its timeout (unless
//! that is [`std::time::Duration::MAX`]); a [`crate::Permit`] or a raw token held by a foreign
//! caller has no bound.

use super::word::Word;

/// A ticket for one admitted call, to hand back with its outcome.
///
/// A token names the period it was admitted in: a closed period or a half-open one (a probe),
/// by its generation, so that an outcome reported after the circuit moved on is ignored. The one
/// exception is [`PermitToken::CLOSED`], a closed call of no particular period. It is a plain
/// number so that a foreign caller (the Node.js binding) can hold it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct PermitToken(u32);

pub(super) const PROBE_TAG: u32 = 1 << 16;
pub(super) const CLOSED_TAG: u32 = 1 << 17;

impl PermitToken {
    /// A call admitted while the circuit was closed, in whichever closed period is current when
    /// its outcome is reported (for a foreign fast path that admits closed calls without asking;
    /// [`crate::CircuitBreaker::acquire_token`] hands out tokens of one closed period).
    pub const CLOSED: PermitToken = PermitToken(0);

    pub(super) fn probe(generation: u16) -> Self {
        PermitToken(PROBE_TAG | generation as u32)
    }

    pub(super) fn closed(generation: u16) -> Self {
        PermitToken(CLOSED_TAG | generation as u32)
    }

    /// The raw number, for foreign callers.
    pub fn to_raw(self) -> u32 {
        self.0
    }

    /// Rebuilds a token from [`PermitToken::to_raw`]; `None` for a number no token has.
    pub fn from_raw(raw: u32) -> Option<Self> {
        let tag = raw & !0xFFFF;
        (raw == 0 || tag == PROBE_TAG || tag == CLOSED_TAG).then_some(PermitToken(raw))
    }

    /// Whether this call is a half-open probe.
    pub fn is_probe(self) -> bool {
        self.0 & PROBE_TAG != 0
    }

    pub(super) fn generation(self) -> u16 {
        self.0 as u16
    }

    /// Whether this closed-call token belongs to a closed period other than `w`'s.
    pub(super) fn is_stale_closed(self, w: Word) -> bool {
        self.0 & CLOSED_TAG != 0 && self.generation() != w.generation()
    }
}
