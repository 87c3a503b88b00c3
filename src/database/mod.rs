//! The `DatabaseCircuitBreaker` class: SQLite, PostgreSQL or MySQL/MariaDB behind a breaker.
//!
//! `transaction(fn)` is not a method of this class: `lib/transaction.js` runs it over the
//! hidden `__begin()`, which returns a `DatabaseTransaction` holding the connection and a
//! breaker permit until it is committed, rolled back or timed out (see `transaction.rs`).
//! Options are in `options.rs`, parameters in `params.rs`, rows in `rows.rs`, errors in
//! `error.rs`.

use std::sync::Arc;

mod error;
mod operations;
mod options;
mod params;
mod rows;
mod transaction;

use napi::bindgen_prelude::within_runtime_if_available;
use napi::{Env, Result};
use napi_derive::napi;
use neural_trader_clients::database as db;
use neural_trader_resilience as core;

use self::operations::spawn_sql;
use self::options::read_database_options;
pub(crate) use self::options::DatabaseClientOptions;
use self::rows::{rows_to_js, DatabaseExecuteResult};
use self::transaction::DatabaseTransaction;
use crate::breaker::breaker_accessors;
use crate::js::errors::OrThrow;
use crate::js::options::read_name;
use crate::js::{Arg, Async};
use crate::runtime::spawn_io;

/// A database behind a circuit breaker. Without a `url` it is a private in-memory SQLite
/// database; `sqlite://file.db`, `postgres://...` and `mysql://...` select the driver. Every
/// `query`, `execute` and whole `transaction` is one breaker call.
#[napi]
pub struct DatabaseCircuitBreaker {
    inner: Arc<db::DatabaseCircuitBreaker>,
}

impl DatabaseCircuitBreaker {
    /// Wraps a client built elsewhere (by the trading system, say).
    pub(crate) fn wrap(inner: Arc<db::DatabaseCircuitBreaker>) -> Self {
        Self { inner }
    }

    fn core_breaker(&self) -> Arc<core::CircuitBreaker> {
        Arc::clone(self.inner.breaker())
    }
}

#[napi]
impl DatabaseCircuitBreaker {
    /// Creates the breaker and its pool (connections are opened by the first operation).
    /// Throws `TypeError` (`ERR_INVALID_ARG_TYPE`, `ERR_INVALID_ARG_VALUE`, `ERR_INVALID_URL`,
    /// `ERR_INVALID_URL_SCHEME`) or `RangeError` (`ERR_OUT_OF_RANGE`) for bad arguments; a
    /// message never shows the URL's password.
    #[napi(
        constructor,
        ts_args_type = "name: string, options?: DatabaseCircuitBreakerOptions"
    )]
    pub fn new(env: Env, name: Arg, options: Arg) -> Result<Self> {
        let name = read_name(&env, name)?;
        let options = read_database_options(&env, options)?;
        let inner =
            within_runtime_if_available(|| db::DatabaseCircuitBreaker::with_options(name, options));
        Ok(Self::wrap(Arc::new(inner.or_throw(&env)?)))
    }

    /// The driver the URL selected.
    #[napi(getter, ts_return_type = "'sqlite' | 'postgres' | 'mysql'")]
    pub fn driver(&self) -> &'static str {
        self.inner.driver()
    }

    /// Runs `sql` with `params` bound (`$1`.. for SQLite and PostgreSQL, `?` for MySQL) and
    /// resolves with the rows as plain objects keyed by column name.
    #[napi(
        ts_generic_types = "T = Record<string, unknown>",
        ts_args_type = "sql: string, params?: readonly unknown[]",
        ts_return_type = "Promise<T[]>"
    )]
    pub fn query<'e>(&self, env: &'e Env, sql: Arg, params: Arg) -> Async<'e> {
        let inner = Arc::clone(&self.inner);
        let query =
            move |sql: String, params: Vec<_>| async move { inner.query_js(&sql, &params).await };
        spawn_sql(env, (sql, params), query, rows_to_js)
    }

    /// Runs `sql` with `params` for its effect: `{ rowsAffected, lastInsertId }`.
    #[napi(
        ts_args_type = "sql: string, params?: readonly unknown[]",
        ts_return_type = "Promise<DatabaseExecuteResult>"
    )]
    pub fn execute<'e>(
        &self,
        env: &'e Env,
        sql: Arg,
        params: Arg,
    ) -> Async<'e, DatabaseExecuteResult> {
        let inner = Arc::clone(&self.inner);
        let execute =
            move |sql: String, params: Vec<_>| async move { inner.execute(&sql, &params).await };
        spawn_sql(env, (sql, params), execute, |_, r| {
            Ok(DatabaseExecuteResult::from(r))
        })
    }

    /// Begins a transaction (used by `transaction(fn)` in `lib/transaction.js`).
    #[napi(skip_typescript, js_name = "__begin")]
    pub fn begin<'e>(&self, env: &'e Env) -> Async<'e, DatabaseTransaction> {
        let inner = Arc::clone(&self.inner);
        spawn_io(
            env,
            async move { inner.begin().await.map(db::SharedTransaction::new) },
            |_, tx| Ok(DatabaseTransaction::new(tx)),
        )
    }

    /// Closes the pool; later operations reject with `ERR_DB_CLOSED`. Resolves once the
    /// connections in use have come back and every connection is closed.
    #[napi(ts_return_type = "Promise<void>")]
    pub fn close<'e>(&self, env: &'e Env) -> Async<'e, ()> {
        let inner = Arc::clone(&self.inner);
        spawn_io(
            env,
            async move {
                inner.close().await;
                Ok::<_, db::DbError>(())
            },
            |_, ()| Ok(()),
        )
    }
}

breaker_accessors!(DatabaseCircuitBreaker);
