//! The `CircuitBreaker` and `CircuitBreakerRegistry` classes, the breaker's options and
//! metrics as JS objects, the native half of the per-call path, and the accessors every domain
//! breaker shares.

mod class;
mod coarse_clock;
mod fast_path;
mod metrics;
mod options;
mod registry;

pub(crate) use class::CircuitBreaker;
pub(crate) use metrics::CircuitBreakerMetrics;
pub(crate) use options::{call_timeout, count, CircuitBreakerOptions};
pub(crate) use registry::CircuitBreakerRegistry;

/// The accessors of a domain breaker class (`name`, `state`, `getState`, `getMetrics`,
/// `breaker`), for a class with a `fn core_breaker(&self) -> Arc<core::CircuitBreaker>`.
macro_rules! breaker_accessors {
    ($class:ident) => {
        #[napi_derive::napi]
        impl $class {
            /// The breaker's name.
            #[napi(getter)]
            pub fn name(&self) -> String {
                self.core_breaker().name().to_string()
            }

            /// The current state of the breaker.
            #[napi(getter, ts_return_type = "'CLOSED' | 'OPEN' | 'HALF_OPEN'")]
            pub fn state(&self) -> &'static str {
                self.core_breaker().state().as_str()
            }

            /// The current state (same as the `state` getter).
            #[napi(ts_return_type = "'CLOSED' | 'OPEN' | 'HALF_OPEN'")]
            pub fn get_state(&self) -> &'static str {
                self.core_breaker().state().as_str()
            }

            /// A snapshot of the breaker's counters (`ignoredCalls`: errors that are not the
            /// service's fault, such as an HTTP 404 or a constraint violation).
            #[napi]
            pub fn get_metrics(&self) -> $crate::breaker::CircuitBreakerMetrics {
                self.core_breaker().metrics().into()
            }

            /// The underlying breaker (the same object on every read in a thread): its
            /// `options`, metrics and state; `breaker.call(fn)` shares the circuit.
            #[napi(getter)]
            pub fn breaker(&self) -> $crate::breaker::CircuitBreaker {
                $crate::breaker::CircuitBreaker::wrap(self.core_breaker())
            }
        }
    };
}
pub(crate) use breaker_accessors;
