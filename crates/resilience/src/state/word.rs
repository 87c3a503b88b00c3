//! The state word: the bit layout of the one `AtomicU64` every transition changes, and its
//! decoding.
//!
//! ```text
//! bit  0..2   mode: 0 CLOSED, 1 OPEN, 2 HALF_OPEN
//! bit  2..32  consecutive count: failures while CLOSED, successes while HALF_OPEN
//! bit 32..48  probe calls in flight while HALF_OPEN
//! bit 48..64  generation, +1 on every transition
//! ```
//!
//! The low 32 bits (mode and count) are also read by the Node.js fast path with 32-bit
//! `Atomics.load` (see [`crate::shared`]): a low half of zero means "CLOSED with no failure
//! pending", and a closed call that succeeds needs no write to this word at all.
//!
//! What keeps each field in range:
//! - mode: only the three values above are ever stored; `Word::state` would read 3 as
//!   HALF_OPEN.
//! - count: stays below `failure_threshold` while CLOSED and below `success_threshold` while
//!   HALF_OPEN, since reaching the threshold is a transition, which clears it. The breaker's
//!   limits come from a clamped config, where both are at most [`crate::MAX_THRESHOLD`], the
//!   largest number 30 bits hold (checked below).
//! - probes: `acquire` adds one only while `probes < half_open_max_calls`, so the field stays in
//!   its 16 bits only if that limit is at most [`crate::MAX_HALF_OPEN_CALLS`] (65,535), which
//!   `CircuitBreakerConfig::half_open_max_calls` guarantees (an explicit limit is validated or
//!   clamped to it, and the default, `success_threshold`, is capped at it). A limit past it
//!   would let 65,536 probes in flight carry into the generation: the word would move on
//!   without a transition and every probe in flight would go stale.
//! - generation: wraps from 65,535 to 0. What a wrap means for a token held across it is in
//!   `token.rs`; for the open-period slots, in `period.rs`.

/// The three states of a circuit breaker.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum State {
    /// Normal operation: calls pass, consecutive failures are counted.
    Closed,
    /// Fault detected: calls are rejected until the open period is over.
    Open,
    /// Testing recovery: a limited number of probe calls pass.
    HalfOpen,
}

impl State {
    /// `"CLOSED"`, `"OPEN"` or `"HALF_OPEN"`.
    pub fn as_str(self) -> &'static str {
        match self {
            State::Closed => "CLOSED",
            State::Open => "OPEN",
            State::HalfOpen => "HALF_OPEN",
        }
    }
}

impl std::fmt::Display for State {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

pub(super) const MODE_MASK: u64 = 0b11;
pub(super) const MODE_CLOSED: u64 = 0;
pub(super) const MODE_OPEN: u64 = 1;
pub(super) const MODE_HALF_OPEN: u64 = 2;
pub(super) const COUNT_SHIFT: u32 = 2;
pub(super) const COUNT_MASK: u64 = ((1 << 30) - 1) << COUNT_SHIFT;
pub(super) const PROBES_SHIFT: u32 = 32;
pub(super) const PROBES_MASK: u64 = 0xFFFF << PROBES_SHIFT;
pub(super) const GEN_SHIFT: u32 = 48;

// The fields tile the word, and the limits the config enforces fit their fields.
const _: () = {
    assert!(MODE_MASK & COUNT_MASK == 0 && COUNT_MASK & PROBES_MASK == 0);
    assert!(PROBES_MASK >> PROBES_SHIFT == 0xFFFF && GEN_SHIFT == PROBES_SHIFT + 16);
    assert!(u64::BITS - GEN_SHIFT == u16::BITS);
    assert!(crate::MAX_THRESHOLD as u64 <= COUNT_MASK >> COUNT_SHIFT);
    assert!(crate::MAX_HALF_OPEN_CALLS as u64 <= PROBES_MASK >> PROBES_SHIFT);
    // What the foreign fast path relies on (see `crate::shared`): the low half is exactly mode
    // and count, CLOSED is mode 0, and the mode mask it is given is this one.
    assert!(MODE_MASK | COUNT_MASK == u32::MAX as u64 && MODE_CLOSED == 0);
    assert!(crate::shared::MODE_MASK as u64 == MODE_MASK);
};

/// A decoded copy of the state word.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Word(pub(super) u64);

impl Word {
    pub(super) fn state(self) -> State {
        match self.0 & MODE_MASK {
            MODE_CLOSED => State::Closed,
            MODE_OPEN => State::Open,
            _ => State::HalfOpen,
        }
    }

    pub(super) fn count(self) -> u32 {
        ((self.0 & COUNT_MASK) >> COUNT_SHIFT) as u32
    }

    pub(super) fn probes(self) -> u32 {
        ((self.0 & PROBES_MASK) >> PROBES_SHIFT) as u32
    }

    pub(super) fn generation(self) -> u16 {
        (self.0 >> GEN_SHIFT) as u16
    }

    /// Same mode and generation, new count and probes.
    pub(super) fn with_counts(self, count: u32, probes: u32) -> Word {
        Word(
            (self.0 & !(COUNT_MASK | PROBES_MASK))
                | ((count as u64) << COUNT_SHIFT)
                | ((probes as u64) << PROBES_SHIFT),
        )
    }

    /// The first word of the next period: new mode, next generation, counts cleared.
    pub(super) fn next(self, mode: u64, probes: u32) -> Word {
        let generation = self.generation().wrapping_add(1) as u64;
        Word((generation << GEN_SHIFT) | ((probes as u64) << PROBES_SHIFT) | mode)
    }
}
