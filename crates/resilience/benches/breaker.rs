//! Per-call overhead of our breaker against `failsafe` 1.3 and `recloser` 1.4, in one binary:
//!
//! - `closed_success`: a call that succeeds through a closed circuit;
//! - `open_rejection`: a call refused by an open circuit;
//! - and the size of a `CircuitBreaker` (printed).
//!
//! Every breaker opens after consecutive failures and stays open for an hour, so the open
//! benchmarks never half-open. Our `execute` runs a future that is ready at once, polled with a
//! no-op waker (no runtime: the lazily-armed deadline never touches a timer).
//!
//! ```text
//! cargo bench -p neural-trader-resilience --bench breaker
//! ```

use std::future::Future;
use std::hint::black_box;
use std::pin::pin;
use std::task::{Context, Poll, Waker};
use std::time::Duration;

use criterion::{criterion_group, criterion_main, Criterion};
use failsafe::{backoff, failure_policy, CircuitBreaker as _};
use neural_trader_resilience::{CallError, CircuitBreaker, CircuitBreakerConfig};
use recloser::Recloser;

const OPEN_FOR: Duration = Duration::from_secs(3_600);
const FAILURES_TO_OPEN: u32 = 5;

fn ours() -> CircuitBreaker {
    CircuitBreaker::new(
        "bench",
        CircuitBreakerConfig {
            failure_threshold: FAILURES_TO_OPEN,
            reset_timeout: OPEN_FOR,
            ..Default::default()
        },
    )
}

fn failsafe() -> impl failsafe::CircuitBreaker {
    let policy =
        failure_policy::consecutive_failures(FAILURES_TO_OPEN, backoff::constant(OPEN_FOR));
    failsafe::Config::new().failure_policy(policy).build()
}

fn recloser() -> Recloser {
    Recloser::custom()
        .closed_len(FAILURES_TO_OPEN as usize)
        .error_rate(0.5)
        .open_wait(OPEN_FOR)
        .build()
}

/// Polls `f` once with a no-op waker; the futures benchmarked here are ready at once.
#[inline(always)]
fn poll_ready<F: Future>(f: F) -> F::Output {
    let f = pin!(f);
    match f.poll(&mut Context::from_waker(Waker::noop())) {
        Poll::Ready(v) => v,
        Poll::Pending => unreachable!("the operation is ready at once"),
    }
}

fn closed_success(c: &mut Criterion) {
    let mut g = c.benchmark_group("closed_success");

    let cb = ours();
    g.bench_function("ours/try_acquire+success", |b| {
        b.iter(|| {
            let cb = black_box(&cb);
            match cb.try_acquire() {
                Ok(permit) => {
                    let value = black_box(42u32);
                    permit.success();
                    value
                }
                Err(_) => unreachable!("closed"),
            }
        })
    });
    g.bench_function("ours/execute_ready", |b| {
        b.iter(|| {
            let cb = black_box(&cb);
            poll_ready(cb.execute(async { Ok::<u32, ()>(black_box(42)) }))
        })
    });
    assert_eq!(cb.state().as_str(), "CLOSED");

    let fs = failsafe();
    g.bench_function("failsafe/call", |b| {
        b.iter(|| black_box(&fs).call(|| Ok::<u32, ()>(black_box(42))))
    });
    assert!(fs.is_call_permitted());

    let rc = recloser();
    g.bench_function("recloser/call", |b| {
        b.iter(|| black_box(&rc).call(|| Ok::<u32, ()>(black_box(42))))
    });
    g.finish();
}

fn open_rejection(c: &mut Criterion) {
    let mut g = c.benchmark_group("open_rejection");

    let cb = ours();
    for _ in 0..FAILURES_TO_OPEN {
        cb.try_acquire().unwrap().failure();
    }
    assert_eq!(cb.state().as_str(), "OPEN");
    g.bench_function("ours/try_acquire", |b| {
        b.iter(|| black_box(&cb).try_acquire().is_err())
    });
    g.bench_function("ours/execute", |b| {
        b.iter(|| {
            let cb = black_box(&cb);
            match poll_ready(cb.execute(async { Ok::<u32, ()>(black_box(42)) })) {
                Err(CallError::Breaker(e)) => e.is_open(),
                _ => unreachable!("open"),
            }
        })
    });
    assert_eq!(cb.state().as_str(), "OPEN");

    let fs = failsafe();
    for _ in 0..FAILURES_TO_OPEN {
        let _ = fs.call(|| Err::<u32, ()>(()));
    }
    assert!(matches!(
        fs.call(|| Ok::<u32, ()>(1)),
        Err(failsafe::Error::Rejected)
    ));
    g.bench_function("failsafe/call", |b| {
        b.iter(|| {
            black_box(&fs)
                .call(|| Ok::<u32, ()>(black_box(42)))
                .is_err()
        })
    });

    let rc = recloser();
    for _ in 0..=FAILURES_TO_OPEN {
        let _ = rc.call(|| Err::<u32, ()>(()));
    }
    assert!(matches!(
        rc.call(|| Ok::<u32, ()>(1)),
        Err(recloser::Error::Rejected)
    ));
    g.bench_function("recloser/call", |b| {
        b.iter(|| {
            black_box(&rc)
                .call(|| Ok::<u32, ()>(black_box(42)))
                .is_err()
        })
    });
    g.finish();
}

fn sizes(_: &mut Criterion) {
    println!(
        "size_of::<CircuitBreaker>() = {} bytes (plus the name and, for MonotonicClock, \
         a zero-sized clock behind an Arc)",
        std::mem::size_of::<CircuitBreaker>()
    );
}

fn config() -> Criterion {
    Criterion::default()
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(2))
}

criterion_group! {
    name = benches;
    config = config();
    targets = sizes, closed_success, open_rejection
}
criterion_main!(benches);
