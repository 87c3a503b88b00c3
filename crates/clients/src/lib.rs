//! Domain clients of `@neural-trader/resilience`: each one does real I/O behind its own
//! [`neural_trader_resilience::CircuitBreaker`] and classifies every outcome as a success, a
//! failure that counts against the service, or an error that is not the service's fault
//! ([`neural_trader_resilience::Outcome::Ignored`]). That classification is the only breaker
//! logic a client owns; the state machine, timeouts and metrics are the core's.
//!
//! - [`http`]: `ApiCircuitBreaker`, an HTTP/JSON client (reqwest with rustls, one pooled client
//!   per breaker) that trips on connection errors, timeouts, 5xx, 408 and 429 and honours
//!   `Retry-After`.
//! - [`database`]: `DatabaseCircuitBreaker`, SQLite (embedded), PostgreSQL and MySQL/MariaDB
//!   through sqlx driver-specific pools, tripping on I/O, protocol and pool errors and SQLSTATE
//!   classes 08 / 57P, not on constraint violations or syntax errors.
//! - [`e2b`]: `E2BSandboxCircuitBreaker`, E2B sandboxes (control plane and the code
//!   interpreter's `/execute` stream) over the HTTP layer; trips on connection errors, timeouts,
//!   5xx, 429 and broken streams, not on 4xx, vanished sandboxes or exceptions in user code.
//! - [`neural`]: `NeuralCircuitBreaker`, a built-in feed-forward regressor trained with
//!   candle-nn, or a remote model server (Open Inference Protocol v2, TensorFlow Serving) over
//!   the HTTP layer; trips on timeouts, 5xx, connection errors and non-finite outputs.
//! - [`trading`]: `TradingSystemCircuitBreakers`, every breaker above for one trading system,
//!   grouped in one registry.
#![deny(missing_docs)]

pub mod database;
pub mod e2b;
pub mod http;
pub mod neural;
pub mod redact;
pub mod trading;

pub use database::DatabaseCircuitBreaker;
pub use e2b::E2BSandboxCircuitBreaker;
pub use http::ApiCircuitBreaker;
pub use neural::NeuralCircuitBreaker;
pub use trading::TradingSystemCircuitBreakers;
