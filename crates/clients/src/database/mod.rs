//! Databases behind a circuit breaker: [`DatabaseCircuitBreaker`] over SQLite (embedded),
//! PostgreSQL and MySQL/MariaDB, through sqlx driver-specific pools.
//!
//! - `options`: the URL that selects the driver, pool and breaker options.
//! - `pool`: the driver-specific pools and the dispatch of each operation to its driver;
//!   `lease`: connections kept between operations (without sqlx's ping on every return).
//! - `cancel`: a running statement cancelled on the server (timeouts, `close()`); `closing`:
//!   what `close()` does; `probe`: a refused port fails at once.
//! - `sqlite`, `postgres` (+ `pg_convert`, `pg_array`, `pg_decode`), `mysql`: binding parameters and decoding cells.
//! - `render`: rows rendered for JavaScript as node-postgres returns them ([`JsRows`]).
//! - `value`: the value model of parameters and cells ([`Value`], [`Rows`]).
//! - `error`: [`DbError`], its stable codes and which errors trip the breaker.
//! - `transaction`: [`Transaction`] (closure API) and [`BreakerTransaction`] (held across calls);
//!   `shared_tx`: [`SharedTransaction`], a cloneable handle to one.
//!
//! Parameters are always bound, never interpolated: `$1, $2..` for SQLite and PostgreSQL, `?` for
//! MySQL.
//!
//! Each driver is a Cargo feature (`database-sqlite`, `database-postgres`, `database-mysql`,
//! see the crate docs); this module exists when at least one is on, and a URL whose driver is
//! not compiled in is refused with `ERR_INVALID_URL_SCHEME`.

mod cancel;
mod client;
mod closing;
mod error;
mod lease;
#[cfg(feature = "database-mysql")]
mod mysql;
mod options;
#[cfg(feature = "database-postgres")]
mod parse;
#[cfg(feature = "database-postgres")]
mod pg_array;
#[cfg(feature = "database-postgres")]
mod pg_convert;
#[cfg(feature = "database-postgres")]
mod pg_decode;
mod pool;
#[cfg(feature = "database-postgres")]
mod postgres;
mod probe;
mod render;
mod shared_tx;
#[cfg(feature = "database-sqlite")]
mod sqlite;
mod transaction;
mod value;

pub use client::DatabaseCircuitBreaker;
pub use error::{DbError, DbErrorKind};
pub use options::{DatabaseOptions, MAX_CONNECTIONS};
pub use render::{JsRows, Patch, PatchValue};
pub use shared_tx::SharedTransaction;
pub use transaction::{BreakerTransaction, Transaction};
pub use value::{ExecuteResult, LastInsertId, Rows, Value};
