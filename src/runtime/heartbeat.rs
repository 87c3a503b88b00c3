//! A timer that keeps the runtime's time driver waking up at least once per [`PERIOD`] while
//! calls are being made.
//!
//! Arming a timer (a call's deadline, a pool's acquire timeout) wakes the thread parked in the
//! time driver whenever the new timer is due before the driver's next planned wake-up, and with
//! no timer pending there is none: so without this, every call started from the JS thread
//! would wake a runtime thread just to re-plan its sleep. With a wake-up planned at most
//! `PERIOD` ahead, deadlines further away than that are filed without waking anybody. The
//! heartbeat stops after [`IDLE_BEATS`] beats without a call, and the next call starts it again.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::Duration;

use tokio::runtime::Handle;

/// How far ahead the driver's next wake-up is planned at most.
const PERIOD: Duration = Duration::from_millis(500);
/// Beats without a call before the heartbeat stops.
const IDLE_BEATS: u32 = 20;

static RUNNING: AtomicBool = AtomicBool::new(false);
static CALLS: AtomicU64 = AtomicU64::new(0);

/// Clears `RUNNING` when the heartbeat ends (or its runtime shuts down).
struct Running;

impl Drop for Running {
    fn drop(&mut self) {
        RUNNING.store(false, Ordering::Release);
    }
}

/// Counts a call and starts the heartbeat on `runtime` if it is not beating.
pub(crate) fn keep_alive(runtime: &Handle) {
    CALLS.fetch_add(1, Ordering::Relaxed);
    if RUNNING.load(Ordering::Relaxed) || RUNNING.swap(true, Ordering::AcqRel) {
        return;
    }
    runtime.spawn(async {
        let _running = Running;
        let mut seen = CALLS.load(Ordering::Relaxed);
        let mut idle = 0;
        while idle < IDLE_BEATS {
            tokio::time::sleep(PERIOD).await;
            let now = CALLS.load(Ordering::Relaxed);
            idle = if now == seen { idle + 1 } else { 0 };
            seen = now;
        }
    });
}
