//! Stress test: many OS threads hammer one shared breaker while another thread moves its
//! [`ManualClock`] and a third keeps taking metrics snapshots. Outcomes are random (a tiny
//! xorshift, seeded per thread, so a failure can be replayed by its seed).
//!
//! Checked while running:
//! - probes in flight never exceed `half_open_max_calls` in any half-open period (counted per
//!   period: the generation in a probe's [`PermitToken`] tells which one it belongs to);
//! - every snapshot adds up (`total == successful + failed + rejected`), never shows more
//!   half-openings than openings, never counts more calls than were started nor fewer than had
//!   finished, never counts more open time than the clock moved, and its counts never go
//!   backwards.
//!
//! Checked at the end: every call was counted exactly once, in the right column.

use std::future::Future;
use std::pin::pin;
use std::sync::atomic::{AtomicBool, AtomicU32, AtomicU64, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll, Waker};
use std::thread;
use std::time::{Duration, Instant};

use neural_trader_resilience::{
    CircuitBreaker, CircuitBreakerConfig, CircuitBreakerMetrics, Clock, ManualClock, Outcome,
    PermitToken, State,
};

const THREADS: usize = 8;
const CALLS_PER_THREAD: u64 = 40_000;
const HALF_OPEN_MAX_CALLS: u32 = 2;

/// Marsaglia's xorshift64: good enough to pick outcomes, and no dependency.
struct XorShift(u64);

impl XorShift {
    fn new(seed: u64) -> Self {
        Self(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1)
    }

    fn next(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        self.0 = x;
        x
    }

    /// A number in `0..100`.
    fn percent(&mut self) -> u64 {
        self.next() % 100
    }
}

/// What one worker did, by its own count.
#[derive(Debug, Default, Clone, Copy)]
struct Tally {
    successes: u64,
    failures: u64,
    cancelled: u64,
    rejected: u64,
    probes: u64,
}

impl Tally {
    fn calls(&self) -> u64 {
        self.successes + self.failures + self.cancelled + self.rejected
    }
}

/// Probes in flight, per half-open period (indexed by the generation in the probe's token).
struct ProbeGauge {
    by_generation: Vec<AtomicU32>,
    max_seen: AtomicU32,
}

impl ProbeGauge {
    fn new() -> Self {
        Self {
            by_generation: (0..=u16::MAX).map(|_| AtomicU32::new(0)).collect(),
            max_seen: AtomicU32::new(0),
        }
    }

    fn slot(&self, token: PermitToken) -> &AtomicU32 {
        &self.by_generation[(token.to_raw() & 0xFFFF) as usize]
    }

    /// Called right after a probe is admitted.
    fn enter(&self, token: PermitToken) {
        let in_flight = self.slot(token).fetch_add(1, Ordering::SeqCst) + 1;
        self.max_seen.fetch_max(in_flight, Ordering::Relaxed);
        assert!(
            in_flight <= HALF_OPEN_MAX_CALLS,
            "{in_flight} probes in flight in one half-open period (token {token:?})"
        );
    }

    /// Called right before the probe's outcome is reported (after that, its slot is free).
    fn leave(&self, token: PermitToken) {
        self.slot(token).fetch_sub(1, Ordering::SeqCst);
    }
}

fn poll_once<F: Future>(f: F) -> Poll<F::Output> {
    let mut f = pin!(f);
    f.as_mut().poll(&mut Context::from_waker(Waker::noop()))
}

struct Shared {
    cb: CircuitBreaker,
    gauge: ProbeGauge,
    /// Calls begun (incremented before a call asks for admission).
    started: AtomicU64,
    /// Calls whose outcome (or rejection) has been reported to the breaker.
    finished: AtomicU64,
}

/// Some calls take a while: let other threads run between admission and outcome, so that
/// probes overlap and outcomes arrive after the circuit moved on.
fn simulate_latency(rng: &mut XorShift) {
    if rng.percent() < 30 {
        thread::yield_now();
    }
}

