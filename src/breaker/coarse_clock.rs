//! A coarse monotonic clock that JavaScript reads from shared memory, for call deadlines.
//!
//! Why: arming the default 30 s deadline on a call needs the time, and `performance.now()` costs
//! ~45 ns in Node 20 (a receiver check, a wrapper and a native call), about a quarter of what
//! a timed call cost over a bare `await` (bench/RESULTS.md). Here one process-wide word holds
//! the milliseconds elapsed since this module first ran, kept current to ~1 ms by a thread of
//! its own, and `lib/clock.js` reads it as a `Float64Array` element through an external
//! `ArrayBuffer` (every JS thread gets a view of the same static memory): a plain read, ~6 ns,
//! where one `Atomics.load` costs ~12 ns in Node 20 (V8 11.3 does not inline it). The word is
//! one aligned 8-byte store here and one aligned 8-byte load there, which x86-64 and AArch64
//! never tear.
//!
//! The thread runs only while some JS thread has timed calls pending: each thread's timer wheel
//! calls `__clockRun(1)` when it starts and `__clockRun(-1)` when it stops, and the thread parks
//! while the count is zero (a worker terminated while its wheel runs leaves it ticking, at
//! ~1000 wake-ups a second). On each of its ticks (every 10 ms) the wheel reads the exact time
//! with `__clockKeep`, which also refreshes the word. The thread never keeps a process alive
//! (Node does not wait for native threads).
//!
//! The word can only lag behind the real clock (by the thread's sleep, or more if the machine
//! starves it); the wheel adds a tick of margin to every deadline, and reads the exact time
//! through `__clockKeep` whenever it saw the word lag by more than half a tick.

use std::ffi::c_void;
use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};
use std::sync::OnceLock;
use std::thread::Thread;
use std::time::{Duration, Instant};

use napi::{sys, Env, Error, Result, Status, Unknown};
use napi_derive::napi;

/// The shared word: milliseconds since `BASE`, the bits of an `f64` (a whole number).
#[repr(C, align(8))]
struct ClockWord(AtomicU64);

static WORD: ClockWord = ClockWord(AtomicU64::new(0));
static BASE: OnceLock<Instant> = OnceLock::new();
/// How many timer wheels (one per JS thread at most) are running: the thread ticks while any is.
static RUNNING: AtomicI64 = AtomicI64::new(0);
static TICKER: OnceLock<Thread> = OnceLock::new();

/// How often the thread refreshes the word.
const PERIOD: Duration = Duration::from_millis(1);

fn now_ms() -> u64 {
    // Counted from 1, so that a word that was never written (0) is never a valid time.
    BASE.get_or_init(Instant::now).elapsed().as_millis() as u64 + 1
}

fn refresh() -> u64 {
    let now = now_ms();
    // The bits of positive doubles order as the doubles do.
    WORD.0.fetch_max((now as f64).to_bits(), Ordering::Release);
    now
}

fn ticker() -> &'static Thread {
    TICKER.get_or_init(|| {
        std::thread::Builder::new()
            .name("resilience-clock".into())
            .spawn(|| loop {
                refresh();
                if RUNNING.load(Ordering::Acquire) <= 0 {
                    std::thread::park();
                } else {
                    std::thread::sleep(PERIOD);
                }
            })
            .expect("cannot start the deadline clock thread")
            .thread()
            .clone()
    })
}

/// The clock word as an `ArrayBuffer` over the static memory itself (never freed, so there is
/// nothing to finalize). Throws `ERR_NO_EXTERNAL_BUFFERS` where the runtime forbids external
/// buffers (the wheel then reads `__clockKeep` for every deadline).
#[napi(skip_typescript, js_name = "__clockWords")]
pub fn clock_words(env: &Env) -> Result<Unknown<'_>> {
    refresh();
    let data = std::ptr::from_ref(&WORD).cast_mut().cast::<c_void>();
    let mut value = std::ptr::null_mut();
    // SAFETY: `data` points at 8 bytes of a static atomic that is never freed; JS only reads
    // them, atomically.
    let status = unsafe {
        sys::napi_create_external_arraybuffer(
            env.raw(),
            data,
            std::mem::size_of::<ClockWord>(),
            None,
            std::ptr::null_mut(),
            &mut value,
        )
    };
    if status != sys::Status::napi_ok {
        return Err(Error::new(
            Status::GenericFailure,
            "ERR_NO_EXTERNAL_BUFFERS: this runtime does not allow external ArrayBuffers",
        ));
    }
    // SAFETY: `value` was just created in this env.
    Ok(unsafe { Unknown::from_raw_unchecked(env.raw(), value) })
}

/// Refreshes the word and returns the exact time (ms on the word's scale).
#[napi(skip_typescript, js_name = "__clockKeep")]
pub fn clock_keep() -> f64 {
    refresh() as f64
}

/// A timer wheel started (`1`) or stopped (`-1`): the thread ticks while any wheel runs.
/// Refreshes the word and returns the exact time, as `__clockKeep`.
#[napi(skip_typescript, js_name = "__clockRun")]
pub fn clock_run(delta: i32) -> f64 {
    let now = refresh();
    if RUNNING.fetch_add(i64::from(delta.signum()), Ordering::AcqRel) + i64::from(delta.signum())
        > 0
    {
        ticker().unpark();
    }
    now as f64
}
