//! The settle channel: one threadsafe function per JS environment, through which promises
//! made on the JS thread are settled from the Tokio runtime.
//!
//! napi-rs's `Env::spawn_future_with_callback` pays, for every call, a threadsafe function of
//! its own (a libuv async handle opened and closed again), an `Error` with a captured stack
//! trace kept in case the promise rejects, a reference, an environment cleanup hook, and two
//! spawned tasks, and its task starts on a runtime thread that the JS thread has to wake. Here:
//!
//! - each JS environment (the main thread, each worker) has one threadsafe function, made on
//!   first use; a call makes a plain promise and its settlement travels back as one queue item
//!   (when several calls finish together, the JS thread settles them in one wake-up);
//! - the call's first poll runs on the JS thread, inside the runtime's context ([`start`]): a
//!   call that needs no I/O (an open circuit, a bad argument) settles before the method returns,
//!   and one that does writes its request from the JS thread and continues on the runtime thread
//!   that sees the reply;
//! - a heartbeat timer keeps arming a call's deadline from waking a runtime thread.
//!
//! The threadsafe function keeps the event loop alive only while a promise is pending, as a
//! pending napi-rs future does. When the environment is torn down (a worker terminated) Node
//! finalizes the threadsafe function; a settlement that arrives later is dropped on the thread
//! that produced it, without touching N-API.

use std::cell::{Cell, RefCell};
use std::ffi::c_void;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::ptr;
use std::rc::Rc;
use std::sync::Arc;

use napi::bindgen_prelude::ToNapiValue;
use napi::{sys, Env, Error, JsError, Result, Status};
use parking_lot::Mutex;

use crate::js::check;

/// Builds the value a promise resolves with, or the error it rejects with, on the JS thread.
pub(super) type Settle = Box<dyn FnOnce(&Env) -> Result<sys::napi_value> + Send>;

/// One settlement on its way to the JS thread.
pub(super) struct Job {
    pub(super) deferred: DeferredHandle,
    pub(super) settle: Settle,
}

/// A deferred on its way through the runtime.
pub(super) struct DeferredHandle(sys::napi_deferred);

// SAFETY: the deferred is an opaque handle that is only used on the JS thread of the
// environment that made it (in `call_js`).
unsafe impl Send for DeferredHandle {}

/// The threadsafe function of one environment, `None` once Node has finalized it.
pub(super) struct Channel {
    tsfn: Mutex<Option<TsfnHandle>>,
}

#[derive(Clone, Copy)]
struct TsfnHandle(sys::napi_threadsafe_function);

// SAFETY: N-API documents `napi_call_threadsafe_function` as callable from any thread; the
// handle is only used through `Channel`, whose lock keeps it from being used after Node
// finalized it.
unsafe impl Send for TsfnHandle {}

impl Channel {
    /// Queues `job` for the JS thread; drops it when the environment is gone.
    pub(super) fn send(&self, job: Job) {
        let tsfn = self.tsfn.lock();
        let Some(TsfnHandle(raw)) = *tsfn else {
            return;
        };
        let data = Box::into_raw(Box::new(job));
        // The lock is held across the call so that the finalizer (which takes it) cannot run
        // in between: Node frees the threadsafe function right after finalizing it.
        let status = unsafe {
            sys::napi_call_threadsafe_function(
                raw,
                data.cast(),
                sys::ThreadsafeFunctionCallMode::nonblocking,
            )
        };
        if status != sys::Status::napi_ok {
            // Closing (the environment is being torn down): nobody is left to settle.
            drop(unsafe { Box::from_raw(data) });
        }
    }
}

/// This JS thread's environment, its channel, and how many of its promises are pending.
struct Local {
    env: sys::napi_env,
    channel: Arc<Channel>,
    pending: Cell<usize>,
}

thread_local! {
    static LOCAL: RefCell<Option<Rc<Local>>> = const { RefCell::new(None) };
}