/// One call through the token API, with the probe gauge around a probe.
fn token_call(s: &Shared, rng: &mut XorShift, tally: &mut Tally) {
    match s.cb.acquire_token() {
        Err(_) => tally.rejected += 1,
        Ok(token) => {
            if token.is_probe() {
                tally.probes += 1;
                s.gauge.enter(token);
            }
            simulate_latency(rng);
            let roll = rng.percent();
            let outcome = if roll < 55 {
                tally.successes += 1;
                Outcome::Success
            } else if roll < 95 {
                tally.failures += 1;
                Outcome::Failure
            } else {
                tally.cancelled += 1;
                Outcome::Cancelled
            };
            if token.is_probe() {
                s.gauge.leave(token);
            }
            s.cb.complete(token, outcome);
        }
    }
}

/// One call through the `Permit` API.
fn permit_call(s: &Shared, rng: &mut XorShift, tally: &mut Tally) {
    match s.cb.try_acquire() {
        Err(_) => tally.rejected += 1,
        Ok(permit) => {
            if permit.is_probe() {
                tally.probes += 1;
            }
            simulate_latency(rng);
            let roll = rng.percent();
            if roll < 55 {
                tally.successes += 1;
                permit.success();
            } else if roll < 95 {
                tally.failures += 1;
                permit.failure();
            } else {
                tally.cancelled += 1;
                drop(permit);
            }
        }
    }
}

/// One call through `execute` with a ready future, polled once with a no-op waker.
fn execute_call(s: &Shared, rng: &mut XorShift, tally: &mut Tally) {
    let ok = rng.percent() < 55;
    let Poll::Ready(result) = poll_once(s.cb.execute(async move {
        if ok {
            Ok(())
        } else {
            Err("failed")
        }
    })) else {
        panic!("a ready operation finishes on the first poll");
    };
    match result {
        Ok(()) => tally.successes += 1,
        Err(e) if e.breaker_error().is_some() => {
            assert!(e.breaker_error().unwrap().is_open(), "{e}");
            tally.rejected += 1;
        }
        Err(_) => tally.failures += 1,
    }
}

fn worker(s: &Shared, seed: u64) -> Tally {
    let mut rng = XorShift::new(seed);
    let mut tally = Tally::default();
    for _ in 0..CALLS_PER_THREAD {
        let rejected_before = tally.rejected;
        s.started.fetch_add(1, Ordering::SeqCst);
        match rng.next() % 3 {
            0 => token_call(s, &mut rng, &mut tally),
            1 => permit_call(s, &mut rng, &mut tally),
            _ => execute_call(s, &mut rng, &mut tally),
        }
        s.finished.fetch_add(1, Ordering::SeqCst);
        if tally.rejected > rejected_before {
            // Back off like a real client, giving the clock thread a chance to run.
            thread::yield_now();
        }
    }
    tally
}

/// Checks one snapshot against the previous one and against the call counts around it.
fn check_snapshot(
    m: &CircuitBreakerMetrics,
    previous: &CircuitBreakerMetrics,
    finished_before: u64,
    started_after: u64,
    clock_after: u64,
) {
    assert_eq!(
        m.total_calls,
        m.successful_calls + m.failed_calls + m.rejected_calls + m.ignored_calls,
        "{m:?}"
    );
    assert!(
        m.times_half_opened <= m.times_opened,
        "more half-openings than openings: {m:?}"
    );
    assert!(
        m.total_calls >= finished_before,
        "{m:?} misses finished calls ({finished_before})"
    );
    assert!(
        m.total_calls <= started_after,
        "{m:?} counts calls never started ({started_after})"
    );
    for (now, before, what) in [
        (m.successful_calls, previous.successful_calls, "successes"),
        (m.failed_calls, previous.failed_calls, "failures"),
        (m.rejected_calls, previous.rejected_calls, "rejections"),
        (
            m.times_opened.into(),
            previous.times_opened.into(),
            "openings",
        ),
        (
            m.times_half_opened.into(),
            previous.times_half_opened.into(),
            "half-openings",
        ),
    ] {
        assert!(
            now >= before,
            "{what} went backwards: {previous:?} -> {m:?}"
        );
    }
    // Open periods never overlap, and none is counted twice, so together they fit in the time
    // the clock has moved. (The open time is not checked for monotonicity: a snapshot counts the
    // period in progress up to its own reading of the clock, which may be later than the time
    // the half-opening thread read before ending the period.)
    assert!(
        m.total_open_time_ms <= clock_after,
        "{m:?}: more open time than the clock moved ({clock_after} ms)"
    );
}

