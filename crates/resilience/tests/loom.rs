//! Model checking of the lock-free state machine with [loom]: every interleaving of the threads
//! below (and every value a weak memory order lets a load see) is explored.
//!
//! The crate swaps its atomics for loom's under `--cfg resilience_loom` (see `src/sync.rs`); the
//! cfg has its own name so that tokio does not see `cfg(loom)`. Run with:
//!
//! ```text
//! RUSTFLAGS="--cfg resilience_loom" CARGO_TARGET_DIR=target/loom \
//!     cargo test -p neural-trader-resilience --release --test loom
//! ```
//!
//! Each model builds its breaker (on a [`ManualClock`], itself made of loom atomics) inside the
//! model, so that every exploration starts from the same state. Set `LOOM_MAX_PREEMPTIONS` to
//! bound the search; by default it is exhaustive.
//!
//! [loom]: https://docs.rs/loom
#![cfg(resilience_loom)]

use std::sync::Arc;
use std::time::Duration;

use loom::thread;
use neural_trader_resilience::{
    CircuitBreaker, CircuitBreakerConfig, ManualClock, Outcome, PermitToken, Rejected, State,
};

const RESET_MS: u64 = 10;

fn breaker(
    failure_threshold: u32,
    success_threshold: u32,
    half_open_max_calls: u32,
) -> (Arc<CircuitBreaker>, ManualClock) {
    let clock = ManualClock::new();
    let config = CircuitBreakerConfig {
        failure_threshold,
        success_threshold,
        timeout: Duration::MAX,
        reset_timeout: Duration::from_millis(RESET_MS),
        half_open_max_calls: Some(half_open_max_calls),
        stack_trace: true,
    };
    let cb = CircuitBreaker::try_with_clock("loom", config, Arc::new(clock.clone())).unwrap();
    (Arc::new(cb), clock)
}

/// Opens the circuit at the clock's time and moves the clock to the end of the open period.
fn open_and_wait(cb: &CircuitBreaker, clock: &ManualClock, failure_threshold: u32) {
    for _ in 0..failure_threshold {
        cb.try_acquire().unwrap().failure();
    }
    assert_eq!(cb.state(), State::Open);
    clock.advance(Duration::from_millis(RESET_MS));
}

fn model(f: impl Fn() + Sync + Send + 'static) {
    loom::model::Builder::new().check(f);
}

#[test]
fn circuit_breaker_loom_concurrent_failures_open_exactly_once() {
    model(|| {
        let (cb, _clock) = breaker(2, 1, 1);
        let threads: Vec<_> = (0..2)
            .map(|_| {
                let cb = Arc::clone(&cb);
                thread::spawn(move || cb.try_acquire().expect("closed").failure())
            })
            .collect();
        for t in threads {
            t.join().unwrap();
        }
        assert_eq!(cb.state(), State::Open);
        let m = cb.metrics();
        assert_eq!(m.times_opened, 1, "{m:?}");
        assert_eq!((m.total_calls, m.failed_calls), (2, 2));
    });
}

#[test]
fn circuit_breaker_loom_failures_past_the_threshold_open_exactly_once() {
    // Threshold 1: whichever failure lands second finds the circuit open and must not reopen it.
    model(|| {
        let (cb, _clock) = breaker(1, 1, 1);
        let tokens = [cb.acquire_token().unwrap(), cb.acquire_token().unwrap()];
        let threads: Vec<_> = tokens
            .into_iter()
            .map(|token| {
                let cb = Arc::clone(&cb);
                thread::spawn(move || cb.complete(token, Outcome::Failure))
            })
            .collect();
        for t in threads {
            t.join().unwrap();
        }
        assert_eq!(cb.state(), State::Open);
        let m = cb.metrics();
        assert_eq!((m.times_opened, m.failed_calls), (1, 2), "{m:?}");
    });
}

/// Two threads ask for a call at once; returns what each got.
fn race_two_acquires(cb: &Arc<CircuitBreaker>) -> Vec<Result<PermitToken, Rejected>> {
    let threads: Vec<_> = (0..2)
        .map(|_| {
            let cb = Arc::clone(cb);
            thread::spawn(move || cb.acquire_token())
        })
        .collect();
    threads.into_iter().map(|t| t.join().unwrap()).collect()
}

