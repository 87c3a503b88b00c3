//! The state machine: the shared words (the state word among them) plus the open period, and
//! the few reads that make no transition. Admitting calls is in `acquire.rs`, recording their
//! outcomes in `outcome.rs`.
//!
//! # Memory orderings
//!
//! - The state word is loaded with `Acquire` and changed only by `compare_exchange_weak`
//!   (`AcqRel` on success, `Acquire` on failure). Every decision is checked again against the
//!   value the CAS compares with, so which transition happens, and which thread makes it, is
//!   decided on this one location alone (the open-period slots only say when a period ends,
//!   and when it began, for the metrics).
//! - The open-period slots are stored with `Release` and loaded with `Acquire`; the pair that
//!   matters is `open_until`, which publishes a period to the thread that will half-open it
//!   (see `period.rs`).
//! - One load is `Relaxed`: the state word in [`StateMachine::closed_success_needs_update`].
//!   It only decides whether a closed success takes the CAS path at all (`on_success`, which
//!   loads the word again with `Acquire` and checks everything), and nothing else is read on
//!   the strength of it. Coherence still holds for a relaxed load: it sees no value older than
//!   one this thread wrote or saw, or one written before it in happens-before order, so a
//!   success never misses a failure that happens before it. A stale zero can only hide a
//!   failure count stored by a call finishing concurrently on another thread; skipping the
//!   reset then leaves the state as if the success had come first, which is one valid order of
//!   two concurrent calls. A stale zero while the circuit is no longer closed skips nothing
//!   either: `on_success` ignores a closed call's success unless the word is CLOSED. (The
//!   Node.js fast path makes the same decision from the same 32 bits with `Atomics.load`.)

use super::period::OpenPeriod;
use super::word::Word;
use super::State;
use crate::shared::SharedWords;
use crate::sync::Ordering;

/// The thresholds the state machine needs, copied out of the config.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Limits {
    pub(crate) failure_threshold: u32,
    pub(crate) success_threshold: u32,
    pub(crate) half_open_max_calls: u32,
    pub(crate) reset_timeout_ms: u64,
}

/// A transition made by the calling thread (exactly one thread sees each transition).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Transition {
    /// CLOSED or HALF_OPEN -> OPEN (already counted by the `opening` callback of
    /// [`StateMachine::on_failure`]).
    Opened,
    /// OPEN -> HALF_OPEN at `now_ms`, ending the open period begun at `opened_at_ms`.
    HalfOpened {
        /// When the open period began.
        opened_at_ms: u64,
        /// When it ended.
        now_ms: u64,
    },
    /// HALF_OPEN -> CLOSED.
    Closed,
}

/// The state word plus the open period it refers to.
#[repr(C)]
#[derive(Debug)]
pub(crate) struct StateMachine {
    /// The words a foreign runtime reads; `shared.word` is the state word.
    pub(crate) shared: SharedWords,
    /// Start and deadline of the current open period.
    pub(super) period: OpenPeriod,
}

impl StateMachine {
    pub(crate) fn new() -> Self {
        Self {
            shared: SharedWords::new(),
            period: OpenPeriod::new(),
        }
    }

    #[inline]
    pub(super) fn load(&self) -> Word {
        Word(self.shared.word.load(Ordering::Acquire))
    }

    #[inline]
    pub(super) fn cas(&self, current: Word, new: Word) -> Result<(), Word> {
        self.shared
            .word
            .compare_exchange_weak(current.0, new.0, Ordering::AcqRel, Ordering::Acquire)
            .map(|_| ())
            .map_err(Word)
    }

    /// The current state, as last stored (no transition is made by reading).
    pub(crate) fn state(&self) -> State {
        self.load().state()
    }

    /// When the current open period started, if the circuit is open (`None` too in the moment
    /// between the opening and its publication).
    pub(crate) fn open_since_ms(&self) -> Option<u64> {
        let w = self.load();
        if w.state() != State::Open {
            return None;
        }
        self.period.started(w.generation())
    }

    /// Whether a closed call that succeeds must come back here (a failure count to clear, or the
    /// circuit moved on). The common case, closed with no failure pending, needs nothing.
    #[inline]
    pub(crate) fn closed_success_needs_update(&self) -> bool {
        // Relaxed: only chooses the path; `on_success` checks again (see the module docs).
        self.shared.word.load(Ordering::Relaxed) as u32 != 0
    }
}
