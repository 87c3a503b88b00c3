//! The `DatabaseCircuitBreaker` class: SQLite, PostgreSQL or MySQL/MariaDB behind a breaker.
//!
//! `transaction(fn)` is not a method of this class: `resilience.js` runs it over the hidden
//! `__begin()`, which returns a `DatabaseTransaction` holding the connection and a breaker
//! permit until it is committed, rolled back or timed out (see `database_transaction.rs`).

use std::sync::Arc;

use napi::bindgen_prelude::{within_runtime_if_available, PromiseRaw};
use napi::{Env, Result, Unknown};
use napi_derive::napi;
use neural_trader_clients::database as db;

use crate::breaker::CircuitBreaker;
use crate::database_options::read_database_options;
use crate::database_rows::{spawn_execute, spawn_query, DatabaseExecuteResult};
use crate::database_transaction::DatabaseTransaction;
use crate::js_error::{spawn, IntoJsError};
use crate::metrics::CircuitBreakerMetrics;
use crate::options::read_name;

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
    pub fn new(env: Env, name: Option<Unknown>, options: Option<Unknown>) -> Result<Self> {
        let name = read_name(&env, name)?;
        let options = read_database_options(&env, options)?;
        let inner =
            within_runtime_if_available(|| db::DatabaseCircuitBreaker::with_options(name, options))
                .map_err(|e| e.into_js_error().into_napi_error(&env))?;
        Ok(Self {
            inner: Arc::new(inner),
        })
    }

    /// The breaker's name.
    #[napi(getter)]
    pub fn name(&self) -> String {
        self.inner.breaker().name().to_string()
    }

    /// The driver the URL selected.
    #[napi(getter, ts_return_type = "'sqlite' | 'postgres' | 'mysql'")]
    pub fn driver(&self) -> &'static str {
        self.inner.driver()
    }

    /// The current state of the breaker.
    #[napi(getter, ts_return_type = "'CLOSED' | 'OPEN' | 'HALF_OPEN'")]
    pub fn state(&self) -> &'static str {
        self.inner.breaker().state().as_str()
    }

    /// The current state (same as the `state` getter).
    #[napi(ts_return_type = "'CLOSED' | 'OPEN' | 'HALF_OPEN'")]
    pub fn get_state(&self) -> &'static str {
        self.inner.breaker().state().as_str()
    }

    /// A snapshot of the breaker's counters (a transaction counts as one call).
    #[napi]
    pub fn get_metrics(&self) -> CircuitBreakerMetrics {
        self.inner.breaker().metrics().into()
    }

    /// The underlying `CircuitBreaker` (a new wrapper object on each read, over the same
    /// breaker).
    #[napi(getter)]
    pub fn breaker(&self) -> CircuitBreaker {
        CircuitBreaker::wrap(Arc::clone(self.inner.breaker()))
    }

    /// Runs `sql` with `params` bound (`$1`.. for SQLite and PostgreSQL, `?` for MySQL) and
    /// resolves with the rows as plain objects keyed by column name.
    #[napi(
        ts_generic_types = "T = Record<string, unknown>",
        ts_args_type = "sql: string, params?: readonly unknown[]",
        ts_return_type = "Promise<T[]>"
    )]
    pub fn query<'env>(
        &self,
        env: &'env Env,
        sql: Option<Unknown>,
        params: Option<Unknown>,
    ) -> Result<PromiseRaw<'env, Unknown<'env>>> {
        let inner = Arc::clone(&self.inner);
        spawn_query(env, sql, params, move |sql, params| async move {
            inner.query_js(&sql, &params).await
        })
    }

    /// Runs `sql` with `params` for its effect: `{ rowsAffected, lastInsertId }`.
    #[napi(
        ts_args_type = "sql: string, params?: readonly unknown[]",
        ts_return_type = "Promise<DatabaseExecuteResult>"
    )]
    pub fn execute<'env>(
        &self,
        env: &'env Env,
        sql: Option<Unknown>,
        params: Option<Unknown>,
    ) -> Result<PromiseRaw<'env, DatabaseExecuteResult>> {
        let inner = Arc::clone(&self.inner);
        spawn_execute(env, sql, params, move |sql, params| async move {
            inner.execute(&sql, &params).await
        })
    }

    /// Begins a transaction (used by `transaction(fn)` in `resilience.js`).
    #[napi(skip_typescript, js_name = "__begin")]
    pub fn begin<'env>(&self, env: &'env Env) -> Result<PromiseRaw<'env, DatabaseTransaction>> {
        let inner = Arc::clone(&self.inner);
        spawn(
            env,
            async move { inner.begin().await.map(db::SharedTransaction::new) },
            |_, tx| Ok(DatabaseTransaction::new(tx)),
        )
    }

    /// Closes the pool; later operations reject with `ERR_DB_CLOSED`. Resolves once the
    /// connections in use have come back and every connection is closed.
    #[napi(ts_return_type = "Promise<void>")]
    pub fn close<'env>(&self, env: &'env Env) -> Result<PromiseRaw<'env, ()>> {
        let inner = Arc::clone(&self.inner);
        spawn(
            env,
            async move {
                inner.close().await;
                Ok::<_, db::DbError>(())
            },
            |_, ()| Ok(()),
        )
    }
}
