//! The lock-free state machine: one 64-bit word changed only by compare-and-swap.
//!
//! ```text
//! bit  0..2   mode: 0 CLOSED, 1 OPEN, 2 HALF_OPEN
//! bit  2..32  consecutive count: failures while CLOSED, successes while HALF_OPEN
//! bit 32..48  probe calls in flight while HALF_OPEN
//! bit 48..64  generation, +1 on every transition
//! ```
//!
//! Why one word: a transition, the count that caused it and the probe budget change together or
//! not at all, so no interleaving of threads can open twice, close on a stale probe, or admit
//! more probes than allowed. The generation tags every permit and the stored open period, so an
//! outcome that arrives after the circuit moved on cannot act on a later period (the one
//! exception is [`PermitToken::CLOSED`], which a foreign fast path uses for calls it admitted
//! without asking: it acts on whichever closed period is current).
//!
//! The low 32 bits (mode and count) are also read by the Node.js fast path with 32-bit
//! `Atomics.load`: a low half of zero means "CLOSED with no failure pending", and a closed call
//! that succeeds needs no write to this word at all.
//!
//! OPEN -> HALF_OPEN is decided lazily by the next [`StateMachine::acquire`] once the open
//! period is over, so a breaker costs no timer and no thread.

use crate::sync::{AtomicU32, AtomicU64, Ordering};

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

const MODE_MASK: u64 = 0b11;
const MODE_CLOSED: u64 = 0;
const MODE_OPEN: u64 = 1;
const MODE_HALF_OPEN: u64 = 2;
const COUNT_SHIFT: u32 = 2;
const COUNT_MASK: u64 = ((1 << 30) - 1) << COUNT_SHIFT;
const PROBES_SHIFT: u32 = 32;
const PROBES_MASK: u64 = 0xFFFF << PROBES_SHIFT;
const GEN_SHIFT: u32 = 48;

/// A decoded copy of the state word.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Word(u64);

impl Word {
    fn state(self) -> State {
        match self.0 & MODE_MASK {
            MODE_CLOSED => State::Closed,
            MODE_OPEN => State::Open,
            _ => State::HalfOpen,
        }
    }

    fn count(self) -> u32 {
        ((self.0 & COUNT_MASK) >> COUNT_SHIFT) as u32
    }

    fn probes(self) -> u32 {
        ((self.0 & PROBES_MASK) >> PROBES_SHIFT) as u32
    }

    fn generation(self) -> u16 {
        (self.0 >> GEN_SHIFT) as u16
    }

    /// Same mode and generation, new count and probes.
    fn with_counts(self, count: u32, probes: u32) -> Word {
        Word(
            (self.0 & !(COUNT_MASK | PROBES_MASK))
                | ((count as u64) << COUNT_SHIFT)
                | ((probes as u64) << PROBES_SHIFT),
        )
    }

    /// The first word of the next period: new mode, next generation, counts cleared.
    fn next(self, mode: u64, probes: u32) -> Word {
        let generation = self.generation().wrapping_add(1) as u64;
        Word((generation << GEN_SHIFT) | ((probes as u64) << PROBES_SHIFT) | mode)
    }
}

/// A ticket for one admitted call, to hand back with its outcome.
///
/// A token names the period it was admitted in: a closed period or a half-open one (a probe),
/// by its generation, so that an outcome reported after the circuit moved on is ignored. The one
/// exception is [`PermitToken::CLOSED`], a closed call of no particular period. It is a plain
/// number so that a foreign caller (the Node.js binding) can hold it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct PermitToken(u32);

const PROBE_TAG: u32 = 1 << 16;
const CLOSED_TAG: u32 = 1 << 17;

impl PermitToken {
    /// A call admitted while the circuit was closed, in whichever closed period is current when
    /// its outcome is reported (for a foreign fast path that admits closed calls without asking;
    /// [`crate::CircuitBreaker::acquire_token`] hands out tokens of one closed period).
    pub const CLOSED: PermitToken = PermitToken(0);