#[test]
fn circuit_breaker_concurrent_calls_keep_every_invariant() {
    let started_at = Instant::now();
    let clock = ManualClock::new();
    let config = CircuitBreakerConfig {
        failure_threshold: 3,
        success_threshold: 2,
        timeout: Duration::from_secs(1),
        reset_timeout: Duration::from_millis(5),
        half_open_max_calls: Some(HALF_OPEN_MAX_CALLS),
        stack_trace: true,
    };
    let shared = Arc::new(Shared {
        cb: CircuitBreaker::try_with_clock("stress", config, Arc::new(clock.clone())).unwrap(),
        gauge: ProbeGauge::new(),
        started: AtomicU64::new(0),
        finished: AtomicU64::new(0),
    });
    let stop = Arc::new(AtomicBool::new(false));

    let ticker = thread::spawn({
        let stop = Arc::clone(&stop);
        let clock = clock.clone();
        move || {
            while !stop.load(Ordering::Relaxed) {
                clock.advance(Duration::from_millis(1));
                thread::yield_now();
            }
        }
    });

    let monitor = thread::spawn({
        let shared = Arc::clone(&shared);
        let stop = Arc::clone(&stop);
        let clock = clock.clone();
        move || {
            let mut previous = CircuitBreakerMetrics::default();
            let mut snapshots = 0u64;
            let mut states = [0u64; 3];
            while !stop.load(Ordering::Relaxed) {
                let finished_before = shared.finished.load(Ordering::SeqCst);
                let m = shared.cb.metrics();
                let started_after = shared.started.load(Ordering::SeqCst);
                let clock_after = clock.now_ms();
                check_snapshot(&m, &previous, finished_before, started_after, clock_after);
                previous = m;
                let state = shared.cb.state();
                assert!(["CLOSED", "OPEN", "HALF_OPEN"].contains(&state.as_str()));
                states[state as usize] += 1;
                snapshots += 1;
                thread::yield_now();
            }
            (snapshots, states)
        }
    });

    let workers: Vec<_> = (0..THREADS)
        .map(|i| {
            let shared = Arc::clone(&shared);
            thread::spawn(move || worker(&shared, 0xC1C0_17B7 + i as u64))
        })
        .collect();
    let tallies: Vec<Tally> = workers.into_iter().map(|w| w.join().unwrap()).collect();
    stop.store(true, Ordering::Relaxed);
    ticker.join().unwrap();
    let (snapshots, states) = monitor.join().unwrap();

    let sum = tallies.iter().fold(Tally::default(), |a, t| Tally {
        successes: a.successes + t.successes,
        failures: a.failures + t.failures,
        cancelled: a.cancelled + t.cancelled,
        rejected: a.rejected + t.rejected,
        probes: a.probes + t.probes,
    });
    for t in &tallies {
        assert_eq!(t.calls(), CALLS_PER_THREAD, "{t:?}");
    }

    let m = shared.cb.metrics();
    let calls = THREADS as u64 * CALLS_PER_THREAD;
    assert_eq!(m.total_calls, calls, "{m:?}");
    assert_eq!(
        m.total_calls,
        m.successful_calls + m.failed_calls + m.rejected_calls + m.ignored_calls
    );
    assert_eq!(m.successful_calls, sum.successes, "{m:?} {sum:?}");
    assert_eq!(
        m.failed_calls,
        sum.failures + sum.cancelled,
        "{m:?} {sum:?}"
    );
    assert_eq!(m.rejected_calls, sum.rejected, "{m:?} {sum:?}");
    assert!(m.times_half_opened <= m.times_opened, "{m:?}");
    assert!(
        m.times_opened <= m.times_half_opened + 1,
        "every opening but the last one half-opened: {m:?}"
    );
    assert!(
        shared
            .gauge
            .by_generation
            .iter()
            .all(|g| g.load(Ordering::SeqCst) == 0),
        "every probe left the gauge"
    );
    let max_probes = shared.gauge.max_seen.load(Ordering::Relaxed);
    assert!(max_probes <= HALF_OPEN_MAX_CALLS);

    // The test must actually have gone round the state machine.
    assert!(m.times_opened > 10, "{m:?}");
    assert!(m.times_half_opened > 10, "{m:?}");
    assert!(sum.probes > 10 && m.rejected_calls > 0, "{sum:?}");
    assert!(snapshots > 0);

    let final_state = shared.cb.state();
    println!(
        "{calls} calls in {:?}: {m:?}; {} probes, at most {max_probes} at once; \
         {snapshots} snapshots, states seen (closed, open, half-open) {states:?}; ends {final_state}",
        started_at.elapsed(),
        sum.probes,
    );

    // Quiet again, the breaker must still find its way back to CLOSED: no probe slot leaked.
    clock.advance(Duration::from_millis(5));
    for _ in 0..config.success_threshold {
        shared.cb.try_acquire().expect("admitted").success();
    }
    assert_eq!(shared.cb.state(), State::Closed);
}

