//! `query(sql, params)` and `execute(sql, params)`, shared by `DatabaseCircuitBreaker` and
//! `DatabaseTransaction`: the arguments are read on the JS thread (a bad one rejects), the
//! operation runs on the runtime, and the result is converted back on the JS thread.

use std::future::Future;

use napi::bindgen_prelude::ToNapiValue;
use napi::{Env, Result};
use neural_trader_clients::database::{DbError, Value};

use super::params::{read_params, read_sql};
use crate::js::promise::promise;
use crate::js::{Arg, Async};
use crate::runtime::spawn_io;

/// Reads `sql` and `params` (a bad one rejects), runs `run` with them on the runtime, and
/// resolves with `convert` of its value (`rows::rows_to_js` for a query).
pub(crate) fn spawn_sql<'e, T, V, Fut>(
    env: &'e Env,
    (sql, params): (Arg<'_>, Arg<'_>),
    run: impl FnOnce(String, Vec<Value>) -> Fut + Send + 'static,
    convert: impl FnOnce(&'e Env, T) -> Result<V> + Send + 'static,
) -> Async<'e, V>
where
    T: Send + 'static,
    V: ToNapiValue,
    Fut: Future<Output = std::result::Result<T, DbError>> + Send + 'static,
{
    promise(env, || {
        let sql = read_sql(env, sql)?;
        spawn_io(env, run(sql, read_params(env, params)?), convert)
    })
}
