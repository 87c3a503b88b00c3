//! The per-call deadline, armed lazily.
//!
//! A future that is ready on its first poll never touches the timer wheel: the deadline is only
//! armed (one `tokio::time::Sleep`, pinned in place, no allocation) when the operation first
//! returns `Pending`. That keeps the closed-circuit path of a fast call at a few nanoseconds while
//! still bounding every slow one.

use std::future::{poll_fn, Future};
use std::pin::pin;
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
    let mut sleep = pin!(None::<tokio::time::Sleep>);
    poll_fn(move |cx| {
        if let Poll::Ready(value) = operation.as_mut().poll(cx) {
            return Poll::Ready(Ok(value));
        }
        if sleep.is_none() {
            if tokio::runtime::Handle::try_current().is_err() {
                return Poll::Ready(Err(DeadlineError::NoTimer));
            }
            sleep.set(Some(tokio::time::sleep(timeout)));
        }
        match sleep.as_mut().as_pin_mut() {
            Some(timer) => timer.poll(cx).map(|()| Err(DeadlineError::Elapsed)),
            None => Poll::Pending,
        }
    })
    .await
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