#[test]
fn circuit_breaker_concurrent_stress_leaks_no_probe_slot() {
    // After a storm of probes that are cancelled, fail or succeed, a quiet breaker must still
    // admit exactly `half_open_max_calls` probes per half-open period.
    let clock = ManualClock::new();
    let config = CircuitBreakerConfig {
        failure_threshold: 1,
        success_threshold: 1_000_000,
        timeout: Duration::from_secs(1),
        reset_timeout: Duration::from_millis(1),
        half_open_max_calls: Some(HALF_OPEN_MAX_CALLS),
        stack_trace: true,
    };
    let cb =
        Arc::new(CircuitBreaker::try_with_clock("leaks", config, Arc::new(clock.clone())).unwrap());
    cb.try_acquire().unwrap().failure();
    clock.advance(Duration::from_millis(1));

    // Never fail: the circuit stays half-open for the whole storm (success_threshold is huge).
    let handles: Vec<_> = (0..THREADS)
        .map(|i| {
            let cb = Arc::clone(&cb);
            thread::spawn(move || {
                let mut rng = XorShift::new(i as u64 + 1);
                let mut admitted = 0u64;
                for _ in 0..CALLS_PER_THREAD / 2 {
                    if let Ok(permit) = cb.try_acquire() {
                        assert!(permit.is_probe());
                        admitted += 1;
                        if rng.percent() < 50 {
                            permit.success();
                        } else {
                            drop(permit);
                        }
                    }
                }
                admitted
            })
        })
        .collect();
    let admitted: u64 = handles.into_iter().map(|h| h.join().unwrap()).sum();
    assert!(admitted > 0);
    assert_eq!(cb.state(), State::HalfOpen);
    let metrics = cb.metrics();
    assert_eq!((metrics.times_opened, metrics.times_half_opened), (1, 1));

    let held: Vec<_> = (0..HALF_OPEN_MAX_CALLS)
        .map(|_| cb.try_acquire().expect("a probe slot is free"))
        .collect();
    assert!(cb.try_acquire().is_err(), "and no more than the budget");
    for permit in held {
        permit.success();
    }
}