/// The channel of `env`, made on first use.
fn local(env: sys::napi_env) -> Result<Rc<Local>> {
    let current = LOCAL.with(|l| l.borrow().clone());
    if let Some(local) = current {
        if local.env == env && local.channel.tsfn.lock().is_some() {
            return Ok(local);
        }
    }
    let channel = Arc::new(Channel {
        tsfn: Mutex::new(None),
    });
    let name = unsafe { <&str as ToNapiValue>::to_napi_value(env, "neural-trader settle")? };
    // The finalizer owns one strong count of the channel, released when Node finalizes the
    // threadsafe function.
    let finalize_data = Arc::into_raw(Arc::clone(&channel));
    let mut raw = ptr::null_mut();
    let status = unsafe {
        sys::napi_create_threadsafe_function(
            env,
            ptr::null_mut(),
            ptr::null_mut(),
            name,
            0,
            1,
            finalize_data as *mut c_void,
            Some(finalize),
            ptr::null_mut(),
            Some(call_js),
            &mut raw,
        )
    };
    if status != sys::Status::napi_ok {
        drop(unsafe { Arc::from_raw(finalize_data) });
        return Err(Error::new(
            Status::GenericFailure,
            "could not create the settle channel",
        ));
    }
    // Idle until a promise is pending.
    check(
        unsafe { sys::napi_unref_threadsafe_function(env, raw) },
        "unref the settle channel",
    )?;
    *channel.tsfn.lock() = Some(TsfnHandle(raw));
    let local = Rc::new(Local {
        env,
        channel,
        pending: Cell::new(0),
    });
    LOCAL.with(|l| *l.borrow_mut() = Some(Rc::clone(&local)));
    Ok(local)
}

/// Node finalized the threadsafe function (environment teardown): close the channel.
unsafe extern "C" fn finalize(_env: sys::napi_env, data: *mut c_void, _hint: *mut c_void) {
    let channel = unsafe { Arc::from_raw(data as *const Channel) };
    *channel.tsfn.lock() = None;
}

/// Runs on the JS thread for each queued job (with a null `env` while Node drains the queue of
/// a threadsafe function being torn down).
unsafe extern "C" fn call_js(
    env: sys::napi_env,
    _callback: sys::napi_value,
    _context: *mut c_void,
    data: *mut c_void,
) {
    if data.is_null() {
        return;
    }
    let job = *unsafe { Box::from_raw(data.cast::<Job>()) };
    if !env.is_null() {
        finish(env, job);
    }
}

/// Settles `job`'s promise on the JS thread of `env`.
pub(super) fn finish(env: sys::napi_env, job: Job) {
    let Job {
        deferred: DeferredHandle(deferred),
        settle,
    } = job;
    let js_env = Env::from_raw(env);
    let outcome = catch_unwind(AssertUnwindSafe(|| settle(&js_env))).unwrap_or_else(|_| {
        Err(Error::new(
            Status::GenericFailure,
            "internal error: converting the result panicked",
        ))
    });
    unsafe {
        match outcome {
            Ok(value) => sys::napi_resolve_deferred(env, deferred, value),
            Err(error) => {
                let reason = JsError::from(error).into_value(env);
                sys::napi_reject_deferred(env, deferred, reason)
            }
        };
    }
    LOCAL.with(|l| {
        if let Some(local) = l.borrow().as_ref() {
            if local.env == env {
                let pending = local.pending.get().saturating_sub(1);
                local.pending.set(pending);
                if pending == 0 {
                    if let Some(TsfnHandle(raw)) = *local.channel.tsfn.lock() {
                        unsafe { sys::napi_unref_threadsafe_function(env, raw) };
                    }
                }
            }
        }
    });
}

/// Makes a pending promise of `env`, counted as pending until its job is settled.
pub(super) fn promise(env: &Env) -> Result<(sys::napi_value, Arc<Channel>, DeferredHandle)> {
    let local = local(env.raw())?;
    let mut deferred = ptr::null_mut();
    let mut promise = ptr::null_mut();
    check(
        unsafe { sys::napi_create_promise(env.raw(), &mut deferred, &mut promise) },
        "create a promise",
    )?;
    let pending = local.pending.get();
    if pending == 0 {
        if let Some(TsfnHandle(raw)) = *local.channel.tsfn.lock() {
            check(
                unsafe { sys::napi_ref_threadsafe_function(env.raw(), raw) },
                "ref the settle channel",
            )?;
        }
    }
    local.pending.set(pending + 1);
    Ok((
        promise,
        Arc::clone(&local.channel),
        DeferredHandle(deferred),
    ))
}
