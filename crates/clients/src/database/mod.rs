//! Databases behind a circuit breaker: [`DatabaseCircuitBreaker`] over SQLite (embedded),
//! PostgreSQL and MySQL/MariaDB, through sqlx driver-specific pools.
//!
//! - `options`: the URL that selects the driver, pool and breaker options.
//! - `pool`: the driver-specific pools and the dispatch of each operation to its driver;
//!   `lease`: connections kept between operations (without sqlx's ping on every return).
//! - `sqlite`, `postgres` (+ `pg_convert`, `pg_array`, `pg_decode`), `mysql`: binding parameters and decoding cells.
//! - `render`: rows rendered for JavaScript as node-postgres returns them ([`JsRows`]).
//! - `value`: the value model of parameters and cells ([`Value`], [`Rows`]).
//! - `error`: [`DbError`], its stable codes and which errors trip the breaker.
//! - `transaction`: [`Transaction`] (closure API) and [`BreakerTransaction`] (held across calls);
//!   `shared_tx`: [`SharedTransaction`], a cloneable handle to one.
//!
//! Parameters are always bound, never interpolated: `$1, $2..` for SQLite and PostgreSQL, `?` for
//! MySQL.

mod client;
mod error;
mod lease;
mod mysql;
mod options;
mod parse;
mod pg_array;
mod pg_convert;
mod pg_decode;
mod pool;
mod postgres;
mod render;
mod shared_tx;
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
