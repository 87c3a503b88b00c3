//! The one way a Promise-returning method reports a bad argument: as a rejection, never as a
//! synchronous throw.
//!
//! Every such method reads its arguments and starts its operation inside [`promise`]. Whatever
//! goes wrong before the operation starts (a wrong type, an unknown option, a getter or Proxy
//! trap that throws while the options are read) comes back as an `Err`; [`promise`] turns it
//! into a rejected promise whose reason is the very JS value: the exception that was thrown,
//! or the error object an argument reader made.

use napi::bindgen_prelude::{PromiseRaw, ToNapiValue};
use napi::{sys, Env, JsError};

use super::Async;

/// Runs `start` and returns its promise, or a promise rejected with what it failed with.
pub(crate) fn promise<'e, V: ToNapiValue>(
    env: &'e Env,
    start: impl FnOnce() -> Async<'e, V>,
) -> Async<'e, V> {
    start().or_else(|error| rejected(env, error))
}

/// A promise rejected with `error`: the pending exception if there is one (and it is cleared),
/// else the JS value `error` holds or describes.
pub(crate) fn rejected<V: ToNapiValue>(env: &Env, error: napi::Error) -> Async<'_, V> {
    let raw = env.raw();
    let mut pending = false;
    // SAFETY: plain N-API calls on this env, on its thread.
    let reason = unsafe {
        sys::napi_is_exception_pending(raw, &mut pending);
        let mut reason = std::ptr::null_mut();
        if pending {
            sys::napi_get_and_clear_last_exception(raw, &mut reason);
        }
        if reason.is_null() {
            reason = JsError::from(error).into_value(raw);
        }
        reason
    };
    let mut deferred = std::ptr::null_mut();
    let mut promise = std::ptr::null_mut();
    super::check(
        unsafe { sys::napi_create_promise(raw, &mut deferred, &mut promise) },
        "create a promise",
    )?;
    super::check(
        unsafe { sys::napi_reject_deferred(raw, deferred, reason) },
        "reject a promise",
    )?;
    Ok(PromiseRaw::new(raw, promise))
}