#[test]
fn circuit_breaker_loom_racing_the_half_open_transition_admits_one_probe() {
    model(|| {
        let (cb, clock) = breaker(1, 1, 1);
        open_and_wait(&cb, &clock, 1);

        let results = race_two_acquires(&cb);
        let probes: Vec<_> = results.iter().filter_map(|r| r.ok()).collect();
        assert_eq!(probes.len(), 1, "{results:?}");
        assert!(probes[0].is_probe());
        assert_eq!(cb.state(), State::HalfOpen);
        let m = cb.metrics();
        assert_eq!((m.times_half_opened, m.rejected_calls), (1, 1), "{m:?}");

        cb.complete(probes[0], Outcome::Success);
        assert_eq!(cb.state(), State::Closed);
    });
}

#[test]
fn circuit_breaker_loom_racing_for_the_last_probe_slot_admits_one() {
    model(|| {
        let (cb, clock) = breaker(1, 3, 2);
        open_and_wait(&cb, &clock, 1);
        let first = cb.acquire_token().unwrap();
        assert!(first.is_probe());

        let results = race_two_acquires(&cb);
        let probes: Vec<_> = results.iter().filter_map(|r| r.ok()).collect();
        assert_eq!(probes.len(), 1, "{results:?}");
        assert_eq!(cb.metrics().times_half_opened, 1);

        // Both slots held: a third call is rejected; giving both back closes after 3 successes.
        assert!(cb.acquire_token().is_err());
        cb.complete(first, Outcome::Success);
        cb.complete(probes[0], Outcome::Success);
        assert_eq!(cb.state(), State::HalfOpen);
        cb.try_acquire().unwrap().success();
        assert_eq!(cb.state(), State::Closed);
    });
}

#[test]
fn circuit_breaker_loom_a_cancelled_probe_frees_its_slot_for_a_racing_acquire() {
    model(|| {
        let (cb, clock) = breaker(1, 1, 1);
        open_and_wait(&cb, &clock, 1);
        let probe = cb.acquire_token().unwrap();

        let canceller = {
            let cb = Arc::clone(&cb);
            thread::spawn(move || cb.complete(probe, Outcome::Cancelled))
        };
        let acquirer = {
            let cb = Arc::clone(&cb);
            thread::spawn(move || cb.acquire_token())
        };
        canceller.join().unwrap();
        let second = acquirer.join().unwrap();

        // Whether or not the racing acquire got the slot, exactly one slot is in use or free.
        let held = match second {
            Ok(token) => {
                assert!(token.is_probe());
                assert!(cb.acquire_token().is_err(), "the slot is taken");
                token
            }
            Err(Rejected) => cb.acquire_token().expect("the slot was given back"),
        };
        assert_eq!(cb.state(), State::HalfOpen, "a cancellation moves nothing");
        cb.complete(held, Outcome::Success);
        assert_eq!(cb.state(), State::Closed);
    });
}

#[test]
fn circuit_breaker_loom_probe_success_racing_probe_failure_stays_consistent() {
    model(|| {
        let (cb, clock) = breaker(2, 1, 2);
        open_and_wait(&cb, &clock, 2);
        let p1 = cb.acquire_token().unwrap();
        let p2 = cb.acquire_token().unwrap();
        assert!(p1.is_probe() && p2.is_probe());

        let succeeding = {
            let cb = Arc::clone(&cb);
            thread::spawn(move || cb.complete(p1, Outcome::Success))
        };
        let failing = {
            let cb = Arc::clone(&cb);
            thread::spawn(move || cb.complete(p2, Outcome::Failure))
        };
        succeeding.join().unwrap();
        failing.join().unwrap();

        let m = cb.metrics();
        assert_eq!(
            (m.successful_calls, m.failed_calls, m.times_half_opened),
            (1, 3, 1),
            "{m:?}"
        );
        match cb.state() {
            State::Closed => {
                // The success came first; the failure was of a finished period.
                assert_eq!(m.times_opened, 1, "{m:?}");
                assert_eq!(m.total_open_time_ms, RESET_MS);
                cb.try_acquire().unwrap().failure();
                assert_eq!(
                    cb.state(),
                    State::Closed,
                    "the stale failure was not counted"
                );
                cb.try_acquire().unwrap().failure();
                assert_eq!(cb.state(), State::Open);
            }
            State::Open => {
                // The failure came first and reopened; the success was of a finished period.
                assert_eq!(m.times_opened, 2, "{m:?}");
                assert!(cb.acquire_token().is_err(), "a fresh open period");
                clock.advance(Duration::from_millis(RESET_MS));
                let a = cb.acquire_token().unwrap();
                let b = cb.acquire_token().unwrap();
                assert!(a.is_probe() && b.is_probe(), "no probe slot leaked");
                assert!(cb.acquire_token().is_err());
            }
            State::HalfOpen => panic!("a finished probe pair cannot leave the circuit half-open"),
        }
    });
}

