//! Lock-free circuit breakers with an injectable clock: the pure-Rust core of
//! `@neural-trader/resilience`.
//!
//! A [`CircuitBreaker`] wraps calls to a service and stops calling it once it keeps failing:
//!
//! ```text
//! CLOSED --[failures >= threshold]--> OPEN
//! OPEN --[reset timeout elapsed, next call]--> HALF_OPEN
//! HALF_OPEN --[success threshold met]--> CLOSED
//! HALF_OPEN --[any failure]--> OPEN
//! ```
//!
//! The whole state is one atomic word changed by compare-and-swap (see `src/state/`), so the call
//! path takes no lock and every transition is safe under any interleaving of threads. No breaker
//! owns a timer or a thread: OPEN -> HALF_OPEN is decided by the next call.
//!
//! ```
//! use neural_trader_resilience::{CircuitBreaker, CircuitBreakerConfig};
//!
//! #[tokio::main]
//! async fn main() {
//!     let cb = CircuitBreaker::new("my_service".to_string(), CircuitBreakerConfig::default());
//!     let result = cb.call(async { Ok::<i32, anyhow::Error>(42) }).await;
//!     match result {
//!         Ok(value) => println!("Success: {}", value),
//!         Err(e) => println!("Failed: {}", e),
//!     }
//! }
//! ```
#![deny(missing_docs)]

mod breaker;
mod clock;
mod config;
mod deadline;
mod error;
mod metrics;
mod permit;
mod registry;
pub mod shared;
mod state;
mod sync;

pub use breaker::CircuitBreaker;
pub use clock::{Clock, ManualClock, MonotonicClock};
pub use config::{
    validate_count, validate_duration, validate_name, CircuitBreakerConfig, ConfigError,
    ConfigErrorKind, DURATION_RANGE, MAX_DURATION_MS, MAX_HALF_OPEN_CALLS, MAX_THRESHOLD,
};
pub use error::{CallError, CircuitBreakerError, Rejected};
pub use metrics::CircuitBreakerMetrics;
pub use permit::{Outcome, Permit};
pub use registry::CircuitBreakerRegistry;
pub use state::{PermitToken, State};
