//! Unit tests of the state machine: the word and token encodings, and the transitions driven
//! directly (no breaker, no clock).

use super::acquire::Admission;
use super::machine::{Limits, StateMachine, Transition};
use super::token::{CLOSED_TAG, PROBE_TAG};
use super::word::{Word, GEN_SHIFT, MODE_CLOSED, MODE_HALF_OPEN};
use super::{PermitToken, State};

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