    fn probe(generation: u16) -> Self {
        PermitToken(PROBE_TAG | generation as u32)
    }

    fn closed(generation: u16) -> Self {
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

    fn generation(self) -> u16 {
        self.0 as u16
    }

    /// Whether this closed-call token belongs to a closed period other than `w`'s.
    fn is_stale_closed(self, w: Word) -> bool {
        self.0 & CLOSED_TAG != 0 && self.generation() != w.generation()
    }
}

/// The thresholds the state machine needs, copied out of the config.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Limits {
    pub(crate) failure_threshold: u32,
    pub(crate) success_threshold: u32,
    pub(crate) half_open_max_calls: u32,
    pub(crate) reset_timeout_ms: u64,
}

/// What `acquire` decided.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Admission {
    /// Run the call; report its outcome with the token.
    Admitted(PermitToken),
    /// The circuit is open (or half-open with every probe slot taken).
    Rejected,
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

/// Words a foreign runtime reads and updates with 32-bit atomics (see the crate docs of the
/// Node.js binding). `#[repr(C)]`, 16 bytes, little-endian 32-bit slots:
/// slot 0 = low half of the state word, slot 2 = successes recorded by the foreign fast path.
#[repr(C)]
#[derive(Debug)]
pub(crate) struct SharedWords {
    pub(crate) word: AtomicU64,
    pub(crate) fast_successes: AtomicU32,
    pub(crate) flags: AtomicU32,
}

/// The state word plus the open period it refers to.
#[repr(C)]
#[derive(Debug)]
pub(crate) struct StateMachine {
    pub(crate) shared: SharedWords,
    /// `(deadline_ms << 16) | generation` of the current open period.
    open_until: AtomicU64,
    /// `(start_ms << 16) | generation` of the current open period.
    opened_at: AtomicU64,
}

/// The largest time a tagged slot holds: 48 bits, so that `ms << 16` loses nothing. An open
/// period that would end later (a reset timeout near [`crate::MAX_DURATION_MS`]) ends at this
/// time instead, which no clock reaches (clock readings fit in 48 bits).
const MAX_TAGGED_MS: u64 = (1 << 48) - 1;

fn tag(ms: u64, generation: u16) -> u64 {
    (ms.min(MAX_TAGGED_MS) << 16) | generation as u64
}

fn untag(tagged: u64, generation: u16) -> Option<u64> {
    (tagged as u16 == generation).then_some(tagged >> 16)
}

impl StateMachine {
    pub(crate) fn new() -> Self {
        Self {
            shared: SharedWords {
                word: AtomicU64::new(0),
                fast_successes: AtomicU32::new(0),
                flags: AtomicU32::new(0),
            },
            // Tagged with a generation (u16::MAX) that the closed word (generation 0) does not have.
            open_until: AtomicU64::new(u16::MAX as u64),
            opened_at: AtomicU64::new(u16::MAX as u64),
        }
    }

    #[inline]
    fn load(&self) -> Word {
        Word(self.shared.word.load(Ordering::Acquire))
    }

