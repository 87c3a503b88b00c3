//! The `DatabaseTransaction` class: what a `transaction(fn)` callback receives.
//!
//! It holds the connection and the breaker permit of its transaction. Its operations run one at
//! a time; after the transaction ended they reject with `ERR_DB_TRANSACTION_CLOSED` (or
//! `ERR_CIRCUIT_TIMEOUT` once it timed out). The commit and rollback are driven by
//! `lib/transaction.js` through hidden methods; the deadline is the transaction's own
//! (`__expiry`). Garbage-collected unended, it rolls back.

use napi::Env;
use napi_derive::napi;
use neural_trader_clients::database::SharedTransaction;

use super::operations::spawn_sql;
use super::rows::{rows_to_js, DatabaseExecuteResult};
use crate::js::{Arg, Async};
use crate::runtime::spawn_io;

/// An open transaction, passed to the callback of `DatabaseCircuitBreaker.transaction`.
#[napi]
pub struct DatabaseTransaction {
    inner: SharedTransaction,
}

impl DatabaseTransaction {
    pub(crate) fn new(inner: SharedTransaction) -> Self {
        Self { inner }
    }
}

#[napi]
impl DatabaseTransaction {
    /// Runs `sql` with `params` in the transaction and resolves with its rows.
    #[napi(
        ts_generic_types = "T = Record<string, unknown>",
        ts_args_type = "sql: string, params?: readonly unknown[]",
        ts_return_type = "Promise<T[]>"
    )]
    pub fn query<'e>(&self, env: &'e Env, sql: Arg, params: Arg) -> Async<'e> {
        let inner = self.inner.clone();
        let query =
            move |sql: String, params: Vec<_>| async move { inner.query_js(&sql, &params).await };
        spawn_sql(env, (sql, params), query, rows_to_js)
    }

    /// Runs `sql` with `params` in the transaction for its effect.
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
        let inner = self.inner.clone();
        let execute =
            move |sql: String, params: Vec<_>| async move { inner.execute(&sql, &params).await };
        spawn_sql(env, (sql, params), execute, |_, r| {
            Ok(DatabaseExecuteResult::from(r))
        })
    }

    /// Commits; the breaker records a success (or the commit's error).
    #[napi(skip_typescript, js_name = "__commit")]
    pub fn commit<'e>(&self, env: &'e Env) -> Async<'e, ()> {
        let inner = self.inner.clone();
        spawn_io(env, async move { inner.commit().await }, |_, ()| Ok(()))
    }

    /// Rolls back (after the callback failed); never rejects for an already timed-out
    /// transaction.
    #[napi(skip_typescript, js_name = "__rollback")]
    pub fn rollback<'e>(&self, env: &'e Env) -> Async<'e, ()> {
        let inner = self.inner.clone();
        spawn_io(env, async move { inner.rollback().await }, |_, ()| Ok(()))
    }

    /// Resolves when the transaction ends; at the breaker's deadline (if it has not ended)
    /// ends it as timed out and rejects with the `CircuitTimeoutError`.
    #[napi(skip_typescript, js_name = "__expiry")]
    pub fn expiry<'e>(&self, env: &'e Env) -> Async<'e, ()> {
        spawn_io(env, self.inner.expiry(), |_, ()| Ok(()))
    }
}