#[test]
fn circuit_breaker_loom_stale_closed_failure_cannot_reopen() {
    model(|| {
        let (cb, clock) = breaker(1, 1, 1);
        // A call admitted while closed, whose failure is reported late.
        let stale = cb.acquire_token().unwrap();
        assert!(!stale.is_probe());
        open_and_wait(&cb, &clock, 1);

        // One thread probes and closes the circuit; the other reports the stale failure.
        let prober = {
            let cb = Arc::clone(&cb);
            thread::spawn(move || cb.try_acquire().expect("probe").success())
        };
        let late = {
            let cb = Arc::clone(&cb);
            thread::spawn(move || cb.complete(stale, Outcome::Failure))
        };
        prober.join().unwrap();
        late.join().unwrap();

        assert_eq!(cb.state(), State::Closed);
        let m = cb.metrics();
        assert_eq!((m.times_opened, m.times_half_opened), (1, 1), "{m:?}");
        assert_eq!(m.failed_calls, 2);
    });
}

#[test]
fn circuit_breaker_loom_snapshot_never_shows_a_half_opening_before_its_opening() {
    model(|| {
        let clock = ManualClock::new();
        let config = CircuitBreakerConfig {
            failure_threshold: 1,
            reset_timeout: Duration::from_millis(1),
            half_open_max_calls: Some(1),
            stack_trace: true,
            ..Default::default()
        };
        let cb = Arc::new(
            CircuitBreaker::try_with_clock("loom", config, Arc::new(clock.clone())).unwrap(),
        );
        let token = cb.acquire_token().unwrap();

        let opener = {
            let cb = Arc::clone(&cb);
            thread::spawn(move || cb.complete(token, Outcome::Failure))
        };
        let observer = {
            let cb = Arc::clone(&cb);
            thread::spawn(move || {
                clock.advance(Duration::from_millis(1));
                // Half-opens if the opener read the clock before it moved and has published the
                // open period; then the snapshot must also count the opening.
                let _ = cb.acquire_token();
                let m = cb.metrics();
                assert!(m.times_half_opened <= m.times_opened, "{m:?}");
            })
        };
        opener.join().unwrap();
        observer.join().unwrap();
        let m = cb.metrics();
        assert_eq!(m.times_opened, 1);
        assert!(m.times_half_opened <= 1);
    });
}

#[test]
fn circuit_breaker_loom_snapshot_counts_an_ending_open_period_at_most_once() {
    model(|| {
        let (cb, clock) = breaker(1, 1, 1);
        open_and_wait(&cb, &clock, 1); // open from 0 to 10 ms

        let half_opener = {
            let cb = Arc::clone(&cb);
            thread::spawn(move || cb.acquire_token().unwrap())
        };
        let observer = {
            let cb = Arc::clone(&cb);
            thread::spawn(move || cb.metrics().total_open_time_ms)
        };
        let probe = half_opener.join().unwrap();
        let seen = observer.join().unwrap();
        // 10 whether the period is seen in progress or finished; 0 only in the instant between
        // the half-opening and its bookkeeping; never 20.
        assert!(seen == RESET_MS || seen == 0, "saw {seen} ms of open time");
        assert_eq!(cb.metrics().total_open_time_ms, RESET_MS);
        cb.complete(probe, Outcome::Success);
    });
}
