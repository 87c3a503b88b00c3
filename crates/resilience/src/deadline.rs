//! The per-call deadline, armed lazily.
//!
//! A future that is ready on its first poll never touches the timer wheel: the deadline is only
//! armed (one `tokio::time::Sleep`, pinned in place, no allocation) when the operation first
//! returns `Pending`. That keeps the closed-circuit path of a fast call at a few nanoseconds while
//! still bounding every slow one.

use std::future::{poll_fn, Future};
use std::mem::ManuallyDrop;
use std::pin::{pin, Pin};
use std::task::Poll;
use std::time::Duration;

/// Why [`with_deadline`] gave up on the operation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum DeadlineError {
    /// The deadline passed first; the operation was dropped.
    Elapsed,
    /// The operation was pending and no Tokio runtime was there to time it.
    NoTimer,
}

/// Runs `operation`, giving up after `timeout` ([`Duration::MAX`]: never).
pub(crate) async fn with_deadline<F: Future>(
    operation: F,
    timeout: Duration,
) -> Result<F::Output, DeadlineError> {
    let mut operation = pin!(operation);
    if timeout == Duration::MAX {
        return Ok(operation.await);
    }
    let mut sleep = pin!(LazySleep::new());
    poll_fn(move |cx| {
        if let Poll::Ready(value) = operation.as_mut().poll(cx) {
            return Poll::Ready(Ok(value));
        }
        let mut timer = sleep.as_mut().slot();
        if timer.is_none() {
            if tokio::runtime::Handle::try_current().is_err() {
                return Poll::Ready(Err(DeadlineError::NoTimer));
            }
            timer.set(Some(tokio::time::sleep(timeout)));
        }
        match timer.as_pin_mut() {
            Some(timer) => timer.poll(cx).map(|()| Err(DeadlineError::Elapsed)),
            None => Poll::Pending,
        }
    })
    .await
}

/// The deadline's timer slot, empty until the operation first returns `Pending`.
///
/// Why not a plain `Option<Sleep>`: its drop glue (deregistering a timer) is large, and it
/// becomes part of the drop glue of every `execute` future. Then the compiler stops inlining the
/// drop of a finished call: every call pays an out-of-line function that reads the future's
/// state back from memory, 8.3 ns instead of 4.6 ns per ready call (see `benches/RESULTS.md`).
/// Here dropping an empty slot is one inlined test, and an armed timer is dropped out of line.
struct LazySleep(ManuallyDrop<Option<tokio::time::Sleep>>);

impl LazySleep {
    fn new() -> Self {
        Self(ManuallyDrop::new(None))
    }

    /// The slot, pinned.
    fn slot(self: Pin<&mut Self>) -> Pin<&mut Option<tokio::time::Sleep>> {
        // SAFETY: the slot is structurally pinned: it is never moved out of `self`, and it is
        // dropped in place (by `drop_armed`, from `Drop`).
        unsafe { self.map_unchecked_mut(|s| &mut *s.0) }
    }
}

impl Drop for LazySleep {
    #[inline]
    fn drop(&mut self) {
        if self.0.is_some() {
            drop_armed(self);
        }
    }
}

#[cold]
#[inline(never)]
fn drop_armed(sleep: &mut LazySleep) {
    // SAFETY: called once, from `Drop`; the slot is not used afterwards.
    unsafe { ManuallyDrop::drop(&mut sleep.0) }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(start_paused = true)]
    async fn ready_operations_finish_and_slow_ones_time_out() {
        assert_eq!(
            with_deadline(async { 7 }, Duration::from_millis(5)).await,
            Ok(7)
        );
        let slow = tokio::time::sleep(Duration::from_secs(10));
        assert_eq!(
            with_deadline(slow, Duration::from_secs(1)).await,
            Err(DeadlineError::Elapsed)
        );
        let fast = tokio::time::sleep(Duration::from_millis(10));
        assert_eq!(with_deadline(fast, Duration::from_secs(1)).await, Ok(()));
    }

    #[tokio::test(start_paused = true)]
    async fn an_armed_deadline_is_dropped_in_place() {
        let mut call = Box::pin(with_deadline(
            std::future::pending::<()>(),
            Duration::from_secs(1),
        ));
        assert!(futures::poll!(call.as_mut()).is_pending(), "armed");
        drop(call); // drops the armed timer out of line
        tokio::time::sleep(Duration::from_secs(2)).await;
        // Armed, fired and dropped after firing.
        assert_eq!(
            with_deadline(std::future::pending::<()>(), Duration::from_millis(1)).await,
            Err(DeadlineError::Elapsed)
        );
    }

    #[test]
    fn pending_operation_without_a_runtime_is_refused() {
        let op = std::future::pending::<()>();
        let result = futures_lite_block_on(with_deadline(op, Duration::from_secs(1)));
        assert_eq!(result, Err(DeadlineError::NoTimer));
        let ready = futures_lite_block_on(with_deadline(async { 1 }, Duration::from_secs(1)));
        assert_eq!(ready, Ok(1));
    }

    /// Polls a future on this thread with a no-op waker until it is ready.
    fn futures_lite_block_on<F: Future>(f: F) -> F::Output {
        let mut f = pin!(f);
        let mut cx = std::task::Context::from_waker(std::task::Waker::noop());
        loop {
            if let Poll::Ready(v) = f.as_mut().poll(&mut cx) {
                return v;
            }
        }
    }
}