    #[inline]
    fn cas(&self, current: Word, new: Word) -> Result<(), Word> {
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

    /// When the current open period started, if the circuit is open.
    pub(crate) fn open_since_ms(&self) -> Option<u64> {
        let w = self.load();
        if w.state() != State::Open {
            return None;
        }
        untag(self.opened_at.load(Ordering::Acquire), w.generation())
    }

    /// Whether a closed call that succeeds must come back here (a failure count to clear, or the
    /// circuit moved on). The common case, closed with no failure pending, needs nothing.
    #[inline]
    pub(crate) fn closed_success_needs_update(&self) -> bool {
        self.shared.word.load(Ordering::Relaxed) as u32 != 0
    }

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
                    let Some(until) =
                        untag(self.open_until.load(Ordering::Acquire), w.generation())
                    else {
                        return (Admission::Rejected, None);
                    };
                    let t = *now.get_or_insert_with(|| now_ms.take().map_or(0, |f| f()));
                    if t < until {
                        return (Admission::Rejected, None);
                    }
                    let next = w.next(MODE_HALF_OPEN, 1);
                    match self.cas(w, next) {
                        Ok(()) => {
                            let opened_at_ms =
                                untag(self.opened_at.load(Ordering::Acquire), w.generation())
                                    .unwrap_or(t);
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
                    let now = opening();
                    let generation = next.generation();
                    self.opened_at
                        .store(tag(now, generation), Ordering::Release);
                    let open_ms = limits.reset_timeout_ms.max(min_open_ms.unwrap_or(0));
                    self.open_until.store(
                        tag(now.saturating_add(open_ms), generation),
                        Ordering::Release,
                    );
                    return Some(Transition::Opened);
                }
                Ok(()) => return None,
                Err(actual) => w = actual,
            }
        }
    }

    /// Makes the open period in progress (if `w` is open) last at least `min_open_ms` from now.
    fn extend_if_open(
        &self,
        w: Word,
        min_open_ms: Option<u64>,
        now_ms: impl FnOnce() -> u64,
    ) -> Option<Transition> {
        let (Some(min_open_ms), State::Open) = (min_open_ms, w.state()) else {
            return None;
        };
        let wanted = tag(now_ms().saturating_add(min_open_ms), w.generation());
        let mut current = self.open_until.load(Ordering::Acquire);
        // Only the open period of `w`'s generation, once its opener has stored it, and only later.
        while untag(current, w.generation()).is_some() && current < wanted {
            match self.open_until.compare_exchange_weak(
                current,
                wanted,
                Ordering::AcqRel,
                Ordering::Acquire,
            ) {
                Ok(_) => break,
                Err(actual) => current = actual,
            }
        }
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

#[cfg(test)]
mod tests {
    use super::*;

    fn limits(failures: u32, successes: u32, probes: u32) -> Limits {
        Limits {
            failure_threshold: failures,
            success_threshold: successes,
            half_open_max_calls: probes,
            reset_timeout_ms: 100,
        }
    }

    #[test]
    fn word_fields_round_trip() {
        let w = Word(0).next(MODE_HALF_OPEN, 3).with_counts(7, 3);
        assert_eq!(w.state(), State::HalfOpen);
        assert_eq!(w.count(), 7);
        assert_eq!(w.probes(), 3);
        assert_eq!(w.generation(), 1);
        let wrapped = Word(u64::MAX << GEN_SHIFT).next(MODE_CLOSED, 0);
        assert_eq!(wrapped.generation(), 0);
        assert_eq!(wrapped.state(), State::Closed);
    }

    #[test]
    fn tokens_round_trip_and_reject_garbage() {
        assert_eq!(PermitToken::from_raw(0), Some(PermitToken::CLOSED));
        let p = PermitToken::probe(9);
        assert_eq!(PermitToken::from_raw(p.to_raw()), Some(p));
        assert!(p.is_probe());
        let c = PermitToken::closed(9);
        assert_eq!(PermitToken::from_raw(c.to_raw()), Some(c));
        assert!(!c.is_probe() && !PermitToken::CLOSED.is_probe());
        assert_eq!(PermitToken::from_raw(PROBE_TAG | CLOSED_TAG), None);
        assert_eq!(PermitToken::from_raw(5), None);
        assert_eq!(PermitToken::from_raw(u32::MAX), None);
    }

    #[test]
    fn full_cycle() {
        let sm = StateMachine::new();
        let l = limits(2, 2, 1);
        let (a, _) = sm.acquire(&l, || 0);
        assert_eq!(a, Admission::Admitted(PermitToken::closed(0)));
        assert_eq!(
            sm.on_failure(PermitToken::CLOSED, &l, None, || 0, || 0),
            None
        );
        assert!(sm.closed_success_needs_update());
        assert_eq!(sm.on_success(PermitToken::CLOSED, &l), None);
        assert!(!sm.closed_success_needs_update());
        sm.on_failure(PermitToken::CLOSED, &l, None, || 0, || 0);
        assert_eq!(
            sm.on_failure(PermitToken::CLOSED, &l, None, || 10, || 0),
            Some(Transition::Opened)
        );
        assert_eq!(sm.state(), State::Open);
        assert_eq!(sm.open_since_ms(), Some(10));
        assert_eq!(sm.acquire(&l, || 109).0, Admission::Rejected);
        let (a, t) = sm.acquire(&l, || 110);
        assert_eq!(
            t,
            Some(Transition::HalfOpened {
                opened_at_ms: 10,
                now_ms: 110
            })
        );
        let Admission::Admitted(probe) = a else {
            panic!("expected a probe")
        };
        assert!(probe.is_probe());
        assert_eq!(
            sm.acquire(&l, || 110).0,
            Admission::Rejected,
            "one probe at a time"
        );
        assert_eq!(sm.on_success(probe, &l), None);
        let (a, _) = sm.acquire(&l, || 110);
        let Admission::Admitted(probe2) = a else {
            panic!("expected a second probe")
        };
        assert_eq!(sm.on_success(probe2, &l), Some(Transition::Closed));
        assert_eq!(sm.state(), State::Closed);
        // A stale probe outcome cannot act on the new period.
        assert_eq!(sm.on_failure(probe, &l, None, || 0, || 0), None);
        assert_eq!(sm.state(), State::Closed);
    }

    #[test]
    fn cancelled_probe_frees_its_slot() {
        let sm = StateMachine::new();
        let l = limits(1, 1, 1);
        sm.on_failure(PermitToken::CLOSED, &l, None, || 0, || 0);
        let (Admission::Admitted(p), _) = sm.acquire(&l, || 1_000) else {
            panic!("expected a probe")
        };
        assert_eq!(sm.acquire(&l, || 1_000).0, Admission::Rejected);
        sm.on_cancel(p);
        assert!(matches!(sm.acquire(&l, || 1_000).0, Admission::Admitted(_)));
    }

    #[test]
    fn closed_outcomes_of_an_earlier_closed_period_are_ignored() {
        let sm = StateMachine::new();
        let l = limits(1, 1, 1);
        let (Admission::Admitted(stale), _) = sm.acquire(&l, || 0) else {
            panic!("closed")
        };
        sm.on_failure(PermitToken::CLOSED, &l, None, || 0, || 0);
        let (Admission::Admitted(probe), _) = sm.acquire(&l, || 1_000) else {
            panic!("expected a probe")
        };
        assert_eq!(sm.on_success(probe, &l), Some(Transition::Closed));
        // Closed again, in a later period: the stale token cannot reopen it.
        assert_eq!(sm.on_failure(stale, &l, None, || 0, || 0), None);
        assert_eq!(sm.state(), State::Closed);
        // A token of the current period, or the period-less CLOSED, can.
        let (Admission::Admitted(current), _) = sm.acquire(&l, || 0) else {
            panic!("closed")
        };
        assert_ne!(current, stale);
        assert_eq!(
            sm.on_failure(current, &l, None, || 0, || 0),
            Some(Transition::Opened)
        );
    }

    #[test]
    fn closed_failure_while_half_open_is_ignored() {
        let sm = StateMachine::new();
        let l = limits(1, 1, 1);
        sm.on_failure(PermitToken::CLOSED, &l, None, || 0, || 0);
        let _ = sm.acquire(&l, || 1_000);
        assert_eq!(sm.state(), State::HalfOpen);
        assert_eq!(
            sm.on_failure(PermitToken::CLOSED, &l, None, || 0, || 0),
            None
        );
        assert_eq!(sm.state(), State::HalfOpen);
    }
}
