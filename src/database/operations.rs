//! `query(sql, params)` and `execute(sql, params)`, shared by `DatabaseCircuitBreaker` and
//! `DatabaseTransaction`: the arguments are read on the JS thread (a bad one rejects), the
//! operation runs on the runtime, and the result is converted back on the JS thread.

use std::future::Future;

use napi::Env;
use neural_trader_clients::database::{DbError, ExecuteResult, JsRows, Value};

use super::params::{read_params, read_sql};
use super::rows::{rows_to_js, DatabaseExecuteResult};
use crate::js::promise::promise;
use crate::js::{Arg, Async};
use crate::runtime::spawn_io;

/// `query(sql, params)` of a breaker or a transaction: reads the arguments (a bad one rejects),
/// runs `rows` with them on the runtime, and resolves with the rows as JS objects.
pub(crate) fn spawn_query<'e, F, Fut>(
    env: &'e Env,
    sql: Arg<'_>,
    params: Arg<'_>,
    rows: F,
) -> Async<'e>
where
    F: FnOnce(String, Vec<Value>) -> Fut + Send + 'static,
    Fut: Future<Output = std::result::Result<JsRows, DbError>> + Send + 'static,
{
    promise(env, || {
        let sql = read_sql(env, sql)?;
        let params = read_params(env, params)?;
        spawn_io(env, rows(sql, params), rows_to_js)
    })
}

/// `execute(sql, params)` of a breaker or a transaction: `{ rowsAffected, lastInsertId }`.
pub(crate) fn spawn_execute<'e, F, Fut>(
    env: &'e Env,
    sql: Arg<'_>,
    params: Arg<'_>,
    execute: F,
) -> Async<'e, DatabaseExecuteResult>
where
    F: FnOnce(String, Vec<Value>) -> Fut + Send + 'static,
    Fut: Future<Output = std::result::Result<ExecuteResult, DbError>> + Send + 'static,
{
    promise(env, || {
        let sql = read_sql(env, sql)?;
        let params = read_params(env, params)?;
        spawn_io(env, execute(sql, params), |_, r| {
            Ok(DatabaseExecuteResult::from(r))
        })
    })
}
