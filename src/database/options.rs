//! The options of `DatabaseCircuitBreaker`, declared once (see `js/options.rs`); ranges are
//! checked by the client's `DatabaseOptions::validate`.

use napi::{Env, Result};
use napi_derive::napi;
use neural_trader_binding_derive::OptionSet;
use neural_trader_clients::database::DatabaseOptions;
use neural_trader_resilience::ConfigError;

use crate::breaker::CircuitBreakerOptions;
use crate::js::errors::OrThrow;
use crate::js::options::{given, read, Both, Merge};
use crate::js::Arg;

/// The options of a `DatabaseCircuitBreaker` beside the circuit breaker's (whose `timeout`
/// bounds each query and each whole transaction). Durations are in milliseconds.
#[napi(object, object_to_js = false, object_from_js = false)]
#[derive(Default, OptionSet)]
#[option_set(what = "a database breaker option", into = DatabaseOptions)]
pub struct DatabaseClientOptions {
    /// `sqlite://path.db` (created if missing), `sqlite::memory:`,
    /// `postgres://user:pass@host/db`, `mysql://user:pass@host/db` (or `mariadb://`).
    /// Default: a private in-memory SQLite database.
    pub url: Option<String>,
    /// The most connections the pool opens (default 10; an in-memory SQLite database has 1).
    pub max_connections: Option<f64>,
    /// How long an operation waits for a free connection, in ms (default 30000).
    pub acquire_timeout: Option<f64>,
}

impl DatabaseClientOptions {
    /// The client's options: these and the breaker's over the defaults, checked.
    pub(crate) fn options(
        self,
        breaker: &CircuitBreakerOptions,
    ) -> std::result::Result<DatabaseOptions, ConfigError> {
        let mut o = DatabaseOptions::default();
        o.breaker = breaker.config(o.breaker)?;
        self.merge(&mut o);
        o.validate().map_err(|e| given(e, &self))?;
        Ok(o)
    }
}

/// Reads the options of `new DatabaseCircuitBreaker(name, options)` (`undefined` or `null`: a
/// private in-memory SQLite database, every default).
pub(crate) fn read_database_options(env: &Env, options: Arg<'_>) -> Result<DatabaseOptions> {
    let Both(own, breaker): Both<DatabaseClientOptions, CircuitBreakerOptions> =
        read(env, "options", options)?;
    own.options(&breaker).or_throw(env)
}
