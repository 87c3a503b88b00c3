//! Node.js binding of the neural-trader circuit breakers.
//!
//! This crate only converts: JS values to core types and back, and core errors to JS errors with
//! a stable `code`. Every decision lives in the pure-Rust core (`crates/resilience`), re-exported
//! here as [`resilience`] so that Rust code can use the API of the original design (`ARCHITECTURE.md`, "The
//! original design"):
//!
//! ```
//! use neural_trader_napi::resilience::{CircuitBreaker, CircuitBreakerConfig};
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() {
//! let cb = CircuitBreaker::new("my_service".to_string(), CircuitBreakerConfig::default());
//! assert_eq!(cb.call(async { Ok::<i32, anyhow::Error>(42) }).await.unwrap(), 42);
//! # }
//! ```
#![deny(clippy::all)]
// `#[napi]` items are registered with Node, not called from Rust: in test builds they look unused.
#![cfg_attr(test, allow(dead_code))]

mod breaker;
mod database;
mod e2b;
mod http;
mod js;
mod neural;
mod runtime;
mod trading;

/// The Rust API: circuit breakers, their config, metrics and registry, and the domain breakers.
pub mod resilience {
    pub use neural_trader_clients::*;
    pub use neural_trader_resilience::*;
}
