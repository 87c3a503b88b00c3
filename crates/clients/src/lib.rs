//! Domain clients of `@neural-trader/resilience`: each one does real I/O behind its own
//! [`neural_trader_resilience::CircuitBreaker`] and classifies every outcome as a success, a
//! failure that counts against the service, or an error that is not the service's fault
//! ([`neural_trader_resilience::Outcome::Ignored`]). That classification is the only breaker
//! logic a client owns; the state machine, timeouts and metrics are the core's.
//!
//! The modules, each behind the Cargo feature of its domain (see [Cargo features](#cargo-features)):
//!
//! - `http`: `ApiCircuitBreaker`, an HTTP/JSON client (reqwest with rustls, one pooled client
//!   per breaker) that trips on connection errors, timeouts, 5xx, 408 and 429 and honours
//!   `Retry-After`.
//! - `database`: `DatabaseCircuitBreaker`, SQLite (embedded), PostgreSQL and MySQL/MariaDB
//!   through sqlx driver-specific pools, tripping on I/O, protocol and pool errors and SQLSTATE
//!   classes 08 / 57P, not on constraint violations or syntax errors.
//! - `e2b`: `E2BSandboxCircuitBreaker`, E2B sandboxes (control plane and the code
//!   interpreter's `/execute` stream) over the HTTP layer; trips on connection errors, timeouts,
//!   5xx, 429 and broken streams, not on 4xx, vanished sandboxes or exceptions in user code.
//! - `neural`: `NeuralCircuitBreaker`, a built-in feed-forward regressor trained with
//!   candle-nn, or a remote model server (Open Inference Protocol v2, TensorFlow Serving) over
//!   the HTTP layer; trips on timeouts, 5xx, connection errors and non-finite outputs.
//! - `trading`: `TradingSystemCircuitBreakers`, every breaker above for one trading system,
//!   grouped in one registry.
//!
//! # Cargo features
//!
//! One feature per domain, so that a program that needs one domain builds only that domain's
//! dependencies. **No feature is on by default** (`default = []`, as sqlx enables no database
//! driver by default): the domains are peers, any default would bring back the heavy
//! dependencies the split exists to avoid (candle, three database drivers), and a default that
//! users must switch off with `default-features = false` comes back as soon as any other crate
//! in the build depends on this one with its defaults, since Cargo unifies features. Name the
//! domains you need, or `trading` for all of them (the Node.js binding does).
//!
//! | feature | what it compiles | what it pulls in |
//! | --- | --- | --- |
//! | (none) | [`redact`] | the core crate, tokio, serde, serde_json, url (every domain uses them) |
//! | `http` | `http` | reqwest (rustls, HTTP/2), bytes, httpdate |
//! | `database-sqlite` | `database` with `sqlite:` URLs and the in-memory default | sqlx with its SQLite driver (bundled libsqlite3), and what every driver shares: chrono, uuid, futures-util, parking_lot |
//! | `database-postgres` | `database` with `postgres:` / `postgresql:` URLs | sqlx with its PostgreSQL driver and rustls, bigdecimal, and what every driver shares |
//! | `database-mysql` | `database` with `mysql:` / `mariadb:` URLs | sqlx with its MySQL driver and rustls, and what every driver shares |
//! | `e2b` | `e2b`; implies `http` | what `http` does, parking_lot |
//! | `neural` | `neural` (built-in and remote backends); implies `http` | candle-core, candle-nn, parking_lot, and what `http` does |
//! | `trading` | `trading`; implies all of the above | everything |
//!
//! The `database-*` features can be combined: `database::DatabaseCircuitBreaker` serves the
//! URL schemes of every driver compiled in and refuses the others with `ERR_INVALID_URL_SCHEME`
//! (the message names the missing feature). They all enable `database`, the code the drivers
//! share; `database` alone compiles nothing. Without `database-sqlite` there is no default
//! database: `database::DatabaseOptions` needs a URL, and
//! `DatabaseCircuitBreaker::new` (a private in-memory SQLite database) does not exist.
//!
//! `neural` implies `http` instead of putting the remote backend behind `http`: the backends stay
//! one enum with one error type and no `cfg` in them, for the price of reqwest, which candle far
//! outweighs.
#![deny(missing_docs)]

#[cfg(any(
    feature = "database-sqlite",
    feature = "database-postgres",
    feature = "database-mysql"
))]
pub mod database;
#[cfg(feature = "e2b")]
pub mod e2b;
#[cfg(feature = "http")]
pub mod http;
#[cfg(feature = "neural")]
pub mod neural;
pub mod redact;
#[cfg(feature = "trading")]
pub mod trading;

#[cfg(any(
    feature = "database-sqlite",
    feature = "database-postgres",
    feature = "database-mysql"
))]
pub use database::DatabaseCircuitBreaker;
#[cfg(feature = "e2b")]
pub use e2b::E2BSandboxCircuitBreaker;
#[cfg(feature = "http")]
pub use http::ApiCircuitBreaker;
#[cfg(feature = "neural")]
pub use neural::NeuralCircuitBreaker;
#[cfg(feature = "trading")]
pub use trading::TradingSystemCircuitBreakers;
