//! The native half of the per-call path used by `resilience.js`.
//!
//! A call through a closed circuit runs entirely in JavaScript: it reads the state slot of the
//! breaker's shared words (an external `ArrayBuffer` over Rust memory, read with 32-bit
//! `Atomics`) and adds one to the fast-success slot when the call succeeds. Only failures, calls
//! while the circuit is not closed, and the rare clearing of a failure count come here, through
//! these functions on an `External` handle (about 100 ns each, against 280 ns for a class method).
//!
//! None of them is part of the public API (`skip_typescript`, names starting with `__`).

use std::ffi::c_void;
use std::sync::Arc;

use napi::bindgen_prelude::External;
use napi::{sys, Env, Error, Result, Status, Unknown};
use napi_derive::napi;
use neural_trader_resilience::{self as core, shared, Outcome, PermitToken};

/// A breaker held by one JS handle.
pub struct BreakerHandle(pub(crate) Arc<core::CircuitBreaker>);

unsafe extern "C" fn release_words(_env: sys::napi_env, _data: *mut c_void, hint: *mut c_void) {
    // SAFETY: `hint` is the `Arc::into_raw` made in `breaker_words`, released exactly once here.
    drop(unsafe { Arc::from_raw(hint.cast_const().cast::<core::CircuitBreaker>()) });
}

/// The breaker's shared words as an `ArrayBuffer` over the Rust memory itself. The buffer holds
/// a reference to the breaker, so the memory outlives every view of it in every thread.
/// Throws `ERR_NO_EXTERNAL_BUFFERS` where the runtime forbids external buffers (the caller then
/// falls back to native calls for every outcome).
#[napi(skip_typescript, js_name = "__breakerWords")]
pub fn breaker_words<'env>(
    env: &'env Env,
    handle: &External<BreakerHandle>,
) -> Result<Unknown<'env>> {
    let breaker = Arc::clone(&handle.0);
    let data = breaker.shared_words_ptr().cast_mut().cast::<c_void>();
    let hint = Arc::into_raw(breaker).cast_mut().cast::<c_void>();
    let mut value = std::ptr::null_mut();
    // SAFETY: `data` points at `shared::LEN` bytes of atomics that live as long as the breaker,
    // which `hint` keeps alive until V8 calls `release_words`. JS only touches them atomically.
    let status = unsafe {
        sys::napi_create_external_arraybuffer(
            env.raw(),
            data,
            shared::LEN,
            Some(release_words),
            hint,
            &mut value,
        )
    };
    if status != sys::Status::napi_ok {
        // SAFETY: V8 did not take the hint; give its reference back.
        drop(unsafe { Arc::from_raw(hint.cast_const().cast::<core::CircuitBreaker>()) });
        return Err(Error::new(
            Status::GenericFailure,
            "ERR_NO_EXTERNAL_BUFFERS: this runtime does not allow external ArrayBuffers",
        ));
    }
    // SAFETY: `value` was just created in this env.
    Ok(unsafe { Unknown::from_raw_unchecked(env.raw(), value) })
}

/// Asks to run a call while the circuit is not known to be closed. Returns -1 when rejected
/// (counted as a rejection), otherwise the permit token to hand to `__breakerComplete`.
#[napi(skip_typescript, js_name = "__breakerAcquire")]
pub fn breaker_acquire(handle: &External<BreakerHandle>) -> i64 {
    match handle.0.acquire_token() {
        Ok(token) => token.to_raw() as i64,
        Err(_) => -1,
    }
}

/// Reports the outcome of the call admitted with `token` (0 for calls admitted by the JS fast
/// path while closed).
#[napi(skip_typescript, js_name = "__breakerComplete")]
pub fn breaker_complete(
    handle: &External<BreakerHandle>,
    token: u32,
    succeeded: bool,
) -> Result<()> {
    let token = PermitToken::from_raw(token)
        .ok_or_else(|| Error::new(Status::InvalidArg, "invalid permit token"))?;
    let outcome = if succeeded {
        Outcome::Success
    } else {
        Outcome::Failure
    };
    handle.0.complete(token, outcome);
    Ok(())
}

/// Folds the JS fast-success counter into the 64-bit totals (called when it gets large).
#[napi(skip_typescript, js_name = "__breakerFold")]
pub fn breaker_fold(handle: &External<BreakerHandle>) {
    handle.0.fold_fast_successes();
}

/// Where the fast path finds things in the shared words.
#[napi(skip_typescript, js_name = "__sharedLayout")]
pub fn shared_layout() -> Vec<u32> {
    vec![
        shared::STATE_SLOT as u32,
        shared::FAST_SUCCESS_SLOT as u32,
        shared::MODE_MASK as u32,
    ]
}

/// Moves every breaker's clock forward by `ms` whole milliseconds: `lib/clock.js` reports how far
/// an installed fake clock (jest, vitest, sinon) moved, so open circuits half-open on fake time.
#[napi(skip_typescript, js_name = "__skipTime")]
pub fn skip_time(ms: f64) {
    if ms.is_finite() && ms >= 1.0 {
        core::MonotonicClock::skip(std::time::Duration::from_millis(ms as u64));
    }
}
