//! A task whose first poll runs on the JS thread, inside the runtime's context, and which
//! moves to the runtime when first woken.
//!
//! An operation that completes without waiting (an open circuit, a bad argument) settles
//! before the method that started it returns; one that waits on a socket writes its request
//! from the JS thread and continues on the runtime thread that sees the reply, so the JS thread
//! wakes no runtime thread to start it.

use std::cell::{Cell, RefCell};
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll, Wake, Waker};

use napi::sys;
use parking_lot::Mutex;
use tokio::runtime::Handle;

use super::channel::{finish, Channel, Job};
use super::heartbeat;

thread_local! {
    /// Set while this JS thread polls a task for the first time (see [`start`]).
    static POLLING_INLINE: Cell<bool> = const { Cell::new(false) };
    /// The job of a task that finished during its first poll, settled before `spawn` returns.
    static READY_JOB: RefCell<Option<Job>> = const { RefCell::new(None) };
}

/// Hands `job` to the JS thread: directly when the task finished during its first poll on that
/// thread, through the channel otherwise.
pub(super) fn deliver(channel: &Channel, job: Job) {
    if POLLING_INLINE.with(Cell::get) && READY_JOB.with(|slot| slot.borrow().is_none()) {
        READY_JOB.with(|slot| *slot.borrow_mut() = Some(job));
    } else {
        channel.send(job);
    }
}

/// Where a task polled first on the JS thread is.
enum Stage<F> {
    /// On the JS thread's stack, being polled (`woken`: a waker fired meanwhile).
    FirstPoll { woken: bool },
    /// Waiting for its first wake-up, which hands it to the runtime.
    Parked(Pin<Box<F>>),
    /// Owned by the runtime.
    Handed,
}

/// A task whose first poll runs on the JS thread and which moves to the runtime when first
/// woken, on the thread that wakes it (for a socket, the runtime thread that saw it readable).
struct FirstPollTask<F> {
    stage: Mutex<Stage<F>>,
    runtime: Handle,
}

impl<F: Future<Output = ()> + Send + 'static> Wake for FirstPollTask<F> {
    fn wake(self: Arc<Self>) {
        self.wake_by_ref();
    }

    fn wake_by_ref(self: &Arc<Self>) {
        let mut stage = self.stage.lock();
        match std::mem::replace(&mut *stage, Stage::Handed) {
            Stage::FirstPoll { .. } => *stage = Stage::FirstPoll { woken: true },
            Stage::Parked(future) => {
                drop(stage);
                self.runtime.spawn(future);
            }
            Stage::Handed => {}
        }
    }
}

impl<F> Drop for FirstPollTask<F> {
    fn drop(&mut self) {
        // A task that never woke is dropped with its last waker, on whatever thread held it:
        // drop it inside the runtime's context, which its resources (a pooled connection that
        // goes back to its pool, say) may need.
        if let Stage::Parked(future) = std::mem::replace(self.stage.get_mut(), Stage::Handed) {
            let _context = self.runtime.enter();
            drop(future);
        }
    }
}

/// Polls `task` once on this (JS) thread inside the runtime's context, then leaves it to the
/// runtime (see the module docs).
pub(super) fn start<F: Future<Output = ()> + Send + 'static>(env: sys::napi_env, task: F) {
    let runtime = napi::bindgen_prelude::within_runtime_if_available(Handle::current);
    heartbeat::keep_alive(&runtime);
    let first = Arc::new(FirstPollTask {
        stage: Mutex::new(Stage::FirstPoll { woken: false }),
        runtime: runtime.clone(),
    });
    let waker = Waker::from(Arc::clone(&first));
    let mut future = Box::pin(task);
    let polled = {
        let _context = runtime.enter();
        POLLING_INLINE.with(|f| f.set(true));
        let polled = future.as_mut().poll(&mut Context::from_waker(&waker));
        POLLING_INLINE.with(|f| f.set(false));
        polled
    };
    match polled {
        Poll::Ready(()) => {
            if let Some(job) = READY_JOB.with(|slot| slot.borrow_mut().take()) {
                finish(env, job);
            }
        }
        Poll::Pending => {
            let mut stage = first.stage.lock();
            if matches!(*stage, Stage::FirstPoll { woken: true }) {
                *stage = Stage::Handed;
                drop(stage);
                runtime.spawn(future);
            } else {
                *stage = Stage::Parked(future);
            }
        }
    }
}
